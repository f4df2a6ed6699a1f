import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import GRDB

/// A practice's backup of its replica file (`clustersync backup` / `restore`), taken while the
/// web app or a `sync --watch` has it open: `ConsistentFileCopy`, so the copy holds every edit
/// saved so far, the part still in the `-wal` beside the file included, where a file copied by
/// hand may lack it or not open at all.
///
/// A backup is this replica, signing key and all: it is restored in place of a lost or damaged
/// file, never used as a second laptop's replica (`init` makes that). A restored file may be
/// behind what the lost one did after the backup: the changes the lost file pushed come back at
/// the next sync, and those it never pushed are lost. Its change counter is moved past any the
/// lost file, or an earlier restore of the same backup, can have used (`restoredCounter`), so an
/// edit made on the restored file before that sync never takes the id of a change made and
/// pushed since the backup: the server would refuse it as a resend with other contents and hold
/// it back (`ReplicaOwnership.checkResent`), and the pushed change under that id would never
/// come back.
public enum ReplicaBackup {
    /// Where a restore made at `millis` (ms since 1970) starts numbering changes, from the
    /// `counter` its backup held: the moment of the restore times 1,000, so two restores of one
    /// backup, even a second apart, are a million ids apart (a file would have to make a
    /// thousand changes a millisecond to reach the next restore's), and at least 2^32 past the
    /// backup's own (a clock set far back). Counters need not be consecutive: nothing reads a
    /// gap, and 1,000 × ms since 1970 stays under `ChangeID.maxCounter` until the year 2255.
    public static func restoredCounter(from counter: Int64, atMillis millis: Int64) -> Int64 {
        max(counter + (1 << 32), millis * 1000)
    }

    /// What a backup holds, said after it is written.
    public struct Summary: Sendable, Equatable {
        public var identity: ReplicaIdentity
        /// Changes held for the server: saved on this laptop, not acknowledged by a server yet.
        public var unsynced: Int
        public var bytes: Int64

