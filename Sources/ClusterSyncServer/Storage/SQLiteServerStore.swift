import ClusterSyncCore
import ClusterSyncStorage
import Crypto
import Foundation
import GRDB
import Synchronization

/// The embedded server store: one SQLite file, written through GRDB.
///
/// Holds the tenant/cluster/practice hierarchy, the credentials (hashes only), each tenant's
/// change log (the stream clients pull, numbered by a per-tenant sequence) and the materialised
/// records the log describes. A push is one transaction that appends to the log and updates the
/// materialised records together. Safe to use from many sessions at once: GRDB serialises the
/// writes and runs reads beside them (WAL).
///
/// Adding a tenant, cluster or practice that already exists is an error (`invalid-value`), not a
/// no-op: an administrator who types an existing name by mistake should hear about it, and a
/// provisioning script can list `practices(tenant:)` first.
public final class SQLiteServerStore: ServerStore {
    let database: DatabasePool
    private let clock: Mutex<@Sendable () -> Int64>
    var wallClock: @Sendable () -> Int64 { clock.withLock { $0 } }
    /// Every write transaction goes through it: concurrent sessions' writes share commits.
    let commits: GroupCommit
    /// When a redaction's rebuild of the file runs: at most once a minute.
    let scrubs = ScrubSchedule()
    /// Each cluster's roll-up as last aggregated, for read-only sessions' pulls.
    let rollups = ClusterRollupCache()
    /// Each cluster's listed records, for read-only sessions' pulls.
    let listings = ListedRecordsCache()
    /// A connection of its own, for reads only, for the point reads a session makes on its way
    /// (its credential at hello and before each message, the makers' registrations of a push,
    /// a page of a few rows): see `pointRead`.
    let pointReads: DatabaseQueue

    /// `wallClock` (milliseconds since 1970) dates the credentials issued. Commits are `.full`:
    /// an acknowledged push is on disk (PROTOCOL.md §6); `.normal` is for the benchmark, to show
    /// what that costs.
    public init(path: String, durability: DatabaseSetup.Durability = .full,
                wallClock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) throws {
        database = try DatabaseSetup.openPool(path: path, migrator: SQLiteServerSchema.migrator, what: "server store", durability: durability,
                                              pageSize: SQLiteServerSchema.pageSize)
        clock = Mutex(wallClock)
        commits = GroupCommit(database: database)
        try database.write { db in try Self.refreshContributions(db) }
        // Read-only: a SQLite read-only connection to a WAL file needs its -shm file to exist,
        // which the pool opened above has made (a writable one would have GRDB switch
        // `query_only` on and off around every read).
        var readOnly = Configuration()
        readOnly.readonly = true
        readOnly.busyMode = .timeout(10)
        do {
            pointReads = try DatabaseSetup.queue(path: path, configuration: readOnly)
        } catch let error as DatabaseError {
            throw Self.storageError(error)
        }
    }

    /// Sets the clock that dates credentials and roll-ups (the golden transcripts set their own).
    public func setWallClock(_ wallClock: @escaping @Sendable () -> Int64) {
        clock.withLock { $0 = wallClock }
    }

    // MARK: Administration

    public func addTenant(_ tenant: String) async throws {
        try Self.checkName(tenant, "tenant")
        try await write { db in
            try db.execute(sql: "INSERT INTO tenant (name) VALUES (?) ON CONFLICT DO NOTHING", arguments: [tenant])
            guard db.changesCount == 1 else {
                throw ClusterSyncError(.invalidValue, "tenant \"\(tenant)\" already exists", field: "tenant")
            }
            try db.execute(sql: "INSERT INTO tenant_sequence (tenant, last) VALUES (?, 0)", arguments: [tenant])
        }
    }

