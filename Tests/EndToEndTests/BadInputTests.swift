import ClusterSyncCore
import Foundation
import Testing

/// Bad input on the wire, sent by hand through `openssl s_client` as PROTOCOL.md describes: each
/// gets its stable error code, the session survives or closes as documented, nothing is stored,
/// and the server keeps running.
@Suite(.serialized, .teardown) struct BadInputTests {
    let base: SyncEndToEndTests
    var cli: CLI { base.cli }

    init() throws {
        base = try SyncEndToEndTests()
    }

    /// Runs `openssl s_client`, sends `lines`, and returns the server's lines once it closes.
    func session(_ lines: [String], port: Int, certificate: String? = nil) async throws -> [JSONValue] {
        var arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", "data/ca.pem", "-quiet", "-verify_return_error"]
        if let certificate { arguments += ["-cert", "\(certificate).pem", "-key", "\(certificate)-key.pem"] }
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = base.dir
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = Pipe()
        process.standardError = FileHandle.nullDevice
        try process.run()
        // A session the server keeps open past its last answer is a failure, not a hang.
        process.kill(ifRunningAfter: 15)
        input.fileHandleForWriting.write(Data(lines.map { $0 + "\n" }.joined().utf8))
        // s_client keeps reading after stdin ends (-quiet implies -ign_eof) until the server closes.
        try input.fileHandleForWriting.close()
        let text = await process.output.readToEnd()
        await process.exited()
        return text.split(separator: "\n").compactMap { try? JSONValue(parsing: $0) }
    }

