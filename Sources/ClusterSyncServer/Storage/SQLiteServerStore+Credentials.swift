import ClusterSyncCore
import Crypto
import Foundation
import GRDB

/// Credential lifecycle and the session log (`clustersyncd credential list/revoke`, `audit`).
extension SQLiteServerStore {
    static let credentialColumns = """
        id, tenant, cluster, practice, role, region, label, kind, serial, created_at, expires_at, last_used_at,
        CASE WHEN revoked <> 0 THEN coalesce(revoked_at, created_at) END AS revoked_at
        """

    static func credentialRecord(_ row: Row) -> CredentialRecord {
        CredentialRecord(
            // A pcpg's or health board's row has no cluster and practice: empty, as CredentialRecord says.
            id: row["id"], practice: PracticePath(tenant: row["tenant"], cluster: row["cluster"] ?? "", practice: row["practice"] ?? ""),
            label: row["label"], kind: CredentialKind(rawValue: row["kind"]) ?? .token, serial: row["serial"],
            createdAt: row["created_at"], expiresAt: row["expires_at"], lastUsedAt: row["last_used_at"], revokedAt: row["revoked_at"],
            // An unknown role (written by a newer version) reads as the least powerful one.
            role: CredentialRole(rawValue: row["role"]) ?? .pcpg, region: row["region"])
    }

