import ClusterSyncCore
import GRDB

/// What a push looks up in the materialised tables before deciding its changes: the maker's
/// live writes of a field (`LeadPowers.leavesOwnWriteLive`) and the fields and sources near
/// their bounds (`FieldGrowth`). Shared by `SQLiteServerStore` and the in-memory store, which
/// hold the same tables; the PostgreSQL store asks the same of its own.
public enum PushLookups {
    /// The live writes `maker` made to `field` of `record` in one cluster, as stored now (a push
    /// asks whether a change leaves one live beside it: `LeadPowers.leavesOwnWriteLive`).
    public static func liveWrites(_ db: Database, tenant: String, cluster: String, record: RecordID, field: String,
                                  by maker: ReplicaID) throws -> [ChangeID] {
        try Int64.fetchAll(db.cachedStatement(sql: """
            SELECT c.counter FROM record rec JOIN change c ON c.record = rec.num JOIN replica r ON r.num = c.replica
            WHERE rec.tenant = ? AND rec.cluster = ? AND rec.id = ? AND c.field = ? AND r.id = ? AND c.live = 1
            """), arguments: [tenant, cluster, record.rawValue, field, maker.rawValue]).map { ChangeID(replica: maker, counter: $0) }
    }

    /// Those of `ids` the server's log holds in one cluster (`SupersessionReach`); one read of
    /// the log's unique key each.
    static func logged(_ db: Database, tenant: String, cluster: String, among ids: Set<ChangeID>) throws -> Set<ChangeID> {
        guard !ids.isEmpty else { return [] }
        let held = try db.cachedStatement(sql: "SELECT 1 FROM log WHERE tenant = ? AND cluster = ? AND replica = ? AND counter = ?")
        return try ids.filter { id in try Bool.fetchOne(held, arguments: [tenant, cluster, id.replica.rawValue, id.counter]) != nil }
    }

    /// Those of `replicas` retired in the cluster (`SupersessionReach`); read only for the
    /// makers of changes a push reaches that the store does not hold, which few pushes have.
    static func retired(_ db: Database, tenant: String, cluster: String, among replicas: Set<ReplicaID>) throws -> Set<ReplicaID> {
        guard !replicas.isEmpty else { return [] }
        let retired = try db.cachedStatement(sql: """
            SELECT 1 FROM replica_key WHERE tenant = ? AND cluster = ? AND replica = ? AND retired_at IS NOT NULL
            """)
        return try replicas.filter { try Bool.fetchOne(retired, arguments: [tenant, cluster, $0.rawValue]) != nil }
    }

    /// The actions of one cluster naming a record as `source` (its id's canonical JSON text the
    /// third argument), found through `change_by_value`; `+rec` as in `ServerOversight.visible`,
    /// so SQLite does not walk the cluster's records by `record_by_scope` instead.
    static let actionsNamingSource = """
        FROM record rec WHERE +rec.tenant = ? AND +rec.cluster = ?
        AND rec.num IN (SELECT record FROM change WHERE \(ServerOversight.byValue) AND field = 'source' AND value = ?)
        """

    /// What a push reads for `FieldGrowth` in one cluster (`FieldGrowth.PushReads`): counted,
    /// each group's live writes (up to `FieldGrowth.maxLiveWrites`) and each source's actions
    /// (found through `change_by_value`); then read, those that may be full.
    public static func nearlyFull(_ db: Database, tenant: String, cluster: String,
                                  for reads: FieldGrowth.PushReads) throws -> FieldGrowth.NearlyFull {
        guard !reads.groups.isEmpty else { return FieldGrowth.NearlyFull() }
        // A group is a field, or a map's entries: the fields after `votes:` and before `votes;`.
        func fields(_ group: FieldGrowth.Group) -> (sql: String, arguments: StatementArguments) {
            group.isMap ? ("c.field > ? AND c.field < ?", [group.name + ":", group.name + ";"]) : ("c.field = ?", [group.name])
        }
        let within = "rec.tenant = ? AND rec.cluster = ? AND rec.id = ?"
        var counted: [FieldGrowth.Group: Int] = [:]
        // The fields counted in one statement, each through its index entry (a push of 1,000
        // edits to 1,000 records asked a statement each, 5% of a push's time); a map's entries,
        // rare, one statement each.
        let fieldGroups = reads.groups.keys.filter { !$0.isMap }
        if !fieldGroups.isEmpty {
            let pairs = JSONValue.array(fieldGroups.map { .array([.string($0.record.rawValue), .string($0.name)]) }).canonicalText
            for row in try Row.fetchAll(db.cachedStatement(sql: """
                SELECT p.value ->> 0, p.value ->> 1,
                       (SELECT count(*) FROM (SELECT 1 FROM change c WHERE c.record = rec.num AND c.field = p.value ->> 1 AND c.live = 1 LIMIT ?))
                FROM json_each(?) p CROSS JOIN record rec ON rec.tenant = ? AND rec.cluster = ? AND rec.id = p.value ->> 0
                """), arguments: [FieldGrowth.maxLiveWrites, pairs, tenant, cluster]) {
                if let record = RecordID(row[0] as String) { counted[FieldGrowth.Group(record: record, field: row[1])] = row[2] }
            }
        }
        for group in reads.groups.keys where group.isMap {
            let (sql, arguments) = fields(group)
            counted[group] = try Int.fetchOne(db.cachedStatement(sql: """
                SELECT count(*) FROM (SELECT 1 FROM record rec JOIN change c ON c.record = rec.num
                                      WHERE \(within) AND \(sql) AND c.live = 1 LIMIT ?)
                """), arguments: [tenant, cluster, group.record.rawValue] + arguments + [FieldGrowth.maxLiveWrites]) ?? 0
        }
        var countedActions: [RecordID: Int] = [:]
        for source in reads.sources.keys {
            countedActions[source] = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM (SELECT 1 \(actionsNamingSource) LIMIT ?)"),
                arguments: [tenant, cluster, JSONValue.string(source.rawValue).canonicalText, FieldGrowth.maxActionsPerSource]) ?? 0
        }
        let toRead = reads.toRead(counted: { counted[$0] ?? 0 }, countedActions: { countedActions[$0] ?? 0 })
        var nearlyFull = FieldGrowth.NearlyFull()
        for group in toRead.groups {
            let (sql, arguments) = fields(group)
            nearlyFull.groups[group] = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT c.field, r.id, c.counter FROM record rec JOIN change c ON c.record = rec.num JOIN replica r ON r.num = c.replica
                WHERE \(within) AND \(sql) AND c.live = 1
                """), arguments: [tenant, cluster, group.record.rawValue] + arguments).compactMap { row in
                ReplicaID(row[1] as String).map { FieldGrowth.LiveWrite(field: row[0], id: ChangeID(replica: $0, counter: row[2])) }
            }
        }
        for source in toRead.sources {
            nearlyFull.sources[source] = Set(try String.fetchAll(db.cachedStatement(sql: "SELECT rec.id \(actionsNamingSource)"),
                arguments: [tenant, cluster, JSONValue.string(source.rawValue).canonicalText]).compactMap(RecordID.init))
        }
        return nearlyFull
    }
}
