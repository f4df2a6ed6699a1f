import ClusterSyncClient
import ClusterSyncCore
import Foundation

/// A fresh temporary folder, removed when the value is released... or by the OS: tests keep
/// files small.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A small, fast, seedable generator, so a failing random run can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func makeReplica(_ dir: TemporaryDirectory, _ name: String, practice: String, cluster: String = "north-denbighshire",
                 tenant: String = "bcuhb", clock: @escaping @Sendable () -> Int64 = Replica.systemMillis) throws -> Replica {
    let replica = try Replica(path: dir.path("\(name).sqlite"), wallClock: clock)
    try replica.initialise(tenant: tenant, cluster: cluster, practice: practice, displayName: "Manager, \(practice)")
    return replica
}

let fixedToday = CalendarDate(year: 2026, month: 11, day: 23)
