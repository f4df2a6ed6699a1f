import ClusterSyncCore
import Foundation

/// Where the server keeps tenants, credentials and changes. The session logic talks only to this
/// protocol: SQLite (`SQLiteServerStore`) is the embedded default; PostgreSQL follows in its own
/// issue. Implementations hold no session state and are safe to call from many sessions at once.
public protocol ServerStore: Sendable {
    // MARK: Administration (clustersyncd tenant/cluster/practice/credential)

    func addTenant(_ tenant: String) async throws
    /// Adds a cluster, in `region` (which must exist in the tenant) or in none.
    func addCluster(_ cluster: String, tenant: String, region: String?) async throws
    /// Adds a practice of `kind` to a cluster. Throws `invalidValue` for an unknown tenant or
    /// cluster, or a practice of that name already in the cluster.
    func addPractice(_ practice: String, cluster: String, tenant: String, kind: PracticeKind) async throws
    /// Records what kind of practice a registered one is. Throws `unknownRecord` for a practice
    /// not registered.
    func setKind(_ kind: PracticeKind, of practice: PracticePath) async throws
    /// Issues a bearer token for `holder` (a practice with its role, a pcpg's region or a
    /// health board's tenant, which must be registered); returns the token, which is shown once
    /// and stored only as a hash. `label` says whose it is (a person or a laptop) and becomes the
    /// author. `expiresAt` (ms since 1970; nil: never) is when the token stops opening sessions.
    func issueToken(for holder: CredentialHolder, label: String?, expiresAt: Int64?) async throws -> String
    /// Records a client certificate this server's CA issued for a practice (serial as lowercase
    /// hex without leading zeros, `CertificateSerial.normalised`), with the practice's role or the
    /// cluster lead's, so it can be listed and revoked; returns its credential id. `expiresAt` is
    /// the certificate's own notAfter. A certificate names a practice: pcpg and health-board
    /// credentials are tokens.
    func recordCertificate(serial: String, for practice: PracticePath, role: CredentialRole, label: String?, expiresAt: Int64?) async throws -> String
    /// The tenants, sorted.
    func tenants() async throws -> [String]
    /// The clusters of a tenant (all tenants when nil), sorted, each with its region. Throws
    /// `invalidValue` for an unknown tenant.
    func clusters(tenant: String?) async throws -> [ClusterPath]

    // MARK: Regions (clustersyncd region; what a pcpg credential covers)

    /// Adds a region (a county) to a tenant. Throws `invalidValue` for an unknown tenant or a
    /// region that already exists.
    func addRegion(_ region: String, tenant: String) async throws
    /// The regions of a tenant (all tenants when nil), sorted, each with its clusters. Throws
    /// `invalidValue` for an unknown tenant.
    func regions(tenant: String?) async throws -> [RegionSummary]
    /// Puts an existing cluster in `region` (nil: in none). Throws `invalidValue` for an unknown
    /// tenant, cluster or region.
    func setRegion(_ region: String?, ofCluster cluster: String, tenant: String) async throws
    /// The clusters of one region of a tenant, sorted. Never another tenant's. Throws
    /// `invalidValue` for an unknown tenant or region.
    func clusters(ofRegion region: String, tenant: String) async throws -> [String]
    /// The region a cluster of a tenant is in; nil when it is in none. Throws `invalidValue` for
    /// an unknown tenant or cluster.
    func region(ofCluster cluster: String, tenant: String) async throws -> String?
    /// The practices of a tenant (all tenants when nil), with their kinds, for listings.
    func practices(tenant: String?) async throws -> [RegisteredPractice]

    // MARK: Credentials (clustersyncd credential list/revoke; checked by every session)

