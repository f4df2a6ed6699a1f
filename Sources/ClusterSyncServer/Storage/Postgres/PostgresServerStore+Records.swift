import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import GRDB
import PostgresNIO

/// What the PostgreSQL store keeps about records, and what it reads from it: conflicts, roll-ups
/// and oversight pages. The CRDT rules run once, in the shared `ChangeWriter` and
/// `ChangeReader`, over a scratch in-memory database holding only the records concerned,
/// loaded from their changes in the log (`log_by_record`).
extension PostgresServerStore {
    /// The scratch database: the materialised tables of a replica, for one cluster's records.
    struct ScratchRecords {
        let queue: DatabaseQueue

        /// In memory, or in a file at `path` (a whole cluster's state, when migrating).
        init(path: String? = nil) throws {
            guard let path else {
                // A copy of the empty tables made once: SQLite's backup of their few pages takes
                // about 0.1 ms, running their DDL again 1 ms, and every PostgreSQL push makes a
                // scratch database (MEASUREMENTS.md, twenty-ninth session).
                queue = try DatabaseSetup.queue()
                try Self.emptyTables.get().backup(to: queue)
                return
            }
            queue = try DatabaseSetup.queue(path: path)
            try queue.write(Self.createTables)
        }

        private static func createTables(_ db: Database) throws {
            try MaterialisedStateSchema.createTables(db)
            try MaterialisedStateSchema.createRedactionTable(db)
            try MaterialisedStateSchema.addSignatures(db)
            try MaterialisedStateSchema.clusterChangesByID(db)
        }

        /// The empty scratch tables, in memory, that every scratch database in memory copies.
        private static let emptyTables = Result<DatabaseQueue, any Error> {
            let queue = try DatabaseSetup.queue()
            try queue.write(createTables)
            return queue
        }

        func apply(_ changes: [Change]) throws {
            guard !changes.isEmpty else { return }
            try queue.write { db in
                var writer = try ChangeWriter(db)
                _ = try writer.apply(changes)
            }
        }

        /// Numbers replicas as `numbers` gives them (id, number), before any change is applied.
        func number(_ numbers: [(String, Int64)]) throws {
            guard !numbers.isEmpty else { return }
            try queue.write { db in
                let insert = try db.makeStatement(sql: "INSERT INTO replica (num, id) VALUES (?, ?)")
                for (id, num) in numbers { try insert.execute(arguments: [num, id]) }
            }
        }

        func read<T>(_ body: (Database) throws -> T) throws -> T { try queue.read(body) }
    }

    /// Every logged change of these records of one cluster, in sequence order. A row this
    /// version cannot read is left out here (pulls still send it as unreadable).
    func loggedChanges(of records: [String], tenant: String, cluster: String, _ c: PostgresConnection) async throws -> [Change] {
        try await Self.loggedChanges(of: records, tenant: tenant, cluster: cluster, c, logger: logger)
    }

    static func loggedChanges(of records: [String], tenant: String, cluster: String, _ c: PostgresConnection, logger: Logger) async throws -> [Change] {
        guard !records.isEmpty else { return [] }
        return try await c.rows("""
            SELECT change_json FROM log WHERE tenant = \(tenant) AND cluster = \(cluster) AND record = ANY(\(records)) ORDER BY seq
            """, logger).compactMap { try? Change(jsonText: try $0.decode(String.self)) }
    }

    /// Makes again what is kept about every cluster-shared record of `type` (its roll-up
    /// contribution among it), cluster by cluster, from the records' logged changes: a migration's
    /// work when the rules a contribution is computed by change (as `SQLiteServerStore.rollupFormat`).
    static func recomputeContributions(ofType type: RecordType, _ c: PostgresConnection, logger: Logger) async throws {
        var byCluster: [[String]: [String]] = [:]
        for row in try await c.rows("SELECT tenant, cluster, id FROM record WHERE type = \(type.rawValue) AND practice IS NULL", logger) {
            let (tenant, cluster, id) = try row.decode((String, String, String).self)
            byCluster[[tenant, cluster], default: []].append(id)
        }
        for (key, ids) in byCluster {
            let changes = try await loggedChanges(of: ids, tenant: key[0], cluster: key[1], c, logger: logger)
            let scratch = try ScratchRecords()
            try scratch.apply(changes)
            let facts = try scratch.read { db in try KeptRecordFacts(db, where: "rec.practice IS NULL", records: Set(ids.compactMap { RecordID($0) })) }
            try await facts.write(tenant: key[0], cluster: key[1], c, logger: logger)
        }
    }

