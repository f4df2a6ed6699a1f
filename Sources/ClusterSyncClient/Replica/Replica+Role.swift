import ClusterSyncCore
import GRDB

/// The role the server granted this replica's credential, as its last `welcome` said
/// (`CredentialRole`; PROTOCOL.md §5.2). Before its first sync a replica is a practice's.
public struct GrantedRole: Sendable, Equatable {
    public var role: CredentialRole
    /// A pcpg's region; nil otherwise.
    public var region: String?
    /// When the welcome came (ms since 1970); nil before the first sync.
    public var grantedAt: Int64?

    public init(role: CredentialRole, region: String? = nil, grantedAt: Int64? = nil) {
        self.role = role
        self.region = region
        self.grantedAt = grantedAt
    }

    /// A replica never welcomed.
    public static let beforeFirstSync = GrantedRole(role: .practice)
}

extension Replica {
    /// Remembers the role (and region) of a welcome: the next local edits are checked against it.
    public func rememberRole(_ role: CredentialRole, region: String?) throws {
        let now = wallClock()
        try database.write { db in try Self.rememberRole(role, region: region, at: now, db) }
    }

    static func rememberRole(_ role: CredentialRole, region: String?, at now: Int64, _ db: Database) throws {
        // The same role again writes nothing: `granted_at` says when the server first granted
        // it (0 until then: declared at init), so a sync's first transaction commits no page.
        try db.cachedStatement(sql: """
            INSERT INTO granted_role (singleton, role, region, granted_at) VALUES (1, ?, ?, ?)
            ON CONFLICT (singleton) DO UPDATE SET role = excluded.role, region = excluded.region, granted_at = excluded.granted_at
            WHERE role IS NOT excluded.role OR region IS NOT excluded.region OR granted_at = 0
            """).execute(arguments: [role.rawValue, region, now])
    }

    /// The role a cluster lead declares at `init --role cluster-lead`, for a laptop set up offline:
    /// lead-only edits are allowed locally until the first welcome says which role the credential
    /// really has. The server judges every change by the session's own role, so a wrong
    /// declaration only means those edits are held back at the first sync (`lead-only`).
    public func declareRole(_ role: CredentialRole) throws {
        guard role.isPractice else {
            throw ClusterSyncError(.invalidValue, "only a practice's replica can be declared \(role); use init --role for a read-only one", field: "role")
        }
        try database.write { db in
            // granted_at 0: declared, not granted (`GrantedRole.grantedAt` reads it as nil).
            try db.execute(sql: """
                INSERT INTO granted_role (singleton, role, region, granted_at) VALUES (1, ?, NULL, 0)
                ON CONFLICT (singleton) DO NOTHING
                """, arguments: [role.rawValue])
        }
    }

    /// The role this replica acts with: a read-only replica's from `init --role` (before any sync
    /// too), else the last welcome's (`grantedRole`). What `status` shows and front ends ask.
    public func effectiveRole() throws -> GrantedRole {
        let granted = try grantedRole()
        guard let readOnly = try oversightRole() else { return granted }
        return GrantedRole(role: readOnly.role, region: readOnly.region, grantedAt: granted.grantedAt ?? 0)
    }

    /// The role of the last welcome; `practice` before the first sync, unless one was declared.
    public func grantedRole() throws -> GrantedRole {
        try database.read { db in try Self.grantedRole(db) }
    }

    static func grantedRole(_ db: Database) throws -> GrantedRole {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT role, region, granted_at FROM granted_role")) else { return .beforeFirstSync }
        // A role this version does not know (a newer server's) is treated as the least powerful.
        return GrantedRole(role: CredentialRole(rawValue: row["role"]) ?? .pcpg, region: row["region"], grantedAt: (row["granted_at"] as Int64?).flatMap { $0 == 0 ? nil : $0 })
    }
}
