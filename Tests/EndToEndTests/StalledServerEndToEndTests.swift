import ClusterSyncCore
import Foundation
import Testing

/// A server that stops reading: the client's socket buffer fills and its write would wait for
/// ever. `clustersync sync` gives the write up after its ping and pong timeouts together, closes
/// the connection and says why (`SyncClient.WriteWatch`), and every change stays in its outbox.
/// A relay stands for the server that stops reading: it forwards the TLS handshake and `hello`,
/// then reads nothing more of what the client sends.
@Suite(.serialized, .teardown) struct StalledServerEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    @Test func aWriteTheServerNeverTakesEndsTheSyncWithItsReason() async throws {
        // Lines of 64 MiB: the client sizes its pushes to the server's lines (since the
        // fifty-fifth session), and this test needs each push far larger than the socket's
        // buffer, so that the write itself stalls (with 4 MiB pushes the first went whole into
        // the buffer, and the missing pong was found first).
        let server = try await base.makeServer(environment: ["CLUSTERSYNCD_LIMITS_MAX_LINE_BYTES": "67108864"])
        Teardown.add { await server.stop() }
        let relay = try SilentRelay(target: server.port, clientAllowance: 16 * 1024)
        let file = try await base.makeReplica("rhyl", certificate: false, server: server)
        let set = try await cli.run("remote", "set", "--replica", file, "127.0.0.1:\(relay.port)", "--ca", "data/ca.pem", "--token-file", "rhyl.token")
        #expect(set.status == 0, "\(set.stderr)")

        // 500 risks with four texts of nearly 10,000 characters each, from a spreadsheet: about
        // 20 MB to push, two pushes of 1,000 changes (13 MB each) in flight, far more than the
        // client's socket buffer (4 MB at most here) and the relay's hold.
        _ = try await base.addRisk(file, "title=Template")
        let exported = try await cli.run("export", "--replica", file, "--format", "csv", "--type", "risk")
        let columns = try #require(exported.stdout.split(separator: "\n").first).split(separator: ",", omittingEmptySubsequences: false)
        let texts: Set<Substring> = ["description", "cause", "effect", "controls"]
        #expect(columns.contains("title") && texts.isSubset(of: columns), "\(columns)")
        let text = String(repeating: "A long account of the risk. ", count: 350)
        let rows = (0..<500).map { n in
            columns.map { $0 == "title" ? "Risk \(n)" : texts.contains($0) ? text : "" }.joined(separator: ",")
        }
        try ([String(columns.joined(separator: ","))] + rows).joined(separator: "\n")
            .write(to: base.dir.appendingPathComponent("risks.csv"), atomically: true, encoding: .utf8)
        let imported = try await cli.run("import", "--replica", file, "--format", "csv", "--type", "risk", "risks.csv")
        #expect(imported.status == 0, "\(imported.stderr)")
        let pending = try #require(try await cli.run("status", "--replica", file, "--json").json?["pending"])

        let started = Date()
        let sync = try await cli.run("sync", "--replica", file, "--ping-seconds", "0.5", "--pong-timeout-seconds", "0.5")
        #expect(sync.status != 0)
        #expect(sync.stderr.contains("stopped reading for 1 s; the connection is dead"), "\(sync.stderr)")
        #expect(Date().timeIntervalSince(started) < 30, "given up after the timeout, not waiting for ever")
        #expect(try await cli.run("status", "--replica", file, "--json").json?["pending"] == pending, "nothing left the outbox unacknowledged")
    }
}
