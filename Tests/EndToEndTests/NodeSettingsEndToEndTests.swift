import ClusterSyncCore
import Foundation
import Testing

/// Deploy/README.md keeps a node's settings outside its data directory
/// (/etc/clustersyncd/node1.json, where the service cannot rewrite them): `serve --config` reads
/// them, and administrative commands without `--config` find them through CLUSTERSYNCD_CONFIG.
@Suite(.serialized, .teardown) struct NodeSettingsEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    @Test func settingsOutsideTheDataDirectoryReachServeAndTheAdministrativeCommands() async throws {
        try #require(await base.makeServer().stop() == 0)
        let port = try LoadBalancerEndToEndTests.freePort()
        let settings = base.dir.appendingPathComponent("node1.json").path
        try """
            {"clustersyncd": {"port": \(port), "credentials": {"defaultExpiryDays": 30}}}
            """.write(toFile: settings, atomically: true, encoding: .utf8)

        // serve --config: the port comes from the file.
        var serving = cli
        serving.environment["LOG_LEVEL"] = "warning"
        let process = try await serving.start(["serve", "--data", "data", "--config", settings], binary: "clustersyncd")
        Teardown.add { process.signal(SIGTERM); await process.exited() }
        let text = await process.output.text(until: { $0.contains("\n") }, timeout: .seconds(20))
        #expect(text.contains("listening on 127.0.0.1:\(port)"), "\(text)")

        // credential issue without --config: CLUSTERSYNCD_CONFIG names the file.
        var admin = cli
        admin.environment["CLUSTERSYNCD_CONFIG"] = settings
        let issued = try await admin.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                    "--practice", "prestatyn", "--label", "Reception PC"], binary: "clustersyncd")
        #expect(issued.status == 0, "\(issued.stderr)")
        let listed = try await admin.run(["credential", "list", "--data", "data", "--json"], binary: "clustersyncd")
        guard case .array(let rows)? = listed.json?["credentials"], let row = rows.first,
              case .string(let created)? = row["created"], case .string(let expires)? = row["expires"] else {
            Issue.record("no credential listed: \(listed.stdout) \(listed.stderr)")
            return
        }
        let iso = ISO8601DateFormatter()
        let days = try #require(iso.date(from: expires)).timeIntervalSince(try #require(iso.date(from: created))) / 86_400
        #expect(abs(days - 30) < 0.01, "the credential must last the file's 30 days, not the default 365: \(days)")
    }
}
