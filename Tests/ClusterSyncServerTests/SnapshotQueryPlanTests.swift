import ClusterSyncCore
import ClusterSyncServer
import Foundation
import GRDB
import GRDBSQLite
import Testing

@testable import ClusterSyncStorage

/// A snapshot page after the first starts where its cursor points, in the server store's record
/// index, rather than at the cluster's first record: otherwise each page scans every page before
/// it, and a cluster of 20,000 records and a million changes takes seconds to bootstrap (issue 12).
/// Checked on the plan SQLite makes for the query, not by timing it.
@Suite struct SnapshotQueryPlanTests {
    @Test func aContinuingPageSeeksTheRecordIndexFromItsCursor() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-plan-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try SQLiteServerStore(path: path)
        let database = try DatabaseQueue(path: path)
        func plan(continuing: Bool) throws -> [String] {
            try database.read { db in
                let arguments: StatementArguments = continuing
                    ? ["t", "c", "p", "RSK-7K3M9Q2X1A", "RSK-7K3M9Q2X1A", "RSK-7K3M9Q2X1A", "title", 1, 1, 1001] : ["t", "c", "p", 1001]
                return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SnapshotReader.pageQuery(continuing: continuing), arguments: arguments)
                    .map { $0["detail"] as String }
            }
        }
        let continuing = try plan(continuing: true)
        let records = continuing.first { $0.contains(" rec ") }
        #expect(records?.contains("id>?") == true, "the record index is searched from the cursor: \(continuing)")
        #expect(!continuing.contains { $0.contains("TEMP B-TREE") }, "pages come in index order, unsorted: \(continuing)")
        // Only the rows a snapshot keeps are read, through the index that holds just those.
        #expect(continuing.contains { $0.contains(" c USING INDEX change_kept ") }, "\(continuing)")
        // The first page reads from the cluster's first record, in the same order.
        let first = try plan(continuing: false)
        #expect(first.first { $0.contains(" rec ") }?.contains("tenant=? AND cluster=?") == true, "\(first)")
        #expect(!first.contains { $0.contains("TEMP B-TREE") }, "\(first)")
    }
    /// The statements a write runs for every change bind `field = ?`. SQLite compiles such a
    /// statement again at every new binding when a partial index's WHERE compares `field` with
    /// a constant by `=` (to see whether the bound value makes the index usable): with the
    /// first `change_kept`, applying a snapshot was four times slower. Counted by SQLite.
    @Test func aWritesStatementsAreNotCompiledAgainForEachField() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-plan-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try SQLiteServerStore(path: path)
        let database = try DatabaseQueue(path: path)
        try database.write { db in
            for sql in [
                "UPDATE change SET live = 0 WHERE record = ? AND field = ? AND replica = ? AND counter = ?",
                "SELECT EXISTS (SELECT 1 FROM change s WHERE s.record = ? AND s.field = ? AND s.replica = ? AND s.counter = ?)",
                "SELECT count(*) FROM change c WHERE c.record = ? AND c.field = ? AND c.replica >= ? AND c.counter >= ? AND c.live = 1",
            ] {
                let statement = try db.makeStatement(sql: sql)
                for field in ["title", "position", "redact", "owner"] {
                    try statement.execute(arguments: [1, field, 1, 1])
                }
                #expect(sqlite3_stmt_status(statement.sqliteStatement, SQLITE_STMTSTATUS_REPREPARE, 0) == 0, "\(sql)")
            }
        }
        // The production path: `ChangeWriter`, in both ways it recognises a superseded write,
        // writing and superseding changes of four fields; every statement the connection holds
        // is counted.
        let scope = RecordScope(tenant: "t", cluster: "c")
        let record = RecordID("RSK-7K3M9Q2X1A")!, replica = ReplicaID("00000000000000a1")!
        for (index, supersessions) in [ChangeWriter.Supersessions.orphanRows, .storedChanges].enumerated() {
            try database.write { db in
                var writer = try ChangeWriter(db, partition: .init(tenant: "t", cluster: "c"), supersessions: supersessions)
                for (offset, field) in ["title", "position", "status", "owner"].enumerated() {
                    for round in 0..<3 {
                        let counter = Int64(index * 100 + offset * 10 + round + 1)
                        let change = Change(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: 1_795_424_400_000 + counter),
                                            record: record, scope: scope, field: field, value: .string("v\(counter)"),
                                            supersedes: round == 0 ? [] : [ChangeID(replica: replica, counter: counter - 1)])
                        // One at a time: each write binds its field anew.
                        _ = try writer.apply([change])
                    }
                }
                var reprepared: [String] = []
                var statement = sqlite3_next_stmt(db.sqliteConnection, nil)
                while let current = statement {
                    if sqlite3_stmt_status(current, SQLITE_STMTSTATUS_REPREPARE, 0) > 0 { reprepared.append(String(cString: sqlite3_sql(current))) }
                    statement = sqlite3_next_stmt(db.sqliteConnection, current)
                }
                #expect(reprepared.isEmpty, "\(supersessions): \(reprepared)")
            }
        }
    }
}
