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
        // A page of a few rows at most (the stream has grown little since the cursor: a practice
        // that syncs often, a subscription woken by a push) is read as a point read; a longer one
        // by the pool's readers, off the session's thread.
        let read: StoredRows
        if let few = try pointRead({ db in
            try (Self.knownStreamEnd(db, tenant: identity.tenant) ?? 0) - after <= Self.pointPageRows
                ? try Self.storedRows(db, for: identity, after: after, limit: limit, excluding: excluded) : nil
        }) {
            read = few
        } else {
            read = try await self.read { db in try Self.storedRows(db, for: identity, after: after, limit: limit, excluding: excluded) }
        }
        return StoredPage.page(texts: read.texts, lastSeq: read.lastSeq, more: read.more, after: after, askedWith: cursor,
                               excludingOwn: excluded != nil, end: read.end)
    }

    /// The most rows a page read as a point read can hold.
    static let pointPageRows: Int64 = 64

    /// The rows of a practice's page: each row's stored text, the last sequence number, whether
    /// more follow, and (leaving a replica's own changes out) the stream's end in this read.
    typealias StoredRows = (texts: [String], lastSeq: Int64?, more: Bool, end: Int64?)

    static func storedRows(_ db: Database, for identity: SessionIdentity, after: Int64, limit: Int,
                           excluding excluded: String?) throws -> StoredRows {
        // As `pull`: from before a compaction, `cursor-expired` (checked in this read).
        try requireKept(db, tenant: identity.tenant, after: after)
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
        var budget = PageBudget()
        while let row = try rows.next() {
            let text: String = row[1]
            let outgoing = StoredPage.outgoingFromSQLite(text, validJSON: row[2])
            guard texts.count < limit, budget.take(outgoing.utf8.count) else {
                more = true
                break
            }
            lastSeq = row[0]
            texts.append(outgoing)
        }
        // The stream's end in this read's snapshot, for `StoredPage.page`.
        let end = excluded != nil && !more ? try knownStreamEnd(db, tenant: identity.tenant) : nil
        return (texts, lastSeq, more, end)
    }

    /// The tenant's last sequence number; nil for a tenant this store does not have.
    static func knownStreamEnd(_ db: Database, tenant: String) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT last FROM tenant_sequence WHERE tenant = ?"), arguments: [tenant])
    }
}
