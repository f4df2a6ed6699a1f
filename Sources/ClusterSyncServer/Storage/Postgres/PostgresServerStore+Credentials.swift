import ClusterSyncCore
import Crypto
import Foundation
import PostgresNIO

/// Credentials, regions and the session log in PostgreSQL: the SQLite store's rules, the same
/// messages, every query keyed by tenant.
extension PostgresServerStore {
    static let credentialColumns = """
        id, tenant, cluster, practice, role, region, label, kind, serial, created_at, expires_at, last_used_at, revoked_at
        """

    static func credentialRecord(_ row: PostgresRow) throws -> CredentialRecord {
        let columns = row.makeRandomAccess()
        return CredentialRecord(
            id: try columns["id"].decode(String.self),
            practice: PracticePath(tenant: try columns["tenant"].decode(String.self), cluster: try columns["cluster"].decode(String?.self) ?? "",
                                   practice: try columns["practice"].decode(String?.self) ?? ""),
            label: try columns["label"].decode(String?.self), kind: CredentialKind(rawValue: try columns["kind"].decode(String.self)) ?? .token,
            serial: try columns["serial"].decode(String?.self), createdAt: try columns["created_at"].decode(Int64.self),
            expiresAt: try columns["expires_at"].decode(Int64?.self), lastUsedAt: try columns["last_used_at"].decode(Int64?.self),
            revokedAt: try columns["revoked_at"].decode(Int64?.self),
            // An unknown role (written by a newer version) reads as the least powerful one.
            role: CredentialRole(rawValue: try columns["role"].decode(String.self)) ?? .pcpg, region: try columns["region"].decode(String?.self))
    }

    public func issueToken(for holder: CredentialHolder, label: String?, expiresAt: Int64?) async throws -> String {
        let label = try label.map(SQLiteServerStore.checkLabel)
        let createdAt = wallClock()
        return try await transaction { c in
            try await self.requireHolder(holder, c)
            for _ in 0..<8 {
                let token = BearerToken.generate()
                if try await self.insertToken(id: token.id, secretHash: token.secretHash, holder: holder, label: label,
                                              createdAt: createdAt, expiresAt: expiresAt, c) {
                    return token.text
                }
            }
            throw ClusterSyncError(.internal, "could not find a free credential id")
        }
    }

    private func insertToken(id: String, secretHash: Data, holder: CredentialHolder, label: String?, createdAt: Int64, expiresAt: Int64?,
                             _ c: PostgresConnection) async throws -> Bool {
        try await c.rows("""
            INSERT INTO credential (id, tenant, cluster, practice, role, region, label, kind, secret_hash, created_at, expires_at)
            VALUES (\(id), \(holder.tenant), \(holder.cluster), \(holder.practice), \(holder.role.rawValue), \(holder.region), \(label),
                    'token', \(secretHash), \(createdAt), \(expiresAt))
            ON CONFLICT DO NOTHING RETURNING 1
            """, logger).count == 1
    }

    /// Makes `token` (of the issued form) stand for `holder`: the golden transcripts' fixed
    /// tokens, as `InMemoryServerStore.register` does. For tests.
    public func register(token: String, holder: CredentialHolder, label: String?, expiresAt: Int64? = nil) async throws {
        guard let parsed = BearerToken(parsing: token) else {
            throw ClusterSyncError(.invalidValue, "not a token of the issued form", field: "token")
        }
        let createdAt = wallClock()
        try await transaction { c in
            try await self.requireHolder(holder, c)
            guard try await self.insertToken(id: parsed.id, secretHash: Data(parsed.secretDigest), holder: holder, label: label,
                                             createdAt: createdAt, expiresAt: expiresAt, c) else {
                throw ClusterSyncError(.invalidValue, "credential \(parsed.id) already exists", field: "token")
            }
        }
    }

    public func recordCertificate(serial: String, for path: PracticePath, role: CredentialRole, label: String?, expiresAt: Int64?) async throws -> String {
        guard role.isPractice else {
            throw ClusterSyncError(.invalidValue, "a certificate names a practice, so it cannot be \(role.credentialName): issue a token", field: "role")
        }
        let label = try label.map(SQLiteServerStore.checkLabel)
        let createdAt = wallClock()
        let id = "crt_" + serial
        return try await transaction { c in
            guard try await self.isRegistered(path, c) else {
                throw ClusterSyncError(.invalidValue, "no practice \(path); add it first", field: "practice")
            }
            try await c.rows("""
                INSERT INTO credential (id, tenant, cluster, practice, role, label, kind, serial, created_at, expires_at)
                VALUES (\(id), \(path.tenant), \(path.cluster), \(path.practice), \(role.rawValue), \(label), 'certificate', \(serial),
                        \(createdAt), \(expiresAt))
                """, self.logger)
            return id
        }
    }

    public func credentials(tenant: String?) async throws -> [CredentialRecord] {
        try await read { c in
            if let tenant { try await self.requireTenant(tenant, c) }
            return try await c.rows("""
                SELECT \(unescaped: Self.credentialColumns) FROM credential WHERE \(tenant)::text IS NULL OR tenant = \(tenant) ORDER BY created_at, id
                """, self.logger).map(Self.credentialRecord)
        }
    }

