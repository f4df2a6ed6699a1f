import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncStorage
import Foundation
import GRDB

/// A `ServerStore` in memory, for tests of code that talks to a store (the session handler, a
/// client against a server in the same process). Keeps tenants apart exactly as
/// `SQLiteServerStore` does: everything a tenant has (its practices, its change stream and its
/// sequence numbers, the change ids it has seen, its materialised records) lives under the
/// tenant's key, so nothing one tenant pushes can touch or reveal another's. Cursors are the
/// same `StreamCursor`s (`s1:<n>`, n counting the tenant's changes), and the materialised records
/// are kept by the shared `ChangeWriter` in one in-memory SQLite database per cluster, so a record
/// keeps the scope of its first change and `conflicts` answers as the SQLite store does. Change
/// ids and record ids are keyed within their cluster, and replica ids bound to the practice
/// that first pushed as them, by the same `ReplicaOwnership` rule as the SQLite store.
///
/// Not for production: tokens are kept as they are (not hashed), names are not checked, and
/// nothing survives the process.
public actor InMemoryServerStore: ServerStore {
    struct Tenant {
        var practices: Set<PracticePath> = []
        var practiceKinds: [PracticePath: PracticeKind] = [:]
        var clusters: Set<String> = []
        /// Regions, and the region of each cluster that is in one.
        var regions: Set<String> = []
        var clusterRegion: [String: String] = [:]
        /// The stream's end when each cluster last changed region (ServerOversight.sendsChanges).
        var clusterMovedAfter: [String: Int64] = [:]
        /// The stream: a change's sequence number is its index + 1.
        var log: [Change] = []
        /// Per cluster: the changes stored, by id, and which practice owns each replica id.
        var stored: [String: [ChangeID: Change]] = [:]
        var owners: [String: [ReplicaID: String]] = [:]
        /// Per cluster: the replicas' registered keys.
        var keys: [String: [ReplicaID: ReplicaRegistration]] = [:]
        /// Per cluster: the materialised records.
        var records: [String: DatabaseQueue] = [:]
        /// The last compaction, and the stream's end noted at each run (ms since 1970, seq).
        var compaction: LedgerCompaction?
        var marks: [(at: Int64, seq: Int64)] = []
    }

    private var tenants: [String: Tenant] = [:]
    /// Token text to credential id.
    private var tokens: [String: String] = [:]
    private var credentialsByID: [String: CredentialRecord] = [:]
    private var revokedSerials: Set<[String]> = []
    private var auditLog: [AuditEntry] = []
    private var issued = 0
    /// A fresh store's identity, as the real stores make theirs (PROTOCOL.md §5.2).
    private let identity = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max)) }.joined()
    private static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
    /// The day roll-ups are aggregated at (ms since 1970); a transcript sets its connection's.
    private var wallClock: @Sendable () -> Int64 = { InMemoryServerStore.now() }

    public init() {}

    /// Sets the clock that dates roll-ups.
    public func setWallClock(_ clock: @escaping @Sendable () -> Int64) { wallClock = clock }

    // MARK: Administration

    public func addTenant(_ tenant: String) async throws {
        guard tenants[tenant] == nil else {
            throw ClusterSyncError(.invalidValue, "tenant \"\(tenant)\" already exists", field: "tenant")
        }
        tenants[tenant] = Tenant()
    }

    public func addCluster(_ cluster: String, tenant: String, region: String?) async throws {
        guard tenants[tenant] != nil else { throw Self.noTenant(tenant) }
        if let region { try requireRegion(region, tenant: tenant) }
        guard tenants[tenant]!.clusters.insert(cluster).inserted else {
            throw ClusterSyncError(.invalidValue, "cluster \"\(cluster)\" already exists in tenant \"\(tenant)\"", field: "cluster")
        }
        let records = try DatabaseQueue()
        try await records.write { db in
            try MaterialisedStateSchema.createTables(db)
            try MaterialisedStateSchema.addSignatures(db)
            try MaterialisedStateSchema.createRedactionTable(db)
            try MaterialisedStateSchema.clusterChangesByID(db)
        }
        tenants[tenant]!.records[cluster] = records
        tenants[tenant]!.clusterRegion[cluster] = region
    }

    // MARK: Regions

    public func addRegion(_ region: String, tenant: String) async throws {
        guard tenants[tenant] != nil else { throw Self.noTenant(tenant) }
        guard tenants[tenant]!.regions.insert(region).inserted else {
            throw ClusterSyncError(.invalidValue, "region \"\(region)\" already exists in tenant \"\(tenant)\"", field: "region")
        }
    }

    public func regions(tenant: String?) async throws -> [RegionSummary] {
        if let tenant, tenants[tenant] == nil { throw Self.noTenant(tenant) }
        return tenants.filter { tenant == nil || $0.key == tenant }
            .flatMap { name, value in
                value.regions.map { region in
                    RegionSummary(tenant: name, name: region, clusters: value.clusterRegion.filter { $0.value == region }.keys.sorted())
                }
            }
            .sorted { ($0.tenant, $0.name) < ($1.tenant, $1.name) }
    }

    public func setRegion(_ region: String?, ofCluster cluster: String, tenant: String) async throws {
        try requireCluster(cluster, tenant: tenant)
        if let region { try requireRegion(region, tenant: tenant) }
        guard tenants[tenant]!.clusterRegion[cluster] != region else { return }
        tenants[tenant]!.clusterRegion[cluster] = region
        tenants[tenant]!.clusterMovedAfter[cluster] = Int64(tenants[tenant]!.log.count)
    }

    public func clusters(ofRegion region: String, tenant: String) async throws -> [String] {
        try requireRegion(region, tenant: tenant)
        return tenants[tenant]!.clusterRegion.filter { $0.value == region }.keys.sorted()
    }

    public func region(ofCluster cluster: String, tenant: String) async throws -> String? {
        try requireCluster(cluster, tenant: tenant)
        return tenants[tenant]!.clusterRegion[cluster]
    }

    private func requireRegion(_ region: String, tenant: String) throws {
        guard let stored = tenants[tenant] else { throw Self.noTenant(tenant) }
        guard stored.regions.contains(region) else {
            throw ClusterSyncError(.invalidValue, "no region \"\(region)\" in tenant \"\(tenant)\"", field: "region")
        }
    }

    private func requireCluster(_ cluster: String, tenant: String) throws {
        guard let stored = tenants[tenant] else { throw Self.noTenant(tenant) }
        guard stored.clusters.contains(cluster) else {
            throw ClusterSyncError(.invalidValue, "no cluster \"\(cluster)\" in tenant \"\(tenant)\"", field: "cluster")
        }
    }

    public func addPractice(_ practice: String, cluster: String, tenant: String, kind: PracticeKind) async throws {
        guard tenants[tenant]?.clusters.contains(cluster) == true else {
            throw ClusterSyncError(.invalidValue, "no cluster \"\(cluster)\" in tenant \"\(tenant)\"", field: "cluster")
        }
        let path = PracticePath(tenant: tenant, cluster: cluster, practice: practice)
        guard tenants[tenant]!.practices.insert(path).inserted else {
            throw ClusterSyncError(.invalidValue, "practice \(path) already exists", field: "practice")
        }
        tenants[tenant]!.practiceKinds[path] = kind
    }

    public func setKind(_ kind: PracticeKind, of practice: PracticePath) async throws {
        guard tenants[practice.tenant]?.practices.contains(practice) == true else { throw RegisteredPractice.unknown(practice) }
        tenants[practice.tenant]!.practiceKinds[practice] = kind
    }

    public func issueToken(for holder: CredentialHolder, label: String?, expiresAt: Int64?) async throws -> String {
        let token = "cst_memory\(issued + 1)_\(UInt64.random(in: 0 ... .max))"
        try register(token: token, holder: holder, label: label, expiresAt: expiresAt)
        return token
    }

    public func recordCertificate(serial: String, for practice: PracticePath, role: CredentialRole, label: String?, expiresAt: Int64?) async throws -> String {
        guard tenants[practice.tenant]?.practices.contains(practice) == true else {
            throw ClusterSyncError(.invalidValue, "no practice \(practice)", field: "practice")
        }
        guard role.isPractice else {
            throw ClusterSyncError(.invalidValue, "a certificate names a practice, so it cannot be \(role.credentialName)", field: "role")
        }
        let id = "crt_" + serial
        credentialsByID[id] = CredentialRecord(
            id: id, practice: practice, label: label, kind: .certificate, serial: serial, createdAt: Self.now(), expiresAt: expiresAt,
            role: role)
        return id
    }

    public func tenants() async throws -> [String] { tenants.keys.sorted() }

    public func clusters(tenant: String?) async throws -> [ClusterPath] {
        if let tenant, tenants[tenant] == nil { throw Self.noTenant(tenant) }
        return tenants.filter { tenant == nil || $0.key == tenant }
            .flatMap { name, value in value.clusters.map { ClusterPath(tenant: name, cluster: $0, region: value.clusterRegion[$0]) } }
            .sorted { $0.description < $1.description }
    }

    /// Makes `token` (any text) stand for the practice, as `issueToken` would: for tests whose
    /// token is fixed, such as the golden transcripts'.
    public func register(token: String, practice path: PracticePath, label: String?, expiresAt: Int64? = nil) throws {
        try register(token: token, holder: .practice(path), label: label, expiresAt: expiresAt)
    }

    /// Makes `token` stand for `holder` (a practice with its role, a pcpg's region, a health
    /// board's tenant), as `issueToken(for:label:expiresAt:)` would.
    public func register(token: String, holder: CredentialHolder, label: String?, expiresAt: Int64? = nil) throws {
        if let path = holder.practicePath {
            guard tenants[path.tenant]?.practices.contains(path) == true else {
                throw ClusterSyncError(.invalidValue, "no practice \(path)", field: "practice")
            }
        } else if let region = holder.region {
            try requireRegion(region, tenant: holder.tenant)
        } else if tenants[holder.tenant] == nil {
            throw Self.noTenant(holder.tenant)
        }
        let path = holder.practicePath ?? PracticePath(tenant: holder.tenant, cluster: "", practice: "")
        issued += 1
        // A token of the issued form (`cst_<12 hex>_…`) keeps its id, as in the SQLite store.
        let parts = token.split(separator: "_")
        let id = parts.count == 3 && parts[0] == "cst" && parts[1].count == 12 ? String(parts[1]) : "memory\(issued)"
        tokens[token] = id
        credentialsByID[id] = CredentialRecord(
            id: id, practice: path, label: label, kind: .token, createdAt: Self.now(), expiresAt: expiresAt,
            role: holder.role, region: holder.region)
    }

    public func practices(tenant: String?) async throws -> [RegisteredPractice] {
        let chosen = tenant.map { tenants[$0].map { [$0] } ?? [] } ?? Array(tenants.values)
        return chosen.flatMap { stored in stored.practices.map { RegisteredPractice($0, kind: stored.practiceKinds[$0] ?? .gp) } }
            .sorted { $0.path.description < $1.path.description }
    }

    // MARK: Authentication

    // MARK: Credentials

    public func credentials(tenant: String?) async throws -> [CredentialRecord] {
        if let tenant, tenants[tenant] == nil { throw Self.noTenant(tenant) }
        return credentialsByID.values.filter { tenant == nil || $0.practice.tenant == tenant }
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func credential(id: String) async throws -> CredentialRecord? {
        credentialReadsByID += 1
        return credentialsByID[id]
    }

    /// How many times `credential(id:)` was read: what a session's re-checks cost.
    public private(set) var credentialReadsByID = 0

    public func credential(token: String) async throws -> CredentialRecord? { tokens[token].flatMap { credentialsByID[$0] } }

    public func credential(serial: String, tenant: String) async throws -> CredentialRecord? {
        credentialsByID.values.first { $0.serial == serial && $0.practice.tenant == tenant }
    }

    public func revokeCredential(id: String) async throws -> CredentialRecord {
        guard var credential = credentialsByID[id] else {
            throw ClusterSyncError(.unknownRecord, "no credential \(id)")
        }
        credential.revokedAt = credential.revokedAt ?? Self.now()
        credentialsByID[id] = credential
        return credential
    }

    public func revokeCertificate(serial: String, tenant: String) async throws {
        if tenants[tenant] == nil { throw Self.noTenant(tenant) }
        if let known = try await credential(serial: serial, tenant: tenant) {
            _ = try await revokeCredential(id: known.id)
        } else {
            revokedSerials.insert([tenant, serial])
        }
    }

    public func isRevoked(serial: String, tenant: String) async throws -> Bool { revokedSerials.contains([tenant, serial]) }

    public func markUsed(credential id: String, at: Int64) async throws { credentialsByID[id]?.lastUsedAt = at }

    public func recordAudit(_ entry: AuditEntry, keepAfter: Int64) async throws {
        auditLog.append(entry)
        auditLog.removeAll { $0.at < keepAfter }
    }

    public func audit(tenant: String?, since: Int64?, limit: Int) async throws -> [AuditEntry] {
        Array(auditLog.filter { (tenant == nil || $0.tenant == tenant) && $0.at >= (since ?? 0) }.prefix(limit))
    }

    public func isRegistered(_ practice: PracticePath) async throws -> Bool {
        tenants[practice.tenant]?.practices.contains(practice) == true
    }

    // MARK: Replica keys

    public func registerReplicaKey(_ key: ReplicaPublicKey, replica: ReplicaID, session identity: SessionIdentity,
                                   person: String?) async throws -> ReplicaRegistration {
        guard tenants[identity.tenant] != nil else { throw Self.noTenant(identity.tenant) }
        let existing = tenants[identity.tenant]!.keys[identity.cluster]?[replica]
        let owner = tenants[identity.tenant]!.owners[identity.cluster]?[replica]
        switch ReplicaKeys.decide(key, for: replica, session: identity, person: person, existing: existing, owner: owner, nowMillis: Self.now()) {
        case .refuse(let error): throw error
        case .known(let registration): return registration
        case .register(let registration):
            tenants[identity.tenant]!.keys[identity.cluster, default: [:]][replica] = registration
            return registration
        }
    }

    public func replicaRegistrations(_ replicas: Set<ReplicaID>, tenant: String, cluster: String) async throws -> [ReplicaID: ReplicaRegistration] {
        let keys = tenants[tenant]?.keys[cluster] ?? [:]
        return keys.filter { replicas.contains($0.key) }
    }

    public func registeredReplicas(tenant: String, cluster: String?) async throws -> [RegisteredReplica] {
        try registered(tenant: tenant, cluster: cluster, replica: nil)
    }

    public func retireReplica(_ replica: ReplicaID, tenant: String, cluster: String?, at: Int64) async throws -> RegisteredReplica {
        var found = try RegisteredReplica.single(registered(tenant: tenant, cluster: cluster, replica: replica),
                                                 replica: replica, tenant: tenant, cluster: cluster)
        found.registration.retiredAt = found.registration.retiredAt ?? at
        tenants[tenant]!.keys[found.cluster]![replica] = found.registration
        return found
    }

    private func registered(tenant name: String, cluster: String?, replica: ReplicaID?) throws -> [RegisteredReplica] {
        guard let tenant = tenants[name] else { throw Self.noTenant(name) }
        return tenant.keys.filter { cluster == nil || $0.key == cluster }.sorted { $0.key < $1.key }.flatMap { cluster, keys in
            keys.values.filter { replica == nil || $0.replica == replica }
                .sorted { ($0.registeredAt, $0.replica.rawValue) < ($1.registeredAt, $1.replica.rawValue) }
                .map { registration in
                    let own = tenant.stored[cluster, default: [:]].keys.filter { $0.replica == registration.replica }
                    return RegisteredReplica(tenant: name, cluster: cluster, registration: registration,
                                             changesStored: own.count, lastCounter: own.map(\.counter).max())
                }
        }
    }

    // MARK: Sync

    /// As the other stores: a record new to this cluster whose id another cluster of the tenant
    /// holds is refused (`ChangeAdmission.idTakenInAnotherCluster`).
    private static func refuseIDsTakenElsewhere(_ batch: [Change], cluster: String, in tenant: Tenant) async throws {
        func held(_ ids: [String], _ records: DatabaseQueue) async throws -> Set<String> {
            try await records.read { db in
                try Set(String.fetchAll(db, sql: "SELECT id FROM record WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                                        arguments: StatementArguments(ids)))
            }
        }
        let ids = Array(Set(batch.map(\.record.rawValue)))
        guard let here = tenant.records[cluster] else { return }
        let known = try await held(ids, here)
        let fresh = ids.filter { !known.contains($0) }
        for other in tenant.clusters.sorted() where other != cluster && !fresh.isEmpty {
            guard let records = tenant.records[other], let taken = try await held(fresh, records).first,
                  let change = batch.first(where: { $0.record.rawValue == taken }) else { continue }
            throw PushRejection(change: change.id, error: ChangeAdmission.idTakenInAnotherCluster(change))
        }
    }

    public func push(_ changes: [Change], as identity: SessionIdentity, from replica: ReplicaID?) async throws -> PushOutcome {
        for change in changes where !identity.mayAccess(change.scope) {
            throw PushRejection(change: change.id, error: identity.role.writeRefusal ?? ClusterSyncError(
                .forbiddenScope, "change \(change.id) is for a scope that \(identity.practice) may not write"))
        }
        guard var tenant = tenants[identity.tenant] else { throw Self.noTenant(identity.tenant) }
        guard let records = tenant.records[identity.cluster] else {
            throw ClusterSyncError(.invalidValue, "no cluster \"\(identity.cluster)\" in tenant \"\(identity.tenant)\"", field: "cluster")
        }
        var stored = tenant.stored[identity.cluster, default: [:]]
        var owners = tenant.owners[identity.cluster, default: [:]]
        let keys = tenant.keys[identity.cluster, default: [:]]
        var accepted: [Change] = []
        var duplicates: [Change] = []
        // The risks changes could take an action off that are escalated beyond the cluster, read
        // before the loop (as the PostgreSQL store does): an actor suspending inside it would let
        // another push interleave with this one's copy of the tenant.
        let candidates = identity.role.hasLeadPowers ? [] : LeadPowers.risksLeft(in: changes, storedValue: { stored[$0]?.value })
        let escalatedRisks = candidates.isEmpty ? [] : try await records.read { db in
            try ServerOversight.escalatedRisks(db, tenant: identity.tenant, cluster: identity.cluster, among: candidates)
        }
        // The live writes of each changed field by the change's maker, read before the loop too
        // (`LeadPowers.leavesOwnWriteLive`), keyed by record, field and maker.
        let ownLiveWrites: [String: [ChangeID]] = identity.role.hasLeadPowers ? [:] : try await records.read { db in
            var writes: [String: [ChangeID]] = [:]
            for change in changes where change.value != nil && !change.supersedes.isEmpty {
                writes[Self.fieldKey(change)] = try PushLookups.liveWrites(
                    db, tenant: identity.tenant, cluster: identity.cluster, record: change.record, field: change.field, by: change.id.replica)
            }
            return writes
        }
        // And the live writes of the groups of fields the push may fill (`FieldGrowth`).
        var tally = FieldGrowth.PushTally(try await records.read { db in
            try PushLookups.nearlyFull(db, tenant: identity.tenant, cluster: identity.cluster, for: FieldGrowth.PushReads(changes))
        })
        // Which other replicas' changes the push supersedes or has seen are held (`SupersessionReach`).
        let reached = SupersessionReach.idsToRead(changes), heldReached = reached.filter { stored[$0] != nil }
        var reach = SupersessionReach(held: heldReached, retired: SupersessionReach.makersToAsk(reached, held: heldReached).filter { keys[$0]?.retiredAt != nil })
        for var change in changes {
            let owner = owners[change.id.replica]
            let registration = keys[change.id.replica]
            // As in the SQLite store: a maker with a key had its signature verified.
            let decision: ReplicaOwnership.Decision = if let registration {
                .store(bindTo: owner == nil ? registration.practice : nil)
            } else {
                ReplicaOwnership.decide(change, pushedBy: identity.practice, sessionReplica: replica, owner: owner, stored: stored[change.id])
            }
            switch decision {
            case .refuse(let error): throw PushRejection(change: change.id, error: error)
            case .duplicate:
                duplicates.append(change)
                continue
            case .store(let bindTo):
                if let bindTo { owners[change.id.replica] = bindTo }
            }
            guard stored[change.id] == nil else {
                try ReplicaOwnership.refuseAlteredResend(change, stored: stored[change.id])
                duplicates.append(change)
                continue
            }
            // Judged without the retired replicas' changes the store lacks (`SupersessionReach.judged`).
            let judged = reach.judged(change)
            let supersededValues = judged.supersedes.map { stored[$0]?.value }
            let superseded = judged.supersedes.map { owners[$0.replica] }
            let leavesOwnWriteLive = !identity.role.hasLeadPowers
                && LeadPowers.readsOwnLiveWrites(judged, by: identity.practice, supersededPractices: superseded)
                && LeadPowers.leavesOwnWriteLive(judged, ownLiveWrites: ownLiveWrites[Self.fieldKey(change)] ?? [],
                                                 earlier: accepted)
            do throws(ClusterSyncError) {
                try ReplicaKeys.admitNew(change, registration: registration)
                try reach.check(change)
                try LeadPowers.check(judged, role: identity.role, practice: identity.practice,
                                     supersededPractices: superseded, supersededValues: supersededValues,
                                     escalatedRisks: escalatedRisks, leavesOwnWriteLive: leavesOwnWriteLive, receiver: .server)
            } catch {
                throw PushRejection(change: change.id, error: error)
            }
            try tally.admit(change)
            reach.admit(change)
            change.author = ReplicaKeys.author(of: change, registration: registration, pushedBy: identity, fromReplica: replica)
            // A change a redaction names (stored or of this batch) is kept erased (changes.md §10).
            if let by = Self.redaction(naming: change, in: Array(stored.values) + changes) {
                change = Redaction.erased(change, by: by)
            }
            stored[change.id] = change
            accepted.append(change)
        }
        // A redaction erases the value of the change it names, wherever it is kept.
        for redaction in accepted {
            guard let request = Redaction.request(of: redaction), let target = stored[request.change] else { continue }
            do throws(ClusterSyncError) {
                try Redaction.check(request, of: redaction, target: target)
            } catch {
                throw PushRejection(change: redaction.id, error: error)
            }
            let erased = Redaction.erased(target, by: redaction.id)
            stored[request.change] = erased
            if let index = tenant.log.firstIndex(where: { $0.id == request.change && $0.scope.cluster == identity.cluster }) {
                tenant.log[index] = erased
            }
            if let index = accepted.firstIndex(where: { $0.id == request.change }) { accepted[index] = erased }
        }
        tenant.owners[identity.cluster] = owners
        guard !accepted.isEmpty else {
            tenants[identity.tenant] = tenant
            return PushOutcome(accepted: 0, duplicates: changes.count, superseded: try await Self.superseded(duplicates, in: records))
        }
        // Throws forbiddenScope for a record that lives in another scope; the transaction rolls
        // back, and nothing of the push is kept.
        let batch = accepted
        try await Self.refuseIDsTakenElsewhere(batch, cluster: identity.cluster, in: tenant)
        try await records.write { db in
            var writer = try ChangeWriter(db)
            _ = try writer.apply(batch)
        }
        tenant.stored[identity.cluster] = stored
        tenant.log += accepted
        tenants[identity.tenant] = tenant
        return PushOutcome(accepted: accepted.count, duplicates: changes.count - accepted.count,
                           superseded: try await Self.superseded(duplicates, in: records))
    }

    static func fieldKey(_ change: Change) -> String { "\(change.record) \(change.field) \(change.id.replica)" }

    /// As `SQLiteServerStore.superseded`, in the cluster's materialised records.
    static func superseded(_ duplicates: [Change], in records: DatabaseQueue) async throws -> [ChangeID] {
        let reportable = PushOutcome.reportable(duplicates)
        guard !reportable.isEmpty else { return [] }
        return try await records.read { db in
            try reportable.filter { change in
                try Bool.fetchOne(db, sql: """
                    SELECT c.live FROM replica r JOIN change c ON c.replica = r.num AND c.counter = ? WHERE r.id = ?
                    """, arguments: [change.id.counter, change.id.replica.rawValue]) != true
            }.map(\.id)
        }
    }

    /// The first redaction among `changes` that names `change`, its record and field.
    static func redaction(naming change: Change, in changes: [Change]) -> ChangeID? {
        guard change.value != nil else { return nil }
        return changes.first { candidate in
            guard let request = Redaction.request(of: candidate) else { return false }
            return request.change == change.id && request.field == change.field && candidate.record == change.record
        }?.id
    }

    public func pull(for identity: SessionIdentity, after cursor: ClusterSyncCore.Cursor?, limit: Int) async throws -> ChangesPage {
        guard identity.role.isPractice else { return try await oversightPull(for: identity, after: cursor, limit: limit) }
        let after = try cursor.map(StreamCursor.position(of:)) ?? 0
        guard limit > 0 else {
            throw ClusterSyncError(.invalidValue, "a pull's limit must be at least 1; got \(limit)", field: "limit")
        }
        try requireKept(tenant: identity.tenant, after: after)
        let log = tenants[identity.tenant]?.log ?? []
        var page: [Change] = []
        var last: Int64?
        var more = false
        var budget = PageBudget()
        for index in log.indices.dropFirst(Int(min(after, Int64(log.count)))) where identity.mayAccess(log[index].scope) {
            guard page.count < limit, budget.take(log[index].jsonText.utf8.count) else {
                more = true
                break
            }
            page.append(log[index])
            last = Int64(index + 1)
        }
        return ChangesPage(changes: page, cursor: last.map(StreamCursor.cursor(at:)) ?? cursor ?? StreamCursor.cursor(at: 0), more: more)
    }

    public func storeIdentity() async throws -> String { identity }

    /// None: this store keeps no tamper-evident chain (`verifyChain` is the operated stores').
    public func chainHead(tenant: String) async throws -> LedgerHead? { nil }

    public func currentCursor(tenant: String) async throws -> ClusterSyncCore.Cursor {
        guard let stored = tenants[tenant] else { throw Self.noTenant(tenant) }
        return StreamCursor.cursor(at: Int64(stored.log.count))
    }

    // MARK: Oversight

    public func conflicts(tenant: String, cluster: String?) async throws -> [RecordConflictSummary] {
        guard let stored = tenants[tenant] else { throw Self.noTenant(tenant) }
        if let cluster {
            guard stored.clusters.contains(cluster) else {
                throw ClusterSyncError(.invalidValue, "no cluster \"\(cluster)\" in tenant \"\(tenant)\"", field: "cluster")
            }
            return try await stored.records[cluster]!.read { db in
                try ChangeReader.conflicts(db, where: "rec.practice IS NULL")
            }
        }
        var all: [RecordConflictSummary] = []
        for cluster in stored.clusters.sorted() {
            all += try await stored.records[cluster]!.read { db in try ChangeReader.conflicts(db, where: "rec.practice IS NULL") }
        }
        return all.sorted { ($0.record.id.rawValue, $0.record.scope.cluster) < ($1.record.id.rawValue, $1.record.scope.cluster) }
    }

    /// Aggregated from the materialised records at read time: this store keeps no contribution
    /// rows (the SQLite store does); the roll-up is the same.
    public func rollup(tenant: String, region: String?, today: CalendarDate) async throws -> RegionRollup {
        guard let stored = tenants[tenant] else { throw Self.noTenant(tenant) }
        if let region { try requireRegion(region, tenant: tenant) }
        var clusters: [ClusterRollup] = []
        for cluster in stored.clusters.sorted() where region == nil || stored.clusterRegion[cluster] == region {
            let views = try await stored.records[cluster]!.read { db in try ChangeReader.views(db, where: "rec.practice IS NULL") }
            let registered = Dictionary(uniqueKeysWithValues: stored.practices.filter { $0.cluster == cluster }
                .map { ($0.practice, stored.practiceKinds[$0] ?? .gp) })
            clusters.append(ClusterRollup(tenant: tenant, cluster: cluster, records: views, today: today)
                .namingOnly(registered: registered, region: stored.clusterRegion[cluster]))
        }
        return RegionRollup(tenant: tenant, region: region, clusters: clusters)
    }

    private func requireKept(tenant: String, after: Int64) throws {
        if let through = tenants[tenant]?.compaction?.throughSeq, after < through {
            throw CompactedHistory.cursorExpired(through: through, after: after)
        }
    }

    private func oversightPull(for identity: SessionIdentity, after cursor: ClusterSyncCore.Cursor?, snapshot: Bool = false, limit: Int) async throws -> ChangesPage {
        guard let stored = tenants[identity.tenant] else { throw Self.noTenant(identity.tenant) }
        var paging = try OversightPaging(cursor: cursor, snapshot: snapshot, limit: limit, currentEnd: Int64(stored.log.count))
        if paging.startsAtStreamPosition { try requireKept(tenant: identity.tenant, after: paging.after) }
        let region = identity.role == .pcpg ? identity.region : nil
        for cluster in paging.ordered(stored.clusters.filter { region == nil || stored.clusterRegion[$0] == region }) where !paging.hasMore {
            let clusterLast = stored.log.lastIndex { $0.scope.cluster == cluster }.map { Int64($0 + 1) } ?? 0
            let movedAfter = stored.clusterMovedAfter[cluster]
            // As the SQLite store reads them: none past the bound.
            let logged = paging.sendsLogged(movedAfter: movedAfter, compactedThrough: stored.compaction?.throughSeq)
                ? OversightPaging.withinLoggedBound(
                    stored.log.dropFirst(Int(paging.after)).filter { $0.scope.cluster == cluster && $0.scope.practice == nil }) : nil
            paging = try await stored.records[cluster]!.read { [paging] db in
                var paging = paging
                let listed = try ServerOversight.visible(db, tenant: identity.tenant, cluster: cluster, role: identity.role)
                paging.list(listed.ids, of: cluster)
                if paging.reads(cluster, clusterLast: clusterLast, movedAfter: movedAfter) {
                    paging.take(try ServerOversight.changes(db, tenant: identity.tenant, cluster: cluster, listed: listed, logged: logged,
                                                            after: paging.resume(in: cluster), limit: paging.rowsWanted), of: cluster)
                }
                return paging
            }
        }
        guard !paging.hasMore else { return paging.page(rollup: nil) }
        return paging.page(rollup: try await self.rollup(tenant: identity.tenant, region: region, today: CalendarDate(unixMillis: wallClock())).jsonValue)
    }

    // MARK: Snapshots and compaction

    public func snapshot(for identity: SessionIdentity, after cursor: SnapshotCursor?, limit: Int) async throws -> Snapshot {
        guard let stored = tenants[identity.tenant] else { throw Self.noTenant(identity.tenant) }
        guard identity.role.isPractice else { return try await oversightPull(for: identity, after: nil, snapshot: true, limit: limit) }
        let end = cursor?.end ?? Int64(stored.log.count)
        guard let records = stored.records[identity.cluster] else {
            return Snapshot(changes: [], cursor: StreamCursor.cursor(at: end), more: false)
        }
        let page = try await records.read { db in
            try SnapshotReader.page(db, tenant: identity.tenant, cluster: identity.cluster, practice: identity.practice,
                                    after: cursor, limit: limit)
        }
        guard page.more, let last = page.last else {
            return Snapshot(changes: page.changes, cursor: StreamCursor.cursor(at: end), more: false)
        }
        return Snapshot(changes: page.changes, cursor: SnapshotCursor(
            end: end, record: last.record, field: last.field, replica: last.replica, counter: last.counter).cursor, more: true)
    }

    public func history(of record: RecordID, for identity: SessionIdentity, after cursor: ClusterSyncCore.Cursor?, limit: Int) async throws -> HistoryPage {
        let after = try HistoryCursor.after(cursor)
        guard identity.role.isPractice else {
            throw ClusterSyncError(.forbiddenScope,
                "a \(identity.role.rawValue) credential reads escalated records whole in its pulls: their history is already in the replica")
        }
        guard let stored = tenants[identity.tenant] else { throw Self.noTenant(identity.tenant) }
        let compacted = stored.compaction != nil
        guard let records = stored.records[identity.cluster] else {
            return HistoryPage(record: record, changes: [], cursor: cursor ?? HistoryCursor.start, more: false, compacted: compacted)
        }
        let found = try await records.read { db in
            try SnapshotReader.history(db, tenant: identity.tenant, cluster: identity.cluster, practice: identity.practice,
                                       record: record, after: after.map { ($0.field, $0.replica, $0.counter) }, limit: limit)
        }
        let next = found.last.map { HistoryCursor(field: $0.field, replica: $0.replica, counter: $0.counter).cursor }
        return HistoryPage(record: record, changes: found.changes, cursor: next ?? cursor ?? HistoryCursor.start,
                           more: found.more, compacted: compacted)
    }

    public func compact(tenant name: String, olderThan cutoff: Int64, now: Int64) async throws -> CompactionOutcome {
        guard var tenant = tenants[name] else { throw Self.noTenant(name) }
        tenant.marks.removeAll { $0.at == now }
        tenant.marks.append((now, Int64(tenant.log.count)))
        tenant.marks.sort { $0.at < $1.at }
        let previous = tenant.compaction?.throughSeq ?? 0
        guard let mark = tenant.marks.last(where: { $0.at <= cutoff }) else {
            tenants[name] = tenant
            return CompactionOutcome(tenant: name, throughSeq: previous, compacted: 0)
        }
        tenant.marks.removeAll { $0.at < mark.at }
        let through = max(previous, mark.seq)
        var compacted = 0
        // The same rows the SQLite store drops: superseded, not a list position, not a redaction.
        for (cluster, records) in tenant.records {
            let ids = tenant.log.prefix(Int(through)).filter { $0.scope.cluster == cluster }.map(\.id)
            compacted += try await records.write { db in
                let drop = try db.makeStatement(sql: """
                    DELETE FROM change WHERE replica = (SELECT num FROM replica WHERE id = ?) AND counter = ?
                        AND live = 0 AND NOT (field = 'position' AND value IS NOT NULL) AND field <> ?
                    """)
                var count = 0
                for id in ids {
                    try drop.execute(arguments: [id.replica.rawValue, id.counter, Redaction.field])
                    count += db.changesCount
                }
                return count
            }
        }
        if through > 0 {
            tenant.compaction = LedgerCompaction(throughSeq: through, checkpoint: LedgerChain.genesis, compactedAt: now)
        }
        tenants[name] = tenant
        return CompactionOutcome(tenant: name, throughSeq: through, compacted: compacted)
    }

    public func compaction(tenant: String) async throws -> LedgerCompaction? {
        tenants[tenant]?.compaction
    }

    static func noTenant(_ tenant: String) -> ClusterSyncError {
        ClusterSyncError(.invalidValue, "no tenant \"\(tenant)\" on this server", field: "tenant")
    }
}
