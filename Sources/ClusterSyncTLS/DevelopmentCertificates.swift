import Crypto
import Foundation
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A certificate and the private key that belongs to it.
public struct CertificateAndKey: Sendable {
    public let certificate: Certificate
    public let privateKey: Certificate.PrivateKey

    /// Pairs a certificate with its key, refusing a key that belongs to another certificate: such a
    /// pair would only fail later, inside a TLS handshake, with a far less helpful message.
    public init(certificate: Certificate, privateKey: Certificate.PrivateKey) throws(ClusterSyncTLSError) {
        guard privateKey.publicKey == certificate.publicKey else {
            throw ClusterSyncTLSError(
                .keyMismatch,
                "The private key does not belong to the certificate for \(certificate.subject); use the key file written with that certificate."
            )
        }
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Reads a PEM certificate and its PKCS#8 (or SEC1 / PKCS#1) PEM private key.
    public init(certificateFile: String, privateKeyFile: String) throws(ClusterSyncTLSError) {
        let certificatePEM = try PEMFiles.read(certificateFile, what: "certificate")
        let keyPEM = try PEMFiles.read(privateKeyFile, what: "private key")
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: certificatePEM)
        } catch {
            throw ClusterSyncTLSError(
                .malformedCertificate,
                "\(certificateFile) does not hold a single PEM certificate (\(error)); point at the .pem file the certificate was written to.",
                path: certificateFile
            )
        }
        let key: Certificate.PrivateKey
        do {
            key = try Certificate.PrivateKey(pemEncoded: keyPEM)
        } catch {
            // The underlying error is not interpolated: some decoders echo input bytes, and
            // these bytes are a private key.
            throw ClusterSyncTLSError(
                .malformedPrivateKey,
                "\(privateKeyFile) does not hold an unencrypted PEM private key; point at the key file written with the certificate.",
                path: privateKeyFile
            )
        }
        do {
            try self.init(certificate: certificate, privateKey: key)
        } catch {
            var error = error
            error.message = "The private key in \(privateKeyFile) does not belong to the certificate in \(certificateFile); use the key file written with that certificate."
            error.path = privateKeyFile
            throw error
        }
    }

    /// The certificate as PEM text.
    public func certificatePEM() throws(ClusterSyncTLSError) -> String {
        do {
            return try certificate.serializeAsPEM().pemString
        } catch {
            throw ClusterSyncTLSError(.generationFailed, "The certificate cannot be encoded as PEM: \(error).")
        }
    }

    /// The private key as PKCS#8 PEM text (`BEGIN PRIVATE KEY`), the form NIOSSL, OpenSSL and
    /// most other tools read without being told the key type.
    public func privateKeyPEM() throws(ClusterSyncTLSError) -> String {
        do {
            return try privateKey.serializeAsPEM().pemString
        } catch {
            throw ClusterSyncTLSError(.generationFailed, "The private key cannot be encoded as PEM.")
        }
    }

    /// Writes the certificate (mode 0644) and the private key (mode 0600, created with that mode
    /// so it is never readable by others). Refuses to replace existing files unless `overwrite`.
    public func write(
        certificateTo certificateFile: String, privateKeyTo privateKeyFile: String, overwrite: Bool = false
    ) throws(ClusterSyncTLSError) {
        let certificateText = try certificatePEM()
        let keyText = try privateKeyPEM()
        if !overwrite {
            // Refuse before writing either file, so a refusal leaves no stray new key behind.
            for (path, what) in [(privateKeyFile, "private key"), (certificateFile, "certificate")]
            where FileManager.default.fileExists(atPath: path) {
                throw ClusterSyncTLSError(
                    .fileExists, "The \(what) file \(path) already exists; move it away or choose another place for the new one.",
                    path: path
                )
            }
        }
        // Key first: a certificate on disk without its key is useless, a key without its
        // certificate merely untidy.
        try PEMFiles.write(
            keyText, to: privateKeyFile, mode: PEMFiles.privateKeyMode, overwrite: overwrite, what: "private key"
        )
        try PEMFiles.write(
            certificateText, to: certificateFile, mode: PEMFiles.certificateMode, overwrite: overwrite,
            what: "certificate"
        )
    }
}

