import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Logging
import PostgresNIO

/// PostgreSQL beside SQLite in one run (issue 13): changes pushed and acknowledged per second
/// through one node and through two nodes sharing the database, a fresh replica's first pull of
/// `--stored` changes, a one-change sync against that many stored, and the SQLite store copied
/// into a new PostgreSQL database (`clustersyncd copy-to-postgres`). Every server is in this
/// process on loopback TLS, with the same data directory's certificates.
///
///     clustersync-bench --postgres [--changes 100000] [--stored 1000000] [--runs 3]
///
/// The database server comes from CLUSTERSYNC_BENCH_POSTGRES_URL (else
/// CLUSTERSYNC_TEST_POSTGRES_URL; `eval "$(Tests/postgres-up)"` starts a throwaway one); the
/// bench makes a new database on it. Note the SQLite store commits with fsync (synchronous=FULL)
/// while Tests/postgres-up's throwaway server runs with fsync off: say which server was used
/// when quoting the figures.
enum PostgresBench {
    typealias Node = BenchServer

    static func run(in directory: URL, pushCount: Int, storedCount: Int, runs: Int) async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["CLUSTERSYNC_BENCH_POSTGRES_URL"] ?? environment["CLUSTERSYNC_TEST_POSTGRES_URL"] else {
            print("clustersync-bench --postgres: set CLUSTERSYNC_BENCH_POSTGRES_URL (or run `eval \"$(Tests/postgres-up)\"` first)")
            return
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let data = DataDirectory(path: directory.appendingPathComponent("data").path)
        try data.initialise()

        let server = try PostgresLocation(url: url)
        let admin = try PostgresServerStore(location: server, maximumConnections: 1, logger: logger)
        let adminTask = admin.runInBackground()
        let name = "cs_bench_\(getpid())_\(Int(Date().timeIntervalSince1970))"
        try await admin.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        adminTask.cancel()
        let location = server.database(name)
        print("PostgreSQL beside SQLite: \(location) (\(runs) runs of \(pushCount) changes; \(storedCount) stored)")

        let sqlite = try SQLiteServerStore(path: data.database)
        let postgres = [try PostgresServerStore(location: location, logger: logger), try PostgresServerStore(location: location, logger: logger)]
        let pools = postgres.map { $0.runInBackground() }
        try await postgres[0].migrate()
        let sqliteToken = try await prepare(sqlite, directory: directory, name: "sqlite")
        let postgresToken = try await prepare(postgres[0], directory: directory, name: "postgres")

        let sqliteNode = try await start(store: sqlite, data: data, logger: logger, listener: nil)
        var postgresNodes: [Node] = []
        for store in postgres {
            postgresNodes.append(try await start(store: store, data: data, logger: logger, listener: store.location))
        }

        // Pushed and acknowledged: one pusher through one node; two pushers at once, through
        // SQLite's one node and through PostgreSQL's two nodes (one each).
        var rates: [String: [Double]] = [:]
        for run in 0..<runs {
            rates["sqlite 1", default: []].append(try await pushRate([sqliteNode.port], token: sqliteToken, data: data, tag: "s1-\(run)", count: pushCount, in: directory))
            rates["postgres 1", default: []].append(try await pushRate([postgresNodes[0].port], token: postgresToken, data: data, tag: "p1-\(run)", count: pushCount, in: directory))
            rates["sqlite 2", default: []].append(try await pushRate([sqliteNode.port, sqliteNode.port], token: sqliteToken, data: data, tag: "s2-\(run)", count: pushCount, in: directory))
            rates["postgres 2", default: []].append(try await pushRate(postgresNodes.map(\.port), token: postgresToken, data: data, tag: "p2-\(run)", count: pushCount, in: directory))
        }
        print(String(format: "pushed and acknowledged, one pusher, one node:     SQLite %9.0f   PostgreSQL %9.0f changes/s",
                     Bench.median(rates["sqlite 1"]!), Bench.median(rates["postgres 1"]!)))
        print(String(format: "pushed and acknowledged, two pushers at once:      SQLite %9.0f   PostgreSQL %9.0f changes/s (SQLite: one node; PostgreSQL: two nodes, one pusher each)",
                     Bench.median(rates["sqlite 2"]!), Bench.median(rates["postgres 2"]!)))

        // The stores filled to `storedCount` directly, then a fresh replica's first pull and a
        // one-change sync against each.
        for (label, store) in [("SQLite", sqlite as any ServerStore), ("PostgreSQL", postgres[0])] {
            let start = ContinuousClock.now
            try await NetworkBench.fill(store, count: storedCount)
            print(String(format: "%@ store filled directly:%@%10.0f changes/s (1,000 per push)", label,
                         String(repeating: " ", count: 24 - label.count), Double(storedCount) / Bench.seconds(since: start)))
        }
        // What autovacuum does within a minute of such a fill: without it the planner, with
        // statistics from when the tables were nearly empty, scans them whole for the
        // one-change syncs below (a third of their time at 20,000 stored, measured).
        try await postgres[0].client.query("ANALYZE")
        for (label, node, token) in [("SQLite", sqliteNode, sqliteToken), ("PostgreSQL", postgresNodes[0], postgresToken)] {
            let fresh = try replica("fresh-\(label)", port: node.port, token: token, data: data, in: directory)
            let pullStart = ContinuousClock.now
            let summary = try await SyncClient(replica: fresh, remote: try fresh.remote()!).sync()
            let pullSeconds = Bench.seconds(since: pullStart)
            // A fresh replica takes a snapshot: the live changes of what is stored.
            print(String(format: "first pull by a fresh replica, %@:%@%8.1f s for %d changes (%.0f changes/s; a snapshot of %d+ stored)", label,
                         String(repeating: " ", count: 18 - label.count), pullSeconds, summary.pulled, Double(summary.pulled) / pullSeconds,
                         storedCount))
            let id = try fresh.create(.risk, edits: [.set("title", .string("One change"))])
            _ = try await SyncClient(replica: fresh, remote: try fresh.remote()!).sync()
            var oneChange: [Double] = []
            for i in 0..<max(runs, 5) {
                try fresh.edit(id, .set("owner", .string("Owner \(i)")))
                let start = ContinuousClock.now
                _ = try await SyncClient(replica: fresh, remote: try fresh.remote()!).sync()
                oneChange.append(Bench.seconds(since: start) * 1000)
            }
            print(String(format: "one-change sync, %@ holding %d+:%@%8.1f ms (connect, TLS, push, pull)", label, storedCount,
                         String(repeating: " ", count: max(1, 14 - label.count)), Bench.median(oneChange)))
        }

        await sqliteNode.stop()
        for node in postgresNodes { await node.stop() }

        // The SQLite store moved onto PostgreSQL (`clustersyncd copy-to-postgres`), beside the
        // PostgreSQL store filled directly above.
        let copyName = name + "_copy"
        try await postgres[0].client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(copyName)"))
        let target = try PostgresServerStore(location: server.database(copyName), maximumConnections: 2, logger: logger)
        let targetPool = target.runInBackground()
        try await target.migrate()
        let copyStart = ContinuousClock.now
        let report = try await target.copy(from: sqlite)
        let copySeconds = Bench.seconds(since: copyStart)
        print(String(format: "SQLite store copied into PostgreSQL (copy-to-postgres): %.1f s for %d logged changes, %d kept rows (%.0f changes/s)",
                     copySeconds, report.rows(of: "log"), report.rows(of: "field_write"), Double(report.rows(of: "log")) / copySeconds))
        targetPool.cancel()
        for pool in pools { pool.cancel() }
    }

