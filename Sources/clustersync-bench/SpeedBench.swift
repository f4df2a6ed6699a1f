import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncStorage
import Foundation
import GRDB
import Logging

/// `--speed`: every figure of issue 12, each beside the raw SQLite limit measured in the same run
/// (the same writes done directly: a log row and an upserted field row per change, prepared
/// statements, one WAL transaction), with the ratio and the target.
///
///     clustersync-bench --speed [--changes 100000] [--stored 1000000] [--clients 1000,2000,4000]
///
/// The server (`--serve-data`), the first pull and the catch-up pull by replay
/// (`--pull-replica`) each run in a process of their own, this program started again (so their
/// resident memory is theirs alone; the code is the library's `SyncServer` and `SyncClient`, as
/// in `clustersyncd serve` and `clustersync sync`); the load generator (`LoadBench`) opens its
/// TLS sessions from this process.
enum SpeedBench {
    struct Row {
        var figure: String
        var value: String
        var reference: String
        var ratio: String
        var target: String
    }

    nonisolated(unsafe) static var rows: [Row] = []

    static func add(_ figure: String, _ value: String, reference: String = "", ratio: String = "", target: String = "") {
        rows.append(Row(figure: figure, value: value, reference: reference, ratio: ratio, target: target))
        Bench.flushingPrint("  \(figure): \(value)\(reference.isEmpty ? "" : "  (raw SQLite \(reference), ratio \(ratio))")\(target.isEmpty ? "" : "  target \(target)")")
    }

    static func rate(_ n: Double) -> String { "\(ProgressLine.grouped(Int(n.rounded()))) changes/s" }

    /// The raw SQLite limit on the machine issue 12 measured on (417k to 442k changes/s): its
    /// targets in changes/s are that machine's, and as a share of this one they are `target /
    /// issueRaw` of the raw limit measured in the same run (the issue: "the ratio is what counts").
    static let issueRaw = 430_000.0

    /// A rate beside the raw limit: the ratio, and whether `target` (changes/s, or a fraction of
    /// the raw limit when `ofRaw`) is met; a target in changes/s both as it stands and as its
    /// share of the issue's raw limit.
    static func addRate(_ figure: String, _ value: Double, raw: Double, target: Double, ofRaw: Bool = false) {
        let goal = ofRaw ? target * raw : target
        let met = value >= goal ? "met" : "MISSED"
        let targetText: String
        if ofRaw {
            targetText = String(format: ">= %.1f of raw (%@): %@", target, rate(goal), met)
        } else {
            let share = target / issueRaw
            targetText = String(format: ">= %@: %@; as a share of raw (%.2f): %@", rate(target), met, share, value / raw >= share ? "met" : "MISSED")
        }
        add(figure, rate(value), reference: rate(raw), ratio: String(format: "%.2f", value / raw), target: targetText)
    }

    static func run(in directory: URL, pushCount: Int, storedCount: Int, clients: [Int], binaries: URL) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        Bench.flushingPrint("clustersync-bench --speed: \(pushCount) changes pushed/applied/edited, \(storedCount) stored; clients \(clients)")

        // The raw limits, same run.
        let raw = try RawSQLite.rate(count: pushCount, in: directory)
        let rawStored = try RawSQLite.rate(count: storedCount, in: directory)
        add("raw SQLite limit (\(ProgressLine.grouped(pushCount)) changes, one transaction)", rate(raw))
        add("raw SQLite limit (\(ProgressLine.grouped(storedCount)) changes, one transaction)", rate(rawStored))
        // Not a reference of any ratio: what the page size a replica file gets does for SQLite alone.
        add("  the same at a replica's page size (\(Replica.pageSize / 1024) KiB; \(ProgressLine.grouped(pushCount)))",
            rate(try RawSQLite.rate(count: pushCount, in: directory, pageSize: Replica.pageSize)))

