import ClusterSyncCore
import Foundation
import Testing

/// PCPG and Health Board replicas through the real binaries (issue 10 item 7): a server on
/// loopback TLS with two regions of bcuhb holding three clusters (and cvuhb beside them),
/// practices' replicas that make risks and actions, and read-only replicas made with
/// `clustersync init --role` that sync like a practice's.
@Suite(.serialized, .teardown) struct OversightEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    func admin(_ arguments: String...) async throws {
        let result = try await cli.run(arguments + ["--data", "data"], binary: "clustersyncd")
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
    }

    func ok(_ arguments: String...) async throws -> String {
        let result = try await cli.run(arguments)
        #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A read-only replica for `role` (and region), with its own token.
    func readOnlyReplica(_ file: String, tenant: String = "bcuhb", role: String, region: String?, server: Server) async throws -> String {
        let regionArguments = region.map { ["--region", $0] } ?? []
        let token = try await cli.run(["credential", "issue", "--data", "data", "--tenant", tenant, "--role", role, "--label", "analyst"]
                                + regionArguments, binary: "clustersyncd")
        #expect(token.status == 0, "\(token.stderr)")
        try token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            .write(to: base.dir.appendingPathComponent("\(file).token"), atomically: true, encoding: .utf8)
        let made = try await cli.run(["init", "--replica", file, "--tenant", tenant, "--role", role, "--name", "Analyst"] + regionArguments)
        #expect(made.status == 0, "\(made.stderr)")
        _ = try await ok("remote", "set", "--replica", file, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem", "--token-file", "\(file).token")
        return file
    }

    /// Prestatyn's replica, synced once with a cluster lead's token: escalating beyond the
    /// cluster is the lead's.
    func leadReplica(server: Server) async throws -> String {
        let prestatyn = try await base.makeReplica("prestatyn", certificate: false, server: server)
        let lead = try await cli.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                "--practice", "prestatyn", "--role", "cluster-lead", "--label", "lead"], binary: "clustersyncd")
        try lead.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            .write(to: base.dir.appendingPathComponent("lead.token"), atomically: true, encoding: .utf8)
        _ = try await ok("remote", "set", "--replica", prestatyn, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem", "--token-file", "lead.token")
        _ = try await base.sync(prestatyn)
        return prestatyn
    }

    func rollup(_ file: String) async throws -> JSONValue {
        try #require(try await cli.run("rollup", "--replica", file, "--json").json)
    }

    func riskIDs(_ file: String) async throws -> [String] {
        guard case .array(let records) = try await cli.run("risk", "list", "--replica", file, "--json").json?["records"] else { return [] }
        return records.compactMap { $0["id"]?.stringValue }.sorted()
    }

    @Test func pcpgAndHealthBoardSeeTheirCountsAndEscalatedRisksOnly() async throws {
        // Pages of 3 changes: the escalated risk and its action come to the read-only replicas
        // over several pages (PROTOCOL.md §7.1), as a long history would.
        let server = try await base.makeServer(environment: ["CLUSTERSYNCD_LIMITS_MAX_CHANGES_PER_PAGE": "3"])
        Teardown.add { await server.stop() }
        // Regions: north (north-denbighshire) and east (wrexham, flint); cvuhb's cardiff (cardiff-north).
        try await admin("region", "add", "north", "--tenant", "bcuhb")
        try await admin("region", "add", "east", "--tenant", "bcuhb")
        try await admin("region", "add", "cardiff", "--tenant", "cvuhb")
        try await admin("cluster", "set-region", "--tenant", "bcuhb", "north-denbighshire", "north")
        try await admin("cluster", "set-region", "--tenant", "bcuhb", "wrexham", "east")
        try await admin("cluster", "add", "--tenant", "bcuhb", "flint", "--region", "east")
        try await admin("cluster", "set-region", "--tenant", "cvuhb", "cardiff-north", "cardiff")
        try await admin("practice", "add", "--tenant", "bcuhb", "--cluster", "flint", "mold")
        // A community pharmacy of flint's: counted by kind, and owing no GP Collaborative
        // attendance (CND014W) nor a contribution to the plan. A kind nobody knows is refused,
        // naming the kinds; a practice registered as a GP one can be said to be another kind.
        let chemist = try await cli.run(["practice", "add", "--data", "data", "--tenant", "bcuhb", "--cluster", "flint", "--kind", "chemist",
                                         "boots-mold"], binary: "clustersyncd")
        #expect(chemist.status != 0 && chemist.stderr.contains("one of gp, pharmacy, dental"), "\(chemist.stderr)")
        try await admin("practice", "add", "--tenant", "bcuhb", "--cluster", "flint", "boots-mold")
        try await admin("practice", "set-kind", "--tenant", "bcuhb", "--cluster", "flint", "boots-mold", "pharmacy")
        let unknown = try await cli.run(["practice", "set-kind", "--data", "data", "--tenant", "bcuhb", "--cluster", "flint", "buckley", "dental"],
                                        binary: "clustersyncd")
        #expect(unknown.status != 0 && unknown.stderr.contains("no practice bcuhb/flint/buckley"), "\(unknown.stderr)")
        let listed = try await cli.run(["practice", "list", "--data", "data", "--tenant", "bcuhb"], binary: "clustersyncd")
        #expect(listed.stdout.contains("bcuhb/flint/boots-mold pharmacy\nbcuhb/flint/mold gp\n"), "\(listed.stdout)")

        let prestatyn = try await leadReplica(server: server)
        let wrexham = try await base.makeReplica("wrexham-1", cluster: "wrexham", certificate: false, server: server)
        let mold = try await base.makeReplica("mold", cluster: "flint", certificate: false, server: server)
        let llanishen = try await base.makeReplica("llanishen", cluster: "cardiff-north", tenant: "cvuhb", certificate: false, server: server)

        // Each practice's registers: risks of several bands and statuses, actions, one overdue.
        var rng = SplitMix64(seed: 101_130)
        for (replica, count) in [(prestatyn, 5), (wrexham, 7), (mold, 4), (llanishen, 3)] {
            for i in 0..<count {
                let risk = try await base.addRisk(replica, "title=Risk \(i)", "likelihood=\(Int.random(in: 1...5, using: &rng))",
                                            "consequence=\(Int.random(in: 1...5, using: &rng))",
                                            "review_date=\(RollupEndToEndTests.day(Int.random(in: -20...20, using: &rng)))")
                if i % 3 == 0 {
                    _ = try await ok("action", "add", "--replica", replica, "title=Action \(i)", "due_date=\(RollupEndToEndTests.day(i - 2))", "source=\(risk)")
                }
            }
        }
        // Prestatyn escalates one risk to the PCPG, with a linked action; and keeps a private risk
        // that must count nowhere and reach nobody (its replica refuses to escalate it: nobody
        // beyond the practice would see it; a store's roll-up leaves one out even escalated,
        // OversightStoreTests).
        let escalated = try await base.addRisk(prestatyn, "title=GP locum cover across the county", "likelihood=5", "consequence=4", "escalation=pcpg")
        let action = try await ok("action", "add", "--replica", prestatyn, "title=Agree a county locum pool", "due_date=\(RollupEndToEndTests.day(30))",
                            "source=\(escalated)")
        _ = try await ok("risk", "set", "--replica", prestatyn, escalated, "linked_actions+=\(action)")
        let privateRisk = try await ok("risk", "add", "--replica", prestatyn, "--private", "title=Partner retiring", "likelihood=5", "consequence=5")
        let escalatingPrivate = try await cli.run("risk", "set", "--replica", prestatyn, privateRisk, "escalation=pcpg")
        #expect(escalatingPrivate.status != 0 && escalatingPrivate.stderr.contains("private to prestatyn"), "\(escalatingPrivate.stderr)")
        for replica in [prestatyn, wrexham, mold, llanishen] { _ = try await base.sync(replica) }

        let east = try await readOnlyReplica("pcpg-east.sqlite", role: "pcpg", region: "east", server: server)
        let north = try await readOnlyReplica("pcpg-north.sqlite", role: "pcpg", region: "north", server: server)
        let board = try await readOnlyReplica("board.sqlite", role: "health-board", region: nil, server: server)
        let foreign = try await readOnlyReplica("pcpg-cardiff.sqlite", tenant: "cvuhb", role: "pcpg", region: "cardiff", server: server)
        for replica in [east, north, board, foreign] { _ = try await base.sync(replica) }

        // The PCPG of east sees exactly its two clusters, with the counts the practices' own
        // replicas compute from their records.
        let eastRollup = try await rollup(east)
        let own = try await [mold, wrexham].asyncMap { try await rollup($0)["clusters"] }
        #expect(eastRollup["region"] == .string("east"))
        // What only the server knows: its registered practices that the attendance leaves out
        // (here every one: no GP Collaborative terms or meetings were recorded).
        #expect(eastRollup["attendance"]?["registered_not_listed"]?.canonicalText
                == "[{\"cluster\":\"flint\",\"practice\":\"mold\"},{\"cluster\":\"wrexham\",\"practice\":\"wrexham-1\"}]")
        #expect(eastRollup["practices_by_kind"]?["gp"] == .int(2) && eastRollup["practices_by_kind"]?["pharmacy"] == .int(1), "\(eastRollup)")
        #expect(try await ok("rollup", "--replica", east).contains("Registered practices: 2 GP, 1 pharmacy"))
        #expect(Self.withoutServerOnly(eastRollup["clusters"])
                == .array(own.compactMap { if case .array(let c) = $0 { c.first } else { nil } }), "\(eastRollup)")
        #expect(try await riskIDs(east) == [], "nothing of east is escalated")

        // The PCPG of north: the counts prestatyn's replica computes (its private risk in none),
        // and the escalated risk and its action in full.
        let northRollup = try await rollup(north)
        // One cluster: no table of clusters, so the heading names it.
        #expect(try await ok("rollup", "--replica", north).hasPrefix("Roll-up of region north: north-denbighshire (bcuhb)"))
        #expect(Self.withoutServerOnly(northRollup["clusters"]) == (try await rollup(prestatyn))["clusters"])
        #expect(northRollup["risks"]?["total"] == .int(6) && northRollup["risks"]?["escalation"]?["pcpg"] == .int(1), "\(northRollup)")
        #expect(try await riskIDs(north) == [escalated])
        let shown = try #require(try await cli.run("risk", "show", "--replica", north, escalated, "--json").json)
        #expect(shown["fields"]?["title"] == .string("GP locum cover across the county"))
        #expect(shown["fields"]?["linked_actions"] == .array([.string(action)]))
        // Since when, as the PCPG reads it: escalated today.
        #expect(shown["derived"]?["escalated_days"] == .int(0) && shown["derived"]?["escalated_on"]?.stringValue?.count == 10, "\(shown)")
        #expect(try await ok("risk", "show", "--replica", north, escalated).contains("escalated to pcpg on "))
        #expect(try await cli.run("show", "--replica", north, action).status == 0)
        #expect(try await cli.run("show", "--replica", north, privateRisk).status == 1)

        // Every write of a read-only replica is refused and changes nothing.
        for arguments in [["risk", "add", "--replica", north, "title=From the PCPG"],
                          ["risk", "set", "--replica", north, escalated, "status=closed"],
                          ["merge", "--replica", north, "--from", prestatyn],
                          // Said as for every other write, not as a lead power its credential lacks.
                          ["redact", "--replica", north, escalated, "title", "1@00000000000000aa", "--reason", "test"]] {
            let refused = try await cli.run(arguments)
            #expect(refused.status == 1 && refused.stderr.contains("pcpg replica"), "\(arguments): \(refused.stderr)")
        }
        #expect(try await cli.run("status", "--replica", north, "--json").json?["pending"] == .int(0))
        #expect(try await riskIDs(north) == [escalated])
        // Merging from it into a practice's replica names it, not the practice's, as the PCPG's.
        let fromPCPG = try await cli.run("merge", "--replica", prestatyn, "--from", north)
        #expect(fromPCPG.status == 1 && fromPCPG.stderr.contains("the other replica (") && fromPCPG.stderr.contains("pcpg-north.sqlite) is a pcpg replica"),
                "\(fromPCPG.stderr)")

        // The Health Board: all three of its clusters, totals over both regions, no other tenant.
        let boardRollup = try await rollup(board)
        guard case .array(let boardClusters) = boardRollup["clusters"] else { Issue.record("\(boardRollup)"); return }
        #expect(boardClusters.compactMap { $0["cluster"]?.stringValue } == ["flint", "north-denbighshire", "wrexham"])
        #expect(boardRollup["region"] == .null && boardRollup["tenant"] == .string("bcuhb"))
        #expect(boardRollup["risks"]?["total"] == .int(5 + 1 + 7 + 4))
        #expect(try await riskIDs(board) == [escalated])
        // Each cluster carries its region, so the Board compares its PCPGs: a region at a time,
        // and side by side in the text.
        #expect(boardClusters.compactMap { $0["region"]?.stringValue } == ["east", "north", "east"])
        let eastOnly = try #require(try await cli.run("rollup", "--replica", board, "--region", "east", "--json").json)
        #expect(eastOnly["region"] == .string("east") && eastOnly["risks"]?["total"] == .int(7 + 4), "\(eastOnly)")
        let noSuch = try await cli.run("rollup", "--replica", board, "--region", "cardiff")
        #expect(noSuch.status == 1 && noSuch.stderr.contains("no region cardiff;") && noSuch.stderr.contains("it covers east, north"), "\(noSuch.stderr)")
        var wide = cli
        wide.environment["COLUMNS"] = "300"
        let boardText = try await wide.run("rollup", "--replica", board, "--color", "never").stdout
        #expect(boardText.contains(#/region +clusters +open risks/#) && boardText.contains(#/\neast +2 +11 /#) && boardText.contains(#/\nnorth +1 +6 /#),
                "\(boardText)")

        // A PCPG of another tenant sees nothing of bcuhb: its own cluster, empty.
        let foreignRollup = try await rollup(foreign)
        guard case .array(let foreignClusters) = foreignRollup["clusters"] else { Issue.record("\(foreignRollup)"); return }
        #expect(foreignClusters.compactMap { $0["cluster"]?.stringValue } == ["cardiff-north"])
        #expect(foreignRollup["risks"]?["total"] == .int(3))
        #expect(try await riskIDs(foreign) == [])

        // De-escalated: the risk and its action disappear from the PCPG's and the Board's replicas.
        _ = try await ok("risk", "set", "--replica", prestatyn, escalated, "escalation=cluster")
        _ = try await base.sync(prestatyn)
        for replica in [north, board] {
            let synced = try await base.sync(replica)
            #expect(synced.stdout.contains("pulled 0, withdrew 2 records no longer escalated"), "\(synced.stdout)")
            #expect(try await riskIDs(replica) == [], "\(replica)")
            #expect(try await cli.run("show", "--replica", replica, action).status == 1)
            #expect(try await rollup(replica)["risks"]?["escalation"]?["cluster"] == .int(1))
        }

        // Escalated again, then its cluster moved from north to east by the administrator: east's
        // PCPG holds the risk at its next sync, whole, and north's withdraws it.
        _ = try await ok("risk", "set", "--replica", prestatyn, escalated, "escalation=pcpg")
        _ = try await base.sync(prestatyn)
        for replica in [east, north] { _ = try await base.sync(replica) }
        #expect(try await riskIDs(north) == [escalated])
        #expect(try await riskIDs(east) == [])
        try await admin("cluster", "set-region", "--tenant", "bcuhb", "north-denbighshire", "east")
        _ = try await base.sync(east)
        #expect(try await riskIDs(east) == [escalated])
        let moved = try #require(try await cli.run("risk", "show", "--replica", east, escalated, "--json").json)
        #expect(moved["fields"]?["title"] == .string("GP locum cover across the county"))
        #expect(try await base.sync(north).stdout.contains("withdrew 2 records no longer escalated"))
        #expect(try await riskIDs(north) == [])
    }

    /// Cluster roll-ups as a practice's own replica computes them: without what only the server
    /// knows, the registered practices the attendance and the plan's contributions leave out
    /// (emptied), the practices by kind (all 0) and the region.
    static func withoutServerOnly(_ clusters: JSONValue?) -> JSONValue? {
        guard case .array(let list)? = clusters else { return clusters }
        return .array(list.map { cluster in
            guard case .object(var c) = cluster, case .object(var attendance)? = c["attendance"] else { return cluster }
            attendance["registered_not_listed"] = .array([])
            c["attendance"] = .object(attendance)
            c["region"] = nil
            c["practices_by_kind"] = .object(ClusterRollup.noPractices.mapValues { .int(Int64($0)) })
            if case .object(var plan)? = c["plan_contributions"] {
                for key in ["year", "last_year"] {
                    guard case .object(var year)? = plan[key] else { continue }
                    year["registered_without"] = .array([])
                    plan[key] = .object(year)
                }
                c["plan_contributions"] = .object(plan)
            }
            return .object(c)
        })
    }
}
