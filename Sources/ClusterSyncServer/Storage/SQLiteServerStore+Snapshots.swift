import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import GRDB

/// Snapshots, one record's history, and log compaction (PROTOCOL.md §5.7, §5.12, §7.2, §15).
extension SQLiteServerStore {
    public func snapshot(for identity: SessionIdentity, after cursor: SnapshotCursor?, limit: Int) async throws -> Snapshot {
        try await snapshot(for: identity, after: cursor, limit: limit, asText: false)
    }

    /// Each change written as its text straight from the row: most of a bootstrap's server time
    /// was decoding rows into changes only to encode them again.
    public func snapshotStored(for identity: SessionIdentity, after cursor: SnapshotCursor?, limit: Int) async throws -> Snapshot {
        try await snapshot(for: identity, after: cursor, limit: limit, asText: true)
    }

    private func snapshot(for identity: SessionIdentity, after cursor: SnapshotCursor?, limit: Int, asText: Bool) async throws -> Snapshot {
        guard limit > 0 else {
            throw ClusterSyncError(.invalidValue, "a pull's limit must be at least 1; got \(limit)", field: "limit")
        }
        // A read-only role's pull is already the state it may hold: its snapshot is that pull from the start.
        guard identity.role.isPractice else { return try await oversightPull(for: identity, after: nil, snapshot: true, limit: limit) }
        return try await read { db in
            let end = try cursor?.end ?? Self.streamEnd(db, tenant: identity.tenant)
            let page = try SnapshotReader.page(db, tenant: identity.tenant, cluster: identity.cluster, practice: identity.practice,
                                               after: cursor, limit: limit, asText: asText)
            var snapshot = Snapshot(changes: page.changes, cursor: StreamCursor.cursor(at: end), more: false)
            snapshot.storedTexts = page.texts
            if page.more, let last = page.last {
                snapshot.cursor = SnapshotCursor(end: end, record: last.record, field: last.field, replica: last.replica, counter: last.counter).cursor
                snapshot.more = true
            }
            return snapshot
        }
    }