        // Local edits and remote apply, through the library.
        let source = try Replica(path: directory.appendingPathComponent("source.sqlite").path)
        try source.initialise(tenant: "bench", cluster: "c1", practice: "p1", displayName: "Bench")
        let editSeconds = try LocalEdits.make(count: pushCount, on: source)
        addRate("local edits through the library, 1,000 per transaction", Double(pushCount) / editSeconds, raw: raw, target: 200_000)
        let changes = try source.allChanges().filter { $0.field != "deleted" }.prefix(pushCount).map { $0 }
        let lines = changes.map(\.jsonText)
        let decodeStart = ContinuousClock.now
        let decoded = try lines.map { line throws(ClusterSyncError) in try Change(jsonText: line) }
        add("change text decoded (canonical-line reader)", rate(Double(lines.count) / Bench.seconds(since: decodeStart)))
        // Every local edit is signed and every pushed change's signature checked: what that
        // alone allows, on every core of this machine, beside the two targets it bounds.
        let signatures = try SignatureCost.measure(changes)
        add("Ed25519 per change, one core (swift-crypto): sign / check", String(format: "%.1f / %.1f µs", signatures.signMicros, signatures.verifyMicros))
        add("  ceiling on local edits from signing alone (\(SignatureCost.cores) cores)",
            rate(SignatureCost.ceiling(micros: signatures.signMicros)) + " (their target: 200,000 changes/s)")
        add("  ceiling on pushes from checking alone (\(SignatureCost.cores) cores)",
            rate(SignatureCost.ceiling(micros: signatures.verifyMicros)) + " (their target: 150,000 changes/s)")
        let target = try Replica(path: directory.appendingPathComponent("target.sqlite").path)
        try target.initialise(tenant: "bench", cluster: "c1", practice: "p2", displayName: "Bench 2")
        let applyStart = ContinuousClock.now
        try target.apply(decoded, origin: .server)
        addRate("remote changes applied (one transaction)", Double(decoded.count) / Bench.seconds(since: applyStart), raw: raw, target: 0.8, ofRaw: true)

        // The server's store filled directly, then served by clustersyncd.
        let data = DataDirectory(path: directory.appendingPathComponent("data").path)
        try data.initialise()
        let first = min(storedCount, 100_000)
        var fillSeconds: Double
        do {
            let store = try SQLiteServerStore(path: data.database)
            try await store.addTenant("bench")
            try await store.addCluster("c1", tenant: "bench")
            for p in ["p1", "p2", "p3"] { try await store.addPractice(p, cluster: "c1", tenant: "bench") }
            try await store.issueToken(practice: "p1", cluster: "c1", tenant: "bench", label: nil)
                .write(toFile: directory.appendingPathComponent("p1.token").path, atomically: true, encoding: .utf8)
            try await store.issueToken(practice: "p3", cluster: "c1", tenant: "bench", label: nil)
                .write(toFile: directory.appendingPathComponent("p3.token").path, atomically: true, encoding: .utf8)
            let fillStart = ContinuousClock.now
            try await NetworkBench.fill(store, count: first)
            fillSeconds = Bench.seconds(since: fillStart)
        }
        var server = try ServerProcess.start(data: data, binaries: binaries)
        let remote = RemoteSettings(host: "127.0.0.1", port: server.port, caFile: data.caCertificate,
                                    tokenFile: directory.appendingPathComponent("p1.token").path)

        // Pushed and acknowledged over loopback TLS.
        let pusher = try Replica(path: directory.appendingPathComponent("pusher.sqlite").path)
        try pusher.initialise(tenant: "bench", cluster: "c1", practice: "p1", displayName: "Pusher")
        try pusher.setRemote(remote)
        _ = try LocalEdits.make(count: pushCount, on: pusher)
        let pending = try pusher.pendingCount()
        let pushStart = ContinuousClock.now
        let pushed = PushClock()
        _ = try await SyncClient(replica: pusher, remote: remote).sync { state in
            if state.pushed == state.toPush { pushed.mark() }
        }
        addRate("changes pushed and acknowledged over loopback TLS (batches of 1,000)", Double(pending) / pushed.seconds(since: pushStart),
                raw: raw, target: 150_000)
        let small = try await oneChangeSyncs(pusher, remote: remote)
        add("one-change sync, server holding \(ProgressLine.grouped(first + pushCount + 1_000))", String(format: "%.1f ms (median of %d)", small, oneChangeSyncCount),
            target: "< 5 ms")
        // A practice that syncs now and next after the rest of the history is stored: its
        // second pull replays that history (a fresh replica takes a snapshot instead).
        let catchUpPath = directory.appendingPathComponent("catch-up.sqlite").path
        let catchUp = try Replica(path: catchUpPath)
        try catchUp.initialise(tenant: "bench", cluster: "c1", practice: "p3", displayName: "Catching up")
        try catchUp.setRemote(RemoteSettings(host: "127.0.0.1", port: server.port, caFile: data.caCertificate,
                                             tokenFile: directory.appendingPathComponent("p3.token").path))
        _ = try await SyncClient(replica: catchUp, remote: try catchUp.remote()!).sync()
        server.stop()

