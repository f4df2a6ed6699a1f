import ClusterSyncCore
import NIOSSL
import X509

/// The practice a client certificate speaks for: tenant (the health board), cluster and practice.
///
/// A client certificate carries it twice: as the subject `O=<tenant>, OU=<cluster>,
/// CN=<practice>`, which people read in tools such as `openssl x509 -text`, and as the subject
/// alternative name URI `clustersync://<tenant>/<cluster>/<practice>`, which is what the server
/// trusts first. The URI is one value in one place, so it cannot be half-filled or reordered the way
/// directory-name attributes can.
///
/// Each part is 1 to 64 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. The
/// rule keeps a name the same in a URI path segment and in a distinguished name with no escaping,
/// so one identity has exactly one spelling and compares by plain string equality.
public struct CertificateIdentity: Hashable, Sendable, CustomStringConvertible {
    public let tenant: String
    public let cluster: String
    public let practice: String

    /// The URI scheme of the identity's subject alternative name.
    public static let uriScheme = "clustersync"

    public init(tenant: String, cluster: String, practice: String) throws(ClusterSyncTLSError) {
        try Self.check(tenant, part: "tenant")
        try Self.check(cluster, part: "cluster")
        try Self.check(practice, part: "practice")
        self.tenant = tenant
        self.cluster = cluster
        self.practice = practice
    }

    /// Parses `clustersync://<tenant>/<cluster>/<practice>`.
    public init(uri: String) throws(ClusterSyncTLSError) {
        let prefix = Self.uriScheme + "://"
        guard uri.hasPrefix(prefix) else {
            throw ClusterSyncTLSError(
                .invalidIdentity,
                "\"\(uri)\" is not a ClusterSync identity URI: expected \(prefix)<tenant>/<cluster>/<practice>."
            )
        }
        let parts = uri.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw ClusterSyncTLSError(
                .invalidIdentity,
                "\"\(uri)\" must have exactly three parts after \(prefix): <tenant>/<cluster>/<practice>."
            )
        }
        try self.init(tenant: String(parts[0]), cluster: String(parts[1]), practice: String(parts[2]))
    }

    /// `clustersync://<tenant>/<cluster>/<practice>`.
    public var uri: String { "\(Self.uriScheme)://\(tenant)/\(cluster)/\(practice)" }

    public var description: String { uri }

    /// The scope of the practice's own private records. Cluster-shared records are the same scope
    /// without the practice.
    public var scope: RecordScope { RecordScope(tenant: tenant, cluster: cluster, practice: practice) }

    private static func check(_ value: String, part: String) throws(ClusterSyncTLSError) {
        let bytes = Array(value.utf8)
        func allowed(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
        }
        guard (1...64).contains(bytes.count), bytes.allSatisfy(allowed),
              let first = bytes.first, allowed(first), first != UInt8(ascii: "."), first != UInt8(ascii: "_"),
              first != UInt8(ascii: "-")
        else {
            throw ClusterSyncTLSError(
                .invalidIdentity,
                "The \(part) name \"\(value)\" cannot go in a certificate: use 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit."
            )
        }
    }
}

extension CertificateIdentity {
    /// Reads the identity a certificate carries.
    ///
    /// The `clustersync://` subject alternative name wins when present; other URI schemes are
    /// ignored. Without one, the subject's single `O`, `OU` and `CN` are used, so a certificate made
    /// by another tool from the same subject still works. This does not check that the
    /// certificate is trusted: only call it on a certificate that TLS has verified against the
    /// ClusterSync CA.
    public init(certificate: Certificate) throws(ClusterSyncTLSError) {
        let names: SubjectAlternativeNames?
        do {
            names = try certificate.extensions.subjectAlternativeNames
        } catch {
            throw ClusterSyncTLSError(
                .malformedCertificate,
                "The certificate's subject alternative names cannot be decoded (\(error)); issue the practice a new client certificate."
            )
        }
        let prefix = Self.uriScheme + "://"
        var uris: [String] = []
        for name in names ?? SubjectAlternativeNames() {
            if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix(prefix), !uris.contains(uri) {
                uris.append(uri)
            }
        }
        if uris.count > 1 {
            throw ClusterSyncTLSError(
                .conflictingIdentity,
                "The certificate names more than one practice (\(uris.joined(separator: ", "))); a client certificate must name exactly one. Issue the practice a new one."
            )
        }
        if let uri = uris.first {
            try self.init(uri: uri)
            return
        }

        // Each attribute type may appear at most once: a subject with two O values names no single
        // tenant, and picking one would let whoever wrote the request choose.
        var organisations: [String] = [], units: [String] = [], commonNames: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                let text = String(attribute.value) ?? attribute.value.description
                switch attribute.type {
                case .RDNAttributeType.organizationName: organisations.append(text)
                case .RDNAttributeType.organizationalUnitName: units.append(text)
                case .RDNAttributeType.commonName: commonNames.append(text)
                default: break
                }
            }
        }
        func single(_ values: [String]) -> String?? { values.count > 1 ? nil : .some(values.first) }
        let organisation = single(organisations)
        let unit = single(units)
        let common = single(commonNames)
        guard let organisation, let unit, let common else {
            throw ClusterSyncTLSError(
                .conflictingIdentity,
                "The certificate subject \(certificate.subject) repeats O, OU or CN, so it does not name one practice. Issue the practice a new client certificate."
            )
        }
        guard let tenant = organisation, let cluster = unit, let practice = common else {
            throw ClusterSyncTLSError(
                .missingIdentity,
                "The certificate (subject \(certificate.subject)) names no ClusterSync practice: it has no \(prefix)<tenant>/<cluster>/<practice> subject alternative name and its subject lacks O=<tenant>, OU=<cluster> and CN=<practice>. Issue the practice a client certificate from the ClusterSync CA."
            )
        }
        try self.init(tenant: tenant, cluster: cluster, practice: practice)
    }

    /// Reads the identity a certificate in DER form carries. See ``init(certificate:)-(Certificate)``.
    public init(derEncoded bytes: [UInt8]) throws(ClusterSyncTLSError) {
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: bytes)
        } catch {
            throw ClusterSyncTLSError(.malformedCertificate, "The peer certificate cannot be decoded: \(error).")
        }
        try self.init(certificate: certificate)
    }

    /// Reads the identity of a certificate NIOSSL handed over, such as a peer's after a handshake.
    public init(certificate: NIOSSLCertificate) throws(ClusterSyncTLSError) {
        let bytes: [UInt8]
        do {
            bytes = try certificate.toDERBytes()
        } catch {
            throw ClusterSyncTLSError(.malformedCertificate, "The peer certificate cannot be encoded as DER: \(error).")
        }
        try self.init(derEncoded: bytes)
    }
}
