import ClusterSyncCore
import Foundation
import Testing

extension PostgresRoleSetUp {
    /// A Health Board moving a server from its SQLite store to PostgreSQL, with the real binaries
    /// (README, "Moving a SQLite server onto PostgreSQL"): practices sync through a SQLite node,
    /// which is stopped; `clustersyncd copy-to-postgres` copies its store into a database made by
    /// Deploy's postgres-setup.sh; a node started on that database at the same address serves
    /// the same practices, with their tokens, cursors and conflicts, as if nothing had happened.
    /// Needs the test PostgreSQL (CLUSTERSYNC_TEST_POSTGRES_URL); skipped with a note without it,
    /// except under CI=1.
    @Suite(.serialized, .teardown) struct PostgresCopyEndToEndTests {
        let deploy: PostgresDeployEndToEndTests
        var dir: URL { deploy.dir }

        init() throws {
            deploy = try PostgresDeployEndToEndTests()
        }

        func admin(_ cli: CLI, _ arguments: String...) async throws -> String {
            try await deploy.ok(cli, arguments + ["--data", "data"], binary: "clustersyncd").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        @Test func aSQLiteServerMovesOntoPostgreSQLAndItsPracticesCarryOn() async throws {
            guard PostgresDeployEndToEndTests.superuser != nil else {
                #expect(ProcessInfo.processInfo.environment["CI"] != "1", "CLUSTERSYNC_TEST_POSTGRES_URL is not set: Tests/run starts PostgreSQL")
                print("skipped: no CLUSTERSYNC_TEST_POSTGRES_URL (eval \"$(Tests/postgres-up)\" to run it)")
                return
            }
            // A SQLite node, as the README's first command makes one, with a region and its PCPG.
            // SQLite whatever the pass (Tests/run's PostgreSQL pass would give the node PostgreSQL).
            var sqlite = CLI(directory: dir)
            sqlite.environment["CLUSTERSYNCD_STORAGE"] = "sqlite"
            try await admin(sqlite, "init")
            try await admin(sqlite, "tenant", "add", "bcuhb")
            try await admin(sqlite, "region", "add", "--tenant", "bcuhb", "conwy-denbighshire")
            try await admin(sqlite, "cluster", "add", "--tenant", "bcuhb", "--region", "conwy-denbighshire", "north-denbighshire")
            var tokens: [String: String] = [:]
            for practice in ["prestatyn", "rhyl", "rhuddlan"] {
                try await admin(sqlite, "practice", "add", "--tenant", "bcuhb", "--cluster", "north-denbighshire", practice)
                tokens[practice] = try await admin(sqlite, "credential", "issue", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                                   "--practice", practice, "--role", practice == "prestatyn" ? "cluster-lead" : "practice",
                                                   "--label", "laptop")
            }
            let pcpgToken = try await admin(sqlite, "credential", "issue", "--tenant", "bcuhb", "--role", "pcpg", "--region", "conwy-denbighshire")
            let first = try await Server.start(cli: sqlite)
            let prestatyn = try await deploy.replica("prestatyn", token: tokens["prestatyn"]!, port: first.port, sqlite)
            let rhyl = try await deploy.replica("rhyl", token: tokens["rhyl"]!, port: first.port, sqlite)
            let risk = try await deploy.ok(sqlite, ["risk", "add", "--replica", prestatyn, "title=Locum cover", "likelihood=3", "consequence=4",
                                             "category=workforce"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(risk.hasPrefix("RSK-"), "\(risk)")
            try await deploy.ok(sqlite, ["sync", "--replica", prestatyn])
            try await deploy.ok(sqlite, ["sync", "--replica", rhyl])
            // Both change the same field offline: a conflict the copy must keep.
            try await deploy.ok(sqlite, ["risk", "set", "--replica", prestatyn, risk, "owner=Dr Evans"])
            try await deploy.ok(sqlite, ["risk", "set", "--replica", rhyl, risk, "owner=Nurse Jones"])
            try await deploy.ok(sqlite, ["sync", "--replica", prestatyn])
            try await deploy.ok(sqlite, ["sync", "--replica", rhyl])
            try await deploy.ok(sqlite, ["sync", "--replica", prestatyn])
            let conflictsBefore = try await admin(sqlite, "conflicts", "--tenant", "bcuhb")
            #expect(conflictsBefore.contains(risk), "\(conflictsBefore)")
            let verified = try await admin(sqlite, "verify", "--tenant", "bcuhb")
            let head = try #require(verified.firstMatch(of: /head: ([0-9]+:[0-9a-f]{64})/)?.1).description
            await first.stop()

            // The copy, into a database made as Deploy/README.md makes one, with the owner's URL.
            let suffix = String(UUID().uuidString.prefix(8)).lowercased()
            let database = "cs_copy_\(suffix)"
            Teardown.add { try? await deploy.dropDatabases([database]) }
            try await deploy.script("postgres-setup.sh", "--database", database, "--host", deploy.admin["PGHOST"]!, "--port", deploy.admin["PGPORT"]!,
                                    "--sslmode", "disable", "--out", dir.path)
            func postgres(_ role: String) -> CLI {
                var cli = CLI(directory: dir)
                cli.environment["CLUSTERSYNCD_STORAGE"] = "postgres"
                cli.environment["CLUSTERSYNCD_POSTGRES_URL_FILE"] = dir.appendingPathComponent("\(database).\(role).postgres-url").path
                return cli
            }
            let owner = postgres("owner"), app = postgres("app")
            let copied = try await admin(owner, "copy-to-postgres")
            #expect(copied.contains("tenant bcuhb: ") && copied.contains("intact, head \(head) as in SQLite"), "\(copied)")
            #expect(copied.contains("log: ") && copied.contains("credential: 4 rows"), "\(copied)")
            // The nodes' role may not copy (it may not set sequences), and says what to use.
            let asApp = try await app.run(["copy-to-postgres", "--data", "data"], binary: "clustersyncd")
            #expect(asApp.status != 0 && asApp.stderr.contains("copy with the owner role's URL"), "\(asApp.stderr)")
            // Never over a store in use: a second copy is refused, naming why.
            let again = try await owner.run(["copy-to-postgres", "--data", "data"], binary: "clustersyncd")
            #expect(again.status != 0 && again.stderr.contains("already holds tenants or changes"), "\(again.stderr)")

            // The node on PostgreSQL, at the same address, logged in as the app role.
            let second = try await Server.start(cli: app, port: first.port)
            Teardown.add { await second.stop() }
            #expect(try await admin(app, "verify", "--tenant", "bcuhb").contains("head: \(head)"))
            #expect(try await admin(app, "conflicts", "--tenant", "bcuhb") == conflictsBefore)
            // prestatyn carries on from its cursor: nothing to push or pull, no "restored" notice.
            let resumed = try await deploy.ok(app, ["sync", "--replica", prestatyn]).stdout
            #expect(resumed.contains("pushed 0 changes, pulled 0") && !resumed.contains("restored"), "\(resumed)")
            // What the lead (prestatyn) settles there reaches rhyl; a new practice's laptop starts
            // from a snapshot of the copy; the PCPG's token still reads its region.
            try await deploy.ok(app, ["conflicts", "resolve", "--replica", prestatyn, risk, "owner", "--keep", "prestatyn"])
            try await deploy.ok(app, ["sync", "--replica", prestatyn])
            try await deploy.ok(app, ["sync", "--replica", rhyl])
            let rhuddlan = try await deploy.replica("rhuddlan", token: tokens["rhuddlan"]!, port: first.port, app)
            try await deploy.ok(app, ["sync", "--replica", rhuddlan])
            let shared = try await deploy.export(app, rhyl)
            #expect(try await deploy.export(app, prestatyn) == shared)
            #expect(try await deploy.export(app, rhuddlan) == shared)
            #expect(shared.contains("Dr Evans") && !shared.contains("Nurse Jones"), "\(shared)")
            try await deploy.ok(app, ["init", "--replica", "pcpg.sqlite", "--tenant", "bcuhb", "--role", "pcpg", "--region", "conwy-denbighshire",
                               "--name", "PCPG analyst"])
            try pcpgToken.write(to: dir.appendingPathComponent("pcpg.token"), atomically: true, encoding: .utf8)
            try await deploy.ok(app, ["remote", "set", "--replica", "pcpg.sqlite", "127.0.0.1:\(first.port)", "--ca", "data/ca.pem", "--token-file", "pcpg.token"])
            try await deploy.ok(app, ["sync", "--replica", "pcpg.sqlite"])
            #expect(try await admin(app, "verify", "--tenant", "bcuhb").contains("intact"))
        }
    }
}