    /// Makes `token` (of the issued form) stand for `holder`: the golden transcripts' fixed
    /// tokens, as `InMemoryServerStore.register` and `PostgresServerStore.register` do. For tests.
    public func register(token: String, holder: CredentialHolder, label: String?, expiresAt: Int64? = nil) async throws {
        guard let parsed = BearerToken(parsing: token) else {
            throw ClusterSyncError(.invalidValue, "not a token of the issued form", field: "token")
        }
        let label = try label.map(Self.checkLabel)
        let createdAt = wallClock()
        try await write { db in
            try Self.requireHolder(holder, db)
            try db.execute(sql: """
                INSERT INTO credential (id, tenant, cluster, practice, role, region, label, secret_hash, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [parsed.id, holder.tenant, holder.cluster, holder.practice, holder.role.rawValue, holder.region,
                                 label, Data(parsed.secretDigest), createdAt, expiresAt])
            guard db.changesCount == 1 else {
                throw ClusterSyncError(.invalidValue, "credential \(parsed.id) already exists", field: "token")
            }
        }
    }

    public func recordCertificate(serial: String, for path: PracticePath, role: CredentialRole, label: String?, expiresAt: Int64?) async throws -> String {
        guard role.isPractice else {
            throw ClusterSyncError(.invalidValue, "a certificate names a practice, so it cannot be \(role.credentialName): issue a token", field: "role")
        }
        let label = try label.map(Self.checkLabel)
        let createdAt = wallClock()
        let id = "crt_" + serial
        return try await write { db in
            guard try Self.isRegistered(path, db) else {
                throw ClusterSyncError(.invalidValue, "no practice \(path); add it first", field: "practice")
            }
            try db.execute(sql: """
                INSERT INTO credential (id, tenant, cluster, practice, role, label, secret_hash, created_at, kind, serial, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, x'', ?, 'certificate', ?, ?)
                """, arguments: [id, path.tenant, path.cluster, path.practice, role.rawValue, label, createdAt, serial, expiresAt])
            return id
        }
    }

    public func tenants() async throws -> [String] {
        try await read { db in try String.fetchAll(db, sql: "SELECT name FROM tenant ORDER BY name") }
    }

    public func clusters(tenant: String?) async throws -> [ClusterPath] {
        try await read { db in
            if let tenant { try Self.requireTenant(tenant, db) }
            let rows = try Row.fetchAll(
                db, sql: "SELECT tenant, name, region FROM cluster WHERE ?1 IS NULL OR tenant = ?1 ORDER BY tenant, name", arguments: [tenant])
            return rows.map { ClusterPath(tenant: $0[0], cluster: $0[1], region: $0[2]) }
        }
    }

    public func credentials(tenant: String?) async throws -> [CredentialRecord] {
        try await read { db in
            if let tenant { try Self.requireTenant(tenant, db) }
            return try Row.fetchAll(db, sql: """
                SELECT \(Self.credentialColumns) FROM credential WHERE ?1 IS NULL OR tenant = ?1 ORDER BY created_at, id
                """, arguments: [tenant]).map(Self.credentialRecord)
        }
    }

    public func credential(id: String) async throws -> CredentialRecord? {
        try pointRead { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.credentialColumns) FROM credential WHERE id = ?"), arguments: [id])
                .map(Self.credentialRecord)
        }
    }

    public func credential(token: String) async throws -> CredentialRecord? {
        guard let presented = BearerToken(parsing: token) else { return nil }
        return try pointRead { db -> CredentialRecord? in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT \(Self.credentialColumns), secret_hash FROM credential WHERE id = ? AND kind = 'token'
                """), arguments: [presented.id]) else { return nil }
            let stored: Data = row["secret_hash"]
            // Digest == DataProtocol is Crypto's constant-time comparison.
            guard presented.secretDigest == stored else { return nil }
            return Self.credentialRecord(row)
        }
    }

    public func credential(serial: String, tenant: String) async throws -> CredentialRecord? {
        try pointRead { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT \(Self.credentialColumns) FROM credential WHERE tenant = ? AND serial = ?
                """), arguments: [tenant, serial]).map(Self.credentialRecord)
        }
    }

    public func revokeCredential(id: String) async throws -> CredentialRecord {
        let now = wallClock()
        return try await write { db in
            try db.execute(sql: "UPDATE credential SET revoked = 1, revoked_at = coalesce(revoked_at, ?) WHERE id = ?", arguments: [now, id])
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.credentialColumns) FROM credential WHERE id = ?", arguments: [id]) else {
                throw ClusterSyncError(.unknownRecord, "no credential \(id); `clustersyncd credential list` shows them")
            }
            return Self.credentialRecord(row)
        }
    }

    public func revokeCertificate(serial: String, tenant: String) async throws {
        let now = wallClock()
        try await write { db in
            try Self.requireTenant(tenant, db)
            try db.execute(sql: """
                UPDATE credential SET revoked = 1, revoked_at = coalesce(revoked_at, ?) WHERE tenant = ? AND serial = ?
                """, arguments: [now, tenant, serial])
            if db.changesCount == 0 {
                try db.execute(sql: "INSERT INTO revoked_serial (tenant, serial, revoked_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                               arguments: [tenant, serial, now])
            }
        }
    }

    public func isRevoked(serial: String, tenant: String) async throws -> Bool {
        try pointRead { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM revoked_serial WHERE tenant = ? AND serial = ?"),
                              arguments: [tenant, serial]) ?? false
        }
    }

    /// The credentials of these ids, found by id (`+tenant`: otherwise SQLite read every
    /// credential the tenant was ever issued, revoked and expired ones too, at every wake-up).
    static let credentialsByIDSQL = """
        SELECT \(credentialColumns) FROM credential WHERE +tenant = ? AND id IN (SELECT value FROM json_each(?))
        """

    public func credentialStates(ids: Set<String>, serials: Set<String>, tenant: String) async throws -> CredentialStates {
        let idList = try Self.jsonArray(ids)
        let serialList = try Self.jsonArray(serials)
        return try await read { db in
            var records: [String: CredentialRecord] = [:]
            if !ids.isEmpty {
                let rows = try Row.fetchCursor(db.cachedStatement(sql: Self.credentialsByIDSQL), arguments: [tenant, idList])
                while let row = try rows.next() {
                    let record = Self.credentialRecord(row)
                    records[record.id] = record
                }
            }
            var revoked: Set<String> = []
            if !serials.isEmpty {
                revoked = try Set(String.fetchAll(db.cachedStatement(sql: """
                    SELECT serial FROM revoked_serial WHERE tenant = ? AND serial IN (SELECT value FROM json_each(?))
                    """), arguments: [tenant, serialList]))
            }
            return CredentialStates(ids: ids, serials: serials, records: records, revokedSerials: revoked)
        }
    }

    /// A JSON array of strings, for `IN (SELECT value FROM json_each(?))`: one cached statement whatever the count.
    static func jsonArray(_ values: Set<String>) throws -> String {
        String(decoding: try JSONEncoder().encode(values.sorted()), as: UTF8.self)
    }

    public func markUsed(credential id: String, at: Int64) async throws {
        try await write { db in try Self.markUsed(credential: id, at: at, db) }
    }

    public func recordAudit(_ entry: AuditEntry, keepAfter: Int64) async throws {
        try await write { db in try Self.recordAudit(entry, keepAfter: keepAfter, db) }
    }

    public func recordSessionStart(_ entry: AuditEntry, credential: String?, keepAfter: Int64) async throws {
        try await write { db in
            if let credential { try Self.markUsed(credential: credential, at: entry.at, db) }
            try Self.recordAudit(entry, keepAfter: keepAfter, db)
        }
    }

    private static func markUsed(credential id: String, at: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE credential SET last_used_at = ? WHERE id = ?").execute(arguments: [at, id])
    }

    private static func recordAudit(_ entry: AuditEntry, keepAfter: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO audit (at, event, tenant, cluster, practice, credential, peer, code, message)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [entry.at, entry.event.rawValue, entry.tenant, entry.cluster, entry.practice,
                             entry.credential, entry.peer, entry.code, entry.message])
        // Cheap when there is nothing to drop: audit_by_time finds the first kept entry.
        try db.cachedStatement(sql: "DELETE FROM audit WHERE at < ?").execute(arguments: [keepAfter])
    }

    public func audit(tenant: String?, since: Int64?, limit: Int) async throws -> [AuditEntry] {
        try await read { db in
            if let tenant { try Self.requireTenant(tenant, db) }
            return try Row.fetchAll(db, sql: """
                SELECT at, event, tenant, cluster, practice, credential, peer, code, message FROM audit
                WHERE (?1 IS NULL OR tenant = ?1) AND at >= ?2 ORDER BY at, num LIMIT ?3
                """, arguments: [tenant, since ?? 0, limit]).map { row in
                AuditEntry(at: row["at"], event: AuditEntry.Event(rawValue: row["event"]) ?? .refused, tenant: row["tenant"],
                           cluster: row["cluster"], practice: row["practice"], credential: row["credential"],
                           peer: row["peer"], code: row["code"], message: row["message"])
            }
        }
    }
}
