import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncStorage
import Foundation

/// Prints ClusterSync's speed figures: medians over several runs, never asserted.
///
///     swift run -c release clustersync-bench [--runs 5] [--changes 100000] [--stored 1000000] [--local-only]
///     swift run -c release clustersync-bench --pcpg [--runs 5]     (a PCPG replica brought up to date; OversightBench)
///     swift run -c release clustersync-bench --register 3000 [--runs 5]
///     .build/release/clustersync-bench --store-fill 200000 [--runs 5]   (the server's store filled alone; StoreFillBench)
///     .build/release/clustersync-bench --load 1000 [--cluster-size 50]   (the load generator alone; LoadBench)
///     swift build -c release && .build/release/clustersync-bench --speed [--changes 100000] [--stored 1000000] [--clients 1000,2000,4000]
///         (every figure of issue 12 beside the raw SQLite limit; SpeedBench, LoadBench)
///     swift run -c release clustersync-bench --postgres [--changes 100000] [--stored 1000000]   (PostgresBench)
///     swift run -c release clustersync-bench --snapshot [1000000]   (snapshot bootstrap and compaction; SnapshotBench)
///     swift run -c release clustersync-bench --one-change-sync [1000000]   (client side of a one-change sync as the replica grows)
@main
struct Bench {
    static func main() async throws {
        // Before any SQLite file is opened, the raw reference's included: it measures SQLite as
        // ClusterSync sets it up (`DatabaseSetup.processSettings`), whichever figure runs first.
        _ = DatabaseSetup.processSettings
        let arguments = CommandLine.arguments
        func option(_ name: String, _ fallback: Int) -> Int {
            guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let n = Int(arguments[i + 1]) else { return fallback }
            return n
        }
        let runs = option("--runs", 5)
        let count = option("--changes", 100_000)
        // The child processes work in folders they are given; they are stopped by a signal, which
        // would leave a folder of their own behind.
        if arguments.contains("--serve-data") {
            let i = arguments.firstIndex(of: "--serve-data")!
            try await BenchChild.serve(data: arguments[i + 1], port: option("--port", 7443))
            return
        }
        if let i = arguments.firstIndex(of: "--pull-replica") {
            try await BenchChild.pull(replica: arguments[i + 1])
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clustersync-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        if arguments.contains("--pcpg") {
            try await OversightBench.run(in: directory.appendingPathComponent("pcpg"), runs: runs)
            return
        }
        if arguments.contains("--postgres") {
            try await PostgresBench.run(in: directory.appendingPathComponent("postgres"), pushCount: count,
                                        storedCount: option("--stored", 1_000_000), runs: min(runs, 3))
            return
        }
        if arguments.contains("--snapshot") {
            try await SnapshotBench.run(in: directory.appendingPathComponent("snapshot"), changes: option("--snapshot", 1_000_000))
            return
        }
        if arguments.contains("--store-fill") {
            try await StoreFillBench.run(count: option("--store-fill", 200_000), runs: runs, in: directory.appendingPathComponent("store-fill"))
            return
        }
        if arguments.contains("--register") {
            try RegisterBench.run(risks: option("--register", 3_000), runs: runs, in: directory)
            return
        }
        if arguments.contains("--load") {
            // The load generator alone (`LoadBench`), for profiling the server under load.
            let binaries = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            try await LoadBench.run(clients: option("--load", 1_000), clusterSize: option("--cluster-size", LoadBench.defaultClusterSize),
                                    in: directory.appendingPathComponent("load"), binaries: binaries)
            return
        }
        if arguments.contains("--speed") {
            let clients = arguments.firstIndex(of: "--clients").flatMap { i in
                i + 1 < arguments.count ? arguments[i + 1].split(separator: ",").compactMap { Int($0) } : nil
            } ?? [1_000, 2_000, 4_000]
            // This program again, for the server's and the puller's processes.
            let binaries = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            try await SpeedBench.run(in: directory.appendingPathComponent("speed"), pushCount: count,
                                     storedCount: option("--stored", 1_000_000), clients: clients, binaries: binaries)
            return
        }
        if arguments.contains("--one-change-sync") {
            try await OneChangeSyncBench.run(in: directory.appendingPathComponent("one-change"), largest: option("--one-change-sync", 1_000_000),
                                             binaries: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath())
            return
        }
        if arguments.contains("--profile-apply") {
            try ApplyProfile.run(times: option("--profile-apply", 5), count: count, in: directory)
            return
        }
        print("clustersync-bench: \(runs) runs, \(count) changes each; figures are medians")
        var local: [Double] = []
        var singles: [Double] = []
        var remote: [Double] = []
        // CPU time of the whole process per change (every thread): what a loaded machine's
        // wall-clock rates hide.
        var localCPU: [Double] = []
        var remoteCPU: [Double] = []
        var decode: [Double] = []
        var wireBytes = 0.0
        var fileBytes = 0.0
        for run in 0..<runs {
            let source = try Replica(path: directory.appendingPathComponent("source-\(run).sqlite").path)
            try source.initialise(tenant: "bench", cluster: "c1", practice: "p1", displayName: "Bench")
            let editsCPU = Bench.processCPUSeconds()
            let edits = try LocalEdits.make(count: count, on: source)
            local.append(Double(count) / edits)
            localCPU.append((Bench.processCPUSeconds() - editsCPU) / Double(count) * 1e6)
            if !arguments.contains("--skip-singles") {
                singles.append(try LocalEdits.singleTransactions(count: 2_000, on: source))
            }

            let changes = try source.allChanges().filter { $0.field != "deleted" }.prefix(count).map { $0 }
            let lines = changes.map(\.jsonText)
            wireBytes = Double(lines.reduce(0) { $0 + $1.utf8.count + 1 }) / Double(lines.count)
            let decodeStart = ContinuousClock.now
            let decoded = try lines.map { line throws(ClusterSyncError) in try Change(jsonText: line) }
            decode.append(Double(lines.count) / seconds(since: decodeStart))

            let targetPath = directory.appendingPathComponent("target-\(run).sqlite").path
            let target = try Replica(path: targetPath)
            try target.initialise(tenant: "bench", cluster: "c1", practice: "p2", displayName: "Bench 2")
            let emptyBytes = try fileSize(target)
            let applyStart = ContinuousClock.now
            let applyCPU = Bench.processCPUSeconds()
            try target.apply(decoded, origin: .server)
            remote.append(Double(decoded.count) / seconds(since: applyStart))
            remoteCPU.append((Bench.processCPUSeconds() - applyCPU) / Double(decoded.count) * 1e6)
            fileBytes = Double(try fileSize(target) - emptyBytes) / Double(decoded.count)
        }
        print(String(format: "local edits, batched 1,000 per transaction:  %10.0f edits/s", median(local)))
        if !singles.isEmpty {
            print(String(format: "local edits, one transaction each:           %10.0f edits/s", median(singles)))
        }
        print(String(format: "  CPU time per local edit (all threads):     %10.1f µs", median(localCPU)))
        print(String(format: "remote changes applied (one transaction):    %10.0f changes/s", median(remote)))
        print(String(format: "  CPU time per change applied:               %10.1f µs", median(remoteCPU)))
        print(String(format: "change JSON decoded:                         %10.0f changes/s", median(decode)))
        print(String(format: "bytes per change on the wire (JSON line):    %10.1f", wireBytes))
        print(String(format: "bytes per change in the replica file:        %10.1f", fileBytes))
        if !arguments.contains("--local-only") {
            try await NetworkBench.run(in: directory.appendingPathComponent("network"), pushCount: count,
                                       storedCount: option("--stored", 1_000_000), runs: min(runs, 3))
        }
    }

    /// A line on stdout at once (the output may be a file while the bench runs for minutes).
    static func flushingPrint(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// CPU time this process has used, every thread, in seconds.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func seconds(since start: ContinuousClock.Instant, until end: ContinuousClock.Instant = .now) -> Double {
        let d = end - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// The file's size with its write-ahead log folded in.
    static func fileSize(_ replica: Replica) throws -> Int {
        try replica.database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            return try Int.fetchOne(db, sql: "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")!
        }
    }
}

/// The local edit workload: 1,000 risks, then field edits spread over them and their fields,
/// each superseding the value before it, as a busy register would see.
enum LocalEdits {
    static let fields = ["title", "owner", "controls", "gaps"]

