import ClusterSyncCore
import Foundation
import Testing

/// Regions and credential roles through the real binaries: `clustersyncd region/cluster/credential`,
/// a server on loopback TLS, `openssl s_client` sessions and `clustersync sync`/`status`.
@Suite(.serialized, .teardown) struct RolesEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    func admin(_ arguments: String...) async throws -> CLI.Result {
        try await cli.run(arguments + ["--data", "data"], binary: "clustersyncd")
    }

    /// Issues a credential and returns the token it prints.
    func issue(_ arguments: String...) async throws -> String {
        let issued = try await cli.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb"] + arguments, binary: "clustersyncd")
        #expect(issued.status == 0, "\(arguments): \(issued.stderr)")
        return issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func line(_ message: WireMessage) -> String { String(WireCodec.encode(message).dropLast()) }

    /// bcuhb gets region conwy-denbighshire holding north-denbighshire (set on an existing cluster)
    /// and conwy-west (added in it); wrexham stays in none.
    func addRegions() async throws {
        #expect(try await admin("region", "add", "conwy-denbighshire", "--tenant", "bcuhb").status == 0)
        #expect(try await admin("region", "add", "cardiff", "--tenant", "cvuhb").status == 0)
        #expect(try await admin("cluster", "set-region", "--tenant", "bcuhb", "north-denbighshire", "conwy-denbighshire").status == 0)
        #expect(try await admin("cluster", "add", "--tenant", "bcuhb", "conwy-west", "--region", "conwy-denbighshire").status == 0)
    }

    @Test func regionsAndRolesAreAdministeredAndListed() async throws {
        let server = try await base.makeServer()
        _ = await server.stop()
        try await addRegions()
        let regions = try #require(try await admin("region", "list", "--tenant", "bcuhb", "--json").json)
        #expect(regions == .object(["regions": .array([.object([
            "tenant": .string("bcuhb"), "region": .string("conwy-denbighshire"),
            "clusters": .array([.string("conwy-west"), .string("north-denbighshire")]),
        ])])]))
        #expect(try await admin("cluster", "list", "--tenant", "bcuhb").stdout
            == "bcuhb/conwy-west  region conwy-denbighshire\nbcuhb/north-denbighshire  region conwy-denbighshire\nbcuhb/wrexham\n")
        // Another tenant's region is not this tenant's.
        let foreign = try await admin("cluster", "set-region", "--tenant", "bcuhb", "wrexham", "cardiff")
        #expect(foreign.status == 1 && foreign.stderr.contains("no region \"cardiff\" in tenant \"bcuhb\""), "\(foreign.stderr)")
        #expect(try await admin("cluster", "set-region", "--tenant", "bcuhb", "conwy-west", "--none").status == 0)
        guard case .array(let clusters) = try await admin("cluster", "list", "--tenant", "bcuhb", "--json").json?["clusters"] else {
            Issue.record("no clusters"); return
        }
        #expect(clusters.first?["cluster"] == .string("conwy-west") && clusters.first?["region"] == .null)

        _ = try await issue("--role", "pcpg", "--region", "conwy-denbighshire", "--label", "PCPG analyst")
        _ = try await issue("--role", "health-board")
        _ = try await issue("--cluster", "north-denbighshire", "--practice", "prestatyn", "--role", "cluster-lead")
        let listed = try #require(try await admin("credential", "list", "--tenant", "bcuhb", "--json").json?["credentials"])
        guard case .array(let rows) = listed else { Issue.record("\(listed)"); return }
        let byRole = Dictionary(rows.map { ($0["role"]?.stringValue ?? "?", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byRole["pcpg"]?["region"] == .string("conwy-denbighshire"))
        #expect(byRole["pcpg"]?["practice"] == .null && byRole["pcpg"]?["cluster"] == .null)
        #expect(byRole["health-board"]?["region"] == .null)
        #expect(byRole["cluster-lead"]?["practice"] == .string("prestatyn"))
        let table = try await admin("credential", "list", "--tenant", "bcuhb").stdout
        #expect(table.split(separator: "\n").contains { $0.contains("bcuhb region conwy-denbighshire") && $0.contains(" pcpg ") }, "\(table)")

        // What each role needs, said before anything is stored.
        for (arguments, says) in [
            (["--role", "pcpg"], "give --region"),
            (["--role", "pcpg", "--region", "conwy-denbighshire", "--cluster", "wrexham", "--practice", "wrexham-1"], "leave out --cluster and --practice"),
            (["--role", "health-board", "--region", "conwy-denbighshire"], "leave out --cluster, --practice and --region"),
            (["--role", "pcpg", "--region", "conwy-denbighshire", "--certificate", "--out", "x"], "leave out --certificate"),
            (["--role", "cluster-lead"], "give --cluster and --practice"),
            (["--role", "lead"], "--role must be one of practice, cluster-lead, pcpg, health-board"),
            (["--role", "pcpg", "--region", "cardiff"], "no region \"cardiff\" in tenant \"bcuhb\""),
        ] {
            let refused = try await cli.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb"] + arguments, binary: "clustersyncd")
            #expect(refused.status == 1 && refused.stderr.contains(says), "\(arguments): \(refused.stderr)")
        }
        let stored = try await admin("credential", "list", "--tenant", "bcuhb", "--json")
        guard case .array(let after) = stored.json?["credentials"] else { Issue.record("no credentials: \(stored.stdout) \(stored.stderr)"); return }
        #expect(after.count == 3, "nothing was stored for the refused issues")
    }

    /// A PCPG's and a Health Board's session over real TLS: welcomed with their role, every push
    /// refused with `forbidden-scope` naming the role and nothing stored, and pulls that bring
    /// no practice's or cluster's records (of their tenant or another).
    @Test func readOnlyRolesWriteNothingAndReadNoPracticeRecords() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        try await addRegions()
        let prestatyn = try await base.makeReplica("prestatyn", certificate: false, server: server)
        let risk = try await base.addRisk(prestatyn, "title=GP locum cover", "likelihood=3", "consequence=4")
        _ = try await base.sync(prestatyn)

        for (arguments, role) in [(["--role", "pcpg", "--region", "conwy-denbighshire"], "pcpg"), (["--role", "health-board"], "health-board")] {
            let token = try await cli.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb"] + arguments + ["--label", "analyst"],
                                    binary: "clustersyncd").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let session = try CredentialLifecycleTests.HeldSession(port: server.port, in: base.dir)
            // Closed at the end of the iteration (below), or when the test ends if it throws first.
            Teardown.add { await session.close() }
            session.send(line(.hello(Hello(replica: ReplicaID("00000000000000ac")!, token: token))))
            let welcome = try #require(await session.next())
            #expect(welcome["role"] == .string(role), "\(welcome)")
            #expect(welcome["region"] == (role == "pcpg" ? .string("conwy-denbighshire") : nil))
            let reach = role == "pcpg" ? "bcuhb/conwy-denbighshire" : "bcuhb"
            #expect(welcome["scopes"] == .array([.string("escalated:\(reach)"), .string("rollup:\(reach)")]), "\(welcome)")
            #expect(welcome["identity"]?["practice"] == nil, "\(welcome)")

            // Closing prestatyn's risk, as if the analyst could.
            let close = Change(id: ChangeID(replica: ReplicaID("00000000000000ac")!, counter: 1), hlc: HLCTimestamp(millis: Int64(Date().timeIntervalSince1970 * 1000)),
                               record: RecordID(risk)!, scope: RecordScope(tenant: "bcuhb", cluster: "north-denbighshire"),
                               field: "status", value: .string("closed"))
            session.send(line(.push(Push(batch: "ac-1", changes: [close]))))
            let refusal = try #require(await session.next())
            #expect(refusal["code"] == .string("forbidden-scope") && refusal["batch"] == .string("ac-1"), "\(refusal)")
            #expect(refusal["message"]?.stringValue?.hasPrefix("a \(role) credential is read-only") == true, "\(refusal)")
            session.send(line(.pull(Pull(cursor: nil))))
            let page = try #require(await session.next())
            #expect(page["type"] == .string("changes") && page["changes"] == .array([]), "\(page)")
            session.send(line(.bye))
            await session.close()
        }
        // Nothing was stored: prestatyn's replica pulls nothing new and the risk is open.
        #expect(try await base.sync(prestatyn).stdout.contains("pulled 0"))
        #expect(try await cli.run("show", "--replica", prestatyn, "--json", risk).json?["fields"]?["status"] == .string("open"))
    }

    /// A cluster lead's token: the replica keeps the role of its last welcome, and `status` says so.
    @Test func theReplicaKeepsTheRoleOfItsLastWelcome() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        #expect(try await cli.run("status", "--replica", rhyl, "--json").json?["role"] == .string("practice"))
        let lead = try await issue("--cluster", "north-denbighshire", "--practice", "rhyl", "--role", "cluster-lead", "--label", "Dr Jones")
        try lead.write(to: base.dir.appendingPathComponent("lead.token"), atomically: true, encoding: .utf8)
        #expect(try await cli.run("remote", "set", "--replica", rhyl, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                            "--token-file", "lead.token").status == 0)
        _ = try await base.sync(rhyl)
        #expect(try await cli.run("status", "--replica", rhyl, "--json").json?["role"] == .string("cluster-lead"))
        #expect(try await cli.run("status", "--replica", rhyl).stdout.contains("role      cluster-lead (as the server said at the last sync)"))

        // A pcpg token on a practice's replica: refused before anything is pushed.
        let pcpg = try await { () async throws -> String in
            _ = try await admin("region", "add", "conwy-denbighshire", "--tenant", "bcuhb")
            return try await issue("--role", "pcpg", "--region", "conwy-denbighshire")
        }()
        try pcpg.write(to: base.dir.appendingPathComponent("pcpg.token"), atomically: true, encoding: .utf8)
        #expect(try await cli.run("remote", "set", "--replica", rhyl, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                            "--token-file", "pcpg.token").status == 0)
        let refused = try await cli.run("sync", "--replica", rhyl)
        #expect(refused.status == 1 && refused.stderr.contains("is a pcpg credential of bcuhb region conwy-denbighshire"), "\(refused.stderr)")
    }

    // MARK: The cluster lead's powers

    func useToken(_ token: String, for replica: String, server: Server) async throws {
        let file = "\(replica)-\(UUID().uuidString.prefix(8)).token"
        try token.write(to: base.dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
        #expect(try await cli.run("remote", "set", "--replica", replica, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                            "--token-file", file).status == 0)
    }

    func pending(_ replica: String) async throws -> JSONValue? {
        try await cli.run("status", "--replica", replica, "--json").json?["pending"]
    }

    /// A practice's replica refuses closing, escalating and deleting a shared risk at once, with
    /// a message saying what to do, and queues nothing; a private risk is its own.
    @Test func aLeadOnlyEditIsRefusedOnTheReplicaAndNothingWaitsInTheOutbox() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        _ = try await base.sync(rhyl)
        let risk = try await base.addRisk(rhyl, "title=GP locum cover", "likelihood=3", "consequence=4")
        let before = try await pending(rhyl)
        for arguments in [["risk", "set", risk, "status=closed"], ["risk", "set", risk, "escalation=pcpg"], ["risk", "delete", risk]] {
            let refused = try await cli.run(arguments + ["--replica", rhyl])
            #expect(refused.status == 1, "\(arguments): \(refused.stdout)")
            #expect(refused.stderr.contains("needs the cluster lead"), "\(refused.stderr)")
            #expect(refused.stderr.contains("ask your cluster lead, or sync with a cluster-lead credential"), "\(refused.stderr)")
            // The commands are the CLI's own words, after the library's.
            #expect(refused.stderr.contains("Nothing was changed. To sync with one: `clustersync remote set`, then `clustersync sync`."),
                    "\(refused.stderr)")
        }
        #expect(try await pending(rhyl) == before, "nothing waits in the outbox")
        #expect(try await cli.run("show", "--replica", rhyl, "--json", risk).json?["fields"]?["status"] == .string("open"))
        let own = try await base.addRisk(rhyl, "--private", "title=Our lease")
        #expect(try await cli.run("risk", "set", "--replica", rhyl, own, "status=closed").status == 0, "a private risk is the practice's own")
    }

    /// The server enforces the same rule on a hand-made push over real TLS: a practice's token
    /// closing a shared risk gets `lead-only` and nothing is stored; a cluster lead's token may.
    @Test func theServerRefusesALeadOnlyPushFromAPracticeCredential() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await base.makeReplica("prestatyn", certificate: false, server: server)
        let risk = try await base.addRisk(prestatyn, "title=GP locum cover")
        _ = try await base.sync(prestatyn)
        let practice = try await issue("--cluster", "north-denbighshire", "--practice", "rhyl", "--label", "laptop")
        let lead = try await issue("--cluster", "north-denbighshire", "--practice", "rhyl", "--role", "cluster-lead", "--label", "Dr Jones")
        for (token, counter, accepted) in [(practice, Int64(1), false), (lead, Int64(2), true)] {
            let session = try CredentialLifecycleTests.HeldSession(port: server.port, in: base.dir)
            // Closed at the end of the iteration (below), or when the test ends if it throws first.
            Teardown.add { await session.close() }
            let replica = ReplicaID("00000000000000ad")!
            let key = BadInputTests.key(of: replica)
            session.send(line(.hello(Hello(replica: replica, token: token, key: key.publicKey))))
            #expect(await session.next()?["type"] == .string("welcome"))
            let close = ChangeSignature.signed(
                Change(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: Int64(Date().timeIntervalSince1970 * 1000)),
                       record: RecordID(risk)!, scope: RecordScope(tenant: "bcuhb", cluster: "north-denbighshire"),
                       field: "status", value: .string("closed")),
                with: key)
            session.send(line(.push(Push(batch: "ad-\(counter)", changes: [close]))))
            let answer = try #require(await session.next())
            if accepted {
                #expect(answer["type"] == .string("ack") && answer["accepted"] == .int(1), "\(answer)")
            } else {
                #expect(answer["code"] == .string("lead-only") && answer["change"] == .string(close.id.description), "\(answer)")
                #expect(answer["message"]?.stringValue?.contains("needs a cluster-lead credential") == true, "\(answer)")
                _ = try await base.sync(prestatyn)
                #expect(try await cli.run("show", "--replica", prestatyn, "--json", risk).json?["fields"]?["status"] == .string("open"),
                        "nothing was stored")
            }
            session.send(line(.bye))
            await session.close()
        }
        _ = try await base.sync(prestatyn)
        #expect(try await cli.run("show", "--replica", prestatyn, "--json", risk).json?["fields"]?["status"] == .string("closed"))
    }

    /// The CLI audit's case, through the real binaries: Rhyl's edit over a conflict it merged
    /// is held back for the lead, the lead settles the conflict meanwhile, and Rhyl's replica
    /// shows its own value against the lead's. Rhyl gives way (keeps the lead's value), which
    /// needs no lead: the conflict clears everywhere, the held-back edit stops waiting, and
    /// the field is Rhyl's to edit again.
    @Test func aPracticeWhoseEditWasHeldBackGivesWayToTheLeadsSettlement() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await base.makeReplica("prestatyn", certificate: false, server: server)
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        try await useToken(try await issue("--cluster", "north-denbighshire", "--practice", "prestatyn", "--role", "cluster-lead"),
                           for: prestatyn, server: server)
        let risk = try await base.addRisk(prestatyn, "title=GP locum cover")
        _ = try await base.sync(prestatyn)
        _ = try await base.sync(rhyl)
        #expect(try await cli.run("risk", "set", "--replica", prestatyn, risk, "effect=Clinics cancelled").status == 0)
        #expect(try await cli.run("risk", "set", "--replica", rhyl, risk, "effect=Longer waits").status == 0)
        #expect(try await cli.run("merge", "--replica", rhyl, "--from", prestatyn).status == 0)
        #expect(try await cli.run("risk", "set", "--replica", rhyl, risk, "effect=Rhyl's wording").status == 0)
        #expect(try await base.sync(rhyl).stdout.contains("held back 1 change that needs the cluster lead"))
        #expect(try await cli.run("conflicts", "resolve", "--replica", prestatyn, risk, "effect", "--value", "Clinics cancelled, waits longer").status == 0)
        _ = try await base.sync(prestatyn)
        _ = try await base.sync(rhyl)
        let stuck = try await cli.run("conflicts", "show", "--replica", rhyl, risk)
        #expect(stuck.stdout.contains("Rhyl's wording") && stuck.stdout.contains("Clinics cancelled, waits longer"), "\(stuck.stdout)")
        let kept = try await cli.run("conflicts", "resolve", "--replica", rhyl, risk, "effect", "--keep", "prestatyn")
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(try await cli.run("status", "--replica", rhyl, "--json").json?["heldBack"] == .array([]), "the held-back edit waits on nobody now")
        #expect(try await base.sync(rhyl).status == 0)
        _ = try await base.sync(prestatyn)
        for replica in [rhyl, prestatyn] {
            let shown = try #require(try await cli.run("show", "--replica", replica, "--json", risk).json)
            #expect(shown["conflicts"] == .array([]) && shown["fields"]?["effect"] == .string("Clinics cancelled, waits longer"), "\(replica): \(shown)")
        }
        #expect(try await cli.run("risk", "set", "--replica", rhyl, risk, "effect=Clinics cancelled; waits up to 3 weeks").status == 0,
                "the two agreeing values are one value to edit")
        #expect(try await base.sync(rhyl).stdout.contains("pushed 1 change"))
    }

    /// A lead closes a risk, then the laptop is given a practice's token before it syncs: the
    /// server refuses the closure, the replica holds it back and syncs the rest; back on the
    /// lead's token, it goes by itself.
    @Test func aChangeQueuedBeforeTheRoleWasLostIsHeldBackUntilALeadSyncs() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await base.makeReplica("prestatyn", certificate: false, server: server)
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        let lead = try await issue("--cluster", "north-denbighshire", "--practice", "rhyl", "--role", "cluster-lead")
        let practice = try await issue("--cluster", "north-denbighshire", "--practice", "rhyl")
        try await useToken(lead, for: rhyl, server: server)
        let risk = try await base.addRisk(rhyl, "title=GP locum cover")
        _ = try await base.sync(rhyl)
        #expect(try await cli.run("risk", "set", "--replica", rhyl, risk, "status=closed").status == 0)
        #expect(try await cli.run("risk", "set", "--replica", rhyl, risk, "owner=Practice manager").status == 0)

        try await useToken(practice, for: rhyl, server: server)
        let held = try await base.sync(rhyl)
        #expect(held.stdout.contains("held back 1 change that needs the cluster lead"), "\(held.stdout)")
        let status = try #require(try await cli.run("status", "--replica", rhyl, "--json").json)
        #expect(status["pending"] == .int(0) && status["role"] == .string("practice"))
        guard case .array(let heldBack) = status["heldBack"] else { Issue.record("\(status)"); return }
        #expect(heldBack.count == 1 && heldBack.first?["code"] == .string("lead-only"), "\(heldBack)")
        _ = try await base.sync(prestatyn)
        let seen = try #require(try await cli.run("show", "--replica", prestatyn, "--json", risk).json?["fields"])
        #expect(seen["owner"] == .string("Practice manager"), "the rest synced")
        #expect(seen["status"] == .string("open"), "the closure did not")

        try await useToken(lead, for: rhyl, server: server)
        #expect(try await base.sync(rhyl).stdout.contains("pushed 1 change"))
        #expect(try await cli.run("status", "--replica", rhyl, "--json").json?["heldBack"] == .array([]))
        _ = try await base.sync(prestatyn)
        #expect(try await cli.run("show", "--replica", prestatyn, "--json", risk).json?["fields"]?["status"] == .string("closed"))
    }
}
