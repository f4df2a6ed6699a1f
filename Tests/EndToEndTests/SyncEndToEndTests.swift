import ClusterSyncCore
import ClusterSyncTLS
import Foundation
import Testing

/// The server and the CLI end to end: real binaries, real TLS on loopback, real SQLite files.
@Suite(.serialized, .teardown) struct SyncEndToEndTests {
    let dir: URL
    let cli: CLI

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-sync-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        cli = CLI(directory: dir)
    }

    /// A data directory with two tenants: bcuhb (clusters north-denbighshire and wrexham) and cvuhb.
    func makeServer(environment: [String: String] = [:], port: Int = 0) async throws -> Server {
        func admin(_ args: String...) async throws {
            let result = try await cli.run(args + ["--data", "data"], binary: "clustersyncd")
            #expect(result.status == 0, "\(args): \(result.stderr)")
        }
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("data/ca.pem").path) {
            try await admin("init")
            try await admin("tenant", "add", "bcuhb")
            try await admin("tenant", "add", "cvuhb")
            try await admin("cluster", "add", "--tenant", "bcuhb", "north-denbighshire")
            try await admin("cluster", "add", "--tenant", "bcuhb", "wrexham")
            try await admin("cluster", "add", "--tenant", "cvuhb", "cardiff-north")
            try await admin("practice", "add", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "prestatyn")
            try await admin("practice", "add", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "rhyl")
            try await admin("practice", "add", "--tenant", "bcuhb", "--cluster", "wrexham", "wrexham-1")
            try await admin("practice", "add", "--tenant", "cvuhb", "--cluster", "cardiff-north", "llanishen")
        }
        return try await Server.start(cli: cli, environment: environment, port: port)
    }

    /// A replica of `practice`, pointed at the server with a certificate or a token of `role`.
    func makeReplica(_ practice: String, cluster: String = "north-denbighshire", tenant: String = "bcuhb",
                     certificate: Bool, role: String = "practice", server: Server) async throws -> String {
        let file = "\(practice).sqlite"
        #expect(try await cli.run("init", "--replica", file, "--tenant", tenant, "--cluster", cluster, "--practice", practice,
                            "--name", "Manager, \(practice)").status == 0)
        if certificate {
            let issued = try await cli.run(["credential", "issue", "--data", "data", "--tenant", tenant, "--cluster", cluster,
                                      "--practice", practice, "--role", role, "--certificate", "--out", "certs-\(practice)"], binary: "clustersyncd")
            #expect(issued.status == 0, "\(issued.stderr)")
            let set = try await cli.run("remote", "set", "--replica", file, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                                  "--certificate", "certs-\(practice)/\(practice).pem", "--key", "certs-\(practice)/\(practice)-key.pem")
            #expect(set.status == 0, "\(set.stderr)")
        } else {
            let issued = try await cli.run(["credential", "issue", "--data", "data", "--tenant", tenant, "--cluster", cluster,
                                      "--practice", practice, "--role", role, "--label", "laptop"], binary: "clustersyncd")
            #expect(issued.status == 0, "\(issued.stderr)")
            try issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                .write(to: dir.appendingPathComponent("\(practice).token"), atomically: true, encoding: .utf8)
            let set = try await cli.run("remote", "set", "--replica", file, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                                  "--token-file", "\(practice).token")
            #expect(set.status == 0, "\(set.stderr)")
        }
        return file
    }

    /// `server`, when given, is named in a failure: whether it still runs, and the end of what it wrote.
    func sync(_ file: String, server: Server? = nil) async throws -> CLI.Result {
        let result = try await cli.run("sync", "--replica", file)
        #expect(result.status == 0, "sync \(file): \(result.stderr)\(server.map { "\nserver running: \($0.process.isRunning)\n\($0.output.suffix(4000))" } ?? "")")
        return result
    }

    func addRisk(_ file: String, _ fields: String...) async throws -> String {
        let result = try await cli.run(["risk", "add", "--replica", file] + fields)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func twoPracticesSyncConvergeAndSeeTheConflict() async throws {
        let server = try await makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await makeReplica("prestatyn", certificate: true, server: server)
        let rhyl = try await makeReplica("rhyl", certificate: false, server: server)

        let risk = try await addRisk(prestatyn, "title=GP locum cover", "likelihood=3", "consequence=4")
        // A first sync takes the cluster's state as a snapshot, which carries Prestatyn's own
        // changes back: they are pushed, not received (it said "pulled" as many as it pushed).
        let first = try await sync(prestatyn)
        #expect(first.stdout.contains(", pulled 0;") && !first.stdout.hasPrefix("pushed 0 "), "\(first.stdout)")
        let received = try await sync(rhyl)
        #expect(received.stdout.hasPrefix("pushed 0 changes, pulled ") && !received.stdout.contains("pulled 0"), "\(received.stdout)")
        #expect(try await cli.run("risk", "set", "--replica", prestatyn, risk, "likelihood=4", "title=Locum cover, winter").status == 0)
        #expect(try await cli.run("risk", "set", "--replica", rhyl, risk, "owner=Practice manager", "title=Winter locum gap").status == 0)
        _ = try await sync(prestatyn)
        _ = try await sync(rhyl)
        _ = try await sync(prestatyn)

        let views = try await [prestatyn, rhyl].asyncMap { try #require(try await cli.run("show", "--replica", $0, "--json", risk).json) }
        #expect(views[0] == views[1])
        #expect(views[0]["fields"]?["owner"] == .string("Practice manager"))
        #expect(views[0]["fields"]?["score"] == .object(["likelihood": .int(4), "consequence": .int(4)]))
        guard case .array(let conflicts) = views[0]["conflicts"], let title = conflicts.first else {
            Issue.record("no conflict: \(views[0])"); return
        }
        #expect(title["field"] == .string("title"))
        guard case .array(let values) = title["values"] else { Issue.record("no values: \(title)"); return }
        // The server stamped the authenticated authors: the certificate's practice, the token's label.
        #expect(Set(values.compactMap { $0["author"]?.stringValue }) == ["prestatyn", "rhyl (laptop)"])
        let exports = try await [prestatyn, rhyl].asyncMap { try await cli.run("export", "--replica", $0).stdout }
        #expect(exports[0] == exports[1])
        let status = try #require(try await cli.run("status", "--replica", rhyl, "--json").json)
        #expect(status["pending"] == .int(0))
    }

    // Relayed changes keep their maker's person and practice: SignedChangesEndToEndTests.

    /// A merge hands Rhyl a closure the cluster lead made offline. The server will not take it from
    /// Rhyl's practice session (`lead-only`), so Rhyl's sync holds it back, with the lead's later
    /// change, and pushes the rest rather than stop; once the lead pushes them, Rhyl's hold-back
    /// is forgotten and both replicas agree.
    @Test func aRefusedRelayIsHeldBackAndTheRestSyncs() async throws {
        let server = try await makeServer()
        Teardown.add { await server.stop() }
        // Prestatyn's laptop is the cluster lead's; Rhyl's is a practice's.
        let prestatyn = try await makeReplica("prestatyn", certificate: true, role: "cluster-lead", server: server)
        let rhyl = try await makeReplica("rhyl", certificate: false, server: server)
        let risk = try await addRisk(prestatyn, "title=Flu clinic staffing")
        _ = try await sync(prestatyn)
        // Offline, the lead closes the risk and then changes its owner; Rhyl takes both by merge.
        #expect(try await cli.run("risk", "set", "--replica", prestatyn, risk, "status=closed").status == 0)
        #expect(try await cli.run("risk", "set", "--replica", prestatyn, risk, "owner=Cluster lead").status == 0)
        #expect(try await cli.run("merge", "--replica", rhyl, "--from", prestatyn).status == 0)
        let own = try await addRisk(rhyl, "title=Rhyl's own risk")

        // Rhyl's practice session may not push the closure: it is held back, and the lead's later
        // change with it (it was made after the closure, on the same replica).
        let synced = try await sync(rhyl)
        #expect(synced.stdout.contains("held back 2 changes"), "\(synced.stdout)")
        let status = try #require(try await cli.run("status", "--replica", rhyl, "--json").json)
        #expect(status["pending"] == .int(0))
        guard case .array(let held) = status["heldBack"] else { Issue.record("no heldBack in \(status)"); return }
        #expect(held.count == 2)
        #expect(held.allSatisfy { $0["record"] == .string(risk) }, "\(held)")
        #expect(held.contains { $0["code"] == .string("lead-only") }, "\(held)")
        // Rhyl's own change went through: Prestatyn pulls it, and pushes its own two changes.
        _ = try await sync(prestatyn)
        #expect(try await cli.run("risk", "show", "--replica", prestatyn, own).status == 0)
        // The pulled page brings the maker's own copies: the entries clear themselves.
        _ = try await sync(rhyl)
        let after = try #require(try await cli.run("status", "--replica", rhyl, "--json").json)
        #expect(after["heldBack"] == .array([]), "\(after)")
        let exports = try await [prestatyn, rhyl].asyncMap { try await cli.run("export", "--replica", $0).stdout }
        #expect(exports[0] == exports[1])
        #expect(try await cli.run("show", "--replica", rhyl, "--json", risk).json?["fields"]?["status"] == .string("closed"))
    }

    @Test func otherClustersAndTenantsSeeNothing() async throws {
        let server = try await makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await makeReplica("prestatyn", certificate: true, server: server)
        let wrexham = try await makeReplica("wrexham-1", cluster: "wrexham", certificate: false, server: server)
        let cardiff = try await makeReplica("llanishen", cluster: "cardiff-north", tenant: "cvuhb", certificate: false, server: server)
        _ = try await addRisk(prestatyn, "title=Estates lease")
        _ = try await addRisk(prestatyn, "--private", "title=Practice staffing")
        _ = try await sync(prestatyn)
        for file in [wrexham, cardiff] {
            let summary = try await sync(file)
            #expect(summary.stdout.contains("pulled 0"), "\(file): \(summary.stdout)")
            #expect(try await cli.run("risk", "list", "--replica", file, "--json").json == .object(["records": .array([])]))
        }
        // A second replica of the same cluster sees the shared risk but not the practice-private one.
        let rhyl = try await makeReplica("rhyl", certificate: false, server: server)
        _ = try await sync(rhyl)
        guard case .array(let records) = try await cli.run("risk", "list", "--replica", rhyl, "--json").json?["records"] else {
            Issue.record("no list"); return
        }
        #expect(records.compactMap { $0["fields"]?["title"]?.stringValue } == ["Estates lease"])
    }

    @Test func badCertificatesAreRefused() async throws {
        let server = try await makeServer()
        Teardown.add { await server.stop() }
        let replica = try await makeReplica("prestatyn", certificate: true, server: server)
        let authority = try DevelopmentCertificateAuthority(CertificateAndKey(
            certificateFile: dir.appendingPathComponent("data/ca.pem").path, privateKeyFile: dir.appendingPathComponent("data/ca-key.pem").path))
        let other = try DevelopmentCertificateAuthority.generate()
        let identity = try CertificateIdentity(tenant: "bcuhb", cluster: "north-denbighshire", practice: "prestatyn")
        let cases: [(String, CertificateAndKey, String)] = [
            ("expired", try authority.issueClientCertificate(for: identity, now: Date(timeIntervalSinceNow: -3 * 365 * 86_400)), "CERTIFICATE_EXPIRED"),
            ("wrongly-signed", try other.issueClientCertificate(for: identity), "UNKNOWN_CA"),
            ("unknown-practice", try authority.issueClientCertificate(for: try CertificateIdentity(tenant: "bcuhb", cluster: "north-denbighshire", practice: "ghost")), "not registered"),
        ]
        for (name, issued, message) in cases {
            try issued.write(certificateTo: dir.appendingPathComponent("\(name).pem").path, privateKeyTo: dir.appendingPathComponent("\(name)-key.pem").path)
            #expect(try await cli.run("remote", "set", "--replica", replica, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                                "--certificate", "\(name).pem", "--key", "\(name)-key.pem").status == 0)
            let result = try await cli.run("sync", "--replica", replica)
            #expect(result.status == 1, "\(name): \(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains(message), "\(name): \(result.stderr)")
        }
    }

    /// A sync killed in the middle of pushing, then run again, loses and duplicates nothing.
    @Test func killedSyncResumesWithoutLossOrDuplicates() async throws {
        let server = try await makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await makeReplica("prestatyn", certificate: false, server: server)
        // Six risks of 1,000 labels each: a field holds at most 1,000 (FieldGrowth).
        var risks: [String] = []
        for n in 0..<6 { risks.append(try await addRisk(prestatyn, "title=Big \(n)")) }
        for batch in 0..<30 {
            let args = (0..<200).map { "tags+=t\(batch)-\($0)" }
            #expect(try await cli.run(["risk", "set", "--replica", prestatyn, risks[batch / 5]] + args).status == 0)
        }
        let total = Int(try #require(try await cli.run("status", "--replica", prestatyn, "--json").json?["pending"]?.intValue))
        // A progress line at every acknowledgement; the replica records an ack before its line
        // is printed, so the kill lands after at least one batch was acknowledged and kept, with
        // more still to push: the resumed sync must push only the rest.
        let process = try await cli.start(["sync", "--replica", prestatyn, "--progress-every", "0"])
        let progress = await process.errors.text(until: { Self.acknowledgedSoFar($0) > 0 }, timeout: .seconds(60))
        process.signal(SIGKILL)
        await process.exited()
        let pendingAfterKill = Int(try #require(try await cli.run("status", "--replica", prestatyn, "--json").json?["pending"]?.intValue))
        print("killed sync: \(total - pendingAfterKill) of \(total) acknowledged before the kill")
        #expect(Self.acknowledgedSoFar(progress) > 0, "no acknowledgement before the kill: \(progress)")
        #expect(pendingAfterKill > 0 && pendingAfterKill <= total - Self.acknowledgedSoFar(progress),
                "\(pendingAfterKill) of \(total) pending after the kill; progress: \(progress)")
        _ = try await sync(prestatyn, server: server)
        #expect(try await cli.run("status", "--replica", prestatyn, "--json").json?["pending"] == .int(0))

        let rhyl = try await makeReplica("rhyl", certificate: false, server: server)
        let pulled = try await sync(rhyl, server: server)
        #expect(pulled.stdout.contains("pulled \(total)"), "\(pulled.stdout)")
        #expect(try await cli.members("tags", of: risks, on: rhyl) == 30 * 200)
    }

    /// The largest "pushed N of M" in a sync's progress lines: how many it had acknowledged.
    static func acknowledgedSoFar(_ progress: String) -> Int {
        progress.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).compactMap { line -> Int? in
            guard let pushed = line.range(of: "pushed "), let of = line.range(of: " of ", range: pushed.upperBound..<line.endIndex)
            else { return nil }
            return Int(line[pushed.upperBound..<of.lowerBound].filter(\.isNumber))
        }.max() ?? 0
    }

    @Test func sigtermStopsTheServerCleanly() async throws {
        let server = try await makeServer()
        let status = await server.stop()
        #expect(status == 0)
    }
}

/// `clustersyncd serve` on a free port, stopped with SIGTERM.
final class Server: Sendable {
    let process: ChildProcess
    let port: Int

    init(process: ChildProcess, port: Int) {
        self.process = process
        self.port = port
    }

    static func start(cli: CLI, environment: [String: String] = [:], port: Int = 0, data: String = "data") async throws -> Server {
        var cli = cli
        cli.environment["LOG_LEVEL"] = "warning"
        cli.environment.merge(environment) { _, new in new }
        // Its output is read for as long as it runs (a pipe nobody reads fills at 64 KB and then
        // blocks the server's next log line, and with it whatever was logging); the last 256 KB
        // of each is kept.
        let process = try await cli.start(["serve", "--data", data, "--port", String(port)], binary: "clustersyncd",
                                          keepingAtMost: 262_144)
        // Warnings may come first (a PostgreSQL store's): wait for the line that says the port.
        let text = await process.output.text(until: { $0.contains("listening on") }, timeout: .seconds(30))
        guard let line = text.split(separator: "\n").first(where: { $0.contains("listening on") }),
              let port = Int(line.split(separator: ":").last ?? "") else {
            process.terminate()
            throw ClusterSyncError(.internal, "clustersyncd did not report its port: \(text)")
        }
        return Server(process: process, port: port)
    }

    /// What the server has written so far (the last 256 KB of its output, then of its errors),
    /// for a failing test's message.
    var output: String { process.output.text + process.errors.text }

    @discardableResult
    func stop() async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.signal(SIGTERM)
        return await process.exited()
    }
}
