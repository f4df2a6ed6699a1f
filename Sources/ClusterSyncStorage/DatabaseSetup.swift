import CSQLiteSettings
import ClusterSyncCore
import GRDB

/// How ClusterSync opens a SQLite file, replica or server store alike.
public enum DatabaseSetup {
    /// How hard a commit waits for the disk (SQLite's `synchronous`, in WAL mode).
    public enum Durability: String, Sendable {
        /// A commit is durable across process crashes; on power loss or an OS crash the last
        /// transactions may be lost, never consistency. The replica's setting: what a laptop
        /// loses that way it gets back (see `Replica.write`), and a commit costs no fsync.
        case normal = "NORMAL"
        /// A commit returns only once it is on disk (an fsync of the write-ahead log per
        /// commit): it survives power loss. The server store's setting, since an `ack` tells the
        /// client it may drop the changes from its outbox.
        case full = "FULL"
    }

    /// A pool (WAL: readers never wait for the writer) with the schema brought up to date.
    /// `pageSize` (bytes, a power of two from 512 to 65,536; nil: SQLite's default, 4,096) is the
    /// page size of a file created here; a file that exists keeps the one it was made with
    /// (SQLite changes it only by rewriting the file), and works the same.
    public static func openPool(path: String, migrator: DatabaseMigrator, what: String, durability: Durability = .normal,
                                pageSize: Int?) throws -> DatabasePool {
        _ = processSettings
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // Before the pool turns WAL on, which writes the new file's first page.
            if let pageSize { try db.execute(sql: "PRAGMA page_size = \(pageSize)") }
            try db.execute(sql: "PRAGMA synchronous = \(durability.rawValue)")
            // 64 MB of pages for the writer, whose batches update indexes all over the file; a
            // reader (a page of the log, a snapshot) mostly reads a range once, and keeps
            // SQLite's default 2 MB. Every page a cache grows by is memory the process takes
            // fresh and the kernel zeroes: a server's reader filling 64 MB during a replica's
            // replay spent most of the server's CPU there (MEASUREMENTS.md, thirty-second session).
            try db.execute(sql: "PRAGMA cache_size = \(db.configuration.readonly ? -2000 : -65536)")
        }
        configuration.busyMode = .timeout(10)
        do {
            let pool = try DatabasePool(path: path, configuration: configuration)
            // The pool turns WAL on after `prepareDatabase` has run, and sets its writer to
            // `synchronous = NORMAL` as it does: without this a `.full` store would commit, and
            // `ack`, without an fsync. Only the writer commits.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(durability.rawValue)") }
            // A file a newer version has migrated holds what this one cannot keep right (GRDB
            // would open it and leave those migrations alone): refused before anything is written.
            if try pool.read({ db in try migrator.hasBeenSuperseded(db) }) {
                throw ClusterSyncError(.versionUnsupported,
                    "\(what) \(path) was written by a newer version of ClusterSync than this one: upgrade ClusterSync to open it")
            }
            try migrator.migrate(pool)
            return pool
        } catch let error as DatabaseError {
            let code: ClusterSyncError.Code = isUnavailable(error) ? .storeUnavailable : .internal
            throw ClusterSyncError(code, "cannot open \(what) \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// One connection (a read-only look at a file, or a scratch database in memory when `path`
    /// is nil), opened after `processSettings` as every connection a replica or a store opens
    /// (the backup commands' copies open their own, and keep SQLite's defaults): a command's
    /// first look at a replica file may be the process's first use of SQLite.
    public static func queue(path: String? = nil, configuration: Configuration = Configuration()) throws -> DatabaseQueue {
        _ = processSettings
        guard let path else { return try DatabaseQueue(configuration: configuration) }
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// SQLite's process-wide settings, made once before the first connection a process opens
    /// through here (`openPool`, `queue`): SQLite takes them only before it is initialised,
    /// which that first open does. A process that opened SQLite otherwise first keeps the
    /// defaults, which are slower, never wrong.
    public static let processSettings: Void = {
        _ = clustersync_sqlite3_disable_memory_statistics()
    }()

    /// Whether SQLite failed because the file cannot be written or opened (read-only file
    /// system or file, permissions, disk full, I/O error), rather than because of what was
    /// asked: an operator must act, retrying does not help.
    public static func isUnavailable(_ error: DatabaseError) -> Bool {
        [.SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_PERM].contains(error.resultCode)
    }
}
