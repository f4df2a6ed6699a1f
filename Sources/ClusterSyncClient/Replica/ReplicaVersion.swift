import ClusterSyncStorage
import GRDB
import Synchronization

/// A number that grows whenever anything is committed to the replica file: this process's own
/// edits, a `sync --watch` running in it or in another process, a `merge`, an `import`. What the
/// web app's pages poll to learn that what they show is out of date.
///
/// Read from SQLite's `PRAGMA data_version` on a connection kept for this alone: the pragma
/// changes when a commit is made through any *other* connection, in any process, and costs no
/// table read. The number itself belongs to this object (it starts at 1 and moves by one for
/// every change seen), so it means nothing across processes or restarts.
public final class ReplicaVersion: Sendable {
    private let connection: DatabaseQueue
    private let state = Mutex<(dataVersion: Int64?, version: Int)>((nil, 1))

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        connection = try DatabaseSetup.queue(path: path, configuration: configuration)
        _ = try current()
    }

    /// The version now: the last one, or one more if something was committed since it was read.
    public func current() throws -> Int {
        // The queue serialises its reads, so no two calls compare against the same old value.
        try connection.read { db in
            let dataVersion = try Int64.fetchOne(db, sql: "PRAGMA data_version")!
            return state.withLock { state in
                if let seen = state.dataVersion, seen != dataVersion { state.version += 1 }
                state.dataVersion = dataVersion
                return state.version
            }
        }
    }
}
