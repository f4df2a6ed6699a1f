import ClusterSyncCore
import ClusterSyncTLS
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A practice's side of the line protocol: the I/O around `ClientSyncStateMachine`, which holds
/// every rule (what to send, when to ping, when to give up or reconnect). This type only opens
/// connections, writes and reads lines, reads the outbox and applies pages to the replica.
///
/// Every step is resumable: the outbox empties only on ack, and the cursor moves in the same
/// transaction as the page it follows, so a sync cut off anywhere loses and duplicates nothing.
public struct SyncClient: Sendable {
    public typealias Progress = ClientSyncStateMachine.Progress
    public typealias Notice = ClientSyncStateMachine.Notice

    public let replica: Replica
    public let remote: RemoteSettings
    public let timing: Timing

    /// How a session keeps alive and comes back (PROTOCOL.md §14). Seconds.
    public struct Timing: Sendable, Equatable {
        /// A quiet line gets a `ping` after this long.
        public var pingSeconds: Double = 20
        /// A `ping` unanswered this long means the connection is dead.
        public var pongTimeoutSeconds: Double = 10
        /// How often a watch looks for local edits to push.
        public var pollSeconds: Double = 2
        /// The longest wait between two reconnection attempts (the first waits about 0.5 s).
        public var reconnectMaxSeconds: Double = 30

        public init() {}
    }

    public init(replica: Replica, remote: RemoteSettings, timing: Timing = Timing()) {
        self.replica = replica
        self.remote = remote
        self.timing = timing
    }

    public struct Summary: Sendable, Equatable {
        public var pushed = 0
        public var duplicates = 0
        public var pulled = 0
        /// Records a read-only replica deleted because its server no longer lists them.
        public var withdrawn = 0
        public var author: String?
        /// The server's store was new to this replica (restored from a backup?): this replica's
        /// changes were pushed again and everything pulled from the start (PROTOCOL.md §5.2).
        public var storeReplaced = false
    }