        /// "replica 01J… of rhyl (north-denbighshire, bcuhb), 3 changes not yet synced, 1.2 MB"
        public var description: String {
            let size = ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file)
            let whose = identity.practice.isEmpty ? identity.tenant : "\(identity.practice) (\(identity.cluster), \(identity.tenant))"
            let pending = unsynced == 0 ? "every change synced" : "\(unsynced) change\(unsynced == 1 ? "" : "s") not yet synced"
            return "replica \(identity.replicaID) of \(whose), \(pending), \(size)"
        }
    }

    /// Where a backup goes when no file is named: beside the replica, named by it and the moment,
    /// in UTC so two backups an hour apart across the clocks' change never share a name:
    /// `/home/pm/prestatyn.sqlite` at 13:42:05 on 7 Dec 2026 becomes
    /// `/home/pm/prestatyn-backup-2026-12-07-134205.sqlite`.
    public static func datedPath(beside path: String, atMillis millis: Int64) -> String {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent
        let second = Int(((millis / 1000) % 86_400 + 86_400) % 86_400)
        let time = String(format: "%02d%02d%02d", second / 3600, second % 3600 / 60, second % 60)
        let name = "\(stem)-backup-\(CalendarDate(unixMillis: millis))-\(time).sqlite"
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Backs the replica at `path` up beside it, under the first dated name from `millis` on that
    /// no file has (a second backup within the second, from this process or another, takes the
    /// next second's name): `backup` with no `--to`, and the web app's *Back up now*.
    public static func backupBeside(replica path: String, atMillis millis: Int64) throws -> (path: String, summary: Summary) {
        var moment = millis
        while true {
            let destination = datedPath(beside: path, atMillis: moment)
            let lastTry = moment >= millis + 60_000
            let taken = ["", "-wal", "-journal"].contains { FileManager.default.fileExists(atPath: destination + $0) }
            if !taken || lastTry {
                do {
                    return (destination, try backup(replica: path, to: destination))
                } catch where !lastTry && FileManager.default.fileExists(atPath: destination) {
                    // Another process took the name while this copy was written: the next second.
                }
            }
            moment += 1000
        }
    }

    /// The backups of replica `replicaID` that `datedPath` named beside the replica at `path`,
    /// newest first, each with the moment its name gives (ms since 1970, UTC). A file is listed
    /// only as `backup` left it: one file in rollback journal mode (one opened as a replica
    /// since, by `merge --from`, is in WAL mode and may be in use) holding this replica's id (a
    /// replica `rhyl.db` beside `rhyl.sqlite` names its backups alike).
    public static func datedBackups(of replicaID: ReplicaID, beside path: String) -> [(path: String, millis: Int64)] {
        let url = URL(fileURLWithPath: path)
        let prefix = url.deletingPathExtension().lastPathComponent + "-backup-"
        let folder = url.deletingLastPathComponent()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.compactMap { name -> (String, Int64)? in
            guard name.hasPrefix(prefix), name.hasSuffix(".sqlite"),
                  let millis = moment(named: name.dropFirst(prefix.count).dropLast(".sqlite".count)) else { return nil }
            let file = folder.appendingPathComponent(name).path
            return isUntouchedBackup(file, of: replicaID) ? (file, millis) : nil
        }.sorted { $0.1 > $1.1 }
    }

    /// The moment a backup's name gives: `YYYY-MM-DD-HHMMSS` in UTC.
    private static func moment(named stamp: Substring) -> Int64? {
        guard stamp.count == 17, let day = CalendarDate(String(stamp.prefix(10))), stamp.dropFirst(10).first == "-" else { return nil }
        let time = stamp.suffix(6)
        guard time.allSatisfy({ $0.isASCII && $0.isNumber }), let hhmmss = Int(time) else { return nil }
        let (h, m, sec) = (hhmmss / 10_000, hhmmss / 100 % 100, hhmmss % 100)
        guard h < 24, m < 60, sec < 60 else { return nil }
        return (Int64(day.dayNumber) * 86_400 + Int64(h * 3600 + m * 60 + sec)) * 1000
    }

    /// Whether `file` is in rollback journal mode (byte 18 of an SQLite header is 1; 2 is WAL),
    /// has no -wal beside it, and holds replica `replicaID`: read without writing.
    private static func isUntouchedBackup(_ file: String, of replicaID: ReplicaID) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: file) else { return false }
        let header = (try? handle.read(upToCount: 20)) ?? Data()
        try? handle.close()
        guard header.count == 20, header.starts(with: Data("SQLite format 3\u{0}".utf8)), header[header.startIndex + 18] == 1,
              !FileManager.default.fileExists(atPath: file + "-wal") else { return false }
        var configuration = Configuration()
        configuration.readonly = true
        guard let queue = try? DatabaseSetup.queue(path: file, configuration: configuration) else { return false }
        defer { try? queue.close() }
        let held = try? queue.read { db in try String.fetchOne(db, sql: "SELECT replica_id FROM identity") }
        return held.flatMap { $0 } == replicaID.rawValue
    }

    /// Removes this replica's dated backups beside `path` past the newest `keep` (those
    /// `datedBackups` lists, and no other file), and returns them: a daily
    /// `clustersync backup --keep 7` keeps a week.
    @discardableResult
    public static func removeOldBackups(of replicaID: ReplicaID, beside path: String, keep: Int) throws -> [String] {
        let old = datedBackups(of: replicaID, beside: path).dropFirst(max(keep, 1)).map(\.path)
        for file in old {
            do {
                try FileManager.default.removeItem(atPath: file)
            } catch {
                throw ClusterSyncError(.storeUnavailable, "cannot remove the old backup \(file): \(error.localizedDescription)")
            }
        }
        return old
    }

    /// Copies the replica at `path` into the new file `destination`, while other programs may
    /// have it open. The source is only read.
    public static func backup(replica path: String, to destination: String) throws -> Summary {
        let source = try openReplicaFile(path, what: "replica", field: "replica")
        return try copy(from: source, sourceName: path, to: destination, field: "to")
    }

    /// Puts the backup `file` in place as the replica `path`, which must not exist: the lost or
    /// damaged file is moved aside first, never overwritten. The restored file is opened as every
    /// command opens it, so a backup made by an older version is brought up to date here.
    public static func restore(from file: String, to path: String, atMillis: Int64 = Replica.systemMillis()) throws -> Summary {
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
            throw ClusterSyncError(.invalidValue, """
                \(path + suffix) already exists: a restore never overwrites a replica. Move the damaged file (with its -wal \
                and -shm) aside first, or restore to a new path
                """, field: "replica")
        }
        let source = try openReplicaFile(file, what: "backup", field: "from")
        // A copy from before replicas signed their changes would be given a new key when opened,
        // and the server, which holds this replica's key, would refuse it at every sync.
        guard try source.read({ db in try db.tableExists("signing_key") && Int.fetchOne(db, sql: "SELECT count(*) FROM signing_key")! > 0 }) else {
            throw ClusterSyncError(.invalidValue, """
                \(file) is a copy from before replicas signed their changes: restored, it would be refused by the server, which \
                knows this replica's key. Make a new replica (`clustersync init`, then `sync`) instead
                """, field: "from")
        }
        let summary = try copy(from: source, sourceName: file, to: path, field: "replica") { db in
            let counter = try Int64.fetchOne(db, sql: "SELECT counter FROM identity") ?? 0
            let restored = restoredCounter(from: counter, atMillis: atMillis)
            guard restored <= ChangeID.maxCounter - (1 << 32) else {
                throw ClusterSyncError(.invalidValue, "\(file) has numbered \(counter) changes, too many to restore it again: make a new replica with `clustersync init`", field: "from")
            }
            try db.execute(sql: "UPDATE identity SET counter = ?", arguments: [restored])
        }
        _ = try Replica.openExisting(path: path)
        return summary
    }

    // MARK: Steps

    /// `path` opened to be read, once it is known to be a replica file.
    private static func openReplicaFile(_ path: String, what: String, field: String) throws -> DatabaseQueue {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ClusterSyncError(what == "backup" ? .invalidValue : .notInitialised, "no \(what) at \(path)", field: field)
        }
        try Replica.refuseFolder(path, isFolder.boolValue)
        guard try Replica.isInitialisedReplica(path) else {
            throw ClusterSyncError(.invalidValue, "\(path) is not a replica file (no practice's identity in it)", field: field)
        }
        var configuration = Configuration()
        // Not read-only: a read-only connection to a WAL file nobody else has open leaves an
        // empty -wal and -shm beside it; this one, closing last, takes them away. It only reads.
        configuration.busyMode = .timeout(10)
        return try DatabaseSetup.queue(path: path, configuration: configuration)
    }

    private static func copy(from source: DatabaseQueue, sourceName: String, to destination: String, field: String,
                             adjust: ((Database) throws -> Void)? = nil) throws -> Summary {
        var summary = try ConsistentFileCopy.copy(from: source, sourceName: sourceName, to: destination, field: field, adjust: adjust) { db in
            Summary(identity: try Replica.identity(db), unsynced: try Replica.pendingCount(db), bytes: 0)
        }
        summary.bytes = ConsistentFileCopy.size(of: destination)
        return summary
    }
}