/// A certificate authority for development and tests: it issues the server's certificate and
/// each practice's client certificate, and its certificate is the one trust root of both sides.
///
/// All keys are P-256: small, fast, and accepted by every TLS 1.2 and 1.3 stack. Every
/// certificate's validity starts an hour before `now`, so a machine whose clock is a little behind
/// the issuer's still accepts it. A production deployment would use the health board's own CA;
/// the certificate profile here is the one such a CA has to follow.
public struct DevelopmentCertificateAuthority: Sendable {
    /// The CA's certificate and key. The certificate is what servers and clients trust; the key
    /// signs everything this CA issues and must stay private.
    public let root: CertificateAndKey

    /// How long the CA, server and client certificates are valid, in years.
    public static let authorityValidityYears = 10
    public static let serverValidityYears = 2
    public static let clientValidityYears = 1

    /// Wraps an existing CA, such as one read back with ``CertificateAndKey/init(certificateFile:privateKeyFile:)``.
    /// Refuses a certificate that may not sign others, which TLS peers would reject anyway.
    public init(_ root: CertificateAndKey) throws(ClusterSyncTLSError) {
        let constraints = try? root.certificate.extensions.basicConstraints
        let usage = try? root.certificate.extensions.keyUsage
        guard case .isCertificateAuthority = constraints, usage?.keyCertSign ?? true else {
            throw ClusterSyncTLSError(
                .notACertificateAuthority,
                "The certificate for \(root.certificate.subject) is not a certificate authority; point at the CA certificate and key, not a server or client one."
            )
        }
        self.root = root
    }