        // The rest of the history, straight into the store.
        if storedCount > first {
            let store = try SQLiteServerStore(path: data.database)
            let fillStart = ContinuousClock.now
            try await NetworkBench.fill(store, count: storedCount - first, from: first)
            fillSeconds += Bench.seconds(since: fillStart)
        }
        addRate("server store filled directly (1,000 changes per push)", Double(storedCount) / fillSeconds, raw: rawStored, target: 250_000)
        server = try ServerProcess.start(data: data, binaries: binaries, port: server.port)
        defer { server.stop() }

        // A fresh replica's first pull, in a process of its own, with both processes' resident memory.
        let freshPath = directory.appendingPathComponent("fresh.sqlite").path
        let fresh = try Replica(path: freshPath)
        try fresh.initialise(tenant: "bench", cluster: "c1", practice: "p3", displayName: "Fresh")
        try fresh.setRemote(RemoteSettings(host: "127.0.0.1", port: server.port, caFile: data.caCertificate,
                                           tokenFile: directory.appendingPathComponent("p3.token").path))
        let serverIdle = ResidentMemory.of(server.pid)
        let pull = try PulledByCLI.run(replica: freshPath, binaries: binaries, serverPID: server.pid)
        // A fresh replica takes a snapshot (the live changes of what is stored), not the history.
        add("fresh replica's first sync: a snapshot of \(ProgressLine.grouped(storedCount))+ stored (\(ProgressLine.grouped(pull.pulled)) live changes, own process)",
            String(format: "%.1f s (%@)", pull.seconds, rate(Double(pull.pulled) / pull.seconds)),
            target: "< 2 s for 1,000,000 stored" + (storedCount >= 1_000_000 ? ": \(pull.seconds < 2 ? "met" : "MISSED")" : ""))
        add("server resident memory during that pull (peak; idle before)",
            String(format: "%.0f MB (%.0f MB)", pull.serverPeakMB, serverIdle), target: "< 200 MB: \(pull.serverPeakMB < 200 ? "met" : "MISSED")")
        add("client (SyncClient, own process) resident memory during that pull (peak)",
            String(format: "%.0f MB", pull.clientPeakMB), target: "< 200 MB: \(pull.clientPeakMB < 200 ? "met" : "MISSED")")
        // The catch-up pull by replay, with both processes' memory.
        let replay = try PulledByCLI.run(replica: catchUpPath, binaries: binaries, serverPID: server.pid)
        addRate("replica's pull by replay of the \(ProgressLine.grouped(replay.pulled)) changes stored since its last sync (own process)",
                Double(replay.pulled) / replay.seconds, raw: rawStored, target: 200_000)
        add("server / client resident memory during that pull (peak)", String(format: "%.0f / %.0f MB", replay.serverPeakMB, replay.clientPeakMB),
            target: "< 200 MB: \(max(replay.serverPeakMB, replay.clientPeakMB) < 200 ? "met" : "MISSED")")
        let large = try await oneChangeSyncs(fresh, remote: RemoteSettings(
            host: "127.0.0.1", port: server.port, caFile: data.caCertificate, tokenFile: directory.appendingPathComponent("p3.token").path))
        add("one-change sync, server holding \(ProgressLine.grouped(storedCount))+", String(format: "%.1f ms (median of %d)", large, oneChangeSyncCount),
            target: "< 5 ms and flat: \(large < 5 ? "met" : "MISSED") (\(String(format: "%.1f", small)) ms at the smaller history)")
        // The same from the replica that replayed the history, so holds as many changes as the
        // server: what grows on the client's side (before the forty-first session a scan of
        // every change it held, 35 ms a sync at 1,000,000).
        let holding = try await oneChangeSyncs(catchUp, remote: try catchUp.remote()!)
        add("one-change sync of a replica holding the \(ProgressLine.grouped(storedCount))+ changes it replayed", String(format: "%.1f ms (median of %d)", holding, oneChangeSyncCount),
            target: "< 5 ms: \(holding < 5 ? "met" : "MISSED")")
        server.stop()

