import ClusterSyncCore

/// Where the server keeps tenants, credentials and changes. The session logic talks only to this
/// protocol: SQLite (`SQLiteServerStore`) is the embedded default; PostgreSQL follows in its own
/// issue. Implementations hold no session state and are safe to call from many sessions at once.
public protocol ServerStore: Sendable {
    // MARK: Administration (clustersyncd tenant/cluster/practice/credential)

    func addTenant(_ tenant: String) async throws
    func addCluster(_ cluster: String, tenant: String) async throws
    func addPractice(_ practice: String, cluster: String, tenant: String) async throws
    /// Issues a bearer token for a practice; returns the token, which is shown once and stored
    /// only as a hash. `label` says whose it is (a person or a laptop) and becomes the author.
    func issueToken(practice: String, cluster: String, tenant: String, label: String?) async throws -> String
    /// The practices of a tenant (all tenants when nil), for listings.
    func practices(tenant: String?) async throws -> [PracticePath]

    // MARK: Authentication

    /// The identity a bearer token stands for, or nil if it is unknown or revoked. Compares the
    /// token's hash in constant time.
    func authenticate(token: String) async throws -> SessionIdentity?
    /// Whether the practice named by a client certificate is registered.
    func isRegistered(_ practice: PracticePath) async throws -> Bool

    // MARK: Sync

    /// Stores a batch of already validated changes for `identity`, whole or not at all, stamping
    /// each with `AuthorStamp.author(of:pushedBy:fromReplica:)` (nil `replica`: every change is
    /// the identity's own) and giving each new one the tenant's next sequence number.
    /// Change ids, replica ids and record ids are keyed within the tenant and cluster: nothing
    /// another tenant or cluster stored affects the outcome. A change the server already has
    /// (same id in the cluster) counts as a duplicate and is not stored again. Each change goes
    /// through `ReplicaOwnership.decide` (the first practice to push as a replica owns its id in
    /// the cluster; `replica` is the session's hello replica) and
    /// `ChangeAdmission.recordScope`; a refusal throws a `PushRejection` naming the change.
    func push(_ changes: [Change], as identity: SessionIdentity, from replica: ReplicaID?) async throws -> PushOutcome
    /// The changes `identity` may see after `cursor` (nil: from the start), oldest first, at most
    /// `limit`. Costs what it returns, not what is stored.
    func pull(for identity: SessionIdentity, after cursor: Cursor?, limit: Int) async throws -> ChangesPage
    /// A cursor at the current end of the tenant's stream, for a subscription that starts now.
    func currentCursor(tenant: String) async throws -> Cursor

    // MARK: Oversight

    /// The tenant's cluster-shared records (of one cluster, or all) that have open conflicts,
    /// read from the materialised state, sorted by id. Practice-private records are left out:
    /// they are the practice's, not the Health Board's. Never returns another tenant's records.
    /// Throws `invalidValue` for an unknown tenant or cluster.
    func conflicts(tenant: String, cluster: String?) async throws -> [RecordConflictSummary]
}

extension ServerStore {
    /// Stores changes that are all `identity`'s own.
    public func push(_ changes: [Change], as identity: SessionIdentity) async throws -> PushOutcome {
        try await push(changes, as: identity, from: nil)
    }
}

public struct PushOutcome: Sendable, Equatable {
    public var accepted: Int
    public var duplicates: Int

    public init(accepted: Int, duplicates: Int) {
        self.accepted = accepted
        self.duplicates = duplicates
    }
}

/// A practice's place: tenant (Health Board), cluster, practice.
public struct PracticePath: Sendable, Hashable, CustomStringConvertible {
    public var tenant: String
    public var cluster: String
    public var practice: String

    public init(tenant: String, cluster: String, practice: String) {
        self.tenant = tenant
        self.cluster = cluster
        self.practice = practice
    }

    public var description: String { "\(tenant)/\(cluster)/\(practice)" }
}
