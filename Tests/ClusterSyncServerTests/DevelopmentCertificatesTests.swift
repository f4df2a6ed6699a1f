import ClusterSyncTLS
import Crypto
import Foundation
import NIOSSL
import Testing
import X509

@Suite struct CertificateIdentityTests {
    @Test func uriRoundTrips() throws {
        let identity = try CertificateIdentity(tenant: "cwm-taf", cluster: "merthyr", practice: "W97001")
        #expect(identity.uri == "clustersync://cwm-taf/merthyr/W97001")
        #expect(try CertificateIdentity(uri: identity.uri) == identity)
        #expect(identity.scope.practice == "W97001")
    }

    @Test(arguments: ["", "a/b", "dŵr", ".hidden", "-x", "with space", String(repeating: "a", count: 65)])
    func unusableNamesAreRefused(name: String) {
        #expect { try CertificateIdentity(tenant: name, cluster: "c", practice: "p") } throws: { error in
            (error as? ClusterSyncTLSError)?.kind == .invalidIdentity
        }
    }

    @Test(arguments: [
        "https://t/c/p", "clustersync://t/c", "clustersync://t/c/p/extra", "clustersync://t//p", "CLUSTERSYNC://t/c/p",
    ])
    func malformedURIsAreRefused(uri: String) {
        #expect { try CertificateIdentity(uri: uri) } throws: { error in
            (error as? ClusterSyncTLSError)?.kind == .invalidIdentity
        }
    }

    @Test func aSubjectAloneNoLongerAuthenticates() throws {
        let authority = try DevelopmentCertificateAuthority.generate()
        let certificate = try makeCertificate(
            signedBy: authority,
            subject: DistinguishedName {
                OrganizationName("bae")
                OrganizationalUnitName("north")
                CommonName("W99999")
            },
            names: []
        )
        #expect { try CertificateIdentity(certificate: certificate) } throws: { error in
            guard let error = error as? ClusterSyncTLSError else { return false }
            return error.kind == .missingIdentity && error.message.contains("subject alone does not authenticate")
        }
    }

    @Test(arguments: ["clustersync://bae/north", "clustersync:bae/north/W1", "Clustersync://bae/north/W1", "clustersync://bae/no rth/W1"])
    func aMalformedURIInACertificateIsRefused(uri: String) throws {
        let authority = try DevelopmentCertificateAuthority.generate()
        let certificate = try makeCertificate(
            signedBy: authority, subject: DistinguishedName { CommonName("W1") }, names: [.uniformResourceIdentifier(uri)])
        #expect { try CertificateIdentity(certificate: certificate) } throws: { error in
            guard let error = error as? ClusterSyncTLSError else { return false }
            return error.kind == .invalidIdentity && error.message.contains("malformed")
        }
    }

    @Test func theSameURITwiceIsRefused() throws {
        let authority = try DevelopmentCertificateAuthority.generate()
        let certificate = try makeCertificate(
            signedBy: authority, subject: DistinguishedName { CommonName("W1") },
            names: [.uniformResourceIdentifier("clustersync://bae/north/W1"), .uniformResourceIdentifier("clustersync://bae/north/W1")])
        #expect { try CertificateIdentity(certificate: certificate) } throws: { error in
            (error as? ClusterSyncTLSError)?.kind == .conflictingIdentity
        }
    }

    @Test func uriWinsOverSubject() throws {
        let authority = try DevelopmentCertificateAuthority.generate()
        let certificate = try makeCertificate(
            signedBy: authority,
            subject: DistinguishedName { CommonName("Meddygfa Ty Gwyn") },
            names: [.uniformResourceIdentifier("https://example.org/"), .uniformResourceIdentifier("clustersync://bae/north/W1")]
        )
        #expect(try CertificateIdentity(certificate: certificate) == CertificateIdentity(tenant: "bae", cluster: "north", practice: "W1"))
    }

    @Test func twoPracticesInOneCertificateAreRefused() throws {
        let authority = try DevelopmentCertificateAuthority.generate()
        let certificate = try makeCertificate(
            signedBy: authority,
            subject: DistinguishedName { CommonName("x") },
            names: [.uniformResourceIdentifier("clustersync://bae/north/W1"), .uniformResourceIdentifier("clustersync://bae/north/W2")]
        )
        #expect { try CertificateIdentity(certificate: certificate) } throws: { error in
            (error as? ClusterSyncTLSError)?.kind == .conflictingIdentity
        }
    }

    @Test func certificateWithoutIdentityIsRefused() throws {
        let server = try DevelopmentCertificateAuthority.generate().issueServerCertificate()
        #expect { try CertificateIdentity(certificate: server.certificate) } throws: { error in
            guard let error = error as? ClusterSyncTLSError else { return false }
            return error.kind == .missingIdentity && error.message.contains("clustersync://")
        }
    }

    @Test func identityIsReadFromNIOSSLCertificate() throws {
        let identity = try CertificateIdentity(tenant: "t", cluster: "c", practice: "p")
        let client = try DevelopmentCertificateAuthority.generate().issueClientCertificate(for: identity)
        let nio = try NIOSSLCertificate(bytes: Array(client.certificatePEM().utf8), format: .pem)
        #expect(try CertificateIdentity(certificate: nio) == identity)
    }

    private func makeCertificate(
        signedBy authority: DevelopmentCertificateAuthority, subject: DistinguishedName, names: [GeneralName]
    ) throws -> Certificate {
        let key = P256.Signing.PrivateKey()
        return try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-60), notValidAfter: Date().addingTimeInterval(3600),
            issuer: authority.root.certificate.subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                if !names.isEmpty { SubjectAlternativeNames(names) }
            },
            issuerPrivateKey: authority.root.privateKey
        )
    }
}

