import ClusterSyncCore
import Crypto
import Logging
import ClusterSyncTLS
import NIOCore
import Synchronization

/// Counts the open connections, in total and per credential, refuses those over the caps, and
/// closes what is still open when a shutdown's drain time is up. Shared by all sessions.
final class ConnectionRegistry: Sendable {
    struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var perCredential: [String: Int] = [:]
        var refusals = LogThrottle()
        var handshakeFailures = LogThrottle()
        /// The most connections open since memory was last given back (`MemoryReturn`).
        var peakSinceTrim = 0
        /// The sessions started and not yet ended, told when the server shuts down.
        var sessions: [ObjectIdentifier: SessionEvents] = [:]
        var shuttingDown = false
    }

    let maxConnections: Int
    let maxConnectionsPerCredential: Int
    /// Called when most connections of a peak have closed, just before the heap is trimmed
    /// (`MemoryReturn.due`): the server lets its store drop its caches then.
    let whenMostHaveClosed: @Sendable () -> Void
    private let state = Mutex(State())

    init(maxConnections: Int, maxConnectionsPerCredential: Int, whenMostHaveClosed: @escaping @Sendable () -> Void = {}) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerCredential = maxConnectionsPerCredential
        self.whenMostHaveClosed = whenMostHaveClosed
    }

    var count: Int { state.withLock { $0.open.count } }

    /// Counts a new connection until it closes; false (and the caller closes it) if there are
    /// already `maxConnections`.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = state.withLock { state in
            guard state.open.count < maxConnections else { return false }
            state.open[id] = channel
            state.peakSinceTrim = max(state.peakSinceTrim, state.open.count)
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in
                let trim = self.state.withLock { state in
                    state.open.removeValue(forKey: id)
                    return MemoryReturn.due(open: state.open.count, peak: &state.peakSinceTrim)
                }
                if trim {
                    self.whenMostHaveClosed()
                    MemoryReturn.trim()
                }
            }
        }
        return admitted
    }

    /// Takes one of the credential's session slots; nil if all `maxConnectionsPerCredential` are
    /// taken. Give the slot back with `release(credential:)` when the session ends.
    func claim(credential: String) -> String? {
        state.withLock { state in
            guard state.perCredential[credential, default: 0] < maxConnectionsPerCredential else { return nil }
            state.perCredential[credential, default: 0] += 1
            return credential
        }
    }

    func release(credential: String) {
        state.withLock { state in
            let left = state.perCredential[credential, default: 1] - 1
            state.perCredential[credential] = left > 0 ? left : nil
        }
    }

    /// Whether to log a refusal at the connection cap now, and how many that line stands for.
    func refusalToLog() -> Int? { state.withLock { $0.refusals.count() } }

    /// Whether to log a failed TLS handshake now, and how many that line stands for.
    func handshakeFailureToLog() -> Int? { state.withLock { $0.handshakeFailures.count() } }

    /// Counts a session until it ends; a session started after the shutdown began is told at once.
    func started(_ session: SessionEvents) {
        let id = ObjectIdentifier(session)
        let shuttingDown = state.withLock { state in
            state.sessions[id] = session
            return state.shuttingDown
        }
        if shuttingDown { session.yield(.shutdown) }
        session.ended.futureResult.whenComplete { _ in
            _ = self.state.withLock { $0.sessions.removeValue(forKey: id) }
        }
    }

    /// Tells every open session, and every one started from now on, that the server is shutting
    /// down: each closes with `shutting-down` after its current request.
    func shutDownSessions() {
        let sessions = state.withLock { state in
            state.shuttingDown = true
            return Array(state.sessions.values)
        }
        for session in sessions { session.yield(.shutdown) }
    }

    /// Waits until no session is open. A session's entry goes in the callback `started` added
    /// to its `ended` future, which runs before this wait's own (callbacks run in order).
    func sessionsEnded() async {
        while let open = state.withLock({ $0.sessions.values.first }) {
            try? await open.ended.futureResult.get()
        }
    }

    /// Closes every connection still open; returns how many there were.
    func closeAll() -> Int {
        let channels = state.withLock { Array($0.open.values) }
        for channel in channels { channel.close(promise: nil) }
        return channels.count
    }

    /// The key a credential's sessions are counted under: the token's hash (the token itself is
    /// a secret and is not kept), or the certificate's practice.
    static func credentialKey(token: String?, certificate: CertificateIdentity?) -> String {
        if let certificate { return "certificate:\(certificate.tenant)/\(certificate.cluster)/\(certificate.practice)" }
        let digest = SHA256.hash(data: Array((token ?? "").utf8))
        return "token:" + digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

/// Counts the plaintext bytes a client sends before it is welcomed, and fails the connection's
/// input with `SessionInputError.tooMuchBeforeWelcome` once there are more than the limit, so an
/// unauthenticated client can make the server hold only a small amount. The session removes
/// this handler once it has welcomed the client.
final class PreWelcomeByteLimit: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let limit: Int
    private var received = 0
    private var exceeded = false

    init(limit: Int) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !exceeded else { return }
        received += unwrapInboundIn(data).readableBytes
        guard received <= limit else {
            exceeded = true
            context.fireErrorCaught(SessionInputError.tooMuchBeforeWelcome)
            return
        }
        context.fireChannelRead(data)
    }
}

enum SessionInputError: Error {
    case tooMuchBeforeWelcome
}

/// At most one log line every 10 seconds for an event a flood can repeat (connections over the
/// cap, failed handshakes), so that it cannot fill the log; the line says how many it stands for.
struct LogThrottle {
    private var last: NIODeadline?
    private var unlogged = 0

    /// Counts one event: the number to log now, or nil to stay quiet.
    mutating func count(now: NIODeadline = .now()) -> Int? {
        unlogged += 1
        if let last, now - last < .seconds(10) { return nil }
        last = now
        defer { unlogged = 0 }
        return unlogged
    }
}