    func token(for practice: String, cluster: String = "north-denbighshire") async throws -> String {
        let issued = try await cli.run(["credential", "issue", "--data", "data", "--tenant", "bcuhb", "--cluster", cluster,
                                  "--practice", practice], binary: "clustersyncd")
        #expect(issued.status == 0, "\(issued.stderr)")
        return issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let replica = ReplicaID("00000000000000aa")!
    static let now = Int64(Date().timeIntervalSince1970 * 1000)

    /// A fixed signing key per replica id (its seed is the id's last byte, repeated), so that
    /// hand-made pushes are signed as a real replica's are (PROTOCOL.md §6.2).
    static func key(of replica: ReplicaID) -> ReplicaSigningKey {
        try! ReplicaSigningKey(rawRepresentation: [UInt8](repeating: UInt8(replica.description.suffix(2), radix: 16)!, count: 32))
    }

    /// A hello for `replica` presenting its fixed key.
    func hello(_ replica: ReplicaID = replica, token: String) -> String {
        line(.hello(Hello(replica: replica, token: token, key: Self.key(of: replica).publicKey)))
    }

    /// A change made on `BadInputTests.replica`, signed with `signer` (by default its own key).
    func change(_ counter: Int64, field: String = "title", value: JSONValue = .string("Locum cover"),
                cluster: String = "north-denbighshire", millis: Int64 = now,
                signer: ReplicaSigningKey = key(of: replica)) -> Change {
        ChangeSignature.signed(
            Change(id: ChangeID(replica: Self.replica, counter: counter), hlc: HLCTimestamp(millis: millis),
                   record: RecordID("RSK-0000000001")!, scope: RecordScope(tenant: "bcuhb", cluster: cluster), field: field, value: value),
            with: signer)
    }

    func line(_ message: WireMessage) -> String {
        String(WireCodec.encode(message).dropLast())
    }

    func codes(_ replies: [JSONValue]) -> [String] {
        replies.map { $0["type"]?.stringValue == "error" ? "error:" + ($0["code"]?.stringValue ?? "?") : ($0["type"]?.stringValue ?? "?") }
    }

    @Test func eachBadInputGetsItsCodeAndNothingIsStored() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let hello = hello(token: try await token(for: "rhyl"))
        let replies = try await session([
            hello,
            "{this is not json",
            #"{"type":"frobnicate"}"#,
            line(.push(Push(batch: "likelihood", changes: [change(1), change(2, field: "score", value: .object(["likelihood": .int(7), "consequence": .int(3)]))]))),
            line(.push(Push(batch: "patient", changes: [change(3, field: "description", value: .string("NHS no 943 476 5919"))]))),
            line(.push(Push(batch: "scope", changes: [change(4, cluster: "wrexham")]))),
            line(.push(Push(batch: "future", changes: [change(5, millis: Self.now + 3_600_000)]))),
            #"{"type":"push","batch":"types","changes":[{"id":7}]}"#,
            line(.ping(Ping(nonce: "still-there"))),
            line(.pull(Pull(cursor: nil))),
            hello,
        ], port: server.port)
        #expect(codes(replies) == [
            "welcome", "error:malformed", "error:unknown-message", "error:invalid-value", "error:patient-data",
            "error:forbidden-scope", "error:clock-skew", "error:malformed", "pong", "changes", "error:out-of-order",
        ], "\(replies)")
        // Refused batches name themselves and the change at fault.
        #expect(replies[3]["batch"] == .string("likelihood"))
        #expect(replies[3]["change"] == .string("2@00000000000000aa"))
        #expect(replies[3]["fatal"] == .bool(false))
        #expect(replies.last?["fatal"] == .bool(true))
        // The valid first change of the refused batch was not stored either.
        #expect(replies[9]["changes"] == .array([]))

        // The server is still up and still serves.
        let after = try await session([hello, line(.pull(Pull(cursor: nil))), line(.bye)], port: server.port)
        #expect(codes(after) == ["welcome", "changes"])
        #expect(after.last?["changes"] == .array([]))
    }

    @Test func outOfOrderAndBadCredentialsCloseTheSession() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let early = try await session([line(.pull(Pull(cursor: nil)))], port: server.port)
        #expect(codes(early) == ["error:out-of-order"])
        let wrongToken = try await session([line(.hello(Hello(replica: Self.replica, token: "cst_000000000000_nope")))], port: server.port)
        #expect(codes(wrongToken) == ["error:unauthenticated"])
        let noCredential = try await session([line(.hello(Hello(replica: Self.replica)))], port: server.port)
        #expect(codes(noCredential) == ["error:unauthenticated"])
        let badVersion = try await session([line(.hello(Hello(version: 99, replica: Self.replica, token: try await token(for: "rhyl"))))], port: server.port)
        #expect(codes(badVersion) == ["error:version-unsupported"])
    }

    /// A line that ends one bracket deeper than Foundation's JSON parser goes (512) used to stop
    /// the whole server: the parser trapped while describing where the line went wrong
    /// (`JSONError.SourceLocation`), and any client could send it before its hello.
    @Test func aLineNestedTooDeepIsMalformedAndTheServerStaysUp() async throws {
        let server = try await base.makeServer()
        Teardown.add { await server.stop() }
        let tooDeep = String(repeating: "[", count: 513)
        let early = try await session([tooDeep], port: server.port)
        // Refused; the session then waits for a hello until it times out, as any does.
        #expect(codes(early).first == "error:malformed", "\(early)")
        let hello = hello(token: try await token(for: "rhyl"))
        let nested = "[" + String(repeating: #"{"a":["#, count: 256)
        let replies = try await session([hello, tooDeep, nested, line(.pull(Pull(cursor: nil))), line(.bye)], port: server.port)
        #expect(codes(replies) == ["welcome", "error:malformed", "error:malformed", "changes"], "\(replies)")
        #expect(server.process.isRunning, "\(server.output)")
    }

    @Test func aLineOverTheLimitIsRefusedAndClosesTheSession() async throws {
        let server = try await base.makeServer(environment: ["CLUSTERSYNCD_LIMITS_MAX_LINE_BYTES": "2048"])
        Teardown.add { await server.stop() }
        let hello = hello(token: try await token(for: "rhyl"))
        let replies = try await session([hello, String(repeating: "x", count: 5000)], port: server.port)
        #expect(codes(replies) == ["welcome", "error:line-too-long"])
        let welcome = replies.first?["limits"]?["maxLineBytes"]
        #expect(welcome == .int(2048))
    }
}
