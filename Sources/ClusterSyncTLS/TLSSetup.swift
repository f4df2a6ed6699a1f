import NIOCore
import NIOSSL
import X509

/// The TLS settings of ClusterSync's server and clients, and reading a client's identity off a
/// connection.
///
/// Both sides trust only the ClusterSync CA given to them, never the system's public roots: a
/// certificate bought from a public CA must not be able to pass as a practice or as the server.
/// Both insist on TLS 1.2 or later; earlier versions have known weaknesses and nothing that talks
/// to ClusterSync needs them.
public enum TLSSetup {
    /// The server's settings.
    ///
    /// A practice may authenticate with a client certificate or, instead, with a bearer token
    /// inside the protocol, so the server asks for a certificate but does not require one. A
    /// certificate that *is* presented must chain to the CA and be within its validity, or the
    /// handshake fails: this is NIOSSL's ``CertificateVerification/optionalVerification``
    /// (BoringSSL's `SSL_VERIFY_PEER` without `SSL_VERIFY_FAIL_IF_NO_PEER_CERT`). Plain `.none`
    /// would accept any certificate unchecked, and `.noHostnameVerification` would turn away
    /// token-only clients.
    ///
    /// - Parameters:
    ///   - certificateChainFile: PEM, the server's certificate first, then any intermediates.
    ///   - privateKeyFile: PEM private key of the server's certificate.
    ///   - trustedCAFile: PEM certificates of the CA(s) that issue client certificates. More than
    ///     one lets a new CA be rolled in while the old one's certificates are still in use.
    ///   - tenantAuthorities: each tenant's CAs, when the node trusts several Boards': trusted
    ///     too, and each limited to its own tenant by ``peerIdentity(of:authorities:)``.
    public static func serverConfiguration(
        certificateChainFile: String, privateKeyFile: String, trustedCAFile: String,
        tenantAuthorities: TenantAuthorities = TenantAuthorities()
    ) throws(ClusterSyncTLSError) -> TLSConfiguration {
        let chain = try loadCertificates(certificateChainFile, what: "server certificate")
        let key = try loadPrivateKey(privateKeyFile, for: chain[0], certificateFile: certificateChainFile)
        var roots = try loadCertificates(trustedCAFile, what: "CA certificate")
        for file in tenantAuthorities.files { roots += try loadCertificates(file, what: "tenant CA certificate") }

        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.trustRoots = .certificates(roots)
        configuration.certificateVerification = .optionalVerification
        // Tell clients which CA we accept, so one holding several certificates offers the right one.
        configuration.sendCANameList = true
        return configuration
    }

    /// A client's settings: trust only `trustedCAFile`, check the server's name, and present a
    /// practice certificate when given one (a client that authenticates with a bearer token
    /// passes neither `certificateFile` nor `privateKeyFile`).
    ///
    /// Use the resulting context with `NIOSSLClientHandler(context:serverHostname:)`, passing the
    /// name the server's certificate was issued for (such as `localhost`).
    public static func clientConfiguration(
        trustedCAFile: String, certificateFile: String? = nil, privateKeyFile: String? = nil
    ) throws(ClusterSyncTLSError) -> TLSConfiguration {
        let roots = try loadCertificates(trustedCAFile, what: "CA certificate")
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.trustRoots = .certificates(roots)
        configuration.certificateVerification = .fullVerification

        switch (certificateFile, privateKeyFile) {
        case (nil, nil):
            break
        case let (certificateFile?, privateKeyFile?):
            let chain = try loadCertificates(certificateFile, what: "client certificate")
            let key = try loadPrivateKey(privateKeyFile, for: chain[0], certificateFile: certificateFile)
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(key)
        case (let certificateFile?, nil):
            throw ClusterSyncTLSError(
                .incompleteCredentials,
                "A client certificate (\(certificateFile)) was given without its private key; give both, or neither to use a bearer token.",
                path: certificateFile
            )
        case (nil, let privateKeyFile?):
            throw ClusterSyncTLSError(
                .incompleteCredentials,
                "A private key (\(privateKeyFile)) was given without its client certificate; give both, or neither to use a bearer token.",
                path: privateKeyFile
            )
        }
        return configuration
    }

