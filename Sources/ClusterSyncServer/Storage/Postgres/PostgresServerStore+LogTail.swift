import ClusterSyncCore
import PostgresNIO

extension PostgresServerStore {
    /// One statement, so the rows, the stream's end and the compaction's reach are of one
    /// snapshot, as in `logPage`: a push committing beside it is either in the rows or beyond the
    /// end. Marker rows come first: -1 the compaction's reach, -2 the stream's end. Of the newest
    /// rows, only those up to the first beyond `maxBytes` are sent.
    public func logTail(tenant: String, after: Int64, newest: Int, maxBytes: Int) async throws -> LogTail? {
        let fetch = newest == .max ? Int64.max : Int64(newest + 1)
        let rows: [(Int64, String, String?, String, String)] = try await read { c in
            try await c.rows("""
                SELECT -1::bigint, '', NULL::text, '', coalesce(max(through_seq), 0)::text FROM compaction WHERE tenant = \(tenant)
                UNION ALL
                SELECT -2::bigint, '', NULL::text, '', last_seq::text FROM tenant WHERE name = \(tenant)
                UNION ALL
                SELECT seq, cluster, practice, replica, change_json FROM (
                    SELECT *, sum(octet_length(change_json)) OVER (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING)
                              - octet_length(change_json) AS before
                    FROM (SELECT seq, cluster, practice, replica, change_json FROM log
                          WHERE tenant = \(tenant) AND seq > \(after) ORDER BY seq DESC LIMIT \(fetch)) newest
                ) counted WHERE before <= \(Int64(maxBytes))
                """, self.logger).map { try $0.decode((Int64, String, String?, String, String).self) }
        }
        let through = rows.first { $0.0 == -1 }.flatMap { Int64($0.4) } ?? 0
        let end = rows.first { $0.0 == -2 }.flatMap { Int64($0.4) } ?? after
        // Newest first whatever order the union's parts came in.
        let newestFirst = rows.filter { $0.0 >= 0 }.sorted { $0.0 > $1.0 }.map { row in
            LogTail.Row(seq: row.0, cluster: row.1, practice: row.2, replica: row.3,
                        text: StoredPage.outgoingByShape(row.4))
        }
        return LogTail.fromNewestFirst(newestFirst, after: after, newest: newest, maxBytes: maxBytes, end: end, compactedThrough: through)
    }
}
