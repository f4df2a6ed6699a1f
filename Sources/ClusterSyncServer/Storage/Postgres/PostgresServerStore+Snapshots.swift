import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import PostgresNIO

/// Snapshots, one record's history and log compaction (PROTOCOL.md §5.7, §5.12, §7.2, §15) from the
/// PostgreSQL store, as the SQLite store gives them. A snapshot page is a range of `field_write`
/// (the materialised state, `PostgresMaterialisedState`), in the SQLite store's order.
extension PostgresServerStore {
    public func snapshot(for identity: SessionIdentity, after cursor: SnapshotCursor?, limit: Int) async throws -> Snapshot {
        guard limit > 0 else {
            throw ClusterSyncError(.invalidValue, "a pull's limit must be at least 1; got \(limit)", field: "limit")
        }
        guard identity.role.isPractice else { return try await oversightPull(for: identity, after: nil, snapshot: true, limit: limit) }
        let tenant = identity.tenant, cluster = identity.cluster
        return try await snapshot { c in
            guard let last = try await c.rows("SELECT last_seq FROM tenant WHERE name = \(tenant)", self.logger).first?.decode(Int64.self) else {
                throw ClusterSyncError(.invalidValue, "no tenant \"\(tenant)\" on this server", field: "tenant")
            }
            // Every page stands for the stream position read with the first, as on SQLite.
            let end = cursor?.end ?? last
            // No record id is empty: ('', '', 0, 0) comes before every row.
            let (record, field, replica, counter) = cursor.map { ($0.record.rawValue, $0.field, $0.replica, $0.counter) } ?? ("", "", 0, 0)
            // None past the first beyond `PageBudget.maxBytes` of the long columns' text (less
            // than each change's JSON, so every row the page's budget takes, and the one after,
            // come): a page of long values no longer brings `limit` of them over the connection.
            // Always two: a first row longer than the budget goes alone, and the second says
            // more follow (without it the snapshot ended at that row).
            let rows = try await c.rows("""
                SELECT \(unescaped: PostgresMaterialisedState.rowColumns) FROM (
                    SELECT *, sum(\(unescaped: Self.longColumnsBytes)) OVER (ORDER BY record, field, replica, counter ROWS UNBOUNDED PRECEDING)
                              - (\(unescaped: Self.longColumnsBytes)) AS before,
                              row_number() OVER (ORDER BY record, field, replica, counter) AS place
                    FROM field_write
                    WHERE tenant = \(tenant) AND cluster = \(cluster) AND (practice IS NULL OR practice = \(identity.practice))
                        AND (record, field, replica, counter) > (\(record), \(field), \(replica), \(counter))
                    ORDER BY record, field, replica, counter LIMIT \(Int64(limit) + 1)
                ) counted WHERE before <= \(Int64(PageBudget.maxBytes)) OR place <= 2
                ORDER BY record, field, replica, counter
                """, self.logger).map(PostgresMaterialisedState.row)
            let all = try rows.prefix(limit + 1).map { try PostgresMaterialisedState.change($0, tenant: tenant, cluster: cluster) }
            let count = PageBudget.rows(all.lazy.map(\.jsonText.utf8.count), limit: limit)
            let page = rows.prefix(count)
            let changes = Array(all.prefix(count))
            guard rows.count > count, let tail = page.last, let tailRecord = RecordID(tail.record) else {
                return Snapshot(changes: changes, cursor: StreamCursor.cursor(at: end), more: false)
            }
            let next = SnapshotCursor(end: end, record: tailRecord, field: tail.field, replica: tail.replica, counter: tail.counter)
            return Snapshot(changes: changes, cursor: next.cursor, more: true)
        }
    }

    /// The bytes of a `field_write` row's columns that may be long (value, sup, seen).
    static let longColumnsBytes = "coalesce(octet_length(value), 0) + coalesce(octet_length(sup), 0) + coalesce(octet_length(seen), 0)"

    public func history(of record: RecordID, for identity: SessionIdentity, after cursor: ClusterSyncCore.Cursor?, limit: Int) async throws -> HistoryPage {
        let after = try HistoryCursor.after(cursor)
        guard identity.role.isPractice else { throw SQLiteServerStore.historyRefused(identity) }
        return try await snapshot { c in
            let scratch = try ScratchRecords()
            // The record's makers numbered as the cluster numbers them (`replica_number`), as
            // the cursor names them: numbered in the order the replay met them, a change a
            // compaction dropped between two pages renumbered them, and the next page started
            // elsewhere.
            try scratch.number(try await c.rows("""
                SELECT n.replica, n.num FROM replica_number n
                WHERE n.tenant = \(identity.tenant) AND n.cluster = \(identity.cluster) AND n.replica IN (
                    SELECT DISTINCT replica FROM log WHERE tenant = \(identity.tenant) AND cluster = \(identity.cluster) AND record = \(record.rawValue))
                """, self.logger).map { try $0.decode((String, Int64).self) })
            try scratch.apply(try await c.rows("""
                SELECT change_json FROM log WHERE tenant = \(identity.tenant) AND cluster = \(identity.cluster) AND record = \(record.rawValue)
                    AND (practice IS NULL OR practice = \(identity.practice)) ORDER BY seq
                """, self.logger).compactMap { try? Change(jsonText: try $0.decode(String.self)) })
            let found = try scratch.read { db in
                try SnapshotReader.history(db, tenant: identity.tenant, cluster: identity.cluster, practice: identity.practice,
                                           record: record, after: after.map { ($0.field, $0.replica, $0.counter) }, limit: limit)
            }
            let next = found.last.map { HistoryCursor(field: $0.field, replica: $0.replica, counter: $0.counter).cursor }
            let compacted = try await !c.rows("SELECT 1 FROM compaction WHERE tenant = \(identity.tenant)", self.logger).isEmpty
            return HistoryPage(record: record, changes: found.changes, cursor: next ?? cursor ?? HistoryCursor.start,
                               more: found.more, compacted: compacted)
        }
    }

