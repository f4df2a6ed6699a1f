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
        /// The last row read, for the next page's cursor; nil when the page is empty.
        public var last: (record: RecordID, field: String, replica: Int64, counter: Int64)?
        public var more: Bool
    }

    /// Rows that rebuild the state: what a replica that replayed every change holds live, plus
    /// what it needs besides (slots and redactions). Also what compaction keeps, and what the
    /// PostgreSQL server store copies into its own tables (one rule for every store).
    public static let kept = "(c.live = 1 OR (c.field = 'position' AND c.value IS NOT NULL) OR c.field = '\(Redaction.field)')"

    /// At most `limit` rows after `after` (nil: from the first record).
    public static func page(
        _ db: Database, tenant: String, cluster: String, practice: String,
        after: SnapshotCursor?, limit: Int
    ) throws -> Page {
        let position: String
        var arguments: StatementArguments = [tenant, cluster, practice]
        if let after {
            position = "AND (rec.id > ? OR (rec.id = ? AND (c.field, c.replica, c.counter) > (?, ?, ?)))"
            arguments += [after.record.rawValue, after.record.rawValue, after.field, after.replica, after.counter]
        } else {
            position = ""
        }
        arguments += [limit + 1]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT \(ChangeReader.changeColumns), c.replica AS replicaNum
            FROM record rec JOIN change c ON c.record = rec.num JOIN replica r ON r.num = c.replica
            WHERE rec.tenant = ? AND rec.cluster = ? AND (rec.practice IS NULL OR rec.practice = ?)
              AND \(kept) \(position)
            ORDER BY rec.id, c.field, c.replica, c.counter
            LIMIT ?
            """, arguments: arguments)
        var changes: [Change] = []
        var last: (RecordID, String, Int64, Int64)?
        var more = false
        while let row = try rows.next() {
            guard changes.count < limit else {
                more = true
                break
            }
            let change = try ChangeReader.change(row)
            changes.append(change)
            last = (change.record, change.field, row["replicaNum"], change.id.counter)
        }
        return Page(changes: changes, last: last, more: more)
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
        while let row = try rows.next() {
            guard changes.count < limit else {
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
