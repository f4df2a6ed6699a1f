import ClusterSyncCore
import ClusterSyncServerTesting
import ClusterSyncTLS
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import ClusterSyncServer

/// One session of the production `SessionHandler` on an `NIOAsyncTestingChannel` (the pipeline
/// `SessionHandler.wrap` builds, without TLS or sockets), over an `InMemoryServerStore` set up as
/// the golden transcripts say (Protocol/PROTOCOL.md §13), a `SQLiteServerStore` in a new file or
/// a `PostgresServerStore` on a fresh database (`TranscriptBackend`).
struct TestSession {
    static let token = "cst_3f9a0c1d2e4b_q8Zt0V3mXb7nLr2KcW5yJ1hPd9sGf4uA6eT0iOkBx3M"
    static let practice = PracticePath(tenant: "ctmuhb", cluster: "rhondda", practice: "W95010")
    static let expiringToken = "cst_7b2e5d8a1c40_Jm4Qx8Rz2Wv6Tn0Lp3Ks7Yh1Bd5Fg9Cu2Ae6Io8Nw4Y"
    static let expiredToken = "cst_9c1d4f7a2e63_Pt5Wm9Ky3Rb7Vn1Hq4Zs8Gd2Lx6Jc0Fu3Ea7Oi9Tw5M"
    /// Roles (PROTOCOL.md §3): W95011's cluster lead, the PCPG of region cwm-taf (which holds
    /// rhondda), and the Health Board.
    static let leadToken = "cst_c5105c6a1afa_tjHAj1BEBZJ7qxa-PcSI8aF0-o06NEz7_mK0a4-zJUE"
    static let pcpgToken = "cst_1da515d3796e_45_jxNQjF9M0qzWjhNXTxlLDWDrOkN2DxmPshGKCQIU"
    static let healthBoardToken = "cst_48641d76a860_yha8OxiGlYk9NnBmsyNkNLqBqlMcujq2hBwIH7dbK5Q"
    static let otherIdentity = SessionIdentity(tenant: "ctmuhb", cluster: "rhondda", practice: "W95011", author: "W95011 (Rhys Morgan)", role: .clusterLead)

    let channel: NIOAsyncTestingChannel
    let store: any TranscriptStore
    let notifier: ChangeNotifier
    let session: Task<Void, Never>
    /// The session's events: whether it is still taking them in (`idle(for:)`).
    let events: SessionEvents

    /// The transcripts' store: tenant ctmuhb, cluster rhondda, practices W95010 (the known token's,
    /// label "Siân Evans") and W95011, and the certificate's practice if there is one.
    static func transcriptStore(certificate: CertificateIdentity? = nil) async throws -> InMemoryServerStore {
        try await setUp(InMemoryServerStore(), certificate: certificate)
    }

    /// Puts the transcripts' tenant, practices and tokens into `store`.
    static func setUp<Store: TranscriptStore>(_ store: Store, certificate: CertificateIdentity? = nil) async throws -> Store {
        try await store.addTenant("ctmuhb")
        try await store.addRegion("cwm-taf", tenant: "ctmuhb")
        try await store.addCluster("rhondda", tenant: "ctmuhb", region: "cwm-taf")
        try await store.addPractice("W95010", cluster: "rhondda", tenant: "ctmuhb")
        try await store.addPractice("W95011", cluster: "rhondda", tenant: "ctmuhb")
        try await store.register(token: token, practice: practice, label: "Siân Evans")
        // W95011's tokens: one expiring 20 days after the transcripts' clock, one expired the day before.
        let other = PracticePath(tenant: "ctmuhb", cluster: "rhondda", practice: "W95011")
        try await store.register(token: expiringToken, practice: other, label: nil, expiresAt: 1_797_154_200_000)
        try await store.register(token: expiredToken, practice: other, label: nil, expiresAt: 1_795_339_800_000)
        try await store.register(token: leadToken, holder: .practice(other, lead: true), label: "Rhys Morgan")
        try await store.register(token: pcpgToken, holder: .pcpg(tenant: "ctmuhb", region: "cwm-taf"), label: "PCPG analyst")
        try await store.register(token: healthBoardToken, holder: .healthBoard(tenant: "ctmuhb"), label: "Board analyst")
        if let certificate, !(try await store.isRegistered(PracticePath(tenant: certificate.tenant, cluster: certificate.cluster, practice: certificate.practice))) {
            try await store.addPractice(certificate.practice, cluster: certificate.cluster, tenant: certificate.tenant)
        }
        return store
    }

