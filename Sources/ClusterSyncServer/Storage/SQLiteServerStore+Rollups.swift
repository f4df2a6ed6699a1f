import ClusterSyncCore
import ClusterSyncStorage
import GRDB

/// Roll-ups kept by the server (issue 10): one `RollupContribution` per cluster-shared record,
/// upserted in the transaction of the push that touched the record; a cluster's or region's
/// roll-up is aggregated from those rows at read time, never from the log. And what a read-only
/// session pulls: its roll-up and the records escalated to it (`ServerOversight`).
extension SQLiteServerStore {
    /// Bumped whenever `RollupContribution` changes what it keeps, or the rules it is computed
    /// by: stored rows of another format are recomputed when the store opens. 2: a senior
    /// administrator alone counts for CND014W only when agreed (2026-12-05; PostgreSQL's
    /// migration v7 does the same there). 3: a risk's category, a decision's financial
    /// implications and amount (2026-12-06; PostgreSQL's v9). 4: practices' contributions to the
    /// plan (2026-12-06; PostgreSQL's v10). 5: meetings of every body, not the GP
    /// Collaborative's alone (2026-12-06; PostgreSQL's v12).
    static let rollupFormat: Int64 = 5

    /// Recomputes every contribution when the rows are of another format (or the store predates
    /// them). Called when the store opens.
    static func refreshContributions(_ db: Database) throws {
        if try Int64.fetchOne(db, sql: "SELECT format FROM rollup_format") == rollupFormat { return }
        try db.execute(sql: "DELETE FROM rollup_contribution")
        let views = try ChangeReader.views(db, where: "rec.practice IS NULL")
        let insert = try db.cachedStatement(sql: "INSERT INTO rollup_contribution (tenant, cluster, record, contribution) VALUES (?, ?, ?, ?)")
        for view in views {
            guard let contribution = RollupContribution(view) else { continue }
            try insert.execute(arguments: [view.scope.tenant, view.scope.cluster, view.id.rawValue, try ServerOversight.encode(contribution)])
        }
        try db.execute(sql: """
            INSERT INTO rollup_format (singleton, format) VALUES (1, ?) ON CONFLICT (singleton) DO UPDATE SET format = excluded.format
            """, arguments: [rollupFormat])
    }

    /// Recomputes the contributions a push's accepted changes may have changed
    /// (`RollupContribution.mayChange`), inside its transaction: most edits (a title, an owner,
    /// controls) touch no field a contribution is read from, and reading and encoding a
    /// thousand records' contributions cost a push of a thousand such edits a quarter of its
    /// time.
    static func updateContributions(_ db: Database, tenant: String, cluster: String, changes: [Change]) throws {
        var byRecord: [RecordID: [Change]] = [:]
        for change in changes where change.scope.practice == nil && RollupContribution.inputs(of: change.record.type) != nil {
            byRecord[change.record, default: []].append(change)
        }
        guard !byRecord.isEmpty else { return }
        let contributes = try BoundStatement(db, sql: "SELECT 1 FROM rollup_contribution WHERE tenant = ? AND cluster = ? AND record = ?")
        var records = Set<RecordID>()
        for (record, changes) in byRecord {
            // Whether the record contributed yet matters only when the changes touch none of
            // its contribution's inputs (a push of a thousand changes asks up to a thousand times).
            if RollupContribution.mayChange(record.type, by: changes, hadContribution: true) {
                records.insert(record)
                continue
            }
            let had = try contributes.firstRow(.text(tenant), .text(cluster), .text(record.rawValue)) { _ in true } ?? false
            if RollupContribution.mayChange(record.type, by: changes, hadContribution: had) { records.insert(record) }
        }
        try updateContributions(db, tenant: tenant, cluster: cluster, records: records)
    }

