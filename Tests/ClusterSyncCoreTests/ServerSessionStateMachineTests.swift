import ClusterSyncCore
import NIOCore
import NIOEmbedded
import Testing

/// A server for the transcripts: the state machine, the line decoder in an `EmbeddedChannel`,
/// and an in-memory store with the SQLite store's cursors ("s1:<sequence>"), fixed identities
/// and a fixed clock. It performs every action the way the real channel handler must.
struct TranscriptServer {
    static let token = "cst_3f9a0c1d2e4b_q8Zt0V3mXb7nLr2KcW5yJ1hPd9sGf4uA6eT0iOkBx3M"
    static let tokenIdentity = SessionIdentity(tenant: "ctmuhb", cluster: "rhondda", practice: "W95010", author: "W95010 (Siân Evans)")
    /// The identity of the other session in the subscribe transcript.
    static let otherIdentity = SessionIdentity(tenant: "ctmuhb", cluster: "rhondda", practice: "W95011", author: "W95011 (Rhys Morgan)")
    static let server = "clustersyncd 0.1.0"
    static let unknownToken = "the token is unknown or revoked: ask the cluster's administrator for a new one"

    enum Output: Equatable, CustomStringConvertible {
        case line(String)
        case close

        var description: String {
            switch self {
            case .line(let l): l
            case .close: "(close)"
            }
        }
    }

    var machine: ServerSessionStateMachine
    let connection: WireVectors.Connection
    let channel: EmbeddedChannel
    /// The log: (sequence number = index + 1, stored change).
    var log: [Change] = []
    /// Sequence numbers this session stored; its subscription does not echo them.
    var own: Set<Int> = []
    var subscriptionCursor: Cursor?
    var outputs: [Output] = []

