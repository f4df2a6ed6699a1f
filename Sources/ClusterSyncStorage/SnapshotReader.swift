import ClusterSyncCore
import GRDB

/// Reads the materialised state a snapshot carries (Protocol/PROTOCOL.md §5.7), the same in
/// every store that keeps the shared materialised tables: every live write, every position
/// write (live or not: a list's order reads superseded slots too) and every redaction, of the
/// records of one tenant and cluster that a practice may see (shared, or its own private ones).
///
/// Paged by row in (record id, field, replica number, counter) order, which the record table's
/// (tenant, cluster, id) key and the change table's primary key serve: a page costs its size,
/// and a snapshot of a cluster is one pass over its records however many pages it takes.
public enum SnapshotReader {
    public struct Page: Sendable {
        public var changes: [Change]
        /// With `asText`: each change's canonical text instead (`changes` is then empty).
        public var texts: [String] = []
        /// The last row read, for the next page's cursor; nil when the page is empty.
        public var last: (record: RecordID, field: String, replica: Int64, counter: Int64)?
        public var more: Bool
    }

    /// Rows that rebuild the state: what a replica that replayed every change holds live, plus
    /// what it needs besides (slots and redactions). Also what compaction keeps, and what the
    /// PostgreSQL server store copies into its own tables (one rule for every store).
    ///
    /// Written with `IN`, never `c.field = 'position'`: the change table's `change_kept` index
    /// has this WHERE, and SQLite compiles a statement that binds `field = ?` against every
    /// `field = <constant>` of a partial index's WHERE again at each new binding (it checks
    /// whether the bound value makes the index usable), which made every write of a change four
    /// times slower. `MaterialisedStateSchema.clusterChangesByID` writes the same terms.
    public static let kept = "(c.live = 1 OR (c.field IN ('position', '\(Redaction.field)') AND (c.value IS NOT NULL OR c.field = '\(Redaction.field)')))"

    /// At most `limit` rows after `after` (nil: from the first record), and at most
    /// `PageBudget.maxBytes` of their text (the first row whatever its length). `asText`: each row as
    /// its change's canonical text, written from the columns without decoding the change (what a
    /// server sends; the bytes `ChangeReader.change(row).jsonText` would be).
    public static func page(
        _ db: Database, tenant: String, cluster: String, practice: String,
        after: SnapshotCursor?, limit: Int, asText: Bool = false
    ) throws -> Page {
        var arguments: StatementArguments = [tenant, cluster, practice]
        if let after {
            arguments += [after.record.rawValue, after.record.rawValue, after.record.rawValue, after.field, after.replica, after.counter]
        }
        arguments += [limit + 1]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: pageQuery(continuing: after != nil)), arguments: arguments)
        var changes: [Change] = []
        var texts: [String] = []
        var last: (record: String, field: String, replica: Int64, counter: Int64)?
        var more = false
        var budget = PageBudget()
        while let row = try rows.next() {
            let rowText = text(row)
            guard changes.count + texts.count < limit, budget.take(rowText.utf8.count) else {
                more = true
                break
            }
            if asText {
                texts.append(rowText)
                last = (row[3], row[7], row[13], row[1])
            } else {
                let change = try ChangeReader.change(row)
                changes.append(change)
                last = (change.record.rawValue, change.field, row[13], change.id.counter)
            }
        }
        return Page(changes: changes, texts: texts, last: try last.map { last in
            guard let record = RecordID(last.record) else {
                throw ClusterSyncError(.internal, "the store holds a record id that is not one: \(last.record)")
            }
            return (record, last.field, last.replica, last.counter)
        }, more: more)
    }

    /// `page`'s query: arguments tenant, cluster, practice, then (`continuing`) the cursor's
    /// record three times, field, replica number and counter, then the limit.
    static func pageQuery(continuing: Bool) -> String {
        // `rec.id >= ?` says the same as the OR beside it, in the form SQLite starts an index
        // range with: without it each page scanned the cluster from its first record again, and
        // a snapshot's pages cost the square of their number (SnapshotQueryPlanTests).
        let position = continuing ? "AND rec.id >= ? AND (rec.id > ? OR (rec.id = ? AND (c.field, c.replica, c.counter) > (?, ?, ?)))" : ""
        return """
            SELECT \(ChangeReader.changeColumns), c.replica AS replicaNum
            FROM record rec JOIN change c ON c.record = rec.num JOIN replica r ON r.num = c.replica
            WHERE rec.tenant = ? AND rec.cluster = ? AND (rec.practice IS NULL OR rec.practice = ?)
              AND \(kept) \(position)
            ORDER BY rec.id, c.field, c.replica, c.counter
            LIMIT ?
            """
    }

    /// A row of `page`'s query (`ChangeReader.changeColumns`, then the replica's number) as its
    /// change's canonical text: the columns hold the ids and the value in canonical text already.
    static func text(_ row: Row) -> String {
        let counter: Int64 = row[1]
        let replica: String = row[0]
        return Change.jsonText(
            author: row[11], cluster: row[5], field: row[7], hlc: HLCTimestamp(packed: row[2]), id: "\(counter)@\(replica)",
            practice: row[6], record: row[3], seen: row[10], sig: row[12], sup: row[9], tenant: row[4], value: row[8])
    }

    /// One record's changes as this store holds them, live and superseded, at most `limit`
    /// after the row `after` names (field, replica number, counter), for `history`.
    public static func history(
        _ db: Database, tenant: String, cluster: String, practice: String, record: RecordID,
        after: (field: String, replica: Int64, counter: Int64)?, limit: Int
    ) throws -> (changes: [Change], last: (field: String, replica: Int64, counter: Int64)?, more: Bool) {
        var arguments: StatementArguments = [tenant, cluster, practice, record.rawValue]
        var position = ""
        if let after {
            position = "AND (c.field, c.replica, c.counter) > (?, ?, ?)"
            arguments += [after.field, after.replica, after.counter]
        }
        arguments += [limit + 1]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT \(ChangeReader.changeColumns), c.replica AS replicaNum
            FROM record rec JOIN change c ON c.record = rec.num JOIN replica r ON r.num = c.replica
            WHERE rec.tenant = ? AND rec.cluster = ? AND (rec.practice IS NULL OR rec.practice = ?) AND rec.id = ? \(position)
            ORDER BY c.field, c.replica, c.counter
            LIMIT ?
            """, arguments: arguments)
        var changes: [Change] = []
        var last: (String, Int64, Int64)?
        var more = false
        var budget = PageBudget()
        while let row = try rows.next() {
            guard changes.count < limit, budget.take(text(row).utf8.count) else {
                more = true
                break
            }
            let change = try ChangeReader.change(row)
            changes.append(change)
            last = (change.field, row["replicaNum"], change.id.counter)
        }
        return (changes, last, more)
    }
}
