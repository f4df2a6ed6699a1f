import NIOSSL
import X509

/// Which CA may issue certificates for which tenant, on a node that trusts several Health Boards'
/// CAs (`tls.tenantClientCA`, entries `TENANT=PATH`).
///
/// TLS checks a certificate against every CA the node trusts, and a certificate names its own
/// tenant (`clustersync://<tenant>/…`), so without this any of those CAs could issue a
/// certificate for any tenant: one Board's CA could speak for another Board's practices. With
/// entries, a certificate naming tenant T is admitted only when one of the CA certificates in
/// T's file signed it directly; a tenant with no entry is admitted by none. With no entries (one
/// Board's CA, or one CA and its replacement while it is rotated) every trusted CA speaks for
/// every tenant, as before.
public struct TenantAuthorities: Sendable {
    /// Tenant → the CA certificates that sign its practices' certificates.
    public let issuers: [String: [Certificate]]
    /// Every file the entries name, in their order: trusted by TLS beside `tls.clientCA`.
    public let files: [String]

    /// No entries: every trusted CA issues for every tenant.
    public init() {
        issuers = [:]
        files = []
    }

    /// Reads `TENANT=PATH` entries. Throws, naming the entry, for one without `=`, a tenant
    /// named twice, a name a certificate cannot carry, or a file that holds no CA certificate.
    public init(entries: [String]) throws(ClusterSyncTLSError) {
        var issuers: [String: [Certificate]] = [:]
        var files: [String] = []
        for entry in entries {
            guard let equals = entry.firstIndex(of: "=") else {
                throw ClusterSyncTLSError(.invalidIdentity, "tls.tenantClientCA entry \"\(entry)\" is not TENANT=PATH, e.g. bcuhb=/etc/clustersyncd/bcuhb-ca.pem")
            }
            let tenant = String(entry[..<equals]), path = String(entry[entry.index(after: equals)...])
            do {
                try CertificateIdentity.check(tenant, part: "tenant")
            } catch {
                throw ClusterSyncTLSError(.invalidIdentity, "tls.tenantClientCA entry \"\(entry)\": \(error.message)")
            }
            guard issuers[tenant] == nil else {
                throw ClusterSyncTLSError(.invalidIdentity, "tls.tenantClientCA names tenant \(tenant) twice: put all of its CA certificates in one file")
            }
            var authorities: [Certificate] = []
            for certificate in try TLSSetup.loadCertificates(path, what: "tenant \(tenant)'s CA certificate") {
                let decoded: Certificate
                do {
                    decoded = try Certificate(derEncoded: certificate.toDERBytes())
                } catch {
                    throw ClusterSyncTLSError(.malformedCertificate, "The CA certificate file \(path) (tls.tenantClientCA, tenant \(tenant)) cannot be read: \(error).", path: path)
                }
                guard case .isCertificateAuthority = try? decoded.extensions.basicConstraints else {
                    throw ClusterSyncTLSError(.notACertificateAuthority, "The certificate for \(decoded.subject) in \(path) (tls.tenantClientCA, tenant \(tenant)) is not a certificate authority; name the Health Board's CA certificate.", path: path)
                }
                authorities.append(decoded)
            }
            issuers[tenant] = authorities
            files.append(path)
        }
        self.issuers = issuers
        self.files = files
    }

    public var isEmpty: Bool { issuers.isEmpty }

    /// Whether `certificate` may speak for `tenant`: nil when it may, else why not. Only called on a
    /// certificate TLS has verified, so this decides between trusted CAs, it does not replace TLS.
    public func refusal(of certificate: Certificate, for tenant: String) -> ClusterSyncTLSError? {
        if isEmpty { return nil }
        guard let authorities = issuers[tenant] else {
            return ClusterSyncTLSError(.untrustedIssuer, "This server names no CA for tenant \(tenant) (tls.tenantClientCA), so no certificate speaks for it: authenticate with a token, or ask the server's operator to name the Health Board's CA.")
        }
        let signed = authorities.contains {
            $0.subject == certificate.issuer && $0.publicKey.isValidSignature(certificate.signature, for: certificate)
        }
        guard signed else {
            return ClusterSyncTLSError(.untrustedIssuer, "The certificate (issuer \(certificate.issuer)) names tenant \(tenant), but its issuer is not a CA this server names for \(tenant) (tls.tenantClientCA): ask your Health Board for a certificate from its own CA.")
        }
        return nil
    }

    /// Whether `authority` (a CA certificate) is one of those named for `tenant`; with no
    /// entries, every trusted CA is.
    public func names(_ authority: Certificate, for tenant: String) -> Bool {
        isEmpty || issuers[tenant]?.contains(authority) == true
    }
}
