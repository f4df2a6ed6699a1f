import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Logging

/// A `SyncServer` running in this process on a free loopback port, as every figure that syncs
/// over TLS needs one: started once here rather than in each bench.
struct BenchServer {
    let server: SyncServer
    let task: Task<Void, any Error>
    let port: Int

    /// Starts a server over `store` with `data`'s certificates, `configure`d, and with `alongside`
    /// (a PostgreSQL change listener, say) running beside it until it stops.
    static func start(store: any ServerStore, data: DataDirectory, logger: Logger = quietLogger,
                      configure: (inout ServerSettings) -> Void = { _ in },
                      alongside: (@Sendable (SyncServer) async throws -> Void)? = nil) async throws -> BenchServer {
        var settings = ServerSettings(data: data)
        settings.port = 0
        configure(&settings)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = SyncServer(settings: settings, store: store, logger: logger) { address in
            continuation.yield(address.port ?? 0)
            continuation.finish()
        }
        let task = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                if let alongside { group.addTask { try await alongside(server) } }
                try await group.next()
                group.cancelAll()
            }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ClusterSyncError(.internal, "the server did not start") }
        return BenchServer(server: server, task: task, port: port)
    }

    /// Errors only: the benches print their own lines.
    static var quietLogger: Logger {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        return logger
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}
