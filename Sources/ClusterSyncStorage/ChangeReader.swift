import ClusterSyncCore
import GRDB

/// Reads stored changes and record views back out of the replica file.
public enum ChangeReader {
    public static let changeColumns = """
        r.id AS replicaID, c.counter, c.hlc, rec.id AS recordID, rec.tenant, rec.cluster, rec.practice,
        c.field, c.value, c.sup, c.seen, c.author, c.sig
        """
    public static let changeJoins = "JOIN replica r ON r.num = c.replica JOIN record rec ON rec.num = c.record"

    public static func change(_ row: Row) throws -> Change {
        try change(replica: row["replicaID"], counter: row["counter"], hlc: row["hlc"], record: row["recordID"],
                   scope: RecordScope(tenant: row["tenant"], cluster: row["cluster"], practice: row["practice"]),
                   field: row["field"], value: row["value"], sup: row["sup"], seen: row["seen"], author: row["author"], sig: row["sig"])
    }

    /// A replica id as a file stores it; a file altered outside ClusterSync (or damaged) may
    /// hold anything, which is an error naming it, not a crash.
    public static func storedReplicaID(_ text: String?) throws(ClusterSyncError) -> ReplicaID {
        guard let text, let id = ReplicaID(text) else { throw damaged("replica id", text) }
        return id
    }

    /// A record id as a file stores it (see `storedReplicaID`).
    public static func storedRecordID(_ text: String?) throws(ClusterSyncError) -> RecordID {
        guard let text, let id = RecordID(text) else { throw damaged("record id", text) }
        return id
    }

    static func damaged(_ what: String, _ text: String?) -> ClusterSyncError {
        let shown = text.map { $0.count > 40 ? "\($0.prefix(40))…" : $0 }.map { "\"\($0)\"" } ?? "nothing"
        return ClusterSyncError(.malformed, "the file holds \(shown) where a \(what) should be: it was altered outside ClusterSync or is damaged; restore it from a backup")
    }

    /// A change from the columns of a stored change row, as every store keeps them (the
    /// PostgreSQL server store reads its own copy of these rows).
    public static func change(
        replica: String, counter: Int64, hlc: Int64, record: String, scope: RecordScope, field: String,
        value: String?, sup: String?, seen: String?, author: String?, sig: String?
    ) throws -> Change {
        Change(
            id: ChangeID(replica: try storedReplicaID(replica), counter: counter),
            hlc: HLCTimestamp(packed: hlc),
            record: try storedRecordID(record),
            scope: scope,
            field: field,
            value: try value.map { try JSONValue(parsing: $0) },
            supersedes: ChangeWriter.parseIDList(sup),
            seen: ChangeWriter.parseIDList(seen),
            author: author, sig: sig)
    }

    /// The statement `changes(…)` runs (tests read its query plan).
    public static func changesSQL(from source: String = "change c", where condition: String = "1",
                                  orderBy: String = "c.hlc, r.id, c.counter", limit: Int? = nil) -> String {
        """
        SELECT \(changeColumns) FROM \(source) \(changeJoins) WHERE \(condition) ORDER BY \(orderBy)
        \(limit.map { "LIMIT \($0)" } ?? "")
        """
    }

    /// Changes in clock order; `from` may join other tables to `change c`, and `orderBy` may
    /// replace the clock order with one an index serves (with `limit`, so a page costs its size).
    ///
    /// `cached`: the statement is kept prepared on the connection, for a query run on every
    /// sync (preparing this join cost more than running it on an empty outbox); never for SQL
    /// that varies with its arguments (an `IN` list), which would fill the cache.
    public static func changes(
        _ db: Database, from source: String = "change c", where condition: String = "1", arguments: StatementArguments = [],
        orderBy: String = "c.hlc, r.id, c.counter", limit: Int? = nil, cached: Bool = false
    ) throws -> [Change] {
        try changes(db, sql: changesSQL(from: source, where: condition, orderBy: orderBy, limit: limit), arguments: arguments, cached: cached)
    }

    /// Changes read by a statement of `changesSQL(…)`.
    public static func changes(_ db: Database, sql: String, arguments: StatementArguments = [], cached: Bool = false) throws -> [Change] {
        let statement = cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        var result: [Change] = []
        while let row = try rows.next() { result.append(try change(row)) }
        return result
    }

    public static func liveWrite(_ row: Row) throws -> FieldWrite {
        FieldWrite(
            id: ChangeID(replica: try storedReplicaID(row["replicaID"]), counter: row["counter"]),
            hlc: HLCTimestamp(packed: row["hlc"]),
            field: row["field"],
            value: try JSONValue(parsing: row["value"] as String),
            author: row["author"],
            seen: ChangeWriter.parseIDList(row["seen"]))
    }