    /// Tenant bench, cluster c1, practices p1 and p2; p1's token in a file, its path returned.
    static func prepare(_ store: any ServerStore, directory: URL, name: String) async throws -> String {
        try await store.addTenant("bench")
        try await store.addCluster("c1", tenant: "bench")
        try await store.addPractice("p1", cluster: "c1", tenant: "bench")
        try await store.addPractice("p2", cluster: "c1", tenant: "bench")
        let file = directory.appendingPathComponent("token-\(name)").path
        try await store.issueToken(practice: "p1", cluster: "c1", tenant: "bench", label: nil).write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    static func start(store: any ServerStore, data: DataDirectory, logger: Logger, listener: PostgresLocation?) async throws -> Node {
        // Each node listens for the others' pushes, as `serve` does on PostgreSQL.
        var listen: (@Sendable (SyncServer) async throws -> Void)?
        if let listener {
            let node = (store as? PostgresServerStore)?.node
            listen = { server in try await PostgresChangeListener(location: listener, notifier: server.notifier, node: node, logger: logger).run() }
        }
        return try await BenchServer.start(store: store, data: data, logger: logger, configure: { $0.maxConnectionsPerCredential = 64 },
                                           alongside: listen)
    }

    static func replica(_ name: String, port: Int, token: String, data: DataDirectory, in directory: URL) throws -> Replica {
        let replica = try Replica(path: directory.appendingPathComponent("\(name).sqlite").path)
        try replica.initialise(tenant: "bench", cluster: "c1", practice: "p1", displayName: name)
        try replica.setRemote(RemoteSettings(host: "127.0.0.1", port: port, caFile: data.caCertificate, tokenFile: token))
        return replica
    }

    /// One pusher per port, each with `count` local edits, all syncing at once: changes
    /// acknowledged per second until the last pusher's last batch was acknowledged.
    static func pushRate(_ ports: [Int], token: String, data: DataDirectory, tag: String, count: Int, in directory: URL) async throws -> Double {
        var pushers: [Replica] = []
        var pending = 0
        for (i, port) in ports.enumerated() {
            let pusher = try replica("pusher-\(tag)-\(i)", port: port, token: token, data: data, in: directory)
            _ = try LocalEdits.make(count: count, on: pusher)
            pending += try pusher.pendingCount()
            pushers.append(pusher)
        }
        let start = ContinuousClock.now
        let clocks = pushers.map { _ in PushClock() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (pusher, clock) in zip(pushers, clocks) {
                group.addTask {
                    _ = try await SyncClient(replica: pusher, remote: try pusher.remote()!).sync { state in
                        if state.pushed == state.toPush { clock.mark() }
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(pending) / (clocks.map { $0.seconds(since: start) }.max() ?? 1)
    }
}