    public func credential(id: String) async throws -> CredentialRecord? {
        try await read { c in
            try await c.rows("SELECT \(unescaped: Self.credentialColumns) FROM credential WHERE id = \(id)", self.logger).first.map(Self.credentialRecord)
        }
    }

    public func credential(token: String) async throws -> CredentialRecord? {
        guard let presented = BearerToken(parsing: token) else { return nil }
        return try await read { c -> CredentialRecord? in
            guard let row = try await c.rows("""
                SELECT \(unescaped: Self.credentialColumns), secret_hash FROM credential WHERE id = \(presented.id) AND kind = 'token'
                """, self.logger).first else { return nil }
            let stored = try row.makeRandomAccess()["secret_hash"].decode(Data.self)
            // Digest == DataProtocol is Crypto's constant-time comparison.
            guard presented.secretDigest == stored else { return nil }
            return try Self.credentialRecord(row)
        }
    }

    public func credential(serial: String, tenant: String) async throws -> CredentialRecord? {
        try await read { c in
            try await c.rows("""
                SELECT \(unescaped: Self.credentialColumns) FROM credential WHERE tenant = \(tenant) AND serial = \(serial)
                """, self.logger).first.map(Self.credentialRecord)
        }
    }

    public func revokeCredential(id: String) async throws -> CredentialRecord {
        let now = wallClock()
        return try await transaction { c in
            guard let row = try await c.rows("""
                UPDATE credential SET revoked_at = coalesce(revoked_at, \(now)) WHERE id = \(id) RETURNING \(unescaped: Self.credentialColumns)
                """, self.logger).first else {
                throw ClusterSyncError(.unknownRecord, "no credential \(id); `clustersyncd credential list` shows them")
            }
            let record = try Self.credentialRecord(row)
            try await self.wakeSessions(of: record.practice.tenant, c)
            return record
        }
    }

    public func revokeCertificate(serial: String, tenant: String) async throws {
        let now = wallClock()
        try await transaction { c in
            try await self.requireTenant(tenant, c)
            let revoked = try await c.rows("""
                UPDATE credential SET revoked_at = coalesce(revoked_at, \(now)) WHERE tenant = \(tenant) AND serial = \(serial) RETURNING 1
                """, self.logger)
            if revoked.isEmpty {
                try await c.rows("""
                    INSERT INTO revoked_serial (tenant, serial, revoked_at) VALUES (\(tenant), \(serial), \(now)) ON CONFLICT DO NOTHING
                    """, self.logger)
            }
            try await self.wakeSessions(of: tenant, c)
        }
    }

    public func isRevoked(serial: String, tenant: String) async throws -> Bool {
        try await read { c in
            try await !c.rows("SELECT 1 FROM revoked_serial WHERE tenant = \(tenant) AND serial = \(serial)", self.logger).isEmpty
        }
    }

    public func credentialStates(ids: Set<String>, serials: Set<String>, tenant: String) async throws -> CredentialStates {
        let idList = ids.sorted()
        let serialList = serials.sorted()
        return try await read { c in
            var records: [String: CredentialRecord] = [:]
            if !idList.isEmpty {
                for row in try await c.rows("""
                    SELECT \(unescaped: Self.credentialColumns) FROM credential WHERE tenant = \(tenant) AND id = ANY(\(idList))
                    """, self.logger) {
                    let record = try Self.credentialRecord(row)
                    records[record.id] = record
                }
            }
            var revoked: Set<String> = []
            if !serialList.isEmpty {
                for row in try await c.rows("""
                    SELECT serial FROM revoked_serial WHERE tenant = \(tenant) AND serial = ANY(\(serialList))
                    """, self.logger) {
                    revoked.insert(try row.decode(String.self))
                }
            }
            return CredentialStates(ids: ids, serials: serials, records: records, revokedSerials: revoked)
        }
    }

    public func markUsed(credential id: String, at: Int64) async throws {
        try await read { c in try await self.markUsed(credential: id, at: at, c) }
    }

    // MARK: Audit

    public func recordAudit(_ entry: AuditEntry, keepAfter: Int64) async throws {
        try await read { c in try await self.recordAudit(entry, marking: nil, keepAfter: keepAfter, c) }
    }

    public func recordSessionStart(_ entry: AuditEntry, credential: String?, keepAfter: Int64) async throws {
        try await read { c in try await self.recordAudit(entry, marking: credential, keepAfter: keepAfter, c) }
    }

    private func markUsed(credential id: String, at: Int64, _ c: PostgresConnection) async throws {
        _ = try await c.rows("UPDATE credential SET last_used_at = \(at) WHERE id = \(id)", logger)
    }

