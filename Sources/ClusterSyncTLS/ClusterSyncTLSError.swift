/// What went wrong while making, reading or using certificates and TLS settings.
///
/// Its own type rather than `ClusterSyncError`: these failures happen while a server or client is
/// being set up, on one machine, and never travel on the wire, so they need no stable wire code.
/// `message` names the file or value at fault and what to do about it; it never contains key
/// material.
public struct ClusterSyncTLSError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// A tenant, cluster or practice name that cannot be carried in a certificate.
        case invalidIdentity
        /// A certificate that names no ClusterSync practice.
        case missingIdentity
        /// A certificate that names more than one ClusterSync practice.
        case conflictingIdentity
        /// Bytes or a file that are not a certificate this code can read.
        case malformedCertificate
        /// Bytes or a file that are not an unencrypted private key this code can read.
        case malformedPrivateKey
        /// A private key that does not belong to the certificate it was given with.
        case keyMismatch
        /// A trusted certificate whose issuer is not a CA named for the tenant it names
        /// (`TenantAuthorities`).
        case untrustedIssuer
        /// A certificate used as a certificate authority that is not one.
        case notACertificateAuthority
        /// A client certificate given without its key, or a key without its certificate.
        case incompleteCredentials
        /// A hostname or address that cannot go in a server certificate.
        case invalidHostname
        /// A file that does not exist.
        case fileNotFound
        /// A file that already exists and was not to be overwritten.
        case fileExists
        /// A file that could not be read or written.
        case fileAccess
        /// Making a key or signing a certificate failed; not the caller's fault.
        case generationFailed
    }

    public var kind: Kind
    public var message: String
    /// The file at fault, when there is one.
    public var path: String?

    public init(_ kind: Kind, _ message: String, path: String? = nil) {
        self.kind = kind
        self.message = message
        self.path = path
    }

    public var description: String { message }
}
