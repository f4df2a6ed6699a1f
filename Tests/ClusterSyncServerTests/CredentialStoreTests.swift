import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncServerTesting
import Foundation
import Testing

/// The credential and session-log methods of `ServerStore`, run against both implementations so
/// the in-memory store that session tests use answers as the SQLite one does.
@Suite struct CredentialStoreTests {
    typealias Kind = StoreBackend

    func makeStore(_ kind: Kind) async throws -> any ServerStore {
        let store = try await kind.make()
        try await store.addTenant("bcuhb")
        try await store.addTenant("cvuhb")
        try await store.addCluster("north", tenant: "bcuhb")
        try await store.addCluster("city", tenant: "cvuhb")
        try await store.addPractice("rhyl", cluster: "north", tenant: "bcuhb")
        try await store.addPractice("llanishen", cluster: "city", tenant: "cvuhb")
        return store
    }

    static let rhyl = PracticePath(tenant: "bcuhb", cluster: "north", practice: "rhyl")
    static let llanishen = PracticePath(tenant: "cvuhb", cluster: "city", practice: "llanishen")

    @Test(arguments: StoreBackend.available) func tokensExpireAndAreRevoked(_ kind: Kind) async throws {
        let store = try await makeStore(kind)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let lasting = try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: "Dr Jones", expiresAt: now + 86_400_000)
        let expired = try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: nil, expiresAt: now - 1)
        let other = try await store.issueToken(practice: "llanishen", cluster: "city", tenant: "cvuhb", label: nil)

        let record = try #require(try await store.credential(token: lasting))
        #expect(record.practice == Self.rhyl && record.kind == .token && record.label == "Dr Jones")
        #expect(record.refusal(at: now) == nil)
        #expect(try await store.authenticate(token: lasting)?.author == "rhyl (Dr Jones)")
        // An expired token is known (so the session can say "expired") but opens nothing.
        let stale = try #require(try await store.credential(token: expired))
        #expect(stale.refusal(at: now)?.code == .unauthenticated)
        #expect(stale.refusal(at: now)?.message.contains("expired") == true)
        #expect(try await store.authenticate(token: expired) == nil)

        #expect(try await store.credentials(tenant: "bcuhb").count == 2)
        #expect(try await store.credentials(tenant: nil).count == 3)
        #expect(try await store.credentials(tenant: "cvuhb").map(\.practice) == [Self.llanishen])
        _ = other

        try await store.markUsed(credential: record.id, at: now)
        #expect(try await store.credential(id: record.id)?.lastUsedAt == now)
        let revoked = try await store.revokeCredential(id: record.id)
        #expect(revoked.revokedAt != nil)
        #expect(revoked.refusal(at: now)?.message.contains("revoked") == true)
        #expect(try await store.authenticate(token: lasting) == nil)
        let error = await #expect(throws: ClusterSyncError.self) { try await store.revokeCredential(id: "nosuch") }
        #expect(error?.code == .unknownRecord)
    }

    @Test(arguments: StoreBackend.available) func certificatesAreRecordedAndRevokedBySerialWithinTheirTenant(_ kind: Kind) async throws {
        let store = try await makeStore(kind)
        let id = try await store.recordCertificate(serial: "7a3f", for: Self.rhyl, label: nil, expiresAt: nil)
        #expect(id == "crt_7a3f")
        #expect(try await store.credential(serial: "7a3f", tenant: "bcuhb")?.kind == .certificate)
        #expect(try await store.credential(serial: "7a3f", tenant: "cvuhb") == nil)
        try await store.revokeCertificate(serial: "7a3f", tenant: "bcuhb")
        #expect(try await store.credential(id: id)?.revokedAt != nil)
        // A serial not issued here goes on the tenant's list, and only that tenant's.
        try await store.revokeCertificate(serial: "bad5eed", tenant: "cvuhb")
        #expect(try await store.isRevoked(serial: "bad5eed", tenant: "cvuhb"))
        #expect(try await !store.isRevoked(serial: "bad5eed", tenant: "bcuhb"))
        #expect(try await !store.isRevoked(serial: "7a3f", tenant: "bcuhb"), "recorded certificates are revoked in their row")
    }

    @Test(arguments: StoreBackend.available) func theSessionLogIsPerTenantAndPruned(_ kind: Kind) async throws {
        let store = try await makeStore(kind)
        try await store.recordAudit(AuditEntry(at: 1_000, event: .connected, tenant: "bcuhb", credential: "a", peer: "127.0.0.1:1"), keepAfter: 0)
        try await store.recordAudit(AuditEntry(at: 2_000, event: .refused, tenant: "cvuhb", code: "unauthenticated", message: "m"), keepAfter: 0)
        try await store.recordAudit(AuditEntry(at: 3_000, event: .refused, code: "unauthenticated", message: "unknown token"), keepAfter: 0)
        #expect(try await store.audit(tenant: "bcuhb", since: nil, limit: 10).map(\.credential) == ["a"])
        #expect(try await store.audit(tenant: nil, since: 2_000, limit: 10).map(\.at) == [2_000, 3_000])
        #expect(try await store.audit(tenant: nil, since: nil, limit: 2).count == 2)
        try await store.recordAudit(AuditEntry(at: 4_000, event: .connected, tenant: "bcuhb"), keepAfter: 2_500)
        #expect(try await store.audit(tenant: nil, since: nil, limit: 10).map(\.at) == [3_000, 4_000])

        // A session's start: the credential's last use and the log's entry, in one write.
        let token = try await store.issueToken(practice: "rhyl", cluster: "north", tenant: "bcuhb", label: nil)
        let credential = try #require(try await store.credential(token: token))
        try await store.recordSessionStart(AuditEntry(at: 5_000, event: .connected, tenant: "bcuhb", credential: credential.id),
                                           credential: credential.id, keepAfter: 3_500)
        #expect(try await store.credential(id: credential.id)?.lastUsedAt == 5_000)
        #expect(try await store.audit(tenant: nil, since: nil, limit: 10).map(\.at) == [4_000, 5_000])
        try await store.recordSessionStart(AuditEntry(at: 6_000, event: .connected, tenant: "bcuhb", credential: "serial:7a3f"),
                                           credential: nil, keepAfter: 0)
        #expect(try await store.audit(tenant: "bcuhb", since: 5_500, limit: 10).map(\.credential) == ["serial:7a3f"])
        #expect(try await store.credential(id: credential.id)?.lastUsedAt == 5_000)

        // A refusal quoting a pushed field's name with a NUL in it is kept, its control
        // characters written out (PostgreSQL's text holds no NUL: the entry was lost there).
        // (As the gate writes it: `AuditEntry.printable`.)
        try await store.recordAudit(AuditEntry(at: 7_000, event: .refused, tenant: "bcuhb", code: "unknown-field",
                                               message: AuditEntry.printable("x\u{0}\u{1B}[2J\\u{0} is not a field of a risk")), keepAfter: 0)
        #expect(try await store.audit(tenant: "bcuhb", since: 7_000, limit: 10).map(\.message)
                == ["x\\u{0}\\u{1b}[2J\\\\u{0} is not a field of a risk"], "a NUL and the six characters \\u{0} read apart")
    }

    @Test(arguments: StoreBackend.available) func tenantsAndClustersAreListed(_ kind: Kind) async throws {
        let store = try await makeStore(kind)
        #expect(try await store.tenants() == ["bcuhb", "cvuhb"])
        #expect(try await store.clusters(tenant: nil).map(\.description) == ["bcuhb/north", "cvuhb/city"])
        #expect(try await store.clusters(tenant: "cvuhb").map(\.description) == ["cvuhb/city"])
        await #expect(throws: ClusterSyncError.self) { try await store.clusters(tenant: "nobody") }
    }
}