    init(_ connection: WireVectors.Connection) throws {
        self.connection = connection
        self.machine = ServerSessionStateMachine(limits: connection.limits, certificateIdentity: connection.certificate != nil)
        self.channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLineBytes: connection.limits.maxLineBytes)))
    }

    // MARK: Input

    /// Sends bytes from the client through the line decoder into the state machine.
    mutating func clientSends(_ bytes: ByteBuffer) throws {
        do {
            try channel.writeInbound(bytes)
        } catch let error as ClusterSyncError where error.code == .lineTooLong {
            try deliverDecodedLines()
            perform(machine.lineTooLong())
            return
        }
        try deliverDecodedLines()
    }

    private mutating func deliverDecodedLines() throws {
        while let line = try channel.readInbound(as: ByteBuffer.self) {
            perform(machine.lineReceived(line))
        }
    }

    /// Another session of the cluster pushes: store its changes and publish them.
    mutating func otherSessionPushes(_ push: Push) {
        _ = store(push.changes, as: Self.otherIdentity)
        publishPending()
    }

    // MARK: Actions

    mutating func perform(_ action: ServerSessionStateMachine.Action) {
        switch action {
        case .none:
            break
        case .send(let message):
            outputs.append(.line(String(WireCodec.encode(message).dropLast())))
        case .close(let error):
            if let error { outputs.append(.line(String(WireCodec.encode(.error(error)).dropLast()))) }
            outputs.append(.close)
        case .authenticate(let hello):
            if let token = hello.token {
                perform(token == Self.token
                    ? machine.authenticated(Self.tokenIdentity, server: Self.server)
                    : machine.authenticationFailed(Self.unknownToken))
            } else {
                // Only asked for when the connection has a certificate; the transcripts' are all registered.
                let parts = connection.certificate!.dropFirst("clustersync://".count).split(separator: "/").map(String.init)
                perform(machine.authenticated(
                    SessionIdentity(tenant: parts[0], cluster: parts[1], practice: parts[2], author: parts[2]), server: Self.server))
            }
        case .store(let push):
            let identity = machine.identity!
            do throws(PushRejection) {
                try PushValidation.validate(push, for: identity, nowMillis: connection.nowMillis, limits: connection.limits)
            } catch {
                perform(machine.pushFailed(batch: push.batch, error: error.error, change: error.change))
                return
            }
            let (accepted, duplicates) = store(push.changes, as: identity, own: true)
            perform(machine.pushStored(Ack(batch: push.batch, accepted: accepted, duplicates: duplicates, author: identity.author)))
        case .fetch(let pull):
            do throws(ClusterSyncError) {
                perform(machine.fetched(try page(for: machine.identity!, after: pull.cursor, limit: pull.limit!)))
            } catch {
                perform(machine.requestFailed(error))
            }
        case .subscribe(let subscribe):
            let cursor = subscribe.cursor ?? Cursor("s1:\(log.count)")
            do throws(ClusterSyncError) {
                _ = try Self.sequence(cursor)
            } catch {
                perform(machine.requestFailed(error))
                return
            }
            subscriptionCursor = cursor
            perform(machine.subscribed(at: cursor))
            publishPending()
        }
    }

    /// Sends a subscribed session what it has not seen, but for its own pushes.
    mutating func publishPending() {
        guard machine.isSubscribed, let identity = machine.identity else { return }
        while true {
            let page = try! page(for: identity, after: subscriptionCursor, limit: connection.limits.maxChangesPerPage, skippingOwn: true)
            guard !page.changes.isEmpty else { return }
            subscriptionCursor = page.cursor
            perform(machine.published(page))
            if !page.more { return }
        }
    }

    // MARK: The store

    mutating func store(_ changes: [Change], as identity: SessionIdentity, own isOwn: Bool = false) -> (Int, Int) {
        var accepted = 0
        for var change in changes where !log.contains(where: { $0.id == change.id }) {
            change.author = identity.author
            log.append(change)
            if isOwn { own.insert(log.count) }
            accepted += 1
        }
        return (accepted, changes.count - accepted)
    }

    func page(for identity: SessionIdentity, after cursor: Cursor?, limit: Int, skippingOwn: Bool = false) throws(ClusterSyncError) -> ChangesPage {
        let after = try cursor.map(Self.sequence) ?? 0
        let visible = log.indices
            .map { (seq: $0 + 1, change: log[$0]) }
            .filter { $0.seq > after && identity.mayAccess($0.change.scope) && !(skippingOwn && own.contains($0.seq)) }
        let page = visible.prefix(limit)
        return ChangesPage(
            changes: page.map(\.change), cursor: page.last.map { Cursor("s1:\($0.seq)") } ?? cursor ?? Cursor("s1:0"),
            more: visible.count > limit)
    }

    static func sequence(_ cursor: Cursor) throws(ClusterSyncError) -> Int {
        guard cursor.rawValue.hasPrefix("s1:"), let n = Int(cursor.rawValue.dropFirst(3)), n >= 0 else {
            throw ClusterSyncError(.malformed, "not a cursor this server issued", field: "cursor")
        }
        return n
    }
}

@Suite struct ServerSessionStateMachineTests {
    typealias Machine = ServerSessionStateMachine
    static let a = ReplicaID("5f0c9e1a2b3c4d5e")!
    static let identity = TranscriptServer.tokenIdentity
    static let limits = WireLimits.default
    static let now: Int64 = 1_795_426_200_000  // 2026-11-23T09:30:00Z

    // MARK: Transcripts

    /// Plays the client's side of each transcript into a `TranscriptServer` and expects exactly
    /// the server's lines, byte for byte, and the close.
    @Test(arguments: WireVectors.names)
    func transcript(_ name: String) throws {
        let transcript = try WireVectors.load(name)
        var server = try TranscriptServer(transcript.connection)
        var expected: [TranscriptServer.Output] = []

        func check(_ position: Int) {
            #expect(server.outputs == expected, "\(name).jsonl, before entry \(position + 2): the server's lines differ")
            server.outputs = []
            expected = []
        }

        for (i, entry) in transcript.entries.enumerated() {
            switch entry {
            case .server(let line):
                expected.append(.line(line))
            case .serverClose:
                expected.append(.close)
            case .client(let text), .clientRaw(let text):
                check(i)
                #expect(!server.machine.isClosed, "\(name).jsonl: the client sends after the session closed")
                try server.clientSends(ByteBuffer(string: text + "\n"))
            case .clientOversized(let size):
                check(i)
                var bytes = ByteBuffer(repeating: UInt8(ascii: "x"), count: size - 1)
                bytes.writeString("\n")
                try server.clientSends(bytes)
            case .other(let text):
                check(i)
                guard case .push(let push) = try WireCodec.decode(text) else {
                    Issue.record("\(name).jsonl: the other session sends only pushes")
                    return
                }
                server.otherSessionPushes(push)
            }
        }
        check(transcript.entries.count)
        #expect(server.machine.isClosed)
    }