    /// The credentials of a tenant (all when nil), oldest first, revoked and expired included.
    func credentials(tenant: String?) async throws -> [CredentialRecord]
    /// One credential by id, whatever its state; nil if there is none.
    func credential(id: String) async throws -> CredentialRecord?
    /// The credential a bearer token is (its secret's hash compared in constant time), whatever
    /// its state, so that the session can say "revoked" or "expired"; nil if unknown.
    func credential(token: String) async throws -> CredentialRecord?
    /// The certificate credential of a tenant with this serial, if this server issued it.
    func credential(serial: String, tenant: String) async throws -> CredentialRecord?
    /// Revokes a credential by id; returns it as it now is. Throws `unknownRecord` when there is
    /// none. Revoking twice keeps the first time.
    func revokeCredential(id: String) async throws -> CredentialRecord
    /// Revokes a certificate by serial within a tenant: the recorded one if this server issued
    /// it, else a serial on the tenant's revocation list (a certificate its own CA issued).
    func revokeCertificate(serial: String, tenant: String) async throws
    /// Whether a serial is on the tenant's revocation list (certificates not issued here).
    func isRevoked(serial: String, tenant: String) async throws -> Bool
    /// Notes that a session started with the credential: one write per session, not per message.
    func markUsed(credential id: String, at: Int64) async throws
    /// The state of many credentials of one tenant in one read (`CredentialStates`): the
    /// records of `ids` that exist in `tenant`, and which of `serials` are on its revocation
    /// list. What subscribed sessions woken together are re-checked against
    /// (`SubscribedCredentials`). A default reads them one at a time.
    func credentialStates(ids: Set<String>, serials: Set<String>, tenant: String) async throws -> CredentialStates

    // MARK: Audit (clustersyncd audit)

    /// Appends to the session log, and drops entries older than `keepAfter` (ms since 1970) so
    /// the log stays bounded.
    func recordAudit(_ entry: AuditEntry, keepAfter: Int64) async throws
    /// A welcomed session's start in one write (one commit before the welcome, not two): the
    /// credential's last use (`markUsed`, when `credential` is given) and the session log's
    /// entry (`recordAudit`). A default makes the two calls.
    func recordSessionStart(_ entry: AuditEntry, credential: String?, keepAfter: Int64) async throws
    /// A tenant's session log (all entries, those with no known tenant included, when nil) at or
    /// after `since`, oldest first, at most `limit`.
    func audit(tenant: String?, since: Int64?, limit: Int) async throws -> [AuditEntry]

    // MARK: Authentication

    /// Whether the practice named by a client certificate is registered.
    func isRegistered(_ practice: PracticePath) async throws -> Bool

    // MARK: Replica keys (PROTOCOL.md §6.2)

    /// Registers the key a hello presents for its replica id to the session's practice and
    /// `person`, in its tenant and cluster, by `ReplicaKeys.decide`: the first presentation
    /// registers it; the same key again is accepted; another key for the replica id, or a
    /// replica id another practice owns or registered, throws `key-mismatch`. Returns the
    /// registration.
    func registerReplicaKey(_ key: ReplicaPublicKey, replica: ReplicaID, session identity: SessionIdentity,
                            person: String?) async throws -> ReplicaRegistration
    /// The registrations of these replica ids in a tenant and cluster (those that have one).
    func replicaRegistrations(_ replicas: Set<ReplicaID>, tenant: String, cluster: String) async throws -> [ReplicaID: ReplicaRegistration]
    /// The replicas registered in a tenant (in one cluster, or all), by cluster, then oldest
    /// first. Throws `invalidValue` for an unknown tenant.
    func registeredReplicas(tenant: String, cluster: String?) async throws -> [RegisteredReplica]
    /// Retires a registered replica, for good, at `at` (ms since 1970), and returns it as it now
    /// is: its hello is refused, and so is every change in its name the store does not hold
    /// (`ReplicaKeys.admitNew`), while others may write over those (`SupersessionReach`).
    /// Retiring twice keeps the first time. Throws `unknownRecord` when the tenant (or
    /// `cluster`) has no such replica, and `invalidValue` when several of its clusters have and
    /// `cluster` is nil.
    func retireReplica(_ replica: ReplicaID, tenant: String, cluster: String?, at: Int64) async throws -> RegisteredReplica

    // MARK: Sync

