import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import ClusterSyncClient

/// How `SyncClient` names what ended a connection: a refused handshake is not retried by a
/// watch, a lost connection is.
@Suite struct ConnectionProblemTests {
    @Test func aConnectionEndedMidHandshakeIsLostNotRefused() {
        // What NIOSSL reports when a server is stopped or killed during the handshake.
        let eof = SyncClient.problem(NIOSSLError.handshakeFailed(.sslError([.eofDuringHandshake])), server: "sync.test:7443")
        #expect(eof.kind == .lost, "\(eof.message)")
        #expect(eof.message.contains("during the TLS handshake"))
        let reset = SyncClient.problem(NIOSSLError.handshakeFailed(.syscallError), server: "sync.test:7443")
        #expect(reset.kind == .lost, "\(reset.message)")
    }

    @Test func aHandshakeTheServerRefusesIsNotRetried() {
        let refused = SyncClient.problem(NIOSSLError.handshakeFailed(.sslError([])), server: "sync.test:7443")
        #expect(refused.kind == .rejected, "\(refused.message)")
        #expect(SyncClient.problem(NIOSSLError.uncleanShutdown, server: "sync.test:7443").kind == .lost)
    }

    /// A port nothing listens on, by address and by name: plain words, not the library's text.
    @Test func aServerThatIsNotRunningIsSaidSoPlainly() async throws {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        try await listener.close()
        for byName in [false, true] {
            let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            do {
                let channel = byName ? try await bootstrap.connect(host: "localhost", port: port).get()
                    : try await bootstrap.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: port)).get()
                try await channel.close()
                Issue.record("a closed port accepted a connection")
            } catch {
                let words = SyncClient.unreachable(error, server: "localhost:\(port)")
                #expect(words == "cannot reach the server at localhost:\(port): nothing answers on that port (is the server running, and is the port right?)",
                        "\(error)")
            }
        }
    }

    /// A port where something that is not a ClusterSync server answers in plain text (a web
    /// page, the web app): said so, not taken for a certificate problem (the CLI audit).
    @Test func aPortThatDoesNotSpeakTLSIsSaidSo() async throws {
        final class AnswersHTTP: ChannelInboundHandler, Sendable {
            typealias InboundIn = ByteBuffer
            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                context.writeAndFlush(NIOAny(ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")), promise: nil)
            }
        }
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AnswersHTTP()) } }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        /// The first error the TLS handler passes on: the handshake's.
        final class CatchesError: ChannelInboundHandler, Sendable {
            typealias InboundIn = ByteBuffer
            let caught: EventLoopPromise<any Error>
            init(_ caught: EventLoopPromise<any Error>) { self.caught = caught }
            func errorCaught(context: ChannelHandlerContext, error: any Error) {
                caught.succeed(error)
                context.close(promise: nil)
            }
        }
        let context = try NIOSSLContext(configuration: .makeClientConfiguration())
        let caught = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: (any Error).self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(CatchesError(caught))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let error = try await caught.futureResult.get()
        try? await channel.close()
        try? await listener.close()
        let words = SyncClient.problem(error, server: "127.0.0.1:\(port)")
        #expect(words.kind == .rejected)
        #expect(words.message.hasPrefix("what answers at 127.0.0.1:\(port) does not speak TLS (WRONG_VERSION_NUMBER)"), "\(words.message)")
    }
}
