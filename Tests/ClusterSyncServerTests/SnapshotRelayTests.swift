import ClusterSyncClient
import ClusterSyncClientTesting
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// A replica that took a snapshot lacks the superseded history (PROTOCOL.md §5.7), so a stale
/// copy of a superseded write, handed over by `merge` from a laptop that has not synced for a
/// while, arrives as new and live. Its push is a duplicate, and the `ack` names it superseded
/// (§5.4): after that sync the replica exports what every other replica does. Before the ack
/// said so, the stale write stayed live beside the current one for good, a conflict no other
/// replica showed (the end-to-end convergence test found it with seed 900363 on PostgreSQL).
@Suite struct SnapshotRelayTests {
    typealias Fixtures = CompactionConvergenceTests
    static let today = Fixtures.today

    @Test(arguments: StoreBackend.available)
    func aStaleWriteMergedIntoASnapshotReplicaDiesWhenItsPushIsAcknowledged(kind: StoreBackend) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-relay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try await Fixtures.makeStore(kind.make())
        func replica(_ name: String, _ practice: String) throws -> InProcessSync {
            let replica = try Replica(path: dir.appendingPathComponent("\(name).sqlite").path)
            try replica.initialise(tenant: Fixtures.tenant, cluster: Fixtures.cluster, practice: practice, displayName: "Manager, \(name)")
            return InProcessSync(replica: replica, identity: Fixtures.identity(practice), store: store, mirror: nil)
        }
        let prestatyn = try replica("prestatyn", "prestatyn"), rhyl = try replica("rhyl", "rhyl")
        let laptop = try replica("laptop", "rhyl"), fresh = try replica("fresh", "prestatyn")

        let risk = try prestatyn.replica.create(.risk, edits: [.set("title", .string("Winter pressures"))])
        try await prestatyn.sync()
        try await rhyl.sync()
        let stale = try #require(try rhyl.replica.edit(risk, .set("title", .string("Winter pressures: GP access"))).first)
        try await rhyl.sync()
        // The laptop takes Rhyl's first retitling, then stays offline while Rhyl retitles twice:
        // the current title supersedes the second, which superseded the first.
        try await laptop.sync()
        _ = try rhyl.replica.edit(risk, .set("title", .string("Winter pressures: GP and pharmacy access")))
        try await rhyl.sync()
        _ = try rhyl.replica.edit(risk, .set("title", .string("Winter pressures: access")))
        try await rhyl.sync()
        // A new replica's first sync is a snapshot: the current title only, nothing it superseded.
        try await fresh.sync()
        #expect(try fresh.replica.snapshotCursor() != nil)
        #expect(try !fresh.replica.allChanges().contains { $0.id == stale.id })

        // Nothing the snapshot replica holds names the stale write: it arrives live, a conflict
        // no other replica shows, until the server's ack says what became of it.
        let merged = try fresh.replica.merge(with: laptop.replica)
        #expect(merged.received.applied >= 1, "the stale write is new to the snapshot replica")
        #expect(try fresh.replica.record(risk)?.liveIDs("title").contains(stale.id) == true)
        try await fresh.sync()
        try await prestatyn.sync()
        let expected = try prestatyn.replica.exportJSON(today: Self.today).canonicalText
        #expect(try fresh.replica.exportJSON(today: Self.today).canonicalText == expected, "\(kind)")
        #expect(try fresh.replica.conflicts().isEmpty, "\(kind)")
        #expect(try fresh.replica.record(risk)?.string("title") == "Winter pressures: access")
    }

    /// A practice passing on (merge, then push) another practice's change that the server has
    /// compacted away: its maker's key is registered, so the session has checked its signature
    /// and the store counts it a duplicate by the log row compaction keeps for its id (PROTOCOL.md
    /// §7.2), named superseded, and stores nothing, neither the change nor a revived value.
    @Test(arguments: StoreBackend.persistent)
    func aSignedRelayOfACompactedChangeIsASupersededDuplicate(kind: StoreBackend) async throws {
        let store = try await Fixtures.makeStore(kind.make())
        let maker = ReplicaID("00000000000000a2")!, relayer = ReplicaID("00000000000000b3")!
        let risk = RecordID("RSK-7K3M9Q2X1C")!
        let prestatyn = Fixtures.identity("prestatyn"), rhyl = Fixtures.identity("rhyl")
        _ = try await store.registerReplicaKey(ReplicaSigningKey().publicKey, replica: maker, session: prestatyn, person: nil)
        _ = try await store.registerReplicaKey(ReplicaSigningKey().publicKey, replica: relayer, session: rhyl, person: nil)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        func title(_ n: Int64, _ value: String, sup: [Int64] = []) -> Change {
            Change(id: ChangeID(replica: maker, counter: n), hlc: HLCTimestamp(millis: now - 10_000 + n), record: risk,
                   scope: RecordScope(tenant: Fixtures.tenant, cluster: Fixtures.cluster), field: "title", value: .string(value),
                   supersedes: sup.map { ChangeID(replica: maker, counter: $0) })
        }
        let first = title(1, "Winter pressures"), current = title(2, "Winter pressures: access", sup: [1])
        #expect(try await store.push([first, current], as: prestatyn, from: maker) == PushOutcome(accepted: 2, duplicates: 0))
        #expect(try await store.compact(tenant: Fixtures.tenant, olderThan: now, now: now).compacted == 1, "\(kind)")

        let relayed = try await store.push([first, current], as: rhyl, from: relayer)
        #expect(relayed == PushOutcome(accepted: 0, duplicates: 2, superseded: [first.id]), "\(kind)")
        let state = try await store.snapshotStored(for: rhyl, after: nil, limit: 100)
        #expect(try (state.changes + state.storedTexts.map { try Change(jsonText: $0) }).map(\.id) == [current.id],
                "\(kind): the compacted value stays gone")
        #expect(try await store.chainHead(tenant: Fixtures.tenant)?.seq == 2, "\(kind): nothing more logged")
    }

    /// What the store says of a batch's duplicates: the superseded writes with a value, in the
    /// batch's order; a live duplicate, a remove and a new change are not named.
    @Test(arguments: StoreBackend.available)
    func aPushNamesTheDuplicatesItHoldsSuperseded(kind: StoreBackend) async throws {
        let store = try await Fixtures.makeStore(kind.make())
        let replica = ReplicaID("00000000000000a1")!
        let risk = RecordID("RSK-7K3M9Q2X1A")!
        let base = Int64(Date().timeIntervalSince1970 * 1000) - 10_000
        func change(_ n: Int64, _ field: String, _ value: JSONValue?, sup: [Int64] = []) -> Change {
            Change(id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: base + n), record: risk,
                   scope: RecordScope(tenant: Fixtures.tenant, cluster: Fixtures.cluster), field: field, value: value,
                   supersedes: sup.map { ChangeID(replica: replica, counter: $0) })
        }
        let first = [change(1, "title", .string("One")), change(2, "title", .string("Two"), sup: [1]), change(3, "tags", .string("winter")),
                     change(4, "tags", nil, sup: [3])]
        let prestatyn = Fixtures.identity("prestatyn")
        #expect(try await store.push(first, as: prestatyn, from: replica) == PushOutcome(accepted: 4, duplicates: 0))
        let again = try await store.push(first + [change(5, "owner", .string("Lead"))], as: prestatyn, from: replica)
        #expect(again == PushOutcome(accepted: 1, duplicates: 4, superseded: [first[0].id, first[2].id]), "\(kind)")
    }
}
