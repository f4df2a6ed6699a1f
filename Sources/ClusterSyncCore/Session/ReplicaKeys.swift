/// A replica's public key as the server registered it (Protocol/PROTOCOL.md §6.2): to the
/// practice and person of the credential whose session first presented it, in one tenant and
/// cluster. The author the server sets on every change the replica makes, whoever pushes it.
public struct ReplicaRegistration: Sendable, Equatable {
    public var replica: ReplicaID
    public var key: ReplicaPublicKey
    public var practice: String
    /// The credential's label (a token's, or a recorded certificate's), else the practice.
    public var person: String
    /// The session's `identity.author` at registration: what the replica's changes are stamped.
    public var author: String
    /// Milliseconds since 1970.
    public var registeredAt: Int64
    /// When the server's administrator retired the replica (`clustersyncd replica retire`: its
    /// laptop was lost, its file leaked), in milliseconds since 1970; nil while it is in use.
    /// A retired replica's key still proves the changes the server stored before, but no new
    /// change in its name is taken, whoever pushes it (`ReplicaKeys.admitNew`). For good, as a
    /// revoked credential: others may write over its changes the server never received
    /// (`SupersessionReach`), which a replica put back in use could otherwise send later.
    public var retiredAt: Int64?

    public init(replica: ReplicaID, key: ReplicaPublicKey, practice: String, person: String, author: String, registeredAt: Int64,
                retiredAt: Int64? = nil) {
        self.replica = replica
        self.key = key
        self.practice = practice
        self.person = person
        self.author = author
        self.registeredAt = registeredAt
        self.retiredAt = retiredAt
    }
}

/// The rules of key registration and of the author a stored change gets, the same for every
/// store (SQLite, in memory, PostgreSQL later). Pure: the store looks up what is registered.
public enum ReplicaKeys {
    public enum Decision: Sendable, Equatable {
        /// First presentation: store this registration.
        case register(ReplicaRegistration)
        /// The same key, registered to the same practice: nothing to do.
        case known(ReplicaRegistration)
        /// Refuse the hello (`key-mismatch`, fatal).
        case refuse(ClusterSyncError)
    }

    /// What to do with the key a hello presents for `replica`.
    /// - Parameters:
    ///   - existing: the registration of `replica` in the session's tenant and cluster, if any.
    ///   - owner: the practice that owns the replica id by `ReplicaOwnership` (pushed as it
    ///     before keys existed), if any.
    public static func decide(
        _ key: ReplicaPublicKey, for replica: ReplicaID, session identity: SessionIdentity, person: String?,
        existing: ReplicaRegistration?, owner: String?, nowMillis: Int64
    ) -> Decision {
        if let existing {
            guard existing.key == key else {
                return .refuse(ClusterSyncError(.keyMismatch,
                    "replica \(replica) is registered on this server with another key: this is not that replica's file, or its key "
                    + "was replaced. A replica id belongs to one key for good; run `clustersync init` to make a new replica"))
            }
            guard existing.practice == identity.practice else {
                return .refuse(Self.otherPractice(replica, existing.practice))
            }
            if let refusal = retirement(existing) { return .refuse(refusal) }
            return .known(existing)
        }
        if let owner, owner != identity.practice {
            return .refuse(Self.otherPractice(replica, owner))
        }
        return .register(ReplicaRegistration(
            replica: replica, key: key, practice: identity.practice, person: person ?? identity.practice,
            author: identity.author, registeredAt: nowMillis))
    }

    static func otherPractice(_ replica: ReplicaID, _ practice: String) -> ClusterSyncError {
        ClusterSyncError(.keyMismatch,
            "replica \(replica) belongs to practice \(practice) in this cluster: a replica file copied from another practice "
            + "must not be used; run `clustersync init` to make this practice's own")
    }

    /// Whether a store takes `change`, new to it, from its maker's `registration`: never once the
    /// maker is retired, whoever pushes it (a practice relaying it from a merged file included),
    /// since anyone holding the lost file can sign in its name. A change stored before the
    /// retirement is a duplicate when sent again, and never reaches this check.
    public static func admitNew(_ change: Change, registration: ReplicaRegistration?) throws(ClusterSyncError) {
        if let retiredAt = registration?.retiredAt { throw retired(change.id.replica, at: retiredAt, change: change.id) }
    }

    /// The refusal of a hello naming `registration`'s replica, when it is retired.
    public static func retirement(_ registration: ReplicaRegistration) -> ClusterSyncError? {
        registration.retiredAt.map { retired(registration.replica, at: $0) }
    }

    /// The refusal of a retired replica's hello, or of a change in its name.
    static func retired(_ replica: ReplicaID, at millis: Int64, change: ChangeID? = nil) -> ClusterSyncError {
        let day = " on \(CalendarDate(unixMillis: millis))"
        if let change {
            return ClusterSyncError(.replicaRetired,
                "change \(change) was made by replica \(replica), which the server's administrator retired\(day) (its laptop lost or "
                + "its file copied): no new change in its name is taken. If it is yours and genuine, enter it again on a replica "
                + "in use; `clustersync status` lists it")
        }
        return ClusterSyncError(.replicaRetired,
            "replica \(replica) was retired by the server's administrator\(day) (its laptop reported lost or its file copied): "
            + "it can no longer sync, for good. Make a new replica (`clustersync init`) and enter there the edits this file has not "
            + "synced (`clustersync status` counts them; `clustersync history --local` shows a record's changes with their replica)")
    }

    /// The author a store sets on a new change: its maker's registered author when the maker has
    /// registered a key (the session has verified the change's signature against it, so whoever
    /// pushed it, it is the maker's); otherwise the rule from before signed changes
    /// (`AuthorStamp`), which only a store's direct callers (tools, tests, the benchmark) meet,
    /// since a session refuses changes of unregistered makers.
    public static func author(of change: Change, registration: ReplicaRegistration?, pushedBy identity: SessionIdentity,
                              fromReplica replica: ReplicaID?) -> String {
        registration?.author ?? AuthorStamp.author(of: change, pushedBy: identity, fromReplica: replica)
    }
}
