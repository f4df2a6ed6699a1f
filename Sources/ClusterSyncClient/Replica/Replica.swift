import ClusterSyncCore
import Foundation
import ClusterSyncStorage
import GRDB

/// A practice's local copy of its cluster's registers: one SQLite file, written through GRDB.
///
/// Every local edit is one transaction that writes the change, updates the materialised state
/// and queues the change in the outbox. Every batch of remote changes is one transaction,
/// checked whole before anything is written, and idempotent.
public final class Replica: Sendable {
    public let database: DatabasePool
    let wallClock: @Sendable () -> Int64

    /// The page size of a replica file this version creates (bytes).
    public static var pageSize: Int { ReplicaSchema.pageSize }

    /// Opens (creating if needed) the replica file at `path` and brings its schema up to date.
    public init(path: String, wallClock: @escaping @Sendable () -> Int64 = Replica.systemMillis) throws {
        database = try DatabaseSetup.openPool(path: path, migrator: ReplicaSchema.migrator, what: "replica",
                                              pageSize: ReplicaSchema.pageSize)
        self.wallClock = wallClock
        Self.protectFile(path)
    }

    public static let systemMillis: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Opens the replica at `path` for use, creating nothing: a path that holds no file, or a file
    /// that was never initialised, is `not-initialised` naming the path. What every command but
    /// `init` opens a replica with, so a typo in a path never leaves an empty file behind.
    public static func openExisting(path: String, wallClock: @escaping @Sendable () -> Int64 = Replica.systemMillis) throws -> Replica {
        let missing = ClusterSyncError(.notInitialised, "no replica at \(path); run `clustersync init`")
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw missing }
        try refuseFolder(path, isFolder.boolValue)
        guard try isInitialisedReplica(path) else {
            // An empty file (a path touched by mistake) holds nothing: as if missing.
            guard holdsBytes(path) else { throw missing }
            throw ClusterSyncError(.notInitialised, "\(path) is not a replica file; `clustersync init` makes one at a new path")
        }
        return try Replica(path: path, wallClock: wallClock)
    }

    /// Whether the file at `path` holds anything: an empty one (a path touched by mistake) is
    /// taken as no file.
    static func holdsBytes(_ path: String) -> Bool {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) > 0
    }

    /// Whether `path` is a replica file with an identity, read without writing: migrating some
    /// other SQLite file (a server's store, say) would add a replica's tables to it. A file
    /// another process is writing (a watch, the app) is waited for, not taken for "no replica";
    /// a file that is not SQLite at all is not a replica.
    static func isInitialisedReplica(_ path: String) throws -> Bool {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        do {
            return try DatabaseSetup.queue(path: path, configuration: configuration).read { db in
                try db.tableExists("identity") && db.tableExists("outbox")
                    && Int.fetchOne(db, sql: "SELECT count(*) FROM identity")! > 0
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            return false
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
            throw ClusterSyncError(.malformed, "\(path) is damaged (\(error.message ?? "SQLite cannot read it")): restore it from a backup (`clustersync restore`)")
        }
    }

    /// Makes a new replica file at `path` for one practice. Checks the names before touching the
    /// disk, refuses a path that already holds a replica, and leaves no file behind when it fails.
    public static func create(
        path: String, tenant: String, cluster: String, practice: String, displayName: String,
        wallClock: @escaping @Sendable () -> Int64 = Replica.systemMillis
    ) throws -> (Replica, ReplicaIdentity) {
        try checkNames(tenant: tenant, cluster: cluster, practice: practice)
        var isFolder: ObjCBool = false
        let existed = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        try refuseFolder(path, isFolder.boolValue)
        // Another SQLite file (a server's store, another program's) would get a replica's tables.
        if existed, holdsBytes(path), !(try isInitialisedReplica(path)) {
            throw ClusterSyncError(.invalidValue, "\(path) is a file that is not a replica; `init` makes a new replica: give a path that holds no file")
        }
        do {
            let replica = try Replica(path: path, wallClock: wallClock)
            return (replica, try replica.initialise(tenant: tenant, cluster: cluster, practice: practice, displayName: displayName))
        } catch {
            if !existed {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
            throw error
        }
    }

    /// A folder given as the replica (the CLI audit: SQLite's "disk I/O error" was said as an
    /// internal error).
    static func refuseFolder(_ path: String, _ isFolder: Bool) throws(ClusterSyncError) {
        guard isFolder else { return }
        throw ClusterSyncError(.invalidValue, "\(path) is a folder, not a replica file: give the replica file's path (like \(path)/clustersync.sqlite)",
                               field: "replica")
    }

    static func checkNames(tenant: String, cluster: String, practice: String) throws(ClusterSyncError) {
        for (kind, name) in [("tenant", tenant), ("cluster", cluster), ("practice", practice)] {
            try PracticeName.check(name, kind)
        }
    }

    public var today: CalendarDate { CalendarDate(unixMillis: wallClock()) }

    // MARK: Identity

    /// Makes this file the replica of one practice. Fails if it already is one.
    @discardableResult
    public func initialise(tenant: String, cluster: String, practice: String, displayName: String) throws -> ReplicaIdentity {
        try Self.checkNames(tenant: tenant, cluster: cluster, practice: practice)
        let displayName = try AuthorName.validated(displayName, field: "name")
        let identity = ReplicaIdentity(replicaID: .random(), tenant: tenant, cluster: cluster, practice: practice, displayName: displayName)
        try database.write { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM identity")! == 0 else {
                throw ClusterSyncError(.invalidValue, "this replica is already initialised; use a new file for another practice")
            }
            try db.execute(sql: """
                INSERT INTO identity (singleton, replica_id, tenant, cluster, practice, display_name, counter, hlc)
                VALUES (1, ?, ?, ?, ?, ?, 0, 0)
                """, arguments: [identity.replicaID.rawValue, tenant, cluster, practice, displayName])
            // The key pair was made when the file was created (its first migration); it is this
            // replica's from now on.
            try db.execute(sql: "INSERT INTO replica_key (replica, public_key) VALUES (?, ?)",
                           arguments: [identity.replicaID.rawValue, Data(try Self.signingKey(db).publicKey.rawRepresentation)])
        }
        return identity
    }

    public func identity() throws -> ReplicaIdentity {
        try database.read { db in try Self.identity(db) }
    }

    /// A writer of this replica's changes, recognising writes superseded before they arrive as
    /// this replica keeps them (by orphan rows, or once it took a snapshot by the stored changes).
    static func changeWriter(_ db: Database) throws -> ChangeWriter {
        let fromSnapshot = try Bool.fetchOne(db.cachedStatement(sql: "SELECT supersessions_in_changes FROM identity")) ?? false
        return try ChangeWriter(db, supersessions: fromSnapshot ? .storedChanges : .orphanRows)
    }

    static func identity(_ db: Database) throws -> ReplicaIdentity {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM identity")) else {
            throw ClusterSyncError(.notInitialised, "this replica is not initialised; run `clustersync init` first")
        }
        return ReplicaIdentity(
            replicaID: try ChangeReader.storedReplicaID(row["replica_id"]), tenant: row["tenant"], cluster: row["cluster"],
            practice: row["practice"], displayName: row["display_name"])
    }

    // MARK: Local edits

    /// Adds a record as a person does, whichever front end they use: with what every new record
    /// of its type gets besides what was typed (`NewRecordDefaults`: a status, a risk's initial
    /// score, the day an interest was declared, a decision's date), refused without a field it needs. Returns its id.
    public func add(_ type: RecordType, private isPrivate: Bool = false, edits typed: [Edit]) throws -> RecordID {
        // A new record has no date to empty: a date given as nothing is left out, and the
        // record takes its defaults as if it had not been given.
        let edits = typed.filter { !$0.emptiesADate(of: type) }
        let all = edits + NewRecordDefaults.edits(for: type, given: edits, today: today,
                                                  meetingDate: { try? self.record($0)?.date("date") })
        try NewRecordDefaults.requireFields(type, in: all)
        return try create(type, private: isPrivate, edits: all)
    }

    /// Creates a record of `type` with exactly the given edits (and what they imply), in one
    /// transaction. Returns its id. A front end adding a record calls `add`.
    public func create(_ type: RecordType, private isPrivate: Bool = false, edits: [Edit]) throws -> RecordID {
        let id = RecordID.random(for: type)
        try database.write { db in
            let scope = try Self.identity(db).scope(private: isPrivate)
            var session = try LocalEditSession(db, wallMillis: wallClock())
            let implied = LocalEditRules.implied(by: edits, type: type, current: nil, today: today)
            for edit in edits + implied { try session.edit(id, scope: scope, edit) }
            try session.finish()
        }
        return id
    }

    /// Applies edits to existing records, in one transaction; returns the changes made.
    ///
    /// The batched form of editing: each record is read once, each change is signed on the
    /// other cores while the rest are planned, and they are written in order in a few batches,
    /// so a thousand edits cost far less than a thousand calls.
    /// Edits whose records a batch reads in one query: twice the run that sets the signers going
    /// (`ChangeSigningPipeline.workerThreshold`).
    static let editsReadTogether = 128

    ///
    /// `unchangedSince`: the record as a form that made `edits` showed it. When a field the
    /// edits write holds other live values inside the write than it held there (a sync, or
    /// another tab, changed it after the form was read), nothing is written and
    /// `ChangedMeanwhile` names the fields: the edit would otherwise write over that value
    /// without a conflict (the web app compared its form with the record outside the write).
    @discardableResult
    public func edit(_ edits: [(RecordID, Edit)], unchangedSince seen: RecordView? = nil) throws -> [Change] {
        try database.write { db in
            if let seen {
                let now = try Self.view(seen.id, db)
                let written = Set(edits.compactMap { $0.0 == seen.id ? $0.1.fieldWritten : nil })
                let changed = written.filter { Set(now?.liveIDs($0) ?? []) != Set(seen.liveIDs($0)) }
                if !changed.isEmpty { throw ChangedMeanwhile(record: seen.id, fields: changed.sorted()) }
            }
            var session = try LocalEditSession(db, wallMillis: wallClock())
            var implied: [(RecordID, Edit)] = []
            var byRecord: [RecordID: [Edit]] = [:]
            var order: [RecordID] = []
            for (id, edit) in edits {
                if byRecord[id] == nil { order.append(id) }
                byRecord[id, default: []].append(edit)
            }
            for id in order {
                let mine = byRecord[id]!
                func meetingDate(_ meeting: RecordID) -> CalendarDate? { (try? session.view(meeting))??.date("date") }
                let current = LocalEditRules.readsCurrent(mine, type: id.type) ? try session.view(id) : nil
                implied += LocalEditRules.implied(by: mine, type: id.type, current: current, today: today, meetingDate: meetingDate).map { (id, $0) }
                implied += try Self.decisionsFollowing(id, edits: mine, current: session.view(id), db,
                                                       dated: Set(byRecord.filter { LocalEditRules.setsDate($0.value) }.keys))
            }
            // Records are read a run of edits at a time: the other cores sign a run's changes
            // while this thread reads the next run's records (MEASUREMENTS.md, twenty-sixth session).
            let all = edits + implied
            for start in stride(from: 0, to: all.count, by: Self.editsReadTogether) {
                let run = all[start..<min(all.count, start + Self.editsReadTogether)]
                try session.preload(run)
                for (id, edit) in run {
                    guard let scope = session.scope(of: id) else {
                        throw ClusterSyncError(.unknownRecord, "no record \(id) in this replica")
                    }
                    try session.edit(id, scope: scope, edit)
                }
            }
            try session.finish()
            return session.made
        }
    }

    /// The decisions that follow a meeting `edits` reschedule (`LocalEditRules.decisionsFollowing`);
    /// `current` (the meeting before the edits) is read only then.
    static func decisionsFollowing(_ id: RecordID, edits: [Edit], current: @autoclosure () throws -> RecordView?,
                                   _ db: Database, dated: Set<RecordID> = []) throws -> [(RecordID, Edit)] {
        guard let day = LocalEditRules.rescheduledDate(of: id.type, by: edits) else { return [] }
        return LocalEditRules.decisionsFollowing(id, from: try current()?.date("date"), to: day,
                                                 decisions: try ChangeReader.views(db, where: "rec.type = 'decision'"), dated: dated)
    }

    /// Fields of a record changed after a form showing it was read (`edit(_:unchangedSince:)`).
    public struct ChangedMeanwhile: Error, Sendable, Equatable {
        public var record: RecordID
        public var fields: [String]
    }

    @discardableResult
    public func edit(_ id: RecordID, _ edits: Edit...) throws -> [Change] {
        try edit(edits.map { (id, $0) })
    }

    static func scope(of id: RecordID, _ db: Database) throws -> RecordScope? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT tenant, cluster, practice FROM record WHERE id = ?"), arguments: [id.rawValue])
            .map { RecordScope(tenant: $0["tenant"], cluster: $0["cluster"], practice: $0["practice"]) }
    }

    // MARK: Reading

    public func record(_ id: RecordID) throws -> RecordView? {
        try database.read { db in try Self.view(id, db) }
    }

    static func view(_ id: RecordID, _ db: Database) throws -> RecordView? {
        try ChangeReader.views(db, where: "rec.id = ?", arguments: [id.rawValue]).first
    }

    /// Records of one type (or all), deleted ones included; items are left to their lists.
    public func records(_ type: RecordType? = nil) throws -> [RecordView] {
        try database.read { db in
            if let type {
                return try ChangeReader.views(db, where: "rec.type = ?", arguments: [type.rawValue])
            }
            return try ChangeReader.views(db, where: "rec.type <> 'item'")
        }
    }

    /// Records of `type` with the live writes of `fields` only, and `deleted` (so `isDeleted`
    /// reads true): what a page listing records by name reads, without their notes or
    /// attendees. A record holding none of `fields` is left out.
    public func records(_ type: RecordType, fields: Set<String>) throws -> [RecordView] {
        try database.read { db in
            try ChangeReader.views(db, where: "rec.type = ?", arguments: [type.rawValue],
                                   fields: fields.union([RecordSchema.deletedField.name]))
        }
    }

    /// Records of `type` (with `fields` only, when given); with `sources`, only those with a live
    /// `source` write naming one of them, found by that write (a meeting's page read a cluster's
    /// 2,000 actions for the few arising from it: fifty-second session). A record in a conflict
    /// over its source is read when any of its values names one; `RecordFilter` decides, so its
    /// `source` is read whatever `fields` says.
    private func records(_ type: RecordType, fields: Set<String>?, sources: Set<RecordID>?) throws -> [RecordView] {
        guard let sources else { return try fields.map { try records(type, fields: $0) } ?? records(type) }
        let named = JSONValue.array(sources.map { .string($0.rawValue) }).canonicalText
        return try database.read { db in
            try ChangeReader.views(db, where: """
                rec.type = ? AND EXISTS (SELECT 1 FROM change s WHERE s.record = rec.num AND s.field = 'source' AND s.live = 1
                                         AND s.value IN (SELECT json_quote(value) FROM json_each(?)))
                """, arguments: [type.rawValue, named], fields: fields?.union([RecordSchema.deletedField.name, "source"]))
        }
    }

    /// A register as people review it: the records of `type` that `filter` keeps, in `order`
    /// (nil: by id), judged against the replica's today. `fields`: only those read
    /// (`records(_:fields:)`), for a page that shows no more of them.
    public func register(_ type: RecordType, filter: RecordFilter = RecordFilter(), order: RecordOrder? = nil,
                         fields: Set<String>? = nil) throws -> [RecordView] {
        let today = today
        var views = try records(type, fields: fields, sources: filter.source).filter { filter.matches($0, today: today) }
        if filter.overdue, type == .terms {
            let governance = GovernanceRecords(try records(.terms))
            views = views.filter { governance.isOverdue($0, today: today) }
        }
        return order?.sorted(views) ?? views
    }

    /// The items of a list in list order, deleted items left out.
    public func items(of list: RecordID) throws -> [RecordView] {
        try database.read { db in try Self.items(of: list, db) }
    }

    /// The deleted items of a list, by id.
    public func deletedItems(of list: RecordID) throws -> [RecordView] {
        try database.read { db in
            try ChangeReader.views(db, where: "rec.parent = ?", arguments: [list.rawValue]).filter(\.isDeleted)
        }
    }

    static func items(of list: RecordID, _ db: Database) throws -> [RecordView] {
        let items = try ChangeReader.views(db, where: "rec.parent = ?", arguments: [list.rawValue])
            .filter { !$0.isDeleted }
        var bySlot: [ChangeID: RecordView] = [:]
        for item in items {
            if let slot = item.writes["position"]?.first?.id { bySlot[slot] = item }
        }
        let order = SequenceOrder.order(slots: try ChangeReader.slots(db, list: list), visible: Set(bySlot.keys))
        return order.map { bySlot[$0]! }
    }

    /// Every change this replica holds, in clock order.
    public func allChanges() throws -> [Change] {
        try database.read { db in try ChangeReader.changes(db) }
    }

    /// The changes of `ids` held here, in clock order.
    func changes(_ ids: Set<ChangeID>) throws -> [Change] {
        guard !ids.isEmpty else { return [] }
        let list = JSONValue.array(ids.map { .array([.string($0.replica.rawValue), .int($0.counter)]) }).canonicalText
        return try database.read { db in
            try ChangeReader.changes(db, where: """
                (r.id, c.counter) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))
                """, arguments: [list])
        }
    }

    /// The changes of one record, in clock order, superseded ones included.
    public func history(of id: RecordID) throws -> [Change] {
        try database.read { db in try ChangeReader.changes(db, where: "rec.id = ?", arguments: [id.rawValue]) }
    }

    /// Every record with open conflicts (deleted ones included: an edit against a delete is one),
    /// sorted by id, each list item with its list.
    public func conflicts() throws -> [RecordConflictSummary] {
        try database.read { db in try ChangeReader.conflicts(db, where: "1") }
    }

    /// How many conflicts are open, list positions included, and in how many records: the
    /// figures `status`, `conflicts` and the web app give.
    public func conflictCounts() throws -> (conflicts: Int, records: Int) {
        let summaries = try conflicts()
        return (summaries.reduce(0) { $0 + $1.conflicts.count }, summaries.count)
    }

    /// For each position slot ever written for the items of `list`, the item it places: what a
    /// position value `{"after": slot}` names.
    public func slotOwners(inList list: RecordID) throws -> [ChangeID: RecordID] {
        try database.read { db in try ChangeReader.slotOwners(db, list: list) }
    }

    public func changeIDs() throws -> Set<ChangeID> {
        try database.read { db in
            var ids = Set<ChangeID>()
            let rows = try Row.fetchCursor(db, sql: "SELECT r.id, c.counter FROM change c JOIN replica r ON r.num = c.replica")
            while let row = try rows.next() {
                ids.insert(ChangeID(replica: try ChangeReader.storedReplicaID(row[0]), counter: row[1]))
            }
            return ids
        }
    }

    /// Changes waiting for a server to acknowledge them.
    public func pendingCount() throws -> Int {
        try database.read { db in try Self.pendingCount(db) }
    }

    static func pendingCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM outbox"))!
    }
}