    static func start(
        _ connection: WireVectors.Connection, store: (any TranscriptStore)? = nil, notifier: ChangeNotifier = ChangeNotifier(),
        backend: TranscriptBackend = .memory, configure: (inout SessionHandler) -> Void = { _ in }
    ) async throws -> TestSession {
        let certificate = try connection.certificate.map { uri throws in try CertificateIdentity(uri: uri) }
        let store: any TranscriptStore = if let store { store } else {
            switch backend {
            case .memory: try await transcriptStore(certificate: certificate)
            case .sqlite:
                try await setUp(try SQLiteServerStore(path: FileManager.default.temporaryDirectory
                    .appendingPathComponent("clustersync-transcript-\(UUID().uuidString).sqlite").path), certificate: certificate)
            case .postgres: try await setUp(try await TestPostgres.freshStore(), certificate: certificate)
            }
        }
        let channel = NIOAsyncTestingChannel()
        let limits = connection.limits
        var handler = SessionHandler(store: store, notifier: notifier, limits: limits, logger: Logger(label: "test"))
        configure(&handler)
        let sessionLimits = handler.sessionLimits
        let wrapped = try await channel.testingEventLoop.executeInContext {
            try SessionHandler.wrap(channel, limits: limits, sessionLimits: sessionLimits)
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7443))
        handler.serverName = "clustersyncd 0.1.0"
        handler.storeIdentity = connection.store
        // Heads hash random salts: WireCodecTests and LedgerEndToEndTests test them instead.
        handler.announcesChainHead = false
        let now = connection.nowMillis
        handler.nowMillis = { now }
        await store.setWallClock { now }
        let identity = channel.eventLoop.makeSucceededFuture(certificate)
        let session = Task { await handler.run(wrapped, certificateIdentity: identity) }
        return TestSession(channel: channel, store: store, notifier: notifier, session: session, events: wrapped)
    }

    func send(_ bytes: ByteBuffer) async throws {
        try await channel.writeInbound(bytes)
    }

    func send(line: String) async throws {
        try await send(ByteBuffer(string: line + "\n"))
    }

    func nextLine(within seconds: Double = 30) async throws -> String? { try await channel.nextLine(within: seconds) }

    func nextLineWrites(within seconds: Double = 30) async throws -> [ByteBuffer]? { try await channel.nextLineWrites(within: seconds) }

    /// Moves the session's event-loop clock on, firing the timers that fall due.
    func idle(for amount: TimeAmount) async throws {
        // Let the session take in what was sent before time moves: and before anything, open
        // (arm its hello timer on this clock). It opens and takes its events in tasks of its
        // own, which a busy cooperative pool (tests in parallel) may not run for a while: a
        // clock moved before the session opened would start its hello timeout late.
        try await Task.sleep(for: .milliseconds(100))
        let deadline = ContinuousClock.now + .seconds(30)
        while events.isTakingEvents, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        await channel.testingEventLoop.advanceTime(by: amount)
    }

    func closes(within seconds: Double = 30) async throws -> Bool { try await channel.closes(session, within: seconds) }

    /// Another session of the cluster pushes: stored as W95011's, and announced as the server does.
    func otherSessionPushes(_ push: Push) async throws {
        let outcome = try await store.push(push.changes, as: Self.otherIdentity)
        if outcome.accepted > 0 { await notifier.notify(tenant: Self.otherIdentity.tenant) }
    }
}

/// What a test reads from a session's channel (`TestSession`, `WireSession`).
extension NIOAsyncTestingChannel {
    /// The next line the server writes, without its newline; nil if none comes within `seconds`.
    /// A long line comes in several writes (`SessionHandler.flushedSlice`), joined here.
    func nextLine(within seconds: Double = 30) async throws -> String? {
        try await nextLineWrites(within: seconds).map { writes in
            let text = writes.map { String(buffer: $0) }.joined()
            return text.hasSuffix("\n") ? String(text.dropLast()) : text
        }
    }

