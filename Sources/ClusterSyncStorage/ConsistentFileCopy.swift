import ClusterSyncCore
import Foundation
import GRDB

/// A whole, consistent copy of a live SQLite file into a new one: the server's
/// `clustersyncd backup` / `restore` and a replica's `clustersync backup` / `restore` alike.
///
/// SQLite's backup API (GRDB's `backup(to:)`) runs inside one read transaction of the source: in
/// WAL mode that is every transaction committed when it starts, its `-wal` included, taken while
/// another process (the server, the web app, a `sync --watch`) keeps writing, which never waits
/// for it. Copying the file with `cp` instead can catch the main file and its `-wal` at different
/// moments, or leave the `-wal` out. The copy is written beside the destination, owner-only from
/// its first byte (both kinds of file hold secrets: credential hashes, a signing key), changed by
/// `adjust` if asked, checked with `PRAGMA integrity_check`, synced, and only then renamed into
/// place: a copy that exists under its name is a whole one, in one file (rollback journal mode).
public enum ConsistentFileCopy {
    /// Copies `source` into the new file `destination` (which must not exist) and returns what
    /// `summarise` reads from the copy. `adjust` runs in a write transaction of the copy before
    /// it is checked (a restore's changes of identity); `field` names the destination's option in
    /// errors.
    public static func copy<Summary>(
        from source: some DatabaseReader, sourceName: String, to destination: String, field: String,
        adjust: ((Database) throws -> Void)? = nil, summarise: (Database) throws -> Summary
    ) throws -> Summary {
        let manager = FileManager.default
        // A journal left beside the name would be read as the new file's (a hot journal rolled back into it).
        for suffix in ["", "-wal", "-journal"] where manager.fileExists(atPath: destination + suffix) {
            throw ClusterSyncError(.invalidValue, "\(destination + suffix) already exists: give a new file name (a copy never overwrites a file)", field: field)
        }
        let folder = URL(fileURLWithPath: destination).deletingLastPathComponent().path
        guard manager.fileExists(atPath: folder) else {
            throw ClusterSyncError(.invalidValue, "no folder \(folder) to write \(destination) in", field: field)
        }
        // Unique to this copy: two copies to one name at once (two clicks of the app's button,
        // in one process) each write their own, and the second finds the name taken.
        let partial = destination + ".partial-\(UUID().uuidString)"
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { try? manager.removeItem(atPath: partial + suffix) }
        }
        do {
            guard manager.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw ClusterSyncError(.storeUnavailable, "cannot create \(partial): check the folder is writable by this user")
            }
            let target = try DatabaseQueue(path: partial)
            try source.backup(to: target)
            // The copy keeps the source's WAL mode, and a WAL file opened anywhere (a USB stick,
            // a restore reading it) grows a -wal and -shm beside it: a backup is one file. The
            // pool that opens it as a replica or store turns WAL on again.
            try target.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            if let adjust { try target.write(adjust) }
            let summary = try target.read { db -> Summary in
                let check = try String.fetchAll(db, sql: "PRAGMA integrity_check")
                guard check == ["ok"] else {
                    throw ClusterSyncError(.internal, "the copy of \(sourceName) fails SQLite's integrity check (\(check.prefix(3).joined(separator: "; "))): the source may be damaged; nothing was written to \(destination)")
                }
                return try summarise(db)
            }
            try target.close()
            try sync(partial)
            try putInPlace(partial, as: destination, field: field)
            try sync(folder)
            return summary
        } catch let error as DatabaseError {
            let code: ClusterSyncError.Code = DatabaseSetup.isUnavailable(error) ? .storeUnavailable : .internal
            throw ClusterSyncError(code, "cannot copy \(sourceName) to \(destination): \(error.message ?? "\(error.resultCode)")")
        } catch let error as CocoaError {
            throw ClusterSyncError(.storeUnavailable, "cannot write \(destination): \(error.localizedDescription)")
        }
    }

    /// Gives the finished copy its name. link(2) fails when the name exists, where rename(2)
    /// would replace a copy made meanwhile; a file system without hard links (a FAT USB stick)
    /// is checked, then renamed.
    private static func putInPlace(_ partial: String, as destination: String, field: String) throws {
        func refuse(_ reason: String) -> ClusterSyncError {
            ClusterSyncError(.invalidValue, "cannot put the copy in place as \(destination): \(reason); nothing else was changed", field: field)
        }
        if link(partial, destination) == 0 { return }
        let failure = errno
        if failure == EEXIST { throw refuse("another copy made that file meanwhile") }
        // ENOTSUP and EOPNOTSUPP are one number on Linux, two on macOS (whose FAT has no link).
        guard [EPERM, EOPNOTSUPP, ENOTSUP, ENOSYS].contains(failure) else { throw refuse(String(cString: strerror(failure))) }
        guard !FileManager.default.fileExists(atPath: destination) else { throw refuse("another copy made that file meanwhile") }
        guard rename(partial, destination) == 0 else { throw refuse(String(cString: strerror(errno))) }
    }

    /// The size of `path` in bytes, for a summary (0 when it cannot be read).
    public static func size(of path: String) -> Int64 {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// fsync: the copy is on disk before anyone is told it exists.
    private static func sync(_ path: String) throws {
        let fd = Foundation.open(path, O_RDONLY)
        guard fd >= 0 else { throw ClusterSyncError(.storeUnavailable, "cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ClusterSyncError(.storeUnavailable, "cannot sync \(path) to disk: \(String(cString: strerror(errno)))") }
    }
}
