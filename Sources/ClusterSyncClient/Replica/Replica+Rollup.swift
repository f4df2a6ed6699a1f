import ClusterSyncCore
import ClusterSyncStorage
import GRDB

/// Roll-ups computed from the cluster-shared records this replica holds: what `clustersync
/// rollup` and `clustersync report --html` print. A practice's or cluster lead's replica holds
/// its whole cluster's shared records, so its roll-up is the cluster's (its private records count
/// nowhere). A PCPG's or Health Board's replica returns the roll-up the server sent at its last sync
/// (aggregated from the server's kept contributions, at the server's day).
extension Replica {
    /// The roll-up of every cluster this replica holds shared records of (one, for a practice),
    /// or only `cluster`'s; on `today` (default: the replica's clock's day).
    /// `region`: on a Health Board's replica, one of its regions (a PCPG's county).
    public func rollup(cluster: String? = nil, region: String? = nil, today: CalendarDate? = nil) throws -> RegionRollup {
        // A PCPG's or Health Board's replica holds the server's roll-up, not the records.
        if try oversightRole() != nil { return try storedRollup(cluster: cluster, region: region) }
        if region != nil {
            throw ClusterSyncError(.invalidValue, "this is a practice's replica of one cluster: a region's roll-up is read on a PCPG's or Health Board's replica",
                                   field: "region")
        }
        let today = today ?? self.today
        let identity = try identity()
        var byCluster: [String: [RollupContribution]] = [:]
        byCluster[identity.cluster] = []
        for view in try rollupInputs() where view.scope.tenant == identity.tenant && view.scope.practice == nil {
            byCluster[view.scope.cluster, default: []] += RollupContribution(view).map { [$0] } ?? []
        }
        if let cluster, byCluster[cluster] == nil {
            throw ClusterSyncError(.invalidValue, "this replica holds no records of cluster \(PatientDataGuard.quotable(cluster) ?? "so named"); "
                + "it holds \(byCluster.keys.sorted().joined(separator: ", "))", field: "cluster")
        }
        let rollups = byCluster.filter { cluster == nil || $0.key == cluster }.map {
            ClusterRollup(tenant: identity.tenant, cluster: $0.key, contributions: $0.value, today: today)
        }
        return RegionRollup(tenant: identity.tenant, region: nil, clusters: rollups)
    }

    /// The cluster-shared records of the types that contribute, with only the live writes a
    /// contribution reads (`RollupContribution.inputs`, and `deleted`): not every action's notes
    /// and every meeting's minutes (the scale audit: 0.6 s of the roll-up page decoded them). A
    /// record holding none of those still comes, so that it counts as existing; a field another
    /// type reads (a risk's `date`) comes too and, by `inputs`' rule, changes nothing.
    func rollupInputs() throws -> [RecordView] {
        let types = RecordType.allCases.filter { RollupContribution.inputs(of: $0) != nil }
        let fields = types.reduce(into: Set([RecordSchema.deletedField.name])) { $0.formUnion(RollupContribution.inputs(of: $1) ?? []) }
        return try database.read { db in
            try ChangeReader.views(db, where: "rec.practice IS NULL AND rec.type IN (SELECT value FROM json_each(?))",
                                   arguments: [JSONValue.array(types.map { .string($0.rawValue) }).canonicalText],
                                   fields: fields, everyRecord: true)
        }
    }
}
