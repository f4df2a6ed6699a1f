import ArgumentParser
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Logging

/// `clustersyncd migrate`: brings the store's schema up to this version and exits. With
/// PostgreSQL, run it with the owner role's URL at install and before upgrading the nodes, so
/// the nodes themselves can log in as a role that may not create tables. Every command that
/// opens the store migrates it too (when its role may); this one only migrates.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring the store's schema up to this version (PostgreSQL: with the owner role's URL), then exit.")

    @OptionGroup var data: DataOptions

    func run() async throws {
        let settings = try await data.settings(config: data.config)
        let store = try settings.store.open(data.directory, logger: Logger(label: "clustersyncd"))
        guard let postgres = store as? PostgresServerStore else {
            print("store \(store.whereabouts) is up to date (SQLite migrates when opened)")
            return
        }
        await postgres.start()
        let applied = try await postgres.migrate()
        print(applied.isEmpty ? "\(postgres.whereabouts) is up to date" : "\(postgres.whereabouts): applied \(applied.joined(separator: "; "))")
    }
}
