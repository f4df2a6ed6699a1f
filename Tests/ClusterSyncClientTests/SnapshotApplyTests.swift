import ClusterSyncClient
import ClusterSyncCore
import GRDB
import Testing

/// A replica's apply of a snapshot (PROTOCOL.md §5.7): the snapshot's changes name the writes
/// they superseded, which it leaves out. The replica keeps no `orphan_supersede` row for them
/// and reads those names from the stored changes instead, so a superseded write that still
/// arrives later (merged from a peer that replayed the history) arrives dead, as it does in a
/// replica that replayed everything.
@Suite struct SnapshotApplyTests {
    /// The changes a server's snapshot of `replica`'s history carries: those no other change
    /// supersedes (the history below has no concurrent writes).
    static func snapshot(of replica: Replica) throws -> Snapshot {
        let all = try replica.allChanges()
        let superseded = Set(all.flatMap(\.supersedes))
        return Snapshot(changes: all.filter { !superseded.contains($0.id) }, cursor: Cursor("1"), more: false)
    }

    static func orphanRows(_ path: String) throws -> Int {
        try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM orphan_supersede")! }
    }

    @Test func aWriteTheSnapshotSupersededStaysSupersededWhenItArrivesLater() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let history = try makeReplica(dir, "history", practice: "prestatyn")
        let risk = try history.create(.risk, edits: [.set("title", .string("Locum cover")), .set("owner", .string("Practice manager"))])
        for title in ["Locum cover, winter", "Winter locum cover"] { try history.edit(risk, .set("title", .string(title))) }
        try history.edit(risk, .set("owner", .string("Cluster lead")))
        let snapshot = try Self.snapshot(of: history)
        #expect(snapshot.changes.count == 2, "the live title and owner only")

        let fresh = try makeReplica(dir, "fresh", practice: "rhyl")
        #expect(try fresh.applySnapshot(snapshot, first: true).applied == 2)
        #expect(try Self.orphanRows(dir.path("fresh.sqlite")) == 0, "no row per superseded write the snapshot names")

        // Opened again (a later run of the app), it merges a peer that holds the whole history:
        // the three superseded writes arrive, and arrive dead.
        let reopened = try Replica(path: dir.path("fresh.sqlite"))
        #expect(try reopened.merge(with: history).received.applied == 3)
        let view = try #require(try reopened.record(risk))
        #expect(view.string("title") == "Winter locum cover")
        #expect(view.string("owner") == "Cluster lead")
        #expect(view.conflicts.isEmpty)

        let replayed = try makeReplica(dir, "replayed", practice: "rhyl")
        _ = try replayed.merge(with: history)
        #expect(try reopened.exportJSON(today: fixedToday) == replayed.exportJSON(today: fixedToday))
    }

    /// A replica part-way through a snapshot (a sync cut off after its first page replaced the
    /// state) refuses edits until the last page has come: records not come yet looked deleted,
    /// and an edit to a field not come yet stood beside its value as a conflict everywhere.
    @Test func aReplicaPartWayThroughASnapshotRefusesEditsUntilItsLastPage() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let history = try makeReplica(dir, "history", practice: "prestatyn")
        let risk = try history.create(.risk, edits: [.set("title", .string("Locum cover")), .set("owner", .string("Practice manager"))])
        let all = try Self.snapshot(of: history).changes
        let fresh = try makeReplica(dir, "fresh", practice: "rhyl")
        try fresh.setRemote(RemoteSettings(host: "h", port: 1, caFile: "/ca.pem", tokenFile: "/t"))
        let partway = SnapshotCursor(end: 9, record: risk, field: "owner", replica: 1, counter: 2).cursor
        _ = try fresh.applySnapshot(Snapshot(changes: [all[0]], cursor: partway, more: true), first: true)
        let pending = try fresh.pendingCount()
        let refused = #expect(throws: ClusterSyncError.self) { try fresh.edit(risk, .set("title", .string("Winter locum cover"))) }
        #expect(refused?.message.contains("part-way through taking the server's state") == true)
        #expect(throws: ClusterSyncError.self) { try fresh.create(.risk, edits: [.set("title", .string("Phones"))]) }
        #expect(try fresh.pendingCount() == pending)
        // Pointed at another address meanwhile (its cursor cleared), it still waits.
        try fresh.setRemote(RemoteSettings(host: "h2", port: 1, caFile: "/ca.pem", tokenFile: "/t"))
        #expect(throws: ClusterSyncError.self) { try fresh.edit(risk, .set("title", .string("Winter locum cover"))) }
        _ = try fresh.applySnapshot(Snapshot(changes: Array(all.dropFirst()), cursor: Cursor("s1:9"), more: false), first: false)
        try fresh.edit(risk, .set("title", .string("Winter locum cover")))
        #expect(try fresh.record(risk)?.string("title") == "Winter locum cover" && (try fresh.record(risk)?.conflicts.isEmpty) == true)
    }

    /// A file cut off part-way through a snapshot by the version before migration v13 (its
    /// cursor still the snapshot's) is marked part-way when next opened, and waits likewise.
    @Test func aFileCutOffPartWayBeforeTheFlagExistedIsMarkedWhenOpened() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let history = try makeReplica(dir, "history", practice: "prestatyn")
        let risk = try history.create(.risk, edits: [.set("title", .string("Locum cover")), .set("owner", .string("Practice manager"))])
        let all = try Self.snapshot(of: history).changes
        do {
            let fresh = try makeReplica(dir, "old", practice: "rhyl")
            try fresh.setRemote(RemoteSettings(host: "h", port: 1, caFile: "/ca.pem", tokenFile: "/t"))
            let partway = SnapshotCursor(end: 9, record: risk, field: "owner", replica: 1, counter: 2).cursor
            _ = try fresh.applySnapshot(Snapshot(changes: [all[0]], cursor: partway, more: true), first: true)
            // Back to the file as the version before wrote it.
            try fresh.database.write { db in
                try db.execute(sql: """
                    ALTER TABLE remote DROP COLUMN state_partial;
                    DELETE FROM grdb_migrations WHERE identifier LIKE 'v13 (partial)%';
                    """)
            }
        }
        let reopened = try Replica(path: dir.path("old.sqlite"))
        #expect(throws: ClusterSyncError.self) { try reopened.edit(risk, .set("title", .string("Winter locum cover"))) }
        _ = try reopened.applySnapshot(Snapshot(changes: Array(all.dropFirst()), cursor: Cursor("s1:9"), more: false), first: false)
        try reopened.edit(risk, .set("title", .string("Winter locum cover")))
    }

    @Test func aReplicaThatReplayedStillKeepsAnOrphanRowForAWriteSupersededBeforeItArrives() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let history = try makeReplica(dir, "history", practice: "prestatyn")
        let risk = try history.create(.risk, edits: [.set("title", .string("Locum cover"))])
        try history.edit(risk, .set("title", .string("Winter locum cover")))
        let changes = try history.allChanges()
        let (first, second) = (try #require(changes.first { $0.supersedes.isEmpty }), try #require(changes.first { !$0.supersedes.isEmpty }))

        let replica = try makeReplica(dir, "replica", practice: "rhyl")
        _ = try replica.apply([second], origin: .peer)
        #expect(try Self.orphanRows(dir.path("replica.sqlite")) == 1)
        _ = try replica.apply([first], origin: .peer)
        #expect(try replica.record(risk)?.string("title") == "Winter locum cover")
        #expect(try replica.record(risk)?.conflicts.isEmpty == true)
    }
}
