import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Testing

/// `Replica.edit([(RecordID, Edit)])` plans each edit against the record as the batch's earlier
/// edits left it (read once, kept in memory), signs the changes on the other cores as they are
/// made and writes them in order as they come back, in runs that may split a register's writes
/// from the writes that supersede them: the result must be what the same edits give one call at
/// a time.
@Suite struct BatchedEditTests {
    static func edits(_ ids: [RecordID]) -> [(RecordID, Edit)] {
        var edits: [(RecordID, Edit)] = []
        for round in 0..<3 {
            for (i, id) in ids.enumerated() {
                edits.append((id, .set("owner", .string("Owner \(round)-\(i)"))))
                edits.append((id, .add("tags", .string("tag-\(round)"))))
                if round == 2 { edits.append((id, .remove("tags", .string("tag-0")))) }
            }
        }
        edits.append((ids[0], .delete))
        return edits
    }

    static func state(_ replica: Replica) throws -> [String] {
        try replica.records(.risk).map { view in
            "\(view.id) deleted=\(view.isDeleted) owner=\(view.string("owner") ?? "-") tags=\(view.members("tags").map(\.canonicalText)) "
                + "conflicts=\(view.conflicts.count) live=\(view.writes.values.map(\.count).reduce(0, +))"
        }
    }

    @Test func aBatchEndsWhereTheSameEditsOneAtATimeEnd() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let batched = try makeReplica(dir, "batched", practice: "prestatyn")
        let single = try makeReplica(dir, "single", practice: "prestatyn")
        // A shared record's delete is the cluster lead's.
        for replica in [batched, single] { try replica.declareRole(.clusterLead) }
        // The same record ids in both (a peer merge carries them over).
        var ids: [RecordID] = []
        for i in 0..<60 { ids.append(try batched.create(.risk, edits: [.set("title", .string("Risk \(i)"))])) }
        try single.apply(try batched.allChanges(), origin: .peer)

        let pending = try batched.pendingCount()
        let made = try batched.edit(Self.edits(ids))
        for (id, edit) in Self.edits(ids) { try single.edit(id, edit) }

        #expect(try Self.state(batched) == Self.state(single))
        // Each register write superseded the batch's previous one: one live owner per record.
        #expect(try batched.records(.risk).allSatisfy { $0.conflicts.isEmpty && ($0.writes["owner"]?.count ?? 0) == 1 })
        // Every change is signed (more than enough to be signed on several cores) and queued.
        #expect(made.count > 128)
        let key = try batched.publicKey()
        for change in made {
            #expect(throws: Never.self) { try ChangeSignature.verify(change, key: key) }
        }
        let stored = Dictionary(uniqueKeysWithValues: try batched.allChanges().map { ($0.id, $0) })
        #expect(made.allSatisfy { stored[$0.id] == $0 })
        #expect(try batched.pendingCount() == pending + made.count)
    }

    @Test func aBatchWithOneRefusedEditWritesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let replica = try makeReplica(dir, "a", practice: "prestatyn")
        try replica.declareRole(.clusterLead)
        var ids: [RecordID] = []
        for i in 0..<3 { ids.append(try replica.create(.risk, edits: [.set("title", .string("Risk \(i)"))])) }
        let before = try replica.allChanges()
        var edits = Self.edits(ids)
        // Editing the record the batch deleted is refused, as it is one call at a time.
        edits.append((ids[0], .set("owner", .string("Too late"))))
        #expect(throws: ClusterSyncError.self) { try replica.edit(edits) }
        #expect(try replica.allChanges() == before)
        #expect(try replica.pendingCount() == before.count)
    }
}

/// A batch reads only the fields its edits plan against; an edit that needs more of a record
/// the batch has already changed (a link's target, a delete) reads it again once the batch's
/// changes so far are in the file.
@Suite struct PartlyReadRecordTests {
    @Test func anEditNeedingMoreOfARecordSeesTheBatchsEarlierChangesToIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let replica = try makeReplica(dir, "a", practice: "prestatyn")
        try replica.declareRole(.clusterLead)
        let meeting = try replica.create(.meeting, edits: [.set("title", .string("Board, March")), .set("date", .string("2026-03-02"))])
        let decision = try replica.create(.decision, edits: [.set("title", .string("Fund the flu clinic"))])
        let risk = try replica.create(.risk, edits: [.set("title", .string("Flu clinic capacity"))])

        let made = try replica.edit([
            (meeting, .set("title", .string("Board, April"))),
            // The link's target is read whole: it must find the meeting as the batch left it.
            (decision, .set("meeting", .string(meeting.rawValue))),
            (meeting, .set("title", .string("Board, May"))),
            (risk, .set("owner", .string("Dr Evans"))),
            // A delete reads the whole record and lists every write it saw, the owner included.
            (risk, .delete),
        ])
        // And the link dates the decision by its meeting (LocalEditRules.implied), last.
        #expect(made.count == 6)
        #expect(made[5].record == decision && made[5].field == "date" && made[5].value == .string("2026-03-02"))
        // The second title supersedes the first made in this batch, not the one before it.
        #expect(made[2].supersedes == [made[0].id])
        #expect(try replica.record(meeting)?.writes["title"]?.map(\.value) == [.string("Board, May")])
        #expect(made[4].seen.contains(made[3].id))
        #expect(try replica.record(risk)?.isDeleted == true)
    }
}