    // MARK: Helpers

    static func ready(_ limits: WireLimits = limits) -> Machine {
        var machine = Machine(limits: limits, certificateIdentity: false)
        _ = machine.lineReceived(line(.hello(Hello(replica: a, token: "t"))))
        _ = machine.authenticated(identity, server: "s")
        return machine
    }

    static func line(_ message: WireMessage) -> String { String(WireCodec.encode(message).dropLast()) }

    static func fatal(_ code: ClusterSyncError.Code, in action: Machine.Action) -> Bool {
        if case .close(let error?) = action { return error.code == code.rawValue && error.fatal }
        return false
    }

    static func nonFatal(_ code: ClusterSyncError.Code, in action: Machine.Action) -> Bool {
        if case .send(.error(let error)) = action { return error.code == code.rawValue && !error.fatal }
        return false
    }

    static func change(_ counter: Int64, millis: Int64 = now, field: String = "title", value: JSONValue? = .string("A title"),
                       practice: String? = nil, cluster: String = "rhondda") -> Change {
        Change(id: ChangeID(replica: a, counter: counter), hlc: HLCTimestamp(millis: millis), record: RecordID("RSK-7K3M9Q2X1A")!,
               scope: RecordScope(tenant: "ctmuhb", cluster: cluster, practice: practice), field: field, value: value)
    }

    // MARK: Before welcome