    public func addCluster(_ cluster: String, tenant: String, region: String?) async throws {
        try Self.checkName(tenant, "tenant")
        try Self.checkName(cluster, "cluster")
        try await write { db in
            try Self.requireTenant(tenant, db)
            if let region { try Self.requireRegion(region, tenant: tenant, db) }
            try db.execute(sql: "INSERT INTO cluster (tenant, name, region) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [tenant, cluster, region])
            guard db.changesCount == 1 else {
                throw ClusterSyncError(.invalidValue, "cluster \"\(cluster)\" already exists in tenant \"\(tenant)\"", field: "cluster")
            }
        }
    }

    public func addPractice(_ practice: String, cluster: String, tenant: String, kind: PracticeKind) async throws {
        try Self.checkName(tenant, "tenant")
        try Self.checkName(cluster, "cluster")
        try Self.checkName(practice, "practice")
        try await write { db in
            try Self.requireCluster(cluster, tenant: tenant, db)
            try db.execute(
                sql: "INSERT INTO practice (tenant, cluster, name, kind) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [tenant, cluster, practice, kind.rawValue])
            guard db.changesCount == 1 else {
                throw ClusterSyncError(.invalidValue, "practice \"\(practice)\" already exists in \(tenant)/\(cluster)", field: "practice")
            }
        }
    }

    public func issueToken(for holder: CredentialHolder, label: String?, expiresAt: Int64?) async throws -> String {
        let label = try label.map(Self.checkLabel)
        let createdAt = wallClock()
        return try await write { db in
            try Self.requireHolder(holder, db)
            // 48 random bits make a clash rare; the primary key makes it harmless.
            for _ in 0..<8 {
                let token = BearerToken.generate()
                try db.execute(sql: """
                    INSERT INTO credential (id, tenant, cluster, practice, role, region, label, secret_hash, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """, arguments: [token.id, holder.tenant, holder.cluster, holder.practice, holder.role.rawValue, holder.region,
                                     label, token.secretHash, createdAt, expiresAt])
                if db.changesCount == 1 { return token.text }
            }
            throw ClusterSyncError(.internal, "could not find a free credential id")
        }
    }

    public func practices(tenant: String?) async throws -> [RegisteredPractice] {
        try await read { db in
            let rows = if let tenant {
                try Row.fetchAll(db, sql: "SELECT tenant, cluster, name, kind FROM practice WHERE tenant = ? ORDER BY tenant, cluster, name",
                                 arguments: [tenant])
            } else {
                try Row.fetchAll(db, sql: "SELECT tenant, cluster, name, kind FROM practice ORDER BY tenant, cluster, name")
            }
            return rows.map { RegisteredPractice(PracticePath(tenant: $0[0], cluster: $0[1], practice: $0[2]), storedKind: $0[3]) }
        }
    }

    public func setKind(_ kind: PracticeKind, of practice: PracticePath) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE practice SET kind = ? WHERE tenant = ? AND cluster = ? AND name = ?",
                           arguments: [kind.rawValue, practice.tenant, practice.cluster, practice.practice])
            guard db.changesCount == 1 else { throw RegisteredPractice.unknown(practice) }
        }
    }

    // MARK: Authentication

    public func isRegistered(_ practice: PracticePath) async throws -> Bool {
        try pointRead { db in try Self.isRegistered(practice, db) }
    }

    // MARK: Sync

    /// Besides the protocol's contract: a change whose scope `identity` may not access is refused
    /// with `forbiddenScope` too (the session checks first; this keeps the log's scope columns
    /// trustworthy whatever the caller).
    ///
    /// Change ids, replica ids and record ids are keyed by tenant and cluster, and each change
    /// goes through `ReplicaOwnership` and `ChangeAdmission.recordScope`; a refusal throws a
    /// `PushRejection` naming the change, and nothing of the push is stored.
    public func push(_ changes: [Change], as identity: SessionIdentity, from replica: ReplicaID?) async throws -> PushOutcome {
        for change in changes where !identity.mayAccess(change.scope) {
            throw PushRejection(change: change.id, error: identity.role.writeRefusal ?? ClusterSyncError(
                .forbiddenScope, "change \(change.id) is for a scope that \(identity.practice) may not write"))
        }
        guard !changes.isEmpty else { return PushOutcome(accepted: 0, duplicates: 0) }
        let outcome: (pushed: PushOutcome, erasedValues: Bool) = try await write { db in
            guard let last = try Int64.fetchOne(db.cachedStatement(sql: "SELECT last FROM tenant_sequence WHERE tenant = ?"),
                                                arguments: [identity.tenant]) else {
                throw ClusterSyncError(.invalidValue, "no tenant \"\(identity.tenant)\" on this server", field: "tenant")
            }
            let tenant = identity.tenant, cluster = identity.cluster
            let append = try BoundStatement(db, sql: """
                INSERT INTO log (tenant, seq, cluster, practice, replica, counter, change_json)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, cluster, replica, counter) DO NOTHING
                """)
            let ownerOf = try db.cachedStatement(sql: "SELECT practice FROM replica_owner WHERE tenant = ? AND cluster = ? AND replica = ?")
            let bind = try db.cachedStatement(sql: """
                INSERT INTO replica_owner (tenant, cluster, replica, practice) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING
                """)
            let storedCopy = try db.cachedStatement(sql: """
                SELECT change_json FROM log WHERE tenant = ? AND cluster = ? AND replica = ? AND counter = ?
                """)
            let registrationOf = try db.cachedStatement(sql: """
                SELECT \(Self.registrationColumns) FROM replica_key WHERE tenant = ? AND cluster = ? AND replica = ?
                """)
            var registrations: [ReplicaID: ReplicaRegistration?] = [:]
            var owners: [ReplicaID: String?] = [:]
            // Redactions (Protocol/changes.md §10): a change a redaction names, of this batch or
            // stored, is logged already erased.
            let redactions = Self.redactionsOf(changes)
            let redactionsStored = try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM redaction)"))!
            var seq = last
            var accepted: [Change] = []
            accepted.reserveCapacity(changes.count)
            // Each accepted change's canonical text, made once for the log and the chain.
            var texts: [String] = []
            texts.reserveCapacity(changes.count)
            var logText = RunText()
            var duplicates: [Change] = []
            // The live writes of the groups of fields the push may fill (`FieldGrowth`).
            var tally = FieldGrowth.PushTally(try PushLookups.nearlyFull(db, tenant: tenant, cluster: cluster, for: FieldGrowth.PushReads(changes)))
            // Which other replicas' changes the push supersedes or has seen are held (`SupersessionReach`).
            let reached = SupersessionReach.idsToRead(changes)
            let heldReached = try PushLookups.logged(db, tenant: tenant, cluster: cluster, among: reached)
            var reach = SupersessionReach(held: heldReached, retired: try PushLookups.retired(
                db, tenant: tenant, cluster: cluster, among: SupersessionReach.makersToAsk(reached, held: heldReached)))
            for var change in changes {
                let registration: ReplicaRegistration?
                if let known = registrations[change.id.replica] {
                    registration = known
                } else {
                    registration = try Row.fetchOne(registrationOf, arguments: [tenant, cluster, change.id.replica.rawValue])
                        .flatMap(Self.registration)
                    registrations[change.id.replica] = registration
                }
                let owner: String?
                if let known = owners[change.id.replica] {
                    owner = known
                } else {
                    owner = try String.fetchOne(ownerOf, arguments: [tenant, cluster, change.id.replica.rawValue])
                    owners[change.id.replica] = owner
                }
                var stored: Change?
                if registration == nil, ReplicaOwnership.needsStoredCopy(owner: owner, pushedBy: identity.practice),
                   let text = try String.fetchOne(storedCopy, arguments: [tenant, cluster, change.id.replica.rawValue, change.id.counter]) {
                    stored = try? Change(jsonText: text)
                }
                // A maker with a key: its signature was verified, so the change is its maker's
                // whoever passes it on; ownership rules only unsigned pushes of direct callers.
                let decision: ReplicaOwnership.Decision = registration != nil
                    ? .store(bindTo: owner == nil ? registration!.practice : nil)
                    : ReplicaOwnership.decide(change, pushedBy: identity.practice, sessionReplica: replica, owner: owner, stored: stored)
                switch decision {
                case .refuse(let error):
                    throw PushRejection(change: change.id, error: error)
                case .duplicate:
                    duplicates.append(change)
                    continue
                case .store(let bindTo):
                    if let bindTo {
                        try bind.execute(arguments: [tenant, cluster, change.id.replica.rawValue, bindTo])
                        owners[change.id.replica] = bindTo
                    }
                }
                let pushed = change
                change.author = ReplicaKeys.author(of: change, registration: registration, pushedBy: identity, fromReplica: replica)
                if change.value != nil, let by = try redactions[change.id].flatMap({ $0.record == change.record && $0.field == change.field ? $0.by : nil })
                    ?? (redactionsStored ? ChangeWriter.storedRedaction(of: change, db) : nil) {
                    change = Redaction.erased(change, by: by)
                }
                let text = change.jsonText
                logText.removeAll()
                let columns = (tenant: logText.append(tenant), cluster: logText.append(cluster),
                               practice: change.scope.practice.map { logText.append($0) },
                               replica: logText.append(change.id.replica.rawValue), change: logText.append(text))
                let logged = try append.run(text: logText) { row in
                    row.bind(1, in: columns.tenant)
                    row.bind(2, seq + 1)
                    row.bind(3, in: columns.cluster)
                    row.bind(4, in: columns.practice)
                    row.bind(5, in: columns.replica)
                    row.bind(6, change.id.counter)
                    row.bind(7, in: columns.change)
                }
                if logged == 1 {
                    // The lead's powers, checked only for a change new to the store (a resend or
                    // a relay of a change stored already needs none), with the practice that owns
                    // each superseded value's replica (nil: no practice owns it yet).
                    // Judged without the retired replicas' changes the store lacks (`SupersessionReach.judged`).
                    let judged = reach.judged(pushed)
                    let superseded = try judged.supersedes.map { id -> String? in
                        if let known = owners[id.replica] { return known }
                        let owner = try String.fetchOne(ownerOf, arguments: [tenant, cluster, id.replica.rawValue])
                        owners[id.replica] = owner
                        return owner
                    }
                    // The levels of the escalations it supersedes, stored or earlier in this batch.
                    let supersededValues = try LeadPowers.readsSupersededValues(judged) ? judged.supersedes.map { id -> JSONValue? in
                        if let earlier = accepted.last(where: { $0.id == id }) { return earlier.value }
                        return try String.fetchOne(storedCopy, arguments: [tenant, cluster, id.replica.rawValue, id.counter])
                            .flatMap { try? Change(jsonText: $0) }?.value
                    } : []
                    // The risks it would take an action off that are escalated beyond the cluster now.
                    let escalatedRisks = identity.role.hasLeadPowers ? [] : try ServerOversight.escalatedRisks(
                        db, tenant: tenant, cluster: cluster, among: LeadPowers.risksLeft(by: judged, supersededValues: supersededValues))
                    // Whether a write of its maker stays live beside it, stored or earlier in this batch.
                    let leavesOwnWriteLive = try !identity.role.hasLeadPowers
                        && LeadPowers.readsOwnLiveWrites(judged, by: identity.practice, supersededPractices: superseded)
                        && LeadPowers.leavesOwnWriteLive(judged, ownLiveWrites: PushLookups.liveWrites(
                            db, tenant: tenant, cluster: cluster, record: judged.record, field: judged.field, by: judged.id.replica), earlier: accepted)
                    do throws(ClusterSyncError) {
                        try ReplicaKeys.admitNew(pushed, registration: registration)
                        try reach.check(pushed)
                        try LeadPowers.check(judged, role: identity.role, practice: identity.practice, supersededPractices: superseded,
                                             supersededValues: supersededValues, escalatedRisks: escalatedRisks,
                                             leavesOwnWriteLive: leavesOwnWriteLive, receiver: .server)
                    } catch {
                        throw PushRejection(change: pushed.id, error: error)
                    }
                    try tally.admit(pushed)
                    reach.admit(pushed)
                    seq += 1
                    accepted.append(change)
                    texts.append(text)
                } else {
                    let stored = try String.fetchOne(storedCopy, arguments: [tenant, cluster, change.id.replica.rawValue, change.id.counter])
                        .flatMap { try? Change(jsonText: $0) }
                    try ReplicaOwnership.refuseAlteredResend(change, stored: stored)
                    duplicates.append(change)
                }
            }
            guard !accepted.isEmpty else {
                return (PushOutcome(accepted: 0, duplicates: duplicates.count,
                                    superseded: try Self.superseded(duplicates, tenant: tenant, cluster: cluster, db)), false)
            }
            // A record keeps the scope it was created in; records are keyed within the cluster,
            // so this never looks at another tenant's or cluster's.
            var writer = try ChangeWriter(db, partition: ChangeWriter.Partition(tenant: tenant, cluster: cluster))
            var scopes: [RecordID: RecordScope] = [:]
            let elsewhere = try db.cachedStatement(sql: Self.idTakenElsewhereSQL)
            for change in accepted {
                // Looked up by the writer, which then writes the batch without looking again.
                let existing = try scopes[change.record] ?? writer.storedScope(of: change.record)
                if scopes[change.record] == nil, existing == nil,
                   try Bool.fetchOne(elsewhere, arguments: [tenant, change.record.rawValue, cluster])! {
                    throw PushRejection(change: change.id, error: ChangeAdmission.idTakenInAnotherCluster(change))
                }
                scopes[change.record] = existing ?? change.scope
                do throws(ClusterSyncError) {
                    try ChangeAdmission.recordScope(change, existing: existing)
                } catch {
                    throw PushRejection(change: change.id, error: error)
                }
            }
            _ = try writer.apply(accepted)
            try Self.chain(texts, tenant: tenant, after: last, db)
            let erasedLogged = try Self.eraseRedacted(by: accepted, tenant: tenant, cluster: cluster, db)
            try Self.updateContributions(db, tenant: tenant, cluster: cluster, changes: accepted)
            try db.cachedStatement(sql: "UPDATE tenant_sequence SET last = ? WHERE tenant = ?").execute(arguments: [seq, tenant])
            return (PushOutcome(accepted: accepted.count, duplicates: duplicates.count,
                                superseded: try Self.superseded(duplicates, tenant: tenant, cluster: cluster, db)), erasedLogged)
        }
        if outcome.erasedValues { await scrubAfterRedaction() }
        return outcome.pushed
    }

    /// The duplicates (`PushOutcome.reportable`) whose materialised row is dead, or gone:
    /// compaction drops only superseded rows (`compact`).
    static func superseded(_ duplicates: [Change], tenant: String, cluster: String, _ db: Database) throws -> [ChangeID] {
        let reportable = PushOutcome.reportable(duplicates)
        guard !reportable.isEmpty else { return [] }
        let live = try db.cachedStatement(sql: """
            SELECT c.live FROM replica r JOIN change c ON c.replica = r.num AND c.counter = ?
            WHERE r.tenant = ? AND r.cluster = ? AND r.id = ?
            """)
        return try reportable.filter { change in
            try Bool.fetchOne(live, arguments: [change.id.counter, tenant, cluster, change.id.replica.rawValue]) != true
        }.map(\.id)
    }

    /// The batch's redactions, by the change each names.
    static func redactionsOf(_ changes: [Change]) -> [ChangeID: (by: ChangeID, record: RecordID, field: String)] {
        var found: [ChangeID: (by: ChangeID, record: RecordID, field: String)] = [:]
        for change in changes {
            if let request = Redaction.request(of: change), found[request.change] == nil {
                found[request.change] = (change.id, change.record, request.field)
            }
        }
        return found
    }

    /// Appends the chain entries of changes just logged at `after + 1`, `after + 2`, ...
    static func chain(_ texts: [String], tenant: String, after last: Int64, _ db: Database) throws {
        let previous = try Data.fetchOne(db.cachedStatement(sql: "SELECT entry_hash FROM ledger WHERE tenant = ? ORDER BY seq DESC LIMIT 1"),
                                         arguments: [tenant]) ?? LedgerChain.genesis
        let insert = try BoundStatement(db, sql: "INSERT INTO ledger (tenant, seq, salt, content_hash, entry_hash) VALUES (?, ?, ?, ?, ?)")
        for entry in LedgerChain.entries(tenant: tenant, after: last, canonicalTexts: texts, previous: previous) {
            try insert.run(.text(tenant), .int(entry.seq), entry.salt.map(BoundStatement.BindValue.blob) ?? .null, .blob(entry.contentHash), .blob(entry.entryHash))
        }
    }

    /// For each redaction accepted: erases the value of the change it names in the log (the chain
    /// entry keeps its content hash and loses its salt). A redaction naming a change of another
    /// record or field, or one without a value, is refused.
    static func eraseRedacted(by accepted: [Change], tenant: String, cluster: String, _ db: Database) throws -> Bool {
        var erasedAny = false
        for redaction in accepted {
            guard let request = Redaction.request(of: redaction) else { continue }
            guard let row = try Row.fetchOne(db, sql: """
                SELECT seq, change_json FROM log WHERE tenant = ? AND cluster = ? AND replica = ? AND counter = ?
                """, arguments: [tenant, cluster, request.change.replica.rawValue, request.change.counter]),
                let target = try? Change(jsonText: row["change_json"] as String) else { continue }
            do throws(ClusterSyncError) {
                try Redaction.check(request, of: redaction, target: target)
            } catch {
                throw PushRejection(change: redaction.id, error: error)
            }
            guard !Redaction.isMarker(target.value) else { continue }
            try db.execute(sql: "UPDATE log SET change_json = ? WHERE tenant = ? AND seq = ?",
                           arguments: [Redaction.erased(target, by: redaction.id).jsonText, tenant, row["seq"] as Int64])
            try db.execute(sql: "UPDATE ledger SET salt = NULL WHERE tenant = ? AND seq = ?", arguments: [tenant, row["seq"] as Int64])
            erasedAny = true
        }
        return erasedAny
    }

    /// `scrub`, as `scrubs` allows: now, or once later for every redaction until then.
    func scrubAfterRedaction() async {
        switch scrubs.redacted() {
        case .now:
            await scrub()
        case .after(let wait):
            Task {
                try? await Task.sleep(for: wait)
                // Unless the server, stopping, has done it already (`finishDeferredWork`).
                if self.scrubs.takeWaiting() { await self.scrub() }
            }
        case .waiting:
            break
        }
    }

    public func finishDeferredWork() async {
        if scrubs.takeWaiting() { await scrub() }
    }

    /// After a value is erased: rebuilds the file and empties the write-ahead log, so the value's
    /// bytes are gone from the disk, not only from the tables (freed pages and old page versions
    /// keep them otherwise). Costs a copy of the store; redactions are rare. Best effort: a
    /// failure leaves the next redaction to finish it.
    func scrub() async {
        try? await database.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            try db.checkpoint(.truncate)
        }
    }

    // MARK: Replica keys

    static let registrationColumns = "replica, public_key, practice, person, author, registered_at, retired_at"

    static func registration(_ row: Row) -> ReplicaRegistration? {
        guard let replica = ReplicaID(row["replica"] as String), let key = ReplicaPublicKey(rawRepresentation: [UInt8](row["public_key"] as Data))
        else { return nil }
        return ReplicaRegistration(replica: replica, key: key, practice: row["practice"], person: row["person"],
                                   author: row["author"], registeredAt: row["registered_at"], retiredAt: row["retired_at"])
    }

    public func registerReplicaKey(_ key: ReplicaPublicKey, replica: ReplicaID, session identity: SessionIdentity,
                                   person: String?) async throws -> ReplicaRegistration {
        let now = wallClock()
        return try await write { db in
            let arguments: StatementArguments = [identity.tenant, identity.cluster, replica.rawValue]
            let existing = try Row.fetchOne(db, sql: """
                SELECT \(Self.registrationColumns) FROM replica_key WHERE tenant = ? AND cluster = ? AND replica = ?
                """, arguments: arguments).flatMap(Self.registration)
            let owner = try String.fetchOne(db, sql: "SELECT practice FROM replica_owner WHERE tenant = ? AND cluster = ? AND replica = ?",
                                            arguments: arguments)
            switch ReplicaKeys.decide(key, for: replica, session: identity, person: person, existing: existing, owner: owner, nowMillis: now) {
            case .refuse(let error):
                throw error
            case .known(let registration):
                return registration
            case .register(let registration):
                try db.execute(sql: """
                    INSERT INTO replica_key (tenant, cluster, replica, public_key, practice, person, author, registered_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [identity.tenant, identity.cluster, replica.rawValue, Data(key.rawRepresentation),
                                      registration.practice, registration.person, registration.author, registration.registeredAt])
                return registration
            }
        }
    }

    public func replicaRegistrations(_ replicas: Set<ReplicaID>, tenant: String, cluster: String) async throws -> [ReplicaID: ReplicaRegistration] {
        guard !replicas.isEmpty else { return [:] }
        return try pointRead { db in
            let statement = try db.cachedStatement(sql: """
                SELECT \(Self.registrationColumns) FROM replica_key WHERE tenant = ? AND cluster = ? AND replica = ?
                """)
            var found: [ReplicaID: ReplicaRegistration] = [:]
            for replica in replicas {
                if let registration = try Row.fetchOne(statement, arguments: [tenant, cluster, replica.rawValue]).flatMap(Self.registration) {
                    found[replica] = registration
                }
            }
            return found
        }
    }

    // MARK: Pull

    public func pull(for identity: SessionIdentity, after cursor: ClusterSyncCore.Cursor?, limit: Int) async throws -> ChangesPage {
        // A pcpg or health-board session reads its roll-up and the records escalated to it,
        // never a row of the log (PROTOCOL.md §7.1).
        guard identity.role.isPractice else { return try await oversightPull(for: identity, after: cursor, limit: limit) }
        let after = try cursor.map(Self.sequence(of:)) ?? 0
        guard limit > 0 else {
            throw ClusterSyncError(.invalidValue, "a pull's limit must be at least 1; got \(limit)", field: "limit")
        }
        let rows = try await read { db in
            try Self.requireKept(db, tenant: identity.tenant, after: after)
            // Rows as (seq, JSON) only: decoding happens outside the read, off the connection.
            // INDEXED BY: without statistics SQLite prefers the primary key (tenant, seq), which
            // would walk every cluster's changes; log_by_cluster walks this cluster's only, and
            // skips other practices' private changes on the index without reading their rows.
            let statement = try db.cachedStatement(sql: """
                SELECT seq, change_json FROM log INDEXED BY log_by_cluster
                WHERE tenant = ? AND cluster = ? AND seq > ? AND (practice IS NULL OR practice = ?)
                ORDER BY seq LIMIT ?
                """)
            // One row past the page says whether there is more.
            let found = try Row.fetchCursor(statement, arguments: [
                identity.tenant, identity.cluster, after, identity.practice, limit == .max ? limit : limit + 1,
            ])
            var rows: [(Int64, String)] = []
            while let row = try found.next() { rows.append((row[0], row[1])) }
            return rows
        }
        return StoredPage.decoded(rows, limit: limit, askedWith: cursor)
    }

    /// Closes the pool's idle readers and empties the writer's page cache, without waiting for
    /// reads under way (GRDB's `releaseMemoryEventually`). Each connection may cache 64 MB
    /// (`DatabaseSetup`): after 4,000 sessions had left, their caches held about 36 of the 57 MB
    /// the server kept above its idle size (MEASUREMENTS.md, sixteenth session).
    public func releaseCaches() {
        database.releaseMemoryEventually()
    }

    public func storeIdentity() async throws -> String {
        try await read { db in try String.fetchOne(db, sql: "SELECT id FROM store_identity")! }
    }

    /// A keyed read of the chain's last entry, on the session's thread (`pointRead`): every
    /// hello asks.
    public func chainHead(tenant: String) async throws -> LedgerHead? {
        try pointRead { db in
            try Row.fetchOne(db, sql: "SELECT seq, entry_hash FROM ledger WHERE tenant = ? ORDER BY seq DESC LIMIT 1", arguments: [tenant])
                .map { LedgerHead(seq: $0[0], hash: $0[1]) }
        }
    }

    public func currentCursor(tenant: String) async throws -> ClusterSyncCore.Cursor {
        try await read { db in
            guard let last = try Int64.fetchOne(db, sql: "SELECT last FROM tenant_sequence WHERE tenant = ?", arguments: [tenant]) else {
                throw ClusterSyncError(.invalidValue, "no tenant \"\(tenant)\" on this server", field: "tenant")
            }
            return Self.cursor(at: last)
        }
    }

    // MARK: Oversight

    public func conflicts(tenant: String, cluster: String?) async throws -> [RecordConflictSummary] {
        try await read { db in
            if let cluster {
                try Self.requireCluster(cluster, tenant: tenant, db)
                return try ChangeReader.conflicts(
                    db, where: "rec.tenant = ? AND rec.cluster = ? AND rec.practice IS NULL", arguments: [tenant, cluster])
            }
            try Self.requireTenant(tenant, db)
            return try ChangeReader.conflicts(db, where: "rec.tenant = ? AND rec.practice IS NULL", arguments: [tenant])
        }
    }

    // MARK: Tamper-evident log

    /// Walks a tenant's chain with `LedgerVerifier` (`clustersyncd verify`): every chain entry and
    /// every logged change, in sequence order, in one read. Throws `invalidValue` for an unknown tenant.
    public func verifyChain(tenant: String, expectedHead: Data?) async throws -> LedgerReport {
        try await read { db in
            try Self.requireTenant(tenant, db)
            var verifier = LedgerVerifier(tenant: tenant, expectedHead: expectedHead, compaction: try Self.compaction(db, tenant: tenant))
            // Both sides of a full outer join of chain and log on seq, ordered by seq.
            let rows = try Row.fetchCursor(db, sql: """
                SELECT l.seq AS pos, l.seq, l.salt, l.content_hash, l.entry_hash, g.change_json
                    FROM ledger l LEFT JOIN log g ON g.tenant = l.tenant AND g.seq = l.seq WHERE l.tenant = ?1
                UNION ALL
                SELECT g.seq AS pos, NULL, NULL, NULL, NULL, g.change_json FROM log g
                    WHERE g.tenant = ?1 AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.tenant = g.tenant AND l.seq = g.seq)
                ORDER BY pos
                """, arguments: [tenant])
            while let row = try rows.next() {
                let entry: LedgerEntry? = (row["seq"] as Int64?).map { seq in
                    LedgerEntry(seq: seq, salt: row["salt"], contentHash: row["content_hash"], entryHash: row["entry_hash"])
                }
                verifier.add(seq: row["pos"], entry: entry, changeText: row["change_json"])
            }
            return verifier.finish()
        }
    }

    // MARK: Health

    /// What the store holds, read and then written back in one committed transaction (the
    /// `health` row), so a store that can be read but not written, or not synced to disk,
    /// fails here as pushes would.
    public func probe() async throws -> (tenants: Int, changes: Int64) {
        let now = wallClock()
        return try await write { db in
            let tenants = try Int.fetchOne(db, sql: "SELECT count(*) FROM tenant")!
            let changes = try Int64.fetchOne(db, sql: "SELECT coalesce(sum(last), 0) FROM tenant_sequence")!
            try db.execute(sql: """
                INSERT INTO health (singleton, checked_at) VALUES (1, ?) ON CONFLICT (singleton) DO UPDATE SET checked_at = excluded.checked_at
                """, arguments: [now])
            return (tenants, changes)
        }
    }

    // MARK: Cursors

    /// Cursors are `StreamCursor`s: `s1:<seq>`, the sequence number of the last change the
    /// client has. Whether one is past the end of the stream is the session's check.
    static func cursor(at seq: Int64) -> ClusterSyncCore.Cursor { StreamCursor.cursor(at: seq) }

    static func sequence(of cursor: ClusterSyncCore.Cursor) throws(ClusterSyncError) -> Int64 {
        try StreamCursor.position(of: cursor)
    }

    // MARK: Checks

    static func checkName(_ name: String, _ kind: String) throws(ClusterSyncError) {
        try PracticeName.check(name, kind)
    }

    /// A label names a person or a laptop; it becomes part of the author shown on every change,
    /// so it keeps the rule of every author name (`AuthorName`).
    static func checkLabel(_ label: String) throws(ClusterSyncError) -> String {
        try AuthorName.validated(label, field: "label")
    }

    static func requireTenant(_ tenant: String, _ db: Database) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM tenant WHERE name = ?)", arguments: [tenant])! else {
            throw ClusterSyncError(.invalidValue, "no tenant \"\(tenant)\"; add it first", field: "tenant")
        }
    }

    static func requireCluster(_ cluster: String, tenant: String, _ db: Database) throws {
        try requireTenant(tenant, db)
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM cluster WHERE tenant = ? AND name = ?)",
                                arguments: [tenant, cluster])! else {
            throw ClusterSyncError(.invalidValue, "no cluster \"\(cluster)\" in tenant \"\(tenant)\"; add it first", field: "cluster")
        }
    }

    static func requireRegion(_ region: String, tenant: String, _ db: Database) throws {
        try requireTenant(tenant, db)
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM region WHERE tenant = ? AND name = ?)",
                                arguments: [tenant, region])! else {
            throw ClusterSyncError(.invalidValue, "no region \"\(region)\" in tenant \"\(tenant)\"; add it with `clustersyncd region add`", field: "region")
        }
    }

    /// What a credential is issued for must be registered: the practice, the region or the tenant.
    static func requireHolder(_ holder: CredentialHolder, _ db: Database) throws {
        if let path = holder.practicePath {
            guard try isRegistered(path, db) else {
                try requireCluster(path.cluster, tenant: path.tenant, db)
                throw ClusterSyncError(.invalidValue, "no practice \"\(path.practice)\" in \(path.tenant)/\(path.cluster); add it first", field: "practice")
            }
        } else if let region = holder.region {
            try requireRegion(region, tenant: holder.tenant, db)
        } else {
            try requireTenant(holder.tenant, db)
        }
    }

    static func isRegistered(_ path: PracticePath, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM practice WHERE tenant = ? AND cluster = ? AND name = ?)"),
                          arguments: [path.tenant, path.cluster, path.practice])!
    }

    // MARK: Database access

    /// GRDB's errors become `internal` errors that carry SQLite's message only: the SQL and its
    /// arguments (record contents) stay out of logs and off the wire.
    ///
    /// `updates` runs in its own savepoint of a transaction shared with other sessions' writes
    /// (`GroupCommit`) and returns once that transaction has committed.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await commits.write(updates)
        } catch let error as DatabaseError {
            throw Self.storageError(error)
        }
    }

    /// A read of a row or two by key, on the calling thread. An async read hops to a reader's
    /// queue and back: about 100 µs against 28 µs for the same read made here (release build,
    /// the benchmark machine), and a one-change sync made five of them on its way. Keyed reads
    /// only: the thread is the session's, held for the read; and the connection is this one
    /// alone, so a point read never waits behind the pool's readers of long pages.
    func pointRead<T>(_ value: (Database) throws -> T) throws -> T {
        do {
            return try pointReads.read(value)
        } catch let error as DatabaseError {
            throw Self.storageError(error)
        }
    }

    /// Whether a record id is taken in another cluster of the tenant (asked for every record a
    /// push creates). `INDEXED BY`: with `cluster <> ?` SQLite chose the `UNIQUE (tenant,
    /// cluster, id)` index, which narrows to the tenant only and so read every record the tenant
    /// holds, 8–11 ms a new record at 200,000 (MEASUREMENTS.md, forty-first session).
    /// `ServerQueryPlanTests` checks this and the other statements a push or a pull runs often.
    static let idTakenElsewhereSQL = "SELECT EXISTS (SELECT 1 FROM record INDEXED BY record_by_id WHERE tenant = ? AND id = ? AND cluster <> ?)"

    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await database.read(value)
        } catch let error as DatabaseError {
            throw Self.storageError(error)
        }
    }

    /// A file that cannot be written or opened is `store-unavailable`, which clients show in
    /// plain words and do not retry; anything else is `internal`.
    static func storageError(_ error: DatabaseError) -> ClusterSyncError {
        let detail = error.message ?? "\(error.resultCode)"
        guard DatabaseSetup.isUnavailable(error) else { return ClusterSyncError(.internal, "server store: \(detail)") }
        return ClusterSyncError(.storeUnavailable,
            "the server cannot write its store (\(detail)): an operator must act (`clustersyncd health` says what is wrong); "
            + "your changes stay in your replica until a sync succeeds")
    }
}

/// A bearer token, `cst_<id>_<secret>`: id is 12 lowercase hex digits (the credential's key,
/// not secret), secret is 32 random bytes in unpadded base64url. The store keeps SHA-256 of the
/// secret's bytes: with 256 bits of entropy a fast hash is enough, and no salt is needed.
struct BearerToken {
    static let prefix = "cst_"
    static let idLength = 12
    static let secretLength = 43

    var id: String
    var secretDigest: SHA256.Digest

    /// A new token; `text` is shown once, `secretHash` stored.
    static func generate() -> (id: String, text: String, secretHash: Data) {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<idLength).map { _ in String(UInt8.random(in: 0..<16, using: &generator), radix: 16) }.joined()
        let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let text = prefix + id + "_" + base64URL(secret)
        return (id, text, Data(SHA256.hash(data: secret)))
    }

    /// Parses a presented token; nil unless it has exactly the issued form.
    init?(parsing text: String) {
        let utf8 = Array(text.utf8)
        let secretStart = Self.prefix.utf8.count + Self.idLength + 1
        guard utf8.count == secretStart + Self.secretLength, text.hasPrefix(Self.prefix),
              utf8[secretStart - 1] == UInt8(ascii: "_") else { return nil }
        let idBytes = utf8[Self.prefix.utf8.count..<(secretStart - 1)]
        guard idBytes.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) })
        else { return nil }
        let secretText = String(decoding: utf8[secretStart...], as: UTF8.self)
        guard let secret = Self.decodeBase64URL(secretText), secret.count == 32 else { return nil }
        id = String(decoding: idBytes, as: UTF8.self)
        secretDigest = SHA256.hash(data: secret)
    }

    static func base64URL(_ data: Data) -> String {
        var text = data.base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// Strict: only the alphabet, no padding, and only the one spelling `base64URL` produces.
    static func decodeBase64URL(_ text: String) -> Data? {
        guard text.utf8.allSatisfy({ c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
        }) else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: standard), base64URL(data) == text else { return nil }
        return data
    }
}
