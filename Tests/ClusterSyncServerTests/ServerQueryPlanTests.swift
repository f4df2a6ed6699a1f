@testable import ClusterSyncServer
import Foundation
import GRDB
import Testing

/// Statements a push, a pull or a wake-up runs often, each of which needs a few rows of a table
/// that grows with the tenant, and for each of which SQLite once chose a plan that read the
/// tenant's (or every cluster's) rows instead: a record id checked against the whole tenant at
/// every new record (8–11 ms at 200,000 records), a read-only pull's logged changes read across
/// every cluster, every credential ever issued read at each wake-up, a cluster's records walked
/// to count the actions naming a source. A server store is never analysed, so the plan does not
/// depend on how many rows there are: a new store shows the plan a large one runs.
@Suite struct ServerQueryPlanTests {
    static let statements: [(name: String, sql: String, expected: String)] = [
        ("a new record's id, taken in another cluster?", SQLiteServerStore.idTakenElsewhereSQL,
         "SEARCH record USING INDEX record_by_id (tenant=? AND id=?)"),
        ("a cluster's shared changes for a read-only pull", SQLiteServerStore.sharedChangesSQL,
         "USING INDEX log_by_cluster (tenant=? AND cluster=? AND seq>?)"),
        ("subscribed sessions' credentials at a wake-up", SQLiteServerStore.credentialsByIDSQL,
         "SEARCH credential USING"),
        ("the actions naming a source, counted by a push",
         "SELECT count(*) FROM (SELECT 1 \(PushLookups.actionsNamingSource) LIMIT ?)",
         "SEARCH rec USING INTEGER PRIMARY KEY (rowid=?)"),
    ]

    static func plan(_ sql: String, on store: SQLiteServerStore) async throws -> [String] {
        try await store.read { db in
            let arguments = StatementArguments(Array(repeating: DatabaseValue.null, count: sql.filter { $0 == "?" }.count))
            return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
        }
    }

    @Test(arguments: statements.indices)
    func aFrequentStatementReadsOnlyTheRowsItNeeds(_ index: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-plans-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteServerStore(path: directory.appendingPathComponent("store.sqlite").path)
        let (name, sql, expected) = Self.statements[index]
        let plan = try await Self.plan(sql, on: store)
        #expect(plan.contains { $0.contains(expected) }, "\(name): \(plan)")
        // Walking a table, or an index by the tenant alone, is what each of these did before.
        #expect(!plan.contains { $0.hasPrefix("SCAN") && !$0.contains("json_each") && !$0.hasPrefix("SCAN (subquery") && $0 != "SCAN CONSTANT ROW" }, "\(name): \(plan)")
        #expect(!plan.contains { $0.hasSuffix("(tenant=?)") || $0.contains("record_by_scope") || $0.contains("sqlite_autoindex_record")
                    || $0.contains("TEMP B-TREE") },
                "\(name): \(plan)")
    }
}