    /// This store's identity (`welcome.store`, PROTOCOL.md §5.2): random, made when the store is
    /// created and made again when a backup is restored, so a replica whose cursor belongs to
    /// the stream before a restore knows to push its changes again and pull from the start.
    func storeIdentity() async throws -> String
    /// The head of a tenant's tamper-evident chain (`welcome.head`, PROTOCOL.md §15): its last
    /// entry's seq and hash; nil before the first change, or for a store that keeps no chain.
    func chainHead(tenant: String) async throws -> LedgerHead?

    /// Stores a batch of already validated changes for `identity`, whole or not at all, stamping
    /// each with `ReplicaKeys.author(of:registration:pushedBy:fromReplica:)` (its maker's
    /// registered author; for a maker without a key, which only direct callers push since a
    /// session verifies signatures first, the older `AuthorStamp` rule, nil `replica` meaning
    /// every change is the identity's own) and giving each new one the tenant's next sequence
    /// number. A change whose maker has a registration passed `PushValidation` with its key, so
    /// it is stored (or counted a duplicate) whoever relays it.
    /// Change ids, replica ids and record ids are keyed within the tenant and cluster: nothing
    /// another tenant or cluster stored affects the outcome. A change the server already has
    /// (same id in the cluster) counts as a duplicate and is not stored again. Each change of a maker without a key goes
    /// through `ReplicaOwnership.decide` (the first practice to push as a replica owns its id in
    /// the cluster; `replica` is the session's hello replica) and
    /// `ChangeAdmission.recordScope`; a refusal throws a `PushRejection` naming the change.
    func push(_ changes: [Change], as identity: SessionIdentity, from replica: ReplicaID?) async throws -> PushOutcome
    /// The changes `identity` may see after `cursor` (nil: from the start), oldest first, at most
    /// `limit`. Costs what it returns, not what is stored. A read-only role's page is its
    /// oversight page (`OversightPaging`), which `cursor` may continue (an `OversightCursor`).
    func pull(for identity: SessionIdentity, after cursor: Cursor?, limit: Int) async throws -> ChangesPage
    /// What a session sends: `pull`'s page with each change as the canonical text it is stored
    /// in (`ChangesPage.storedTexts`, never decoded and re-encoded), and without the changes of
    /// `excluding` (a subscription's own replica; nil: none left out). The cursor moves past
    /// the changes left out. The default decodes through `pull`; a store that keeps canonical
    /// text sends it as it is.
    func pullStored(for identity: SessionIdentity, after cursor: Cursor?, limit: Int, excluding replica: ReplicaID?) async throws -> ChangesPage
    /// A cursor at the current end of the tenant's stream, for a subscription that starts now.
    func currentCursor(tenant: String) async throws -> Cursor
    /// The newest rows of the tenant's log after `after`, at most `newest` of them and `maxBytes`
    /// of text (all clusters and practices, each with its scope and the text `pullStored` would
    /// send), the stream's end and the compaction's reach, all of one snapshot (`LogTail`). nil:
    /// this store cannot (the default); its subscriptions each read their own pages.
    func logTail(tenant: String, after: Int64, newest: Int, maxBytes: Int) async throws -> LogTail?

    // MARK: Snapshots and compaction (PROTOCOL.md §5.7, §7.2, §15)

    /// A page of the materialised state `identity` may see (`SnapshotReader`'s rows for a
    /// practice; a read-only role's pull from the start, `OversightPaging`), at most `limit` changes after
    /// `cursor` (nil: the first page). Every page's `more` says whether another follows; its
    /// `cursor` is the next page's `SnapshotCursor`, or on the last page the `StreamCursor` the
    /// snapshot stands for (read with the first page), from which the client pulls on.
    func snapshot(for identity: SessionIdentity, after cursor: SnapshotCursor?, limit: Int) async throws -> Snapshot
    /// `snapshot`'s page as it goes on the wire: a store that can write each change's canonical
    /// text from its columns puts it in `storedTexts` (not decoded, not re-encoded). The default
    /// is `snapshot`'s page.
    func snapshotStored(for identity: SessionIdentity, after cursor: SnapshotCursor?, limit: Int) async throws -> Snapshot
    /// A page of one record's changes as the store still holds them (live and superseded, those
    /// compacted away excepted), at most `limit` after `cursor` (a `HistoryCursor`; nil: the
    /// first page). Scoped as pulls are: a record the identity may not see reads as no changes.
    func history(of record: RecordID, for identity: SessionIdentity, after cursor: Cursor?, limit: Int) async throws -> HistoryPage
    /// Compacts the tenant's log: first notes the stream's end at `now` (a mark), then drops the
    /// texts and materialised rows of the superseded changes (never live ones, list positions or
    /// redactions) accepted at or before the latest mark noted at or before `cutoff` (ms since
    /// 1970). Pulls from a position before that seq are then `cursor-expired`. Records the chain
    /// entry at that seq as the checkpoint. Throws `invalidValue` for an unknown tenant.
    func compact(tenant: String, olderThan cutoff: Int64, now: Int64) async throws -> CompactionOutcome
    /// The tenant's last compaction; nil if its log was never compacted.
    func compaction(tenant: String) async throws -> LedgerCompaction?

