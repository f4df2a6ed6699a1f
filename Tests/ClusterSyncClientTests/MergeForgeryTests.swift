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

    /// The same in the receiver's name with a made-up `sig` and a value a redaction erased,
    /// which no signature check could read: it moved the counter to 2^53 − 1 all the same, and
    /// the server then refused every later edit. Refused whole; the receiver goes on editing.
    @Test func anErasedChangeInTheReceiversOwnNameIsRefused() throws {
        let receiver = try makeReplica(dir, "receiver", practice: "prestatyn")
        let peer = try makeReplica(dir, "peer", practice: "prestatyn")
        let risk = try receiver.create(.risk, edits: [.set("title", .string("Winter pressures"))])
        let me = try receiver.identity().replicaID
        var forged = Change(id: ChangeID(replica: me, counter: ChangeID.maxCounter), hlc: HLCTimestamp(millis: Replica.systemMillis() - 1_000),
                            record: risk, scope: RecordScope(tenant: "bcuhb", cluster: "north-denbighshire"),
                            field: "description", value: Redaction.marker(by: ChangeID(replica: ReplicaID.random(), counter: 1)))
        forged.sig = String(repeating: "A", count: 86) + "=="
        try peer.apply([forged], origin: .peer)
        let before = try receiver.allChanges()

        let error = #expect(throws: ClusterSyncError.self) { try receiver.merge(with: peer) }
        #expect(error?.code == .badSignature && error?.message.contains("erased by a redaction") == true, "\(String(describing: error))")
        #expect(try receiver.allChanges() == before, "nothing written")
        let made = try receiver.create(.risk, edits: [.set("title", .string("Still editing"))])
        #expect(try receiver.allChanges().first { $0.record == made }?.id.counter == Int64(before.count + 1))

        // One numbered within what the receiver has made is an old change of its own it no
        // longer holds (a snapshot keeps live writes only): it moves nothing, and merges.
        let old = try makeReplica(dir, "old", practice: "prestatyn")
        forged.id = ChangeID(replica: me, counter: 1)
        try old.apply([forged], origin: .peer)
        try receiver.database.write { db in try db.execute(sql: "DELETE FROM change WHERE replica = (SELECT num FROM replica WHERE id = ?) AND counter = 1", arguments: [me.rawValue]) }
        let counter = try receiver.allChanges().filter { $0.id.replica == me }.map(\.id.counter).max() ?? 0
        #expect(try receiver.merge(with: old).received.applied == 1)
        let next = try receiver.create(.risk, edits: [.set("title", .string("And on"))])
        #expect(try receiver.allChanges().first { $0.record == next }?.id.counter == counter + 1, "the counter did not move")
    }

    /// A redaction erases a value for good and only a lead may make one, which a file cannot
    /// show: a made-up file's redaction, unsigned or signed with the file's own key, erased the
    /// receiver's own value for good. Redactions come from the server, never from a file.
    @Test func aRedactionIsNotTakenFromAFile() throws {
        let receiver = try makeReplica(dir, "receiver", practice: "prestatyn")
        let peer = try makeReplica(dir, "peer", practice: "prestatyn")
        let risk = try receiver.create(.risk, edits: [.set("title", .string("Winter pressures")),
                                                      .set("description", .string("Two GPs off sick"))])
        _ = try peer.merge(with: receiver)
        let target = try #require(try receiver.allChanges().first { $0.field == "description" })
        let request = Redaction.Request(change: target.id, field: "description", reason: "made up")
        let unsigned = Change(id: ChangeID(replica: ReplicaID.random(), counter: 1), hlc: HLCTimestamp(millis: Replica.systemMillis() - 500),
                              record: risk, scope: RecordScope(tenant: "bcuhb", cluster: "north-denbighshire"), field: Redaction.field,
                              value: request.value)
        try peer.apply([unsigned], origin: .peer)
        #expect(try peer.record(risk)?.string("description") == nil, "the crafted file holds it erased")
        // And one the file signs itself, as a lead's replica would (written into its file as a
        // crafted file can be).
        try peer.rememberRole(.clusterLead, region: nil)
        let title = try #require(try receiver.allChanges().first { $0.field == "title" })
        let signed = try peer.redact(risk, field: "title", change: title.id, reason: "made up too")

        _ = try receiver.merge(with: peer)
        #expect(try receiver.record(risk)?.string("description") == "Two GPs off sick")
        #expect(try receiver.record(risk)?.string("title") == "Winter pressures")
        #expect(!(try receiver.allChanges()).contains { $0.id == unsigned.id || $0.id == signed.id })
    }

    /// A file that says it is a replica the receiver knows, signing with another key, is not
    /// taken for it: the key the receiver learned first stays, and the merge is refused.
    @Test func aFileClaimingAKnownReplicaWithAnotherKeyIsRefused() throws {
        let receiver = try makeReplica(dir, "receiver", practice: "prestatyn")
        let honest = try makeReplica(dir, "honest", practice: "rhyl")
        _ = try honest.create(.risk, edits: [.set("title", .string("Estates lease"))])
        _ = try receiver.merge(with: honest)
        try honest.database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        // A file with honest's identity and a key of its own.
        let other = try makeReplica(dir, "other", practice: "rhyl")
        let seed = try other.database.read { db in try Data.fetchOne(db, sql: "SELECT private_key FROM signing_key") }
        try FileManager.default.copyItem(atPath: dir.path("honest.sqlite"), toPath: dir.path("impostor.sqlite"))
        let impostor = try Replica.openExisting(path: dir.path("impostor.sqlite"))
        try impostor.database.write { db in try db.execute(sql: "UPDATE signing_key SET private_key = ?", arguments: [seed]) }
        let forged = try impostor.create(.risk, edits: [.set("title", .string("Sell the car park"))])
        let before = try receiver.allChanges()
        let error = #expect(throws: ClusterSyncError.self) { try receiver.merge(with: impostor) }
        #expect(error?.code == .badSignature, "\(String(describing: error))")
        #expect(try receiver.allChanges() == before)
        #expect(try receiver.record(forged) == nil)
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