    /// Recomputes what is kept about the cluster-shared records a push touched (inside its
    /// transaction): conflicts, escalation, source and roll-up contribution, from `scratch`,
    /// which holds the touched records' materialised state after the push.
    func refreshRecords(_ records: Set<RecordID>, from scratch: ScratchRecords, tenant: String, cluster: String, _ c: PostgresConnection) async throws {
        guard !records.isEmpty else { return }
        let facts = try scratch.read { db in try KeptRecordFacts(db, where: "rec.practice IS NULL", records: records) }
        try await facts.write(tenant: tenant, cluster: cluster, c, logger: logger)
    }

    /// What the store keeps about cluster-shared records beyond their changes: whether each has
    /// open conflicts, a risk's escalation, an action's source, and the record's roll-up
    /// contribution (none for a record that adds nothing). Read from a database of the
    /// materialised tables (a push's scratch database, or a SQLite store being copied).
    struct KeptRecordFacts {
        /// Arrays carry no NULLs here: '' stands for none.
        var ids: [String] = [], conflicted: [Bool] = [], escalations: [String] = [], sources: [String] = []
        var contributed: [String] = [], contributions: [String] = []

        /// The facts of `records` (every record `condition` selects, when nil) among the
        /// records `condition` selects; a record not there has none.
        init(_ db: Database, where condition: String, arguments: StatementArguments = [], records: Set<RecordID>? = nil) throws {
            let views = try ChangeReader.views(db, where: condition, arguments: arguments)
            let open = Set(try ChangeReader.conflicts(db, where: condition, arguments: arguments).map(\.record.id))
            let byID = Dictionary(views.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for id in records.map(Array.init) ?? views.map(\.id) {
                let view = byID[id]
                ids.append(id.rawValue)
                conflicted.append(open.contains(id))
                escalations.append((id.type == .risk ? view?.escalation : nil) ?? "")
                sources.append((id.type == .action ? view?.string("source") : nil) ?? "")
                if let view, let contribution = RollupContribution(view) {
                    contributed.append(id.rawValue)
                    contributions.append(try ServerOversight.encode(contribution))
                }
            }
        }

        /// Writes them into `record` and `rollup_contribution` of one cluster.
        func write(tenant: String, cluster: String, _ c: PostgresConnection, logger: Logger) async throws {
            guard !ids.isEmpty else { return }
            // One statement, one round trip: data-modifying WITHs run whether or not the
            // statement reads them, and the deleted contributions are never the upserted ones.
            try await c.rows("""
                WITH facts AS (
                    UPDATE record SET conflicted = u.conflicted, escalation = NULLIF(u.escalation, ''), source = NULLIF(u.source, '')
                    FROM unnest(\(ids)::text[], \(conflicted)::boolean[], \(escalations)::text[], \(sources)::text[]) AS u(id, conflicted, escalation, source)
                    WHERE record.tenant = \(tenant) AND record.cluster = \(cluster) AND record.id = u.id),
                withdrawn AS (
                    DELETE FROM rollup_contribution
                    WHERE tenant = \(tenant) AND cluster = \(cluster) AND record = ANY(\(ids)) AND NOT (record = ANY(\(contributed))))
                INSERT INTO rollup_contribution (tenant, cluster, record, contribution)
                SELECT \(tenant), \(cluster), record, contribution FROM unnest(\(contributed)::text[], \(contributions)::text[]) AS u(record, contribution)
                ON CONFLICT (tenant, cluster, record) DO UPDATE SET contribution = excluded.contribution
                """, logger)
        }
    }

    // MARK: Conflicts

