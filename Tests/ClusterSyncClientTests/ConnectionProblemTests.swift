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
}
