import ClusterSyncCore
import ClusterSyncServerTesting
import NIOCore
import Testing

@testable import ClusterSyncServer

/// The session limits of Protocol/PROTOCOL.md §10, through the production `SessionHandler`
/// (its pipeline on an `NIOAsyncTestingChannel`, the real clock, short timeouts).
@Suite struct SessionLimitsTests {
    static let connection = WireVectors.Connection(certificate: nil, nowMillis: 1_795_426_200_000, limits: .default)
    static let hello = #"{"replica":"5f0c9e1a2b3c4d5e","token":"\#(TestSession.token)","type":"hello","version":1}"#

    static func error(_ line: String?) throws -> WireError? {
        guard let line, case .error(let error) = try WireCodec.decode(line) else { return nil }
        return error
    }

    @Test func aConnectionWithoutHelloIsClosedAfterTheHelloTimeout() async throws {
        let session = try await TestSession.start(Self.connection) { $0.sessionLimits.helloTimeout = .seconds(10) }
        try await session.idle(for: .seconds(9))
        #expect(try await session.nextLine(within: 0.2) == nil, "not yet")
        try await session.idle(for: .seconds(1))
        let error = try #require(try Self.error(await session.nextLine()))
        #expect(error.code == "timed-out" && error.fatal)
        #expect(try await session.closes())
    }

