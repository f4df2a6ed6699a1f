/// The one rule that decides whether a change may enter a store, the server's or a replica's
/// (Protocol/changes.md §8). The server runs it on every pushed change before storing anything,
/// and a replica on every change it receives, so a change the server stores is one every
/// replica of its cluster can apply.
///
/// In order, for each change:
/// 1. decode: the canonical JSON of Protocol/changes.md (`malformed`, naming the key);
/// 2. scope: the change is for the receiver's cluster, shared or the receiver's own practice
///    (`forbidden-scope`);
/// 3. clock: stamped at most `maxClockSkewMillis` ahead of the receiver's clock (`clock-skew`),
///    the limit the server announces in `welcome.limits`;
/// 4. schema: the field exists for the record type and the value fits it (`unknown-field`,
///    `invalid-value`, `patient-data`);
/// 5. structure: what no honest replica can write (a position after its own slot, a change that
///    supersedes or has seen itself or a later change of its own replica) (`invalid-value`).
///
/// And, against what the store holds: a record keeps the scope it was created in
/// (`recordScope(_:existing:)`, `forbidden-scope`). Pure: the clock and the stored scope are
/// passed in.
public struct ChangeAdmission: Sendable, Equatable {
    /// The receiver: the practice whose scopes it holds.
    public var tenant: String
    public var cluster: String
    public var practice: String
    /// How far ahead of `nowMillis` a change may be stamped.
    public var maxClockSkewMillis: Int64
    /// Which end applies the rule: it words the refusals.
    public var receiver: Receiver
    /// A read-only (pcpg, health-board) replica: it holds the cluster-shared records of any
    /// cluster of its tenant that the server sends it (escalated risks and their actions), and
    /// never a practice's private record. `cluster` and `practice` are then empty.
    public var readsTenant = false
    /// On a replica: itself (`OwnReplica`), so that a change in its name it did not make here
    /// is checked before it can move its counter.
    public var own: OwnReplica?

    /// A replica's own id, key and the last counter it numbered a change with. A change in its
    /// name numbered past that counter is one it made in a file it was restored from (a backup,
    /// a power cut), which the server sends back signed with its key, or a made-up one: only
    /// the first is taken. A made-up one would move the counter wherever its maker chose (a
    /// server sending one numbered 2^53 − 1 left the replica unable to make another change: the
    /// fifty-sixth session's review). One numbered within the counter moves nothing.
    public struct OwnReplica: Sendable, Equatable {
        public var replica: ReplicaID
        public var key: ReplicaPublicKey
        public var counter: Int64

        public init(replica: ReplicaID, key: ReplicaPublicKey, counter: Int64) {
            self.replica = replica
            self.key = key
            self.counter = counter
        }

        /// Throws `bad-signature` for a change in this replica's name numbered past its counter
        /// whose signature does not show it is its own.
        func check(_ change: Change) throws(ClusterSyncError) {
            guard change.id.replica == replica, change.id.counter > counter else { return }
            if Redaction.isMarker(change.value) {
                throw ClusterSyncError(.badSignature,
                    "change \(change.id) claims to be made by this replica, which has numbered no change past \(counter), and its value was "
                    + "erased by a redaction, so its signature cannot be checked; it is set aside", field: "sig")
            }
            do throws(ClusterSyncError) {
                try ChangeSignature.verify(change, key: key)
            } catch {
                throw ClusterSyncError(.badSignature,
                    "change \(change.id) claims to be made by this replica, which has numbered no change past \(counter), and is not signed "
                    + "with its key; it is set aside (\(error.message))", field: "sig")
            }
        }
    }

    public enum Receiver: Sendable, Equatable {
        /// A server session, checking a push.
        case server
        /// A replica, checking what it receives.
        case replica
    }

    public init(tenant: String, cluster: String, practice: String, maxClockSkewMillis: Int64, receiver: Receiver) {
        self.tenant = tenant
        self.cluster = cluster
        self.practice = practice
        self.maxClockSkewMillis = maxClockSkewMillis
        self.receiver = receiver
    }

    /// The rule a server applies to a session's pushes, with the limits it announced.
    public init(session identity: SessionIdentity, limits: WireLimits) {
        self.init(tenant: identity.tenant, cluster: identity.cluster, practice: identity.practice,
                  maxClockSkewMillis: limits.maxClockSkewMillis, receiver: .server)
    }

    /// Whether a record of `scope` is the receiver's: its cluster's shared records and its own
    /// practice's private ones.
    public func holds(_ scope: RecordScope) -> Bool {
        if readsTenant { return scope.tenant == tenant && scope.practice == nil }
        return Self.holds(scope, tenant: tenant, cluster: cluster, practice: practice)
    }

