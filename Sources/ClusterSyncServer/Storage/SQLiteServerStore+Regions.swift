import ClusterSyncCore
import GRDB

/// Regions: a tenant's clusters grouped by county, what one PCPG covers (`clustersyncd region`,
/// `cluster add --region`, `cluster set-region`). Every query is keyed by tenant.
extension SQLiteServerStore {
    public func addRegion(_ region: String, tenant: String) async throws {
        try Self.checkName(tenant, "tenant")
        try Self.checkName(region, "region")
        try await write { db in
            try Self.requireTenant(tenant, db)
            try db.execute(sql: "INSERT INTO region (tenant, name) VALUES (?, ?) ON CONFLICT DO NOTHING", arguments: [tenant, region])
            guard db.changesCount == 1 else {
                throw ClusterSyncError(.invalidValue, "region \"\(region)\" already exists in tenant \"\(tenant)\"", field: "region")
            }
        }
    }

    public func regions(tenant: String?) async throws -> [RegionSummary] {
        try await read { db in
            if let tenant { try Self.requireTenant(tenant, db) }
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.tenant, r.name, c.name FROM region r LEFT JOIN cluster c ON c.tenant = r.tenant AND c.region = r.name
                WHERE ?1 IS NULL OR r.tenant = ?1 ORDER BY r.tenant, r.name, c.name
                """, arguments: [tenant])
            var regions: [RegionSummary] = []
            for row in rows {
                let (tenant, name, cluster): (String, String, String?) = (row[0], row[1], row[2])
                if regions.last?.tenant != tenant || regions.last?.name != name {
                    regions.append(RegionSummary(tenant: tenant, name: name, clusters: []))
                }
                if let cluster { regions[regions.count - 1].clusters.append(cluster) }
            }
            return regions
        }
    }

    public func setRegion(_ region: String?, ofCluster cluster: String, tenant: String) async throws {
        try await write { db in
            try Self.requireCluster(cluster, tenant: tenant, db)
            if let region { try Self.requireRegion(region, tenant: tenant, db) }
            // Moved: noted at the stream's end (ServerOversight.sendsChanges); the writer is one,
            // so no push lands between the read of the end and the move.
            try db.execute(sql: """
                UPDATE cluster SET region = ?1,
                    moved_after = coalesce((SELECT last FROM tenant_sequence WHERE tenant = ?2), 0)
                WHERE tenant = ?2 AND name = ?3 AND region IS NOT ?1
                """, arguments: [region, tenant, cluster])
        }
    }

    public func clusters(ofRegion region: String, tenant: String) async throws -> [String] {
        try await read { db in
            try Self.requireRegion(region, tenant: tenant, db)
            return try String.fetchAll(db, sql: "SELECT name FROM cluster WHERE tenant = ? AND region = ? ORDER BY name",
                                       arguments: [tenant, region])
        }
    }

    public func region(ofCluster cluster: String, tenant: String) async throws -> String? {
        try await read { db in
            try Self.requireCluster(cluster, tenant: tenant, db)
            return try String.fetchOne(db, sql: "SELECT region FROM cluster WHERE tenant = ? AND name = ?", arguments: [tenant, cluster])
        }
    }
}
