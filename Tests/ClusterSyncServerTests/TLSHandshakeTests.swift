import ClusterSyncTLS
import Foundation
import NIOCore
import NIOSSL
import Testing

/// Real TLS on loopback, server and client both set up by `TLSSetup` from PEM files that
/// `DevelopmentCertificateAuthority` wrote into a temporary folder.
@Suite(.timeLimit(.minutes(1)))
struct TLSHandshakeTests {
    let practice = try! CertificateIdentity(tenant: "cwm-taf", cluster: "merthyr", practice: "W97001")

    @Test func practiceCertificateIdentifiesThePractice() async throws {
        let fixture = try TLSFixture()
        defer { fixture.remove() }
        let files = try fixture.write(try fixture.authority.issueClientCertificate(for: practice), as: "practice")

        let outcome = try await exchange(server: fixture.serverConfiguration(), client: fixture.clientConfiguration(files))

        let accepted = try outcome.server.get()
        #expect(accepted.identity == practice)
        #expect(try await accepted.identityViaChannel.get() == practice)
        #expect(accepted.tlsVersion == .tlsv13 || accepted.tlsVersion == .tlsv12)
        #expect(try outcome.client.get() == "identity:clustersync://cwm-taf/merthyr/W97001")
    }

    @Test func clientWithoutCertificateIsAcceptedAnonymously() async throws {
        let fixture = try TLSFixture()
        defer { fixture.remove() }

        let outcome = try await exchange(server: fixture.serverConfiguration(), client: fixture.clientConfiguration())

        let accepted = try outcome.server.get()
        #expect(accepted.identity == nil)
        #expect(try await accepted.identityViaChannel.get() == nil)
        #expect(try outcome.client.get() == "identity:anonymous")
    }

    @Test func certificateFromAnotherAuthorityIsRefused() async throws {
        let fixture = try TLSFixture()
        defer { fixture.remove() }
        // Same CA name, different key: the server must check the signature, not just the issuer name.
        let stranger = try DevelopmentCertificateAuthority.generate()
        #expect(stranger.root.certificate.subject == fixture.authority.root.certificate.subject)
        let files = try fixture.write(try stranger.issueClientCertificate(for: practice), as: "stranger")

        let outcome = try await exchange(server: fixture.serverConfiguration(), client: fixture.clientConfiguration(files))

        expectRefused(outcome, serverErrorMentions: "CERTIFICATE_VERIFY_FAILED", clientAlert: "ALERT_UNKNOWN_CA")
    }

    @Test func expiredCertificateIsRefused() async throws {
        let fixture = try TLSFixture()
        defer { fixture.remove() }
        let twoYearsAgo = Date().addingTimeInterval(-2 * 366 * 86400)
        let expired = try fixture.authority.issueClientCertificate(for: practice, now: twoYearsAgo)
        #expect(expired.certificate.notValidAfter < Date())
        let files = try fixture.write(expired, as: "expired")

        let outcome = try await exchange(server: fixture.serverConfiguration(), client: fixture.clientConfiguration(files))

        expectRefused(outcome, serverErrorMentions: "CERTIFICATE_VERIFY_FAILED", clientAlert: "ALERT_CERTIFICATE_EXPIRED")
    }

    @Test func clientLimitedToTLS11IsRefused() async throws {
        let fixture = try TLSFixture()
        defer { fixture.remove() }
        let files = try fixture.write(try fixture.authority.issueClientCertificate(for: practice), as: "practice")
        var client = try fixture.clientConfiguration(files)
        client.minimumTLSVersion = .tlsv1
        client.maximumTLSVersion = .tlsv11
        // Suites that TLS 1.0 and 1.1 can use with an ECDSA server key, so the client really
        // offers TLS 1.1 and it is the server that turns it down.
        client.cipherSuites = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"

        let outcome = try await exchange(server: fixture.serverConfiguration(), client: client)

        expectRefused(outcome, serverErrorMentions: "UNSUPPORTED_PROTOCOL", clientAlert: "ALERT_PROTOCOL_VERSION")
    }

    /// The server must fail the handshake itself (not merely see the client give up), and the
    /// client must get no answer but the alert that says why.
    private func expectRefused(
        _ outcome: Exchange, serverErrorMentions reason: String, clientAlert: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        switch outcome.server {
        case .success(let accepted):
            Issue.record("the server accepted the connection as \(String(describing: accepted.identity))", sourceLocation: sourceLocation)
        case .failure(let error):
            #expect(error is NIOSSLError, "server error: \(error)", sourceLocation: sourceLocation)
            #expect(String(describing: error).contains(reason), "server error: \(error)", sourceLocation: sourceLocation)
        }
        switch outcome.client {
        case .success(let reply):
            Issue.record("the client got an answer: \(reply)", sourceLocation: sourceLocation)
        case .failure(let error):
            #expect(String(describing: error).contains(clientAlert), "client error: \(error)", sourceLocation: sourceLocation)
        }
    }
}