    // MARK: Oversight

    /// The tenant's cluster-shared records (of one cluster, or all) that have open conflicts,
    /// read from the materialised state, sorted by id. Practice-private records are left out:
    /// they are the practice's, not the Health Board's. Never returns another tenant's records.
    /// Throws `invalidValue` for an unknown tenant or cluster.
    func conflicts(tenant: String, cluster: String?) async throws -> [RecordConflictSummary]
    /// The roll-up of a region's clusters (every cluster of the tenant when `region` is nil) on
    /// `today`, aggregated from the contributions kept per cluster-shared record as pushes
    /// arrive (never by reading the log). Never another tenant's. Throws `invalidValue` for an
    /// unknown tenant or region.
    func rollup(tenant: String, region: String?, today: CalendarDate) async throws -> RegionRollup

    // MARK: Memory

    /// Lets go of what the store keeps only for speed (SQLite's page caches and its idle read
    /// connections): the server calls it when most sessions of a burst have gone. Returns at
    /// once; later reads fill the caches again. A store that keeps nothing of the kind ignores it.
    func releaseCaches()

    /// Does now what the store put off (a redaction's rewrite of its file, which waits when
    /// another ran less than a minute before): the server calls it as it stops.
    func finishDeferredWork() async
}

extension ServerStore {
    public func releaseCaches() {}

    public func finishDeferredWork() async {}

    /// The identity a bearer token stands for, or nil if it is unknown, revoked or expired now.
    public func authenticate(token: String, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) async throws -> SessionIdentity? {
        guard let credential = try await credential(token: token), credential.refusal(at: now) == nil else { return nil }
        return credential.identity
    }

    /// Issues a token that does not expire.
    public func issueToken(practice: String, cluster: String, tenant: String, label: String?) async throws -> String {
        try await issueToken(practice: practice, cluster: cluster, tenant: tenant, label: label, expiresAt: nil)
    }

    /// Issues a practice's token (role `practice`).
    public func issueToken(practice: String, cluster: String, tenant: String, label: String?, expiresAt: Int64?) async throws -> String {
        try await issueToken(for: .practice(PracticePath(tenant: tenant, cluster: cluster, practice: practice)), label: label, expiresAt: expiresAt)
    }

    /// Records a practice's certificate (role `practice`).
    public func recordCertificate(serial: String, for practice: PracticePath, label: String?, expiresAt: Int64?) async throws -> String {
        try await recordCertificate(serial: serial, for: practice, role: .practice, label: label, expiresAt: expiresAt)
    }

    /// Adds a cluster in no region.
    public func addCluster(_ cluster: String, tenant: String) async throws {
        try await addCluster(cluster, tenant: tenant, region: nil)
    }

    /// Adds a GP practice.
    public func addPractice(_ practice: String, cluster: String, tenant: String) async throws {
        try await addPractice(practice, cluster: cluster, tenant: tenant, kind: .gp)
    }

    public func pullStored(for identity: SessionIdentity, after cursor: Cursor?, limit: Int, excluding replica: ReplicaID?) async throws -> ChangesPage {
        try await decodedPage(for: identity, after: cursor, limit: limit, excluding: replica)
    }

