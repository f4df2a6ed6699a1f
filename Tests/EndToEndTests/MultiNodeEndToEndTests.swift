import ClusterSyncCore
import Foundation
import Testing

/// Two `clustersyncd` nodes sharing one PostgreSQL on loopback (issue 13), through the real
/// binaries: a push through one node reaches a watcher on the other at once (LISTEN/NOTIFY);
/// concurrent pushes through both end identical with a gap-free sequence; a node killed mid-push
/// loses and duplicates nothing once the client resyncs through the other; a rolling restart
/// under watching clients loses nothing. Each test has a database of its own.
@Suite(.serialized, .enabled(if: TestStorage.hasPostgres || TestStorage.isCI), .teardown)
struct MultiNodeEndToEndTests {
    let dir: URL
    let cli: CLI
    let databaseURL: String

    init() async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-nodes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        databaseURL = try await TestStorage.newDatabaseURL()
        var cli = CLI(directory: dir)
        // The URL reaches the nodes through the environment, never their command line.
        cli.environment = ["CLUSTERSYNCD_STORAGE": "postgres", "CLUSTERSYNCD_POSTGRES_URL": databaseURL, "LOG_LEVEL": "warning"]
        self.cli = cli
    }

    /// Tenant bcuhb, cluster north-denbighshire with `practices`, in the shared database; node 1's
    /// data directory (`data`: CA and server certificate) copied for node 2 (`data2`).
    func setUp(practices: [String]) async throws {
        func admin(_ args: String...) async throws {
            let result = try await cli.run(args + ["--data", "data"], binary: "clustersyncd")
            #expect(result.status == 0, "\(args): \(result.stderr)")
        }
        try await admin("init")
        try await admin("tenant", "add", "bcuhb")
        try await admin("cluster", "add", "--tenant", "bcuhb", "north-denbighshire")
        for practice in practices { try await admin("practice", "add", "--tenant", "bcuhb", "--cluster", "north-denbighshire", practice) }
        try FileManager.default.copyItem(at: dir.appendingPathComponent("data"), to: dir.appendingPathComponent("data2"))
    }

    func startNode(_ data: String, port: Int = 0) async throws -> Server { try await Server.start(cli: cli, port: port, data: data) }

    /// A replica of `practice` with a token, syncing through `port`.
    func makeReplica(_ practice: String, port: Int) async throws -> String {
        let file = "\(practice).sqlite"
        #expect(try await cli.run("init", "--replica", file, "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", practice,
                            "--name", "Manager, \(practice)").status == 0)
        let issued = try await cli.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                  "--practice", practice, "--label", "laptop"], binary: "clustersyncd")
        #expect(issued.status == 0, "\(issued.stderr)")
        try issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            .write(to: dir.appendingPathComponent("\(practice).token"), atomically: true, encoding: .utf8)
        try await point(file, practice: practice, at: port)
        return file
    }

    func point(_ file: String, practice: String, at port: Int) async throws {
        let set = try await cli.run("remote", "set", "--replica", file, "127.0.0.1:\(port)", "--ca", "data/ca.pem", "--token-file", "\(practice).token")
        #expect(set.status == 0, "\(set.stderr)")
    }

    @discardableResult
    func sync(_ file: String) async throws -> CLI.Result {
        let result = try await cli.run("sync", "--replica", file)
        #expect(result.status == 0, "sync \(file): \(result.stderr)")
        return result
    }

    func addRisk(_ file: String, _ fields: String...) async throws -> String {
        let result = try await cli.run(["risk", "add", "--replica", file] + fields)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func output(_ name: String) -> String {
        (try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    /// One value from the shared database, through psql.
    func query(_ sql: String) async throws -> String {
        let psql = ChildProcess()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        psql.arguments = ["psql", "-At", "-v", "ON_ERROR_STOP=1", databaseURL, "-c", sql]
        psql.standardOutput = Pipe()
        try await psql.runToExit()
        return await psql.output.readToEnd().trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The tenant's log: how many changes, and whether they are numbered 1...n without a gap.
    func sequence() async throws -> (count: Int, gapFree: Bool) {
        let row = try await query("SELECT count(*), coalesce(min(seq), 1), coalesce(max(seq), 0), count(DISTINCT seq) FROM log WHERE tenant = 'bcuhb'")
            .split(separator: "|").compactMap { Int($0) }
        guard row.count == 4 else { return (0, false) }
        return (row[0], row[1] == 1 && row[2] == row[0] && row[3] == row[0])
    }

    /// Waits (with a deadline) until every replica exports the same bytes containing `titles`.
    func converge(_ files: [String], holding titles: [String], within seconds: Double = 30) async throws -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        var exports: [String] = []
        while Date() < deadline {
            exports = try await files.asyncMap { try await cli.run("export", "--replica", $0).stdout }
            if Set(exports).count == 1, titles.allSatisfy({ exports[0].contains($0) }) { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    @Test func aPushThroughNodeOneReachesAWatcherOnNodeTwoWithinASecond() async throws {
        try await setUp(practices: ["prestatyn", "rhyl"])
        let one = try await startNode("data"), two = try await startNode("data2")
        Teardown.add { await one.stop(); await two.stop() }
        let prestatyn = try await makeReplica("prestatyn", port: one.port)
        let rhyl = try await makeReplica("rhyl", port: two.port)
        let watcher = try WatchEndToEndTests.startWatch(rhyl, in: dir)
        Teardown.add { watcher.signal(SIGTERM); await watcher.exited() }
        // Wait until the watcher is subscribed on node 2.
        let ready = Date(timeIntervalSinceNow: 20)
        while Date() < ready, !output("\(rhyl).out").contains("waiting for changes") { try await Task.sleep(for: .milliseconds(50)) }
        #expect(output("\(rhyl).out").contains("waiting for changes"), "\(output("\(rhyl).err"))")

        _ = try await addRisk(prestatyn, "title=Flu clinic staffing")
        try await sync(prestatyn)
        // A deadline of one second from the push's acknowledgement: without node 2 hearing of
        // node 1's push (LISTEN/NOTIFY), the watcher would wait for its next reconnect.
        let acknowledged = Date()
        while Date().timeIntervalSince(acknowledged) < 1, !output("\(rhyl).out").contains("applied ") { try await Task.sleep(for: .milliseconds(10)) }
        #expect(output("\(rhyl).out").contains("applied "),
                "node 2's watcher did not receive node 1's push within a second: \(output("\(rhyl).out")) \(output("\(rhyl).err"))")
        print("node 1 → node 2 watcher: \(String(format: "%.0f", Date().timeIntervalSince(acknowledged) * 1000)) ms after the acknowledgement")
        #expect(try await cli.run("export", "--replica", rhyl).stdout.contains("Flu clinic staffing"))

        // Without the node's settings a command would take the data directory's empty SQLite
        // file for the store and report success; it says whose directory it is instead.
        var plain = cli
        plain.environment = ["LOG_LEVEL": "warning"]
        for args in [["health"], ["tenant", "list"], ["backup", "--to", "copy.sqlite"]] {
            let result = try await plain.run(args + ["--data", "data"], binary: "clustersyncd")
            #expect(result.status != 0 && (result.stdout + result.stderr).contains("postgres-node"), "\(args): \(result.stdout) \(result.stderr)")
        }
        let health = try await cli.run(["health", "--data", "data"], binary: "clustersyncd")
        #expect(health.status == 0 && health.stdout.contains("1 tenant"), "\(health.stdout) \(health.stderr)")
    }

    @Test func eightClientsPushingThroughBothNodesEndIdenticalWithAGapFreeSequence() async throws {
        let practices = (1...8).map { "practice-\($0)" }
        try await setUp(practices: practices)
        let one = try await startNode("data"), two = try await startNode("data2")
        Teardown.add { await one.stop(); await two.stop() }
        let files = try await practices.enumerated().asyncMap { try await makeReplica($0.element, port: $0.offset % 2 == 0 ? one.port : two.port) }
        for round in 0..<3 {
            for file in files {
                let risk = try await addRisk(file, "title=Round \(round) at \(file)")
                #expect(try await cli.run(["risk", "set", "--replica", file, risk] + (0..<20).map { "tags+=r\(round)-\($0)" }).status == 0)
            }
            // All eight at once, half through each node.
            let syncs = try await files.asyncMap { try await cli.start(["sync", "--replica", $0]) }
            for (file, process) in zip(files, syncs) {
                await process.exited()
                let errors = await process.errors.readToEnd()
                #expect(process.terminationStatus == 0, "\(file): \(errors)")
            }
        }
        // A last pull each, then every replica holds the same bytes.
        for file in files { try await sync(file) }
        let exports = try await files.asyncMap { try await cli.run("export", "--replica", $0).stdout }
        #expect(Set(exports).count == 1, "the replicas differ")
        #expect(exports[0].contains("Round 2 at practice-8.sqlite"))
        let (count, gapFree) = try await sequence()
        #expect(count > 8 * 3 * 20, "every practice's tags arrived (\(count) changes)")
        #expect(gapFree, "the tenant's sequence has a gap or a repeat (\(count) changes)")
        let verified = try await cli.run(["verify", "--data", "data", "--tenant", "bcuhb"], binary: "clustersyncd")
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
    }

    @Test func aNodeKilledDuringAPushLosesAndDuplicatesNothingThroughTheOtherNode() async throws {
        try await setUp(practices: ["prestatyn", "rhyl"])
        let one = try await startNode("data"), two = try await startNode("data2")
        Teardown.add { await one.stop(); await two.stop() }
        let prestatyn = try await makeReplica("prestatyn", port: one.port)
        // Six risks of 1,000 labels each: a field holds at most 1,000 (FieldGrowth).
        var risks: [String] = []
        for n in 0..<6 { risks.append(try await addRisk(prestatyn, "title=Big \(n)")) }
        for batch in 0..<30 {
            #expect(try await cli.run(["risk", "set", "--replica", prestatyn, risks[batch / 5]] + (0..<200).map { "tags+=t\(batch)-\($0)" }).status == 0)
        }
        let total = try #require(try await cli.run("status", "--replica", prestatyn, "--json").json?["pending"]?.intValue)
        let syncing = try await cli.start(["sync", "--replica", prestatyn])
        // Kill node 1 once part of the push is committed: mid-push, not before or after it.
        let deadline = Date(timeIntervalSinceNow: 30)
        while Date() < deadline, (try await sequence().count) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        one.process.signal(SIGKILL)
        await one.process.exited()
        await syncing.exited()
        let committed = try await sequence().count
        print("node killed with \(committed) of \(total) changes committed")
        #expect(committed > 0)

        // The practice resyncs through node 2: its resend is idempotent.
        try await point(prestatyn, practice: "prestatyn", at: two.port)
        try await sync(prestatyn)
        #expect(try await cli.run("status", "--replica", prestatyn, "--json").json?["pending"] == .int(0))
        let (count, gapFree) = try await sequence()
        #expect(count == total, "every change once: \(count) stored of \(total)")
        #expect(gapFree)
        let rhyl = try await makeReplica("rhyl", port: two.port)
        #expect(try await sync(rhyl).stdout.contains("pulled \(total)"))
        #expect(try await cli.members("tags", of: risks, on: rhyl) == 30 * 200)
    }

    @Test func aRollingRestartOfBothNodesUnderWatchingClientsLosesNothing() async throws {
        try await setUp(practices: ["prestatyn", "rhyl", "prestatyn-2"])
        var one = try await startNode("data"), two = try await startNode("data2")
        // Restarted below: the teardown stops the two running at the end.
        let running = Current((one, two))
        Teardown.add { let (one, two) = running.value; await one.stop(); await two.stop() }
        let files = [try await makeReplica("prestatyn", port: one.port), try await makeReplica("rhyl", port: two.port),
                     try await makeReplica("prestatyn-2", port: two.port)]
        let watchers = try files.map { try WatchEndToEndTests.startWatch($0, in: dir) }
        Teardown.add {
            for watcher in watchers where watcher.isRunning {
                watcher.signal(SIGTERM)
                await watcher.exited()
            }
        }
        var titles: [String] = []
        func editAndConverge(_ label: String) async throws {
            for file in files {
                titles.append("\(label) at \(file)")
                _ = try await addRisk(file, "title=\(label) at \(file)")
            }
            #expect(try await converge(files, holding: titles), """
                \(label): no convergence within 30 s
                watchers: \(files.map { (output("\($0).out").suffix(2_000), output("\($0).err").suffix(2_000)) })
                nodes: \(one.output.suffix(4_000)) \(two.output.suffix(4_000))
                """)
        }
        try await editAndConverge("before")
        // Node 1 restarts while node 2 serves; then node 2 while node 1 serves.
        let portOne = one.port, portTwo = two.port
        await one.stop()
        _ = try await addRisk(files[1], "title=while node 1 was down")
        titles.append("while node 1 was down")
        one = try await startNode("data", port: portOne)
        running.value = (one, two)
        try await editAndConverge("after node 1")
        await two.stop()
        _ = try await addRisk(files[0], "title=while node 2 was down")
        titles.append("while node 2 was down")
        two = try await startNode("data2", port: portTwo)
        running.value = (one, two)
        try await editAndConverge("after node 2")
        for (file, watcher) in zip(files, watchers) {
            #expect(watcher.isRunning, "\(file) stopped watching: \(output("\(file).err"))")
        }
        let export = try #require(try await cli.run("export", "--replica", files[0]).json)
        guard case .array(let records) = export["records"] else { Issue.record("no records"); return }
        #expect(records.count == titles.count, "every risk once")
        #expect(try await sequence().gapFree)
    }
}
