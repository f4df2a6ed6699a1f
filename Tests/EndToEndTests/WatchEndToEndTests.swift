import ClusterSyncCore
import Foundation
import Testing

/// `sync --watch` through the real binaries while the network misbehaves: the server restarts
/// (SIGTERM, then SIGKILL) and the line is cut silently (no FIN, no RST). Two watching
/// practices must converge again each time, to byte-identical exports.
@Suite(.serialized, .teardown) struct WatchEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    /// Quick timers, so a dead line is noticed in about a second.
    static let watchTiming = ["--ping-seconds", "0.5", "--pong-timeout-seconds", "1", "--poll-seconds", "0.2", "--reconnect-max-seconds", "1"]

    /// `sync --watch` in the background, its output in files (a pipe nobody reads would fill up).
    func startWatch(_ file: String) throws -> ChildProcess { try Self.startWatch(file, in: base.dir) }

    static func startWatch(_ file: String, in dir: URL, timing: [String] = watchTiming) throws -> ChildProcess {
        let process = ChildProcess()
        process.executableURL = CLI.binDirectory.appendingPathComponent("clustersync")
        process.arguments = ["sync", "--watch", "--replica", file] + timing
        process.currentDirectoryURL = dir
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        process.environment = environment
        for name in ["\(file).out", "\(file).err"] {
            FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: nil)
        }
        process.standardOutput = try FileHandle(forWritingTo: dir.appendingPathComponent("\(file).out"))
        process.standardError = try FileHandle(forWritingTo: dir.appendingPathComponent("\(file).err"))
        try process.run()
        return process
    }

    func output(_ name: String) -> String {
        (try? String(contentsOf: base.dir.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    /// Each practice adds a risk; waits (with a deadline) until every replica exports the same
    /// bytes and holds both. Returns how long that took.
    func edit(_ files: [String], andConverge label: String) async throws -> Double {
        let started = Date()
        var titles: [String] = []
        for file in files {
            let title = "\(label) at \(file)"
            titles.append(title)
            _ = try await base.addRisk(file, "title=\(title)")
        }
        let deadline = Date(timeIntervalSinceNow: 30)
        var exports: [String] = []
        while Date() < deadline {
            exports = try await files.asyncMap { try await cli.run("export", "--replica", $0).stdout }
            if Set(exports).count == 1, titles.allSatisfy({ exports[0].contains($0) }) {
                return Date().timeIntervalSince(started)
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("\(label): no convergence within 30 s\n\(files.map { output("\($0).err") })")
        return .infinity
    }

    @Test func watchingPracticesConvergeAcrossRestartsAndASilentCut() async throws {
        var server = try await base.makeServer()
        let port = server.port
        // Restarted below: the teardown stops the one running at the end.
        let running = Current(server)
        Teardown.add { await running.value.stop() }
        let relay = try SilentRelay(target: port)
        let files = [try await base.makeReplica("prestatyn", certificate: true, server: server),
                     try await base.makeReplica("rhyl", certificate: false, server: server)]
        // The practices reach the server through the relay, so the test can cut their line.
        for (file, credential) in zip(files, [["--certificate", "certs-prestatyn/prestatyn.pem", "--key", "certs-prestatyn/prestatyn-key.pem"],
                                             ["--token-file", "rhyl.token"]]) {
            let set = try await cli.run(["remote", "set", "--replica", file, "127.0.0.1:\(relay.port)", "--ca", "data/ca.pem"] + credential)
            #expect(set.status == 0, "\(set.stderr)")
        }
        let watchers = try files.map(startWatch)
        Teardown.add {
            for watcher in watchers where watcher.isRunning {
                watcher.signal(SIGTERM)
                await watcher.exited()
            }
        }
        var seconds: [String: Double] = [:]
        seconds["start"] = try await edit(files, andConverge: "start")

        await server.stop()
        server = try await Server.start(cli: cli, port: port)
        running.value = server
        seconds["after SIGTERM restart"] = try await edit(files, andConverge: "sigterm")

        server.process.signal(SIGKILL)
        await server.process.exited()
        server = try await Server.start(cli: cli, port: port)
        running.value = server
        seconds["after SIGKILL restart"] = try await edit(files, andConverge: "sigkill")

        relay.cut()
        seconds["after a silent cut"] = try await edit(files, andConverge: "cut")

        print("watch convergence, seconds: \(seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value))" })")
        for (file, watcher) in zip(files, watchers) {
            #expect(watcher.isRunning, "\(file) stopped watching: \(output("\(file).err"))")
            let errors = output("\(file).err")
            #expect(errors.contains("reconnecting"), "\(file): \(errors)")
            #expect(errors.contains("no pong"), "\(file) never noticed the cut: \(errors)")
            // A server stopped mid-handshake is reported as such and retried ("closed the
            // connection during the TLS handshake (it stopped or restarted)"); blaming the
            // certificates ("the TLS handshake with … failed …; check the CA file") ends a watch.
            #expect(!errors.contains("check the CA file"), "\(file) blamed the certificates: \(errors)")
        }
        // Every replica holds the server-stamped authors, its own changes included.
        let export = try #require(try await cli.run("export", "--replica", files[0]).json)
        guard case .array(let records) = export["records"] else { Issue.record("no records"); return }
        #expect(records.count == 8)
        let history = try #require(try await cli.run("history", "--replica", files[1], "--json",
                                               records[0]["id"]?.stringValue ?? "").json)
        #expect(history.canonicalText.contains("\"author\":\"prestatyn\"") || history.canonicalText.contains("\"author\":\"rhyl (laptop)\""),
                "\(history)")
        #expect(!history.canonicalText.contains("Manager, "), "an unstamped display name survived: \(history)")
    }

    /// A refusal reaches the practice with its wire code and exit status 1, not as "unreachable";
    /// a credential of another practice is named before anything is pushed.
    @Test func refusalsAndAWrongCredentialAreNamed() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await base.makeReplica("prestatyn", certificate: false, server: server)
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        _ = try await base.addRisk(prestatyn, "title=Estates lease")

        // Files that are not what they are given as are refused by `remote set`, by name, with
        // exit 1, and the remote set before stays (the CLI audit: any file was taken, and `sync`
        // then said "internal error", or that the token was revoked).
        let before = try await cli.run("remote", "show", "--replica", prestatyn).stdout
        for (arguments, named) in [(["--ca", "rhyl.token", "--token-file", "rhyl.token"], "holds no PEM certificate"),
                                   (["--ca", "data/ca.pem", "--token-file", "data/ca.pem"], "holds no ClusterSync token")] {
            let refused = try await cli.run(["remote", "set", "--replica", prestatyn, "127.0.0.1:\(server.port)"] + arguments)
            #expect(refused.status == 1 && refused.stderr.contains(named), "\(arguments): \(refused.stderr)")
        }
        #expect(try await cli.run("remote", "show", "--replica", prestatyn).stdout == before)

        try "cst_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            .write(to: base.dir.appendingPathComponent("bogus.token"), atomically: true, encoding: .utf8)
        #expect(try await cli.run("remote", "set", "--replica", prestatyn, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                            "--token-file", "bogus.token").status == 0)
        let unknown = try await cli.run("sync", "--replica", prestatyn)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("(unauthenticated)"), "\(unknown.stderr)")

        #expect(try await cli.run("remote", "set", "--replica", prestatyn, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                            "--token-file", "rhyl.token").status == 0)
        for arguments in [["sync"], ["sync", "--watch"] + Self.watchTiming] {
            let wrong = try await cli.run(arguments + ["--replica", prestatyn])
            #expect(wrong.status == 1, "\(arguments)")
            #expect(wrong.stderr.contains("the token in"), "\(wrong.stderr)")
            #expect(wrong.stderr.contains("is practice rhyl's (bcuhb/north-denbighshire); this replica is practice prestatyn's"), "\(wrong.stderr)")
        }
        #expect(try await cli.run("status", "--replica", prestatyn, "--json").json?["pending"]?.intValue ?? 0 > 0, "nothing was pushed")
        let pulled = try await base.sync(rhyl)
        #expect(pulled.stdout.contains("pulled 0"), "\(pulled.stdout)")
    }

    /// A watch's catch-up after a reconnection is a progress run of its own: one after a quiet
    /// while, with nothing to pull, prints no progress line (it printed "pulled 0: 0 changes/s,
    /// 10 s", timed from when the watch started).
    @Test func aReconnectedWatchPrintsNoProgressForAQuickCatchUp() async throws {
        var server = try await base.makeServer()
        let port = server.port
        let running = Current(server)
        Teardown.add { await running.value.stop() }
        let file = try await base.makeReplica("rhyl", certificate: false, server: server)
        // Progress every 3 s, and the server stopped 4 s in: a catch-up timed from the watch's
        // start would print, and a loaded machine's slow catch-up (over 1 s, seen) does not.
        let watch = try Self.startWatch(file, in: base.dir, timing: Self.watchTiming + ["--progress-every", "3"])
        Teardown.add { watch.signal(SIGTERM); _ = await watch.exited() }
        func watching(_ times: Int) async throws {
            let deadline = Date(timeIntervalSinceNow: 20)
            while output("\(file).out").components(separatedBy: "up to date").count - 1 < times, Date() < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(output("\(file).out").components(separatedBy: "up to date").count - 1 >= times, "\(output("\(file).out"))\n\(output("\(file).err"))")
        }
        try await watching(1)
        try await Task.sleep(for: .seconds(4))
        #expect(await server.stop() == 0)
        server = try await Server.start(cli: cli, port: port)
        running.value = server
        try await watching(2)
        let errors = output("\(file).err")
        #expect(errors.contains("reconnecting"), "\(errors)")
        #expect(!errors.contains("pulled 0"), "\(errors)")
    }
}
