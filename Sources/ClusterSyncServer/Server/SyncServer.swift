import ClusterSyncCore
import ClusterSyncTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ServiceLifecycle

/// The TLS line-protocol server, as a Service: `run()` binds, accepts connections until graceful
/// shutdown, then stops accepting and lets open sessions finish (each closes with
/// `shutting-down` after its current request).
public final class SyncServer: Service, Sendable {
    let settings: ServerSettings
    let store: any ServerStore
    let notifier = ChangeNotifier()
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
        let tls = try NIOSSLContext(configuration: TLSSetup.serverConfiguration(
            certificateChainFile: settings.certificate, privateKeyFile: settings.privateKey, trustedCAFile: settings.clientCA))
        let limits = settings.limits
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: settings.host, port: settings.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // A handler per connection: NIOSSL handlers are never shared between channels.
                    let identity = channel.eventLoop.makePromise(of: CertificateIdentity?.self)
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    try channel.pipeline.syncOperations.addHandler(PeerIdentityHandler(identity, logger: self.logger))
                    let wrapped = try SessionHandler.wrap(channel, limits: limits)
                    return (wrapped, identity.futureResult)
                }
            }
        if let address = server.channel.localAddress {
            logger.info("listening", metadata: ["clustersyncd.address": "\(address)"])
            onBound(address)
        }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await (connection, identity) in connections {
                        group.addTask {
                            let session = SessionHandler(
                                store: self.store, notifier: self.notifier, limits: limits, logger: self.logger)
                            await session.run(connection, certificateIdentity: identity)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new sessions; open sessions finish their current request")
            server.channel.close(promise: nil)
        }
        logger.info("stopped")
    }
}

/// Reads the client certificate's identity once the handshake completes.
///
/// A verified certificate that names no practice, several, or one in a malformed URI ends the
/// connection here, before any line is read: the client gets a fatal `unauthenticated` error
/// saying what is wrong with its certificate, and the log says the same.
final class PeerIdentityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundOut = ByteBuffer
    private let promise: EventLoopPromise<CertificateIdentity?>
    private let logger: Logger

    init(_ promise: EventLoopPromise<CertificateIdentity?>, logger: Logger) {
        self.promise = promise
        self.logger = logger
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            do {
                let ssl = try context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
                promise.succeed(try TLSSetup.peerIdentity(of: ssl))
            } catch let error as ClusterSyncTLSError {
                refuse(context: context, error)
                return
            } catch {
                promise.fail(error)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func refuse(context: ChannelHandlerContext, _ error: ClusterSyncTLSError) {
        logger.warning("client certificate refused", metadata: [
            "clustersyncd.peer": "\(context.remoteAddress.map { "\($0)" } ?? "unknown")",
            "clustersyncd.error": "\(error.message)",
        ])
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
