import ClusterSyncCore
import GRDB

extension SQLiteServerStore {
    /// A practice's page straight from the log: each row's text is the canonical JSON the push
    /// stored (authors stamped, redactions applied), so it goes out as it is, with no decoder
    /// and no encoder per change, per puller or per subscriber. A subscription's own changes are
    /// left out by the query. A row that is not one line of valid JSON (damaged) goes out as a
    /// JSON string, which replicas set aside (Protocol/changes.md §8), as `pull` does.
    public func pullStored(for identity: SessionIdentity, after cursor: ClusterSyncCore.Cursor?, limit: Int,
                           excluding replica: ReplicaID?) async throws -> ChangesPage {
        guard let after = try storedPageStart(for: identity, after: cursor, limit: limit) else {
            return try await decodedPage(for: identity, after: cursor, limit: limit, excluding: replica)
        }
        let excluded = replica?.rawValue
        let read: (texts: [String], lastSeq: Int64?, more: Bool, end: Int64?) = try await read { db in
            // As `pull`: from before a compaction, `cursor-expired` (checked in this read).
            try Self.requireKept(db, tenant: identity.tenant, after: after)
            // INDEXED BY: see `pull`. `replica IS NOT ?` with NULL leaves nothing out.
            let statement = try db.cachedStatement(sql: """
                SELECT seq, change_json, \(StoredPage.sqliteValidJSON)
                FROM log INDEXED BY log_by_cluster
                WHERE tenant = ? AND cluster = ? AND seq > ? AND (practice IS NULL OR practice = ?) AND replica IS NOT ?
                ORDER BY seq LIMIT ?
                """)
            let rows = try Row.fetchCursor(statement, arguments: [
                identity.tenant, identity.cluster, after, identity.practice, excluded, limit == .max ? limit : limit + 1,
            ])
            var texts: [String] = []
            texts.reserveCapacity(min(limit, 4_096))
            var lastSeq: Int64?
            var more = false
            while let row = try rows.next() {
                if texts.count == limit {
                    more = true
                    break
                }
                lastSeq = row[0]
                let text: String = row[1]
                texts.append(StoredPage.outgoingFromSQLite(text, validJSON: row[2]))
            }
            // The stream's end in this read's snapshot, for `StoredPage.page`.
            let end = excluded != nil && !more ? try Int64.fetchOne(db, sql: "SELECT last FROM tenant_sequence WHERE tenant = ?",
                                                                     arguments: [identity.tenant]) : nil
            return (texts, lastSeq, more, end)
        }
        return StoredPage.page(texts: read.texts, lastSeq: read.lastSeq, more: read.more, after: after, askedWith: cursor,
                               excludingOwn: excluded != nil, end: read.end)
    }
}
