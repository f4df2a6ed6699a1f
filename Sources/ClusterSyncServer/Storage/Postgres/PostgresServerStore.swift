import ClusterSyncCore
import ClusterSyncStorage
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The server store in PostgreSQL, for several `clustersyncd` nodes sharing one database
/// (issue 13). Holds what `SQLiteServerStore` holds, in the tables of `PostgresServerSchema`.
///
/// Sequence numbers: a push is one transaction that first locks its tenant's row
/// (`SELECT last_seq FROM tenant WHERE name = $1 FOR UPDATE`), numbers its changes from there,
/// and writes the new last number back. The lock is held until commit, so two pushes of one
/// tenant, on any nodes, commit one after the other, in the order of their numbers: a reader can
/// never see n + 1 before n, and a rolled-back push gives its numbers back. Tenants do not wait
/// for each other.
///
/// What the server keeps about each record (its scope, conflicts, escalation, roll-up
/// contribution) is recomputed inside the push from the record's changes by the same
/// `ChangeWriter` and `ChangeReader` the replica and the SQLite store use, in a scratch
/// in-memory database (`ScratchRecords`): one rule, one place.
///
/// Every accepted push sends `NOTIFY clustersync_changes, '<tenant>'` in its transaction, so
/// every node's `PostgresChangeListener` wakes its subscribed sessions when it commits.
public final class PostgresServerStore: ServerStore {
    public let client: PostgresClient
    public let location: PostgresLocation
    let logger: Logger
    private let clock: Mutex<@Sendable () -> Int64>
    /// Each cluster's roll-up as last aggregated, for read-only sessions' pulls.
    let rollups = ClusterRollupCache()
    /// Each cluster's listed records, for read-only sessions' pulls.
    let listings = ListedRecordsCache()
    /// The notification channel every node listens on.
    public static let changesChannel = "clustersync_changes"
    /// This store's node among those sharing the database, named in its pushes' notifications
    /// (`PushNotice`) so its own listener passes them over: its sessions were woken already.
    public let node = PushNotice.newNode()

    var wallClock: @Sendable () -> Int64 { clock.withLock { $0 } }

    /// A store over `location`, with a pool of at most `maximumConnections`. Nothing is
    /// connected until the client runs: put `client` in the ServiceGroup (or call
    /// `runInBackground()` for a one-off command), then `migrate()`.
    public init(location: PostgresLocation, maximumConnections: Int = 20, logger: Logger, callDeadline: Duration = .seconds(30),
                wallClock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) throws {
        self.location = location
        self.callDeadline = callDeadline
        self.logger = logger
        clock = Mutex(wallClock)
        do {
            client = PostgresClient(configuration: try location.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: logger)
        } catch {
            throw ClusterSyncError(.storeUnavailable, "cannot set up TLS to PostgreSQL at \(location): \(error)")
        }
    }

    /// Runs the pool in a task of its own (tests, benches). A command uses `start()`, which
    /// waits until the pool runs, so its first query never leases from a pool not yet running.
    @discardableResult
    public func runInBackground() -> Task<Void, Never> {
        let client = client
        return Task { await client.run() }
    }

    /// The pools `start()` ran in this process, for `shutDownStarted()`.
    private static let started = Mutex<[Task<Void, Never>]>([])

    /// Runs the pool in a task of its own, for commands that use the store once and exit, and
    /// returns once that task is running it (`PostgresClient.run()` marks itself running before
    /// it first suspends, and the task signals just before calling it).
    public func start() async {
        let client = client
        let (ready, signal) = AsyncStream<Void>.makeStream()
        let task = Task {
            signal.finish()
            await client.run()
        }
        for await _ in ready {}
        await Task.yield()
        Self.started.withLock { $0.append(task) }
    }

    /// Stops every pool `start()` ran, closing their connections (a command's last step).
    public static func shutDownStarted() async {
        let tasks = started.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in tasks {
            task.cancel()
            await task.value
        }
    }

    /// Applies the store's migrations (idempotent; safe from several nodes at once); returns
    /// those applied now.
    @discardableResult
    public func migrate() async throws -> [String] {
        try await checkReachable()
        return try await mapErrors { try await PostgresServerSchema.migrate(client, logger: logger) }
    }

    /// Connects once, outside the pool, and says why it cannot: the pool retries a wrong
    /// password or an unreachable host for about a minute and then fails with its circuit
    /// breaker's name, the cause only in its info lines (the forty-fourth session's operations
    /// audit: 68 s, then "internal error: ConnectionPoolError…"). A refused login fails at once;
    /// a database not answering (rebooting while the node starts) is tried again every 2 s for
    /// `callDeadline`, so that systemd's restarts do not run out while it comes back.
    func checkReachable() async throws {
        let giveUp = ContinuousClock.now + callDeadline
        while true {
            do {
                let connection = try await connectOnce(within: .seconds(15))
                try? await connection.close()
                return
            } catch let error as PSQLError {
                let refused = Self.connectionError(error, location)
                guard !Self.isLoginRefused(error), ContinuousClock.now + .seconds(2) < giveUp else { throw refused }
                logger.warning("PostgreSQL not reachable yet; trying again", metadata: ["postgres.error": "\(refused.message)"])
            } catch let error as ClusterSyncError {
                guard ContinuousClock.now + .seconds(2) < giveUp else { throw error }
                logger.warning("PostgreSQL not reachable yet; trying again", metadata: ["postgres.error": "\(error.message)"])
            } catch {
                guard ContinuousClock.now + .seconds(2) < giveUp else { throw Self.unavailable("\(error)", location) }
            }
            try await Task.sleep(for: .seconds(2))
        }
    }