    /// Recomputes the contributions of the cluster-shared records given, from the
    /// materialised records as they now are (inside the push's transaction).
    static func updateContributions(_ db: Database, tenant: String, cluster: String, records: Set<RecordID>) throws {
        let ids = records.map(\.rawValue)
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO rollup_contribution (tenant, cluster, record, contribution) VALUES (?, ?, ?, ?)
            ON CONFLICT (tenant, cluster, record) DO UPDATE SET contribution = excluded.contribution
            """)
        let remove = try db.cachedStatement(sql: "DELETE FROM rollup_contribution WHERE tenant = ? AND cluster = ? AND record = ?")
        var start = 0
        while start < ids.count {
            let chunk = Array(ids[start..<min(start + 500, ids.count)])
            start += chunk.count
            var arguments: StatementArguments = [tenant, cluster]
            arguments += StatementArguments(chunk)
            let views = try ChangeReader.views(db, where: """
                rec.tenant = ? AND rec.cluster = ? AND rec.practice IS NULL AND rec.id IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ",")))
                """, arguments: arguments)
            var contributed = Set<String>()
            for view in views {
                guard let contribution = RollupContribution(view) else { continue }
                contributed.insert(view.id.rawValue)
                try upsert.execute(arguments: [tenant, cluster, view.id.rawValue, try ServerOversight.encode(contribution)])
            }
            for id in chunk where !contributed.contains(id) {
                try remove.execute(arguments: [tenant, cluster, id])
            }
        }
    }

    public func rollup(tenant: String, region: String?, today: CalendarDate) async throws -> RegionRollup {
        try await read { db in try self.rollup(db, tenant: tenant, region: region, today: today) }
    }

    /// Aggregated per cluster; a cluster nothing was pushed to since its last aggregation is not
    /// read again, and of one that was only the contributions that changed are decoded
    /// (`ClusterRollupCache`).
    func rollup(_ db: Database, tenant: String, region: String?, today: CalendarDate) throws -> RegionRollup {
        try versionedRollup(db, tenant: tenant, region: region, today: today).rollup
    }

    /// The roll-up as a read-only page carries it (`ClusterRollupCache.json`); `known`, the
    /// versions the page already read in this transaction.
    func rollupJSON(_ db: Database, tenant: String, region: String?, today: CalendarDate, known: [String: Int64]) throws -> JSONValue {
        rollups.json(of: try versionedRollup(db, tenant: tenant, region: region, today: today, known: known).rollup)
    }

    /// The roll-up, and the version (newest log row) of each cluster it was aggregated at (read
    /// unless `known`).
    private func versionedRollup(_ db: Database, tenant: String, region: String?, today: CalendarDate,
                                 known: [String: Int64] = [:]) throws -> (rollup: RegionRollup, versions: [String: Int64]) {
        let contributions = try db.cachedStatement(sql: "SELECT record, contribution FROM rollup_contribution WHERE tenant = ? AND cluster = ?")
        var versions: [String: Int64] = [:]
        let registered = try Self.registeredPractices(db, tenant: tenant)
        let regions = Dictionary(try Row.fetchAll(db, sql: "SELECT name, region FROM cluster WHERE tenant = ?", arguments: [tenant])
            .map { ($0[0] as String, $0[1] as String?) }, uniquingKeysWith: { a, _ in a })
        let clusters = try Self.clusterNames(db, tenant: tenant, region: region).map { cluster in
            let version = try known[cluster] ?? Self.clusterLast(db, tenant: tenant, cluster: cluster)
            versions[cluster] = version
            let rollup = try rollups.rollup(tenant: tenant, cluster: cluster, version: version, today: today) ?? {
                let rows = try Row.fetchAll(contributions, arguments: [tenant, cluster]).map { (record: $0[0] as String, text: $0[1] as String) }
                return try rollups.refresh(tenant: tenant, cluster: cluster, version: version, today: today, rows: rows)
            }()
            return rollup.namingOnly(registered: registered[cluster] ?? [:], region: regions[cluster] ?? nil)
        }
        return (RegionRollup(tenant: tenant, region: region, clusters: clusters), versions)
    }

    /// Each cluster's registered practices with their kinds, by cluster.
    static func registeredPractices(_ db: Database, tenant: String) throws -> [String: [String: PracticeKind]] {
        var practices: [String: [String: PracticeKind]] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT cluster, name, kind FROM practice WHERE tenant = ?"), arguments: [tenant]) {
            practices[row[0] as String, default: [:]][row[1] as String] = RegisteredPractice.kind(stored: row[2])
        }
        return practices
    }

    /// The sequence number of a cluster's newest log row (0 for none): it moves with every
    /// push to the cluster and never returns (log rows are never removed).
    static func clusterLast(_ db: Database, tenant: String, cluster: String) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(seq) FROM log WHERE tenant = ? AND cluster = ?"), arguments: [tenant, cluster]) ?? 0
    }

    /// A region's clusters, or every cluster of the tenant.
    static func clusterNames(_ db: Database, tenant: String, region: String?) throws -> [String] {
        if let region {
            try requireRegion(region, tenant: tenant, db)
            return try String.fetchAll(db, sql: "SELECT name FROM cluster WHERE tenant = ? AND region = ? ORDER BY name", arguments: [tenant, region])
        }
        try requireTenant(tenant, db)
        return try String.fetchAll(db, sql: "SELECT name FROM cluster WHERE tenant = ? ORDER BY name", arguments: [tenant])
    }

    /// The cluster-shared changes of `cluster` stored after `after`, as logged (through
    /// `log_by_cluster`, which holds `practice`), or nil when they are more than
    /// `OversightPaging.maxLoggedChanges` or `maxLoggedBytes` of text, read no further
    /// (`OversightPaging.LoggedTexts`).
    /// `INDEXED BY`, as a pull's: otherwise SQLite walks every cluster's log rows after the
    /// position (the log's own key), whole rows included, for each cluster it reads.
    static let sharedChangesSQL = """
        SELECT change_json FROM log INDEXED BY log_by_cluster WHERE tenant = ? AND cluster = ? AND seq > ? AND practice IS NULL
        ORDER BY seq LIMIT ?
        """

    static func sharedChanges(_ db: Database, tenant: String, cluster: String, after: Int64) throws -> [Change]? {
        let texts = try String.fetchCursor(db.cachedStatement(sql: sharedChangesSQL),
                                           arguments: [tenant, cluster, after, OversightPaging.maxLoggedChanges + 1])
        var logged = OversightPaging.LoggedTexts()
        while let text = try texts.next() {
            guard logged.take(text) else { return nil }
        }
        return logged.changes
    }

    /// A read-only session's page (PROTOCOL.md §7.1, `OversightPaging`): of each cluster stored
    /// to after the pull's position, the changes of the records escalated to it
    /// (`ServerOversight.changes`: a newly escalated risk arrives with its history), its roll-up,
    /// and the list of the records it may hold.
    func oversightPull(for identity: SessionIdentity, after cursor: ClusterSyncCore.Cursor?, snapshot: Bool = false, limit: Int) async throws -> ChangesPage {
        let today = CalendarDate(unixMillis: wallClock())
        return try await read { db in
            let current = try Int64.fetchOne(db, sql: "SELECT last FROM tenant_sequence WHERE tenant = ?", arguments: [identity.tenant]) ?? 0
            var paging = try OversightPaging(cursor: cursor, snapshot: snapshot, limit: limit, currentEnd: current)
            if paging.startsAtStreamPosition { try Self.requireKept(db, tenant: identity.tenant, after: paging.after) }
            let region = identity.role == .pcpg ? identity.region : nil
            let compactedThrough = try Self.compactedThrough(db, tenant: identity.tenant)
            var versions: [String: Int64] = [:]
            for cluster in paging.ordered(try Self.clusterNames(db, tenant: identity.tenant, region: region)) where !paging.hasMore {
                let version = try Self.clusterLast(db, tenant: identity.tenant, cluster: cluster)
                versions[cluster] = version
                let listed = try self.listings.listed(tenant: identity.tenant, cluster: cluster, role: identity.role, version: version) ?? {
                    let found = try ServerOversight.visible(db, tenant: identity.tenant, cluster: cluster, role: identity.role)
                    self.listings.keep(found, tenant: identity.tenant, cluster: cluster, role: identity.role, version: version)
                    return found
                }()
                paging.list(listed.ids, of: cluster)
                let movedAfter = try Int64.fetchOne(db.cachedStatement(sql: "SELECT moved_after FROM cluster WHERE tenant = ? AND name = ?"),
                                                    arguments: [identity.tenant, cluster])
                if paging.reads(cluster, clusterLast: version, movedAfter: movedAfter) {
                    let logged = paging.sendsLogged(movedAfter: movedAfter, compactedThrough: compactedThrough)
                        ? try Self.sharedChanges(db, tenant: identity.tenant, cluster: cluster, after: paging.after) : nil
                    paging.take(try ServerOversight.changes(db, tenant: identity.tenant, cluster: cluster, listed: listed, logged: logged,
                                                            after: paging.resume(in: cluster), limit: paging.rowsWanted), of: cluster)
                }
            }
            return paging.page(rollup: paging.hasMore ? nil : try self.rollupJSON(db, tenant: identity.tenant, region: region, today: today,
                                                                                  known: versions))
        }
    }
}
