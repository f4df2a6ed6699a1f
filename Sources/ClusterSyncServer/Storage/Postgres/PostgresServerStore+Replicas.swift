import ClusterSyncCore
import Foundation
import PostgresNIO

/// Registered replicas for their administrator, as the SQLite store lists and retires them.
extension PostgresServerStore {
    public func registeredReplicas(tenant: String, cluster: String?) async throws -> [RegisteredReplica] {
        try await read { c in
            try await self.requireTenant(tenant, c)
            return try await self.registeredReplicas(tenant: tenant, cluster: cluster, replica: nil, c)
        }
    }

    public func retireReplica(_ replica: ReplicaID, tenant: String, cluster: String?, at: Int64) async throws -> RegisteredReplica {
        try await transaction { c in
            // The tenant's row, which every push locks before it reads the keys: a push under way
            // stores before the retirement, and none stores after it in the replica's name.
            guard try await !c.rows("SELECT 1 FROM tenant WHERE name = \(tenant) FOR UPDATE", self.logger).isEmpty else {
                throw ClusterSyncError(.invalidValue, "no tenant \"\(tenant)\"; add it first", field: "tenant")
            }
            let found = try RegisteredReplica.single(
                await self.registeredReplicas(tenant: tenant, cluster: cluster, replica: replica, c), replica: replica, tenant: tenant, cluster: cluster)
            // Retiring twice keeps the first time: it is when the laptop was reported lost.
            let retiredAt = found.registration.retiredAt ?? at
            try await c.rows("""
                UPDATE replica_key SET retired_at = \(retiredAt) WHERE tenant = \(tenant) AND cluster = \(found.cluster) AND replica = \(replica.rawValue)
                """, self.logger)
            var now = found
            now.registration.retiredAt = retiredAt
            return now
        }
    }

    /// The tenant's registrations (of one cluster, of one replica id), each with what the log
    /// holds of it, counted on the log's unique key (tenant, cluster, replica, counter).
    private func registeredReplicas(tenant: String, cluster: String?, replica: ReplicaID?, _ c: PostgresConnection) async throws -> [RegisteredReplica] {
        try await c.rows("""
            SELECT k.replica, k.public_key, k.practice, k.person, k.author, k.registered_at, k.retired_at, k.cluster, s.n, s.last
            FROM replica_key k, LATERAL (
                SELECT count(*) AS n, max(l.counter) AS last FROM log l WHERE l.tenant = k.tenant AND l.cluster = k.cluster AND l.replica = k.replica
            ) s
            WHERE k.tenant = \(tenant) AND (\(cluster)::text IS NULL OR k.cluster = \(cluster)) AND (\(replica?.rawValue)::text IS NULL OR k.replica = \(replica?.rawValue))
            ORDER BY k.cluster, k.registered_at, k.replica
            """, logger).compactMap { row in
            let (id, key, practice, person, author, registeredAt, retiredAt, cluster, stored, last) =
                try row.decode((String, Data, String, String, String, Int64, Int64?, String, Int64, Int64?).self)
            guard let id = ReplicaID(id), let key = ReplicaPublicKey(rawRepresentation: [UInt8](key)) else { return nil }
            return RegisteredReplica(
                tenant: tenant, cluster: cluster,
                registration: ReplicaRegistration(replica: id, key: key, practice: practice, person: person, author: author,
                                                  registeredAt: registeredAt, retiredAt: retiredAt),
                changesStored: Int(stored), lastCounter: last)
        }
    }
}
