import ClusterSyncCore
import Configuration
import Foundation
import Logging

/// Which store the server uses, read from the settings (keys under `clustersyncd.`):
/// - `storage`: `sqlite` (default: the file in the data directory) or `postgres`;
/// - `postgres.url`: the connection URL, `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=verify-full&sslrootcert=FILE`.
///   It holds a password, so give it in the environment (`CLUSTERSYNCD_POSTGRES_URL`) or in a file
///   (`postgres.url-file`, readable by the service user only); there is no command-line option;
/// - `postgres.url-file`: a file whose first line is the URL (used when `postgres.url` is unset);
/// - `postgres.maxConnections`: the most connections this node's pool opens (default 20).
public struct StoreSettings: Sendable {
    public enum Kind: String, Sendable { case sqlite, postgres }

    public var kind = Kind.sqlite
    public var postgresURL: String?
    public var postgresURLFile: String?
    public var postgresMaxConnections = 20
    /// An unknown `storage` value, reported when the store is opened.
    var unknownKind: String?

    public init() {}

    mutating func read(_ c: CheckedSettings) throws {
        let text = try c.string("storage", kind.rawValue)
        if let parsed = Kind(rawValue: text) { kind = parsed } else { unknownKind = text }
        postgresURL = try c.optionalString("postgres.url", isSecret: true)
        postgresURLFile = try c.optionalString("postgres.url-file")
        postgresMaxConnections = try c.int("postgres.maxConnections", postgresMaxConnections, in: 1...10_000)
    }

    /// The PostgreSQL location: from `postgres.url`, else the first line of `postgres.url-file`.
    public func postgresLocation() throws -> PostgresLocation {
        if let postgresURL, !postgresURL.isEmpty { return try PostgresLocation(url: postgresURL) }
        guard let postgresURLFile else {
            throw ClusterSyncError(.invalidValue,
                "storage is postgres but no database is named: set CLUSTERSYNCD_POSTGRES_URL, or postgres.url-file in the settings file",
                field: "postgres.url")
        }
        return try PostgresLocation(url: Self.firstLine(ofURLFile: postgresURLFile))
    }

    /// The URL file's first line, or what keeps it from being read in words an operator acts on
    /// (the operations audit: a monitoring user's `csd health` said only that it could not read it).
    static func firstLine(ofURLFile path: String) throws(ClusterSyncError) -> String {
        let files = FileManager.default
        let what = "the PostgreSQL URL file \(path) (postgres.url-file)"
        guard files.fileExists(atPath: path) else {
            throw ClusterSyncError(.invalidValue, "\(what) does not exist: check the setting, or the unit's credential", field: "postgres.url-file")
        }
        guard files.isReadableFile(atPath: path), let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ClusterSyncError(.invalidValue,
                "\(what) cannot be read by this user: it holds the database's password and is readable by the service only; "
                    + "run the command as root or as the service's user", field: "postgres.url-file")
        }
        guard let line = text.split(whereSeparator: \.isNewline).first?.trimmingCharacters(in: .whitespaces), !line.isEmpty else {
            throw ClusterSyncError(.invalidValue, "\(what) is empty: its first line must be the postgres:// URL", field: "postgres.url-file")
        }
        return line
    }

    /// Opens the store these settings name. A PostgreSQL store's pool is not running yet: the
    /// caller runs `client` in its ServiceGroup (or `runInBackground()`), then `migrate()`.
    public func open(_ directory: DataDirectory, logger: Logger) throws -> any OperatedStore {
        if let unknownKind {
            throw ClusterSyncError(.invalidValue, "storage must be sqlite or postgres; got \"\(unknownKind)\"", field: "storage")
        }
        switch kind {
        case .sqlite:
            try directory.requireSQLiteStore()
            return try SQLiteServerStore(path: directory.database)
        case .postgres: return try PostgresServerStore(location: try postgresLocation(), maximumConnections: postgresMaxConnections, logger: logger)
        }
    }
}

/// What operators' commands need of a store beyond `ServerStore`: the health probe and the
/// ledger check. Both stores have them.
public protocol OperatedStore: ServerStore {
    /// What the store holds, read and then written back in one committed transaction.
    func probe() async throws -> (tenants: Int, changes: Int64)
    /// Walks a tenant's tamper-evident chain (`clustersyncd verify`).
    func verifyChain(tenant: String, expectedHead: Data?) async throws -> LedgerReport
    /// Where it is, for an operator: a file's path, or a database without its password.
    var whereabouts: String { get }
}

extension SQLiteServerStore: OperatedStore {
    public var whereabouts: String { database.path }
}

extension PostgresServerStore: OperatedStore {
    public var whereabouts: String { "PostgreSQL \(location)" }
}