    static func make(count: Int, on replica: Replica) throws -> Double {
        var ids: [RecordID] = []
        for i in 0..<1_000 {
            ids.append(try replica.create(.risk, edits: [.set("title", .string("Risk \(i)"))]))
        }
        let start = ContinuousClock.now
        var done = 0
        while done < count {
            let batch = (done..<min(count, done + 1_000)).map { i in
                (ids[i % ids.count], Edit.set(fields[(i / ids.count) % fields.count], .string("Value \(i)")))
            }
            try replica.edit(batch)
            done += batch.count
        }
        return Bench.seconds(since: start)
    }

    static func singleTransactions(count: Int, on replica: Replica) throws -> Double {
        let id = try replica.create(.risk, edits: [.set("title", .string("Single"))])
        let start = ContinuousClock.now
        for i in 0..<count { try replica.edit(id, .set("owner", .string("Owner \(i)"))) }
        return Double(count) / Bench.seconds(since: start)
    }
}

/// `--profile-apply N`: only the remote apply, N times into fresh files, for a profiler.
enum ApplyProfile {
    static func run(times: Int, count: Int, in directory: URL) throws {
        let source = try Replica(path: directory.appendingPathComponent("profile-source.sqlite").path)
        try source.initialise(tenant: "bench", cluster: "c1", practice: "p1", displayName: "Bench")
        _ = try LocalEdits.make(count: count, on: source)
        let changes = try source.allChanges()
        let validateStart = ContinuousClock.now
        for change in changes { try change.validate() }
        print(String(format: "validation alone: %.0f changes/s", Double(changes.count) / Bench.seconds(since: validateStart)))
        var (rates, cpu): ([Double], [Double]) = ([], [])
        for i in 0..<times {
            let target = try Replica(path: directory.appendingPathComponent("profile-\(i).sqlite").path)
            try target.initialise(tenant: "bench", cluster: "c1", practice: "p2", displayName: "Bench 2")
            let (start, cpuStart) = (ContinuousClock.now, Bench.processCPUSeconds())
            try target.apply(changes, origin: .server)
            rates.append(Double(changes.count) / Bench.seconds(since: start))
            cpu.append((Bench.processCPUSeconds() - cpuStart) / Double(changes.count) * 1e6)
        }
        // CPU time moves less than the rate when other work shares the machine: for comparing builds.
        print(String(format: "remote changes applied: %.0f changes/s, %.2f µs of CPU each (medians of %d)",
                     Bench.median(rates), Bench.median(cpu), times))
    }
}
