@testable import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncStorage
import GRDB
import Testing

/// Every sync and `status` read the outbox's changes. The outbox holds a few rows and `change`
/// every change the replica holds (a million on one that pulled its history), so each such
/// statement reads the outbox first and finds its changes by key. With a plain `JOIN`,
/// SQLite chose to scan `change` for two of them: 35 ms on every sync of such a replica. (A
/// snapshot, which replaces the state but keeps what is owed, read every change too.) The
/// plan SQLite picks for a statement does not depend on how many rows there are until the file
/// is analysed (a replica never is), so a small replica shows the plan a large one runs.
@Suite struct OutboxQueryPlanTests {
    static let statements: [(name: String, sql: String)] = [
        ("relays waiting, at every sync's start", Replica.relaysWaitingSQL),
        ("waiting relays, by `status` and `sync`", Replica.waitingRelaysSQL),
        ("the outbox's first page", Replica.outboxPageSQL(afterPosition: false, limit: 1_000)),
        ("the outbox's next page", Replica.outboxPageSQL(afterPosition: true, limit: 1_000)),
        ("what a snapshot keeps, the outbox and the held back", ChangeReader.changesSQL(from: Replica.owedChanges)),
    ]

    /// SQLite's plan, one step a line ("SCAN o", "SEARCH c USING PRIMARY KEY …").
    static func plan(_ sql: String, on replica: Replica) throws -> [String] {
        try replica.database.read { db in
            let arguments = StatementArguments(Array(repeating: DatabaseValue.null, count: sql.filter { $0 == "?" }.count))
            return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
        }
    }

    @Test(arguments: statements.indices)
    func anOutboxReadFindsItsChangesByKey(_ index: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let replica = try makeReplica(dir, "replica", practice: "prestatyn")
        _ = try replica.create(.risk, edits: [.set("title", .string("Flu clinic capacity"))])
        let (name, sql) = Self.statements[index]
        let plan = try Self.plan(sql, on: replica)
        #expect(!plan.contains { $0.hasPrefix("SCAN c") }, "\(name) scans the change table: \(plan)")
        #expect(plan.contains { $0.hasPrefix("SEARCH c USING PRIMARY KEY") }, "\(name): \(plan)")
    }
}
