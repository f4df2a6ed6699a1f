import ClusterSyncCore
import GRDB

/// Registered replicas for their administrator (`clustersyncd replica list|retire`).
extension SQLiteServerStore {
    public func registeredReplicas(tenant: String, cluster: String?) async throws -> [RegisteredReplica] {
        try await read { db in
            try Self.requireTenant(tenant, db)
            return try Self.registeredReplicas(db, tenant: tenant, cluster: cluster, replica: nil)
        }
    }

    public func retireReplica(_ replica: ReplicaID, tenant: String, cluster: String?, at: Int64) async throws -> RegisteredReplica {
        try await write { db in
            try Self.requireTenant(tenant, db)
            let found = try RegisteredReplica.single(
                Self.registeredReplicas(db, tenant: tenant, cluster: cluster, replica: replica), replica: replica, tenant: tenant, cluster: cluster)
            // Retiring twice keeps the first time: it is when the laptop was reported lost.
            let retiredAt = found.registration.retiredAt ?? at
            try db.execute(sql: "UPDATE replica_key SET retired_at = ? WHERE tenant = ? AND cluster = ? AND replica = ?",
                           arguments: [retiredAt, tenant, found.cluster, replica.rawValue])
            var now = found
            now.registration.retiredAt = retiredAt
            return now
        }
    }

    /// The tenant's registrations (of one cluster, of one replica id), each with what the log
    /// holds of it: counted on the log's unique key (tenant, cluster, replica, counter).
    static func registeredReplicas(_ db: Database, tenant: String, cluster: String?, replica: ReplicaID?) throws -> [RegisteredReplica] {
        let counts = try db.cachedStatement(sql: """
            SELECT count(*), max(counter) FROM log WHERE tenant = ? AND cluster = ? AND replica = ?
            """)
        return try Row.fetchAll(db, sql: """
            SELECT cluster, \(registrationColumns) FROM replica_key
            WHERE tenant = ? AND (? IS NULL OR cluster = ?) AND (? IS NULL OR replica = ?)
            ORDER BY cluster, registered_at, replica
            """, arguments: [tenant, cluster, cluster, replica?.rawValue, replica?.rawValue]).compactMap { row in
            guard let registration = registration(row) else { return nil }
            let stored = try Row.fetchOne(counts, arguments: [tenant, row["cluster"], registration.replica.rawValue])
            return RegisteredReplica(tenant: tenant, cluster: row["cluster"], registration: registration,
                                     changesStored: stored?[0] ?? 0, lastCounter: stored?[1])
        }
    }
}