    /// Record views for the records selected by `condition` on `rec`, sorted by id.
    ///
    /// The hot read of every register page and list: one query, columns read by position,
    /// replica ids interned once per read, a record's scope read once per record, and each
    /// distinct structured value (a score, a note) decoded once (see `LiveWriteReader`).
    ///
    /// `fields`: only the live writes of these fields (nil: every field); a record holding none
    /// of them is left out, unless `everyRecord`: then it comes with all its live writes, so
    /// that whether it exists still reads true (the roll-up counts a risk written with a title
    /// only as open). A page offering a register's records as link choices reads their
    /// names and dates, not every action's notes (web app scale audit: a meeting's page read
    /// 2,000 actions whole, twice).
    public static func views(_ db: Database, where condition: String, arguments: StatementArguments = [],
                             fields: Set<String>? = nil, everyRecord: Bool = false) throws -> [RecordView] {
        // Bound last, after the condition's own positional arguments (`?1` would number them
        // from the start of the statement, not after them).
        let onlyFields = fields.map(fieldList)
        let chosen = "c.field IN (SELECT value FROM json_each(?))"
        let kept = onlyFields == nil ? "" : everyRecord
            ? " AND (\(chosen) OR NOT EXISTS (SELECT 1 FROM change h WHERE h.record = rec.num AND h.live = 1 AND h.field IN (SELECT value FROM json_each(?))))"
            : " AND \(chosen)"
        return try records(db, sql: """
            SELECT rec.num, rec.id, rec.tenant, rec.cluster, rec.practice,
                   c.replica, c.counter, c.hlc, c.field, c.value, c.author, c.seen
            FROM record rec
            JOIN change c ON c.record = rec.num AND c.live = 1
            WHERE (\(condition))\(kept)
            ORDER BY rec.id
            """, arguments: onlyFields.map { arguments + (everyRecord ? [$0, $0] : [$0]) } ?? arguments).compactMap(\.view)
    }

    /// A record held here: its number, its scope, and its live writes as a view (nil when it
    /// has none, or none of the fields read).
    public struct HeldRecord: Sendable {
        public var id: RecordID
        public var number: Int64
        public var scope: RecordScope
        public var view: RecordView?
    }

    /// The records of `ids` held here, with the live writes of `fields` only (nil: every field),
    /// in one query: a batch of local edits reads its records' numbers and what its edits plan
    /// against together.
    public static func held(_ db: Database, ids: some Collection<RecordID>, fields: Set<String>?) throws -> [HeldRecord] {
        let list = JSONValue.array(ids.map { .string($0.rawValue) }).canonicalText
        let onlyFields = fields.map(fieldList)
        return try records(db, sql: """
            SELECT rec.num, rec.id, rec.tenant, rec.cluster, rec.practice,
                   c.replica, c.counter, c.hlc, c.field, c.value, c.author, c.seen
            FROM record rec
            LEFT JOIN change c ON c.record = rec.num AND c.live = 1
                \(onlyFields == nil ? "" : "AND c.field IN (SELECT value FROM json_each(?2))")
            WHERE rec.id IN (SELECT value FROM json_each(?1))
            ORDER BY rec.id
            """, arguments: onlyFields.map { [list, $0] } ?? [list])
    }

    /// Field names as the JSON array `json_each` reads, in one order (one statement per set).
    private static func fieldList(_ fields: Set<String>) -> String {
        JSONValue.array(fields.sorted().map(JSONValue.string)).canonicalText
    }

    /// Reads rows of `rec.num, rec.id, rec.tenant, rec.cluster, rec.practice` and a live
    /// write's columns (NULL after a LEFT JOIN that found none), sorted by record.
    private static func records(_ db: Database, sql: String, arguments: StatementArguments) throws -> [HeldRecord] {
        var reader = LiveWriteReader(db)
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        var records: [HeldRecord] = []
        var current: HeldRecord?
        var writes: [FieldWrite] = []
        func finish() {
            if var current {
                if !writes.isEmpty { current.view = RecordView(id: current.id, scope: current.scope, liveWrites: writes) }
                records.append(current)
            }
            writes.removeAll(keepingCapacity: true)
        }
        while let row = try rows.next() {
            let num: Int64 = row[0]
            if current?.number != num {
                finish()
                current = HeldRecord(id: try ChangeReader.storedRecordID(row[1]), number: num,
                                     scope: RecordScope(tenant: row[2], cluster: row[3], practice: row[4]), view: nil)
            }
            if !row.hasNull(atIndex: 5) { writes.append(try reader.write(row, from: 5)) }
        }
        finish()
        return records
    }

    /// Turns `replica, counter, hlc, field, value, author, seen` columns into live writes for
    /// one read: each replica number is looked up once, and values that
    /// are not plain strings, numbers or flags (scores, notes, attendees) are decoded once per
    /// distinct text, since a register repeats them (3,000 risks hold about 25 distinct scores).
    struct LiveWriteReader {
        private let db: Database
        private var replicas: [Int64: ReplicaID] = [:]
        private var structured: [String: JSONValue] = [:]

        init(_ db: Database) {
            self.db = db
        }

        mutating func write(_ row: Row, from first: Int) throws -> FieldWrite {
            let text: String = row[first + 4]
            return FieldWrite(
                id: ChangeID(replica: try replica(row[first]), counter: row[first + 1]),
                hlc: HLCTimestamp(packed: row[first + 2]),
                field: row[first + 3],
                value: try value(text),
                author: row[first + 5],
                seen: ChangeWriter.parseIDList(row[first + 6]))
        }

