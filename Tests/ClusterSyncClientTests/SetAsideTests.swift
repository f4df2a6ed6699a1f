import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Synchronization
import Testing

/// A replica applies what the server sends through the one admission rule: what it cannot
/// admit is set aside, never a reason to stop, and tried again at the end of every sync.
@Suite struct SetAsideTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-setaside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func replica(_ name: String, practice: String = "rhyl", clock: @escaping @Sendable () -> Int64 = Replica.systemMillis) throws -> Replica {
        let replica = try Replica(path: directory.appendingPathComponent("\(name).sqlite").path, wallClock: clock)
        if (try? replica.identity()) == nil {
            try replica.initialise(tenant: "bcuhb", cluster: "north", practice: practice, displayName: name)
        }
        return replica
    }

    @Test func aPageWithChangesTheReplicaCannotAdmitIsAppliedAroundThemAndTheCursorMoves() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try replica("source", practice: "prestatyn")
        let risk = try source.create(.risk, edits: [.set("title", .string("Estates lease"))])
        var good = try source.history(of: risk)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var future = good[0]
        future.id = ChangeID(replica: future.id.replica, counter: 99)
        future.hlc = HLCTimestamp(millis: now + 3_600_000)
        var otherCluster = good[0]
        otherCluster.id = ChangeID(replica: future.id.replica, counter: 98)
        otherCluster.scope.cluster = "south"
        good.sort { $0.id.counter < $1.id.counter }

        let target = try replica("target")
        try target.setRemote(RemoteSettings(host: "h", port: 1, caFile: "/ca.pem", tokenFile: "/t"))
        let page = ChangesPage(changes: [future] + good + [otherCluster], cursor: Cursor("s1:7"), more: true,
                               unreadable: [UnreadableChange(text: #"{"id":"1@00000000000000aa"}"#, error: ClusterSyncError(.malformed, "\"hlc\" is missing", field: "hlc"))])
        let outcome = try target.applyPulled(page)
        #expect(outcome == Replica.ApplyOutcome(applied: good.count, duplicates: 0, setAside: 3))
        #expect(try target.syncState().cursor == Cursor("s1:7"))
        #expect(try target.record(risk)?.string("title") == "Estates lease")
        let setAside = try target.setAside()
        #expect(Set(setAside.map(\.code)) == [.clockSkew, .forbiddenScope, .malformed])
        #expect(setAside.first { $0.code == .malformed }?.change == ChangeID("1@00000000000000aa"))
        // The same page again sets nothing aside twice.
        #expect(try target.applyPulled(page).setAside == 0)
        #expect(try target.setAsideCount() == 3)

        // From a peer file, the same change refuses the merge whole.
        #expect((#expect(throws: ClusterSyncError.self) { try target.apply([future], origin: .peer) })?.code == .clockSkew)
    }

    /// A redaction erases a value wherever the replica keeps it, set-aside copies included
    /// (`status --json` shows them): whether the change was set aside before the redaction came
    /// or after. Before, a set-aside copy kept the text until it was admitted.
    @Test func aRedactionErasesSetAsideCopiesWhicheverCameFirst() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let source = try replica("source", practice: "prestatyn")
        let risk = try source.create(.risk, edits: [.set("title", .string("Locum cover"))])
        let lead = ReplicaID.random()
        func typedByMistake(_ counter: Int64) -> Change {
            Change(id: ChangeID(replica: try! source.identity().replicaID, counter: counter), hlc: HLCTimestamp(millis: now + 3_600_000),
                   record: risk, scope: RecordScope(tenant: "bcuhb", cluster: "north"), field: "description", value: .string("Mrs Jones, 12 High St"))
        }
        func redaction(_ counter: Int64, of target: Change) -> Change {
            Change(id: ChangeID(replica: lead, counter: counter), hlc: HLCTimestamp(millis: now), record: risk,
                   scope: RecordScope(tenant: "bcuhb", cluster: "north"), field: Redaction.field,
                   value: Redaction.Request(change: target.id, field: "description", reason: "a patient's name").value)
        }
        let target = try replica("target")
        try target.setRemote(RemoteSettings(host: "h", port: 1, caFile: "/ca.pem", tokenFile: "/t"))
        try target.rememberServerLimits(WireLimits(maxClockSkewMillis: 60_000))
        _ = try target.applyPulled(ChangesPage(changes: try source.history(of: risk), cursor: Cursor("s1:1"), more: false))
        // Set aside (an hour ahead), then redacted.
        let first = typedByMistake(50), second = typedByMistake(51)
        #expect(try target.applyPulled(ChangesPage(changes: [first], cursor: Cursor("s1:2"), more: false)).setAside == 1)
        _ = try target.applyPulled(ChangesPage(changes: [redaction(1, of: first)], cursor: Cursor("s1:3"), more: false))
        // Redacted, then set aside.
        _ = try target.applyPulled(ChangesPage(changes: [redaction(2, of: second)], cursor: Cursor("s1:4"), more: false))
        #expect(try target.applyPulled(ChangesPage(changes: [second], cursor: Cursor("s1:5"), more: false)).setAside == 1)
        let kept = try target.setAside()
        #expect(kept.count == 2 && kept.allSatisfy { !$0.json.contains("Mrs Jones") && $0.json.contains(Redaction.markerKey) }, "\(kept.map(\.json))")
        // A redaction of another record naming the change erases nothing (the server checks a
        // redaction against its own cluster's log only).
        let third = typedByMistake(52)
        _ = try target.applyPulled(ChangesPage(changes: [third], cursor: Cursor("s1:6"), more: false))
        var elsewhere = redaction(3, of: third)
        elsewhere.record = try source.create(.risk, edits: [.set("title", .string("Estates"))])
        _ = try target.applyPulled(ChangesPage(changes: [elsewhere], cursor: Cursor("s1:7"), more: false))
        #expect(try target.setAside().filter { $0.json.contains("Mrs Jones") }.count == 1)
    }

    @Test func aChangeSetAsideForTheClockIsAppliedOnceTheClockHasCaughtUp() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let clock = TestClock(now)
        let target = try replica("target") { clock.now }
        let source = try replica("source", practice: "prestatyn")
        let risk = try source.create(.risk, edits: [.set("title", .string("Locum cover"))])
        var ahead = try source.history(of: risk)
        for i in ahead.indices { ahead[i].hlc = HLCTimestamp(millis: now + 600_000 + Int64(i)) }
        // The server announced a one-minute limit; this replica's clock is ten minutes behind.
        try target.setRemote(RemoteSettings(host: "h", port: 1, caFile: "/ca.pem", tokenFile: "/t"))
        try target.rememberServerLimits(WireLimits(maxClockSkewMillis: 60_000))
        #expect(try target.applyPulled(ChangesPage(changes: ahead, cursor: Cursor("s1:1"), more: false)).setAside == ahead.count)
        #expect(try target.record(risk) == nil)
        clock.now = now + 600_000
        let later = try target.applyPulled(ChangesPage(changes: [], cursor: Cursor("s1:1"), more: false))
        #expect(later.applied == ahead.count)
        #expect(try target.setAsideCount() == 0)
        #expect(try target.record(risk)?.string("title") == "Locum cover")
    }

    /// A clock limit stored by an earlier version from any welcome is held to the hour a server
    /// may announce: `Int64.max` trapped on the first change applied (its sum with the clock),
    /// and a limit of years let a change stamped years ahead pin this replica's clock there.
    @Test func aClockLimitStoredBeyondAnHourIsHeldToAnHour() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let target = try replica("target")
        let source = try replica("source", practice: "prestatyn")
        let risk = try source.create(.risk, edits: [.set("title", .string("Locum cover"))])
        try target.setRemote(RemoteSettings(host: "h", port: 1, caFile: "/ca.pem", tokenFile: "/t"))
        try target.rememberServerLimits(WireLimits(maxClockSkewMillis: .max))
        var yearsAhead = try source.history(of: risk)
        for i in yearsAhead.indices { yearsAhead[i].hlc = HLCTimestamp(millis: now + 10 * 365 * 86_400_000 + Int64(i)) }
        #expect(try target.applyPulled(ChangesPage(changes: yearsAhead, cursor: Cursor("s1:1"), more: false)).setAside == yearsAhead.count)
        var halfAnHourAhead = try source.history(of: risk)
        for i in halfAnHourAhead.indices { halfAnHourAhead[i].hlc = HLCTimestamp(millis: now + 1_800_000 + Int64(i)) }
        #expect(try target.applyPulled(ChangesPage(changes: halfAnHourAhead, cursor: Cursor("s1:2"), more: false)).applied == halfAnHourAhead.count)
    }

    /// A replica restored from a backup (or one that lost its last commits in a power cut) gets
    /// its own changes back from the server, and never reuses their ids.
    @Test func aReplicaThatMeetsItsOwnChangesMovesItsCounterPastThem() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = try replica("original")
        // The backup: the file with everything committed so far folded in.
        try original.database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try FileManager.default.copyItem(at: directory.appendingPathComponent("original.sqlite"), to: directory.appendingPathComponent("backup.sqlite"))
        let risk = try original.create(.risk, edits: [.set("title", .string("Phones")), .set("owner", .string("Practice manager"))])
        let made = try original.history(of: risk)
        let restored = try replica("backup")
        #expect(try restored.identity() == original.identity())
        try restored.applyPulled(ChangesPage(changes: made, cursor: Cursor("s1:2"), more: false))
        let next = try restored.edit(risk, .set("owner", .string("Cluster lead")))
        let highest = made.map(\.id.counter).max()!
        #expect(next.allSatisfy { $0.id.counter > highest }, "\(next.map(\.id)) reuses an id up to \(highest)")
    }

    /// A change in the replica's own name that it did not make, numbered past its counter and
    /// not signed with its key, is set aside: a server (broken, or not ours) that sent one
    /// numbered 2^53 − 1 moved the counter there, and every later edit was refused for good.
    /// Signed with another key, or erased, the same; one within the counter moves nothing.
    @Test func aChangeInTheReplicasOwnNameItCannotHaveMadeIsSetAside() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = try replica("target")
        let risk = try target.create(.risk, edits: [.set("title", .string("Phones"))])
        let me = try target.identity().replicaID
        let counter = try target.ownCounter()
        func made(_ n: Int64, _ value: JSONValue = .string("Planted")) -> Change {
            Change(id: ChangeID(replica: me, counter: n), hlc: HLCTimestamp(millis: Int64(Date().timeIntervalSince1970 * 1000)), record: risk,
                   scope: RecordScope(tenant: "bcuhb", cluster: "north"), field: "owner", value: value)
        }
        let unsigned = made(ChangeID.maxCounter)
        let otherKey = ReplicaSigningKey()
        let signedElsewhere = ChangeSignature.signed(made(ChangeID.maxCounter - 1), with: otherKey)
        let erased = Redaction.erased(made(ChangeID.maxCounter - 2), by: ChangeID(replica: ReplicaID.random(), counter: 1))
        let outcome = try target.applyPulled(ChangesPage(changes: [unsigned, signedElsewhere, erased], cursor: Cursor("s1:1"), more: false))
        #expect(outcome.setAside == 3 && outcome.applied == 0, "\(outcome)")
        #expect(try target.setAside().allSatisfy { $0.code == .badSignature && $0.reason.contains("claims to be made by this replica") })
        #expect(try target.ownCounter() == counter)
        let next = try target.edit(risk, .set("owner", .string("Practice manager")))
        #expect(next.map(\.id.counter) == [counter + 1])
        // Retried at the next pull, they stay aside.
        _ = try target.applyPulled(ChangesPage(changes: [], cursor: Cursor("s1:1"), more: false))
        #expect(try target.setAsideCount() == 3 && target.ownCounter() == counter + 1)
    }
}

final class TestClock: Sendable {
    private let value: Mutex<Int64>
    init(_ now: Int64) { value = Mutex(now) }
    var now: Int64 {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