    /// The scope rule, the one place it is written: a practice holds its cluster's shared
    /// records and its own private ones.
    public static func holds(_ scope: RecordScope, tenant: String, cluster: String, practice: String) -> Bool {
        scope.tenant == tenant && scope.cluster == cluster && (scope.practice == nil || scope.practice == practice)
    }

    /// Steps 1 to 5 on a change's JSON text.
    public func admit(jsonText: some StringProtocol, nowMillis: Int64) throws(ClusterSyncError) -> Change {
        let change = try Change(jsonText: jsonText)
        try check(change, nowMillis: nowMillis)
        return change
    }

    /// Steps 2 to 5 on a decoded change. Every refusal names the change.
    public func check(_ change: Change, nowMillis: Int64) throws(ClusterSyncError) {
        guard holds(change.scope) else {
            let (who, verb) = receiver == .server ? ("this session", "write") : ("this replica", "hold")
            throw ClusterSyncError(.forbiddenScope,
                "change \(change.id) is for \(Self.scopeName(change.scope)), which \(who) may not \(verb); "
                + (readsTenant ? "it may \(verb) the cluster-shared records of \(tenant)"
                   : "it may \(verb) cluster:\(tenant)/\(cluster) and practice:\(tenant)/\(cluster)/\(practice)"))
        }
        // Added without trapping: a clock limit read from a file may be anything.
        let (latest, overflowed) = nowMillis.addingReportingOverflow(maxClockSkewMillis)
        guard overflowed || change.hlc.millis <= latest else {
            throw ClusterSyncError(.clockSkew,
                "change \(change.id) is stamped \(change.hlc.millis - nowMillis) ms ahead of \(receiver == .server ? "the server's" : "this computer's") clock, "
                + "and at most \(maxClockSkewMillis) ms is allowed: check the clock of the computer that made it",
                field: "hlc")
        }
        do throws(ClusterSyncError) {
            try change.validate()
        } catch {
            throw ClusterSyncError(error.code, "change \(change.id): \(error.message)", field: error.field)
        }
        try own?.check(change)
    }

    /// A record's scope is fixed when it is created: a change that names another scope for a
    /// record the store already holds (`existing`) is refused. Stores key records by tenant and
    /// cluster, so `existing` differs from the change's scope at most in its practice.
    public static func recordScope(_ change: Change, existing: RecordScope?) throws(ClusterSyncError) {
        guard let existing, existing != change.scope else { return }
        if existing.tenant != change.scope.tenant || existing.cluster != change.scope.cluster {
            // Only a replica reading several clusters (a PCPG's, a Health Board's) meets this:
            // servers keep each cluster's records apart, a replica keys them by id alone.
            throw ClusterSyncError(.forbiddenScope,
                "change \(change.id) is for \(change.record) of cluster \(change.scope.cluster), but this replica holds a record "
                + "\(change.record) of cluster \(existing.cluster): two clusters used one id, and the second one's changes are set aside")
        }
        throw ClusterSyncError(.forbiddenScope,
            "change \(change.id) names \(change.record) as \(change.scope.practice == nil ? "cluster-shared" : "private to a practice"), "
            + "but that record was created \(existing.practice == nil ? "cluster-shared" : "private to a practice"); a record keeps the scope it was created in")
    }

    /// A record's id is unique within its tenant: a change creating a record in one cluster is
    /// refused when another cluster of the tenant holds a record of that id. Servers keep each
    /// cluster's records apart, but a PCPG's or Health Board's replica holds several clusters'
    /// records by id alone, and would set one of the two aside (whichever came second): a client
    /// that chose a known id could hide an escalated risk from them. The reference client makes
    /// random ids. The message does not say which cluster holds it.
    public static func idTakenInAnotherCluster(_ change: Change) -> ClusterSyncError {
        ClusterSyncError(.forbiddenScope,
            "change \(change.id) creates \(change.record) in cluster \(change.scope.cluster), but another cluster of \(change.scope.tenant) "
            + "has a record of that id: a record's id is unique within its Health Board, so make the record again (a new one gets a new id)")
    }

    /// A scope as `SessionIdentity.scopes` names it: `cluster:tenant/cluster` or
    /// `practice:tenant/cluster/practice`. The sender chose these strings: a long one is
    /// described, not repeated.
    public static func scopeName(_ scope: RecordScope) -> String {
        let name = if let practice = scope.practice {
            "practice:\(scope.tenant)/\(scope.cluster)/\(practice)"
        } else {
            "cluster:\(scope.tenant)/\(scope.cluster)"
        }
        return name.count <= 200 ? name : "a scope named in \(name.count) characters"
    }
}