    /// Makes a new CA with a new key: self-signed, `CA:true` with no intermediates below it
    /// (path length 0), allowed only to sign certificates.
    public static func generate(
        commonName: String = "ClusterSync Development CA", now: Date = Date()
    ) throws(ClusterSyncTLSError) -> DevelopmentCertificateAuthority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let certificate = try sign {
            let name = try DistinguishedName {
                OrganizationName("ClusterSync development")
                CommonName(commonName)
            }
            let validity = Self.validity(from: now, years: authorityValidityYears, cappedAt: nil)
            return try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: key.publicKey,
                notValidBefore: validity.lowerBound,
                notValidAfter: validity.upperBound,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true))
                    SubjectKeyIdentifier(hash: key.publicKey)
                },
                issuerPrivateKey: key
            )
        }
        return try DevelopmentCertificateAuthority(CertificateAndKey(certificate: certificate, privateKey: key))
    }

    /// Issues the server's certificate: valid for `localhost`, 127.0.0.1 and ::1, plus each of
    /// `extraHostnames` (a DNS name, or an IPv4 or IPv6 address, which goes in as an IP address
    /// name). Only for TLS servers (`extendedKeyUsage serverAuth`).
    public func issueServerCertificate(
        extraHostnames: [String] = [], now: Date = Date()
    ) throws(ClusterSyncTLSError) -> CertificateAndKey {
        var names: [GeneralName] = [.dnsName("localhost")]
        names.append(.ipAddress(.init(contentBytes: [127, 0, 0, 1])))
        names.append(.ipAddress(.init(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))))
        for host in extraHostnames {
            let name = try Self.generalName(forHost: host)
            if !names.contains(name) { names.append(name) }
        }
        let subject: DistinguishedName
        do {
            subject = try DistinguishedName {
                OrganizationName("ClusterSync development")
                CommonName(extraHostnames.first ?? "localhost")
            }
        } catch {
            throw ClusterSyncTLSError(.generationFailed, "The server certificate's subject cannot be built: \(error).")
        }
        return try issue(
            subject: subject, years: Self.serverValidityYears, now: now,
            usage: .serverAuth, alternativeNames: SubjectAlternativeNames(names)
        )
    }

    /// Issues a practice's client certificate: subject `O=<tenant>, OU=<cluster>, CN=<practice>`,
    /// subject alternative name `clustersync://<tenant>/<cluster>/<practice>`, only for TLS clients
    /// (`extendedKeyUsage clientAuth`).
    ///
    /// Pass an earlier `now` to make a certificate that has already expired, as tests do; `until`
    /// ends its validity sooner than the default (`credential issue --expires`).
    public func issueClientCertificate(
        for identity: CertificateIdentity, now: Date = Date(), until: Date? = nil
    ) throws(ClusterSyncTLSError) -> CertificateAndKey {
        let subject: DistinguishedName
        do {
            subject = try DistinguishedName {
                OrganizationName(identity.tenant)
                OrganizationalUnitName(identity.cluster)
                CommonName(identity.practice)
            }
        } catch {
            throw ClusterSyncTLSError(.generationFailed, "The client certificate's subject cannot be built: \(error).")
        }
        return try issue(
            subject: subject, years: Self.clientValidityYears, now: now, until: until,
            usage: .clientAuth, alternativeNames: SubjectAlternativeNames([.uniformResourceIdentifier(identity.uri)])
        )
    }

    private func issue(
        subject: DistinguishedName, years: Int, now: Date, until: Date? = nil,
        usage: ExtendedKeyUsage.Usage, alternativeNames: SubjectAlternativeNames
    ) throws(ClusterSyncTLSError) -> CertificateAndKey {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let authority = root.certificate
        // A certificate cannot usefully outlive its issuer: peers reject the chain once the CA expires.
        var validity = Self.validity(from: now, years: years, cappedAt: authority.notValidAfter)
        if let until, until > validity.lowerBound, until < validity.upperBound { validity = validity.lowerBound...until }
        let authorityKeyID = (try? authority.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: authority.publicKey).keyIdentifier
        let certificate = try Self.sign {
            try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: key.publicKey,
                notValidBefore: validity.lowerBound,
                notValidAfter: validity.upperBound,
                issuer: authority.subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([usage])
                    alternativeNames
                    SubjectKeyIdentifier(hash: key.publicKey)
                    AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
                },
                issuerPrivateKey: root.privateKey
            )
        }
        return try CertificateAndKey(certificate: certificate, privateKey: key)
    }

    /// Runs the X509 calls that build and sign a certificate, turning their errors into ours.
    private static func sign(_ body: () throws -> Certificate) throws(ClusterSyncTLSError) -> Certificate {
        do {
            return try body()
        } catch {
            throw ClusterSyncTLSError(.generationFailed, "A certificate could not be built or signed: \(error).")
        }
    }

    private static func validity(from now: Date, years: Int, cappedAt limit: Date?) -> ClosedRange<Date> {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = now.addingTimeInterval(-3600)
        var end = calendar.date(byAdding: .year, value: years, to: now) ?? now.addingTimeInterval(Double(years) * 365 * 86400)
        if let limit, end > limit { end = limit }
        return start...max(start, end)
    }

    private static func generalName(forHost host: String) throws(ClusterSyncTLSError) -> GeneralName {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return .ipAddress(.init(contentBytes: ArraySlice(withUnsafeBytes(of: &v4) { Array($0) })))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return .ipAddress(.init(contentBytes: ArraySlice(withUnsafeBytes(of: &v6) { Array($0) })))
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let valid = !host.isEmpty && host.utf8.count <= 253 && labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { c in
                    (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                        || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-")
                }
        }
        guard valid else {
            throw ClusterSyncTLSError(
                .invalidHostname,
                "\"\(host)\" is neither a DNS name nor an IP address; give a name like sync.example.nhs.wales or an address like 10.0.0.5."
            )
        }
        return .dnsName(host.lowercased())
    }
}
