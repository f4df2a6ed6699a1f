import ClusterSyncClient
import ClusterSyncCore
import Foundation
import GRDB
import Testing

@Suite struct ReplicaTests {
    @Test func localEditIsStoredAndQueued() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let replica = try makeReplica(dir, "a", practice: "prestatyn")
        let id = try replica.create(.risk, edits: [.set("title", .string("Locum cover")), .set("owner", .string("Cluster lead"))])
        let view = try #require(try replica.record(id))
        #expect(view.string("title") == "Locum cover")
        #expect(view.string("owner") == "Cluster lead")
        #expect(try replica.pendingCount() == 2)
        // The file is reopened as a later CLI run would.
        let reopened = try Replica(path: dir.path("a.sqlite"))
        #expect(try reopened.record(id) == view)
    }

    @Test func invalidEditWritesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let replica = try makeReplica(dir, "a", practice: "prestatyn")
        let id = try replica.create(.risk, edits: [.set("title", .string("Locum cover"))])
        let before = try replica.allChanges()
        // The first edit is valid, the second not: the transaction keeps neither.
        #expect(throws: ClusterSyncError.self) {
            try replica.edit([(id, .set("owner", .string("Lead"))), (id, .set("status", .string("maybe")))])
        }
        #expect(try replica.allChanges() == before)
        #expect(try replica.record(id)?.string("owner") == nil)
    }

    @Test func applyIsIdempotentAndRefusesWholeBatches() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let a = try makeReplica(dir, "a", practice: "prestatyn")
        let b = try makeReplica(dir, "b", practice: "rhyl")
        let id = try a.create(.risk, edits: [.set("title", .string("Locum cover"))])
        try a.edit(id, .set("owner", .string("Lead")))
        let changes = try a.allChanges()
        #expect(try b.apply(changes, origin: .peer) == Replica.ApplyOutcome(applied: 2, duplicates: 0))
        #expect(try b.apply(changes + changes, origin: .peer) == Replica.ApplyOutcome(applied: 0, duplicates: 4))

        // One bad change in a batch: nothing of the batch is stored.
        var good = changes[0]
        good.id = ChangeID(replica: good.id.replica, counter: 100)
        var bad = changes[1]
        bad.id = ChangeID(replica: bad.id.replica, counter: 101)
        bad.value = .string("943 476 5919")
        let before = try b.allChanges()
        let error = #expect(throws: ClusterSyncError.self) { try b.apply([good, bad], origin: .peer) }
        #expect(error?.code == .patientData)
        #expect(try b.allChanges() == before)

        var future = changes[0]
        future.id = ChangeID(replica: future.id.replica, counter: 102)
        future.hlc = HLCTimestamp(millis: Replica.systemMillis() + 3_600_000)
        #expect((#expect(throws: ClusterSyncError.self) { try b.apply([future], origin: .peer) })?.code == .clockSkew)
    }

    @Test func otherClustersAndOtherPracticesPrivateRecordsAreRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let a = try makeReplica(dir, "a", practice: "prestatyn")
        let b = try makeReplica(dir, "b", practice: "rhyl")
        let elsewhere = try makeReplica(dir, "c", practice: "wrexham-1", cluster: "wrexham")
        let secret = try a.create(.risk, private: true, edits: [.set("title", .string("Practice staffing"))])
        let shared = try a.create(.risk, edits: [.set("title", .string("Locum cover"))])

        let outcome = try b.merge(with: a)
        #expect(outcome.received.applied == 1)
        #expect(try b.record(shared) != nil)
        #expect(try b.record(secret) == nil)
        let privateChange = try a.history(of: secret)
        #expect((#expect(throws: ClusterSyncError.self) { try b.apply(privateChange, origin: .peer) })?.code == .forbiddenScope)
        #expect((#expect(throws: ClusterSyncError.self) { try elsewhere.merge(with: a) })?.code == .forbiddenScope)
    }

    @Test func listKeepsOrderAcrossMovesAndRemovals() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let a = try makeReplica(dir, "a", practice: "prestatyn")
        let list = try a.create(.list, edits: [.set("title", .string("Board agenda")), .set("kind", .string("agenda"))])
        var previous: ChangeID?
        var items: [RecordID] = []
        for text in ["Apologies", "Minutes", "Risk register", "AOB"] {
            let id = try a.create(.item, edits: [.set("list", .string(list.rawValue)), .set("text", .string(text)), .place(after: previous)])
            previous = try a.record(id)?.writes["position"]?.first?.id
            items.append(id)
        }
        func texts() throws -> [String] { try a.items(of: list).compactMap { $0.string("text") } }
        #expect(try texts() == ["Apologies", "Minutes", "Risk register", "AOB"])
        // Move "AOB" to the head, then remove "Minutes".
        try a.edit(items[3], .place(after: nil))
        try a.edit(items[1], .delete)
        #expect(try texts() == ["AOB", "Apologies", "Risk register"])
    }

    @Test func concurrentDeleteAndEditConflict() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let a = try makeReplica(dir, "a", practice: "prestatyn")
        let b = try makeReplica(dir, "b", practice: "rhyl")
        try a.rememberRole(.clusterLead, region: nil) // deleting a shared action is the lead's
        let id = try a.create(.action, edits: [.set("title", .string("Audit referrals")), .set("due_date", .string("2026-12-01"))])
        _ = try b.merge(with: a)
        try a.edit(id, .delete)
        try b.edit(id, .set("owner", .string("Pharmacy lead")))
        _ = try b.merge(with: a)
        for replica in [a, b] {
            let view = try #require(try replica.record(id))
            #expect(view.isDeleted)
            let conflict = try #require(view.conflicts.first { $0.kind == .editAgainstDelete })
            #expect(conflict.values.contains { $0.field == "owner" })
        }
        // Restoring settles it: the record is back with the concurrent edit.
        try a.edit(id, .restore)
        _ = try b.merge(with: a)
        #expect(try b.record(id)?.conflicts.isEmpty == true)
        #expect(try b.record(id)?.string("owner") == "Pharmacy lead")
    }

    @Test func outboxPagesCoverEveryPendingChangeOnce() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let a = try makeReplica(dir, "a", practice: "prestatyn")
        let b = try makeReplica(dir, "b", practice: "rhyl")
        let id = try a.create(.risk, edits: [.set("title", .string("Locum cover"))])
        for i in 0..<24 { try a.edit(id, .add("tags", .string("t\(i)"))) }
        // As if a had synced once: its key is registered, so b may push a's changes.
        try a.acknowledge([])
        _ = try b.merge(with: a)
        try b.edit(id, .set("owner", .string("Lead")))
        // b's outbox: a's 25 changes (merged) and its own one, two replicas.
        var seen: [ChangeID] = []
        var position: ChangeID?
        while true {
            let page = try b.outbox(after: position, limit: 7)
            guard let last = page.last else { break }
            seen += page.map(\.id)
            position = last.id
        }
        #expect(seen.count == 26)
        #expect(Set(seen).count == 26)
        #expect(Set(seen) == Set(try b.outbox(limit: 100).map(\.id)))
    }

    /// A relayed change waits in the outbox until its maker's key is registered on the server
    /// (PROTOCOL.md §6.2): the maker's file says so, or a signed change of the maker comes from
    /// the server. Until then it is listed as waiting, and the replica's own changes still go.
    @Test func relayedChangesWaitForTheirMakersKey() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let a = try makeReplica(dir, "a", practice: "prestatyn")
        let b = try makeReplica(dir, "b", practice: "rhyl")
        let id = try a.create(.risk, edits: [.set("title", .string("Locum cover")), .set("owner", .string("Manager"))])
        _ = try b.merge(with: a)
        try b.edit(id, .set("status", .string("open")))
        let maker = try a.identity().replicaID
        #expect(try b.outbox(limit: 100).map(\.id.replica) == [try b.identity().replicaID])
        #expect(try b.waitingRelays() == [Replica.WaitingRelays(maker: maker, count: 2, unsigned: false)])
        #expect(try b.waitingRelays()[0].sentence.contains("2 changes by replica \(maker) wait for that replica to sync once"))
        // The server sends a signed change of a's: its key is registered there.
        let fromServer = try a.allChanges().filter { $0.id.replica == maker }
        try b.applyPulled(ChangesPage(changes: [fromServer[0]], cursor: Cursor("s1:1"), more: true))
        // That change itself left the outbox (the server has it); the other may now be pushed.
        #expect(try b.waitingRelays().isEmpty)
        #expect(Set(try b.outbox(limit: 100).map(\.id)) == [fromServer[1].id, try b.allChanges().last!.id])
    }

    /// An edit held back as `supersedes-unsynced` goes back in the outbox when a pulled page
    /// brings the other replica's change it superseded, and for nothing else: not the replica's
    /// own changes coming back, not a page of unrelated changes.
    @Test func anEditHeldBackForAnotherReplicasChangeIsReleasedWhenAPullBringsIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        let prestatyn = try makeReplica(dir, "prestatyn", practice: "prestatyn")
        let risk = try rhyl.create(.risk, edits: [.set("title", .string("Flu clinic staffing"))])
        let other = try rhyl.create(.risk, edits: [.set("title", .string("Locum cover"))])
        _ = try prestatyn.merge(with: rhyl)
        let mine = try prestatyn.create(.risk, edits: [.set("title", .string("Estates lease"))])
        try prestatyn.edit(risk, .set("title", .string("Flu clinic staffing, winter")))
        let edit = try #require(try prestatyn.allChanges().last)
        #expect(edit.supersedes.map(\.replica) == [try rhyl.identity().replicaID])
        try prestatyn.holdBack(edit.id, code: .supersedesUnsynced, reason: "waits")
        let rhylsChanges = try rhyl.allChanges()
        // Its own change and rhyl's other risk come back: still held.
        let own = try prestatyn.allChanges().filter { $0.record == mine }
        try prestatyn.applyPulled(ChangesPage(changes: own + rhylsChanges.filter { $0.record == other }, cursor: Cursor("s1:2"), more: true))
        #expect(try prestatyn.heldBack().map(\.change) == [edit.id])
        // The title it superseded comes: released.
        try prestatyn.applyPulled(ChangesPage(changes: rhylsChanges.filter { $0.record == risk }, cursor: Cursor("s1:3"), more: false))
        #expect(try prestatyn.heldBack().isEmpty)
        #expect(try prestatyn.outbox(limit: 100).map(\.id).contains(edit.id))
    }

    /// Every change a replica makes is signed with its own key, which the file keeps.
    @Test func localChangesAreSignedWithTheReplicasKey() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let a = try makeReplica(dir, "a", practice: "prestatyn")
        _ = try a.create(.risk, edits: [.set("title", .string("Locum cover"))])
        let key = try a.publicKey()
        for change in try a.allChanges() {
            #expect(throws: Never.self) { try ChangeSignature.verify(change, key: key) }
        }
        // Another file has another key, and edits made in turn in the two files (the process
        // keeps the key it last made from a seed) are each signed with their own file's.
        let b = try makeReplica(dir, "b", practice: "rhyl")
        #expect(try b.publicKey() != key)
        for n in 0..<3 {
            _ = try b.create(.action, edits: [.set("title", .string("Rota \(n)"))])
            _ = try a.create(.risk, edits: [.set("title", .string("Cover \(n)"))])
        }
        for (replica, replicaKey) in [(a, key), (b, try b.publicKey())] {
            for change in try replica.allChanges() {
                #expect(throws: Never.self) { try ChangeSignature.verify(change, key: replicaKey) }
            }
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.url.appendingPathComponent("a.sqlite").path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    /// A file made before signed changes gets a key when it is next opened, and its own changes
    /// not yet acknowledged by a server are signed with it, so they can still be pushed.
    @Test func aFileFromBeforeSigningGetsAKeyAndSignsItsOutbox() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("old.sqlite")
        do {
            let replica = try makeReplica(dir, "old", practice: "prestatyn")
            _ = try replica.create(.risk, edits: [.set("title", .string("Locum cover"))])
            // Back to the file as the version before wrote it.
            try replica.database.write { db in
                try db.execute(sql: """
                    DROP TABLE signing_key; DROP TABLE replica_key; ALTER TABLE change DROP COLUMN sig;
                    DELETE FROM grdb_migrations WHERE identifier LIKE 'v7 (signing)%';
                    """)
            }
        }
        let reopened = try Replica(path: path)
        let key = try reopened.publicKey()
        let pending = try reopened.outbox(limit: 10)
        #expect(pending.count == 1)
        for change in pending {
            #expect(throws: Never.self) { try ChangeSignature.verify(change, key: key) }
        }
    }

    /// A file whose changes are clustered by record (before migration v11) is re-clustered by
    /// change id when next opened, and reads the same: records, conflicts, history, the outbox,
    /// and an edit that supersedes a write made before.
    @Test func aFileClusteredByRecordIsReclusteredAndReadsTheSame() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path("old.sqlite")
        let risk: RecordID
        let before: (export: JSONValue, conflicts: [RecordConflictSummary], history: [Change], all: [Change], outbox: [Change])
        do {
            let replica = try makeReplica(dir, "old", practice: "prestatyn")
            let other = try makeReplica(dir, "other", practice: "rhyl")
            risk = try replica.create(.risk, edits: [.set("title", .string("Locum cover")), .set("owner", .string("Practice manager"))])
            _ = try other.merge(with: replica)
            _ = try replica.edit(risk, .set("owner", .string("Cluster lead")))
            _ = try other.edit(risk, .set("owner", .string("Pharmacist")))
            _ = try replica.merge(with: other)
            _ = try replica.edit(risk, .set("title", .string("Locum cover, winter")))
            before = (try replica.exportJSON(today: fixedToday), try replica.conflicts(), try replica.history(of: risk),
                      try replica.allChanges(), try replica.outbox(limit: 100))
            #expect(before.conflicts.count == 1)
            // Back to the layout the version before wrote.
            try replica.database.write { db in
                try db.execute(sql: """
                    CREATE TABLE change_by_record (
                        record INTEGER NOT NULL, field TEXT NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL,
                        hlc INTEGER NOT NULL, value TEXT, sup TEXT, seen TEXT, author TEXT, live INTEGER NOT NULL, sig TEXT,
                        PRIMARY KEY (record, field, replica, counter)
                    ) WITHOUT ROWID;
                    INSERT INTO change_by_record SELECT record, field, replica, counter, hlc, value, sup, seen, author, live, sig FROM change;
                    DROP TABLE change;
                    ALTER TABLE change_by_record RENAME TO change;
                    CREATE UNIQUE INDEX change_by_id ON change(replica, counter);
                    DELETE FROM grdb_migrations WHERE identifier LIKE 'v11 (speed)%';
                    """)
            }
        }
        let reopened = try Replica(path: path)
        let layout = try reopened.database.read { db in
            (try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'change'") ?? "",
             Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'change'")))
        }
        #expect(layout.0.contains("PRIMARY KEY (replica, counter)"))
        #expect(layout.1 == ["change_by_field", "change_kept"])
        #expect(try reopened.exportJSON(today: fixedToday) == before.export)
        #expect(try reopened.conflicts() == before.conflicts)
        #expect(try reopened.history(of: risk) == before.history)
        #expect(try reopened.allChanges() == before.all)
        #expect(try reopened.outbox(limit: 100) == before.outbox)
        // Resolving the conflict supersedes both live writes made before the migration.
        _ = try reopened.edit(risk, .set("owner", .string("Cluster lead")))
        #expect(try reopened.conflicts().isEmpty)
        #expect(try reopened.record(risk)?.string("owner") == "Cluster lead")
    }

    @Test func fileSurvivesReopenWithWAL() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let a = try makeReplica(dir, "a", practice: "prestatyn")
        let mode = try a.database.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let ok = try a.database.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(ok == "ok")
    }
}
