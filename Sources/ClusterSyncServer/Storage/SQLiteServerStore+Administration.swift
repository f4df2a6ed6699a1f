import GRDB

/// What an administrator's command run in another process (`clustersyncd cluster set-region`,
/// `credential revoke`) changes that open sessions must hear of at once, for `AdministrationWatch`.
/// A SQLite server learns of its own pushes directly; those commands write the file from their
/// own process, so the server notices them by SQLite's `data_version`, which moves only when
/// another connection commits, and then compares what sessions depend on.
extension SQLiteServerStore {
    /// Per tenant: its clusters' regions, and its credentials and serials withdrawn.
    public struct AdministrationMarks: Sendable, Equatable {
        var regions: [String: String] = [:]
        var withdrawals: [String: String] = [:]

        /// The tenants whose clusters changed region, and those with a credential withdrawn, since `earlier`.
        public func changes(since earlier: Self) -> (moved: Set<String>, withdrawn: Set<String>) {
            func differing(_ a: [String: String], _ b: [String: String]) -> Set<String> {
                Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }
            }
            return (differing(regions, earlier.regions), differing(withdrawals, earlier.withdrawals))
        }
    }

    /// SQLite's `data_version` on the writer's connection: it changes when, and only when,
    /// another connection (another process) has committed since the last reading.
    public func writtenElsewhereVersion() async throws -> Int {
        try await database.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
    }

    public func administrationMarks() async throws -> AdministrationMarks {
        try await read { db in
            var marks = AdministrationMarks()
            for row in try Row.fetchAll(db, sql: """
                SELECT tenant, group_concat(name || '=' || coalesce(region, ''), ',')
                FROM (SELECT tenant, name, region FROM cluster ORDER BY tenant, name) GROUP BY tenant
                """) {
                marks.regions[row[0]] = row[1]
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT tenant, sum(n), max(last) FROM (
                    SELECT tenant, count(*) AS n, max(revoked_at) AS last FROM credential WHERE revoked_at IS NOT NULL GROUP BY tenant
                    UNION ALL
                    SELECT tenant, count(*), max(revoked_at) FROM revoked_serial GROUP BY tenant)
                GROUP BY tenant
                """) {
                marks.withdrawals[row[0]] = "\(row[1] as Int64):\(row[2] as Int64? ?? 0)"
            }
            return marks
        }
    }
}
