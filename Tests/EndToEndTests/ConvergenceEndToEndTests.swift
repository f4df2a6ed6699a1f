import ClusterSyncCore
import Foundation
import Testing

/// The convergence property through the real server and binaries: four replicas of one cluster
/// (two watching, one syncing now and then and sometimes killed mid-sync, one a second replica
/// of a practice that also hands changes over by `merge`) make random edits from a seed; once
/// everyone has synced, every replica exports the same bytes. `CLUSTERSYNC_SEED` replays a run.
@Suite(.serialized, .teardown) struct ConvergenceEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    @Test func seededEditsThroughTheServerEndInIdenticalExports() async throws {
        let seed = ProcessInfo.processInfo.environment["CLUSTERSYNC_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...999_999)
        print("convergence through the server: seed \(seed) (CLUSTERSYNC_SEED=\(seed) replays it)")
        var rng = SplitMix64(seed: seed)
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let added = try await cli.run(["practice", "add", "--data", "data", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "denbigh"],
                                binary: "clustersyncd")
        #expect(added.status == 0, "\(added.stderr)")
        // Every credential is a cluster lead's: the random edits close, delete and settle
        // conflicts, which a practice's would hold back (LeadPowers), and convergence is the point.
        let prestatyn = try await base.makeReplica("prestatyn", certificate: true, role: "cluster-lead", server: server)
        let rhyl = try await base.makeReplica("rhyl", certificate: false, role: "cluster-lead", server: server)
        let denbigh = try await base.makeReplica("denbigh", certificate: true, role: "cluster-lead", server: server)
        // A second replica of Denbigh, on a laptop with its own token.
        let laptop = "laptop.sqlite"
        #expect(try await cli.run("init", "--replica", laptop, "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "denbigh",
                            "--name", "Laptop, denbigh").status == 0)
        let token = try await cli.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                 "--practice", "denbigh", "--role", "cluster-lead", "--label", "laptop"], binary: "clustersyncd")
        try token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            .write(to: base.dir.appendingPathComponent("laptop.token"), atomically: true, encoding: .utf8)
        #expect(try await cli.run("remote", "set", "--replica", laptop, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                            "--token-file", "laptop.token").status == 0)
        let files = [prestatyn, rhyl, denbigh, laptop]

        let watchers = try [prestatyn, rhyl].map { try WatchEndToEndTests.startWatch($0, in: base.dir) }
        Teardown.add {
            for watcher in watchers where watcher.isRunning {
                watcher.signal(SIGTERM)
                await watcher.exited()
            }
        }

        var risks: [String] = []
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
        for step in 0..<36 {
            let file = pick(files)
            switch rng.next() % 10 {
            case 0...5:
                if risks.isEmpty || rng.next() % 5 == 0 {
                    let add = try await cli.run("risk", "add", "--replica", file, "title=Risk \(step)", "owner=\(pick(["Lead", "Manager"]))")
                    if add.status == 0 { risks.append(add.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) }
                } else {
                    // Small value sets, so concurrent writes often agree (no conflict) and sometimes not.
                    let edit = pick([["set", "title=Title \(rng.next() % 3)"], ["set", "owner=\(pick(["Lead", "Manager", "GP"]))"],
                                     ["set", "status=\(pick(["open", "closed"]))"], ["set", "tags+=\(pick(["winter", "estates"]))"],
                                     ["set", "tags-=winter"], ["delete"], ["restore"]])
                    // Fails harmlessly when this replica has not seen the risk yet, or it is deleted.
                    _ = try await cli.run(["risk", edit[0], "--replica", file, pick(risks)] + edit.dropFirst())
                }
            case 6, 7:
                let syncing = pick([denbigh, laptop])
                if rng.next() % 3 == 0 {
                    let process = try await cli.start(["sync", "--replica", syncing])
                    try await Task.sleep(for: .microseconds(rng.next() % 300_000))
                    process.signal(SIGKILL)
                    await process.exited()
                } else {
                    _ = try await cli.run("sync", "--replica", syncing)
                }
            case 8:
                let other = pick([prestatyn, rhyl, denbigh])
                let merged = try await cli.run("merge", "--replica", laptop, "--from", other)
                #expect(merged.status == 0, "\(merged.stderr)")
            default:
                try await Task.sleep(for: .milliseconds(200))
            }
        }

        // Everyone syncs until every replica exports the same bytes and has nothing left to push
        // (with a deadline). Exports can agree a round early: changes Denbigh merged from the
        // laptop wait in its outbox until the laptop has synced once (a relay), and it syncs after.
        let deadline = Date(timeIntervalSinceNow: 60)
        var exports: [String] = []
        while Date() < deadline {
            for file in [denbigh, laptop] { _ = try await cli.run("sync", "--replica", file) }
            exports = try await files.asyncMap { try await cli.run("export", "--replica", $0).stdout }
            let pending = try await files.asyncMap { try await cli.run("status", "--replica", $0, "--json").json?["pending"] }
            if Set(exports).count == 1, pending.allSatisfy({ $0 == .int(0) }) { break }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(Set(exports).count == 1, "seed \(seed): replicas differ\n\(zip(files, exports).map { "\($0): \($1)" }.joined(separator: "\n"))")
        // Records, whatever their titles (random edits may retitle every "Risk n").
        let made = (try? JSONValue(parsing: exports.first ?? ""))?["records"]
        #expect(made.map { if case .array(let records) = $0 { !records.isEmpty } else { false } } == true, "seed \(seed): nothing was made")
        for file in files {
            #expect(try await cli.run("status", "--replica", file, "--json").json?["pending"] == .int(0), "seed \(seed): \(file) has changes pending")
        }
        for (file, watcher) in zip([prestatyn, rhyl], watchers) {
            let errors = (try? String(contentsOf: base.dir.appendingPathComponent("\(file).err"), encoding: .utf8)) ?? ""
            #expect(watcher.isRunning, "seed \(seed): the watch of \(file) stopped: \(errors)")
        }
    }
}