    @Test func aQuietWelcomedSessionIsClosedAfterTheIdleTimeoutAnnounced() async throws {
        var connection = Self.connection
        connection.limits.idleTimeoutMillis = 60_000
        let session = try await TestSession.start(connection)
        try await session.send(line: Self.hello)
        let welcome = try #require(await session.nextLine())
        guard case .welcome(let announced) = try WireCodec.decode(welcome) else {
            Issue.record("expected welcome, got \(welcome)")
            return
        }
        #expect(announced.limits.idleTimeoutMillis == 60_000)
        // A ping within the timeout keeps the session open.
        try await session.idle(for: .seconds(50))
        try await session.send(line: #"{"type":"ping"}"#)
        #expect(try await session.nextLine() == #"{"type":"pong"}"#)
        try await session.idle(for: .seconds(50))
        #expect(try await session.nextLine(within: 0.2) == nil, "the ping moved the deadline")
        try await session.idle(for: .seconds(10))
        let error = try #require(try Self.error(await session.nextLine()))
        #expect(error.code == "timed-out" && error.fatal && error.message.contains("ping"))
        #expect(try await session.closes())
    }

    /// Blank lines are not messages: nothing answers them, so a client streaming them would
    /// never be slowed by its own reads, and each cost a credential re-check (a store read, a
    /// pooled connection on PostgreSQL) before. A message still is re-checked.
    @Test func blankLinesCostNoCredentialRecheck() async throws {
        let store = try await TestSession.transcriptStore()
        let session = try await TestSession.start(Self.connection, store: store)
        try await session.send(line: Self.hello)
        _ = try #require(await session.nextLine())
        let before = await store.credentialReadsByID
        try await session.send(ByteBuffer(string: String(repeating: "\n", count: 1_000)))
        try await session.send(line: #"{"type":"ping"}"#)
        #expect(try await session.nextLine() == #"{"type":"pong"}"#)
        #expect(await store.credentialReadsByID - before == 1, "the ping's re-check only")
    }

    /// A client sending junk is answered line by line, but only its first refusals reach the
    /// session log: 40 junk lines after its welcome write 16 rows, not 40; before its welcome
    /// none (only a refusal that closes a session is written before it is welcomed).
    @Test func aSessionWritesAtMostSixteenRefusalsToTheSessionLog() async throws {
        let session = try await TestSession.start(Self.connection)
        func junk(_ lines: Int) async throws {
            for _ in 1...lines { try await session.send(line: "x") }
            for n in 1...lines {
                let error = try #require(try Self.error(await session.nextLine()), "answer \(n)")
                #expect(error.code == "malformed" && !error.fatal)
            }
        }
        func refused() async throws -> Int {
            try await session.store.audit(tenant: nil, since: nil, limit: 1_000).filter { $0.event == .refused }.count
        }
        try await junk(ServerSessionStateMachine.maxUndecodableBeforeHello)
        #expect(try await refused() == 0, "nothing written before the welcome")
        try await session.send(line: Self.hello)
        _ = try #require(await session.nextLine())
        try await junk(40)
        #expect(try await refused() == SessionHandler.maxRefusalsRecorded && SessionHandler.maxRefusalsRecorded == 16)
    }

    /// Short lines that are no messages, packed before hello (one write, as one TLS record
    /// carries them): a few are answered, then the session is closed, and the lines read with
    /// them are not answered.
    @Test func linesBeforeHelloThatAreNoMessagesCloseTheSessionAfterAFew() async throws {
        let session = try await TestSession.start(Self.connection)
        try await session.send(line: Array(repeating: "x", count: 2_000).joined(separator: "\n"))
        for n in 1...ServerSessionStateMachine.maxUndecodableBeforeHello {
            let error = try #require(try Self.error(await session.nextLine()), "answer \(n)")
            #expect(error.code == "malformed" && !error.fatal)
        }
        let last = try #require(try Self.error(await session.nextLine()))
        #expect(last.code == "malformed" && last.fatal, "\(last)")
        #expect(try await session.closes())
    }

    /// Before its welcome, the refusal that closes a session is written: an unknown token.
    @Test func anUnknownTokenIsWrittenToTheSessionLog() async throws {
        let session = try await TestSession.start(Self.connection)
        try await session.send(line: #"{"replica":"5f0c9e1a2b3c4d5e","token":"cst_000000000000_q8Zt0V3mXb7nLr2KcW5yJ1hPd9sGf4uA6eT0iOkBx3M","type":"hello","version":1}"#)
        let error = try #require(try Self.error(await session.nextLine()))
        #expect(error.code == "unauthenticated" && error.fatal)
        #expect(try await session.closes())
        let refused = try await session.store.audit(tenant: nil, since: nil, limit: 1_000).filter { $0.event == .refused }
        #expect(refused.map(\.code) == ["unauthenticated"], "\(refused)")
    }

    /// A page longer than a slice goes out in writes of at most `SessionHandler.flushedSlice`
    /// bytes, each flushed, so the TLS layer's buffer never grows to a page's size; together they
    /// are the one line, whole.
    @Test func aLongPageIsWrittenInSlicesNoLongerThanTheFlushBound() async throws {
        let session = try await TestSession.start(Self.connection)
        let long = String(repeating: "Locum cover across the four practices of the cluster. ", count: 40)
        let changes = (1...200).map { n in
            Change(id: ChangeID(replica: ReplicaID("00000000000000c3")!, counter: Int64(n)), hlc: HLCTimestamp(millis: Self.connection.nowMillis - 60_000, logical: UInt16(n)),
                   record: RecordID.random(for: .risk), scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"), field: "description",
                   value: .string(long), supersedes: [])
        }
        try await session.otherSessionPushes(Push(batch: "b", changes: changes))
        try await session.send(line: Self.hello)
        _ = try #require(await session.nextLine())
        try await session.send(line: #"{"type":"pull"}"#)
        // A long deadline: with every suite running at once the page's hundred slices have
        // taken over 30 s to come (a partial line then failed as JSON).
        let writes = try #require(await session.nextLineWrites(within: 180))
        let line = writes.map { String(buffer: $0) }.joined()
        #expect(line.utf8.count > 3 * SessionHandler.flushedSlice, "a page of several slices")
        #expect(writes.count == (line.utf8.count + SessionHandler.flushedSlice - 1) / SessionHandler.flushedSlice)
        #expect(writes.allSatisfy { $0.readableBytes <= SessionHandler.flushedSlice })
        guard case .changes(let page) = try WireCodec.decode(String(line.dropLast())) else {
            Issue.record("expected a page")
            return
        }
        #expect(page.count == 200)
    }

    @Test func anUnauthenticatedClientCannotMakeTheServerHoldMoreThanTheAllowance() async throws {
        let session = try await TestSession.start(Self.connection) { $0.sessionLimits.maxBytesBeforeWelcome = 1_024 }
        // Less than the line limit, more than the allowance, no newline.
        try? await session.send(ByteBuffer(repeating: UInt8(ascii: "x"), count: 4_096))
        let error = try #require(try Self.error(await session.nextLine()))
        #expect(error.code == "line-too-long" && error.fatal && error.message.contains("1024"))
        #expect(try await session.closes())
    }

    @Test func afterWelcomeLinesMayBeAsLongAsMaxLineBytes() async throws {
        let session = try await TestSession.start(Self.connection) { $0.sessionLimits.maxBytesBeforeWelcome = 1_024 }
        try await session.send(line: Self.hello)
        _ = try #require(await session.nextLine())
        let padding = String(repeating: " ", count: 8_000)
        try await session.send(line: #"{"nonce":"long","type":"ping"}"# + padding)
        #expect(try await session.nextLine() == #"{"nonce":"long","type":"pong"}"#)
    }

    @Test func aCredentialMayHoldOnlyItsShareOfSessions() async throws {
        let store = try await TestSession.transcriptStore()
        let registry = ConnectionRegistry(maxConnections: 100, maxConnectionsPerCredential: 1)
        let first = try await TestSession.start(Self.connection, store: store) { $0.connections = registry }
        try await first.send(line: Self.hello)
        #expect(try await first.nextLine()?.contains(#""type":"welcome""#) == true)

        let second = try await TestSession.start(Self.connection, store: store) { $0.connections = registry }
        try await second.send(line: Self.hello)
        let error = try #require(try Self.error(await second.nextLine()))
        #expect(error.code == "too-many-connections" && error.fatal)
        #expect(try await second.closes())

        // Once the first leaves, its slot is free again.
        try await first.send(line: #"{"type":"bye"}"#)
        #expect(try await first.closes())
        let third = try await TestSession.start(Self.connection, store: store) { $0.connections = registry }
        try await third.send(line: Self.hello)
        #expect(try await third.nextLine()?.contains(#""type":"welcome""#) == true)
    }

    /// A subscription that starts several pages behind sends every page at once, without
    /// waiting for another push to wake it: a practice that subscribes after a week away is up
    /// to date even if nobody pushes again.
    @Test func aSubscriptionBehindByManyPagesCatchesUpWithoutAnotherPush() async throws {
        var connection = Self.connection
        connection.limits.maxChangesPerPage = 2
        let store = try await TestSession.transcriptStore()
        let changes = (1...5).map { n in
            Change(id: ChangeID(replica: ReplicaID("a3b4c5d6e7f80912")!, counter: Int64(n)), hlc: HLCTimestamp(millis: 1_795_426_200_000),
                   record: RecordID("RSK-7K3M9Q2X1A")!, scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"), field: "title", value: .string("Title \(n)"))
        }
        _ = try await store.push(changes, as: TestSession.otherIdentity)
        let session = try await TestSession.start(connection, store: store)
        try await session.send(line: Self.hello)
        #expect(try await session.nextLine()?.contains(#""type":"welcome""#) == true)
        try await session.send(line: #"{"cursor":"s1:0","type":"subscribe"}"#)
        #expect(try await session.nextLine() == #"{"cursor":"s1:0","type":"subscribed"}"#)
        var cursors: [String] = []
        for _ in 0..<3 {
            let line = try #require(try await session.nextLine(within: 5), "a page is missing after \(cursors)")
            guard case .changes(let page) = try WireCodec.decode(line) else { Issue.record("not a page: \(line)"); return }
            cursors.append("\(page.cursor.rawValue) \(page.more)")
        }
        #expect(cursors == ["s1:2 true", "s1:4 true", "s1:5 false"])
    }

    /// Pushes sent one after another are checked while the one before commits, and answered in
    /// the order they came, a refused one in its place; what the client sends after them is
    /// answered after them.
    @Test func pushesSentTogetherAreAnsweredInTheOrderTheyCame() async throws {
        let session = try await TestSession.start(Self.connection)
        let replica = ReplicaID("5f0c9e1a2b3c4d5e")!
        let key = ReplicaSigningKey()
        try await session.send(line: WireCodec.encode(.hello(Hello(replica: replica, token: TestSession.token, client: "test", key: key.publicKey))))
        #expect(try await session.nextLine()?.contains(#""type":"welcome""#) == true)
        func change(_ n: Int64, signedWith signer: ReplicaSigningKey) -> Change {
            ChangeSignature.signed(Change(
                id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: 1_795_426_200_000, logical: UInt16(n)),
                record: RecordID("RSK-7K3M9Q2X1A")!, scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"), field: "title",
                value: .string("Title \(n)"), supersedes: n > 1 ? [ChangeID(replica: replica, counter: n - 1)] : []), with: signer)
        }
        let batches = [("b1", (1...50).map { change($0, signedWith: key) }),
                       ("b2", [change(51, signedWith: ReplicaSigningKey())]),
                       ("b3", (52...100).map { change($0, signedWith: key) })]
        for (batch, changes) in batches {
            try await session.send(ByteBuffer(string: WireCodec.encode(.push(Push(batch: batch, changes: changes)))))
        }
        try await session.send(line: #"{"nonce":"after","type":"ping"}"#)
        var answers: [String] = []
        for _ in 0..<4 {
            let line = try #require(try await session.nextLine(), "answered so far: \(answers)")
            switch try WireCodec.decode(line) {
            case .ack(let ack): answers.append("ack \(ack.batch) \(ack.accepted)")
            case .error(let error): answers.append("error \(error.batch ?? "-") \(error.code)")
            case .pong(let pong): answers.append("pong \(pong.nonce ?? "-")")
            default: answers.append(line)
            }
        }
        #expect(answers == ["ack b1 50", "error b2 \(ClusterSyncError.Code.badSignature.rawValue)", "ack b3 49", "pong after"])
    }

    /// A hostile client that sends pushes without reading the answers: the session holds at most
    /// `maxPushesInFlight` of them between check and answer (the next waits for the oldest's
    /// answer), and every push is still answered, in order.
    @Test func pushesSentWithoutReadingAreHeldAtMostTwoAtATime() async throws {
        #expect(SessionHandler.maxPushesInFlight == 2)
        let session = try await TestSession.start(Self.connection)
        let replica = ReplicaID("5f0c9e1a2b3c4d5e")!
        let key = ReplicaSigningKey()
        try await session.send(line: WireCodec.encode(.hello(Hello(replica: replica, token: TestSession.token, client: "test", key: key.publicKey))))
        #expect(try await session.nextLine()?.contains(#""type":"welcome""#) == true)
        for n in Int64(1)...8 {
            let change = ChangeSignature.signed(Change(
                id: ChangeID(replica: replica, counter: n), hlc: HLCTimestamp(millis: 1_795_426_200_000, logical: UInt16(n)),
                record: RecordID("RSK-7K3M9Q2X1A")!, scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"), field: "title",
                value: .string("Title \(n)")), with: key)
            try await session.send(ByteBuffer(string: WireCodec.encode(.push(Push(batch: "b\(n)", changes: [change])))))
        }
        var batches: [String] = []
        for _ in 1...8 {
            guard case .ack(let ack) = try WireCodec.decode(try #require(try await session.nextLine())) else { break }
            batches.append(ack.batch)
        }
        #expect(batches == (1...8).map { "b\($0)" })
    }

    /// A cursor another tenant's longer stream issued is past this tenant's end: refused.
    @Test func anotherTenantsCursorPastThisTenantsEndIsRefused() async throws {
        let store = try await TestSession.transcriptStore()
        try await store.addTenant("abuhb")
        try await store.addCluster("north", tenant: "abuhb")
        try await store.addPractice("W93001", cluster: "north", tenant: "abuhb")
        let other = SessionIdentity(tenant: "abuhb", cluster: "north", practice: "W93001", author: "W93001")
        let changes = (1...3).map { n in
            Change(id: ChangeID(replica: ReplicaID("a3b4c5d6e7f80912")!, counter: Int64(n)), hlc: HLCTimestamp(millis: 1_795_426_200_000),
                   record: RecordID("RSK-7K3M9Q2X1A")!, scope: RecordScope(tenant: "abuhb", cluster: "north"), field: "title", value: .string("Title \(n)"))
        }
        _ = try await store.push(changes, as: other)
        let otherCursor = try await store.pull(for: other, after: nil, limit: 10).cursor
        #expect(otherCursor == Cursor("s1:3"))

        let session = try await TestSession.start(Self.connection, store: store)
        try await session.send(line: Self.hello)
        _ = try #require(await session.nextLine())
        try await session.send(line: #"{"cursor":"s1:3","type":"pull"}"#)
        let error = try #require(try Self.error(await session.nextLine()))
        #expect(error.code == "malformed" && !error.fatal)
        try await session.send(line: #"{"cursor":"s1:3","type":"subscribe"}"#)
        #expect(try Self.error(await session.nextLine())?.code == "malformed")
    }
}

/// The in-memory store keeps tenants apart as the SQLite store does.
@Suite struct InMemoryServerStoreTests {
    @Test func tenantsShareNothing() async throws {
        let store = InMemoryServerStore()
        for tenant in ["ctmuhb", "abuhb"] {
            try await store.addTenant(tenant)
            try await store.addCluster("north", tenant: tenant)
            try await store.addPractice("W1", cluster: "north", tenant: tenant)
        }
        func identity(_ tenant: String) -> SessionIdentity { SessionIdentity(tenant: tenant, cluster: "north", practice: "W1", author: "W1") }
        func change(_ tenant: String, _ value: String) -> Change {
            Change(id: ChangeID(replica: ReplicaID("5f0c9e1a2b3c4d5e")!, counter: 1), hlc: HLCTimestamp(millis: 1_795_426_200_000),
                   record: RecordID("RSK-7K3M9Q2X1A")!, scope: RecordScope(tenant: tenant, cluster: "north"), field: "title", value: .string(value))
        }
        // The same change id and record id in both tenants: both are stored, each in its own stream.
        #expect(try await store.push([change("ctmuhb", "A")], as: identity("ctmuhb")) == PushOutcome(accepted: 1, duplicates: 0))
        #expect(try await store.push([change("abuhb", "B")], as: identity("abuhb")) == PushOutcome(accepted: 1, duplicates: 0))
        #expect(try await store.pull(for: identity("abuhb"), after: nil, limit: 10).changes.map(\.value) == [.string("B")])
        #expect(try await store.currentCursor(tenant: "ctmuhb") == Cursor("s1:1"))
        await #expect(throws: (any Error).self) { try await store.push([change("ctmuhb", "C")], as: identity("abuhb")) }
    }
}
