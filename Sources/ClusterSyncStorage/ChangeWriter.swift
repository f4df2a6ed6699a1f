import ClusterSyncCore
import GRDB
import GRDBSQLite

/// Applies changes inside one write transaction: the SQLite form of `FieldWrites.apply`.
///
/// Lives for one transaction and caches the interned replica and record numbers it has looked
/// up, so a batch of changes to few records costs about one insert and one update per change.
public struct ChangeWriter {
    public let db: Database
    /// Where record and replica ids are looked up: nil in a replica, which holds one cluster;
    /// the tenant and cluster of the changes in the server store, which keys those ids by them
    /// (every change of one writer must be of that tenant and cluster).
    public let partition: Partition?

    public struct Partition: Sendable, Hashable {
        public var tenant: String
        public var cluster: String

        public init(tenant: String, cluster: String) {
            self.tenant = tenant
            self.cluster = cluster
        }
    }

    /// How a write superseded before it arrived is recognised when it does arrive.
    public enum Supersessions: Sendable {
        /// By a row in `orphan_supersede`, written when the superseding change arrived first:
        /// the server's store (whose compaction drops superseded changes) and a replica that
        /// replayed its history, where most writes a change supersedes are already here.
        case orphanRows
        /// By the `sup` of the stored changes of the arriving write's record and field: a
        /// replica that took a snapshot, whose every change names a write it has not got and
        /// almost never will (a row for each cost more than the change). A replica drops no
        /// single change, so what the stored changes name is there to read. Orphan rows
        /// already stored still count.
        case storedChanges
    }

    public let supersessions: Supersessions
    private var replicaNumbers: [ReplicaID: Int64] = [:]
    private var records: [RecordID: StoredRecord] = [:]
    /// Records `storedScope(of:)` looked up and did not find: `recordNumber` creates them
    /// without looking again (every record of a snapshot is new).
    private var absentRecords: Set<RecordID> = []
    /// Whether any write is known superseded before its arrival; read once per transaction.
    private var orphansExist: Bool?
    /// Whether any redaction is stored; read once per transaction.
    private var redactionsExist: Bool?
    /// The values this writer erased (Protocol/changes.md §10): changes written already erased
    /// because a redaction names them, and stored changes a new redaction erased. A store with
    /// other copies of changes (the server's log, a replica's set-aside changes) erases those.
    public private(set) var erased: [(change: ChangeID, by: ChangeID)] = []
    // Prepared once per transaction: GRDB's statement cache hashes the SQL text on every use.
    /// Three forms of one insert: live unless an earlier orphan supersession names it
    /// (checked only when such orphans exist, or always with `.storedChanges`), or dead because
    /// the batch supersedes it.
    private let insertChecked: BoundStatement
    private let insertLive: BoundStatement
    private let insertDead: BoundStatement
    private let kill: BoundStatement
    private let orphan: BoundStatement
    /// Each change's text columns, written here and bound where they lie: reused from change
    /// to change, so a batch makes no `String` for each and SQLite no copy.
    private var text = RunText()

    public init(_ db: Database, partition: Partition? = nil, supersessions: Supersessions = .orphanRows) throws {
        self.db = db
        self.partition = partition
        self.supersessions = supersessions
        // ?11 (`.storedChanges` only): the arriving change's id as a `sup` list writes it.
        let namedByStoredChange = supersessions == .orphanRows ? "" : """
                     WHEN EXISTS (SELECT 1 FROM change s WHERE s.record = ?4 AND s.field = ?5 AND s.sup IS NOT NULL
                                  AND instr(',' || s.sup || ',', ',' || ?11 || ',') > 0) THEN 0
            """
        let columns = "INSERT INTO change (replica, counter, hlc, record, field, value, sup, seen, author, sig, live)"
        insertChecked = try BoundStatement(db, sql: """
            \(columns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,
                CASE WHEN ?6 IS NULL THEN 0
                     WHEN EXISTS (SELECT 1 FROM orphan_supersede
                                  WHERE replica = ?1 AND counter = ?2 AND record = ?4 AND field = ?5) THEN 0
            \(namedByStoredChange)
                     ELSE 1 END)
            ON CONFLICT DO NOTHING
            """)
        insertLive = try BoundStatement(db, sql: """
            \(columns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?6 IS NOT NULL) ON CONFLICT DO NOTHING
            """)
        insertDead = try BoundStatement(db, sql: "\(columns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0) ON CONFLICT DO NOTHING")
        kill = try BoundStatement(db, sql: "UPDATE change SET live = 0 WHERE record = ? AND field = ? AND replica = ? AND counter = ?")
        orphan = try BoundStatement(db, sql: """
            INSERT OR IGNORE INTO orphan_supersede (replica, counter, record, field) VALUES (?, ?, ?, ?)
            """)
    }

