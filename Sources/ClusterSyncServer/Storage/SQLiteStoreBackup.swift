import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import GRDB

/// Online backup and restore of the SQLite server store (`clustersyncd backup` / `restore`).
///
/// A backup is SQLite's backup API (GRDB's `backup(to:)`) run inside one read transaction of the
/// live store: in WAL mode that is a consistent snapshot of every committed push, taken while
/// the server keeps accepting pushes (a writer never waits for it, and it never sees half a
/// push). Copying the file with `cp` instead can catch the main file and its `-wal` at different
/// moments. The copy is written beside the destination, checked with `PRAGMA integrity_check`,
/// synced, and only then renamed into place, so a backup file that exists is a whole one.
public enum SQLiteStoreBackup {
    /// What a backup holds, for the operator to check it against the live server.
    public struct Summary: Sendable, Equatable {
        /// Each tenant's last sequence number: the end of the change stream replicas pull.
        public var lastSequence: [String: Int64]
        /// The schema migrations applied, oldest first (the last one names the schema version).
        public var migrations: [String]
        /// The file's size in bytes.
        public var bytes: Int64

        public var changes: Int64 { lastSequence.values.reduce(0, +) }

        /// "2 tenants (bcuhb up to seq 1200, cvuhb up to seq 34), 1234 changes, schema v6 (pcpg): …, 3.1 MB"
        public var description: String {
            let tenants = lastSequence.keys.sorted().map { "\($0) up to seq \(lastSequence[$0]!)" }.joined(separator: ", ")
            let size = ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file)
            return "\(lastSequence.count) tenant\(lastSequence.count == 1 ? "" : "s")\(tenants.isEmpty ? "" : " (\(tenants))"), "
                + "\(changes) change\(changes == 1 ? "" : "s"), schema \(migrations.last ?? "empty"), \(size)"
        }
    }

    /// Copies the store at `store` (a live server's, or a stopped one's) into the new file
    /// `destination`, which must not exist yet.
    public static func backup(store: String, to destination: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: store) else {
            throw ClusterSyncError(.notInitialised, "no store at \(store); give the data directory of a server with --data")
        }
        let source = try open(store, what: "the store")
        return try copy(from: source, sourceName: store, to: destination)
    }

    /// Puts the backup `file` in place as the store `store` (a data directory's
    /// `clustersyncd.sqlite`), which must not exist yet: restoring never overwrites a store.
    /// The restored store is then opened as the server opens it, so a backup made by an older
    /// version is brought up to this version's schema here rather than at the next start.
    public static func restore(from file: String, to store: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: file) else {
            throw ClusterSyncError(.invalidValue, "no backup file at \(file)", field: "from")
        }
        let source = try open(file, what: "the backup", readOnly: true)
        guard try source.read({ db in try db.tableExists("tenant_sequence") }) else {
            throw ClusterSyncError(.invalidValue, "\(file) is an SQLite file but not a ClusterSync server store (it has no tenant_sequence table)", field: "from")
        }
        let summary = try copy(from: source, sourceName: file, to: store, newIdentity: true)
        // Migrates it (a backup from before store identities gets its first one here); then the summary names the schema it has now.
        _ = try SQLiteServerStore(path: store)
        var migrated = summary
        migrated.migrations = try open(store, what: "the restored store").read(migrations)
        return migrated
    }

    // MARK: Steps

    /// One connection, not a pool: a pool turns WAL on, which rewrote a backup (one file, in
    /// rollback journal mode) when it was restored from, and failed on a read-only one.
    private static func open(_ path: String, what: String, readOnly: Bool = false) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(10)
        do {
            return try DatabaseSetup.queue(path: path, configuration: configuration)
        } catch let error as DatabaseError {
            let code: ClusterSyncError.Code = DatabaseSetup.isUnavailable(error) ? .storeUnavailable : .invalidValue
            throw ClusterSyncError(code, "cannot open \(what) \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// `newIdentity`: the copy is a restore, a store of its own (PROTOCOL.md §5.2): it gets a new
    /// identity before it is moved into place, so replicas never meet the restored stream under
    /// the identity of the one their cursors belong to.
    private static func copy(from source: DatabaseQueue, sourceName: String, to destination: String, newIdentity: Bool = false) throws -> Summary {
        let adjust: ((Database) throws -> Void)? = newIdentity ? { db in
            if try db.tableExists("store_identity") {
                try db.execute(sql: "UPDATE store_identity SET id = lower(hex(randomblob(16)))")
            }
        } : nil
        var summary = try ConsistentFileCopy.copy(from: source, sourceName: sourceName, to: destination, field: "to", adjust: adjust) { db in
            var last: [String: Int64] = [:]
            if try db.tableExists("tenant_sequence") {
                for row in try Row.fetchAll(db, sql: "SELECT tenant, last FROM tenant_sequence") { last[row["tenant"]] = row["last"] }
            }
            return Summary(lastSequence: last, migrations: try migrations(db), bytes: 0)
        }
        summary.bytes = ConsistentFileCopy.size(of: destination)
        return summary
    }

    private static func migrations(_ db: Database) throws -> [String] {
        guard try db.tableExists("grdb_migrations") else { return [] }
        return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
    }
}