        mutating func replica(_ num: Int64) throws -> ReplicaID {
            if let known = replicas[num] { return known }
            let text = try String.fetchOne(db.cachedStatement(sql: "SELECT id FROM replica WHERE num = ?"), arguments: [num]) ?? ""
            let id = try ChangeReader.storedReplicaID(text)
            replicas[num] = id
            return id
        }

        mutating func value(_ text: String) throws -> JSONValue {
            guard let lead = text.utf8.first, lead == UInt8(ascii: "{") || lead == UInt8(ascii: "[") else {
                return try JSONValue(parsing: text)
            }
            if let known = structured[text] { return known }
            let value = try JSONValue(parsing: text)
            structured[text] = value
            return value
        }
    }

    /// The fields whose live writes are many by design (a set's members, a log's notes): never
    /// in conflict (`RecordView.conflicts`), so no reason to read a record whole. Every action
    /// with two notes and every meeting with attendees was read, 1–2 s after each change at a
    /// cluster's size, to find no conflict (the web app scale audit, forty-ninth session).
    static let manyLiveWritesFields = RecordType.allCases.flatMap { type in
        type.schema.fields.filter { $0.kind.cardinality != .register }.map { "('\(type.rawValue)', '\($0.name)')" }
    }.joined(separator: ", ")

    /// The records selected by `condition` on `rec` that have open conflicts, sorted by id, each
    /// list item with its list (read only if it lies in the item's tenant and cluster, and is
    /// shared or the item's practice's own). Reads whole only the records that can be in
    /// conflict: those with a field other than `manyLiveWritesFields` holding several live
    /// writes, or a live delete.
    public static func conflicts(_ db: Database, where condition: String, arguments: StatementArguments = []) throws -> [RecordConflictSummary] {
        let candidates = try Int64.fetchAll(db, sql: """
            SELECT DISTINCT record FROM (
                SELECT c.record FROM record rec JOIN change c ON c.record = rec.num AND c.live = 1
                WHERE (\(condition)) AND (rec.type, c.field) NOT IN (VALUES \(manyLiveWritesFields))
                GROUP BY c.record, c.field
                HAVING count(*) > 1 OR (c.field = 'deleted' AND max(c.value) = 'true'))
            """, arguments: arguments)
        guard !candidates.isEmpty else { return [] }
        // Record numbers are integers read from the file: safe to write into the statement.
        let views = try self.views(db, where: "rec.num IN (\(candidates.map(String.init).joined(separator: ",")))")
            .filter { !$0.conflicts.isEmpty }
        let listIDs = Set(views.filter { $0.type == .item }.compactMap { $0.string("list") })
        // A server store holds lists of several tenants and clusters, whose ids may be the same:
        // an item's list is the one of its own tenant and cluster.
        var lists: [String: [RecordView]] = [:]
        if !listIDs.isEmpty {
            let sorted = listIDs.sorted()
            let found = try self.views(
                db, where: "rec.type = 'list' AND rec.id IN (\(sorted.map { _ in "?" }.joined(separator: ",")))",
                arguments: StatementArguments(sorted))
            for list in found { lists[list.id.rawValue, default: []].append(list) }
        }
        return views.map { view in
            let list = view.string("list").flatMap { id in
                lists[id]?.first { $0.scope.tenant == view.scope.tenant && $0.scope.cluster == view.scope.cluster }
            }.flatMap { list -> RecordView? in
                let a = list.scope, b = view.scope
                return a.tenant == b.tenant && a.cluster == b.cluster && (a.practice == nil || a.practice == b.practice) ? list : nil
            }
            return RecordConflictSummary(record: view, list: view.type == .item ? list : nil)
        }
    }

    /// For each position slot ever written for the items of `list` (live or not), the item it places.
    public static func slotOwners(_ db: Database, list: RecordID) throws -> [ChangeID: RecordID] {
        var owners: [ChangeID: RecordID] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT r.id AS replicaID, c.counter, rec.id AS recordID
            FROM record rec JOIN change c ON c.record = rec.num AND c.field = 'position' AND c.value IS NOT NULL
            JOIN replica r ON r.num = c.replica
            WHERE rec.parent = ?
            """, arguments: [list.rawValue]) {
            owners[ChangeID(replica: try storedReplicaID(row["replicaID"]), counter: row["counter"])] = try storedRecordID(row["recordID"])
        }
        return owners
    }

    /// Every position slot ever written for the items of `list`, live or not.
    public static func slots(_ db: Database, list: RecordID) throws -> [SequenceOrder.Slot] {
        try Row.fetchAll(db, sql: """
            SELECT r.id AS replicaID, c.counter, c.hlc, c.field, c.value, c.author, c.seen
            FROM record rec JOIN change c ON c.record = rec.num AND c.field = 'position' AND c.value IS NOT NULL
            JOIN replica r ON r.num = c.replica
            WHERE rec.parent = ?
            """, arguments: [list.rawValue]).compactMap { SequenceOrder.Slot(try liveWrite($0)) }
    }
}
