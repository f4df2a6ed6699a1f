import ClusterSyncCore

/// What a practice authenticates with: a bearer token, or a client certificate this server's
/// CA issued (`clustersyncd credential issue --certificate`).
public enum CredentialKind: String, Sendable, Equatable {
    case token
    case certificate
}

/// One credential as the store keeps it: never the secret, only what an operator lists and the
/// session checks. Times are milliseconds since 1970.
public struct CredentialRecord: Sendable, Equatable {
    /// A token's id (the part between `cst_` and the secret), or `crt_<serial>` for a certificate.
    public var id: String
    public var practice: PracticePath
    /// Whose it is (a person or a laptop); a token's becomes the author of its changes.
    public var label: String?
    public var kind: CredentialKind
    /// A certificate's serial number, lowercase hex without leading zeros.
    public var serial: String?
    public var createdAt: Int64
    /// nil: it does not expire.
    public var expiresAt: Int64?
    /// When a session last started with it (recorded once per session, not per message).
    public var lastUsedAt: Int64?
    /// When it was revoked; nil while it is not.
    public var revokedAt: Int64?

    public init(id: String, practice: PracticePath, label: String?, kind: CredentialKind, serial: String? = nil,
                createdAt: Int64, expiresAt: Int64?, lastUsedAt: Int64? = nil, revokedAt: Int64? = nil) {
        self.id = id
        self.practice = practice
        self.label = label
        self.kind = kind
        self.serial = serial
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }

    /// The one rule for whether a credential still opens a session (checked at hello and again
    /// before every message of an open session): revoked refuses, then expired. nil: it may.
    public func refusal(at now: Int64) -> ClusterSyncError? {
        let what = kind == .token ? "token \(id)" : "certificate \(serial ?? id)"
        if revokedAt != nil {
            return ClusterSyncError(.unauthenticated, "this \(what) has been revoked: ask the cluster's administrator for a new credential")
        }
        if let expiresAt, now >= expiresAt {
            return ClusterSyncError(.unauthenticated, "this \(what) expired at \(Self.iso(expiresAt)): ask the cluster's administrator for a new credential")
        }
        return nil
    }

    /// The identity a session with this credential gets. A certificate's author is the practice
    /// (a certificate names no person), as it always was.
    public var identity: SessionIdentity {
        SessionIdentity(
            tenant: practice.tenant, cluster: practice.cluster, practice: practice.practice,
            author: kind == .token ? AuthorName.authenticated(practice: practice.practice, label: label) : practice.practice)
    }

    /// A time for people: `2026-11-30T01:02:03Z`.
    public static func iso(_ millis: Int64) -> String {
        let seconds = millis / 1000
        let days = Int((seconds >= 0 ? seconds : seconds - 86_399) / 86_400)
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        // Civil date from days since 1970 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))Z"
    }
}

/// A tenant's cluster, for `clustersyncd cluster list`.
public struct ClusterPath: Sendable, Hashable, CustomStringConvertible {
    public var tenant: String
    public var cluster: String
    public init(tenant: String, cluster: String) {
        self.tenant = tenant
        self.cluster = cluster
    }
    public var description: String { "\(tenant)/\(cluster)" }
}

/// One line of the session log auditors read (`clustersyncd audit`): who connected, from where,
/// with which credential, and what was refused and why. Never a secret (a token's id, not the
/// token) and never record contents (a refusal's wire code and message only).
public struct AuditEntry: Sendable, Equatable {
    public enum Event: String, Sendable, Equatable {
        /// A session was welcomed.
        case connected
        /// A hello, a push or an open session was refused.
        case refused
    }

    public var at: Int64
    public var event: Event
    /// nil when the server could not tell whose the connection was (an unknown token).
    public var tenant: String?
    public var cluster: String?
    public var practice: String?
    public var credential: String?
    /// The client's address and port, as the server saw it.
    public var peer: String?
    /// A refusal's wire code and message.
    public var code: String?
    public var message: String?

    public init(at: Int64, event: Event, tenant: String? = nil, cluster: String? = nil, practice: String? = nil,
                credential: String? = nil, peer: String? = nil, code: String? = nil, message: String? = nil) {
        self.at = at
        self.event = event
        self.tenant = tenant
        self.cluster = cluster
        self.practice = practice
        self.credential = credential
        self.peer = peer
        self.code = code
        self.message = message
    }
}
