import ClusterSyncCore
import Foundation
import Testing

/// Deploy/haproxy.cfg, run by a real HAProxy in front of a real node: TLS passes through, so a
/// practice's client certificate reaches the node (which logs the session under the
/// certificate's credential), and the TLS health check takes out a node that is not there or
/// whose certificate does not carry the name HAProxy expects.
/// Needs `haproxy` (Debian's package; `.ci/run` installs it): skipped with a note without it,
/// except under CI=1, where its absence is a failure.
@Suite(.serialized, .teardown) struct LoadBalancerEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }
    var dir: URL { base.dir }

    init() throws {
        base = try SyncEndToEndTests()
    }

    static let haproxy = ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Deploy/haproxy.cfg")

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The example with this machine's addresses and files, and without what needs root (chroot,
    /// user, daemon, syslog, the admin socket); everything about the frontend, the backend and
    /// its health checks is the example's own.
    func configuration(listen: Int, node1: Int, node2: Int, name: String) throws -> String {
        var text = try String(contentsOf: Self.example, encoding: .utf8)
        let replacements = [
            ("bind :7443", "bind 127.0.0.1:\(listen)"),
            ("10.20.0.11:7443", "127.0.0.1:\(node1)"), ("10.20.0.12:7443", "127.0.0.1:\(node2)"),
            ("/etc/haproxy/clustersync-ca.pem", dir.appendingPathComponent("data/ca.pem").path),
            ("verifyhost sync.bcuhb.nhs.wales", "verifyhost \(name)"),
            ("maxconn 20000", "maxconn 1000"),
        ]
        for (from, to) in replacements {
            #expect(text.contains(from), "Deploy/haproxy.cfg no longer has \(from): update this test with it")
            text = text.replacingOccurrences(of: from, with: to)
        }
        let needsRoot = ["chroot ", "user ", "group ", "daemon", "log /dev/log", "stats socket"]
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in !needsRoot.contains { line.trimmingCharacters(in: .whitespaces).hasPrefix($0) } }
            .joined(separator: "\n")
    }

    func startHAProxy(_ binary: String, configuration: String, name: String) throws -> (ChildProcess, URL) {
        let file = dir.appendingPathComponent("\(name).cfg")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        let log = dir.appendingPathComponent("\(name).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-db", "-f", file.path]
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        return (process, log)
    }

    /// Waits (at most 30 s) until HAProxy's log contains `text`.
    func waitForLog(_ log: URL, _ text: String) async -> Bool {
        let deadline = Date(timeIntervalSinceNow: 30)
        while Date() < deadline {
            if (try? String(contentsOf: log, encoding: .utf8))?.contains(text) == true { return true }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    @Test func aClientCertificatePassesThroughHAProxyAndAMissingNodeIsTakenOut() async throws {
        guard let haproxy = Self.haproxy else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "1", "haproxy is not installed: .ci/run installs it")
            print("skipped: haproxy is not installed (apt-get install haproxy)")
            return
        }
        let node = try await base.makeServer()
        Teardown.add { await node.stop() }
        let listen = try Self.freePort(), nowhere = try Self.freePort()
        let text = try configuration(listen: listen, node1: node.port, node2: nowhere, name: "localhost")
        let check = ChildProcess()
        check.executableURL = URL(fileURLWithPath: haproxy)
        try text.write(to: dir.appendingPathComponent("check.cfg"), atomically: true, encoding: .utf8)
        check.arguments = ["-c", "-q", "-f", dir.appendingPathComponent("check.cfg").path]
        try await check.runToExit()
        #expect(check.terminationStatus == 0, "haproxy -c refuses the example")

        let (proxy, log) = try startHAProxy(haproxy, configuration: text, name: "haproxy")
        Teardown.add { proxy.terminate(); await proxy.exited() }
        #expect(await waitForLog(log, "node2 is DOWN"), "HAProxy must take out a node that does not answer")

        // Through HAProxy, a certificate: the node logs the session under the certificate's credential.
        let replica = try await base.makeReplica("prestatyn", certificate: true, server: Server(process: ChildProcess(), port: listen))
        _ = try await base.addRisk(replica, "title=Locum cover", "likelihood=3", "consequence=4", "category=workforce")
        let synced = try await cli.run("sync", "--replica", replica)
        #expect(synced.status == 0, "sync through HAProxy: \(synced.stderr)")
        let audit = try await cli.run(["audit", "--data", "data", "--tenant", "bcuhb", "--json"], binary: "clustersyncd")
        #expect(audit.stdout.contains("\"credential\":\"crt_"), "the node must see the client certificate: \(audit.stdout)")
        #expect(audit.stdout.contains("\"practice\":\"prestatyn\""))
        let text2 = try String(contentsOf: log, encoding: .utf8)
        #expect(!text2.contains("node1 is DOWN"), "the live node must pass the TLS check: \(text2)")
    }

    /// A node whose certificate does not carry the name HAProxy checks for is taken out: the
    /// health check verifies the certificate, not just that the port answers.
    @Test func aNodeWithTheWrongCertificateNameFailsTheHealthCheck() async throws {
        guard let haproxy = Self.haproxy else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "1", "haproxy is not installed: .ci/run installs it")
            print("skipped: haproxy is not installed (apt-get install haproxy)")
            return
        }
        let node = try await base.makeServer()
        Teardown.add { await node.stop() }
        let text = try configuration(listen: try Self.freePort(), node1: node.port, node2: try Self.freePort(), name: "sync.elsewhere.example")
        let (proxy, log) = try startHAProxy(haproxy, configuration: text, name: "wrong-name")
        Teardown.add { proxy.terminate(); await proxy.exited() }
        #expect(await waitForLog(log, "node1 is DOWN"), "a node presenting a certificate for another name must be taken out")
    }
}