        for n in clients {
            try await LoadBench.run(clients: n, in: directory.appendingPathComponent("load-\(n)"), binaries: binaries)
        }

        Bench.flushingPrint("\n| figure | value | raw SQLite, same run | ratio | target |\n|---|---|---|---|---|")
        for row in rows { Bench.flushingPrint("| \(row.figure) | \(row.value) | \(row.reference) | \(row.ratio) | \(row.target) |") }
    }

    /// How many one-change syncs a figure is the median of: 9 left it moving by a millisecond
    /// between runs on the shared machine, either side of its 5 ms target.
    static let oneChangeSyncCount = 25

    /// Median of `oneChangeSyncCount` one-change syncs (connect, TLS, hello, push one, pull,
    /// close), in ms.
    static func oneChangeSyncs(_ replica: Replica, remote: RemoteSettings) async throws -> Double {
        let id = try replica.create(.risk, edits: [.set("title", .string("One change"))])
        _ = try await SyncClient(replica: replica, remote: remote).sync()
        var times: [Double] = []
        for i in 0..<oneChangeSyncCount {
            try replica.edit(id, .set("owner", .string("Owner \(i)")))
            let start = ContinuousClock.now
            _ = try await SyncClient(replica: replica, remote: remote).sync()
            times.append(Bench.seconds(since: start) * 1000)
        }
        return Bench.median(times)
    }
}

