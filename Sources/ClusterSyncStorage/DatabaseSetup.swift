import ClusterSyncCore
import GRDB

/// How ClusterSync opens a SQLite file, replica or server store alike.
public enum DatabaseSetup {
    /// A pool (WAL: readers never wait for the writer) with the schema brought up to date.
    /// `synchronous = NORMAL` is durable across process crashes, the failure a laptop sees, and
    /// loses at most the last transactions on power loss, never consistency; it is much faster
    /// than FULL.
    public static func openPool(path: String, migrator: DatabaseMigrator, what: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        configuration.busyMode = .timeout(10)
        do {
            let pool = try DatabasePool(path: path, configuration: configuration)
            try migrator.migrate(pool)
            return pool
        } catch let error as DatabaseError {
            throw ClusterSyncError(.internal, "cannot open \(what) \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }
}
