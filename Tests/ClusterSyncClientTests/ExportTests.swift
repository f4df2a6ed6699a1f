import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Testing

@Suite struct ExportTests {
    /// A list item deleted on one replica while another ticked it carries its conflict in the
    /// JSON export, under its list's `deleted_items`, identically on both replicas.
    @Test func aDeletedItemAndItsConflictAreExported() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let a = try makeReplica(dir, "a", practice: "prestatyn")
        let b = try makeReplica(dir, "b", practice: "rhyl")
        let list = try a.create(.list, edits: [.set("title", .string("Agenda")), .set("kind", .string("agenda"))])
        let kept = try a.create(.item, edits: [.set("list", .string(list.rawValue)), .set("text", .string("Welcome")), .place(after: nil)])
        let item = try a.create(.item, edits: [.set("list", .string(list.rawValue)), .set("text", .string("Minutes")), .place(after: nil)])
        _ = try a.merge(with: b)
        try a.edit(item, .delete)
        try b.edit(item, .set("done", .bool(true)))
        _ = try a.merge(with: b)

        let exports = try [a, b].map { try $0.exportJSON(today: fixedToday) }
        #expect(exports[0].canonicalText == exports[1].canonicalText)
        guard case .array(let records) = exports[0]["records"], let exported = records.first(where: { $0["id"] == .string(list.rawValue) }),
              case .array(let items) = exported["items"], case .array(let deleted) = exported["deleted_items"] else {
            Issue.record("no list in \(exports[0])"); return
        }
        #expect(items.map { $0["id"] } == [.string(kept.rawValue)])
        #expect(deleted.map { $0["id"] } == [.string(item.rawValue)])
        #expect(deleted.first?["deleted"] == .bool(true))
        guard case .array(let conflicts) = deleted.first?["conflicts"] else { Issue.record("no conflicts"); return }
        #expect(conflicts.map { $0["kind"] } == [.string("edit-against-delete")])
    }

    /// Two practices restoring the same record, or closing the same risk, agree: no conflict.
    @Test func concurrentEqualWritesAreNoConflict() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let a = try makeReplica(dir, "a", practice: "prestatyn")
        let b = try makeReplica(dir, "b", practice: "rhyl")
        // Deleting and closing a shared risk are the cluster lead's (LeadPowers).
        try a.rememberRole(.clusterLead, region: nil)
        try b.rememberRole(.clusterLead, region: nil)
        let risk = try a.create(.risk, edits: [.set("title", .string("Locum cover"))])
        try a.edit(risk, .delete)
        _ = try a.merge(with: b)
        try a.edit(risk, .restore, .set("status", .string("closed")))
        try b.edit(risk, .restore, .set("status", .string("closed")))
        _ = try a.merge(with: b)
        for replica in [a, b] {
            let view = try #require(try replica.record(risk))
            #expect(view.conflicts.isEmpty)
            #expect(view.liveIDs("status").count == 2)
            #expect(try replica.conflicts().isEmpty)
        }
        // The next write supersedes both.
        try a.edit(risk, .set("status", .string("open")))
        #expect(try a.record(risk)?.liveIDs("status").count == 1)
    }
}