@Suite struct DevelopmentCertificateAuthorityTests {
    let identity = try! CertificateIdentity(tenant: "cwm-taf", cluster: "merthyr", practice: "W97001")

    @Test func authorityProfile() throws {
        let now = Date()
        let ca = try DevelopmentCertificateAuthority.generate(now: now).root.certificate
        #expect(ca.issuer == ca.subject)
        #expect(ca.publicKey.isValidSignature(ca.signature, for: ca))
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(try ca.extensions.keyUsage == KeyUsage(keyCertSign: true))
        #expect(try ca.extensions.subjectKeyIdentifier != nil)
        #expect(years(from: now, to: ca.notValidAfter) == 10)
        #expect(ca.notValidBefore < now)
    }

    @Test func serverProfile() throws {
        let now = Date()
        let authority = try DevelopmentCertificateAuthority.generate(now: now)
        let server = try authority.issueServerCertificate(extraHostnames: ["sync.example.wales", "10.1.2.3", "fd00::5"], now: now)
            .certificate
        #expect(server.issuer == authority.root.certificate.subject)
        #expect(authority.root.certificate.publicKey.isValidSignature(server.signature, for: server))
        #expect(try server.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try server.extensions.extendedKeyUsage == ExtendedKeyUsage([.serverAuth]))
        let names = Array(try #require(try server.extensions.subjectAlternativeNames))
        #expect(names.contains(.dnsName("localhost")))
        #expect(names.contains(.dnsName("sync.example.wales")))
        #expect(names.contains(.ipAddress(.init(contentBytes: [127, 0, 0, 1]))))
        #expect(names.contains(.ipAddress(.init(contentBytes: [10, 1, 2, 3]))))
        #expect(names.contains(.ipAddress(.init(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))))
        #expect(names.contains(.ipAddress(.init(contentBytes: ArraySlice([0xfd, 0] + [UInt8](repeating: 0, count: 13) + [5])))))
        #expect(years(from: now, to: server.notValidAfter) == 2)
    }

    @Test func badHostnameIsRefused() throws {
        let authority = try DevelopmentCertificateAuthority.generate()
        #expect { try authority.issueServerCertificate(extraHostnames: ["bad host/name"]) } throws: { error in
            (error as? ClusterSyncTLSError)?.kind == .invalidHostname
        }
    }

    @Test func clientProfile() throws {
        let now = Date()
        let authority = try DevelopmentCertificateAuthority.generate(now: now)
        let client = try authority.issueClientCertificate(for: identity, now: now).certificate
        #expect(authority.root.certificate.publicKey.isValidSignature(client.signature, for: client))
        #expect(client.subject.description == "CN=W97001,OU=merthyr,O=cwm-taf")
        #expect(try client.extensions.subjectAlternativeNames == SubjectAlternativeNames([.uniformResourceIdentifier("clustersync://cwm-taf/merthyr/W97001")]))
        #expect(try client.extensions.extendedKeyUsage == ExtendedKeyUsage([.clientAuth]))
        #expect(try client.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try client.extensions.keyUsage == KeyUsage(digitalSignature: true))
        #expect(try client.extensions.authorityKeyIdentifier?.keyIdentifier == authority.root.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
        #expect(years(from: now, to: client.notValidAfter) == 1)
        #expect(try CertificateIdentity(certificate: client) == identity)
    }

    @Test func certificatesDoNotOutliveTheirAuthority() throws {
        let now = Date()
        let authority = try DevelopmentCertificateAuthority.generate(now: now.addingTimeInterval(-10 * 365 * 86400))
        let client = try authority.issueClientCertificate(for: identity, now: now).certificate
        #expect(client.notValidAfter == authority.root.certificate.notValidAfter)
    }

    @Test func pemFilesRoundTripWithPrivateKeyModes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-pem-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let authority = try DevelopmentCertificateAuthority.generate()
        let certificateFile = directory + "/ca.pem", keyFile = directory + "/ca-key.pem"

        try authority.root.write(certificateTo: certificateFile, privateKeyTo: keyFile)

