import ClusterSyncServer
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// `AdministrationWatch` on a real SQLite file, with the administrator's command made through a
/// second store on the same file (another connection, as `clustersyncd cluster set-region` is
/// another process): a move made after the server was set up but before the watch's first
/// reading still wakes the tenant's sessions. (The watch used to take its starting point at
/// that first reading, and on a loaded machine a move made meanwhile was never told.)
struct AdministrationWatchTests {
    @Test func aMoveBeforeTheFirstReadingStillWakesTheTenant() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("administration-watch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let server = try SQLiteServerStore(path: path)
        try await server.addTenant("bcuhb")
        try await server.addRegion("east", tenant: "bcuhb")
        try await server.addCluster("north-denbighshire", tenant: "bcuhb", region: nil)
        let notifier = ChangeNotifier()
        let (_, wakes) = await notifier.subscribe(tenant: "bcuhb")
        // The server is set up (its watch made), then the command runs before the first reading.
        let watch = try await AdministrationWatch(store: server, notifier: notifier, interval: .milliseconds(300), logger: Logger(label: "watch"))
        let administrator = try SQLiteServerStore(path: path)
        try await administrator.setRegion("east", ofCluster: "north-denbighshire", tenant: "bcuhb")

        let woken = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await withGracefulShutdownHandler {
                    try await watch.run()
                } onGracefulShutdown: {}
                return false
            }
            group.addTask {
                var iterator = wakes.makeAsyncIterator()
                return await iterator.next() != nil
            }
            group.addTask {
                // Long enough for a machine loaded by other builds (load 15 on two cores: the
                // first reading came after 10 s once); a wake comes in a second otherwise.
                try await Task.sleep(for: .seconds(30))
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(woken, "the move made before the watch's first reading woke no session")
    }
}
