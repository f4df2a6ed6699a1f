@testable import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncStorage
import GRDB
import Testing

/// Statements a replica runs often that need a few of its changes, each found by key. The
/// outbox holds a few rows and `change` every change the replica holds (a million on one that
/// pulled its history): with a plain `JOIN`, SQLite chose to scan `change` for two of the
/// outbox's reads, 35 ms on every sync of such a replica; a snapshot, which keeps what is owed,
/// read every change; an edit setting an action's `source` read every live write. The plan
/// SQLite picks does not depend on how many rows there are until the file is analysed (a
/// replica never is), so a small replica shows the plan a large one runs.
@Suite struct ReplicaQueryPlanTests {
    static let byKey = "SEARCH c USING PRIMARY KEY"
    static let statements: [(name: String, sql: String, expected: String)] = [
        ("relays waiting, at every sync's start", Replica.relaysWaitingSQL, byKey),
        ("waiting relays, by `status` and `sync`", Replica.waitingRelaysSQL, byKey),
        ("the outbox's first page", Replica.outboxPageSQL(afterPosition: false, limit: 1_000), byKey),
        ("the outbox's next page", Replica.outboxPageSQL(afterPosition: true, limit: 1_000), byKey),
        ("what a snapshot keeps, the outbox and the held back", ChangeReader.changesSQL(from: Replica.owedChanges), byKey),
        ("the actions naming a source, by an edit that sets one", LocalEditSession.actionsNamingSourceSQL,
         "SEARCH c USING INDEX change_kept (record=? AND field=?)"),
    ]

    /// SQLite's plan, one step a line ("SCAN o", "SEARCH c USING PRIMARY KEY …").
    static func plan(_ sql: String, on replica: Replica) throws -> [String] {
        try replica.database.read { db in
            let arguments = StatementArguments(Array(repeating: DatabaseValue.null, count: sql.filter { $0 == "?" }.count))
            return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
        }
    }

    @Test(arguments: statements.indices)
    func aFrequentReadFindsItsChangesByKey(_ index: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let replica = try makeReplica(dir, "replica", practice: "prestatyn")
        _ = try replica.create(.risk, edits: [.set("title", .string("Flu clinic capacity"))])
        let (name, sql, expected) = Self.statements[index]
        let plan = try Self.plan(sql, on: replica)
        #expect(!plan.contains { $0.hasPrefix("SCAN c") }, "\(name) scans the change table: \(plan)")
        #expect(plan.contains { $0.hasPrefix(expected) }, "\(name): \(plan)")
    }
}