    public func snapshotStored(for identity: SessionIdentity, after cursor: SnapshotCursor?, limit: Int) async throws -> Snapshot {
        try await snapshot(for: identity, after: cursor, limit: limit)
    }

    /// `pull`'s page without `excluding`'s changes: the default `pullStored`, and what a store
    /// that reads stored text sends a read-only role (whose page is no log rows).
    func decodedPage(for identity: SessionIdentity, after cursor: Cursor?, limit: Int, excluding replica: ReplicaID?) async throws -> ChangesPage {
        var page = try await pull(for: identity, after: cursor, limit: limit)
        if let replica { page.changes.removeAll { $0.id.replica == replica } }
        return page
    }

    /// Where a page of stored text starts in the log, for a store's own `pullStored`: nil for a
    /// read-only role (send it `decodedPage`), else the cursor's position (0 without one), the
    /// cursor and the limit checked as `pull` checks them.
    func storedPageStart(for identity: SessionIdentity, after cursor: Cursor?, limit: Int) throws(ClusterSyncError) -> Int64? {
        guard identity.role.isPractice else { return nil }
        let after = try cursor.map(StreamCursor.position(of:)) ?? 0
        guard limit > 0 else {
            throw ClusterSyncError(.invalidValue, "a pull's limit must be at least 1; got \(limit)", field: "limit")
        }
        return after
    }

    /// Stores changes that are all `identity`'s own.
    public func push(_ changes: [Change], as identity: SessionIdentity) async throws -> PushOutcome {
        try await push(changes, as: identity, from: nil)
    }
}

public struct PushOutcome: Sendable, Equatable {
    public var accepted: Int
    public var duplicates: Int
    /// The duplicates with a value that the store holds superseded (`Ack.superseded`), in the
    /// batch's order.
    public var superseded: [ChangeID]

    public init(accepted: Int, duplicates: Int, superseded: [ChangeID] = []) {
        self.accepted = accepted
        self.duplicates = duplicates
        self.superseded = superseded
    }

    /// Of a batch's duplicates, those whose fate `Ack.superseded` reports: writes with a value
    /// (a remove, or a redaction, is never live anywhere).
    public static func reportable(_ duplicates: [Change]) -> [Change] {
        duplicates.filter { $0.value != nil && $0.field != Redaction.field }
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

/// A practice as the server registered it, for listings.
public struct RegisteredPractice: Sendable, Hashable, CustomStringConvertible {
    public var path: PracticePath
    public var kind: PracticeKind

    public init(_ path: PracticePath, kind: PracticeKind) {
        self.path = path
        self.kind = kind
    }

    /// `bcuhb/north-denbighshire/prestatyn gp`.
    public var description: String { "\(path) \(kind)" }

    /// A row's stored kind; a spelling this version does not know (written by a later one)
    /// reads as `other`, which owes nothing, rather than stopping every roll-up (review).
    static func kind(stored text: String) -> PracticeKind { PracticeKind(rawValue: text) ?? .other }

    init(_ path: PracticePath, storedKind: String) {
        self.init(path, kind: Self.kind(stored: storedKind))
    }

    /// The refusal of an unregistered practice, saying how to register it.
    public static func unknown(_ practice: PracticePath) -> ClusterSyncError {
        ClusterSyncError(.unknownRecord, "no practice \(practice); add it with `clustersyncd practice add`", field: "practice")
    }
}

/// What one `compact` did.
public struct CompactionOutcome: Sendable, Equatable {
    public var tenant: String
    /// The stream position compacted through (0: nothing yet old enough).
    public var throughSeq: Int64
    /// Superseded changes whose texts were dropped by this run.
    public var compacted: Int

    public init(tenant: String, throughSeq: Int64, compacted: Int) {
        self.tenant = tenant
        self.throughSeq = throughSeq
        self.compacted = compacted
    }
}

extension ServerStore {
    public func recordSessionStart(_ entry: AuditEntry, credential: String?, keepAfter: Int64) async throws {
        if let credential { try await markUsed(credential: credential, at: entry.at) }
        try await recordAudit(entry, keepAfter: keepAfter)
    }
}
