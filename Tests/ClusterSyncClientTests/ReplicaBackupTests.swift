import ClusterSyncClient
import ClusterSyncCore
import Foundation
import GRDB
import Testing

/// `ReplicaBackup` on real files: a backup taken while the replica is open holds what its
/// write-ahead log holds and nothing half-written, and a restore never reuses a change id.
@Suite struct ReplicaBackupTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    func counts(_ path: String) throws -> (changes: Int, counter: Int64, name: String) {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM change")!, try Int64.fetchOne(db, sql: "SELECT counter FROM identity")!,
             try String.fetchOne(db, sql: "SELECT display_name FROM identity")!)
        }
    }

    @Test func aBackupOfAnOpenReplicaHoldsWhatItsWriteAheadLogHolds() throws {
        let replica = try makeReplica(dir, "laptop", practice: "prestatyn")
        for number in 1...40 { _ = try replica.create(.risk, edits: [.set("title", .string("Risk \(number)"))]) }
        // The replica stays open: its edits are in laptop.sqlite-wal, not yet in the file.
        let wal = try #require(try FileManager.default.attributesOfItem(atPath: dir.path("laptop.sqlite-wal"))[.size] as? Int)
        #expect(wal > 0)
        // A copy of the file alone (cp while the app runs) holds not even the replica's tables here.
        try FileManager.default.copyItem(atPath: dir.path("laptop.sqlite"), toPath: dir.path("copied.sqlite"))
        #expect(try DatabaseQueue(path: dir.path("copied.sqlite")).read { db in try db.tableExists("change") } == false)

        let summary = try ReplicaBackup.backup(replica: dir.path("laptop.sqlite"), to: dir.path("backup.sqlite"))
        #expect(summary.unsynced == 40 && summary.identity.practice == "prestatyn" && summary.bytes > 0, "\(summary)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("backup.sqlite-wal")))
        // One file, in rollback journal mode: reading it (a restore does) leaves nothing beside it.
        _ = try ReplicaBackup.restore(from: dir.path("backup.sqlite"), to: dir.path("restored.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("backup.sqlite-wal")) && !FileManager.default.fileExists(atPath: dir.path("backup.sqlite-shm")))
        #expect(try DatabaseQueue(path: dir.path("restored.sqlite")).read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: dir.path("backup.sqlite"))[.posixPermissions] as? Int)
        #expect(mode == 0o600, "a backup holds the signing key: \(String(mode, radix: 8))")
        let copy = try Replica.openExisting(path: dir.path("backup.sqlite"))
        #expect(try copy.exportJSON(today: fixedToday) == replica.exportJSON(today: fixedToday))
        #expect(try copy.records(.risk).count == 40)
    }

    @Test func aBackupDoesNotWaitForNorHoldAnUnfinishedTransaction() throws {
        let replica = try makeReplica(dir, "laptop", practice: "prestatyn")
        _ = try replica.create(.risk, edits: [.set("title", .string("Locum cover"))])
        let summary = try replica.database.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            try db.execute(sql: "UPDATE identity SET display_name = 'half written'")
            defer { try? db.execute(sql: "ROLLBACK") }
            return try ReplicaBackup.backup(replica: dir.path("laptop.sqlite"), to: dir.path("backup.sqlite"))
        }
        #expect(summary.identity.displayName == "Manager, prestatyn")
        #expect(try counts(dir.path("backup.sqlite")).name == "Manager, prestatyn")
    }

    @Test func aRestoredReplicaNumbersItsEditsPastAnyTheLostFileMade() throws {
        let replica = try makeReplica(dir, "laptop", practice: "prestatyn")
        _ = try replica.create(.risk, edits: [.set("title", .string("Locum cover"))])
        _ = try ReplicaBackup.backup(replica: dir.path("laptop.sqlite"), to: dir.path("backup.sqlite"))
        // The lost file went on numbering changes after the backup.
        for number in 1...5 { _ = try replica.create(.risk, edits: [.set("title", .string("After \(number)"))]) }
        let lost = try counts(dir.path("laptop.sqlite")).counter
        try replica.database.close()

        let summary = try ReplicaBackup.restore(from: dir.path("backup.sqlite"), to: dir.path("restored.sqlite"))
        #expect(summary.unsynced == 1)
        let restored = try Replica.openExisting(path: dir.path("restored.sqlite"))
        #expect(try restored.records(.risk).map { $0.string("title") } == ["Locum cover"])
        _ = try restored.create(.risk, edits: [.set("title", .string("Flu clinics"))])
        let (_, counter, _) = try counts(dir.path("restored.sqlite"))
        #expect(counter > lost && counter > 1 << 32, "\(counter) against the lost file's \(lost)")
        let ids = try restored.database.read { db in try Int64.fetchAll(db, sql: "SELECT counter FROM change ORDER BY counter") }
        #expect(ids.filter { $0 > 1 }.allSatisfy { $0 > 1 << 32 }, "\(ids)")
    }

    /// The review's case: one backup restored twice, the first restore's edits pushed before the
    /// second; each restore must number past the other's.
    @Test func twoRestoresOfOneBackupNumberTheirEditsApart() throws {
        let replica = try makeReplica(dir, "laptop", practice: "prestatyn")
        _ = try replica.create(.risk, edits: [.set("title", .string("Locum cover"))])
        _ = try ReplicaBackup.backup(replica: dir.path("laptop.sqlite"), to: dir.path("backup.sqlite"))
        try replica.database.close()
        let moment: Int64 = 1_796_650_925_000
        _ = try ReplicaBackup.restore(from: dir.path("backup.sqlite"), to: dir.path("first.sqlite"), atMillis: moment)
        let first = try Replica.openExisting(path: dir.path("first.sqlite"))
        for number in 1...50 { _ = try first.create(.risk, edits: [.set("title", .string("First \(number)"))]) }
        let firstLast = try counts(dir.path("first.sqlite")).counter
        _ = try ReplicaBackup.restore(from: dir.path("backup.sqlite"), to: dir.path("second.sqlite"), atMillis: moment + 1_000)
        #expect(try counts(dir.path("second.sqlite")).counter > firstLast)
        #expect(ReplicaBackup.restoredCounter(from: 1, atMillis: moment) == moment * 1000)
        // A clock set back to 1970 still moves it 2^32 past the backup's.
        #expect(ReplicaBackup.restoredCounter(from: 7, atMillis: 0) == 7 + 1 << 32)
    }

    @Test func aCopyFromBeforeSigningIsNotRestored() throws {
        let replica = try makeReplica(dir, "laptop", practice: "prestatyn")
        _ = try replica.create(.risk, edits: [.set("title", .string("Locum cover"))])
        try replica.database.write { db in try db.execute(sql: "DROP TABLE signing_key") }
        try replica.database.close()
        let error = #expect(throws: ClusterSyncError.self) { try ReplicaBackup.restore(from: dir.path("laptop.sqlite"), to: dir.path("r.sqlite")) }
        #expect(error?.message.contains("a copy from before replicas signed their changes") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: dir.path("r.sqlite")))
    }

    @Test func aBackupOfAReplicaNobodyHasOpenLeavesNothingBesideEither() throws {
        let replica = try makeReplica(dir, "laptop", practice: "prestatyn")
        _ = try replica.create(.risk, edits: [.set("title", .string("Locum cover"))])
        try replica.database.close()
        _ = try ReplicaBackup.backup(replica: dir.path("laptop.sqlite"), to: dir.path("backup.sqlite"))
        _ = try ReplicaBackup.restore(from: dir.path("backup.sqlite"), to: dir.path("restored.sqlite"))
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
        #expect(left == ["backup.sqlite", "laptop.sqlite", "restored.sqlite", "restored.sqlite-shm", "restored.sqlite-wal"]
                || left == ["backup.sqlite", "laptop.sqlite", "restored.sqlite"], "\(left)")
    }

    @Test func backupAndRestoreRefuseWhatWouldOverwriteOrIsNoReplica() throws {
        let replica = try makeReplica(dir, "laptop", practice: "prestatyn")
        _ = try replica.create(.risk, edits: [.set("title", .string("Locum cover"))])
        let laptop = dir.path("laptop.sqlite")
        let before = try counts(laptop)
        try "Minutes\n".write(toFile: dir.path("notes.txt"), atomically: true, encoding: .utf8)
        try "old".write(toFile: dir.path("stale.sqlite-journal"), atomically: true, encoding: .utf8)

        let refusals: [(String, () throws -> Void, String)] = [
            ("backup onto the replica itself", { _ = try ReplicaBackup.backup(replica: laptop, to: laptop) }, "already exists"),
            ("backup of a file that is not a replica", { _ = try ReplicaBackup.backup(replica: dir.path("notes.txt"), to: dir.path("b.sqlite")) }, "is not a replica file"),
            ("backup of no file", { _ = try ReplicaBackup.backup(replica: dir.path("none.sqlite"), to: dir.path("b.sqlite")) }, "no replica at"),
            ("backup into no folder", { _ = try ReplicaBackup.backup(replica: laptop, to: dir.path("gone/b.sqlite")) }, "no folder"),
            ("backup beside a journal left there", { _ = try ReplicaBackup.backup(replica: laptop, to: dir.path("stale.sqlite")) }, "stale.sqlite-journal already exists"),
            ("restore over the replica", { _ = try ReplicaBackup.restore(from: laptop, to: laptop) }, "never overwrites a replica"),
            ("restore of a file that is not a replica", { _ = try ReplicaBackup.restore(from: dir.path("notes.txt"), to: dir.path("r.sqlite")) }, "is not a replica file"),
        ]
        for (what, attempt, expected) in refusals {
            let error = #expect(throws: ClusterSyncError.self, "\(what)") { try attempt() }
            #expect(error?.message.contains(expected) == true, "\(what): \(String(describing: error))")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
        #expect(left == ["laptop.sqlite", "laptop.sqlite-shm", "laptop.sqlite-wal", "notes.txt", "stale.sqlite-journal"], "nothing half-written left: \(left)")
        #expect(try counts(laptop) == before)
    }
}