        #expect(try permissions(keyFile) == 0o600)
        #expect(try permissions(certificateFile) & 0o600 == 0o600)
        #expect(try String(contentsOfFile: keyFile, encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(try String(contentsOfFile: certificateFile, encoding: .utf8).hasPrefix("-----BEGIN CERTIFICATE-----\n"))
        let reread = try DevelopmentCertificateAuthority(CertificateAndKey(certificateFile: certificateFile, privateKeyFile: keyFile))
        #expect(reread.root.certificate == authority.root.certificate)
        #expect(reread.root.privateKey == authority.root.privateKey)

        // A second write must not silently replace the CA: that would orphan every issued certificate.
        let other = try DevelopmentCertificateAuthority.generate()
        #expect { try other.root.write(certificateTo: certificateFile, privateKeyTo: keyFile) } throws: { error in
            (error as? ClusterSyncTLSError)?.kind == .fileExists
        }
        #expect(try CertificateAndKey(certificateFile: certificateFile, privateKeyFile: keyFile).certificate == authority.root.certificate)

        try other.root.write(certificateTo: certificateFile, privateKeyTo: keyFile, overwrite: true)
        #expect(try permissions(keyFile) == 0o600)
        #expect(try CertificateAndKey(certificateFile: certificateFile, privateKeyFile: keyFile).certificate == other.root.certificate)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["ca-key.pem", "ca.pem"])
    }

    @Test func refusedWriteLeavesNoStrayKey() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-pem-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let existing = directory + "/client.pem"
        try "old".write(toFile: existing, atomically: false, encoding: .utf8)
        let client = try DevelopmentCertificateAuthority.generate().issueClientCertificate(for: identity)

        #expect { try client.write(certificateTo: existing, privateKeyTo: directory + "/client-key.pem") } throws: { error in
            (error as? ClusterSyncTLSError).map { $0.kind == .fileExists && $0.path == existing } ?? false
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["client.pem"])
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "old")
    }

    @Test func readingReportsWhatIsWrong() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-pem-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let authority = try DevelopmentCertificateAuthority.generate()
        let client = try authority.issueClientCertificate(for: identity)
        try authority.root.write(certificateTo: directory + "/ca.pem", privateKeyTo: directory + "/ca-key.pem")
        try client.write(certificateTo: directory + "/client.pem", privateKeyTo: directory + "/client-key.pem")

        func kind(_ body: () throws -> Void) -> ClusterSyncTLSError.Kind? {
            do { try body(); return nil } catch { return (error as? ClusterSyncTLSError)?.kind }
        }
        #expect(kind { _ = try CertificateAndKey(certificateFile: directory + "/missing.pem", privateKeyFile: directory + "/ca-key.pem") } == .fileNotFound)
        #expect(kind { _ = try CertificateAndKey(certificateFile: directory + "/ca-key.pem", privateKeyFile: directory + "/ca-key.pem") } == .malformedCertificate)
        #expect(kind { _ = try CertificateAndKey(certificateFile: directory + "/ca.pem", privateKeyFile: directory + "/ca.pem") } == .malformedPrivateKey)
        #expect(kind { _ = try CertificateAndKey(certificateFile: directory + "/ca.pem", privateKeyFile: directory + "/client-key.pem") } == .keyMismatch)
        #expect(kind { _ = try DevelopmentCertificateAuthority(client) } == .notACertificateAuthority)

        #expect(kind { _ = try TLSSetup.clientConfiguration(trustedCAFile: directory + "/ca.pem", certificateFile: directory + "/client.pem") } == .incompleteCredentials)
        #expect(kind { _ = try TLSSetup.clientConfiguration(trustedCAFile: directory + "/ca.pem", privateKeyFile: directory + "/client-key.pem") } == .incompleteCredentials)
        #expect(kind { _ = try TLSSetup.clientConfiguration(trustedCAFile: directory + "/ca-key.pem") } == .malformedCertificate)
        #expect(kind {
            _ = try TLSSetup.serverConfiguration(
                certificateChainFile: directory + "/client.pem", privateKeyFile: directory + "/ca-key.pem", trustedCAFile: directory + "/ca.pem"
            )
        } == .keyMismatch)
    }

    @Test func configurationsAskForWhatTheyShould() throws {
        let fixture = try TLSFixture()
        defer { fixture.remove() }
        let ca = try NIOSSLCertificate.fromPEMFile(fixture.caFile)

        let server = try fixture.serverConfiguration()
        #expect(server.minimumTLSVersion == .tlsv12)
        #expect(server.certificateVerification == .optionalVerification)
        #expect(server.trustRoots == .certificates(ca))
        #expect(server.certificateChain.count == 1)

        let client = try fixture.clientConfiguration()
        #expect(client.minimumTLSVersion == .tlsv12)
        #expect(client.certificateVerification == .fullVerification)
        #expect(client.trustRoots == .certificates(ca))
        #expect(client.certificateChain.isEmpty && client.privateKey == nil)
    }

    private func years(from start: Date, to end: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.dateComponents([.year], from: start, to: end.addingTimeInterval(1)).year!
    }

    private func permissions(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
