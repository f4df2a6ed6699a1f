import ClusterSyncServer
import Logging
import Testing

/// A `SyncServer` on a port the system picks, for tests that connect to it over loopback TLS.
struct ServerOnAnyPort {
    let port: Int
    /// Runs the server; cancel it to stop the server.
    let running: Task<Void, any Error>

    /// Starts the server (its log quiet) and waits until it listens.
    static func start(settings: ServerSettings, store: any ServerStore, label: String) async throws -> ServerOnAnyPort {
        var settings = settings
        settings.port = 0
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let (ports, found) = AsyncStream<Int>.makeStream()
        let server = SyncServer(settings: settings, store: store, logger: logger) { address in
            found.yield(address.port ?? 0)
            found.finish()
        }
        let running = Task { try await server.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        return ServerOnAnyPort(port: port, running: running)
    }
}
