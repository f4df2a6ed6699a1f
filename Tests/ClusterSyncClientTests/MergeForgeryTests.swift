import ClusterSyncClient
import ClusterSyncCore
import Foundation
import GRDB
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

    /// A replica file copied to a second laptop, and both edited: each numbered its own changes
    /// from where the copy was made, so a merge (or the server, taking the first it is sent)
    /// kept one of each pair of edits and said nothing. Refused, naming the clash; a copy not
    /// edited separately (a backup) still merges.
    @Test func aCopyOfTheReplicaEditedSeparatelyIsRefused() throws {
        let original = try makeReplica(dir, "desk", practice: "prestatyn")
        _ = try original.add(.risk, edits: [.set("title", .string("Winter pressures"))])
        try original.database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        try FileManager.default.copyItem(atPath: dir.path("desk.sqlite"), toPath: dir.path("backup.sqlite"))
        try FileManager.default.copyItem(atPath: dir.path("desk.sqlite"), toPath: dir.path("laptop.sqlite"))
        let backup = try Replica.openExisting(path: dir.path("backup.sqlite"))
        let laptop = try Replica.openExisting(path: dir.path("laptop.sqlite"))
        _ = try original.add(.risk, edits: [.set("title", .string("Locum cover"))])
        #expect(try backup.merge(with: original).received.applied >= 1, "a copy not edited separately merges")

        _ = try laptop.add(.risk, edits: [.set("title", .string("Flu clinics"))])
        let before = try original.allChanges()
        let error = #expect(throws: ClusterSyncError.self) { try original.merge(with: laptop) }
        #expect(error?.message.contains("is a copy of this replica file that was edited separately") == true, "\(String(describing: error))")
        #expect(try original.allChanges() == before)
        #expect(try !laptop.allChanges().contains { $0.value == .string("Locum cover") })
    }

    /// A change one of the two files refuses (here the other file's clock limit) leaves both as
    /// they were: before, this replica had already taken the other's changes when the other
    /// refused this one's, and the merge stopped half done.
    @Test func aChangeEitherFileRefusesLeavesBothAsTheyWere() throws {
        let ahead = try makeReplica(dir, "ahead", practice: "prestatyn", clock: { Replica.systemMillis() + 200_000 })
        let other = try makeReplica(dir, "other", practice: "prestatyn")
        try other.setRemote(RemoteSettings(host: "localhost", port: 7443, caFile: "ca.pem", tokenFile: "p.token"))
        try other.database.write { db in try db.execute(sql: "UPDATE remote SET max_clock_skew_millis = 60000") }
        _ = try ahead.add(.risk, edits: [.set("title", .string("Stamped ahead"))])
        _ = try other.add(.risk, edits: [.set("title", .string("Locum cover"))])
        let (mine, theirs) = (try ahead.allChanges(), try other.allChanges())

        let error = #expect(throws: ClusterSyncError.self) { try ahead.merge(with: other) }
        #expect(error?.code == .clockSkew && error?.message.contains("the other replica") == true, "\(String(describing: error))")
        #expect(try ahead.allChanges() == mine && other.allChanges() == theirs)
    }

    /// A file handed over that is damaged (a replica id that is none) is an error naming the
    /// file, not a crash.
    @Test func aDamagedFileIsAnErrorNamingIt() throws {
        let receiver = try makeReplica(dir, "receiver", practice: "prestatyn")
        let damaged = try makeReplica(dir, "damaged", practice: "prestatyn")
        _ = try damaged.add(.risk, edits: [.set("title", .string("Winter pressures"))])
        try damaged.database.write { db in try db.execute(sql: "UPDATE replica SET id = 'not-a-replica'") }
        let error = #expect(throws: ClusterSyncError.self) { try receiver.merge(with: damaged) }
        #expect(error?.code == .malformed && error?.message.contains("damaged.sqlite") == true
                && error?.message.contains("where a replica id should be") == true, "\(String(describing: error))")
    }
}