    public func conflicts(tenant: String, cluster: String?) async throws -> [RecordConflictSummary] {
        try await snapshot { c in
            let clusters: [String]
            if let cluster {
                try await self.requireCluster(cluster, tenant: tenant, c)
                clusters = [cluster]
            } else {
                try await self.requireTenant(tenant, c)
                clusters = try await c.rows("SELECT name FROM cluster WHERE tenant = \(tenant) ORDER BY name", self.logger).map { try $0.decode(String.self) }
            }
            var found: [RecordConflictSummary] = []
            for cluster in clusters {
                let ids = try await c.rows("""
                    SELECT id FROM record WHERE tenant = \(tenant) AND cluster = \(cluster) AND conflicted AND practice IS NULL
                    """, self.logger).map { try $0.decode(String.self) }
                guard !ids.isEmpty else { continue }
                let scratch = try ScratchRecords()
                try scratch.apply(try await self.loggedChanges(of: ids, tenant: tenant, cluster: cluster, c))
                // An item's conflict is shown with its list: load the lists too.
                let lists = try scratch.read { db in
                    try ChangeReader.views(db, where: "rec.type = 'item'").compactMap { $0.string("list") }
                }
                try scratch.apply(try await self.loggedChanges(of: Array(Set(lists).subtracting(ids)), tenant: tenant, cluster: cluster, c))
                found += try scratch.read { db in try ChangeReader.conflicts(db, where: "rec.practice IS NULL") }
            }
            return found.sorted { ($0.record.id.rawValue, $0.record.scope.cluster) < ($1.record.id.rawValue, $1.record.scope.cluster) }
        }
    }

    // MARK: Roll-ups

    public func rollup(tenant: String, region: String?, today: CalendarDate) async throws -> RegionRollup {
        try await read { c in try await self.rollup(tenant: tenant, region: region, today: today, c) }
    }

    /// Aggregated per cluster; a cluster nothing was pushed to since its last aggregation is not
    /// read again, and of one that was only the contributions that changed are decoded
    /// (`ClusterRollupCache`: the versions are read here, from the database, so pushes another
    /// node took count too).
    func rollup(tenant: String, region: String?, today: CalendarDate, _ c: PostgresConnection,
                read: (clusters: [String], lasts: [String: Int64])? = nil) async throws -> RegionRollup {
        let clusters: [String], versions: [String: Int64]
        if let read {
            (clusters, versions) = read
        } else {
            clusters = try await clusterNames(tenant: tenant, region: region, c)
            versions = try await clusterLasts(tenant: tenant, clusters: clusters, c)
        }
        var rollups: [ClusterRollup] = []
        var stale: [String: [(record: String, text: String)]] = [:]
        for cluster in clusters {
            guard let version = versions[cluster] else { continue }
            if let kept = self.rollups.rollup(tenant: tenant, cluster: cluster, version: version, today: today) {
                rollups.append(kept)
            } else {
                stale[cluster] = []
            }
        }
        if !stale.isEmpty {
            for row in try await c.rows("""
                SELECT cluster, record, contribution FROM rollup_contribution WHERE tenant = \(tenant) AND cluster = ANY(\(Array(stale.keys)))
                """, logger) {
                let (cluster, record, text) = try row.decode((String, String, String).self)
                stale[cluster]?.append((record, text))
            }
            for (cluster, rows) in stale {
                rollups.append(try self.rollups.refresh(tenant: tenant, cluster: cluster, version: versions[cluster]!, today: today, rows: rows))
            }
        }
        var registered: [String: [String: PracticeKind]] = [:]
        for row in try await c.rows("SELECT cluster, name, kind FROM practice WHERE tenant = \(tenant)", logger) {
            let (cluster, practice, kind) = try row.decode((String, String, String).self)
            registered[cluster, default: [:]][practice] = RegisteredPractice.kind(stored: kind)
        }
        var regions: [String: String] = [:]
        for row in try await c.rows("SELECT name, region FROM cluster WHERE tenant = \(tenant)", logger) {
            let (cluster, inRegion) = try row.decode((String, String?).self)
            if let inRegion { regions[cluster] = inRegion }
        }
        return RegionRollup(tenant: tenant, region: region, clusters: rollups.map {
            $0.namingOnly(registered: registered[$0.cluster] ?? [:], region: regions[$0.cluster])
        })
    }

    /// The sequence number of each cluster's newest log row (0 for none), in one query: it moves
    /// with every push to the cluster and never returns (log rows are never removed).
    func clusterLasts(tenant: String, clusters: [String], _ c: PostgresConnection) async throws -> [String: Int64] {
        var lasts: [String: Int64] = [:]
        for row in try await c.rows("""
            SELECT named.cluster, last.seq FROM unnest(\(clusters)::text[]) AS named(cluster)
                LEFT JOIN LATERAL (SELECT max(seq) AS seq FROM log WHERE tenant = \(tenant) AND cluster = named.cluster) last ON true
            """, logger) {
            let (cluster, last) = try row.decode((String, Int64?).self)
            lasts[cluster] = last ?? 0
        }
        return lasts
    }