    /// The identity of the practice at the other end of a server-side connection, or `nil` when the
    /// client presented no certificate (and so has to authenticate with a token).
    ///
    /// Only meaningful once the TLS handshake has completed (before it, there is no peer
    /// certificate yet and this returns `nil`), and only with a handler made from
    /// ``serverConfiguration(certificateChainFile:privateKeyFile:trustedCAFile:)``, which verifies
    /// every presented certificate against the CA: this reads the certificate, it does not
    /// verify it. Call it on the channel's event loop, as every `NIOSSLHandler` property must be.
    /// A verified certificate that names no practice throws, rather than counting as anonymous,
    /// and so does one whose issuer `authorities` does not name for the tenant it names.
    public static func peerIdentity(
        of handler: NIOSSLHandler, authorities: TenantAuthorities = TenantAuthorities()
    ) throws(ClusterSyncTLSError) -> CertificateIdentity? {
        guard let peer = handler.peerCertificate else { return nil }
        let certificate = try CertificateIdentity.decode(peer)
        let identity = try CertificateIdentity(certificate: certificate)
        if let refusal = authorities.refusal(of: certificate, for: identity.tenant) { throw refusal }
        return identity
    }

    /// ``peerIdentity(of:)-(NIOSSLHandler)`` for code outside the pipeline, on any thread.
    public static func peerIdentity(of channel: any Channel, authorities: TenantAuthorities) -> EventLoopFuture<CertificateIdentity?> {
        channel.nioSSL_peerCertificate().flatMapThrowing { peer in
            try peer.map { peer throws(ClusterSyncTLSError) in
                let certificate = try CertificateIdentity.decode(peer)
                let identity = try CertificateIdentity(certificate: certificate)
                if let refusal = authorities.refusal(of: certificate, for: identity.tenant) { throw refusal }
                return identity
            }
        }
    }

    /// When the first certificate in a PEM file (a server's own, ahead of its chain) stops being
    /// valid: what `clustersyncd health` warns about before the day.
    /// Seconds since 1970.
    public static func expiry(ofCertificateAt path: String, what: String) throws(ClusterSyncTLSError) -> Int64 {
        Int64(try loadCertificates(path, what: what)[0].notValidAfter)
    }

    // MARK: Loading

    static func loadCertificates(_ path: String, what: String) throws(ClusterSyncTLSError) -> [NIOSSLCertificate] {
        let text = try PEMFiles.read(path, what: what)
        let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
        guard let certificates, !certificates.isEmpty else {
            throw ClusterSyncTLSError(
                .malformedCertificate,
                "The \(what) file \(path) holds no PEM certificate (-----BEGIN CERTIFICATE-----); point at the certificate, not the key.",
                path: path
            )
        }
        return certificates
    }

    /// Loads a private key and checks it belongs to `certificate`, so a mixed-up pair of files is
    /// reported at start-up by name rather than as a failed handshake later.
    static func loadPrivateKey(
        _ path: String, for certificate: NIOSSLCertificate, certificateFile: String
    ) throws(ClusterSyncTLSError) -> NIOSSLPrivateKey {
        let text = try PEMFiles.read(path, what: "private key")
        guard let key = try? NIOSSLPrivateKey(bytes: Array(text.utf8), format: .pem) else {
            throw ClusterSyncTLSError(
                .malformedPrivateKey,
                "The private key file \(path) holds no unencrypted PEM private key; point at the key written with \(certificateFile).",
                path: path
            )
        }
        // X509 reads the common key types; for one it cannot read, BoringSSL's own check when
        // the context is made is the backstop.
        if let x509Key = try? Certificate.PrivateKey(pemEncoded: text),
           let der = try? certificate.toDERBytes(),
           let x509Certificate = try? Certificate(derEncoded: der),
           x509Key.publicKey != x509Certificate.publicKey
        {
            throw ClusterSyncTLSError(
                .keyMismatch,
                "The private key in \(path) does not belong to the certificate in \(certificateFile); use the key file written with that certificate.",
                path: path
            )
        }
        return key
    }
}
