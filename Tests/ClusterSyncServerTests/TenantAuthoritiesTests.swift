import ClusterSyncTLS
import Foundation
import Testing
import X509

/// `tls.tenantClientCA`: which CA speaks for which tenant, without sockets (the end-to-end test
/// runs it through a real handshake and the real CLI).
@Suite struct TenantAuthoritiesTests {
    let folder: URL
    let betsi: DevelopmentCertificateAuthority
    let cardiff: DevelopmentCertificateAuthority

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("tenant-cas-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        betsi = try DevelopmentCertificateAuthority.generate(commonName: "Betsi Cadwaladr CA")
        cardiff = try DevelopmentCertificateAuthority.generate(commonName: "Cardiff and Vale CA")
        try betsi.root.certificatePEM().write(to: folder.appendingPathComponent("betsi.pem"), atomically: true, encoding: .utf8)
        try cardiff.root.certificatePEM().write(to: folder.appendingPathComponent("cardiff.pem"), atomically: true, encoding: .utf8)
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    func certificate(from authority: DevelopmentCertificateAuthority, tenant: String) throws -> Certificate {
        try authority.issueClientCertificate(for: CertificateIdentity(tenant: tenant, cluster: "north", practice: "prestatyn")).certificate
    }

    @Test func eachCASpeaksForItsOwnTenantOnly() throws {
        let authorities = try TenantAuthorities(entries: ["bcuhb=\(path("betsi.pem"))", "cvuhb=\(path("cardiff.pem"))"])
        #expect(authorities.files == [path("betsi.pem"), path("cardiff.pem")])
        #expect(authorities.refusal(of: try certificate(from: betsi, tenant: "bcuhb"), for: "bcuhb") == nil)
        #expect(authorities.refusal(of: try certificate(from: cardiff, tenant: "cvuhb"), for: "cvuhb") == nil)
        let forged = try #require(authorities.refusal(of: try certificate(from: cardiff, tenant: "bcuhb"), for: "bcuhb"))
        #expect(forged.kind == .untrustedIssuer && forged.message.contains("not a CA this server names for bcuhb"), "\(forged)")
        let unnamed = try #require(authorities.refusal(of: try certificate(from: betsi, tenant: "hduhb"), for: "hduhb"))
        #expect(unnamed.kind == .untrustedIssuer && unnamed.message.contains("names no CA for tenant hduhb"), "\(unnamed)")
        #expect(authorities.names(betsi.root.certificate, for: "bcuhb") && !authorities.names(betsi.root.certificate, for: "cvuhb"))
    }

    /// Same name, another key: the issuer's name alone does not pass; its signature must.
    @Test func aCAWithTheSameNameButAnotherKeyDoesNotPass() throws {
        let impostor = try DevelopmentCertificateAuthority.generate(commonName: "Betsi Cadwaladr CA")
        let authorities = try TenantAuthorities(entries: ["bcuhb=\(path("betsi.pem"))"])
        let certificate = try certificate(from: impostor, tenant: "bcuhb")
        #expect(certificate.issuer == betsi.root.certificate.subject)
        #expect(authorities.refusal(of: certificate, for: "bcuhb")?.kind == .untrustedIssuer)
    }

    /// A file holding a CA being replaced and its replacement serves the tenant with both.
    @Test func aTenantsFileMayHoldSeveralCAs() throws {
        try (betsi.root.certificatePEM() + "\n" + cardiff.root.certificatePEM()).write(toFile: path("both.pem"), atomically: true, encoding: .utf8)
        let authorities = try TenantAuthorities(entries: ["bcuhb=\(path("both.pem"))"])
        #expect(authorities.refusal(of: try certificate(from: betsi, tenant: "bcuhb"), for: "bcuhb") == nil)
        #expect(authorities.refusal(of: try certificate(from: cardiff, tenant: "bcuhb"), for: "bcuhb") == nil)
    }

    @Test func noEntriesLetEveryTrustedCASpeakForEveryTenant() throws {
        let authorities = try TenantAuthorities(entries: [])
        #expect(authorities.isEmpty)
        #expect(authorities.refusal(of: try certificate(from: cardiff, tenant: "bcuhb"), for: "bcuhb") == nil)
        #expect(authorities.names(cardiff.root.certificate, for: "bcuhb"))
    }

    @Test func badEntriesAreRefusedNamingWhatIsWrong() throws {
        let practice = try betsi.issueClientCertificate(for: CertificateIdentity(tenant: "bcuhb", cluster: "north", practice: "rhyl"))
        try practice.certificatePEM().write(toFile: path("rhyl.pem"), atomically: true, encoding: .utf8)
        let cases: [(entries: [String], kind: ClusterSyncTLSError.Kind, says: String)] = [
            (["bcuhb"], .invalidIdentity, "\"bcuhb\" is not TENANT=PATH"),
            (["bc uhb=\(path("betsi.pem"))"], .invalidIdentity, "\"bc uhb\" cannot go in a certificate"),
            (["bcuhb=\(path("betsi.pem"))", "bcuhb=\(path("cardiff.pem"))"], .invalidIdentity, "names tenant bcuhb twice"),
            (["bcuhb=\(path("missing.pem"))"], .fileNotFound, "missing.pem"),
            (["bcuhb=\(path("rhyl.pem"))"], .notACertificateAuthority, "is not a certificate authority"),
        ]
        for (entries, kind, says) in cases {
            #expect { try TenantAuthorities(entries: entries) } throws: { error in
                guard let error = error as? ClusterSyncTLSError else { return false }
                return error.kind == kind && error.message.contains(says)
            }
        }
    }
}
