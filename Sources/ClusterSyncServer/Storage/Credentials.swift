import ClusterSyncCore

/// What a practice authenticates with: a bearer token, or a client certificate this server's
/// CA issued (`clustersyncd credential issue --certificate`).
public enum CredentialKind: String, Sendable, Equatable {
    case token
    case certificate
}

/// Whom a credential is issued for, with its role (`clustersyncd credential issue --role`): a
/// practice (`practice` or `cluster-lead`), one region of a tenant (`pcpg`) or a whole tenant
/// (`health-board`).
public struct CredentialHolder: Sendable, Hashable, CustomStringConvertible {
    public var tenant: String
    /// nil for `pcpg` and `health-board`.
    public var cluster: String?
    /// nil for `pcpg` and `health-board`.
    public var practice: String?
    public var role: CredentialRole
    /// A `pcpg`'s region; nil for every other role.
    public var region: String?

    /// A practice's credential, with the practice's role or the cluster lead's.
    public static func practice(_ path: PracticePath, lead: Bool = false) -> CredentialHolder {
        CredentialHolder(unchecked: path.tenant, cluster: path.cluster, practice: path.practice,
                         role: lead ? .clusterLead : .practice, region: nil)
    }

    /// A PCPG's credential: one region of a tenant, read-only.
    public static func pcpg(tenant: String, region: String) -> CredentialHolder {
        CredentialHolder(unchecked: tenant, cluster: nil, practice: nil, role: .pcpg, region: region)
    }

    /// A Health Board's credential: the whole tenant, read-only.
    public static func healthBoard(tenant: String) -> CredentialHolder {
        CredentialHolder(unchecked: tenant, cluster: nil, practice: nil, role: .healthBoard, region: nil)
    }

    /// The holder of `role` from what an operator typed, or an `invalid-value` error naming what
    /// is missing or does not belong: a practice or cluster lead needs a cluster and a practice
    /// and no region; a pcpg a region and no practice; a health board neither.
    public init(tenant: String, cluster: String?, practice: String?, role: CredentialRole, region: String?) throws(ClusterSyncError) {
        switch role {
        case .practice, .clusterLead:
            guard let cluster, let practice else {
                throw ClusterSyncError(.invalidValue, "\(role.credentialName) is for one practice: give --cluster and --practice", field: "practice")
            }
            guard region == nil else {
                throw ClusterSyncError(.invalidValue, "\(role.credentialName) is for a practice, not a region: leave out --region (a cluster's region is set with `clustersyncd cluster set-region`)", field: "region")
            }
            self = .practice(PracticePath(tenant: tenant, cluster: cluster, practice: practice), lead: role == .clusterLead)
        case .pcpg:
            guard cluster == nil, practice == nil else {
                throw ClusterSyncError(.invalidValue, "a pcpg credential is for a region, not a cluster or practice: give --region and leave out --cluster and --practice", field: "practice")
            }
            guard let region else {
                throw ClusterSyncError(.invalidValue, "a pcpg credential is for one region: give --region (`clustersyncd region list` shows them)", field: "region")
            }
            self = .pcpg(tenant: tenant, region: region)
        case .healthBoard:
            guard cluster == nil, practice == nil, region == nil else {
                throw ClusterSyncError(.invalidValue, "a health-board credential is for the whole tenant: leave out --cluster, --practice and --region", field: "practice")
            }
            self = .healthBoard(tenant: tenant)
        }
    }

    private init(unchecked tenant: String, cluster: String?, practice: String?, role: CredentialRole, region: String?) {
        self.tenant = tenant
        self.cluster = cluster
        self.practice = practice
        self.role = role
        self.region = region
    }

    /// The practice, for `practice` and `cluster-lead`.
    public var practicePath: PracticePath? {
        guard let cluster, let practice else { return nil }
        return PracticePath(tenant: tenant, cluster: cluster, practice: practice)
    }

    /// `bcuhb/north-denbighshire/rhyl`, `bcuhb region conwy`, `bcuhb`.
    public var description: String {
        if let practicePath { return practicePath.description }
        if let region { return "\(tenant) region \(region)" }
        return tenant
    }
}