/// The reference: the same writes done directly, a log row and an upserted field row per change
/// (the shape of every store's work), prepared statements, one WAL transaction, synchronous=FULL.
/// Values are bound through SQLite's own calls (`BoundStatement`) and made before the clock
/// starts, as the issue's plain C program does: through GRDB's boxed arguments this reference
/// ran up to a third slower, which flattered every ratio (MEASUREMENTS.md, twentieth session).
///
/// `pageSize` nil keeps SQLite's default page size (4 KiB), as the issue's program did and as
/// a server store does: the reference every ratio is taken against. With a replica's
/// (`Replica.pageSize`) it shows how much of that size's gain is SQLite's alone.
enum RawSQLite {
    static func rate(count: Int, in directory: URL, pageSize: Int? = nil) throws -> Double {
        let path = directory.appendingPathComponent("raw-\(count).sqlite").path
        try? FileManager.default.removeItem(atPath: path)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            if let pageSize { try db.execute(sql: "PRAGMA page_size = \(pageSize)") }
            try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL")
        }
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE log (seq INTEGER PRIMARY KEY, replica TEXT NOT NULL, counter INTEGER NOT NULL, change_json TEXT NOT NULL,
                                  UNIQUE (replica, counter));
                CREATE TABLE field (record TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, hlc INTEGER NOT NULL,
                                    PRIMARY KEY (record, field)) WITHOUT ROWID;
                """)
        }
        // The texts are made before the clock starts: the reference measures SQLite only.
        let replica = "00000000000000b2"
        var records: [String] = []
        for _ in 0..<(count / 100 + 1) { records.append(RecordID.random(for: .risk).rawValue) }
        let texts = (0..<count).map { i in
            #"{"cluster":"c1","field":"\#(LocalEdits.fields[i % 4])","hlc":"019ab0c3d2e1-0000","id":"\#(i + 1)@\#(replica)","record":"\#(records[i / 100])","tenant":"bench","value":"Value \#(i)"}"#
        }
        let values = (0..<count).map { "Value \($0)" }
        let start = ContinuousClock.now
        try queue.write { db in
            let log = try BoundStatement(db, sql: "INSERT INTO log (replica, counter, change_json) VALUES (?, ?, ?)")
            let field = try BoundStatement(db, sql: """
                INSERT INTO field (record, field, value, hlc) VALUES (?, ?, ?, ?)
                ON CONFLICT (record, field) DO UPDATE SET value = excluded.value, hlc = excluded.hlc
                """)
            for i in 0..<count {
                try log.run(.text(replica), .int(Int64(i + 1)), .text(texts[i]))
                try field.run(.text(records[i / 100]), .text(LocalEdits.fields[i % 4]), .text(values[i]), .int(Int64(i)))
            }
        }
        let seconds = Bench.seconds(since: start)
        try? FileManager.default.removeItem(atPath: path)
        return Double(count) / seconds
    }
}

/// Resident memory of a process, from /proc.
enum ResidentMemory {
    /// MB; 0 when the process is gone.
    static func of(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }
}

/// This program with `--serve-data`: the server on a free loopback port.
struct ServerProcess {
    let process: Process
    let port: Int
    var pid: Int32 { process.processIdentifier }

    /// `port`: the one a stopped server had, so that replicas keep their place in its stream
    /// (a replica given another address starts from the beginning). Without one, a random port
    /// below Linux's ephemeral range (where the load generator's own connections take theirs),
    /// and another if that one is taken.
    static func start(data: DataDirectory, binaries: URL, port: Int? = nil) throws -> ServerProcess {
        if let port { return try start(data: data, binaries: binaries, on: port) }
        var attempt = 1
        while true {
            do {
                return try start(data: data, binaries: binaries, on: Int.random(in: 20_000..<32_768))
            } catch let error as ServerStartFailure where !error.stillRunning && attempt < 5 {
                attempt += 1
            }
        }
    }

    struct ServerStartFailure: Error, CustomStringConvertible {
        var description: String
        var stillRunning: Bool
    }

    private static func start(data: DataDirectory, binaries: URL, on port: Int) throws -> ServerProcess {
        let process = Process()
        process.executableURL = binaries
        process.arguments = ["--serve-data", data.path, "--port", "\(port)"]
        process.standardOutput = FileHandle.nullDevice
        // Its log, kept beside the data to say why it did not start, if it does not.
        let log = URL(fileURLWithPath: data.path).deletingLastPathComponent().appendingPathComponent("server-\(port).log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        // Ready when it accepts a connection.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, process.isRunning {
            if canConnect(port) { return ServerProcess(process: process, port: port) }
            usleep(50_000)
        }
        let running = process.isRunning
        let ended = running ? "still running" : "exited with status \(process.terminationStatus)"
        process.terminate()
        let said = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").suffix(5).joined(separator: "\n") ?? ""
        throw ServerStartFailure(description: "clustersyncd did not start listening on \(port) (\(ended)):\n\(said)", stillRunning: running)
    }

    static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// This program with `--pull-replica`: one sync of a replica, sampling its and the server's resident memory.
enum PulledByCLI {
    struct Outcome {
        var pulled: Int
        var seconds: Double
        var serverPeakMB: Double
        var clientPeakMB: Double
    }

    static func run(replica: String, binaries: URL, serverPID: Int32) throws -> Outcome {
        let process = Process()
        process.executableURL = binaries
        process.arguments = ["--pull-replica", replica]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let start = ContinuousClock.now
        try process.run()
        var serverPeak = 0.0, clientPeak = 0.0
        while process.isRunning {
            serverPeak = max(serverPeak, ResidentMemory.of(serverPID))
            clientPeak = max(clientPeak, ResidentMemory.of(process.processIdentifier))
            usleep(50_000)
        }
        let seconds = Bench.seconds(since: start)
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0, let summary = try? JSONValue(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines)),
              let pulled = summary["pulled"]?.intValue else {
            throw ClusterSyncError(.internal, "the pull failed (\(process.terminationStatus)): \(text)")
        }
        return Outcome(pulled: Int(pulled), seconds: seconds, serverPeakMB: serverPeak, clientPeakMB: clientPeak)
    }
}

/// The child processes' side: `--serve-data DIR --port N` and `--pull-replica PATH`.
enum BenchChild {
    static func serve(data path: String, port: Int) async throws {
        let data = DataDirectory(path: path)
        var settings = ServerSettings(data: data)
        settings.port = port
        settings.maxConnections = 6_000
        settings.limits.idleTimeoutMillis = 600_000
        var logger = Logger(label: "bench-server")
        logger.logLevel = .error
        try await SyncServer(settings: settings, store: try SQLiteServerStore(path: data.database), logger: logger).run()
    }

    static func pull(replica path: String) async throws {
        let replica = try Replica.openExisting(path: path)
        let summary = try await SyncClient(replica: replica, remote: try replica.remote()!).sync()
        print(JSONValue.object(["pulled": .int(Int64(summary.pulled))]).canonicalText)
    }
}

/// `--one-change-sync N`: the one-change sync (median of 25) against a small server in a process
/// of its own, by a replica holding 0, N/2 and N changes (applied as if pulled): whether the
/// client's part of a small sync grows with the replica, apart from the server's history.
enum OneChangeSyncBench {
    static func run(in directory: URL, largest: Int, binaries: URL) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let data = DataDirectory(path: directory.appendingPathComponent("data").path)
        try data.initialise()
        let tokenFile = directory.appendingPathComponent("p1.token").path
        do {
            let store = try SQLiteServerStore(path: data.database)
            try await store.addTenant("bench")
            try await store.addCluster("c1", tenant: "bench")
            try await store.addPractice("p1", cluster: "c1", tenant: "bench")
            try await store.issueToken(practice: "p1", cluster: "c1", tenant: "bench", label: nil)
                .write(toFile: tokenFile, atomically: true, encoding: .utf8)
        }
        let server = try ServerProcess.start(data: data, binaries: binaries)
        defer { server.stop() }
        let remote = RemoteSettings(host: "127.0.0.1", port: server.port, caFile: data.caCertificate, tokenFile: tokenFile)
        let replica = try Replica(path: directory.appendingPathComponent("replica.sqlite").path)
        try replica.initialise(tenant: "bench", cluster: "c1", practice: "p1", displayName: "Bench")
        try replica.setRemote(remote)
        var held = 0
        for size in [0, largest / 2, largest] {
            if size > held {
                try grow(replica, from: held, to: size)
                held = size
            }
            let id = try replica.create(.risk, edits: [.set("title", .string("One change"))])
            _ = try await SyncClient(replica: replica, remote: remote).sync()
            var times: [Double] = []
            for i in 0..<25 {
                try replica.edit(id, .set("owner", .string("Owner \(i)")))
                let start = ContinuousClock.now
                _ = try await SyncClient(replica: replica, remote: remote).sync()
                times.append(Bench.seconds(since: start) * 1000)
            }
            Bench.flushingPrint(String(format: "one-change sync, replica holding %@ changes (server: a few): %.2f ms (median of 25)",
                                       ProgressLine.grouped(size), Bench.median(times)))
        }
    }

    /// Changes of another replica, applied as a pull would (100 per record, 1,000 per transaction).
    static func grow(_ replica: Replica, from start: Int, to end: Int) throws {
        let maker = ReplicaID("00000000000000b2")!
        let scope = RecordScope(tenant: "bench", cluster: "c1")
        let base = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        var record = RecordID.random(for: .risk)
        var batch: [Change] = []
        for i in start..<end {
            if i % 100 == 0 { record = RecordID.random(for: .risk) }
            let counter = Int64(i + 1)
            let previous = i % 100 >= 4 ? [ChangeID(replica: maker, counter: counter - 4)] : []
            batch.append(Change(id: ChangeID(replica: maker, counter: counter), hlc: HLCTimestamp(millis: base + Int64(i / 1000)),
                                record: record, scope: scope, field: LocalEdits.fields[i % 4], value: .string("Value \(i)"), supersedes: previous))
            if batch.count == 1_000 || i == end - 1 {
                try replica.apply(batch, origin: .server)
                batch.removeAll(keepingCapacity: true)
            }
        }
    }
}
