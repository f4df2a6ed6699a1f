import NIOCore
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
}
