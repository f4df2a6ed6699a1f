import ClusterSyncCore
import Foundation
import Testing

/// A lost laptop through the real binaries: `clustersyncd replica list|retire`, a
/// `clustersync` replica whose file went astray, and the practice that merged a file made on it.
@Suite(.serialized, .teardown) struct ReplicaRetirementEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    func admin(_ arguments: String...) async throws -> CLI.Result {
        try await cli.run(arguments + ["--data", "data"], binary: "clustersyncd")
    }

    /// How many changes of `record` on `file` the replica `maker` made (a new risk is several).
    func madeBy(_ maker: String, _ record: String, on file: String) async throws -> Int {
        let history = try #require(try await cli.run("history", "--replica", file, "--json", record).json)
        guard case .array(let entries) = history["history"] else { return 0 }
        return entries.count { $0["replica"] == .string(maker) }
    }

    @Test func aRetiredLaptopSyncsNoMoreAndWhatItSignsReachesNoOne() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        let prestatyn = try await base.makeReplica("prestatyn", certificate: true, server: server)
        let lease = try await base.addRisk(rhyl, "title=Estates lease")
        _ = try await base.sync(rhyl)
        _ = try await base.sync(prestatyn)
        let lost = try await cli.run("status", "--replica", rhyl, "--json").json?["replica"]?.stringValue ?? ""

        // The administrator finds the laptop's replica by its practice and person, and retires it.
        let listed = try await admin("replica", "list", "--tenant", "bcuhb", "--json")
        guard case .array(let replicas) = listed.json?["replicas"] else { Issue.record("\(listed.stdout)\(listed.stderr)"); return }
        let entry = try #require(replicas.first { $0["replica"] == .string(lost) })
        #expect(entry["practice"] == .string("rhyl") && entry["person"] == .string("laptop") && entry["retired"] == .null, "\(entry)")
        #expect(entry["changesStored"]?.intValue ?? 0 > 0, "\(entry)")
        let retire = try await admin("replica", "retire", lost, "--tenant", "bcuhb")
        #expect(retire.status == 0 && retire.stdout.contains("retired replica \(lost) of bcuhb/north-denbighshire/rhyl (laptop)"), "\(retire.stdout)\(retire.stderr)")
        #expect(try await admin("replica", "retire", lost, "--tenant", "bcuhb").stdout.contains("was already retired"))
        #expect(try await admin("replica", "list", "--tenant", "bcuhb").stdout.contains(lost))

        // Whoever has the file edits in its name (a shared risk, and a new one) and hands it to
        // prestatyn, whose next sync pushes its own edit and holds the lost laptop's back.
        #expect(try await cli.run("risk", "set", "--replica", rhyl, lease, "title=Close the branch surgery").status == 0)
        let forged = try await base.addRisk(rhyl, "title=Sell the practice car park")
        #expect(try await cli.run("merge", "--replica", prestatyn, "--from", rhyl).status == 0)
        let own = try await base.addRisk(prestatyn, "title=Flu clinic staffing")
        let synced = try await base.sync(prestatyn)
        let forgedChanges = try await madeBy(lost, forged, on: prestatyn)
        #expect(synced.stdout.contains("held back \(forgedChanges + 1) change"), "\(synced.stdout)")
        let status = try #require(try await cli.run("status", "--replica", prestatyn, "--json").json)
        guard case .array(let held) = status["heldBack"] else { Issue.record("no heldBack in \(status)"); return }
        #expect(held.count == forgedChanges + 1 && held.allSatisfy { $0["code"] == .string("replica-retired") }, "\(held)")

        // The file itself is refused at its hello, with what to do.
        let refused = try await cli.run("sync", "--replica", rhyl)
        #expect(refused.status != 0 && refused.stderr.contains("replica-retired") && refused.stderr.contains("clustersync init"), "\(refused.stderr)")
        // So is a hello naming it without its key (a client from before signing).
        let keyless = try CredentialLifecycleTests.HeldSession(port: server.port, in: base.dir)
        let token = try String(contentsOf: base.dir.appendingPathComponent("rhyl.token"), encoding: .utf8)
        keyless.send(String(WireCodec.encode(.hello(Hello(replica: try #require(ReplicaID(lost)), token: token))).dropLast()))
        let answer = try #require(await keyless.next())
        #expect(answer["type"] == .string("error") && answer["code"] == .string("replica-retired") && answer["fatal"] == .bool(true), "\(answer)")
        await keyless.close()

        // Prestatyn writes over the retitled risk: the server will never take the change it
        // supersedes, so the edit goes, and the one it wrote over is no longer listed.
        #expect(try await cli.run("risk", "set", "--replica", prestatyn, lease, "title=Estates lease renewal").status == 0)
        let over = try await base.sync(prestatyn)
        #expect(over.stdout.contains("pushed 1 change") && !over.stdout.contains("held back"), "\(over.stdout)")
        let after = try #require(try await cli.run("status", "--replica", prestatyn, "--json").json)
        guard case .array(let stillHeld) = after["heldBack"] else { Issue.record("no heldBack in \(after)"); return }
        #expect(stillHeld.count == forgedChanges && stillHeld.allSatisfy { $0["record"] == .string(forged) }, "\(stillHeld)")

        // A new replica of the cluster receives prestatyn's edits and none of the forged ones.
        let fresh = "rhyl-new.sqlite"
        #expect(try await cli.run("init", "--replica", fresh, "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "rhyl",
                                  "--name", "Manager, rhyl").status == 0)
        #expect(try await cli.run("remote", "set", "--replica", fresh, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                                  "--token-file", "rhyl.token").status == 0)
        _ = try await base.sync(fresh)
        #expect(try await cli.run("risk", "show", "--replica", fresh, own).status == 0)
        #expect(try await cli.run("risk", "show", "--replica", fresh, forged).status != 0)
        let shown = try await cli.run("show", "--replica", fresh, "--json", lease).json
        #expect(shown?["fields"]?["title"] == .string("Estates lease renewal"), "\(String(describing: shown))")
        // With no conflict left behind: the edit replaced what the lost file's retitling had
        // replaced, which the server holds, so the server's copies agree with prestatyn's.
        for file in [fresh, prestatyn] {
            #expect(try await cli.run("status", "--replica", file, "--json").json?["conflicts"] == .int(0), "\(file)")
        }
        let exports = try await [fresh, prestatyn].asyncMap { try await cli.run("export", "--replica", $0, "--type", "risk", "--format", "csv").stdout }
        #expect(exports[0].contains("Estates lease renewal") && !exports[0].contains("Close the branch surgery"), "\(exports[0])")

        // An id the tenant named does not hold is said to be so.
        let unknown = try await admin("replica", "retire", lost, "--tenant", "cvuhb")
        #expect(unknown.status != 0 && unknown.stderr.contains("no replica \(lost) is registered in cvuhb"), "\(unknown.stderr)")
    }
}