    /// A region's clusters, or every cluster of the tenant.
    func clusterNames(tenant: String, region: String?, _ c: PostgresConnection) async throws -> [String] {
        if let region {
            try await requireRegion(region, tenant: tenant, c)
            return try await c.rows("SELECT name FROM cluster WHERE tenant = \(tenant) AND region = \(region) ORDER BY name", logger)
                .map { try $0.decode(String.self) }
        }
        try await requireTenant(tenant, c)
        return try await c.rows("SELECT name FROM cluster WHERE tenant = \(tenant) ORDER BY name", logger).map { try $0.decode(String.self) }
    }

    // MARK: Oversight

    /// A read-only session's page (PROTOCOL.md §7.1, `OversightPaging`), as the SQLite store gives it.
    func oversightPull(for identity: SessionIdentity, after cursor: ClusterSyncCore.Cursor?, snapshot: Bool = false, limit: Int) async throws -> ChangesPage {
        let today = CalendarDate(unixMillis: wallClock())
        return try await self.snapshot { c in
            let current = try await c.rows("SELECT last_seq FROM tenant WHERE name = \(identity.tenant)", self.logger).first?.decode(Int64.self) ?? 0
            var paging = try OversightPaging(cursor: cursor, snapshot: snapshot, limit: limit, currentEnd: current)
            if paging.startsAtStreamPosition, let through = try await self.compaction(tenant: identity.tenant, c)?.throughSeq, paging.after < through {
                throw CompactedHistory.cursorExpired(through: through, after: paging.after)
            }
            let region = identity.role == .pcpg ? identity.region : nil
            let clusters = try await self.clusterNames(tenant: identity.tenant, region: region, c)
            let lasts = try await self.clusterLasts(tenant: identity.tenant, clusters: clusters, c)
            var moves: [String: Int64] = [:]
            for row in try await c.rows("""
                SELECT name, moved_after FROM cluster WHERE tenant = \(identity.tenant) AND name = ANY(\(clusters)) AND moved_after IS NOT NULL
                """, self.logger) {
                let (cluster, movedAfter) = try row.decode((String, Int64).self)
                moves[cluster] = movedAfter
            }
            let compactedThrough = try await self.compaction(tenant: identity.tenant, c)?.throughSeq
            for cluster in paging.ordered(clusters) where !paging.hasMore {
                try await self.oversightRecords(tenant: identity.tenant, cluster: cluster, role: identity.role,
                                                clusterLast: lasts[cluster] ?? 0, movedAfter: moves[cluster],
                                                compactedThrough: compactedThrough, &paging, c)
            }
            // The clusters and their newest rows, read above in the same transaction.
            guard !paging.hasMore else { return paging.page(rollup: nil) }
            let rollup = try await self.rollup(tenant: identity.tenant, region: region, today: today, c, read: (clusters, lasts))
            return paging.page(rollup: self.rollups.json(of: rollup))
        }
    }

