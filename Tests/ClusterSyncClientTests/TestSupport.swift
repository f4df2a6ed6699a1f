import ClusterSyncClient
import ClusterSyncCore
import Foundation

/// A fresh folder under the temporary directory. `remove()` deletes it; a test that leaves it
/// leaves it in the run's scratch folder, which `Tests/run` removes when the run ends.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

func makeReplica(_ dir: TemporaryDirectory, _ name: String, practice: String, cluster: String = "north-denbighshire",
                 tenant: String = "bcuhb", clock: @escaping @Sendable () -> Int64 = Replica.systemMillis) throws -> Replica {
    let replica = try Replica(path: dir.path("\(name).sqlite"), wallClock: clock)
    try replica.initialise(tenant: tenant, cluster: cluster, practice: practice, displayName: "Manager, \(practice)")
    return replica
}

let fixedToday = CalendarDate(year: 2026, month: 11, day: 23)
