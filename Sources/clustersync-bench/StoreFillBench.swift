import ClusterSyncServer
import Foundation

/// The server's store filled directly (`SQLiteServerStore.push`, 1,000 changes a push), alone,
/// beside the raw SQLite reference of the same run: for profiling the store's write path
/// without TLS, sessions or signature checks.
///
///     .build/release/clustersync-bench --store-fill 200000 [--runs 5]
enum StoreFillBench {
    static func run(count: Int, runs: Int, in directory: URL) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var rates: [Double] = []
        var cpu: [Double] = []
        var raw: [Double] = []
        for run in 0..<runs {
            raw.append(try RawSQLite.rate(count: count, in: directory))
            let store = try await NetworkBench.emptyStore(directory.appendingPathComponent("fill-\(run).sqlite").path, durability: .full)
            let start = ContinuousClock.now
            let cpuStart = Bench.processCPUSeconds()
            try await NetworkBench.fill(store, count: count)
            rates.append(Double(count) / Bench.seconds(since: start))
            cpu.append((Bench.processCPUSeconds() - cpuStart) / Double(count) * 1e6)
        }
        let rate = Bench.median(rates), reference = Bench.median(raw)
        print(String(format: "server store filled directly: %10.0f changes/s (median of %d; 1,000 per push)", rate, runs))
        print(String(format: "raw SQLite, same run:         %10.0f changes/s (ratio %.2f)", reference, rate / reference))
        print(String(format: "CPU time per change stored:   %10.1f µs (all threads)", Bench.median(cpu)))
    }
}