    /// The records of one cluster `role` may hold (`ServerOversight.visible`), and their changes:
    /// the escalated risks are found by `record_escalated`, their actions by id or source, the
    /// plans by `record_plans`, their priorities lists by id and the lists' items by
    /// `field_write_by_list`. Each is copied into a scratch database, where the SQLite store's
    /// rule reads them.
    func oversightRecords(tenant: String, cluster: String, role: CredentialRole, clusterLast: Int64, movedAfter: Int64?,
                          compactedThrough: Int64?, _ paging: inout OversightPaging, _ c: PostgresConnection) async throws {
        let reads = paging.reads(cluster, clusterLast: clusterLast, movedAfter: movedAfter)
        if !reads, let listed = listings.listed(tenant: tenant, cluster: cluster, role: role, version: clusterLast) {
            paging.list(listed.ids, of: cluster)
            return
        }
        // Only risks escalated beyond the cluster and plans with a live status past draft are read
        // whole (a superset of what `OversightReach.visible` lists): before the forty-sixth
        // session every shared risk with any level and every plan, drafts too, had its whole log
        // read here whenever anything was stored in the cluster (security review).
        let risks = try await c.rows("""
            SELECT id FROM record WHERE tenant = \(tenant) AND cluster = \(cluster) AND escalation = ANY(\(OversightReach.levels))
                AND type = 'risk' AND practice IS NULL
            """, logger).map { try $0.decode(String.self) }
        let plans = try await c.rows("""
            SELECT r.id FROM record r WHERE r.tenant = \(tenant) AND r.cluster = \(cluster) AND r.type = 'plan' AND r.practice IS NULL
                AND EXISTS (SELECT 1 FROM field_write w WHERE w.tenant = r.tenant AND w.cluster = r.cluster AND w.record = r.id
                            AND w.field = 'status' AND w.live AND w.value <> \(JSONValue.string("draft").canonicalText))
            """, logger).map { try $0.decode(String.self) }
        guard !risks.isEmpty || !plans.isEmpty else {
            listings.keep(ServerOversight.ListedRecords(ids: [], views: []), tenant: tenant, cluster: cluster, role: role, version: clusterLast)
            return
        }
        let scratch = try ScratchRecords()
        try scratch.apply(try await loggedChanges(of: risks + plans, tenant: tenant, cluster: cluster, c))
        let (linked, priorities) = try scratch.read { db in
            let views = try ChangeReader.views(db, where: "1")
            return (views.flatMap { $0.references("linked_actions") }.map(\.rawValue),
                    views.compactMap { $0.type == .plan ? $0.reference("priorities")?.rawValue : nil })
        }
        let actions = risks.isEmpty ? [] : try await c.rows("""
            SELECT id FROM record WHERE tenant = \(tenant) AND cluster = \(cluster) AND type = 'action' AND practice IS NULL
                AND (id = ANY(\(Array(Set(linked)))) OR source = ANY(\(risks)))
            """, logger).map { try $0.decode(String.self) }
        let lists = priorities.isEmpty ? [] : try await c.rows("""
            SELECT id FROM record WHERE tenant = \(tenant) AND cluster = \(cluster) AND type = 'list' AND practice IS NULL
                AND id = ANY(\(Array(Set(priorities))))
            """, logger).map { try $0.decode(String.self) }
        let items = lists.isEmpty ? [] : try await c.rows("""
            SELECT DISTINCT record FROM field_write WHERE tenant = \(tenant) AND cluster = \(cluster) AND field = 'list' AND live
                AND value = ANY(\(lists.map { JSONValue.string($0).canonicalText })) AND practice IS NULL
            """, logger).map { try $0.decode(String.self) }
        try scratch.apply(try await loggedChanges(of: actions + lists + items, tenant: tenant, cluster: cluster, c))
        let logged = reads && paging.sendsLogged(movedAfter: movedAfter, compactedThrough: compactedThrough)
            ? try await sharedChanges(tenant: tenant, cluster: cluster, after: paging.after, c) : nil
        try scratch.read { db in
            let listed = try ServerOversight.visible(db, tenant: tenant, cluster: cluster, role: role)
            listings.keep(listed, tenant: tenant, cluster: cluster, role: role, version: clusterLast)
            paging.list(listed.ids, of: cluster)
            guard reads else { return }
            paging.take(try ServerOversight.changes(db, tenant: tenant, cluster: cluster, listed: listed, logged: logged,
                                                    after: paging.resume(in: cluster), limit: paging.rowsWanted), of: cluster)
        }
    }

    /// The cluster-shared changes of `cluster` stored after `after`, or nil when they are more
    /// than `OversightPaging.maxLoggedChanges` or `maxLoggedBytes` of text, as the SQLite store's
    /// `sharedChanges` reads them. Only the texts up to the first past the byte bound come over
    /// the connection.
    func sharedChanges(tenant: String, cluster: String, after: Int64, _ c: PostgresConnection) async throws -> [Change]? {
        OversightPaging.logged(texts: try await c.rows("""
            SELECT change_json FROM (
                SELECT change_json, sum(octet_length(change_json)) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING)
                                    - octet_length(change_json) AS before
                FROM log WHERE tenant = \(tenant) AND cluster = \(cluster) AND seq > \(after) AND practice IS NULL
                ORDER BY seq LIMIT \(OversightPaging.maxLoggedChanges + 1)
            ) counted WHERE before <= \(Int64(OversightPaging.maxLoggedBytes))
            """, logger).map { try $0.decode(String.self) })
    }
}
