import ClusterSyncCore
import Foundation
import Testing

/// Deploy/README.md "Certificates from the Health Board's own CA": Deploy/healthboard-pki.sh (plain
/// openssl) makes a CA, the server's certificate and a practice's, the real server is pointed at
/// them through its settings file, and the real client syncs with them; then the server's
/// certificate is rotated and the practice's revoked by serial, as the README says.
@Suite(.serialized, .teardown) struct HealthBoardPKIEndToEndTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }
    var dir: URL { base.dir }

    init() throws {
        base = try SyncEndToEndTests()
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Deploy/healthboard-pki.sh").path

    /// Runs the recipe script in the test's folder; its output, or a failed expectation.
    @discardableResult
    func pki(_ arguments: String...) async throws -> String {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.script] + arguments
        process.currentDirectoryURL = dir
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try await process.runToExit()
        let text = await process.output.readToEnd()
        let errors = await process.errors.readToEnd()
        #expect(process.terminationStatus == 0, "healthboard-pki.sh \(arguments.joined(separator: " ")): \(errors)")
        return text
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func serial(_ certificate: String) async throws -> String {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["x509", "-noout", "-serial", "-in", path(certificate)]
        process.standardOutput = Pipe()
        try await process.runToExit()
        return await process.output.readToEnd()
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
    }

    func remoteSet(_ replica: String, port: Int, certificate: String, key: String) async throws {
        let set = try await cli.run("remote", "set", "--replica", replica, "127.0.0.1:\(port)", "--ca", "hb/ca.pem",
                              "--certificate", certificate, "--key", key)
        #expect(set.status == 0, "\(set.stderr)")
    }

    @Test func aPracticeCertificateFromTheBoardsOwnCASyncsSurvivesServerRotationAndIsRevokedBySerial() async throws {
        // The data directory and its practices (made with the development CA, which is then unused).
        try #require(await base.makeServer().stop() == 0)
        try await pki("ca", "hb", "Test Health Board")
        try await pki("server", "hb", "srv", "localhost", "127.0.0.1")
        try await pki("request", "prestatyn-pc", "prestatyn")
        let signed = try await pki("sign", "hb", "prestatyn-pc/prestatyn.csr", "bcuhb", "north-denbighshire", "prestatyn", "30")
        let firstSerial = try await serial("prestatyn-pc/prestatyn.pem")
        #expect(signed.contains("--serial \(firstSerial) --tenant bcuhb"), "the script must print the revoke command: \(signed)")
        try """
            {"clustersyncd": {"tls": {"certificate": "\(path("srv/server.pem"))", "key": "\(path("srv/server-key.pem"))", "clientCA": "\(path("hb/ca.pem"))"}}}
            """.write(toFile: path("data/clustersyncd.json"), atomically: true, encoding: .utf8)

        var server = try await Server.start(cli: cli)
        // Restarted below: the teardown stops the one running at the end.
        let running = Current(server)
        Teardown.add { await running.value.stop() }
        let port = server.port
        let replica = "prestatyn.sqlite"
        #expect(try await cli.run("init", "--replica", replica, "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                            "--practice", "prestatyn", "--name", "Practice manager, Prestatyn").status == 0)
        try await remoteSet(replica, port: port, certificate: "prestatyn-pc/prestatyn.pem", key: "prestatyn-pc/prestatyn-key.pem")
        _ = try await base.addRisk(replica, "title=Locum cover", "likelihood=3", "consequence=4", "category=workforce")
        #expect(try await base.sync(replica).stdout.hasPrefix("pushed "))

        // tls.clientCA is the board's: issuing from the development CA is refused, as the
        // certificate could never open a session...
        let issue = ["credential", "issue", "--data", "data", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                     "--practice", "rhyl", "--certificate", "--out", "rhyl-dev"]
        let refusedIssue = try await cli.run(issue, binary: "clustersyncd")
        #expect(refusedIssue.status != 0 && refusedIssue.stderr.contains("would be refused at the handshake"), "\(refusedIssue.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path("rhyl-dev/rhyl.pem")))
        #expect(try await cli.run("credential", "list", "--data", "data", binary: "clustersyncd").stdout.contains("rhyl") == false)
        // A bundle holding the data directory's CA beside the board's (a CA being rotated) trusts it.
        let bundle = try String(contentsOfFile: path("hb/ca.pem"), encoding: .utf8) + String(contentsOfFile: path("data/ca.pem"), encoding: .utf8)
        try bundle.write(toFile: path("bundle.pem"), atomically: true, encoding: .utf8)
        try #"{"clustersyncd": {"tls": {"clientCA": "\#(path("bundle.pem"))"}}}"#.write(toFile: path("bundle-settings.json"), atomically: true, encoding: .utf8)
        let bundled = try await cli.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                         "--practice", "rhyl", "--certificate", "--out", "rhyl-bundle", "--config", "bundle-settings.json"],
                                        binary: "clustersyncd")
        #expect(bundled.status == 0, "\(bundled.stderr)")
        // ...and one issued from it anyway (under other settings) is refused at the handshake.
        try "{}".write(toFile: path("other-settings.json"), atomically: true, encoding: .utf8)
        let issued = try await cli.run(issue + ["--config", "other-settings.json"], binary: "clustersyncd")
        #expect(issued.status == 0, "\(issued.stderr)")
        let rhyl = "rhyl.sqlite"
        #expect(try await cli.run("init", "--replica", rhyl, "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                            "--practice", "rhyl", "--name", "Practice manager, Rhyl").status == 0)
        try await remoteSet(rhyl, port: port, certificate: "rhyl-dev/rhyl.pem", key: "rhyl-dev/rhyl-key.pem")
        let otherCA = try await cli.run("sync", "--replica", rhyl)
        #expect(otherCA.status != 0 && otherCA.stderr.contains("TLSV1_ALERT_UNKNOWN_CA"), "a certificate of another CA must be refused: \(otherCA.stderr)")
        // The operator sees it too: the server logs the refused handshake.
        let logged = await server.process.errors.text(until: { $0.contains("TLS handshake failed") }, timeout: .seconds(10))
        #expect(logged.contains("TLS handshake failed") && logged.contains("CERTIFICATE_VERIFY_FAILED"), "\(server.output)")

        // The server's certificate is rotated (new key too) and the node restarted: practices trust
        // the CA, not the certificate, so they carry on unchanged. Renewed in place naming only
        // its host, it keeps the names it had: the practice reaches it at 127.0.0.1 (the
        // operations audit: a renewal kept only the names given, and syncs failed on the name).
        let oldServerSerial = try await serial("srv/server.pem")
        let renewed = try await pki("server", "hb", "srv", "localhost")
        #expect(renewed.contains("IP:127.0.0.1"), "\(renewed)")
        #expect(try await serial("srv/server.pem") != oldServerSerial)
        #expect(await server.stop() == 0)
        server = try await Server.start(cli: cli, port: port)
        running.value = server
        _ = try await base.addRisk(replica, "title=Flu clinic staffing", "likelihood=2", "consequence=3", "category=workforce")
        #expect(try await base.sync(replica).stdout.hasPrefix("pushed "))

        // A lost laptop: the certificate is revoked by the serial openssl prints.
        _ = try await cli.run("credential", "revoke", "--serial", firstSerial, "--tenant", "bcuhb", "--data", "data", binary: "clustersyncd")
        let refused = try await cli.run("sync", "--replica", replica)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("revoked"), "\(refused.stderr)")

        // Its replacement, made in one step at the board, works at once.
        try await pki("practice", "hb", "prestatyn-pc2", "bcuhb", "north-denbighshire", "prestatyn", "30")
        #expect(try await serial("prestatyn-pc2/prestatyn.pem") != firstSerial)
        try await remoteSet(replica, port: port, certificate: "prestatyn-pc2/prestatyn.pem", key: "prestatyn-pc2/prestatyn-key.pem")
        #expect(try await base.sync(replica).status == 0)
    }

    /// A node serving two Health Boards names each tenant's CA (`tls.tenantClientCA`): the other
    /// Board's CA, trusted for its own practices, cannot issue a certificate speaking for this
    /// Board's, and this data directory's CA, named for neither, issues nothing either.
    @Test func aNodeServingTwoBoardsAdmitsEachBoardsCertificatesForItsOwnTenantOnly() async throws {
        try #require(await base.makeServer().stop() == 0)
        try await pki("ca", "betsi", "Betsi Cadwaladr University Health Board")
        try await pki("ca", "cardiff", "Cardiff and Vale University Health Board")
        try """
            {"clustersyncd": {"tls": {"tenantClientCA": ["bcuhb=\(path("betsi/ca.pem"))", "cvuhb=\(path("cardiff/ca.pem"))"]}}}
            """.write(toFile: path("data/clustersyncd.json"), atomically: true, encoding: .utf8)
        let server = try await Server.start(cli: cli)
        Teardown.add { await server.stop() }

        func replica(_ practice: String, tenant: String, cluster: String, certificate directory: String) async throws -> String {
            let file = "\(directory).sqlite"
            #expect(try await cli.run("init", "--replica", file, "--tenant", tenant, "--cluster", cluster, "--practice", practice,
                                      "--name", "Manager, \(practice)").status == 0)
            let set = try await cli.run("remote", "set", "--replica", file, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                                        "--certificate", "\(directory)/\(practice).pem", "--key", "\(directory)/\(practice)-key.pem")
            #expect(set.status == 0, "\(set.stderr)")
            return file
        }
        // Cardiff and Vale's CA signs a certificate naming a Betsi Cadwaladr practice: TLS trusts
        // the CA, and the session is refused all the same, saying why.
        try await pki("practice", "cardiff", "forged", "bcuhb", "north-denbighshire", "prestatyn", "30")
        let forged = try await replica("prestatyn", tenant: "bcuhb", cluster: "north-denbighshire", certificate: "forged")
        _ = try await base.addRisk(forged, "title=Locum cover", "likelihood=3", "consequence=4", "category=workforce")
        let refused = try await cli.run("sync", "--replica", forged)
        #expect(refused.status != 0 && refused.stderr.contains("not a CA this server names for bcuhb"), "\(refused.stderr)")
        let logged = await server.process.errors.text(until: { $0.contains("client certificate refused") }, timeout: .seconds(10))
        #expect(logged.contains("tls.tenantClientCA"), "\(server.output)")

        // Each Board's own certificates sync.
        try await pki("practice", "betsi", "betsi-prestatyn", "bcuhb", "north-denbighshire", "prestatyn", "30")
        let prestatyn = try await replica("prestatyn", tenant: "bcuhb", cluster: "north-denbighshire", certificate: "betsi-prestatyn")
        _ = try await base.addRisk(prestatyn, "title=Flu clinic staffing", "likelihood=2", "consequence=3", "category=workforce")
        #expect(try await base.sync(prestatyn, server: server).stdout.hasPrefix("pushed "))
        try await pki("practice", "cardiff", "cardiff-llanishen", "cvuhb", "cardiff-north", "llanishen", "30")
        let llanishen = try await replica("llanishen", tenant: "cvuhb", cluster: "cardiff-north", certificate: "cardiff-llanishen")
        #expect(try await base.sync(llanishen, server: server).status == 0)

        // The data directory's CA is named for neither tenant, so issuing from it is refused.
        let issue = try await cli.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                       "--practice", "rhyl", "--certificate", "--out", "rhyl-dev"], binary: "clustersyncd")
        #expect(issue.status != 0 && issue.stderr.contains("names another CA for tenant bcuhb"), "\(issue.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path("rhyl-dev/rhyl.pem")))

        // An entry that is not TENANT=PATH stops the node from starting, naming it.
        try #"{"clustersyncd": {"port": 0, "tls": {"tenantClientCA": ["bcuhb"]}}}"#.write(toFile: path("bad.json"), atomically: true, encoding: .utf8)
        let bad = try await cli.run(["serve", "--data", "data", "--config", "bad.json"], binary: "clustersyncd")
        #expect(bad.status != 0 && bad.stderr.contains("tls.tenantClientCA entry \"bcuhb\" is not TENANT=PATH"), "\(bad.stderr)")
    }

    /// The script refuses a name the server would refuse, before making any key.
    @Test func theRecipeRefusesANameTheServerWouldRefuse() async throws {
        try await pki("ca", "hb", "Test Health Board")
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.script, "practice", "hb", "out", "bcuhb", "north denbighshire", "prestatyn"]
        process.currentDirectoryURL = dir
        process.standardError = Pipe()
        process.standardOutput = FileHandle.nullDevice
        try await process.runToExit()
        #expect(process.terminationStatus == 1)
        #expect(await process.errors.readToEnd().contains("\"north denbighshire\""))
        #expect(!FileManager.default.fileExists(atPath: path("out/prestatyn-key.pem")))
    }
}