    /// The writes that carry the next line, as the server made them.
    func nextLineWrites(within seconds: Double = 30) async throws -> [ByteBuffer]? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var writes: [ByteBuffer] = []
        while ContinuousClock.now < deadline {
            if let buffer = try await readOutbound(as: ByteBuffer.self) {
                writes.append(buffer)
                if buffer.readableBytesView.last == UInt8(ascii: "\n") { return writes }
                continue
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        return writes.isEmpty ? nil : writes
    }

    /// Whether the server closes the connection within `seconds` (and `session` then ends).
    func closes(_ session: Task<Void, Never>, within seconds: Double = 30) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if !isActive {
                await session.value
                return true
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        return false
    }
}

@Suite struct SessionTranscriptTests {
    /// Plays the client's side of each transcript into the production session code and expects
    /// exactly the server's lines, byte for byte, and the close.
    @Test(arguments: TranscriptBackend.available, WireVectors.names)
    func transcript(_ backend: TranscriptBackend, _ name: String) async throws {
        if backend == .postgres, let reason = TranscriptBackend.unrepresentable[name] {
            print("⚠️  \(name).jsonl is not run over PostgreSQL: \(reason)")
            return
        }
        let transcript = try WireVectors.load(name)
        let session = try await TestSession.start(transcript.connection, backend: backend)
        var expected: [String] = []
        var closed = false

        func check(_ position: Int) async throws {
            for line in expected {
                let got = try await session.nextLine()
                #expect(got == line, "\(name).jsonl, before entry \(position + 2): the server's lines differ")
            }
            expected = []
        }

        for (i, entry) in transcript.entries.enumerated() {
            switch entry {
            case .server(let line):
                expected.append(line)
            case .serverClose:
                try await check(i)
                #expect(try await session.closes(), "\(name).jsonl: the server should close")
                closed = true
            case .client(let text), .clientRaw(let text):
                try await check(i)
                try await session.send(line: text)
            case .clientOversized(let size):
                try await check(i)
                var bytes = ByteBuffer(repeating: UInt8(ascii: "x"), count: size - 1)
                bytes.writeString("\n")
                try? await session.send(bytes)
            case .operatorCompacts:
                try await check(i)
                // Let the session take in what was sent before, as an operator's command would.
                try await Task.sleep(for: .milliseconds(100))
                let now = transcript.connection.nowMillis
                for tenant in try await session.store.tenants() {
                    _ = try await session.store.compact(tenant: tenant, olderThan: now, now: now)
                }
            case .operatorRetires(let replica):
                try await check(i)
                try await Task.sleep(for: .milliseconds(100))
                for tenant in try await session.store.tenants() {
                    _ = try await session.store.retireReplica(replica, tenant: tenant, cluster: nil, at: transcript.connection.nowMillis)
                }
            case .other(let text):
                try await check(i)
                guard case .push(let push) = try WireCodec.decode(text) else {
                    Issue.record("\(name).jsonl: the other session sends only pushes")
                    return
                }
                try await session.otherSessionPushes(push)
            }
        }
        #expect(closed)
        #expect(try await session.channel.readOutbound(as: ByteBuffer.self) == nil, "\(name).jsonl: the server sent more")
    }
}

/// The stores the transcripts run over: the in-memory test store, the SQLite store the server
/// runs on by default, and PostgreSQL when it is there (StoreBackend's rule: left out locally
/// without CLUSTERSYNC_TEST_POSTGRES_URL, never under CI).
enum TranscriptBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory, sqlite, postgres
    var description: String { rawValue }
    static let available: [TranscriptBackend] = StoreBackend.available.contains(.postgres) ? [.memory, .sqlite, .postgres] : [.memory, .sqlite]
    /// Transcripts a real store cannot replay, and why.
    static let unrepresentable: [String: String] = [:]
}

/// A store the transcripts can set up: fixed tokens and a fixed clock.
protocol TranscriptStore: ServerStore {
    func setWallClock(_ clock: @escaping @Sendable () -> Int64) async
    func register(token: String, holder: CredentialHolder, label: String?, expiresAt: Int64?) async throws
}

extension TranscriptStore {
    func register(token: String, practice: PracticePath, label: String?, expiresAt: Int64? = nil) async throws {
        try await register(token: token, holder: .practice(practice), label: label, expiresAt: expiresAt)
    }
    func register(token: String, holder: CredentialHolder, label: String?) async throws {
        try await register(token: token, holder: holder, label: label, expiresAt: nil)
    }
}

extension InMemoryServerStore: TranscriptStore {}
extension SQLiteServerStore: TranscriptStore {}
extension PostgresServerStore: TranscriptStore {}