    public func compaction(tenant: String) async throws -> LedgerCompaction? {
        try await read { c in
            try await self.requireTenant(tenant, c)
            return try await self.compaction(tenant: tenant, c)
        }
    }

    func compaction(tenant: String, _ c: PostgresConnection) async throws -> LedgerCompaction? {
        try await c.rows("SELECT through_seq, checkpoint, compacted_at FROM compaction WHERE tenant = \(tenant)", logger).first.map {
            let (through, checkpoint, at) = try $0.decode((Int64, Data, Int64).self)
            return LedgerCompaction(throughSeq: through, checkpoint: checkpoint, compactedAt: at)
        }
    }

    /// As `SQLiteServerStore.compact`: notes a mark, then drops the text of every superseded
    /// change (not in `field_write`: neither live, a list position nor a redaction) accepted at
    /// or before the latest mark no later than `cutoff`. Each transaction holds the tenant's row
    /// lock, so it is ordered with the tenant's pushes as SQLite's writes are.
    public func compact(tenant: String, olderThan cutoff: Int64, now: Int64) async throws -> CompactionOutcome {
        // First the point, in a transaction of its own: from its commit, pulls from before it are
        // cursor-expired, so no pull can meet a row whose text the windows below drop.
        let point: Int64? = try await transaction { c in
            guard let end = try await c.rows("SELECT last_seq FROM tenant WHERE name = \(tenant) FOR UPDATE", self.logger)
                .first?.decode(Int64.self) else {
                throw ClusterSyncError(.invalidValue, "no tenant \"\(tenant)\"; add it first", field: "tenant")
            }
            try await c.rows("""
                INSERT INTO compaction_mark (tenant, at, seq) VALUES (\(tenant), \(now), \(end)) ON CONFLICT (tenant, at) DO UPDATE SET seq = excluded.seq
                """, self.logger)
            let previous = try await self.compaction(tenant: tenant, c)?.throughSeq ?? 0
            guard let mark = try await c.rows("""
                SELECT at, seq FROM compaction_mark WHERE tenant = \(tenant) AND at <= \(cutoff) ORDER BY at DESC LIMIT 1
                """, self.logger).first?.decode((Int64, Int64).self) else { return nil }
            // Marks older than the one used can never be used again.
            try await c.rows("DELETE FROM compaction_mark WHERE tenant = \(tenant) AND at < \(mark.0)", self.logger)
            let through = max(previous, mark.1)
            guard through > 0 else { return nil }
            let checkpoint = try await c.rows("SELECT entry_hash FROM ledger WHERE tenant = \(tenant) AND seq = \(through)", self.logger)
                .first?.decode(Data.self) ?? LedgerChain.genesis
            try await c.rows("""
                INSERT INTO compaction (tenant, through_seq, checkpoint, compacted_at) VALUES (\(tenant), \(through), \(checkpoint), \(now))
                ON CONFLICT (tenant) DO UPDATE SET through_seq = excluded.through_seq, checkpoint = excluded.checkpoint,
                    compacted_at = excluded.compacted_at
                """, self.logger)
            return through
        }
        guard let through = point else {
            return CompactionOutcome(tenant: tenant, throughSeq: try await compaction(tenant: tenant)?.throughSeq ?? 0, compacted: 0)
        }
        // Then the superseded changes, a window of the log at a time: a transaction each, so
        // pushes go on between them. The log keeps a stub row (empty text) per change, so a
        // resent change is still a duplicate; the chain keeps every entry.
        var compacted = 0
        var low: Int64 = 0
        while low < through {
            let (from, high) = (low, min(low + SQLiteServerStore.compactionWindow, through))
            compacted += try await transaction { c in
                try await c.rows("SELECT 1 FROM tenant WHERE name = \(tenant) FOR UPDATE", self.logger)
                return try await c.rows("""
                    UPDATE log l SET change_json = ''
                    WHERE l.tenant = \(tenant) AND l.seq > \(from) AND l.seq <= \(high) AND l.change_json <> ''
                      AND NOT EXISTS (SELECT 1 FROM field_write w
                                      WHERE w.tenant = l.tenant AND w.cluster = l.cluster AND w.replica_id = l.replica AND w.counter = l.counter)
                    RETURNING 1
                    """, self.logger).count
            }
            low = high
        }
        return CompactionOutcome(tenant: tenant, throughSeq: through, compacted: compacted)
    }
}
