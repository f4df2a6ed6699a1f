import ClusterSyncCore
import ClusterSyncTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The TLS line-protocol server, as a Service: `run()` binds, accepts connections until graceful
/// shutdown, then stops accepting and lets open sessions finish (each closes with
/// `shutting-down` after its current request).
public final class SyncServer: Service, Sendable {
    let settings: ServerSettings
    let store: any ServerStore
    public let notifier = ChangeNotifier()
    let logger: Logger
    let onBound: @Sendable (SocketAddress) -> Void

    public init(settings: ServerSettings, store: any ServerStore, logger: Logger,
                onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }) {
        self.settings = settings
        self.store = store
        self.logger = logger
        self.onBound = onBound
    }

    public func run() async throws {
        let authorities = try TenantAuthorities(entries: settings.tenantClientCA)
        let tls = try NIOSSLContext(configuration: TLSSetup.serverConfiguration(
            certificateChainFile: settings.certificate, privateKeyFile: settings.privateKey, trustedCAFile: settings.clientCA,
            tenantAuthorities: authorities))
        let limits = settings.limits
        let sessionLimits = settings.sessionLimits
        // Fixed for the store's life: a restore makes a new store (PROTOCOL.md §5.2).
        let storeIdentity = try await store.storeIdentity()
        let handshakeTimeout = TimeAmount.seconds(Int64(settings.tlsHandshakeTimeoutSeconds))
        FileLimit.raise(toFit: settings.maxConnections, logger: logger)
        MemoryReturn.mapLargeBuffers()
        let connections = ConnectionRegistry(
            maxConnections: settings.maxConnections, maxConnectionsPerCredential: settings.maxConnectionsPerCredential,
            whenMostHaveClosed: { [store] in store.releaseCaches() })
        let logger = self.logger
        let feed = SubscriptionFeed(store: store, notifier: notifier, logger: logger)
        let credentials = SubscribedCredentials(store: store, notifier: notifier, logger: logger)
        var configured = SessionHandler(store: store, notifier: notifier, limits: limits, logger: logger)
        configured.sessionLimits = sessionLimits
        configured.feed = feed
        configured.credentials = credentials
        configured.storeIdentity = storeIdentity
        configured.connections = connections
        configured.auditRetentionMillis = Int64(settings.auditRetentionDays) * 86_400_000
        let handler = configured
        // Sessions are started from the child channel initializer and run on their own (no task
        // per connection: `SessionEvents`); the registry tells them of a shutdown.
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allocator, value: MappedLargeBuffers.allocator)
            .serverChannelInitializer { channel in
                // Out of file descriptors (EMFILE): stop accepting for a second instead of
                // retrying at once, and say so. NIO adds its own back-off after this one.
                let refusals = ConnectionRegistry(maxConnections: 0, maxConnectionsPerCredential: 0)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler(shouldForwardIOErrorCaught: false) { error in
                        if let count = refusals.refusalToLog() {
                            logger.warning("cannot accept connections: backing off for 1 s", metadata: [
                                "clustersyncd.error": "\(error)", "clustersyncd.times": "\(count)",
                                "clustersyncd.open": "\(connections.count)",
                            ])
                        }
                        return .seconds(1)
                    })
                }
            }
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard connections.admit(channel) else {
                        if let count = connections.refusalToLog() {
                            logger.warning("connection cap reached: closing new connections", metadata: [
                                "clustersyncd.maxConnections": "\(connections.maxConnections)", "clustersyncd.refused": "\(count)",
                            ])
                        }
                        channel.close(promise: nil)
                        return
                    }
                    // A handler per connection: NIOSSL handlers are never shared between channels.
                    let identity = channel.eventLoop.makePromise(of: CertificateIdentity?.self)
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    try channel.pipeline.syncOperations.addHandler(PeerIdentityHandler(identity, authorities: authorities, logger: logger, connections: connections))
                    let handshake = channel.eventLoop.scheduleTask(in: handshakeTimeout) {
                        logger.info("TLS handshake timed out: closing the connection", metadata: [
                            "clustersyncd.peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")",
                            "clustersyncd.tlsHandshakeTimeoutSeconds": "\(handshakeTimeout.nanoseconds / 1_000_000_000)",
                        ])
                        channel.close(promise: nil)
                    }
                    identity.futureResult.whenComplete { _ in handshake.cancel() }
                    let events = try SessionHandler.wrap(channel, limits: limits, sessionLimits: sessionLimits)
                    connections.started(events)
                    handler.start(events, certificateIdentity: identity.futureResult)
                }
            }
            .bind(host: settings.host, port: settings.port).get()
        if let address = server.localAddress {
            logger.info("listening", metadata: [
                "clustersyncd.address": "\(address)", "clustersyncd.maxConnections": "\(settings.maxConnections)",
                "clustersyncd.idleTimeoutSeconds": "\(limits.idleTimeoutMillis / 1000)",
            ])
            onBound(address)
        }
        let drain = settings.drainSeconds
        let trimming = Task { await MemoryReturn.trimWhenQuiet() }
        defer { trimming.cancel() }
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await server.closeFuture.get()
                await connections.sessionsEnded()
            } onCancel: {
                server.close(promise: nil)
                _ = connections.closeAll()
            }
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new sessions; open sessions finish their current request",
                             metadata: ["clustersyncd.drainSeconds": "\(drain)"])
            server.close(promise: nil)
            connections.shutDownSessions()
            // A session stuck on a slow store or a client that does not read must not hold up a
            // restart: whatever is still open after drainSeconds is closed.
            Task {
                try? await Task.sleep(for: .seconds(drain))
                let closed = connections.closeAll()
                if closed > 0 {
                    logger.warning("closed sessions still open after drainSeconds", metadata: [
                        "clustersyncd.closed": "\(closed)", "clustersyncd.drainSeconds": "\(drain)",
                    ])
                }
            }
        }
        await store.finishDeferredWork()
        logger.info("stopped")
    }
}

