import ArgumentParser
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Logging

/// `clustersyncd copy-to-postgres`: copies the data directory's SQLite store into the empty
/// PostgreSQL store the settings name, then checks every tenant's chain there against the
/// SQLite store's head. Afterwards the node is switched over by setting `storage` to `postgres`.
struct CopyToPostgresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy-to-postgres",
        abstract: "Copy this data directory's SQLite store into an empty PostgreSQL store, to move a server onto PostgreSQL.",
        discussion: """
            Stop the server first: what it stores after the copy starts is not copied. The PostgreSQL database is the one the \
            settings name (CLUSTERSYNCD_POSTGRES_URL, or postgres.url-file in the settings file), whatever `storage` says; give \
            the owner role's URL, as for `migrate`, and a database holding no tenant yet. Everything is copied in one \
            transaction: tenants, regions, clusters, practices, credentials (tokens and certificates keep working), replica \
            keys, the log in the same sequence, the tamper-evident chain, compaction, the session log and the store's identity, \
            so practices' replicas carry on at their next sync without noticing. The SQLite file is left as it was. Then set \
            `storage` to `postgres` and start the nodes.
            """)

    @OptionGroup var data: DataOptions

    func run() async throws {
        let dir = data.directory
        guard dir.isInitialised, FileManager.default.fileExists(atPath: dir.database) else {
            throw ClusterSyncError(.notInitialised, "\(dir.path) holds no SQLite store (\(dir.database)) to copy")
        }
        let source = try SQLiteServerStore(path: dir.database)
        let settings = try await data.settings(config: data.config)
        let target = try PostgresServerStore(location: try settings.store.postgresLocation(), maximumConnections: 2,
                                             logger: Logger(label: "clustersyncd"))
        await target.start()
        let applied = try await target.migrate()
        if !applied.isEmpty { print("\(target.whereabouts): applied \(applied.joined(separator: "; "))") }

        var heads: [String: LedgerHead?] = [:]
        for tenant in try await source.tenants() {
            heads[tenant] = try await source.verifyChain(tenant: tenant, expectedHead: nil).head
        }
        print("copying \(source.whereabouts) into \(target.whereabouts)")
        let report = try await target.copy(from: source) { table, rows in
            print("  \(table): \(rows) row\(rows == 1 ? "" : "s")")
        }
        print("copied; store identity \(report.storeIdentity) kept, so replicas carry on")

        var intact = true
        for (tenant, head) in heads.sorted(by: { $0.key < $1.key }) {
            let copied = try await target.verifyChain(tenant: tenant, expectedHead: head?.hash)
            let same = copied.isIntact && copied.head == head
            intact = intact && same
            print("tenant \(tenant): \(copied.entries) chain entries, "
                  + (same ? "intact, head \(copied.head?.text ?? "none") as in SQLite" : "NOT as in SQLite: run `clustersyncd verify --tenant \(tenant)` on both"))
        }
        guard intact else { throw ExitCode(1) }
        print("next: set \"storage\": \"postgres\" in the settings (or CLUSTERSYNCD_STORAGE=postgres) and start the server")
    }
}