/// One credential as the store keeps it: never the secret, only what an operator lists and the
/// session checks. Times are milliseconds since 1970.
public struct CredentialRecord: Sendable, Equatable {
    /// The id an operator means by `text`: the id as `credential list` shows it, or a token's id
    /// given with its `cst_` prefix, or a whole token (a leaked token is revoked by pasting it).
    public static func id(given text: String) -> String {
        let idLength = 12
        guard text.hasPrefix("cst_") else { return text }
        let id = text.dropFirst(4).prefix(idLength)
        guard id.count == idLength, id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return text }
        return String(id)
    }

    /// A token's id (the part between `cst_` and the secret), or `crt_<serial>` for a certificate.
    public var id: String
    /// The practice, for `practice` and `cluster-lead`. For `pcpg` and `health-board` only the
    /// tenant is set: `cluster` and `practice` are empty (they stand for no practice; see
    /// `CredentialRole`). `holder` says which.
    public var practice: PracticePath
    /// What the credential may do.
    public var role: CredentialRole
    /// A `pcpg` credential's region.
    public var region: String?
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
                createdAt: Int64, expiresAt: Int64?, lastUsedAt: Int64? = nil, revokedAt: Int64? = nil,
                role: CredentialRole = .practice, region: String? = nil) {
        self.id = id
        self.practice = practice
        self.role = role
        self.region = region
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

    /// Whom it was issued for, with its role.
    public var holder: CredentialHolder {
        switch role {
        case .practice, .clusterLead: .practice(practice, lead: role == .clusterLead)
        case .pcpg: .pcpg(tenant: practice.tenant, region: region ?? "")
        case .healthBoard: .healthBoard(tenant: practice.tenant)
        }
    }

    /// The identity a session with this credential gets. A certificate's author is the practice
    /// (a certificate names no person), as it always was. A pcpg's or health board's author
    /// (`pcpg-conwy (label)`, `health-board (label)`) is never stamped on a change: they write nothing.
    public var identity: SessionIdentity {
        guard role.isPractice else {
            let who = role == .pcpg ? "pcpg-\(region ?? "")" : role.rawValue
            return .oversight(tenant: practice.tenant, role: role, region: region,
                              author: AuthorName.authenticated(practice: who, label: label))
        }
        return SessionIdentity(
            tenant: practice.tenant, cluster: practice.cluster, practice: practice.practice,
            author: kind == .token ? AuthorName.authenticated(practice: practice.practice, label: label) : practice.practice,
            role: role)
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
    /// The region (county) the cluster is in; nil: none set.
    public var region: String?
    public init(tenant: String, cluster: String, region: String? = nil) {
        self.tenant = tenant
        self.cluster = cluster
        self.region = region
    }
    public var description: String { "\(tenant)/\(cluster)" }
}

/// A region of a tenant (a county: what one PCPG covers) and its clusters, for `clustersyncd
/// region list`.
public struct RegionSummary: Sendable, Hashable {
    public var tenant: String
    public var name: String
    /// The region's clusters, sorted.
    public var clusters: [String]
    public init(tenant: String, name: String, clusters: [String]) {
        self.tenant = tenant
        self.name = name
        self.clusters = clusters
    }
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

    /// `text` with its control characters written as `\u{0}` and its backslashes as `\\` (so
    /// a name holding the six characters `\u{0}` reads otherwise): a refusal quotes what a
    /// client pushed (a field's name may hold any character), PostgreSQL's text cannot hold NUL
    /// (the insert failed and the entry was lost there: the fifty-sixth session's review), and
    /// a terminal showing `csd audit` would act on the others.
    public static func printable(_ text: String) -> String {
        func needsWritingOut(_ scalar: Unicode.Scalar) -> Bool { scalar == "\\" || scalar.properties.generalCategory == .control }
        guard text.unicodeScalars.contains(where: needsWritingOut) else { return text }
        var shown = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": shown.append(contentsOf: "\\\\".unicodeScalars)
            case _ where needsWritingOut(scalar): shown.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            default: shown.append(scalar)
            }
        }
        return String(shown)
    }
}
