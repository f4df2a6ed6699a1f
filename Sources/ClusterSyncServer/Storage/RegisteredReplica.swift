import ClusterSyncCore

/// A replica whose key the server registered (PROTOCOL.md §6.2), as `clustersyncd replica list`
/// shows it: which laptop is whose, so that a lost one can be retired.
public struct RegisteredReplica: Sendable, Equatable {
    public var tenant: String
    public var cluster: String
    public var registration: ReplicaRegistration
    /// How many of its changes the store holds, and the highest counter among them (nil: none).
    public var changesStored: Int
    public var lastCounter: Int64?

    public init(tenant: String, cluster: String, registration: ReplicaRegistration, changesStored: Int, lastCounter: Int64?) {
        self.tenant = tenant
        self.cluster = cluster
        self.registration = registration
        self.changesStored = changesStored
        self.lastCounter = lastCounter
    }

    /// The one registration of `replica` among a tenant's `found` (in `cluster`, when given):
    /// an administrator types the id `replica list` shows, and every store answers alike.
    public static func single(_ found: [Self], replica: ReplicaID, tenant: String, cluster: String?) throws(ClusterSyncError) -> Self {
        let matching = found.filter { cluster == nil || $0.cluster == cluster }
        guard let first = matching.first else {
            throw ClusterSyncError(.unknownRecord,
                "no replica \(replica) is registered in \(tenant)\(cluster.map { "/\($0)" } ?? ""): `clustersyncd replica list --tenant \(tenant)` lists those that are")
        }
        guard matching.count == 1 else {
            throw ClusterSyncError(.invalidValue,
                "replica \(replica) is registered in clusters \(matching.map(\.cluster).joined(separator: ", ")) of \(tenant): name one with --cluster")
        }
        return first
    }
}