    @Test func helloWithATokenAsksToAuthenticateThenWelcomes() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(machine.identity == nil)
        let hello = Hello(replica: Self.a, token: "t", client: "c")
        #expect(machine.lineReceived(Self.line(.hello(hello))) == .authenticate(hello))
        #expect(machine.identity == nil)
        #expect(machine.authenticated(Self.identity, server: "srv") == .send(.welcome(Welcome(identity: Self.identity, limits: Self.limits, server: "srv"))))
        #expect(machine.identity == Self.identity)
    }

    @Test func aCertificateSessionSendsHelloWithoutAToken() {
        var machine = Machine(limits: Self.limits, certificateIdentity: true)
        let hello = Hello(replica: Self.a)
        #expect(machine.lineReceived(Self.line(.hello(hello))) == .authenticate(hello))

        var both = Machine(limits: Self.limits, certificateIdentity: true)
        #expect(Self.fatal(.unauthenticated, in: both.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t"))))))
        var neither = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(Self.fatal(.unauthenticated, in: neither.lineReceived(Self.line(.hello(hello)))))
        #expect(neither.isClosed)
    }

    @Test func authenticationFailureIsFatal() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        _ = machine.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t"))))
        #expect(machine.authenticationFailed("no") == .close(WireError(code: "unauthenticated", message: "no", fatal: true)))
        #expect(machine.isClosed && machine.identity == nil)
        // A late answer of any kind is dropped.
        #expect(machine.authenticated(Self.identity, server: "s") == .none)
        #expect(machine.lineReceived(Self.line(.ping(Ping()))) == .none)
    }

    @Test func otherVersionsAreRefused() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        let action = machine.lineReceived(Self.line(.hello(Hello(version: 2, replica: Self.a, token: "t"))))
        #expect(Self.fatal(.versionUnsupported, in: action))
        #expect(machine.isClosed)
    }

    @Test(arguments: [
        WireMessage.push(Push(batch: "b", changes: [])), .pull(Pull(cursor: nil)), .subscribe(Subscribe(cursor: nil)), .ping(Ping()),
    ])
    func anythingButHelloFirstIsFatal(_ message: WireMessage) {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(Self.fatal(.outOfOrder, in: machine.lineReceived(Self.line(message))))
        #expect(machine.isClosed)
    }

    @Test func undecodableLinesBeforeHelloAreAnsweredWithoutClosing() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(Self.nonFatal(.malformed, in: machine.lineReceived("{hello}")))
        #expect(Self.nonFatal(.unknownMessage, in: machine.lineReceived(#"{"type":"helo"}"#)))
        #expect(Self.nonFatal(.unknownMessage, in: machine.lineReceived(Self.line(.pong(Ping())))))
        #expect(!machine.isClosed)
        #expect(machine.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t")))) == .authenticate(Hello(replica: Self.a, token: "t")))
    }

    @Test func linesWhileAuthenticatingAreOutOfOrder() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        _ = machine.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t"))))
        #expect(Self.fatal(.outOfOrder, in: machine.lineReceived(Self.line(.ping(Ping())))))
        #expect(machine.authenticated(Self.identity, server: "s") == .none, "no welcome after the session closed")

        var garbled = Machine(limits: Self.limits, certificateIdentity: false)
        _ = garbled.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t"))))
        #expect(Self.fatal(.outOfOrder, in: garbled.lineReceived("{")))

        var leaving = Machine(limits: Self.limits, certificateIdentity: false)
        _ = leaving.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t"))))
        #expect(leaving.lineReceived(Self.line(.bye)) == .close(nil))
    }

    @Test func byeBeforeHelloClosesQuietly() {
        var machine = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(machine.lineReceived(Self.line(.bye)) == .close(nil))
        #expect(machine.isClosed)
    }

    // MARK: Ready

    @Test func helloTwiceIsFatal() {
        var machine = Self.ready()
        #expect(Self.fatal(.outOfOrder, in: machine.lineReceived(Self.line(.hello(Hello(replica: Self.a, token: "t"))))))
        #expect(machine.isClosed && machine.identity == nil)
    }

    @Test func undecodableLinesAreAnsweredAndTheSessionGoesOn() {
        var machine = Self.ready()
        let malformed = machine.lineReceived(#"{"type":"push","changes":[]}"#)
        #expect(malformed == .send(.error(WireError(code: "malformed", message: #""push.batch" is missing"#, fatal: false))))
        #expect(Self.nonFatal(.unknownMessage, in: machine.lineReceived(#"{"type":"sync"}"#)))
        #expect(Self.nonFatal(.unknownMessage, in: machine.lineReceived(Self.line(.ack(Ack(batch: "b", accepted: 0, duplicates: 0, author: "a"))))))
        #expect(machine.lineReceived(Self.line(.ping(Ping(nonce: "n")))) == .send(.pong(Ping(nonce: "n"))))
    }

    @Test func blankLinesAreIgnored() {
        var machine = Self.ready()
        #expect(machine.lineReceived("") == .none)
        #expect(machine.lineReceived(" \t\r") == .none)
        #expect(machine.lineReceived(ByteBuffer()) == .none)
        var fresh = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(fresh.lineReceived("  ") == .none)
        #expect(!fresh.isClosed)
    }

    @Test func aPushWithinTheLimitIsStoredAndALargerOneRefused() {
        var limits = Self.limits
        limits.maxChangesPerPush = 2
        var machine = Self.ready(limits)
        let fits = Push(batch: "b1", changes: [Self.change(1), Self.change(2)])
        #expect(machine.lineReceived(Self.line(.push(fits))) == .store(fits))
        #expect(machine.pushStored(Ack(batch: "b1", accepted: 2, duplicates: 0, author: "me"))
            == .send(.ack(Ack(batch: "b1", accepted: 2, duplicates: 0, author: "me"))))

        let tooMany = Push(batch: "b2", changes: [Self.change(1), Self.change(2), Self.change(3)])
        guard case .send(.error(let error)) = machine.lineReceived(Self.line(.push(tooMany))) else {
            Issue.record("expected an error")
            return
        }
        #expect(error.code == "batch-too-large" && !error.fatal && error.batch == "b2" && error.change == nil)
        #expect(error.message.contains("at most 2"))
        #expect(!machine.isClosed)
    }

    @Test func aFailedPushIsAnsweredWithItsBatchAndChange() {
        var machine = Self.ready()
        let id = ChangeID(replica: Self.a, counter: 4)
        let action = machine.pushFailed(batch: "b1", error: ClusterSyncError(.clockSkew, "too far ahead"), change: id)
        #expect(action == .send(.error(WireError(code: "clock-skew", message: "too far ahead", fatal: false, batch: "b1", change: id))))
        #expect(!machine.isClosed)
    }

    @Test func pullLimitsAreFilledInAndClamped() {
        var limits = Self.limits
        limits.maxChangesPerPage = 100
        var machine = Self.ready(limits)
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: nil)))) == .fetch(Pull(cursor: nil, limit: 100)))
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: Cursor("s1:5"), limit: 5_000)))) == .fetch(Pull(cursor: Cursor("s1:5"), limit: 100)))
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: nil, limit: 7)))) == .fetch(Pull(cursor: nil, limit: 7)))
        let page = ChangesPage(changes: [Self.change(1)], cursor: Cursor("s1:1"), more: false)
        #expect(machine.fetched(page) == .send(.changes(page)))
        #expect(Self.nonFatal(.cursorExpired, in: machine.requestFailed(ClusterSyncError(.cursorExpired, "pull from the start"))))
    }

    @Test func aSubscriptionSendsPublishedPagesOnlyOnceActive() {
        var machine = Self.ready()
        let page = ChangesPage(changes: [Self.change(1)], cursor: Cursor("s1:1"), more: false)
        #expect(machine.published(page) == .none, "not subscribed")
        #expect(machine.lineReceived(Self.line(.subscribe(Subscribe(cursor: nil)))) == .subscribe(Subscribe(cursor: nil)))
        #expect(machine.published(page) == .none, "not started yet")
        #expect(!machine.isSubscribed)
        #expect(machine.subscribed(at: Cursor("s1:0")) == .send(.subscribed(Subscribed(cursor: Cursor("s1:0")))))
        #expect(machine.isSubscribed)
        #expect(machine.published(page) == .send(.changes(page)))
        // Pushes and pings go on.
        let push = Push(batch: "b", changes: [Self.change(2)])
        #expect(machine.lineReceived(Self.line(.push(push))) == .store(push))
        #expect(machine.lineReceived(Self.line(.ping(Ping()))) == .send(.pong(Ping())))
    }

    @Test func pullOrSubscribeOnASubscribedSessionIsFatal() {
        var pulling = Self.ready()
        _ = pulling.lineReceived(Self.line(.subscribe(Subscribe(cursor: nil))))
        _ = pulling.subscribed(at: Cursor("s1:0"))
        #expect(Self.fatal(.outOfOrder, in: pulling.lineReceived(Self.line(.pull(Pull(cursor: nil))))))

        var twice = Self.ready()
        _ = twice.lineReceived(Self.line(.subscribe(Subscribe(cursor: nil))))
        #expect(Self.fatal(.outOfOrder, in: twice.lineReceived(Self.line(.subscribe(Subscribe(cursor: nil))))))
    }

    @Test func aFailedSubscribeLeavesTheSessionUnsubscribed() {
        var machine = Self.ready()
        _ = machine.lineReceived(Self.line(.subscribe(Subscribe(cursor: Cursor("junk")))))
        #expect(Self.nonFatal(.malformed, in: machine.requestFailed(ClusterSyncError(.malformed, "not a cursor"))))
        #expect(!machine.isSubscribed)
        #expect(machine.lineReceived(Self.line(.pull(Pull(cursor: nil)))) == .fetch(Pull(cursor: nil, limit: Self.limits.maxChangesPerPage)))
    }

    @Test func byeClosesWithoutAnError() {
        var machine = Self.ready()
        #expect(machine.lineReceived(Self.line(.bye)) == .close(nil))
        #expect(machine.isClosed)
        #expect(machine.lineReceived(Self.line(.ping(Ping()))) == .none)
    }

    // MARK: Ending

    @Test func aLineTooLongIsFatalAndNamesTheLimit() {
        var machine = Self.ready()
        guard case .close(let error?) = machine.lineTooLong() else {
            Issue.record("expected a fatal error")
            return
        }
        #expect(error.code == "line-too-long" && error.fatal)
        #expect(error.message.contains("4194304"))
        #expect(machine.lineTooLong() == .none)
    }

    @Test func shutdownIsFatalOnceInEveryState() {
        var fresh = Machine(limits: Self.limits, certificateIdentity: false)
        #expect(Self.fatal(.shuttingDown, in: fresh.shutdown()))
        var authenticating = Machine(limits: Self.limits, certificateIdentity: true)
        _ = authenticating.lineReceived(Self.line(.hello(Hello(replica: Self.a))))
        #expect(Self.fatal(.shuttingDown, in: authenticating.shutdown()))
        var ready = Self.ready()
        #expect(Self.fatal(.shuttingDown, in: ready.shutdown()))
        #expect(ready.shutdown() == .none)
        // Work that finishes after the close is not answered.
        #expect(ready.pushStored(Ack(batch: "b", accepted: 1, duplicates: 0, author: "a")) == .none)
        #expect(ready.fetched(ChangesPage(changes: [], cursor: Cursor("s1:0"), more: false)) == .none)
        #expect(ready.pushFailed(batch: "b", error: ClusterSyncError(.internal, "disk"), change: nil) == .none)
    }

    // MARK: Push validation

    static func rejection(_ push: Push, now: Int64 = now) -> PushRejection? {
        do throws(PushRejection) {
            try PushValidation.validate(push, for: identity, nowMillis: now, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func validPushesPass() {
        let push = Push(batch: "b", changes: [
            Self.change(1), Self.change(2, practice: "W95010"), Self.change(3, field: "tags", value: nil),
            Self.change(4, millis: Self.now + Self.limits.maxClockSkewMillis),
        ])
        #expect(Self.rejection(push) == nil)
    }

    @Test func theFirstBadChangeIsNamed() throws {
        let push = Push(batch: "b", changes: [Self.change(1), Self.change(2, field: "titel"), Self.change(3, practice: "W95011")])
        let rejection = try #require(Self.rejection(push))
        #expect(rejection.change == ChangeID(replica: Self.a, counter: 2))
        #expect(rejection.error.code == .unknownField && rejection.error.field == "titel")
        #expect(rejection.error.message.hasPrefix("change 2@5f0c9e1a2b3c4d5e: "))
    }

    @Test(arguments: [("W95011", "rhondda"), (nil, "taff-ely")] as [(String?, String)])
    func changesOutsideTheIdentitysScopesAreForbidden(_ practice: String?, _ cluster: String) throws {
        let rejection = try #require(Self.rejection(Push(batch: "b", changes: [Self.change(1, practice: practice, cluster: cluster)])))
        #expect(rejection.error.code == .forbiddenScope)
        #expect(rejection.error.message.contains("change 1@5f0c9e1a2b3c4d5e is for "))
        var otherTenant = Self.change(2)
        otherTenant.scope.tenant = "abuhb"
        #expect(Self.rejection(Push(batch: "b", changes: [otherTenant]))?.error.code == .forbiddenScope)
    }

    @Test func changesTooFarAheadAreRefused() throws {
        let limit = Self.now + Self.limits.maxClockSkewMillis
        #expect(Self.rejection(Push(batch: "b", changes: [Self.change(1, millis: limit)])) == nil)
        let rejection = try #require(Self.rejection(Push(batch: "b", changes: [Self.change(1, millis: limit + 1)])))
        #expect(rejection.error.code == .clockSkew)
        #expect(rejection.error.message.contains("300001 ms ahead"))
        // Stamps in the past are fine, however old.
        #expect(Self.rejection(Push(batch: "b", changes: [Self.change(1, millis: 0)])) == nil)
    }

    @Test func scopeIsCheckedBeforeClockAndClockBeforeValue() {
        let all = Self.change(1, millis: Self.now + 3_600_000, field: "titel", practice: "W95011")
        #expect(Self.rejection(Push(batch: "b", changes: [all]))?.error.code == .forbiddenScope)
        let clockAndValue = Self.change(1, millis: Self.now + 3_600_000, field: "titel")
        #expect(Self.rejection(Push(batch: "b", changes: [clockAndValue]))?.error.code == .clockSkew)
    }

    @Test func patientDataIsRefusedWithoutRepeatingIt() throws {
        let change = Self.change(1, field: "description", value: .string("Patient 943 476 5919 waited."))
        let rejection = try #require(Self.rejection(Push(batch: "b", changes: [change])))
        #expect(rejection.error.code == .patientData && rejection.error.field == "description")
        #expect(!rejection.error.message.contains("943"))
    }
}