    /// Applies one change; returns false if it was already here.
    public mutating func apply(_ change: Change) throws -> Bool {
        try apply([change])[0]
    }

    /// Applies a batch; returns, for each change, whether it was new here.
    ///
    /// A write superseded by another change of the same batch is stored dead straight away and
    /// needs no update afterwards: on a long sync most supersessions fall inside one batch, and
    /// this halves the statements per change.
    public mutating func apply(_ batch: [Change]) throws -> [Bool] {
        let batch = try erasingRedacted(batch)
        // Where each id first is in the batch (a later copy of it is a duplicate), and which
        // places a change of the batch supersedes: flags by place, not sets of ids, which cost
        // a quarter of applying a long pull (MEASUREMENTS.md, twenty-ninth session).
        let places = BatchPlaces(batch)
        var deadOnArrival = [Bool](repeating: false, count: batch.count)
        for index in batch.indices {
            for id in batch[index].supersedes {
                if let other = places.place(of: id), batch[other].record == batch[index].record, batch[other].field == batch[index].field {
                    deadOnArrival[other] = true
                }
            }
        }
        if orphansExist == nil, supersessions == .orphanRows {
            orphansExist = try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM orphan_supersede)"))!
        }

        var isNew: [Bool] = []
        isNew.reserveCapacity(batch.count)
        var records: [Int64] = []
        records.reserveCapacity(batch.count)
        for index in batch.indices {
            let inserted = try insert(batch[index], dead: deadOnArrival[index])
            records.append(inserted.record)
            isNew.append(inserted.isNew)
        }
        for index in batch.indices where isNew[index] {
            // Written dead just now: nothing to kill.
            try supersede(batch[index], record: records[index]) { id in
                places.place(of: id).map { deadOnArrival[$0] && isNew[$0] } ?? false
            }
        }
        return isNew
    }

    /// Inserts `change` (dead when the batch supersedes it); returns its record's number and
    /// whether it was new here.
    private mutating func insert(_ change: Change, dead: Bool) throws -> (record: Int64, isNew: Bool) {
        let replica = try replicaNumber(change.id.replica)
        let record = try recordNumber(change.record, scope: change.scope)
        // A redaction is history only: it never shows as a field's value.
        let statement = dead || change.field == Redaction.field ? insertDead
            : supersessions == .storedChanges || orphansExist == true ? insertChecked : insertLive
        let namesItself = supersessions == .storedChanges && !dead && change.field != Redaction.field
        text.removeAll()
        let field = text.append(change.field)
        let value = change.value.map { value in text.append { value.writeCanonical(into: &$0) } }
        let supersedes = change.supersedes.isEmpty ? nil : text.append { ChangeID.writeList(change.supersedes, into: &$0) }
        let seen = change.seen.isEmpty ? nil : text.append { ChangeID.writeList(change.seen, into: &$0) }
        let author = change.author.map { text.append($0) }
        let sig = change.sig.map { text.append($0) }
        // `insertChecked`'s own id, as a stored change's `sup` names it.
        let ownID = namesItself ? text.append { change.id.writeText(into: &$0) } : nil
        let inserted = try statement.run(text: text) { row in
            row.bind(1, replica)
            row.bind(2, change.id.counter)
            row.bind(3, change.hlc.packed)
            row.bind(4, record)
            row.bind(5, in: field)
            row.bind(6, in: value)
            row.bind(7, in: supersedes)
            row.bind(8, in: seen)
            row.bind(9, in: author)
            row.bind(10, in: sig)
            if let ownID { row.bind(11, in: ownID) }
        }
        return (record, inserted == 1)
    }

    /// What a newly stored `change` does to others: kills the writes it supersedes (but those
    /// `writtenDead`) or notes them as orphans, sets an item's list, and applies a redaction.
    private mutating func supersede(_ change: Change, record: Int64, writtenDead: (ChangeID) -> Bool) throws {
        for id in change.supersedes where !writtenDead(id) {
            let target = try replicaNumber(id.replica)
            text.removeAll()
            let field = text.append(change.field)
            let killed = try kill.run(text: text) { row in
                row.bind(1, record)
                row.bind(2, in: field)
                row.bind(3, target)
                row.bind(4, id.counter)
            }
            if killed == 0, supersessions == .orphanRows {
                try orphan.run(.int(target), .int(id.counter), .int(record), .text(change.field))
                orphansExist = true
            }
        }
        if change.field == "list", change.recordType == .item, let list = change.value?.stringValue {
            try db.execute(sql: "UPDATE record SET parent = ? WHERE num = ? AND parent IS NULL", arguments: [list, record])
        }
        if let request = Redaction.request(of: change) {
            try redact(request, by: change, record: record)
        }
    }

    /// The batch with the values of changes a redaction names (stored, or in the batch) erased.
    private mutating func erasingRedacted(_ batch: [Change]) throws -> [Change] {
        var requested: [ChangeID: Change] = [:]
        for index in batch.indices where batch[index].field == Redaction.field {
            if let request = Redaction.request(of: batch[index]), requested[request.change] == nil { requested[request.change] = batch[index] }
        }
        if redactionsExist == nil {
            // A file not yet migrated to hold redactions (a test writing an old schema) has none.
            redactionsExist = try db.tableExists("redaction")
                && Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM redaction)"))!
        }
        guard !requested.isEmpty || redactionsExist == true else { return batch }
        var result = batch
        for index in result.indices where result[index].value != nil && !Redaction.isMarker(result[index].value) {
            let change = result[index]
            var by: ChangeID?
            if let redaction = requested[change.id], let request = Redaction.request(of: redaction),
               redaction.record == change.record, request.field == change.field {
                by = redaction.id
            } else if redactionsExist == true {
                by = try Self.storedRedaction(of: change, db)
            }
            if let by {
                result[index] = Redaction.erased(change, by: by)
                erased.append((change.id, by))
            }
        }
        return result
    }

    /// The redaction stored for a change, if it names the change's record and field.
    public static func storedRedaction(of change: Change, _ db: Database) throws -> ChangeID? {
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT record, field, by FROM redaction WHERE tenant = ? AND cluster = ? AND change = ?"),
                                   arguments: [change.scope.tenant, change.scope.cluster, change.id.description])
        guard let row, row["record"] == change.record.rawValue, row["field"] == change.field else { return nil }
        return ChangeID(row["by"] as String)
    }

    /// Records a redaction and erases the value of the change it names, if held here.
    private mutating func redact(_ request: Redaction.Request, by redaction: Change, record: Int64) throws {
        try db.execute(sql: """
            INSERT INTO redaction (tenant, cluster, change, record, field, by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """, arguments: [redaction.scope.tenant, redaction.scope.cluster, request.change.description,
                              redaction.record.rawValue, request.field, redaction.id.description])
        redactionsExist = true
        let target = try replicaNumber(request.change.replica)
        try db.execute(sql: """
            UPDATE change SET value = ? WHERE record = ? AND field = ? AND replica = ? AND counter = ?
                AND value IS NOT NULL AND value NOT LIKE '{"redacted":%'
            """, arguments: [Redaction.marker(by: redaction.id).canonicalText, record, request.field, target, request.change.counter])
        if db.changesCount == 1 { erased.append((request.change, redaction.id)) }
    }

    public mutating func replicaNumber(_ id: ReplicaID) throws -> Int64 {
        if let num = replicaNumbers[id] { return num }
        let num: Int64
        if let partition {
            let select = try db.cachedStatement(sql: "SELECT num FROM replica WHERE tenant = ? AND cluster = ? AND id = ?")
            if let existing = try Int64.fetchOne(select, arguments: [partition.tenant, partition.cluster, id.rawValue]) {
                num = existing
            } else {
                try BoundStatement(db, sql: "INSERT INTO replica (tenant, cluster, id) VALUES (?, ?, ?)")
                    .run(.text(partition.tenant), .text(partition.cluster), .text(id.rawValue))
                num = db.lastInsertedRowID
            }
        } else if let existing = try Int64.fetchOne(db.cachedStatement(sql: "SELECT num FROM replica WHERE id = ?"), arguments: [id.rawValue]) {
            num = existing
        } else {
            try BoundStatement(db, sql: "INSERT INTO replica (id) VALUES (?)").run(.text(id.rawValue))
            num = db.lastInsertedRowID
        }
        replicaNumbers[id] = num
        return num
    }

    /// A stored record's number and the scope it was created in.
    public struct StoredRecord: Sendable {
        public var number: Int64
        public var scope: RecordScope

        public init(number: Int64, scope: RecordScope) {
            self.number = number
            self.scope = scope
        }
    }

    /// Takes a record its caller has just read from this writer's transaction (a batch of local
    /// edits reads its records' scopes first), so that `recordNumber` does not look it up again.
    public mutating func remember(_ id: RecordID, _ record: StoredRecord) {
        records[id] = record
        absentRecords.remove(id)
    }

    /// The scope a stored record was created in; nil when it is not stored (yet). Looked up once
    /// per writer: what this finds, or does not, `recordNumber` uses without a second lookup.
    public mutating func storedScope(of id: RecordID) throws -> RecordScope? {
        if let known = records[id] { return known.scope }
        if absentRecords.contains(id) { return nil }
        if let found = try lookUp(id) {
            records[id] = found
            return found.scope
        }
        absentRecords.insert(id)
        return nil
    }

    /// The record's number, creating its row on first sight. A change that claims another scope
    /// than the record was created in is refused: scope is fixed at creation.
    public mutating func recordNumber(_ id: RecordID, scope: RecordScope) throws -> Int64 {
        if let known = records[id] {
            guard known.scope == scope else { throw Self.scopeMismatch(id) }
            return known.number
        }
        if absentRecords.remove(id) == nil, let found = try lookUp(id) {
            guard found.scope == scope else { throw Self.scopeMismatch(id) }
            records[id] = found
            return found.number
        }
        // A prepared statement: every record of a snapshot (or of a new replica's first pull) is new.
        try BoundStatement(db, sql: "INSERT INTO record (id, type, tenant, cluster, practice) VALUES (?, ?, ?, ?, ?)")
            .run(.text(id.rawValue), .text(id.type.rawValue), .text(scope.tenant), .text(scope.cluster), .optional(scope.practice))
        let num = db.lastInsertedRowID
        records[id] = StoredRecord(number: num, scope: scope)
        return num
    }

    /// The stored record's number and scope, in this writer's partition. Read through SQLite's
    /// own calls: a snapshot looks up every record it brings, and a GRDB row costs more than
    /// the lookup.
    private func lookUp(_ id: RecordID) throws -> StoredRecord? {
        let found = if let partition {
            try BoundStatement(db, sql: "SELECT num, tenant, cluster, practice FROM record WHERE tenant = ? AND cluster = ? AND id = ?")
                .firstRow(.text(partition.tenant), .text(partition.cluster), .text(id.rawValue), read: Self.numberAndScope)
        } else {
            try BoundStatement(db, sql: "SELECT num, tenant, cluster, practice FROM record WHERE id = ?")
                .firstRow(.text(id.rawValue), read: Self.numberAndScope)
        }
        guard let found else { return nil }
        guard let scope = found.scope else {
            throw ClusterSyncError(.internal, "the stored record \(id) has no tenant or cluster")
        }
        return StoredRecord(number: found.num, scope: scope)
    }

    private static func numberAndScope(_ row: OpaquePointer) -> (num: Int64, scope: RecordScope?) {
        let num = sqlite3_column_int64(row, 0)
        guard let tenant = BoundStatement.text(row, 1), let cluster = BoundStatement.text(row, 2) else { return (num, nil) }
        return (num, RecordScope(tenant: tenant, cluster: cluster, practice: BoundStatement.text(row, 3)))
    }

    static func scopeMismatch(_ id: RecordID) -> ClusterSyncError {
        ClusterSyncError(.forbiddenScope, "a change to \(id) names another tenant, cluster or practice than the record was created in")
    }

    public static func parseIDList(_ text: String?) -> [ChangeID] {
        guard let text, !text.isEmpty else { return [] }
        return ChangeID.list(text)
    }
}
