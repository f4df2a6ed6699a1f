import ClusterSyncCore
import NIOSSL
import X509

/// The practice a client certificate speaks for: tenant (the health board), cluster and practice.
///
/// A client certificate carries it as the subject alternative name URI
/// `clustersync://<tenant>/<cluster>/<practice>`, which is the only thing the server trusts: one
/// value in one place, so it cannot be half-filled or reordered the way directory-name attributes
/// can. The subject `O=<tenant>, OU=<cluster>, CN=<practice>` says the same for people reading
/// the certificate in tools such as `openssl x509 -text`, and is not read.
///
/// Each part is 1 to 64 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. The
/// rule keeps a name the same in a URI path segment and in a distinguished name with no escaping,
/// so one identity has exactly one spelling and compares by plain string equality.
public struct CertificateIdentity: Hashable, Sendable, CustomStringConvertible {
    public let tenant: String
    public let cluster: String
    public let practice: String
    /// The certificate's serial number (`CertificateSerial.normalised`), when read from a
    /// certificate: what `clustersyncd credential revoke` revokes it by. Not part of equality:
    /// an identity is the practice it names.
    public private(set) var serialNumber: String?

    public static func == (a: Self, b: Self) -> Bool {
        a.tenant == b.tenant && a.cluster == b.cluster && a.practice == b.practice
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(tenant)
        hasher.combine(cluster)
        hasher.combine(practice)
    }

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

    static func check(_ value: String, part: String) throws(ClusterSyncTLSError) {
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
    /// Reads the identity a certificate carries: its one `clustersync://` subject alternative name.
    ///
    /// The URI is required. A certificate without one names no practice, whatever its subject says
    /// (a subject is free text to whoever wrote the request, and was once trusted here on its own);
    /// a certificate with more than one, or with one that is not exactly
    /// `clustersync://<tenant>/<cluster>/<practice>`, names none either. Each case throws with a
    /// message saying which it is. URIs of other schemes are ignored; a URI whose scheme is
    /// `clustersync` in any letter case counts as a ClusterSync URI, so a near miss is reported
    /// rather than skipped. This does not check that the certificate is trusted: only call it on a
    /// certificate that TLS has verified against the ClusterSync CA.
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
            if case .uniformResourceIdentifier(let uri) = name, uri.lowercased().hasPrefix(Self.uriScheme + ":") {
                uris.append(uri)
            }
        }
        guard uris.count <= 1 else {
            throw ClusterSyncTLSError(
                .conflictingIdentity,
                "The certificate has \(uris.count) ClusterSync subject alternative name URIs (\(uris.map(Self.shown).joined(separator: ", "))); a client certificate must name exactly one practice. Issue the practice a new one."
            )
        }
        guard let uri = uris.first else {
            throw ClusterSyncTLSError(
                .missingIdentity,
                "The certificate (subject \(certificate.subject)) names no ClusterSync practice: it has no \(prefix)<tenant>/<cluster>/<practice> subject alternative name URI, and the subject alone does not authenticate. Issue the practice a client certificate from the ClusterSync CA."
            )
        }
        do {
            try self.init(uri: uri)
            serialNumber = CertificateSerial.hex(certificate.serialNumber.bytes)
        } catch {
            throw ClusterSyncTLSError(
                .invalidIdentity,
                "The certificate's subject alternative name URI is malformed: \(error.message) Issue the practice a new client certificate."
            )
        }
    }

    /// A URI from a certificate, quoted and cut short for an error message.
    private static func shown(_ uri: String) -> String {
        uri.count <= 100 ? "\"\(uri)\"" : "\"\(uri.prefix(100))…\""
    }

    /// Reads the identity of a certificate NIOSSL handed over, such as a peer's after a handshake.
    public init(certificate: NIOSSLCertificate) throws(ClusterSyncTLSError) {
        try self.init(certificate: Self.decode(certificate))
    }

    /// A certificate NIOSSL handed over, as swift-certificates reads it.
    static func decode(_ certificate: NIOSSLCertificate) throws(ClusterSyncTLSError) -> Certificate {
        let bytes: [UInt8]
        do {
            bytes = try certificate.toDERBytes()
        } catch {
            throw ClusterSyncTLSError(.malformedCertificate, "The peer certificate cannot be encoded as DER: \(error).")
        }
        do {
            return try Certificate(derEncoded: bytes)
        } catch {
            throw ClusterSyncTLSError(.malformedCertificate, "The peer certificate cannot be decoded: \(error).")
        }
    }
}

/// A certificate serial number as ClusterSync writes it: lowercase hex without leading zeros or
/// separators (`openssl x509 -serial` prints `serial=0A1B…`, which `normalised` accepts).
public enum CertificateSerial {
    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        let trimmed = ASCIIDigits.hex(bytes).drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    /// Reads a serial typed by an operator (`0A:1B`, `serial=0A1B`, `0x0a1b`); nil if it is not hex.
    public static func normalised(_ text: String) -> String? {
        var digits = text.lowercased()
        for prefix in ["serial=", "0x"] where digits.hasPrefix(prefix) { digits.removeFirst(prefix.count) }
        digits.removeAll { $0 == ":" }
        guard !digits.isEmpty, digits.count <= 64, digits.allSatisfy(\.isHexDigit) else { return nil }
        let trimmed = digits.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }
}
