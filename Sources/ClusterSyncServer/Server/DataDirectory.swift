import ClusterSyncCore
import ClusterSyncTLS
import Foundation

/// The server's data directory: its database, its development CA and its TLS certificate.
///
///     DIR/clustersyncd.sqlite     the embedded store
///     DIR/ca.pem, ca-key.pem      the development CA (the key signs practice certificates)
///     DIR/server.pem, server-key.pem
///     DIR/clustersyncd.json       optional settings (see ServerSettings)
///     DIR/postgres-node           written by a node that served from PostgreSQL (see below)
public struct DataDirectory: Sendable {
    public var path: String

    public init(path: String) {
        self.path = path
    }

    public func file(_ name: String) -> String { URL(fileURLWithPath: path).appendingPathComponent(name).path }
    public var database: String { file("clustersyncd.sqlite") }
    public var caCertificate: String { file("ca.pem") }
    public var caKey: String { file("ca-key.pem") }
    public var serverCertificate: String { file("server.pem") }
    public var serverKey: String { file("server-key.pem") }
    public var settingsFile: String { file("clustersyncd.json") }

    public var isInitialised: Bool { FileManager.default.fileExists(atPath: caCertificate) }

    /// Marks the directory as a PostgreSQL node's: `serve` writes it when its store is
    /// PostgreSQL. A node's settings usually live outside its data directory
    /// (/etc/clustersyncd/node1.json), so a command run without them would otherwise take the
    /// directory's empty SQLite file for the store and report success: no tenants, nothing to
    /// back up, a healthy store.
    public var postgresNodeMarker: String { file("postgres-node") }

    public func markAsPostgresNode() throws {
        guard !FileManager.default.fileExists(atPath: postgresNodeMarker) else { return }
        try "This data directory belongs to a clustersyncd node whose store is PostgreSQL.\n"
            .write(toFile: postgresNodeMarker, atomically: true, encoding: .utf8)
    }

    /// Refuses the directory's SQLite file as the store when the directory is a PostgreSQL node's.
    public func requireSQLiteStore() throws(ClusterSyncError) {
        guard FileManager.default.fileExists(atPath: postgresNodeMarker) else { return }
        throw ClusterSyncError(.invalidValue,
            "\(path) belongs to a node whose store is PostgreSQL (it holds postgres-node), but these settings say storage = sqlite: "
            + "give the node's settings with --config FILE or CLUSTERSYNCD_CONFIG=FILE (and the URL with postgres.url-file or "
            + "CLUSTERSYNCD_POSTGRES_URL). If the node has really gone back to SQLite, remove \(postgresNodeMarker).", field: "storage")
    }

    /// Creates the directory, a development CA, a server certificate for localhost (and
    /// `hostnames`) and an empty store. Refuses to overwrite an existing CA.
    public func initialise(hostnames: [String] = []) throws {
        guard !isInitialised else {
            throw ClusterSyncError(.invalidValue, "\(path) is already initialised (it holds ca.pem); use another directory or remove it")
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let authority = try DevelopmentCertificateAuthority.generate()
        try authority.root.write(certificateTo: caCertificate, privateKeyTo: caKey)
        try authority.issueServerCertificate(extraHostnames: hostnames).write(certificateTo: serverCertificate, privateKeyTo: serverKey)
        _ = try SQLiteServerStore(path: database)
    }

    public func authority() throws -> DevelopmentCertificateAuthority {
        try DevelopmentCertificateAuthority(CertificateAndKey(certificateFile: caCertificate, privateKeyFile: caKey))
    }
}