    private func connectOnce(within limit: Duration) async throws -> PostgresConnection {
        let location = location, logger = logger
        return try await within(limit, "no answer within \(limit.components.seconds) s: check the host, the port and the firewall") {
            try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(),
                                                 configuration: try location.connectionConfiguration(), id: 0, logger: logger).get()
        }
    }

    /// PostgreSQL refused the login itself (a wrong password, no `pg_hba.conf` line): trying
    /// again changes nothing.
    static func isLoginRefused(_ error: PSQLError) -> Bool {
        let state = error.serverInfo?[.sqlState] ?? ""
        return state == "28P01" || state == "28000"
    }

    /// Why a first connection failed, as an operator acts on it.
    static func connectionError(_ error: PSQLError, _ location: PostgresLocation) -> ClusterSyncError {
        if isLoginRefused(error) {
            let state = error.serverInfo?[.sqlState] ?? ""
            return ClusterSyncError(.storeUnavailable, "PostgreSQL at \(location.host):\(location.port) refused user \(location.username) for database "
                + "\(location.database) (\(error.serverInfo?[.message] ?? state)): check the password in the URL (postgres.url-file or "
                + "CLUSTERSYNCD_POSTGRES_URL) and the pg_hba.conf line for this node")
        }
        if let message = error.serverInfo?[.message] { return unavailable(message, location) }
        return unavailable(error.underlying.map { "\($0)" } ?? "\(error.code)", location)
    }

    /// Every migration version this store knows, in order.
    public static var migrationVersions: [String] { PostgresServerSchema.migrations.map(\.version) }

    /// Sets the clock that dates credentials and roll-ups (the transcripts set their own).
    public func setWallClock(_ wallClock: @escaping @Sendable () -> Int64) {
        clock.withLock { $0 = wallClock }
    }

    // MARK: Administration

    public func addTenant(_ tenant: String) async throws {
        try SQLiteServerStore.checkName(tenant, "tenant")
        try await transaction { c in
            guard try await c.rows("INSERT INTO tenant (name) VALUES (\(tenant)) ON CONFLICT DO NOTHING RETURNING 1", self.logger).count == 1 else {
                throw ClusterSyncError(.invalidValue, "tenant \"\(tenant)\" already exists", field: "tenant")
            }
        }
    }

    public func addCluster(_ cluster: String, tenant: String, region: String?) async throws {
        try SQLiteServerStore.checkName(tenant, "tenant")
        try SQLiteServerStore.checkName(cluster, "cluster")
        try await transaction { c in
            try await self.requireTenant(tenant, c)
            if let region { try await self.requireRegion(region, tenant: tenant, c) }
            guard try await c.rows("""
                INSERT INTO cluster (tenant, name, region) VALUES (\(tenant), \(cluster), \(region)) ON CONFLICT DO NOTHING RETURNING 1
                """, self.logger).count == 1 else {
                throw ClusterSyncError(.invalidValue, "cluster \"\(cluster)\" already exists in tenant \"\(tenant)\"", field: "cluster")
            }
        }
    }

    public func addPractice(_ practice: String, cluster: String, tenant: String, kind: PracticeKind) async throws {
        try SQLiteServerStore.checkName(tenant, "tenant")
        try SQLiteServerStore.checkName(cluster, "cluster")
        try SQLiteServerStore.checkName(practice, "practice")
        try await transaction { c in
            try await self.requireCluster(cluster, tenant: tenant, c)
            guard try await c.rows("""
                INSERT INTO practice (tenant, cluster, name, kind) VALUES (\(tenant), \(cluster), \(practice), \(kind.rawValue))
                ON CONFLICT DO NOTHING RETURNING 1
                """, self.logger).count == 1 else {
                throw ClusterSyncError(.invalidValue, "practice \"\(practice)\" already exists in \(tenant)/\(cluster)", field: "practice")
            }
        }
    }

    public func tenants() async throws -> [String] {
        try await read { c in try await c.rows("SELECT name FROM tenant ORDER BY name", self.logger).map { try $0.decode(String.self) } }
    }

    public func clusters(tenant: String?) async throws -> [ClusterPath] {
        try await read { c in
            if let tenant { try await self.requireTenant(tenant, c) }
            return try await c.rows("""
                SELECT tenant, name, region FROM cluster WHERE \(tenant)::text IS NULL OR tenant = \(tenant) ORDER BY tenant, name
                """, self.logger).map {
                let (tenant, name, region) = try $0.decode((String, String, String?).self)
                return ClusterPath(tenant: tenant, cluster: name, region: region)
            }
        }
    }

    public func practices(tenant: String?) async throws -> [RegisteredPractice] {
        try await read { c in
            try await c.rows("""
                SELECT tenant, cluster, name, kind FROM practice WHERE \(tenant)::text IS NULL OR tenant = \(tenant) ORDER BY tenant, cluster, name
                """, self.logger).map {
                let (tenant, cluster, name, kind) = try $0.decode((String, String, String, String).self)
                return RegisteredPractice(PracticePath(tenant: tenant, cluster: cluster, practice: name), storedKind: kind)
            }
        }
    }

    public func setKind(_ kind: PracticeKind, of practice: PracticePath) async throws {
        try await transaction { c in
            guard try await c.rows("""
                UPDATE practice SET kind = \(kind.rawValue)
                WHERE tenant = \(practice.tenant) AND cluster = \(practice.cluster) AND name = \(practice.practice) RETURNING 1
                """, self.logger).count == 1 else { throw RegisteredPractice.unknown(practice) }
        }
    }

    public func isRegistered(_ practice: PracticePath) async throws -> Bool {
        try await read { c in try await self.isRegistered(practice, c) }
    }

    // MARK: Sync

    /// As `SQLiteServerStore.push`, in one PostgreSQL transaction that holds the tenant's row
    /// lock from its first statement to its commit (see the type's comment).
    public func push(_ changes: [Change], as identity: SessionIdentity, from replica: ReplicaID?) async throws -> PushOutcome {
        for change in changes where !identity.mayAccess(change.scope) {
            throw PushRejection(change: change.id, error: identity.role.writeRefusal ?? ClusterSyncError(
                .forbiddenScope, "change \(change.id) is for a scope that \(identity.practice) may not write"))
        }
        guard !changes.isEmpty else { return PushOutcome(accepted: 0, duplicates: 0) }
        return try await transaction { c in try await self.push(changes, as: identity, from: replica, c) }
    }

    private func push(_ changes: [Change], as identity: SessionIdentity, from replica: ReplicaID?, _ c: PostgresConnection) async throws -> PushOutcome {
        let tenant = identity.tenant, cluster = identity.cluster
        guard let last = try await c.rows("SELECT last_seq FROM tenant WHERE name = \(tenant) FOR UPDATE", logger).first?.decode(Int64.self) else {
            throw ClusterSyncError(.invalidValue, "no tenant \"\(tenant)\" on this server", field: "tenant")
        }
        // What the batch needs to know of the stored state, each read once: the owners of the
        // replica ids it names, their keys and the redactions naming its changes (then, unless
        // all are taken as new, the stored copies of its change ids).
        let replicaIDs = Array(Set(changes.flatMap { [$0.id.replica] + $0.supersedes.map(\.replica) }.map(\.rawValue)))
        var owners: [ReplicaID: String?] = [:]
        for row in try await c.rows("""
            SELECT replica, practice FROM replica_owner WHERE tenant = \(tenant) AND cluster = \(cluster) AND replica = ANY(\(replicaIDs))
            """, logger) {
            let (id, practice) = try row.decode((String, String).self)
            if let id = ReplicaID(id) { owners[id] = practice }
        }
        for id in replicaIDs.compactMap(ReplicaID.init) where owners[id] == nil { owners[id] = .some(nil) }
        let registrations = try await self.registrations(of: Set(changes.map(\.id.replica)), tenant: tenant, cluster: cluster, c)
        let redactions = SQLiteServerStore.redactionsOf(changes)
        let storedRedactions = try await self.storedRedactions(of: changes.map(\.id), tenant: tenant, cluster: cluster, c)
        // The stored levels of the escalations a withdrawal would supersede (`LeadPowers`).
        let withdrawing = changes.filter(LeadPowers.readsSupersededValues).flatMap(\.supersedes)
        let supersededValues = withdrawing.isEmpty ? [:]
            : try await storedCopies(of: withdrawing, tenant: tenant, cluster: cluster, c).copies.mapValues(\.value)
        // Of the risks a change could take an action off (`LeadPowers.risksLeft`, with the sources
        // stored or given earlier in this push), those escalated beyond the cluster now.
        let left = identity.role.hasLeadPowers ? [] : LeadPowers.risksLeft(in: changes, storedValue: { supersededValues[$0] ?? nil })
        var escalatedRisks = Set<RecordID>()
        if !left.isEmpty {
            for row in try await c.rows("""
                SELECT id FROM record WHERE tenant = \(tenant) AND cluster = \(cluster) AND id = ANY(\(left.map(\.rawValue)))
                AND practice IS NULL AND escalation = ANY(\(OversightReach.levels))
                """, logger) {
                if let id = RecordID(try row.decode(String.self)) { escalatedRisks.insert(id) }
            }
        }
        // Which other replicas' changes the push supersedes or has seen are held (`SupersessionReach`).
        let reached = Array(SupersessionReach.idsToRead(changes))
        var heldReached = Set<ChangeID>()
        if !reached.isEmpty {
            for row in try await c.rows("""
                SELECT l.replica, l.counter FROM log l
                JOIN unnest(\(reached.map(\.replica.rawValue))::text[], \(reached.map(\.counter))::bigint[]) AS u(replica, counter)
                  ON l.replica = u.replica AND l.counter = u.counter
                WHERE l.tenant = \(tenant) AND l.cluster = \(cluster)
                """, logger) {
                let (id, counter) = try row.decode((String, Int64).self)
                if let id = ReplicaID(id) { heldReached.insert(ChangeID(replica: id, counter: counter)) }
            }
        }
        // Of the makers of those it does not hold (few pushes have any), the retired ones.
        var retiredReached = Set<ReplicaID>()
        let makersToAsk = SupersessionReach.makersToAsk(Set(reached), held: heldReached)
        if !makersToAsk.isEmpty {
            for row in try await c.rows("""
                SELECT replica FROM replica_key WHERE tenant = \(tenant) AND cluster = \(cluster)
                AND replica = ANY(\(makersToAsk.map(\.rawValue))) AND retired_at IS NOT NULL
                """, logger) {
                if let id = ReplicaID(try row.decode(String.self)) { retiredReached.insert(id) }
            }
        }
        let known = KnownState(owners: owners, registrations: registrations, redactions: redactions, storedRedactions: storedRedactions,
                               heldReached: heldReached, retiredReached: retiredReached, supersededValues: supersededValues, escalatedRisks: escalatedRisks,
                               nearlyFull: try await nearlyFull(for: FieldGrowth.PushReads(changes), tenant: tenant, cluster: cluster, c))

        // Signed changes of registered makers need no stored copy (ownership rules only unsigned
        // pushes), and a push is rarely a resend: it is first tried as all new, and the log's
        // unique key finds a duplicate on insert, which sends the push back to its savepoint to
        // look its ids up. Looking 1,000 ids up first cost 74–114 ms a push at 100,000 stored
        // whenever the planner's statistics were stale (a join over the cluster's whole log).
        // A refusal is decided again too: a resent change the log holds counts as a duplicate,
        // whatever a check of it as new would have said.
        if changes.allSatisfy({ registrations[$0.id.replica] != nil }) {
            try await c.rows("SAVEPOINT all_new", logger)
            do {
                if let outcome = try await store(changes, as: identity, from: replica, after: last, known: known, logged: nil, c) { return outcome }
            } catch is PushRejection {}
            try await c.rows("ROLLBACK TO SAVEPOINT all_new", logger)
        }
        let (stored, logged) = try await storedCopies(of: changes.map(\.id), tenant: tenant, cluster: cluster, c)
        return try await store(changes, as: identity, from: replica, after: last, known: known, stored: stored, logged: logged, c)!
    }

    /// What a push reads of the stored state before deciding (each read once).
    private struct KnownState {
        var owners: [ReplicaID: String?]
        var registrations: [ReplicaID: ReplicaRegistration]
        var redactions: [ChangeID: (by: ChangeID, record: RecordID, field: String)]
        var storedRedactions: [ChangeID: (record: String, field: String, by: ChangeID)]
        /// Those of other replicas' changes the push's changes supersede or have seen held here.
        var heldReached: Set<ChangeID>
        /// The retired makers of those it does not hold (`SupersessionReach`).
        var retiredReached: Set<ReplicaID>
        /// The values of stored changes that changes of the push supersede, where `LeadPowers` reads them.
        var supersededValues: [ChangeID: JSONValue?]
        /// The risks changes of the push could take an action off that are escalated beyond the cluster.
        var escalatedRisks: Set<RecordID>
        /// What the push may fill (`FieldGrowth`).
        var nearlyFull: FieldGrowth.NearlyFull
    }

    /// As `PushLookups.nearlyFull`: the groups' live writes counted in one statement (every
    /// field of the push's records), and the sources' actions in another (by every live `source`
    /// write, as SQLite counts them: an action whose source is in conflict names both; through
    /// `field_write_by_source`); then what may be full read one statement each.
    private func nearlyFull(for reads: FieldGrowth.PushReads, tenant: String, cluster: String,
                            _ c: PostgresConnection) async throws -> FieldGrowth.NearlyFull {
        guard !reads.groups.isEmpty else { return FieldGrowth.NearlyFull() }
        var counted: [FieldGrowth.Group: Int] = [:]
        for row in try await c.rows("""
            SELECT record, field, count(*) FROM field_write WHERE tenant = \(tenant) AND cluster = \(cluster)
            AND record = ANY(\(Array(Set(reads.groups.keys.map(\.record.rawValue))))) AND live GROUP BY record, field
            """, logger) {
            let (record, field, count) = try row.decode((String, String, Int64).self)
            guard let id = RecordID(record) else { continue }
            counted[FieldGrowth.Group(record: id, field: field), default: 0] += Int(count)
        }
        var countedActions: [RecordID: Int] = [:]
        if !reads.sources.isEmpty {
            let bySource = Dictionary(uniqueKeysWithValues: reads.sources.keys.map { (JSONValue.string($0.rawValue).canonicalText, $0) })
            for row in try await c.rows("""
                SELECT value, count(DISTINCT record) FROM field_write WHERE tenant = \(tenant) AND cluster = \(cluster)
                AND field = 'source' AND live AND value = ANY(\(Array(bySource.keys))) GROUP BY value
                """, logger) {
                let (value, count) = try row.decode((String, Int64).self)
                if let id = bySource[value] { countedActions[id] = Int(count) }
            }
        }
        let toRead = reads.toRead(counted: { counted[$0] ?? 0 }, countedActions: { countedActions[$0] ?? 0 })
        var nearlyFull = FieldGrowth.NearlyFull()
        for group in toRead.groups {
            let record = group.record.rawValue, name = group.name
            let rows = group.isMap
                ? try await c.rows("""
                    SELECT field, replica_id, counter FROM field_write WHERE tenant = \(tenant) AND cluster = \(cluster) AND record = \(record)
                    AND field > \(name + ":") AND field < \(name + ";") AND live
                    """, logger)
                : try await c.rows("""
                    SELECT field, replica_id, counter FROM field_write WHERE tenant = \(tenant) AND cluster = \(cluster) AND record = \(record)
                    AND field = \(name) AND live
                    """, logger)
            nearlyFull.groups[group] = try rows.compactMap { row in
                let (field, replica, counter) = try row.decode((String, String, Int64).self)
                return ReplicaID(replica).map { FieldGrowth.LiveWrite(field: field, id: ChangeID(replica: $0, counter: counter)) }
            }
        }
        for source in toRead.sources {
            nearlyFull.sources[source] = Set(try await c.rows("""
                SELECT DISTINCT record FROM field_write WHERE tenant = \(tenant) AND cluster = \(cluster)
                AND field = 'source' AND live AND value = \(JSONValue.string(source.rawValue).canonicalText)
                """, logger).compactMap { RecordID(try $0.decode(String.self)) })
        }
        return nearlyFull
    }

    /// Decides each change and stores the accepted ones, after the tenant's row lock. `logged`
    /// nil: taken to hold none of the changes' ids; returns nil, having written part of the push,
    /// when the log holds one after all (the caller rolls back to its savepoint).
    private func store(
        _ changes: [Change], as identity: SessionIdentity, from replica: ReplicaID?, after last: Int64, known: KnownState,
        stored: [ChangeID: Change] = [:], logged: Set<ChangeID>?, _ c: PostgresConnection
    ) async throws -> PushOutcome? {
        let tenant = identity.tenant, cluster = identity.cluster
        var owners = known.owners
        let registrations = known.registrations, redactions = known.redactions, storedRedactions = known.storedRedactions
        var accepted: [Change] = []
        var duplicates: [Change] = []
        var inBatch: [ChangeID: Change] = [:]
        var tally = FieldGrowth.PushTally(known.nearlyFull)
        var reach = SupersessionReach(held: known.heldReached, retired: known.retiredReached)
        for var change in changes {
            let owner = owners[change.id.replica] ?? nil
            let registration = registrations[change.id.replica]
            // A maker with a key: its signature was verified, so the change is its maker's
            // whoever passes it on; ownership rules only unsigned pushes of direct callers.
            let decision: ReplicaOwnership.Decision = if let registration {
                .store(bindTo: owner == nil ? registration.practice : nil)
            } else {
                ReplicaOwnership.decide(change, pushedBy: identity.practice, sessionReplica: replica, owner: owner,
                                        stored: ReplicaOwnership.needsStoredCopy(owner: owner, pushedBy: identity.practice) ? stored[change.id] : nil)
            }
            switch decision {
            case .refuse(let error):
                throw PushRejection(change: change.id, error: error)
            case .duplicate:
                duplicates.append(change)
                continue
            case .store(let bindTo):
                if let bindTo {
                    try await c.rows("""
                        INSERT INTO replica_owner (tenant, cluster, replica, practice)
                        VALUES (\(tenant), \(cluster), \(change.id.replica.rawValue), \(bindTo)) ON CONFLICT DO NOTHING
                        """, logger)
                    owners[change.id.replica] = bindTo
                }
            }
            // Stored already, or twice in this batch: a duplicate, as the SQLite store's unique key says
            // (when it is the same change: `ReplicaOwnership.checkResent`).
            guard logged?.contains(change.id) != true, inBatch[change.id] == nil else {
                try ReplicaOwnership.refuseAlteredResend(change, stored: stored[change.id] ?? inBatch[change.id])
                duplicates.append(change)
                continue
            }
            // Checked only for changes new to the store: a resend or a relay of a change stored
            // already needs no power and adds nothing. Judged without the retired replicas'
            // changes the store lacks (`SupersessionReach.judged`).
            let judged = reach.judged(change)
            let superseded = judged.supersedes.map { owners[$0.replica] ?? nil }
            let supersededValues = LeadPowers.readsSupersededValues(judged)
                ? judged.supersedes.map { inBatch[$0]?.value ?? known.supersededValues[$0] ?? nil } : []
            // Whether a write of its maker stays live beside it, stored or earlier in this push
            // (read only for a write over another practice's value, which few pushes hold).
            var leavesOwnWriteLive = false
            if !identity.role.hasLeadPowers, LeadPowers.readsOwnLiveWrites(judged, by: identity.practice, supersededPractices: superseded) {
                let ownLiveWrites = try await c.rows("""
                    SELECT counter FROM field_write WHERE tenant = \(tenant) AND cluster = \(cluster) AND record = \(change.record.rawValue)
                    AND field = \(change.field) AND replica_id = \(change.id.replica.rawValue) AND live
                    """, logger).map { ChangeID(replica: change.id.replica, counter: try $0.decode(Int64.self)) }
                leavesOwnWriteLive = LeadPowers.leavesOwnWriteLive(judged, ownLiveWrites: ownLiveWrites, earlier: accepted)
            }
            do throws(ClusterSyncError) {
                try ReplicaKeys.admitNew(change, registration: registration)
                try reach.check(change)
                try LeadPowers.check(judged, role: identity.role, practice: identity.practice, supersededPractices: superseded,
                                     supersededValues: supersededValues, escalatedRisks: known.escalatedRisks,
                                     leavesOwnWriteLive: leavesOwnWriteLive, receiver: .server)
            } catch {
                throw PushRejection(change: change.id, error: error)
            }
            try tally.admit(change)
            reach.admit(change)
            change.author = ReplicaKeys.author(of: change, registration: registration, pushedBy: identity, fromReplica: replica)
            if change.value != nil {
                let inBatch = redactions[change.id].flatMap { $0.record == change.record && $0.field == change.field ? $0.by : nil }
                let kept = storedRedactions[change.id].flatMap { $0.record == change.record.rawValue && $0.field == change.field ? $0.by : nil }
                if let by = inBatch ?? kept { change = Redaction.erased(change, by: by) }
            }
            inBatch[change.id] = change
            accepted.append(change)
        }
        guard !accepted.isEmpty else {
            return PushOutcome(accepted: 0, duplicates: duplicates.count,
                               superseded: try await superseded(duplicates, tenant: tenant, cluster: cluster, c))
        }

        // A record keeps the scope it was created in. The rows read here are those the
        // materialised state loads too (its writer makes the records this push creates).
        var scopes: [RecordID: RecordScope] = [:]
        var records: [PostgresMaterialisedState.RecordRow] = []
        let recordIDs = Array(Set(accepted.map(\.record.rawValue)))
        for row in try await c.rows("""
            SELECT id, type, practice, parent FROM record WHERE tenant = \(tenant) AND cluster = \(cluster) AND id = ANY(\(recordIDs))
            """, logger) {
            let (id, type, practice, parent) = try row.decode((String, String, String?, String?).self)
            records.append(.init(id: id, type: type, practice: practice, parent: parent))
            if let id = RecordID(id) { scopes[id] = RecordScope(tenant: tenant, cluster: cluster, practice: practice) }
        }
        var created: [RecordID: RecordScope] = [:]
        for change in accepted {
            let existing = scopes[change.record]
            do throws(ClusterSyncError) {
                try ChangeAdmission.recordScope(change, existing: existing)
            } catch {
                throw PushRejection(change: change.id, error: error)
            }
            if existing == nil {
                scopes[change.record] = change.scope
                created[change.record] = change.scope
            }
        }

        if !created.isEmpty, let taken = try await c.rows("""
            SELECT id FROM record WHERE tenant = \(tenant) AND id = ANY(\(created.keys.map(\.rawValue))) AND cluster <> \(cluster) LIMIT 1
            """, logger).first.flatMap({ try RecordID($0.decode(String.self)) }),
           let change = accepted.first(where: { $0.record == taken }) {
            throw PushRejection(change: change.id, error: ChangeAdmission.idTakenInAnotherCluster(change))
        }
        guard try await appendToLog(accepted, tenant: tenant, cluster: cluster, after: last, allNew: logged == nil, c) else { return nil }
        if !created.isEmpty {
            // One statement for the batch's new records (a push of an imported register creates
            // hundreds); arrays carry no NULLs, so '' stands for a shared record's practice.
            let newRecords = Array(created)
            try await c.rows("""
                INSERT INTO record (tenant, cluster, id, type, practice)
                SELECT \(tenant), \(cluster), u.id, u.type, NULLIF(u.practice, '')
                FROM unnest(\(newRecords.map(\.key.rawValue))::text[], \(newRecords.map(\.key.type.rawValue))::text[],
                            \(newRecords.map { $0.value.practice ?? "" })::text[]) AS u(id, type, practice)
                """, logger)
        }
        try await chain(accepted, tenant: tenant, after: last, c)
        try await eraseRedacted(by: accepted, tenant: tenant, cluster: cluster, c)
        let scratch = try await PostgresMaterialisedState.apply(accepted, records: records, tenant: tenant, cluster: cluster, c, logger: logger)
        try await refreshRecords(Set(accepted.lazy.filter { $0.scope.practice == nil }.map(\.record)), from: scratch,
                                 tenant: tenant, cluster: cluster, c)
        // The notification is delivered to every node's listener when this transaction commits,
        // never before; sent by the same statement (a round trip fewer).
        try await c.rows("""
            UPDATE tenant SET last_seq = \(last + Int64(accepted.count)) WHERE name = \(tenant) RETURNING pg_notify(\(Self.changesChannel), \(PushNotice(tenant: tenant, node: node, cluster: cluster).payload))
            """, logger)
        return PushOutcome(accepted: accepted.count, duplicates: duplicates.count,
                           superseded: try await superseded(duplicates, tenant: tenant, cluster: cluster, c))
    }

    /// As `SQLiteServerStore.superseded`: the duplicates whose row in `field_write` (which holds
    /// the live writes, and the superseded list positions) is dead or absent.
    private func superseded(_ duplicates: [Change], tenant: String, cluster: String, _ c: PostgresConnection) async throws -> [ChangeID] {
        let reportable = PushOutcome.reportable(duplicates)
        guard !reportable.isEmpty else { return [] }
        var live = Set<String>()
        for row in try await c.rows("""
            SELECT w.replica_id || '@' || w.counter FROM field_write w
            JOIN unnest(\(reportable.map(\.id.replica.rawValue))::text[], \(reportable.map(\.id.counter))::bigint[]) AS d(replica, counter)
                ON w.replica_id = d.replica AND w.counter = d.counter
            WHERE w.tenant = \(tenant) AND w.cluster = \(cluster) AND w.live
            """, logger) {
            live.insert(try row.decode(String.self))
        }
        return reportable.filter { !live.contains("\($0.id.replica.rawValue)@\($0.id.counter)") }.map(\.id)
    }

    // MARK: Replica keys

    static let registrationColumns = "replica, public_key, practice, person, author, registered_at, retired_at"

    static func registration(_ row: PostgresRow) throws -> ReplicaRegistration? {
        let (replica, key, practice, person, author, registeredAt, retiredAt) = try row.decode((String, Data, String, String, String, Int64, Int64?).self)
        guard let replica = ReplicaID(replica), let key = ReplicaPublicKey(rawRepresentation: [UInt8](key)) else { return nil }
        return ReplicaRegistration(replica: replica, key: key, practice: practice, person: person, author: author, registeredAt: registeredAt,
                                   retiredAt: retiredAt)
    }

    /// As the SQLite store, by `ReplicaKeys.decide`. Two nodes registering one replica id at
    /// once: the primary key lets one insert win, and the other decides again against it.
    public func registerReplicaKey(_ key: ReplicaPublicKey, replica: ReplicaID, session identity: SessionIdentity,
                                   person: String?) async throws -> ReplicaRegistration {
        let now = wallClock()
        return try await read { c in
            for _ in 0..<2 {
                let existing = try await self.registrations(of: [replica], tenant: identity.tenant, cluster: identity.cluster, c)[replica]
                let owner = try await c.rows("""
                    SELECT practice FROM replica_owner WHERE tenant = \(identity.tenant) AND cluster = \(identity.cluster) AND replica = \(replica.rawValue)
                    """, self.logger).first?.decode(String.self)
                switch ReplicaKeys.decide(key, for: replica, session: identity, person: person, existing: existing, owner: owner, nowMillis: now) {
                case .refuse(let error):
                    throw error
                case .known(let registration):
                    return registration
                case .register(let registration):
                    let inserted = try await c.rows("""
                        INSERT INTO replica_key (tenant, cluster, replica, public_key, practice, person, author, registered_at)
                        VALUES (\(identity.tenant), \(identity.cluster), \(replica.rawValue), \(Data(key.rawRepresentation)),
                                \(registration.practice), \(registration.person), \(registration.author), \(registration.registeredAt))
                        ON CONFLICT DO NOTHING RETURNING 1
                        """, self.logger)
                    if !inserted.isEmpty { return registration }
                }
            }
            throw ClusterSyncError(.internal, "the key of replica \(replica) was registered and removed at once; try again")
        }
    }

    public func replicaRegistrations(_ replicas: Set<ReplicaID>, tenant: String, cluster: String) async throws -> [ReplicaID: ReplicaRegistration] {
        guard !replicas.isEmpty else { return [:] }
        return try await read { c in try await self.registrations(of: replicas, tenant: tenant, cluster: cluster, c) }
    }

    func registrations(of replicas: Set<ReplicaID>, tenant: String, cluster: String, _ c: PostgresConnection) async throws -> [ReplicaID: ReplicaRegistration] {
        var found: [ReplicaID: ReplicaRegistration] = [:]
        for row in try await c.rows("""
            SELECT \(unescaped: Self.registrationColumns) FROM replica_key
            WHERE tenant = \(tenant) AND cluster = \(cluster) AND replica = ANY(\(replicas.map(\.rawValue)))
            """, logger) {
            if let registration = try Self.registration(row) { found[registration.replica] = registration }
        }
        return found
    }

    /// The stored copies of these change ids in the cluster (as logged: stamped, maybe erased),
    /// and every id of them the log holds (a compacted change keeps its row, without a copy).
    private func storedCopies(of ids: [ChangeID], tenant: String, cluster: String, _ c: PostgresConnection) async throws
        -> (copies: [ChangeID: Change], logged: Set<ChangeID>) {
        var found: [ChangeID: Change] = [:]
        var logged = Set<ChangeID>()
        let replicas = ids.map(\.replica.rawValue), counters = ids.map(\.counter)
        // Joined, not probed id by id (a LATERAL subquery): with statistics from when the log
        // was small, the planner probed through another index of (tenant, cluster) and read the
        // cluster's whole log once per id (4 s a push of 1,000 at 20,000 stored, measured); a
        // join reads it at most once. `ANALYZE` after `copy-to-postgres` and autovacuum keep
        // the statistics that make it a probe of the unique key.
        for row in try await c.rows("""
            SELECT l.replica, l.counter, l.change_json FROM log l JOIN unnest(\(replicas)::text[], \(counters)::bigint[]) AS wanted(replica, counter)
                ON l.tenant = \(tenant) AND l.cluster = \(cluster) AND l.replica = wanted.replica AND l.counter = wanted.counter
            """, logger) {
            let (replica, counter, text) = try row.decode((String, Int64, String).self)
            if let replica = ReplicaID(replica) { logged.insert(ChangeID(replica: replica, counter: counter)) }
            if let change = try? Change(jsonText: text) { found[change.id] = change }
        }
        return (found, logged)
    }

    /// The stored redactions naming these changes.
    private func storedRedactions(of ids: [ChangeID], tenant: String, cluster: String, _ c: PostgresConnection) async throws
        -> [ChangeID: (record: String, field: String, by: ChangeID)] {
        var found: [ChangeID: (record: String, field: String, by: ChangeID)] = [:]
        let names = ids.map(\.description)
        for row in try await c.rows("""
            SELECT change, record, field, by FROM redaction WHERE tenant = \(tenant) AND cluster = \(cluster) AND change = ANY(\(names))
            """, logger) {
            let (change, record, field, by) = try row.decode((String, String, String, String).self)
            if let change = ChangeID(change), let by = ChangeID(by) { found[change] = (record, field, by) }
        }
        return found
    }

    /// Appends the accepted changes at `after + 1`, `after + 2`, ... in one statement. `allNew`:
    /// they were not looked up, so a change the log holds is skipped by its unique key, and the
    /// answer is false (the push must look its ids up); true once all are appended.
    private func appendToLog(_ accepted: [Change], tenant: String, cluster: String, after last: Int64, allNew: Bool,
                             _ c: PostgresConnection) async throws -> Bool {
        let seqs = accepted.indices.map { last + 1 + Int64($0) }
        // Arrays carry no NULLs here: '' stands for none (a practice name is never empty).
        let practices = accepted.map { $0.scope.practice ?? "" }
        let replicas = accepted.map(\.id.replica.rawValue), counters = accepted.map(\.id.counter)
        let records = accepted.map(\.record.rawValue), texts = accepted.map(\.jsonText)
        let appended = try await c.rows("""
            INSERT INTO log (tenant, seq, cluster, practice, replica, counter, record, change_json)
            SELECT \(tenant), seq, \(cluster), NULLIF(practice, ''), replica, counter, record, change_json
            FROM unnest(\(seqs)::bigint[], \(practices)::text[], \(replicas)::text[], \(counters)::bigint[], \(records)::text[], \(texts)::text[])
                AS batch(seq, practice, replica, counter, record, change_json)
            \(unescaped: allNew ? "ON CONFLICT (tenant, cluster, replica, counter) DO NOTHING RETURNING 1" : "")
            """, logger)
        if allNew, appended.count != accepted.count { return false }
        // Redactions kept, so a copy of a redacted change arriving later is erased on arrival.
        for change in accepted {
            guard let request = Redaction.request(of: change) else { continue }
            try await c.rows("""
                INSERT INTO redaction (tenant, cluster, change, record, field, by)
                VALUES (\(tenant), \(cluster), \(request.change.description), \(change.record.rawValue), \(request.field), \(change.id.description))
                ON CONFLICT DO NOTHING
                """, logger)
        }
        return true
    }

    /// Appends the chain entries of the changes just logged at `after + 1`, `after + 2`, ...
    private func chain(_ accepted: [Change], tenant: String, after last: Int64, _ c: PostgresConnection) async throws {
        let previous = try await c.rows("SELECT entry_hash FROM ledger WHERE tenant = \(tenant) ORDER BY seq DESC LIMIT 1", logger)
            .first?.decode(Data.self) ?? LedgerChain.genesis
        // Hashes travel as hex (bytea arrays are not bindable here).
        var seqs: [Int64] = [], salts: [String] = [], contents: [String] = [], entries: [String] = []
        for entry in LedgerChain.entries(tenant: tenant, after: last, canonicalTexts: accepted.map(\.jsonText), previous: previous) {
            seqs.append(entry.seq)
            salts.append(LedgerChain.hex(entry.salt ?? Data()))
            contents.append(LedgerChain.hex(entry.contentHash))
            entries.append(LedgerChain.hex(entry.entryHash))
        }
        try await c.rows("""
            INSERT INTO ledger (tenant, seq, salt, content_hash, entry_hash)
            SELECT \(tenant), seq, NULLIF(decode(salt, 'hex'), ''::bytea), decode(content_hash, 'hex'), decode(entry_hash, 'hex')
            FROM unnest(\(seqs)::bigint[], \(salts)::text[], \(contents)::text[], \(entries)::text[]) AS batch(seq, salt, content_hash, entry_hash)
            """, logger)
    }

    /// For each redaction accepted: erases the value of the change it names in the log (the
    /// chain entry keeps its content hash and loses its salt). As the SQLite store does.
    private func eraseRedacted(by accepted: [Change], tenant: String, cluster: String, _ c: PostgresConnection) async throws {
        for redaction in accepted {
            guard let request = Redaction.request(of: redaction) else { continue }
            guard let row = try await c.rows("""
                SELECT seq, change_json FROM log
                WHERE tenant = \(tenant) AND cluster = \(cluster) AND replica = \(request.change.replica.rawValue) AND counter = \(request.change.counter)
                """, logger).first else { continue }
            let (seq, text) = try row.decode((Int64, String).self)
            guard let target = try? Change(jsonText: text) else { continue }
            do throws(ClusterSyncError) {
                try Redaction.check(request, of: redaction, target: target)
            } catch {
                throw PushRejection(change: redaction.id, error: error)
            }
            guard !Redaction.isMarker(target.value) else { continue }
            try await c.rows("UPDATE log SET change_json = \(Redaction.erased(target, by: redaction.id).jsonText) WHERE tenant = \(tenant) AND seq = \(seq)", logger)
            try await c.rows("UPDATE ledger SET salt = NULL WHERE tenant = \(tenant) AND seq = \(seq)", logger)
        }
    }

    public func pull(for identity: SessionIdentity, after cursor: ClusterSyncCore.Cursor?, limit: Int) async throws -> ChangesPage {
        guard identity.role.isPractice else { return try await oversightPull(for: identity, after: cursor, limit: limit) }
        let after = try cursor.map(StreamCursor.position(of:)) ?? 0
        guard limit > 0 else {
            throw ClusterSyncError(.invalidValue, "a pull's limit must be at least 1; got \(limit)", field: "limit")
        }
        let rows = try await logPage(for: identity, after: after, limit: limit, excluding: nil).rows
        return StoredPage.decoded(rows, limit: limit, askedWith: cursor)
    }

    /// At most `limit + 1` rows of the log a practice may read after `after` (one past the page
    /// says whether there is more), and none past the first beyond `PageBudget.maxBytes` of
    /// text (the caller's `PageBudget` ends the page before it; a page of long changes, a
    /// meeting's minutes, no longer brings `limit` of them over the connection) but always two
    /// (a first row longer than the budget goes alone, and the second says more follow), leaving out
    /// `excluding`'s changes, and the tenant's stream end; or `cursor-expired` when the tenant
    /// was compacted beyond `after`. One statement, so
    /// the compaction it checks, the rows it reads and the end are of one snapshot: a compaction
    /// committing beside it cannot hand out a compacted row, and a push committing beside it is
    /// either in the rows or past the end, never stepped over by a cursor moved to the end.
    /// log_by_cluster serves the order and the filter: a pull costs what it returns.
    func logPage(for identity: SessionIdentity, after: Int64, limit: Int, excluding replica: ReplicaID?) async throws
        -> (rows: [(Int64, String)], end: Int64) {
        let fetch = limit == .max ? Int64.max : Int64(limit + 1)
        // '' names no replica: nothing is left out.
        let excluded = replica?.rawValue ?? ""
        // Marker rows before the page: -1 the compaction's end (if beyond `after`), -2 the stream's end.
        let rows: [(Int64, String)] = try await read { c in
            try await c.rows("""
                SELECT -1::bigint, through_seq::text FROM compaction WHERE tenant = \(identity.tenant) AND through_seq > \(after)
                UNION ALL
                SELECT -2::bigint, last_seq::text FROM tenant WHERE name = \(identity.tenant)
                UNION ALL
                (SELECT seq, change_json FROM (
                     SELECT seq, change_json, sum(octet_length(change_json)) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING)
                                              - octet_length(change_json) AS before,
                            row_number() OVER (ORDER BY seq) AS place
                     FROM log
                     WHERE tenant = \(identity.tenant) AND cluster = \(identity.cluster) AND seq > \(after)
                         AND (practice IS NULL OR practice = \(identity.practice)) AND replica <> \(excluded)
                     ORDER BY seq LIMIT \(fetch)
                 ) counted WHERE before <= \(Int64(PageBudget.maxBytes)) OR place <= 2 ORDER BY seq)
                """, self.logger).map { try $0.decode((Int64, String).self) }
        }
        if let expired = rows.first(where: { $0.0 == -1 }) {
            throw CompactedHistory.cursorExpired(through: Int64(expired.1) ?? 0, after: after)
        }
        let end = rows.first { $0.0 == -2 }.flatMap { Int64($0.1) } ?? after
        return (rows.filter { $0.0 >= 0 }, end)
    }

    /// A practice's page straight from the log, each row's text as the push stored it (sent as
    /// it is), a subscription's own changes left out by the query: as `SQLiteServerStore`'s.
    /// A row that is not one line holding one object (damaged) goes out as a JSON string, which
    /// replicas set aside. Unlike SQLite's `json_valid`, PostgreSQL 15 has no check of JSON
    /// that does not throw, so only the line's shape is checked here: pushes store nothing but
    /// canonical text, so only a row altered in the database could fail the full check.
    public func pullStored(for identity: SessionIdentity, after cursor: ClusterSyncCore.Cursor?, limit: Int,
                           excluding replica: ReplicaID?) async throws -> ChangesPage {
        guard let after = try storedPageStart(for: identity, after: cursor, limit: limit) else {
            return try await decodedPage(for: identity, after: cursor, limit: limit, excluding: replica)
        }
        let (rows, end) = try await logPage(for: identity, after: after, limit: limit, excluding: replica)
        let outgoing = rows.prefix(limit + 1).map { StoredPage.outgoingByShape($0.1) }
        let count = PageBudget.rows(outgoing.lazy.map(\.utf8.count), limit: limit)
        let more = rows.count > count
        let page = rows.prefix(count)
        let texts = Array(outgoing.prefix(count))
        return StoredPage.page(texts: texts, lastSeq: page.last?.0, more: more, after: after, askedWith: cursor,
                               excludingOwn: replica != nil, end: end)
    }

    public func storeIdentity() async throws -> String {
        try await read { c in try await c.rows("SELECT id FROM store_identity", self.logger).map { try $0.decode(String.self) } }[0]
    }

    public func chainHead(tenant: String) async throws -> LedgerHead? {
        try await read { c in
            try await c.rows("SELECT seq, entry_hash FROM ledger WHERE tenant = \(tenant) ORDER BY seq DESC LIMIT 1", self.logger)
                .first.map { row in
                    let (seq, hash) = try row.decode((Int64, Data).self)
                    return LedgerHead(seq: seq, hash: hash)
                }
        }
    }

    public func currentCursor(tenant: String) async throws -> ClusterSyncCore.Cursor {
        try await read { c in
            guard let last = try await c.rows("SELECT last_seq FROM tenant WHERE name = \(tenant)", self.logger).first?.decode(Int64.self) else {
                throw ClusterSyncError(.invalidValue, "no tenant \"\(tenant)\" on this server", field: "tenant")
            }
            return StreamCursor.cursor(at: last)
        }
    }

    // MARK: Tamper-evident log

    /// Walks a tenant's chain with `LedgerVerifier` (`clustersyncd verify`), as the SQLite store does.
    /// One snapshot: a compaction committing while the chain is read would otherwise blank rows
    /// the verifier holds no checkpoint for, and a healthy chain would read as altered.
    public func verifyChain(tenant: String, expectedHead: Data?) async throws -> LedgerReport {
        try await snapshot { c in
            try await self.requireTenant(tenant, c)
            var verifier = LedgerVerifier(tenant: tenant, expectedHead: expectedHead, compaction: try await self.compaction(tenant: tenant, c))
            let rows = try await c.query("""
                SELECT coalesce(l.seq, g.seq), l.seq, l.salt, l.content_hash, l.entry_hash, g.change_json
                FROM (SELECT * FROM ledger WHERE tenant = \(tenant)) l
                FULL OUTER JOIN (SELECT seq, change_json FROM log WHERE tenant = \(tenant)) g ON g.seq = l.seq
                ORDER BY 1
                """, logger: self.logger)
            for try await row in rows {
                let (pos, seq, salt, content, entryHash, text) = try row.decode((Int64, Int64?, Data?, Data?, Data?, String?).self)
                let entry = seq.map { LedgerEntry(seq: $0, salt: salt, contentHash: content ?? Data(), entryHash: entryHash ?? Data()) }
                verifier.add(seq: pos, entry: entry, changeText: text)
            }
            return verifier.finish()
        }
    }

    // MARK: Health

    /// What the store holds, read and written back in one committed transaction, so a database
    /// that can be read but not written fails here as pushes would.
    public func probe() async throws -> (tenants: Int, changes: Int64) {
        let now = wallClock()
        return try await transaction { c in
            let (tenants, changes) = try await c.rows("SELECT count(*), coalesce(sum(last_seq), 0)::bigint FROM tenant", self.logger)[0]
                .decode((Int64, Int64).self)
            try await c.rows("""
                INSERT INTO health (singleton, checked_at) VALUES (1, \(now)) ON CONFLICT (singleton) DO UPDATE SET checked_at = excluded.checked_at
                """, self.logger)
            return (Int(tenants), changes)
        }
    }

    // MARK: Checks

    func requireTenant(_ tenant: String, _ c: PostgresConnection) async throws {
        guard try await !c.rows("SELECT 1 FROM tenant WHERE name = \(tenant)", logger).isEmpty else {
            throw ClusterSyncError(.invalidValue, "no tenant \"\(tenant)\"; add it first", field: "tenant")
        }
    }

    func requireCluster(_ cluster: String, tenant: String, _ c: PostgresConnection) async throws {
        try await requireTenant(tenant, c)
        guard try await !c.rows("SELECT 1 FROM cluster WHERE tenant = \(tenant) AND name = \(cluster)", logger).isEmpty else {
            throw ClusterSyncError(.invalidValue, "no cluster \"\(cluster)\" in tenant \"\(tenant)\"; add it first", field: "cluster")
        }
    }

    func requireRegion(_ region: String, tenant: String, _ c: PostgresConnection) async throws {
        try await requireTenant(tenant, c)
        guard try await !c.rows("SELECT 1 FROM region WHERE tenant = \(tenant) AND name = \(region)", logger).isEmpty else {
            throw ClusterSyncError(.invalidValue, "no region \"\(region)\" in tenant \"\(tenant)\"; add it with `clustersyncd region add`", field: "region")
        }
    }

    func isRegistered(_ path: PracticePath, _ c: PostgresConnection) async throws -> Bool {
        try await !c.rows("""
            SELECT 1 FROM practice WHERE tenant = \(path.tenant) AND cluster = \(path.cluster) AND name = \(path.practice)
            """, logger).isEmpty
    }

    /// What a credential is issued for must be registered: the practice, the region or the tenant.
    func requireHolder(_ holder: CredentialHolder, _ c: PostgresConnection) async throws {
        if let path = holder.practicePath {
            guard try await isRegistered(path, c) else {
                try await requireCluster(path.cluster, tenant: path.tenant, c)
                throw ClusterSyncError(.invalidValue, "no practice \"\(path.practice)\" in \(path.tenant)/\(path.cluster); add it first", field: "practice")
            }
        } else if let region = holder.region {
            try await requireRegion(region, tenant: holder.tenant, c)
        } else {
            try await requireTenant(holder.tenant, c)
        }
    }

    // MARK: Database access

    /// How long a store call may wait (for a pooled connection, then for its statements)
    /// before it answers `store-unavailable`: a database that is down or unreachable makes
    /// sessions fail in plain words instead of hanging.
    public let callDeadline: Duration

    /// Runs `operation`, or throws `store-unavailable` once `callDeadline` has passed (the
    /// operation is cancelled: a connection lease gives up at once).
    func withinDeadline<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await within(callDeadline, "no answer within \(callDeadline.components.seconds) s", operation)
    }

    /// Runs `operation`, or throws `store-unavailable` saying `detail` once `limit` has passed.
    private func within<T: Sendable>(_ limit: Duration, _ detail: String, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let location = location
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw Self.unavailable(detail, location) }
            return value
        }
    }

    /// Runs `body` in one transaction on a pooled connection; an error rolls it back.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withinDeadline { try await self.pooledTransaction(body) }
    }

    func pooledTransaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await mapErrors {
            try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: self.logger)
                do {
                    let value = try await body(connection)
                    try await connection.query("COMMIT", logger: self.logger)
                    return value
                } catch {
                    // The connection goes back to the pool; a failed rollback closes it there.
                    _ = try? await connection.query("ROLLBACK", logger: self.logger)
                    throw error
                }
            }
        }
    }

    /// Runs `body` in a read-only transaction that sees one snapshot of the database, for
    /// reads of several statements that must agree (an oversight page, the conflicts list).
    func snapshot<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await transaction { c in
            try await c.rows("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", self.logger)
            return try await body(c)
        }
    }

    /// Runs `body` on a pooled connection, outside a transaction (reads of one statement, or
    /// several whose consistency does not matter).
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withinDeadline {
            try await self.mapErrors { try await self.client.withConnection { connection in try await body(connection) } }
        }
    }

    /// PostgreSQL's errors become `store-unavailable` (cannot connect, or the database refuses
    /// writes) or `internal`, carrying the server's message only: never the SQL or its
    /// arguments (record contents), nor the URL's password.
    func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ClusterSyncError {
            throw error
        } catch let error as PushRejection {
            throw error
        } catch let error as PSQLError {
            throw Self.storageError(error, location)
        } catch let error as CancellationError {
            throw error
        }
    }

    static func storageError(_ error: PSQLError, _ location: PostgresLocation) -> ClusterSyncError {
        if let message = error.serverInfo?[.message] {
            let state = error.serverInfo?[.sqlState] ?? ""
            // 53: insufficient resources (disk full, too many connections); 57: operator
            // intervention (shutting down); 25006: read-only transaction (a standby).
            if state.hasPrefix("53") || state.hasPrefix("57") || state == "25006" {
                return unavailable("\(message)", location)
            }
            return ClusterSyncError(.internal, "server store (PostgreSQL): \(message)")
        }
        return unavailable("\(error.code)", location)
    }

    static func unavailable(_ detail: String, _ location: PostgresLocation) -> ClusterSyncError {
        ClusterSyncError(.storeUnavailable,
            "the server cannot reach its PostgreSQL store at \(location.host):\(location.port)/\(location.database) (\(detail)): "
            + "an operator must act (`clustersyncd health` says what is wrong); your changes stay in your replica until a sync succeeds")
    }
}

extension PostgresConnection {
    /// Every row of a query, collected.
    @discardableResult
    func rows(_ query: PostgresQuery, _ logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }
}