@Suite struct ReplicaBackupNameTests {
    @Test func keepingTheNewestRemovesOnlyOlderDatedBackupsOfThisReplica() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let replica = dir.path("prestatyn.sqlite")
        let id = try makeReplica(dir, "prestatyn", practice: "prestatyn").identity().replicaID
        let start: Int64 = 1_796_650_925_000
        let dated = try (0..<4).map { day -> String in
            let path = ReplicaBackup.datedPath(beside: replica, atMillis: start + Int64(day) * 86_400_000)
            _ = try ReplicaBackup.backup(replica: replica, to: path)
            return path
        }
        // Files that only look alike are never listed nor removed.
        var others = ["prestatyn-backup-2020-01-01-000000.sqlite-wal", "prestatyn-backup-2020-01-01-246000.sqlite",
                      "rhyl-backup-2020-01-01-000000.sqlite", "prestatyn-backup-2020-13-01-000000.sqlite", "prestatyn-backup-by-hand.sqlite",
                      "prestatyn-backup-2020-02-01-000000.sqlite"]
        for name in others { try "x".write(toFile: dir.path(name), atomically: true, encoding: .utf8) }
        // The second review's cases: another replica named alike (prestatyn.db's backups share
        // the stem), and another practice's live replica whose name looks like a backup's.
        let other = try Replica(path: dir.path("prestatyn.db"))
        try other.initialise(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl", displayName: "Manager, rhyl")
        _ = try ReplicaBackup.backup(replica: dir.path("prestatyn.db"), to: ReplicaBackup.datedPath(beside: dir.path("prestatyn.db"), atMillis: start - 86_400_000))
        let live = try makeReplica(dir, "prestatyn-backup-2020-03-01-000000", practice: "rhyl")
        _ = try live.create(.risk, edits: [.set("title", .string("Not synced yet"))])
        others += ["prestatyn-backup-2026-12-06-134205.sqlite", "prestatyn-backup-2020-03-01-000000.sqlite"]

        #expect(ReplicaBackup.datedBackups(of: id, beside: replica).map(\.path) == dated.reversed())
        #expect(ReplicaBackup.datedBackups(of: id, beside: replica).first?.millis == start + 3 * 86_400_000)
        let removed = try ReplicaBackup.removeOldBackups(of: id, beside: replica, keep: 2)
        #expect(removed == [dated[1], dated[0]])
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path)
        for name in others { #expect(left.contains(name), "\(name) kept") }
        #expect(!left.contains { $0.hasSuffix(".sqlite") && dated.prefix(2).contains(dir.path($0)) })
        #expect(ReplicaBackup.datedBackups(of: id, beside: replica).map(\.path) == [dated[3], dated[2]])
        #expect(try live.records(.risk).count == 1)

        // A backup in a second that has one takes the next second's name.
        let (next, _) = try ReplicaBackup.backupBeside(replica: replica, atMillis: start + 3 * 86_400_000 + 400)
        #expect(next == ReplicaBackup.datedPath(beside: replica, atMillis: start + 3 * 86_400_000 + 1000))
    }

    @Test func aBackupWithNoNameIsNamedByTheReplicaAndTheMomentInUTC() {
        // 2026-12-07 13:42:05 UTC.
        let millis: Int64 = 1_796_650_925_000
        #expect(ReplicaBackup.datedPath(beside: "/home/pm/prestatyn.sqlite", atMillis: millis) == "/home/pm/prestatyn-backup-2026-12-07-134205.sqlite")
        #expect(ReplicaBackup.datedPath(beside: "/home/pm/registers", atMillis: millis + 37_800_000) == "/home/pm/registers-backup-2026-12-08-001205.sqlite")
    }
}