/// The process's open-file limit, which bounds the connections the server can hold.
enum FileLimit {
    /// Raises the soft limit (up to the hard one) so that `maxConnections` fit with room for the
    /// store's files, and warns if they still do not.
    static func raise(toFit maxConnections: Int, logger: Logger) {
        #if os(Linux)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let needed = rlim_t(maxConnections + 64)
        if limit.rlim_cur < needed {
            var raised = limit
            raised.rlim_cur = min(needed, limit.rlim_max)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        if limit.rlim_cur < needed {
            logger.warning("the open-file limit is below what maxConnections needs: connections beyond it are refused with back-off", metadata: [
                "clustersyncd.fileLimit": "\(limit.rlim_cur)", "clustersyncd.maxConnections": "\(maxConnections)",
                "clustersyncd.hint": "raise LimitNOFILE (the systemd unit sets 8192) or lower limits.maxConnections",
            ])
        }
        #endif
    }
}

/// Reads the client certificate's identity once the handshake completes.
///
/// A verified certificate that names no practice, several, or one in a malformed URI ends the
/// connection here: no line reaches the session. The client speaks first, so the fatal
/// `unauthenticated` error saying what is wrong with its certificate answers its first bytes (or
/// goes out after `refusalGraceSeconds` if it sends none); closing at once would race the
/// client's hello, which then fails to write and hides the reason. The log says the same.
final class PeerIdentityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundOut = ByteBuffer
    private let promise: EventLoopPromise<CertificateIdentity?>
    private let authorities: TenantAuthorities
    private let logger: Logger
    private let connections: ConnectionRegistry

    init(_ promise: EventLoopPromise<CertificateIdentity?>, authorities: TenantAuthorities, logger: Logger, connections: ConnectionRegistry) {
        self.promise = promise
        self.authorities = authorities
        self.logger = logger
        self.connections = connections
    }

    /// A handshake BoringSSL refused (a client certificate from another CA, expired, or none
    /// where one is needed; an old TLS version) is logged, as few times as `LogThrottle` allows:
    /// the client is told by TLS's alert, and the operator otherwise sees nothing. A connection
    /// that ends mid-handshake without an alert (a port scan, a client stopped) is not.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case NIOSSLError.handshakeFailed(.sslError(let errors)) = error,
           !errors.allSatisfy({ $0 == .eofDuringHandshake || $0 == .eofDuringAdditionalCertficiateChainValidation }),
           let count = connections.handshakeFailureToLog() {
            logger.warning("TLS handshake failed", metadata: [
                "clustersyncd.peer": "\(context.remoteAddress.map { "\($0)" } ?? "unknown")",
                "clustersyncd.error": "\(errors.map { "\($0)" }.joined(separator: "; "))",
                "clustersyncd.failures": "\(count)",
            ])
        }
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            do {
                let ssl = try context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
                promise.succeed(try TLSSetup.peerIdentity(of: ssl, authorities: authorities))
            } catch let error as ClusterSyncTLSError {
                refuse(context: context, error)
                return
            } catch {
                promise.fail(error)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// How long a refused client has to send its first bytes before the refusal goes out anyway.
    static let refusalGraceSeconds: Int64 = 5
    private var refusal: ClusterSyncTLSError?
    private var refusalDeadline: Scheduled<Void>?

    private func refuse(context: ChannelHandlerContext, _ error: ClusterSyncTLSError) {
        logger.warning("client certificate refused", metadata: [
            "clustersyncd.peer": "\(context.remoteAddress.map { "\($0)" } ?? "unknown")",
            "clustersyncd.error": "\(error.message)",
        ])
        refusal = error
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        refusalDeadline = context.eventLoop.scheduleTask(in: .seconds(Self.refusalGraceSeconds)) {
            let (handler, context) = loopBound.value
            handler.sendRefusal(context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard refusal != nil else {
            context.fireChannelRead(data)
            return
        }
        // Whatever a refused client sends (its hello) is answered with the refusal, never read.
        sendRefusal(context: context)
    }

    private func sendRefusal(context: ChannelHandlerContext) {
        guard let error = refusal else { return }
        refusal = nil
        refusalDeadline?.cancel()
        let line = WireCodec.encode(.error(WireError(
            ClusterSyncError(.unauthenticated, error.message), fatal: true)))
        let promise = self.promise
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: line))).assumeIsolated().whenComplete { _ in
            promise.fail(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(ChannelError.ioOnClosedChannel)
    }
}