    /// Pushes everything pending, then pulls until caught up.
    public func sync(progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Summary {
        try await run(.once, progress: progress, onApplied: { _ in }, onNotice: { _ in })
    }

    /// Syncs, then stays connected until cancelled: applies changes as others push them, pushes
    /// local edits every `pollSeconds`, and reconnects whenever the connection is lost. Returns
    /// only by throwing: cancellation, or a refusal that retrying cannot cure.
    public func watch(progress: @escaping @Sendable (Progress) -> Void = { _ in },
                      onApplied: @escaping @Sendable (Int) -> Void = { _ in },
                      onNotice: @escaping @Sendable (Notice) -> Void = { _ in }) async throws {
        _ = try await run(.watch, progress: progress, onApplied: onApplied, onNotice: onNotice)
    }

    private struct Callbacks {
        var progress: @Sendable (Progress) -> Void
        var onApplied: @Sendable (Int) -> Void
        var onNotice: @Sendable (Notice) -> Void
        var onHistory: @Sendable (HistoryPage) -> Void = { _ in }
    }

    /// One record's changes as the server holds them (PROTOCOL.md §5.12), pushing and pulling
    /// nothing; `compacted`: the server compacted its log, so changes superseded before its
    /// horizon are gone there too.
    public func serverHistory(of record: RecordID) async throws -> (changes: [Change], compacted: Bool) {
        let pages = HistoryPages()
        _ = try await run(.history(record), progress: { _ in }, onApplied: { _ in }, onNotice: { _ in }, onHistory: { pages.add($0) })
        return pages.result
    }

    private func run(_ mode: ClientSyncStateMachine.Mode, progress: @escaping @Sendable (Progress) -> Void,
                     onApplied: @escaping @Sendable (Int) -> Void, onNotice: @escaping @Sendable (Notice) -> Void,
                     onHistory: @escaping @Sendable (HistoryPage) -> Void = { _ in }) async throws -> Summary {
        // Changes that superseded another replica's change the server had not been given yet
        // (`SupersessionReach`) go again at each sync: that replica may have synced it since.
        // Once a run, not at each session's welcome: a watch would push one again and again.
        // Within a run, a pulled page that brings the awaited change puts it back in the outbox
        // (`Replica.releaseHeldBack(awaiting:)`).
        // (Changes held back as too long for a line go again at a welcome whose lines now
        // hold them: `rememberWelcome`.)
        switch mode {
        case .once, .watch: try replica.releaseHeldBack(coded: .supersedesUnsynced)
        case .history: break
        }
        let start = try replica.syncStart()
        let identity = start.identity
        let token = try remote.token()
        var tlsConfiguration = try remote.tlsConfiguration()
        // Closing a connection to a server that stopped answering must not wait long for its
        // close_notify.
        tlsConfiguration.shutdownTimeout = .seconds(1)
        let tls = try NIOSSLContext(configuration: tlsConfiguration)
        var configuration = ClientSyncStateMachine.Configuration(
            mode: mode, replica: identity.replicaID, tenant: identity.tenant, cluster: identity.cluster, practice: identity.practice,
            credential: remote.tokenFile.map { "the token in \($0)" } ?? "the certificate \(remote.certificateFile ?? "")",
            server: "\(remote.host):\(remote.port)")
        configuration.pingMillis = Self.millis(timing.pingSeconds)
        configuration.pongTimeoutMillis = Self.millis(timing.pongTimeoutSeconds)
        configuration.pollMillis = Self.millis(timing.pollSeconds)
        configuration.reconnectMaxMillis = Self.millis(timing.reconnectMaxSeconds)
        configuration.reconnectBaseMillis = min(configuration.reconnectBaseMillis, configuration.reconnectMaxMillis)
        configuration.seed = UInt64.random(in: .min ... .max)
        if let oversight = start.oversight {
            configuration.role = oversight.role
            configuration.region = oversight.region
        }
        configuration.knownStore = start.knownStore
        configuration.relaysWaiting = start.relaysWaiting
        var machine = ClientSyncStateMachine(configuration, cursor: start.cursor, pending: start.pending)
        let callbacks = Callbacks(progress: progress, onApplied: onApplied, onNotice: onNotice, onHistory: onHistory)
        var received = Replica.ApplyOutcome()
        var actions = machine.start(now: Self.now())
        while true {
            var next: [ClientSyncStateMachine.Action] = []
            for action in actions {
                switch action {
                case .connect(let delay):
                    if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
                    next = try await session(&machine, tls: tls, hello: Hello(replica: identity.replicaID, token: token, client: "clustersync/1", key: start.key),
                                             received: &received, callbacks: callbacks)
                case .finish(let result):
                    return Summary(pushed: result.pushed, duplicates: result.duplicates, pulled: received.applied,
                                   withdrawn: received.withdrawn, author: result.author, storeReplaced: result.storeReplaced)
                case .fail(let error):
                    throw error
                case .progress(let state):
                    callbacks.progress(state)
                case .notice(let notice):
                    callbacks.onNotice(notice)
                case .sendHello, .send, .readOutbox, .rememberLimits, .rememberStore, .acknowledge, .holdBack, .apply, .applySnapshot, .keepHistory, .recordSuccessfulSync, .close:
                    // Only while connected; the machine never asks for them here.
                    continue
                }
                if case .connect = action { break }
            }
            actions = next
        }
    }

    /// One connection, from connect to close: performs the machine's actions and feeds it what
    /// happens. Returns the actions that follow the close.
    private func session(
        _ machine: inout ClientSyncStateMachine, tls: NIOSSLContext, hello: Hello, received: inout Replica.ApplyOutcome, callbacks: Callbacks
    ) async throws -> [ClientSyncStateMachine.Action] {
        let server = machine.configuration.server
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await connect(tls: tls)
        } catch {
            return machine.handle(.connectFailed(.init(.lost, Self.unreachable(error, server: server))), now: Self.now())
        }
        let tick = machine.configuration.tickMillis
        let writeTimeout = machine.configuration.pingMillis + machine.configuration.pongTimeoutMillis
        let watching = machine.configuration.mode == .watch
        return try await channel.executeThenClose { inbound, outbound in
            let (events, continuation) = AsyncStream.makeStream(of: ClientSyncStateMachine.Event.self)
            let readAhead = ReadAhead(limit: Self.messagesReadAhead)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await line in inbound {
                            guard let message = try? WireCodec.decode(line) else {
                                continuation.yield(.connectionLost(.init(.lost, "the server at \(server) sent a line that is not a message")))
                                return
                            }
                            continuation.yield(.received(message))
                            await readAhead.handedOver()
                        }
                        continuation.yield(.connectionLost(.init(.lost, "the server at \(server) closed the connection")))
                    } catch {
                        continuation.yield(.connectionLost(Self.problem(error, server: server)))
                    }
                }
                let writes = WriteWatch()
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(tick))
                        // A stopped server's socket buffer fills and a write would wait for ever:
                        // closing the connection ends it (and `write` says why).
                        if writes.stalls(now: Self.now(), afterMillis: writeTimeout) { channel.channel.close(promise: nil) }
                        continuation.yield(.tick)
                    }
                }
                defer {
                    readAhead.close()
                    group.cancelAll()
                }
                var pending = machine.handle(.connected, now: Self.now())
                var iterator = events.makeAsyncIterator()
                while true {
                    while !pending.isEmpty {
                        let action = pending.removeFirst()
                        switch action {
                        case .sendHello, .send:
                            let message: WireMessage = if case .send(let message) = action { message } else { .hello(hello) }
                            if let problem = await readAhead.whileWriting({
                                await Self.write(message, to: outbound, watch: writes, timeoutMillis: writeTimeout, server: server)
                            }) {
                                pending = machine.handle(.connectionLost(problem), now: Self.now())
                            } else if case .bye = message {
                                // Nothing is sent or read after `bye` (the machine's `close` always
                                // follows it): TLS's goodbye starts now, while the replica writes the
                                // last page, instead of after it. The close is queued on the
                                // channel's event loop behind the write of `bye`, so it goes out first.
                                channel.channel.close(promise: nil)
                            }
                        case .keepHistory(let page):
                            callbacks.onHistory(page)
                        case .progress(let state):
                            callbacks.progress(state)
                        case .notice(let notice):
                            callbacks.onNotice(notice)
                        case .close:
                            continuation.finish()
                            return pending
                        case .connect, .finish, .fail:
                            // The machine always closes first; keep them for the caller regardless.
                            continuation.finish()
                            return [action] + pending
                        case .readOutbox, .rememberLimits, .rememberStore, .acknowledge, .holdBack, .apply, .applySnapshot,
                             .recordSuccessfulSync:
                            let outcome = try replica.perform(action, &machine, pending: &pending, now: Self.now()) ?? Replica.ApplyOutcome()
                            let applied = outcome.applied
                            // A snapshot carries this replica's own changes back with everyone
                            // else's (a first sync pushes, then takes the cluster's state): they
                            // were not received. The app's first sync of an imported register
                            // said "Shared 28386 changes and received 28386" (scale audit).
                            if case .applySnapshot(let page, _) = action {
                                received.applied += max(0, applied - page.changes.count { $0.id.replica == hello.replica })
                            } else {
                                received.applied += applied
                            }
                            received.withdrawn += outcome.withdrawn
                            if watching, applied > 0, case .apply = action { callbacks.onApplied(applied) }
                        }
                    }
                    guard let event = await iterator.next() else { return [] }
                    if case .received = event { readAhead.taken() }
                    pending = machine.handle(event, now: Self.now())
                }
            }
        }
    }

    /// Writes one line; the session's tick task closes the connection when the server has not
    /// taken it within the timeout (`WriteWatch`). Returns what went wrong. (The write used to
    /// race a sleep in a task group: two child tasks per line, for a timer the tick task keeps
    /// anyway.)
    private static func write(
        _ message: WireMessage, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, watch: WriteWatch, timeoutMillis: Int64,
        server: String
    ) async -> ClientSyncStateMachine.ConnectionProblem? {
        let buffer = ByteBuffer(string: WireCodec.encode(message))
        watch.begin(at: now())
        defer { watch.end() }
        do {
            try await outbound.write(buffer)
            return nil
        } catch {
            if watch.stalled {
                return .init(.lost, "the server at \(server) stopped reading for \(timeoutMillis / 1000) s; the connection is dead")
            }
            // The connection is already closed: the reading side reports that, with its cause (a
            // TLS alert refusing the certificate arrives there, and says more than this write).
            if let error = error as? ChannelError, error == .ioOnClosedChannel { return nil }
            return problem(error, server: server)
        }
    }

    /// Messages read and decoded ahead of the one being handled (`ReadAhead`): the next page
    /// is read while one is written, and no more.
    static let messagesReadAhead = 4

    private func connect(tls: NIOSSLContext) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        let host = remote.host
        let address = try? SocketAddress(ipAddress: host, port: remote.port)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(10))
        let initialise: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: address == nil ? host : nil))
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: 64 * 1024 * 1024)))
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        // An address needs no resolver (and no race of IPv4 against IPv6 lookups).
        if let address { return try await bootstrap.connect(to: address, channelInitializer: initialise) }
        return try await bootstrap.connect(host: host, port: remote.port, channelInitializer: initialise)
    }

    /// A refused handshake (certificate, CA) is worth no retry; anything else is a lost line:
    /// a server that stops or restarts ends its connections without TLS's goodbye.
    static func problem(_ error: any Error, server: String) -> ClientSyncStateMachine.ConnectionProblem {
        switch error {
        case NIOSSLError.handshakeFailed(.sslError(let errors))
            where !errors.isEmpty && errors.allSatisfy({ $0 == .eofDuringHandshake || $0 == .eofDuringAdditionalCertficiateChainValidation }):
            // The connection ended mid-handshake without an alert: a server stopping or killed,
            // not a refusal. Worth retrying.
            return .init(.lost, "the server at \(server) closed the connection during the TLS handshake (it stopped or restarted)")
        case NIOSSLError.handshakeFailed(.syscallError):
            return .init(.lost, "the connection to \(server) broke during the TLS handshake")
        case NIOSSLError.handshakeFailed(let reason):
            return .init(.rejected, handshakeFailed(server, "\(reason)"))
        case let reason as BoringSSLError:
            return .init(.rejected, handshakeFailed(server, "\(reason)"))
        case NIOSSLError.uncleanShutdown:
            return .init(.lost, "the server at \(server) closed the connection without TLS's goodbye (it stopped or restarted)")
        default:
            return .init(.lost, "the connection to \(server) broke (\(error))")
        }
    }

    /// Why no connection could be opened, in words a practice manager can act on; the library's
    /// own text only for what is not recognised.
    static func unreachable(_ error: any Error, server: String) -> String {
        let start = "cannot reach the server at \(server): "
        var causes: [any Error] = [error]
        if let connection = error as? NIOConnectionError {
            guard !connection.connectionErrors.isEmpty else {
                return start + "its name does not resolve (check the address given to `clustersync remote set`, and the network)"
            }
            causes = connection.connectionErrors.map(\.error)
        }
        let codes = causes.compactMap { ($0 as? IOError)?.errnoCode }
        if !codes.isEmpty, codes.allSatisfy({ $0 == ECONNREFUSED }) {
            return start + "nothing answers on that port (is the server running, and is the port right?)"
        }
        if codes.contains(where: { $0 == ENETUNREACH || $0 == EHOSTUNREACH }) {
            return start + "no route to it (check the network connection)"
        }
        if codes.contains(ETIMEDOUT) || causes.contains(where: { if case ChannelError.connectTimeout = $0 { true } else { false } }) {
            return start + "no answer within 10 seconds (check the network connection and the address)"
        }
        return start + "\(error)"
    }

    static func handshakeFailed(_ server: String, _ detail: String) -> String {
        // BoringSSL's reason ("SSLV3_ALERT_CERTIFICATE_EXPIRED") without its source path.
        var detail = detail
        if let start = detail.range(of: "OPENSSL_internal:")?.upperBound {
            let rest = detail[start...]
            detail = String(rest[..<(rest.range(of: " at ")?.lowerBound ?? rest.endIndex)])
        }
        // What answers on the port does not speak TLS (a web page's port, the web app's): no
        // certificate was looked at (the CLI audit: this was said to be one).
        if detail.contains("WRONG_VERSION_NUMBER") || detail.contains("HTTP_REQUEST") || detail.contains("HTTPS_PROXY_REQUEST") {
            return "what answers at \(server) does not speak TLS (\(detail)): it is not a ClusterSync server; check the port given to "
                + "`clustersync remote set` (a server listens on 7443 unless set otherwise)"
        }
        return "the TLS handshake with \(server) failed (\(detail)); check the CA file, and that the practice "
            + "certificate is in date and issued by this server's CA"
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The write in progress on a session, watched by its tick task.
    final class WriteWatch: Sendable {
        private struct State {
            var startedAt: Int64?
            var stalled = false
        }

        private let state = Mutex(State())

        func begin(at now: Int64) { state.withLock { $0.startedAt = now } }
        func end() { state.withLock { $0.startedAt = nil } }

        /// Whether the write in progress has waited `afterMillis` by `now`; if so it is marked
        /// stalled, for `write` to say so when it fails.
        func stalls(now: Int64, afterMillis: Int64) -> Bool {
            state.withLock { state in
                guard let started = state.startedAt, now - started >= afterMillis else { return false }
                state.stalled = true
                return true
            }
        }

        var stalled: Bool { state.withLock { $0.stalled } }
    }

    static func millis(_ seconds: Double) -> Int64 { max(1, Int64((seconds * 1000).rounded())) }
}

/// The pages of one history fetch, gathered as they arrive.
private final class HistoryPages: Sendable {
    private let pages = Mutex<(changes: [Change], compacted: Bool)>(([], false))

    func add(_ page: HistoryPage) {
        pages.withLock { $0.changes += page.changes; $0.compacted = $0.compacted || page.compacted }
    }

    var result: (changes: [Change], compacted: Bool) { pages.withLock { $0 } }
}
