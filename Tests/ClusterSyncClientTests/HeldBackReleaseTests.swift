import ClusterSyncClient
import ClusterSyncCore
import Testing

/// A change held back as too long for the server's lines goes again at a welcome whose lines
/// hold it, and only then: released at the start of every sync run, it sat in the outbox
/// through a run that never connected, and an edit over it then did not reach past it (the
/// fifty-sixth session's review).
@Suite struct HeldBackReleaseTests {
    @Test func aChangeTooLongForALineGoesAgainOnlyAtAWelcomeWhoseLinesHoldIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        let risk = try rhyl.create(.risk, edits: [.set("title", .string("Premises survey"))])
        let long = try #require(try rhyl.edit(risk, .set("description", .string(String(repeating: "ŷ", count: 10_000)))).first)
        try rhyl.holdBack(long.id, code: .lineTooLong, reason: "too long")
        let pending = try rhyl.pendingCount()
        func welcome(maxLineBytes: Int) throws {
            try rhyl.rememberWelcome(limits: WireLimits(maxLineBytes: maxLineBytes), credentialExpiresAt: nil, identity: nil, store: nil)
        }
        try welcome(maxLineBytes: 16_384)
        #expect(try rhyl.heldBack().map(\.change) == [long.id], "still too long for these lines")
        #expect(try rhyl.pendingCount() == pending)
        try welcome(maxLineBytes: 4 * 1024 * 1024)
        #expect(try rhyl.heldBack().isEmpty)
        #expect(try rhyl.pendingCount() == pending + 1)
    }
}
