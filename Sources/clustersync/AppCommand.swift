import ArgumentParser
import ClusterSyncApp
import Foundation

struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        abstract: "Serve the registers as a web app on this computer only (127.0.0.1); prints a one-time link to open.",
        discussion: """
            Open the printed link in a browser on this computer: it signs that browser in and works once. \
            Nothing opens by itself and nothing is fetched from the internet. Ctrl-C stops the app.
            """)

    @OptionGroup var replica: ReplicaOptions
    @Option(help: "The port to listen on (0 picks a free one).") var port: Int = 8470
    @Flag(help: "Also sync: stay connected to the server as `clustersync sync --watch` does (its state is on the Sync page).")
    var sync = false

    func run() async throws {
        // Opened here first so a wrong path fails with the CLI's own message before any port is bound.
        _ = try replica.open()
        try await WebApp(replicaPath: replica.path, port: port, sync: sync).run { address, link in
            Output.print("ClusterSync is running at \(address)\nOpen this link once to start (it works once only):\n\(link)")
        }
    }
}
