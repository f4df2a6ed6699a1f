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
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO granted_role (singleton, role, region, granted_at) VALUES (1, ?, ?, ?)
                ON CONFLICT (singleton) DO UPDATE SET role = excluded.role, region = excluded.region, granted_at = excluded.granted_at
                """, arguments: [role.rawValue, region, now])
        }
    }

    /// The role of the last welcome; `practice` before the first sync.
    public func grantedRole() throws -> GrantedRole {
        try database.read { db in try Self.grantedRole(db) }
    }

    static func grantedRole(_ db: Database) throws -> GrantedRole {
        guard let row = try Row.fetchOne(db, sql: "SELECT role, region, granted_at FROM granted_role") else { return .beforeFirstSync }
        // A role this version does not know (a newer server's) is treated as the least powerful.
        return GrantedRole(role: CredentialRole(rawValue: row["role"]) ?? .pcpg, region: row["region"], grantedAt: row["granted_at"])
    }
}

/// A change of this replica's outbox that the server refused as lead-only, held back.
public struct HeldBackChange: Sendable, Equatable {
    public var change: ChangeID
    public var record: RecordID
    public var field: String
    /// The server's refusal.
    public var reason: String
    public var sinceMillis: Int64
}

extension Replica {
    /// Takes a change the server refused as `lead-only` out of the outbox (so the rest of the
    /// outbox syncs) and keeps it, with why, until the replica syncs with a cluster-lead
    /// credential (`releaseHeldBack`). The change stays applied here.
    public func holdBack(_ id: ChangeID, reason: String) throws {
        let now = wallClock()
        try database.write { db in
            guard let number = try Int64.fetchOne(db, sql: "SELECT num FROM replica WHERE id = ?", arguments: [id.replica.rawValue]) else { return }
            try db.execute(sql: "DELETE FROM outbox WHERE replica = ? AND counter = ?", arguments: [number, id.counter])
            guard db.changesCount == 1 else { return }
            try db.execute(sql: "INSERT OR REPLACE INTO held_back (replica, counter, reason, held_at) VALUES (?, ?, ?, ?)",
                           arguments: [number, id.counter, reason, now])
        }
    }

    /// Puts every held-back change back in the outbox; returns how many.
    @discardableResult
    public func releaseHeldBack() throws -> Int {
        try database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO outbox (replica, counter) SELECT replica, counter FROM held_back")
            try db.execute(sql: "DELETE FROM held_back")
            return db.changesCount
        }
    }

    /// The held-back changes, oldest first.
    public func heldBack() throws -> [HeldBackChange] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.id AS replica, h.counter, rec.id AS record, c.field, h.reason, h.held_at FROM held_back h
                JOIN replica r ON r.num = h.replica
                JOIN change c ON c.replica = h.replica AND c.counter = h.counter
                JOIN record rec ON rec.num = c.record
                ORDER BY h.held_at, h.replica, h.counter
                """).compactMap { row in
                guard let replica = ReplicaID(row["replica"] as String), let record = RecordID(row["record"] as String) else { return nil }
                return HeldBackChange(change: ChangeID(replica: replica, counter: row["counter"]), record: record,
                                      field: row["field"], reason: row["reason"], sinceMillis: row["held_at"])
            }
        }
    }
}
