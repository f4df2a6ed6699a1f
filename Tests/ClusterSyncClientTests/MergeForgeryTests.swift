import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Testing

/// A file handed over for `merge` may have been made by anyone: what it holds must not take
/// over the receiving replica.
@Suite struct MergeForgeryTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    /// An unsigned change in the receiver's own name, which it never made, with a counter far
    /// ahead: taken in, it moved the receiver's counter there, and every later edit overflowed
    /// it (the replica could make no more changes, for good). Refused whole, before anything is
    /// written; the receiver goes on editing.
    @Test func anUnsignedChangeInTheReceiversOwnNameIsRefused() throws {
        let receiver = try makeReplica(dir, "receiver", practice: "prestatyn")
        let peer = try makeReplica(dir, "peer", practice: "prestatyn")
        _ = try peer.create(.risk, edits: [.set("title", .string("Winter pressures"))])
        let me = try receiver.identity().replicaID
        let forged = Change(id: ChangeID(replica: me, counter: ChangeID.maxCounter), hlc: HLCTimestamp(millis: Replica.systemMillis() - 1_000),
                            record: RecordID.random(for: .risk), scope: RecordScope(tenant: "bcuhb", cluster: "north-denbighshire"),
                            field: "title", value: .string("Forged"))
        try peer.apply([forged], origin: .peer)
        let before = try receiver.allChanges()

        let error = #expect(throws: ClusterSyncError.self) { try receiver.merge(with: peer) }
        #expect(error?.code == .badSignature && error?.message.contains("claims to be made by this replica") == true, "\(String(describing: error))")
        #expect(try receiver.allChanges() == before, "nothing written")
        let made = try receiver.create(.risk, edits: [.set("title", .string("Still editing"))])
        #expect(try receiver.allChanges().first { $0.record == made }?.id.counter == Int64(before.count + 1))
    }

    /// A counter past 2^53 − 1 is refused wherever a change arrives (Protocol/changes.md §8).
    @Test func aCounterPastTheLargestIsRefusedOnArrival() throws {
        let receiver = try makeReplica(dir, "receiver", practice: "prestatyn")
        let change = Change(id: ChangeID(replica: ReplicaID.random(), counter: ChangeID.maxCounter + 1),
                            hlc: HLCTimestamp(millis: Replica.systemMillis() - 1_000), record: RecordID.random(for: .risk),
                            scope: RecordScope(tenant: "bcuhb", cluster: "north-denbighshire"), field: "title", value: .string("Far ahead"))
        let error = #expect(throws: ClusterSyncError.self) { try receiver.apply([change], origin: .peer) }
        #expect(error?.code == .invalidValue && error?.field == "id", "\(String(describing: error))")
        #expect(try receiver.allChanges().isEmpty)
    }
}