    /// Writes the entry, drops the entries older than `keepAfter` and notes the credential's
    /// last use, in one statement (atomic without a transaction; one round trip where a
    /// transaction of them took five, on every session's start). The deletion cannot meet the
    /// new entry: it is newer than `keepAfter`, and a statement's WITH does not see its insert.
    private func recordAudit(_ entry: AuditEntry, marking credential: String?, keepAfter: Int64, _ c: PostgresConnection) async throws {
        // Cheap when there is nothing to drop: audit_by_time finds the first kept entry.
        _ = try await c.rows("""
            WITH used AS (UPDATE credential SET last_used_at = \(entry.at) WHERE id = \(credential)),
            dropped AS (DELETE FROM audit WHERE at < \(keepAfter))
            INSERT INTO audit (at, event, tenant, cluster, practice, credential, peer, code, message)
            VALUES (\(entry.at), \(entry.event.rawValue), \(entry.tenant), \(entry.cluster), \(entry.practice), \(entry.credential),
                    \(entry.peer), \(entry.code), \(entry.message))
            """, logger)
    }

    public func audit(tenant: String?, since: Int64?, limit: Int) async throws -> [AuditEntry] {
        try await read { c in
            if let tenant { try await self.requireTenant(tenant, c) }
            return try await c.rows("""
                SELECT at, event, tenant, cluster, practice, credential, peer, code, message FROM audit
                WHERE (\(tenant)::text IS NULL OR tenant = \(tenant)) AND at >= \(since ?? 0) ORDER BY at, num LIMIT \(Int64(limit))
                """, self.logger).map { row in
                let (at, event, tenant, cluster, practice, credential, peer, code, message) =
                    try row.decode((Int64, String, String?, String?, String?, String?, String?, String?, String?).self)
                return AuditEntry(at: at, event: AuditEntry.Event(rawValue: event) ?? .refused, tenant: tenant, cluster: cluster,
                                  practice: practice, credential: credential, peer: peer, code: code, message: message)
            }
        }
    }

    // MARK: Regions

    public func addRegion(_ region: String, tenant: String) async throws {
        try SQLiteServerStore.checkName(tenant, "tenant")
        try SQLiteServerStore.checkName(region, "region")
        try await transaction { c in
            try await self.requireTenant(tenant, c)
            guard try await c.rows("INSERT INTO region (tenant, name) VALUES (\(tenant), \(region)) ON CONFLICT DO NOTHING RETURNING 1",
                                   self.logger).count == 1 else {
                throw ClusterSyncError(.invalidValue, "region \"\(region)\" already exists in tenant \"\(tenant)\"", field: "region")
            }
        }
    }

    public func regions(tenant: String?) async throws -> [RegionSummary] {
        try await read { c in
            if let tenant { try await self.requireTenant(tenant, c) }
            var regions: [RegionSummary] = []
            for row in try await c.rows("""
                SELECT r.tenant, r.name, c.name FROM region r LEFT JOIN cluster c ON c.tenant = r.tenant AND c.region = r.name
                WHERE \(tenant)::text IS NULL OR r.tenant = \(tenant) ORDER BY r.tenant, r.name, c.name
                """, self.logger) {
                let (tenant, name, cluster) = try row.decode((String, String, String?).self)
                if regions.last?.tenant != tenant || regions.last?.name != name {
                    regions.append(RegionSummary(tenant: tenant, name: name, clusters: []))
                }
                if let cluster { regions[regions.count - 1].clusters.append(cluster) }
            }
            return regions
        }
    }

    public func setRegion(_ region: String?, ofCluster cluster: String, tenant: String) async throws {
        try await transaction { c in
            try await self.requireCluster(cluster, tenant: tenant, c)
            if let region { try await self.requireRegion(region, tenant: tenant, c) }
            // Moved: noted at the stream's end (ServerOversight.sendsChanges). FOR UPDATE waits
            // for a push taking the tenant's next position, and holds the next one back, so no
            // push lands between the end read here and the move.
            try await c.rows("""
                UPDATE cluster SET region = \(region),
                    moved_after = (SELECT last_seq FROM tenant WHERE name = \(tenant) FOR UPDATE)
                WHERE tenant = \(tenant) AND name = \(cluster) AND region IS DISTINCT FROM \(region)
                """, self.logger)
            try await self.wakeSessions(of: tenant, c)
        }
    }

    /// Wakes the tenant's subscribed sessions on every node when this transaction commits, as a
    /// push does: a revoked credential's open session is then refused at once, and a PCPG's
    /// watching replica receives a cluster moved into its region without waiting for a push.
    func wakeSessions(of tenant: String, _ c: PostgresConnection) async throws {
        try await c.rows("SELECT pg_notify(\(Self.changesChannel), \(tenant))", logger)
    }

    public func clusters(ofRegion region: String, tenant: String) async throws -> [String] {
        try await read { c in
            try await self.requireRegion(region, tenant: tenant, c)
            return try await c.rows("SELECT name FROM cluster WHERE tenant = \(tenant) AND region = \(region) ORDER BY name", self.logger)
                .map { try $0.decode(String.self) }
        }
    }

    public func region(ofCluster cluster: String, tenant: String) async throws -> String? {
        try await read { c in
            try await self.requireCluster(cluster, tenant: tenant, c)
            return try await c.rows("SELECT region FROM cluster WHERE tenant = \(tenant) AND name = \(cluster)", self.logger)[0].decode(String?.self)
        }
    }
}
