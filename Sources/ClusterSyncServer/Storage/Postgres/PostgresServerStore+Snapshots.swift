import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import PostgresNIO

/// Snapshots and one record's history (PROTOCOL.md §5.7, §5.12) from the PostgreSQL store, by the
/// shared `SnapshotReader` over a scratch database loaded from the log. Compaction is not
/// available on PostgreSQL yet: `compact` refuses, and the log is never compacted.
extension PostgresServerStore {
    public func snapshot(for identity: SessionIdentity, after cursor: SnapshotCursor?, limit: Int) async throws -> Snapshot {
        guard limit > 0 else {
            throw ClusterSyncError(.invalidValue, "a pull's limit must be at least 1; got \(limit)", field: "limit")
        }
        guard identity.role.isPractice else { return try await oversightPull(for: identity, after: -1) }
        return try await snapshot { c in
            guard let last = try await c.rows("SELECT last_seq FROM tenant WHERE name = \(identity.tenant)", self.logger).first?.decode(Int64.self) else {
                throw ClusterSyncError(.invalidValue, "no tenant \"\(identity.tenant)\" on this server", field: "tenant")
            }
            // Every page reads the state as of the first page's end, so the pages agree (their
            // cursors name rows of the same scratch numbering) and the client pulls on from it.
            let end = cursor?.end ?? last
            let scratch = try ScratchRecords()
            try scratch.apply(try await c.rows("""
                SELECT change_json FROM log WHERE tenant = \(identity.tenant) AND cluster = \(identity.cluster) AND seq <= \(end)
                    AND (practice IS NULL OR practice = \(identity.practice)) ORDER BY seq
                """, self.logger).compactMap { try? Change(jsonText: try $0.decode(String.self)) })
            let page = try scratch.read { db in
                try SnapshotReader.page(db, tenant: identity.tenant, cluster: identity.cluster, practice: identity.practice,
                                        after: cursor, limit: limit)
            }
            guard page.more, let tail = page.last else {
                return Snapshot(changes: page.changes, cursor: StreamCursor.cursor(at: end), more: false)
            }
            let next = SnapshotCursor(end: end, record: tail.record, field: tail.field, replica: tail.replica, counter: tail.counter)
            return Snapshot(changes: page.changes, cursor: next.cursor, more: true)
        }
    }

    public func history(of record: RecordID, for identity: SessionIdentity, after cursor: ClusterSyncCore.Cursor?, limit: Int) async throws -> HistoryPage {
        let after = try cursor.map(HistoryCursor.init)
        guard identity.role.isPractice else { throw SQLiteServerStore.historyRefused(identity) }
        return try await snapshot { c in
            let scratch = try ScratchRecords()
            try scratch.apply(try await c.rows("""
                SELECT change_json FROM log WHERE tenant = \(identity.tenant) AND cluster = \(identity.cluster) AND record = \(record.rawValue)
                    AND (practice IS NULL OR practice = \(identity.practice)) ORDER BY seq
                """, self.logger).compactMap { try? Change(jsonText: try $0.decode(String.self)) })
            let found = try scratch.read { db in
                try SnapshotReader.history(db, tenant: identity.tenant, cluster: identity.cluster, practice: identity.practice,
                                           record: record, after: after.map { ($0.field, $0.replica, $0.counter) }, limit: limit)
            }
            let next = found.last.map { HistoryCursor(field: $0.field, replica: $0.replica, counter: $0.counter).cursor }
            return HistoryPage(record: record, changes: found.changes, cursor: next ?? cursor ?? ClusterSyncCore.Cursor("h1:"),
                               more: found.more, compacted: false)
        }
    }

    /// Not available on PostgreSQL yet: refused whole, so nothing is half-compacted.
    public func compact(tenant: String, olderThan cutoff: Int64, now: Int64) async throws -> CompactionOutcome {
        throw ClusterSyncError(.invalidValue,
            "compaction is not available for the PostgreSQL store yet: its log keeps every change (set compaction.horizon-days to 0 "
            + "on PostgreSQL nodes; README \"Known limits\")", field: "storage")
    }

    /// The PostgreSQL log is never compacted.
    public func compaction(tenant: String) async throws -> LedgerCompaction? {
        try await read { c in try await self.requireTenant(tenant, c) }
        return nil
    }
}
