import ClusterSyncClient
import ClusterSyncCore
import Foundation
import GRDB

/// `--register N`: reading a register of N risks, as `clustersync risk list --json` and the web
/// app's register page do, beside a reference measured in the same run: the same rows read from
/// SQLite by one plain query, column values taken as text and nothing decoded.
enum RegisterBench {
    static func run(risks: Int, runs: Int, in directory: URL) throws {
        let replica = try Replica(path: directory.appendingPathComponent("register.sqlite").path)
        try replica.initialise(tenant: "bench", cluster: "c1", practice: "p1", displayName: "Bench")
        // A tenth of the risks are closed, which is the cluster lead's to do.
        try replica.declareRole(.clusterLead)
        let outcome = try replica.importCSV(csv(risks: risks), type: .risk)
        // fatalError, not precondition: a release build keeps its message.
        if !outcome.problems.isEmpty { fatalError("the register's import found problems: \(outcome.problems.prefix(3))") }
        let liveRows = try replica.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM change WHERE live = 1")!
        }
        print("register: \(risks) risks (\(liveRows) live writes); medians of \(runs) runs")

        let today = replica.today
        var reference: [Double] = []
        var records: [Double] = []
        var listJSON: [Double] = []
        var conflicts: [Double] = []
        for _ in 0..<runs {
            var start = ContinuousClock.now
            let cells = try replica.database.read { db in
                var count = 0
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT rec.id, rec.tenant, rec.cluster, rec.practice, c.replica, c.counter, c.hlc, c.field, c.value, c.author, c.seen
                    FROM record rec JOIN change c ON c.record = rec.num AND c.live = 1
                    WHERE rec.type = 'risk' ORDER BY rec.id
                    """)
                while let row = try rows.next() {
                    let id: String = row[0], field: String = row[7], value: String = row[8], author: String? = row[9]
                    count += id.utf8.count + field.utf8.count + value.utf8.count + (author?.utf8.count ?? 0)
                }
                return count
            }
            reference.append(Bench.seconds(since: start))
            precondition(cells > 0)

            start = ContinuousClock.now
            let views = try replica.records(.risk)
            records.append(Bench.seconds(since: start))
            precondition(views.count == risks)

            start = ContinuousClock.now
            let governance = try replica.governance()
            let text = JSONValue.object(["records": .array(try replica.records(.risk).map { $0.jsonValue(today: today, governance: governance) })])
                .canonicalText
            listJSON.append(Bench.seconds(since: start))
            precondition(!text.isEmpty)

            start = ContinuousClock.now
            _ = try replica.conflicts()
            conflicts.append(Bench.seconds(since: start))
        }
        func ms(_ values: [Double]) -> String { String(format: "%7.1f ms", Bench.median(values) * 1000) }
        print("reference: the same rows by one plain query, as text:   \(ms(reference))")
        print("Replica.records(.risk):                                  \(ms(records))")
        print("records, derived values and JSON text (risk list --json): \(ms(listJSON))")
        print("Replica.conflicts() (the menu's count):                  \(ms(conflicts))")
    }

    /// Risks shaped like `Tests/Browser/bench_register.py`'s: a score, a review date, an owner
    /// and a category each, one in ten closed.
    static func csv(risks: Int) -> String {
        var lines = ["id,practice,title,category,owner,score,initial_score,review_date,status,escalation"]
        let categories = ["clinical", "workforce", "estates", "financial"]
        for n in 0..<risks {
            let score = "\(n % 5 + 1)x\((n * 7) % 5 + 1)"
            let review = String(format: "%04d-%02d-%02d", 2025 + n % 3, n % 12 + 1, n % 28 + 1)
            lines.append(",,Risk \(n): service pressure in area \(n % 97),\(categories[n % 4]),Owner \(n % 41),\(score),\(score),\(review),\(n % 10 == 0 ? "closed" : "open"),practice")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
