import ArgumentParser
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Logging

/// `clustersyncd health`: can this server do its job? For an operator or a monitoring probe.
/// Exit 0 when every check passes, 1 naming what is wrong otherwise. Not a systemd
/// `ExecStartPre`: a certificate within 30 days of its end is a problem to fix, not a reason to
/// keep the node from starting (`serve` logs the same checks and starts anyway).
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check that the data directory and the store can be read and written and the disk has room.",
        discussion: "Prints OK or what is wrong; exit 0 when healthy, 1 otherwise. It writes one row to the store, so run it against a running server's data directory too.")

    @OptionGroup var data: DataOptions
    @Flag(help: "Print {\"ok\":…,\"checks\":[{\"check\",\"ok\",\"detail\"}]}.") var json = false

    func run() async throws {
        // A PostgreSQL store (settings `storage`) is probed over the network; SQLite's file is opened here.
        var store: (any OperatedStore)?
        let settings = try await data.settings(config: data.config)
        if settings.store.kind == .postgres, let postgres = try settings.store.open(data.directory, logger: Logger(label: "clustersyncd")) as? PostgresServerStore {
            await postgres.start()
            store = postgres
        }
        let health = await ServerHealth.check(data.directory, store: store, certificate: settings.certificate)
        if json {
            print(health.jsonValue.canonicalText)
        } else {
            for check in health.checks { print("\(check.ok ? "OK     " : "PROBLEM") \(check.detail)") }
        }
        guard health.ok else {
            throw ClusterSyncError(.storeUnavailable, "not healthy: " + health.checks.filter { !$0.ok }.map(\.detail).joined(separator: "; "))
        }
    }
}