    public func history(of record: RecordID, for identity: SessionIdentity, after cursor: ClusterSyncCore.Cursor?, limit: Int) async throws -> HistoryPage {
        let after = try HistoryCursor.after(cursor)
        guard identity.role.isPractice else { throw Self.historyRefused(identity) }
        return try await read { db in
            let found = try SnapshotReader.history(
                db, tenant: identity.tenant, cluster: identity.cluster, practice: identity.practice, record: record,
                after: after.map { ($0.field, $0.replica, $0.counter) }, limit: limit)
            let compacted = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM compaction WHERE tenant = ?)", arguments: [identity.tenant])!
            let next = found.last.map { HistoryCursor(field: $0.field, replica: $0.replica, counter: $0.counter).cursor }
            return HistoryPage(record: record, changes: found.changes, cursor: next ?? cursor ?? HistoryCursor.start,
                               more: found.more, compacted: compacted)
        }
    }

    static func historyRefused(_ identity: SessionIdentity) -> ClusterSyncError {
        ClusterSyncError(.forbiddenScope,
            "a \(identity.role.rawValue) credential reads escalated records whole in its pulls: their history is already in the replica")
    }

    public func compaction(tenant: String) async throws -> LedgerCompaction? {
        try await read { db in try Self.compaction(db, tenant: tenant) }
    }

    static func compaction(_ db: Database, tenant: String) throws -> LedgerCompaction? {
        try Row.fetchOne(db, sql: "SELECT through_seq, checkpoint, compacted_at FROM compaction WHERE tenant = ?", arguments: [tenant])
            .map { LedgerCompaction(throughSeq: $0[0], checkpoint: $0[1], compactedAt: $0[2]) }
    }

    /// `cursor-expired` for a pull from before the tenant's compaction: the changes that
    /// position needs are gone. Read in the pull's own transaction, so a compaction running
    /// beside it cannot hand out a compacted row.
    static func requireKept(_ db: Database, tenant: String, after: Int64) throws {
        guard let through = try compactedThrough(db, tenant: tenant), after < through else { return }
        throw CompactedHistory.cursorExpired(through: through, after: after)
    }

    /// The tenant's compaction mark: the log holds every change after it; nil if never compacted.
    static func compactedThrough(_ db: Database, tenant: String) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT through_seq FROM compaction WHERE tenant = ?"), arguments: [tenant])
    }

    static func streamEnd(_ db: Database, tenant: String) throws -> Int64 {
        guard let last = try Int64.fetchOne(db, sql: "SELECT last FROM tenant_sequence WHERE tenant = ?", arguments: [tenant]) else {
            throw ClusterSyncError(.invalidValue, "no tenant \"\(tenant)\" on this server", field: "tenant")
        }
        return last
    }

    public func compact(tenant: String, olderThan cutoff: Int64, now: Int64) async throws -> CompactionOutcome {
        // First the point, in a transaction of its own: from its commit, pulls from before it are
        // cursor-expired, so no pull can meet a row whose text the windows below drop.
        let point: (through: Int64, previous: Int64)? = try await write { db in
            try Self.requireTenant(tenant, db)
            let end = try Self.streamEnd(db, tenant: tenant)
            try db.execute(sql: "INSERT INTO compaction_mark (tenant, at, seq) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET seq = excluded.seq",
                           arguments: [tenant, now, end])
            let previous = try Self.compaction(db, tenant: tenant)?.throughSeq ?? 0
            guard let mark = try Row.fetchOne(db, sql: """
                SELECT at, seq FROM compaction_mark WHERE tenant = ? AND at <= ? ORDER BY at DESC LIMIT 1
                """, arguments: [tenant, cutoff]) else { return nil }
            // Marks older than the one used can never be used again.
            try db.execute(sql: "DELETE FROM compaction_mark WHERE tenant = ? AND at < ?", arguments: [tenant, mark["at"] as Int64])
            let through = max(previous, mark["seq"] as Int64)
            guard through > 0 else { return nil }
            let checkpoint = try Data.fetchOne(db, sql: "SELECT entry_hash FROM ledger WHERE tenant = ? AND seq = ?", arguments: [tenant, through])
                ?? LedgerChain.genesis
            try db.execute(sql: """
                INSERT INTO compaction (tenant, through_seq, checkpoint, compacted_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (tenant) DO UPDATE SET through_seq = excluded.through_seq, checkpoint = excluded.checkpoint,
                    compacted_at = excluded.compacted_at
                """, arguments: [tenant, through, checkpoint, now])
            return (through, previous)
        }
        guard let point else {
            return CompactionOutcome(tenant: tenant, throughSeq: try await compaction(tenant: tenant)?.throughSeq ?? 0, compacted: 0)
        }
        // Then the superseded changes, a window of the log at a time: a transaction each, so
        // pushes go on between them and the server holds one window's rows, not the tenant's.
        // Live writes stay (they are the state), and so do list positions (a list's order reads
        // superseded slots) and redactions (a stale copy of an erased change must stay erased).
        var compacted = 0
        var low: Int64 = 0
        while low < point.through {
            let (from, high) = (low, min(low + Self.compactionWindow, point.through))
            compacted += try await write { db in
                let doomed = try Row.fetchAll(db, sql: """
                    SELECT l.seq, c.record, c.field, c.replica, c.counter
                    FROM log l
                    JOIN replica r ON r.tenant = l.tenant AND r.cluster = l.cluster AND r.id = l.replica
                    JOIN change c ON c.replica = r.num AND c.counter = l.counter
                    WHERE l.tenant = ? AND l.seq > ? AND l.seq <= ? AND l.change_json <> ''
                      AND c.live = 0 AND NOT (c.field = 'position' AND c.value IS NOT NULL) AND c.field <> ?
                    """, arguments: [tenant, from, high, Redaction.field])
                let stub = try db.cachedStatement(sql: "UPDATE log SET change_json = '' WHERE tenant = ? AND seq = ?")
                let drop = try db.cachedStatement(sql: "DELETE FROM change WHERE record = ? AND field = ? AND replica = ? AND counter = ?")
                for row in doomed {
                    try stub.execute(arguments: [tenant, row[0] as Int64])
                    try drop.execute(arguments: [row[1] as Int64, row[2] as String, row[3] as Int64, row[4] as Int64])
                }
                return doomed.count
            }
            low = high
        }
        return CompactionOutcome(tenant: tenant, throughSeq: point.through, compacted: compacted)
    }

    /// How many positions of the log one compaction transaction covers.
    static let compactionWindow: Int64 = 20_000

    /// Rebuilds the file so the space compaction freed is given back to the disk (`clustersyncd
    /// compact --vacuum`); otherwise SQLite reuses it for new changes.
    public func vacuum() async throws {
        try await database.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            try db.checkpoint(.truncate)
        }
    }
}
