import ClusterSyncCore
import Foundation
import NIOSSL
import PostgresNIO

/// Where the PostgreSQL store is: a connection URL,
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|require|verify-full&sslrootcert=FILE]`.
///
/// The URL holds the database password, so it comes from the environment
/// (`CLUSTERSYNCD_POSTGRES_URL`) or a file readable by the service user only (`postgres.url-file`),
/// never from the command line, where every user of the machine could read it. `description`
/// leaves the password out: it is what logs and errors show.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// `disable` (loopback or a private link only), `require` (encrypted, the server's certificate
    /// not checked) or `verify-full` (encrypted, the certificate checked against `rootCertificate`
    /// or the system's roots, and its name against `host`).
    public var sslMode: String
    public var rootCertificate: String?

    public init(url text: String) throws(ClusterSyncError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let url = URLComponents(string: trimmed), ["postgres", "postgresql"].contains(url.scheme ?? ""),
              let host = url.host, !host.isEmpty else {
            throw ClusterSyncError(.invalidValue,
                "the PostgreSQL URL must look like postgres://USER:PASSWORD@HOST:PORT/DATABASE (the URL itself is not repeated here: it holds a password)",
                field: "postgres.url")
        }
        let database = String(url.path.drop { $0 == "/" })
        guard let user = url.user, !user.isEmpty, !database.isEmpty else {
            throw ClusterSyncError(.invalidValue, "the PostgreSQL URL must name a user and a database (postgres://USER@HOST/DATABASE)",
                                   field: "postgres.url")
        }
        self.host = host
        port = url.port ?? 5432
        username = user.removingPercentEncoding ?? user
        password = url.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        // Without sslmode, libpq's `prefer` (TLS if offered, unchecked) only on loopback: across
        // a network a URL that forgot it gets the checked connection, not a silent downgrade.
        sslMode = query["sslmode"] ?? (Self.isLoopback(host) ? "prefer" : "verify-full")
        rootCertificate = query["sslrootcert"]
        guard ["disable", "prefer", "require", "verify-full"].contains(sslMode) else {
            throw ClusterSyncError(.invalidValue, "sslmode must be disable, prefer, require or verify-full; got \"\(sslMode)\"", field: "postgres.url")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        // 127.x.y.z as an address, not a name that starts so (127.db.example).
        host == "localhost" || host == "::1" || host == "[::1]"
            || (host.hasPrefix("127.") && host.split(separator: ".").count == 4 && host.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") })
    }

    /// The URL without its password.
    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(sslMode)" }

    /// The same server, another database (tests make one database per test).
    public func database(_ name: String) -> PostgresLocation {
        var copy = self
        copy.database = name
        return copy
    }

    var tls: PostgresClient.Configuration.TLS {
        get throws {
            switch sslMode {
            case "disable": return .disable
            case "require":
                var configuration = TLSConfiguration.makeClientConfiguration()
                configuration.certificateVerification = .none
                return .require(configuration)
            case "verify-full":
                var configuration = TLSConfiguration.makeClientConfiguration()
                configuration.minimumTLSVersion = .tlsv12
                if let rootCertificate { configuration.trustRoots = .file(rootCertificate) }
                return .require(configuration)
            default:
                var configuration = TLSConfiguration.makeClientConfiguration()
                configuration.certificateVerification = .none
                return .prefer(configuration)
            }
        }
    }

    /// The pool's configuration: `maximumConnections` per node (PostgreSQL's max_connections must
    /// cover every node's pool, plus one listening connection per node).
    func clientConfiguration(maximumConnections: Int) throws -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: try tls)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// A single connection's configuration (the notification listener's).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = sslMode == "disable" ? .disable : try connectionTLS
        return PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    private var connectionTLS: PostgresConnection.Configuration.TLS {
        get throws {
            var configuration = TLSConfiguration.makeClientConfiguration()
            switch sslMode {
            case "verify-full":
                configuration.minimumTLSVersion = .tlsv12
                if let rootCertificate { configuration.trustRoots = .file(rootCertificate) }
                return .require(try NIOSSLContext(configuration: configuration))
            case "require":
                configuration.certificateVerification = .none
                return .require(try NIOSSLContext(configuration: configuration))
            default:
                configuration.certificateVerification = .none
                return .prefer(try NIOSSLContext(configuration: configuration))
            }
        }
    }
}
