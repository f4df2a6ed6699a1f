import ClusterSyncCore
import Foundation
import Synchronization
import Testing

/// Credential lifecycle and the session log through the real binaries: `clustersyncd credential
/// issue/list/revoke`, `audit`, a server on loopback TLS, `openssl s_client` and `clustersync sync`.
@Suite(.serialized, .teardown) struct CredentialLifecycleTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    func admin(_ arguments: String...) async throws -> CLI.Result {
        try await cli.run(arguments + ["--data", "data"], binary: "clustersyncd")
    }

    func token(_ practice: String, _ extra: String...) async throws -> String {
        let issued = try await cli.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                  "--practice", practice] + extra, binary: "clustersyncd")
        #expect(issued.status == 0, "\(issued.stderr)")
        return issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A token's credential id: the part between `cst_` and the secret.
    func id(of token: String) -> String { String(token.dropFirst(4).prefix(12)) }

    func line(_ message: WireMessage) -> String { String(WireCodec.encode(message).dropLast()) }

    /// An `openssl s_client` session kept open, fed one line at a time.
    final class HeldSession: Sendable {
        let process = ChildProcess()
        let input = Pipe()
        /// How much of the output `next()` has taken.
        private let consumed = Mutex(0)

        init(port: Int, in directory: URL) throws {
            // A write to an openssl that has already exited must fail, not kill the test process.
            signal(SIGPIPE, SIG_IGN)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", "data/ca.pem", "-quiet", "-verify_return_error"]
            process.currentDirectoryURL = directory
            process.standardInput = input
            process.standardOutput = Pipe()
            process.standardError = FileHandle.nullDevice
            try process.run()
            // A session that never answers is a failure, not a hang.
            process.kill(ifRunningAfter: 30)
        }

        func send(_ line: String) { input.fileHandleForWriting.write(Data((line + "\n").utf8)) }

        /// The server's next line, or nil once it has closed.
        func next() async -> JSONValue? {
            while true {
                let (data, ended) = process.output.snapshot
                let start = consumed.withLock { $0 }
                if let newline = data[(data.startIndex + start)...].firstIndex(of: UInt8(ascii: "\n")) {
                    let line = data[(data.startIndex + start)..<newline]
                    consumed.withLock { $0 = newline + 1 - data.startIndex }
                    return try? JSONValue(parsing: String(decoding: line, as: UTF8.self))
                }
                if ended { return nil }
                await process.output.more(than: data.count)
            }
        }

        func close() async {
            try? input.fileHandleForWriting.close()
            if process.isRunning { process.terminate() }
            await process.exited()
        }
    }

    /// A laptop is lost while its session is open: the token is revoked, and the session's next
    /// message is refused with `unauthenticated` naming the revocation, then the connection closes.
    /// The session log shows the connection and the refusal, by credential id, never the token.
    @Test func revokingATokenRefusesTheOpenSessionsNextMessageAndIsAudited() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let token = try await token("rhyl", "--label", "Dr Jones laptop", "--expires", "90d")
        let session = try HeldSession(port: server.port, in: base.dir)
        Teardown.add { await session.close() }
        session.send(line(.hello(Hello(replica: ReplicaID("00000000000000ab")!, token: token))))
        let welcome = try #require(await session.next())
        #expect(welcome["type"] == .string("welcome"), "\(welcome)")
        // The welcome tells the client when its credential expires (ms since 1970), about 90 days on.
        let expires = try #require(welcome["credentialExpiresAt"]?.intValue)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(abs(expires - (now + 90 * 86_400_000)) < 3_600_000)
        session.send(line(.ping(Ping(nonce: "before"))))
        #expect(await session.next()?["type"] == .string("pong"))

        let revoked = try await admin("credential", "revoke", id(of: token))
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(revoked.stdout.contains("revoked token \(id(of: token))"))
        let again = try await admin("credential", "revoke", id(of: token))
        #expect(again.status == 0 && again.stdout.contains("token \(id(of: token)) of ") && again.stdout.contains("was already revoked, at "),
                "\(again.stdout)")

        session.send(line(.ping(Ping(nonce: "after"))))
        let refusal = try #require(await session.next())
        #expect(refusal["type"] == .string("error"))
        #expect(refusal["code"] == .string("unauthenticated"))
        #expect(refusal["fatal"] == .bool(true))
        #expect(refusal["message"]?.stringValue?.contains("revoked") == true, "\(refusal)")
        #expect(await session.next() == nil, "the server closes the session")

        // A new session with it is refused at hello.
        let rhyl = try #require(try await cli.run("init", "--replica", "rhyl.sqlite", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                            "--practice", "rhyl", "--name", "Manager").status == 0 ? "rhyl.sqlite" : nil)
        try token.write(to: base.dir.appendingPathComponent("rhyl.token"), atomically: true, encoding: .utf8)
        #expect(try await cli.run("remote", "set", "--replica", rhyl, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                            "--token-file", "rhyl.token").status == 0)
        let sync = try await cli.run("sync", "--replica", rhyl)
        #expect(sync.status != 0)
        #expect(sync.stderr.contains("revoked"), "\(sync.stderr)")

        // credential list shows it revoked, with its last use recorded at session start.
        let list = try #require(try await admin("credential", "list", "--tenant", "bcuhb", "--json").json)
        guard case .array(let credentials) = list["credentials"] else { Issue.record("\(list)"); return }
        let entry = try #require(credentials.first { $0["id"] == .string(id(of: token)) })
        #expect(entry["kind"] == .string("token"))
        #expect(entry["practice"] == .string("rhyl"))
        #expect(entry["cluster"] == .string("north-denbighshire"))
        #expect(entry["label"] == .string("Dr Jones laptop"))
        #expect(entry["state"] == .string("revoked"))
        #expect(entry["revoked"]?.stringValue?.hasSuffix("Z") == true)
        #expect(entry["lastUsed"]?.stringValue?.hasSuffix("Z") == true)
        #expect(entry["expires"]?.stringValue?.hasSuffix("Z") == true)
        #expect(entry["serial"] == .null)

        let audit = try await admin("audit", "--tenant", "bcuhb", "--since", "1h", "--json")
        #expect(audit.status == 0, "\(audit.stderr)")
        #expect(!audit.stdout.contains(token), "the session log never holds a secret")
        #expect(!audit.stdout.contains(String(token.suffix(43))))
        guard case .array(let entries) = try #require(audit.json)["entries"] else { Issue.record("\(audit.stdout)"); return }
        let mine = entries.filter { $0["credential"] == .string(id(of: token)) }
        #expect(mine.first?["event"] == .string("connected"), "\(mine)")
        #expect(mine.count >= 3 && mine.dropFirst().allSatisfy { $0["event"] == .string("refused") }, "\(mine)")
        #expect(mine.first?["peer"]?.stringValue?.hasPrefix("127.0.0.1:") == true)
        #expect(mine.first?["practice"] == .string("rhyl"))
        #expect(mine.dropFirst().allSatisfy { $0["code"] == .string("unauthenticated") })
        // The table form too.
        let table = try await admin("audit", "--tenant", "bcuhb")
        #expect(table.stdout.contains("connected") && table.stdout.contains("unauthenticated"), "\(table.stdout)")
    }

    /// A `sync --watch` left running on a lost laptop: once its token is revoked, its next ping is
    /// refused and the watch stops with the reason, instead of reconnecting.
    @Test func revokingATokenStopsARunningWatch() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let rhyl = try await base.makeReplica("rhyl", certificate: false, server: server)
        let token = try String(contentsOf: base.dir.appendingPathComponent("rhyl.token"), encoding: .utf8)
        let watch = try WatchEndToEndTests.startWatch(rhyl, in: base.dir)
        defer { if watch.isRunning { watch.terminate() } }
        func lastUsed() async throws -> JSONValue? {
            guard case .array(let rows) = try await admin("credential", "list", "--json").json?["credentials"] else { return nil }
            return rows.first { $0["id"] == .string(id(of: token)) }?["lastUsed"]
        }
        var deadline = Date().addingTimeInterval(30)
        while try await lastUsed() == .null, Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        #expect(try await lastUsed()?.stringValue != nil, "the watch never connected")
        #expect(watch.isRunning)

        // The whole token, pasted, names its credential.
        #expect(try await admin("credential", "revoke", token).status == 0)
        deadline = Date().addingTimeInterval(30)
        while watch.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!watch.isRunning, "the watch kept running with a revoked token")
        await watch.exited()
        #expect(watch.terminationStatus == 1)
        let stderr = (try? String(contentsOf: base.dir.appendingPathComponent("\(rhyl).err"), encoding: .utf8)) ?? ""
        #expect(stderr.contains("revoked") && stderr.contains("(unauthenticated)"), "\(stderr)")
    }

    /// A token past its expiry opens no session, and says so.
    @Test func anExpiredTokenIsRefused() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let token = try await token("prestatyn", "--expires", "1s")
        try await Task.sleep(for: .milliseconds(1_200))
        let session = try HeldSession(port: server.port, in: base.dir)
        Teardown.add { await session.close() }
        session.send(line(.hello(Hello(replica: ReplicaID("00000000000000ac")!, token: token))))
        let refusal = try #require(await session.next())
        #expect(refusal["code"] == .string("unauthenticated"))
        #expect(refusal["message"]?.stringValue?.contains("expired") == true, "\(refusal)")
        let list = try #require(try await admin("credential", "list", "--json").json)
        guard case .array(let credentials) = list["credentials"] else { Issue.record("no credentials: \(list)"); return }
        #expect(credentials.first { $0["id"] == .string(id(of: token)) }?["state"] == .string("expired"))
        #expect(try await admin("credential", "issue", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "rhyl",
                          "--expires", "soon").stderr.contains("--expires must be a duration"))
        // "3m": three months to the person typing it, three minutes to a duration; refused.
        let minutes = try await admin("credential", "issue", "--tenant", "bcuhb", "--cluster", "north-denbighshire", "--practice", "rhyl",
                                      "--expires", "3m")
        #expect(minutes.status != 0 && minutes.stderr.contains("months: 90d"), "\(minutes.stderr)")

        // Without --expires: the settings file's credentials.defaultExpiryDays.
        try #"{"clustersyncd": {"credentials": {"defaultExpiryDays": 10}}}"#
            .write(to: base.dir.appendingPathComponent("settings.json"), atomically: true, encoding: .utf8)
        let defaulted = try await self.token("rhyl", "--config", "settings.json")
        let never = try await self.token("rhyl", "--expires", "never")
        let all = try #require(try await admin("credential", "list", "--json").json)
        guard case .array(let rows) = all["credentials"] else { Issue.record("no credentials: \(all)"); return }
        let tenDays = CredentialRecordISO.day(offsetDays: 10)
        #expect(rows.first { $0["id"] == .string(id(of: defaulted)) }?["expires"]?.stringValue?.hasPrefix(tenDays) == true, "\(rows)")
        #expect(rows.first { $0["id"] == .string(id(of: never)) }?["expires"] == .null)
    }

    /// A certificate issued here is listed (with its serial) and can be revoked by id; one a
    /// Health Board's own CA issued with openssl works until revoked by serial.
    @Test func certificatesAreListedAndRevocable() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let prestatyn = try await base.makeReplica("prestatyn", certificate: true, server: server)
        _ = try await base.sync(prestatyn)
        let list = try #require(try await admin("credential", "list", "--tenant", "bcuhb", "--json").json)
        guard case .array(let credentials) = list["credentials"] else { Issue.record("\(list)"); return }
        let certificate = try #require(credentials.first { $0["kind"] == .string("certificate") })
        let serial = try #require(certificate["serial"]?.stringValue)
        #expect(certificate["id"] == .string("crt_" + serial))
        #expect(certificate["practice"] == .string("prestatyn"))
        #expect(certificate["lastUsed"]?.stringValue != nil)

        // Issued again into the folder that holds the first: refused before anything is
        // recorded, so no live credential is left without its key.
        let again = try await cli.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                       "--practice", "prestatyn", "--certificate", "--out", "certs-prestatyn"], binary: "clustersyncd")
        #expect(again.status != 0 && again.stderr.contains("already exists"), "\(again.stderr)")
        let afterRefusal = try #require(try await admin("credential", "list", "--tenant", "bcuhb", "--json").json)
        #expect(afterRefusal == list, "\(afterRefusal)")
        #expect(try await admin("credential", "revoke", "crt_" + serial).status == 0)
        let refused = try await cli.run("sync", "--replica", prestatyn)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("revoked"), "\(refused.stderr)")

        // A certificate signed by the CA with openssl, not recorded here.
        #expect(try await cli.run("init", "--replica", "rhyl.sqlite", "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                            "--practice", "rhyl", "--name", "Manager").status == 0)
        let ext = "subjectAltName=URI:clustersync://bcuhb/north-denbighshire/rhyl\nextendedKeyUsage=clientAuth\n"
        try ext.write(to: base.dir.appendingPathComponent("rhyl.ext"), atomically: true, encoding: .utf8)
        for arguments in [
            ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "rhyl-key.pem",
             "-out", "rhyl.csr", "-subj", "/O=bcuhb/OU=north-denbighshire/CN=rhyl"],
            ["x509", "-req", "-in", "rhyl.csr", "-CA", "data/ca.pem", "-CAkey", "data/ca-key.pem", "-set_serial", "0x0BAD5EED",
             "-days", "30", "-extfile", "rhyl.ext", "-out", "rhyl.pem"],
        ] {
            let openssl = ChildProcess()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            openssl.arguments = arguments
            openssl.currentDirectoryURL = base.dir
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try await openssl.runToExit()
            #expect(openssl.terminationStatus == 0, "openssl \(arguments)")
        }
        #expect(try await cli.run("remote", "set", "--replica", "rhyl.sqlite", "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                            "--certificate", "rhyl.pem", "--key", "rhyl-key.pem").status == 0)
        _ = try await base.sync("rhyl.sqlite")
        let revoke = try await admin("credential", "revoke", "--serial", "0B:AD:5E:ED", "--tenant", "bcuhb")
        #expect(revoke.status == 0, "\(revoke.stderr)")
        let after = try await cli.run("sync", "--replica", "rhyl.sqlite")
        #expect(after.status != 0)
        #expect(after.stderr.contains("bad5eed") && after.stderr.contains("revoked"), "\(after.stderr)")
        #expect(try await admin("credential", "revoke", "--serial", "xyz", "--tenant", "bcuhb").status != 0)
    }

    /// The welcome tells the replica when its credential expires; `status` warns from 30 days before.
    @Test func statusWarnsThirtyDaysBeforeTheCredentialExpires() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        for (practice, expires, warns) in [("rhyl", "20d", true), ("prestatyn", "90d", false)] {
            let file = "\(practice).sqlite"
            #expect(try await cli.run("init", "--replica", file, "--tenant", "bcuhb", "--cluster", "north-denbighshire",
                                "--practice", practice, "--name", "Manager").status == 0)
            try await token(practice, "--expires", expires).write(to: base.dir.appendingPathComponent("\(practice).token"), atomically: true, encoding: .utf8)
            #expect(try await cli.run("remote", "set", "--replica", file, "127.0.0.1:\(server.port)", "--ca", "data/ca.pem",
                                "--token-file", "\(practice).token").status == 0)
            #expect(try await cli.run("status", "--replica", file).stdout.contains("warning") == false, "no expiry known before a sync")
            _ = try await base.sync(file)
            let status = try await cli.run("status", "--replica", file)
            #expect(status.stdout.contains("credential expires"), "\(status.stdout)")
            #expect(status.stdout.contains("warning: this replica's credential expires in 20 days") == warns, "\(status.stdout)")
            let json = try #require(try await cli.run("status", "--replica", file, "--json").json)
            #expect(json["credentialExpires"]?.stringValue != nil)
            #expect((json["credentialWarning"]?.stringValue != nil) == warns, "\(json)")
        }
    }

    @Test func tenantsAndClustersAreListed() async throws {
        let server = try await base.makeServer()
        _ = await server.stop()
        #expect(try await admin("tenant", "list").stdout == "bcuhb\ncvuhb\n")
        #expect(try await admin("cluster", "list", "--tenant", "bcuhb").stdout == "bcuhb/north-denbighshire\nbcuhb/wrexham\n")
        #expect(try await admin("cluster", "list").stdout.contains("cvuhb/cardiff-north"))
        #expect(try await admin("cluster", "list", "--tenant", "nosuch").status == 1)
    }
}

/// The UTC date `offsetDays` from now, as `credential list --json` starts its times.
enum CredentialRecordISO {
    static func day(offsetDays: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date().addingTimeInterval(Double(offsetDays) * 86_400))
    }
}
