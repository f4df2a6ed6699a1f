import ClusterSyncCore
import GRDB

extension SQLiteServerStore {
    /// One read transaction, so the rows, the stream's end and the compaction's reach are of one
    /// snapshot (a push committing beside it is either in the rows or beyond the end). The
    /// primary key (tenant, seq) serves the newest-first walk.
    public func logTail(tenant: String, after: Int64, newest: Int, maxBytes: Int) async throws -> LogTail? {
        let fetch = newest == .max ? newest : newest + 1
        return try await read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT seq, cluster, practice, replica, change_json, \(StoredPage.sqliteValidJSON)
                FROM log WHERE tenant = ? AND seq > ? ORDER BY seq DESC LIMIT ?
                """)
            var rows: [LogTail.Row] = []
            var bytes = 0
            let cursor = try Row.fetchCursor(statement, arguments: [tenant, after, fetch])
            // Up to the first row left out (beyond `newest` rows or `maxBytes`), which sets the start.
            while bytes <= maxBytes, let row = try cursor.next() {
                let text: String = row[4]
                rows.append(LogTail.Row(seq: row[0], cluster: row[1], practice: row[2], replica: row[3],
                                        text: StoredPage.outgoingFromSQLite(text, validJSON: row[5])))
                bytes += rows[rows.count - 1].text.utf8.count
            }
            let end = try Int64.fetchOne(db, sql: "SELECT last FROM tenant_sequence WHERE tenant = ?", arguments: [tenant]) ?? after
            let through = try Int64.fetchOne(db.cachedStatement(sql: "SELECT through_seq FROM compaction WHERE tenant = ?"), arguments: [tenant]) ?? 0
            return LogTail.fromNewestFirst(rows, after: after, newest: newest, maxBytes: maxBytes, end: end, compactedThrough: through)
        }
    }
}
