import ClusterSyncCore

/// Who this replica is: made once by `init`, never changed.
public struct ReplicaIdentity: Sendable, Equatable {
    public var replicaID: ReplicaID
    public var tenant: String
    public var cluster: String
    public var practice: String
    public var displayName: String

    public init(replicaID: ReplicaID, tenant: String, cluster: String, practice: String, displayName: String) {
        self.replicaID = replicaID
        self.tenant = tenant
        self.cluster = cluster
        self.practice = practice
        self.displayName = displayName
    }

    /// The scope of a record this replica creates.
    public func scope(private isPrivate: Bool) -> RecordScope {
        RecordScope(tenant: tenant, cluster: cluster, practice: isPrivate ? practice : nil)
    }

    /// Whether this replica may hold a record of `scope`: its cluster's shared records and its
    /// own practice's private ones.
    public func mayHold(_ scope: RecordScope) -> Bool {
        ChangeAdmission.holds(scope, tenant: tenant, cluster: cluster, practice: practice)
    }
}
