import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncTLS
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// The load generator: N TLS clients start at once against `clustersyncd serve`, each with its
/// own token and replica, in clusters of `clusterSize` (`--cluster-size`, default 50); each
/// pushes 10 changes, pulls (the time from `pull` to its page is the figure), subscribes, and
/// stays subscribed (reading what the others of its cluster push) until all are.
/// Prints pull p50/p99, each client's push from sent to acknowledged (p50/p99), the server's
/// resident memory idle, with every session open (per session), once they are caught up and
/// quiet, and a few seconds after they all left.
enum LoadBench {
    /// Pushes in the fan-out phase.
    static let fanOutPushes = 20

    /// Clients per cluster by default: a Welsh cluster's GP practices, pharmacies, dental and
    /// optometry practices and community teams, a laptop or two each. Every client of a cluster
    /// receives what every other pushes, so one cluster of N clients owes N × 10N changes.
    static let defaultClusterSize = 50

    static func run(clients: Int, clusterSize: Int = defaultClusterSize, in directory: URL, binaries: URL) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let data = DataDirectory(path: directory.appendingPathComponent("data").path)
        try data.initialise()
        var tokens: [String] = []
        var fanOutToken = ""
        do {
            let store = try SQLiteServerStore(path: data.database)
            try await store.addTenant("load")
            let practices = 10
            for c in 0..<(clients + clusterSize - 1) / clusterSize {
                try await store.addCluster(LoadClient.cluster(c), tenant: "load")
                for p in 0..<practices { try await store.addPractice("p\(p)", cluster: LoadClient.cluster(c), tenant: "load") }
            }
            for i in 0..<clients {
                tokens.append(try await store.issueToken(practice: "p\(i % practices)", cluster: LoadClient.cluster(i / clusterSize), tenant: "load", label: nil))
            }
            fanOutToken = try await store.issueToken(practice: "p0", cluster: LoadClient.cluster(0), tenant: "load", label: nil)
        }
        let server = try ServerProcess.start(data: data, binaries: binaries)
        defer { server.stop() }
        try await Task.sleep(for: .milliseconds(500))
        let idle = ResidentMemory.of(server.pid)
        let cpuBefore = ServerCPU.seconds(of: server.pid)

        var tls = try TLSSetup.clientConfiguration(trustedCAFile: data.caCertificate)
        tls.shutdownTimeout = .seconds(1)
        let context = try NIOSSLContext(configuration: tls)
        let board = LoadBoard(clients: clients, firstCluster: min(clients, clusterSize), start: .now)
        let layout = "\(clients) clients, \((clients + clusterSize - 1) / clusterSize) clusters"
        print("  load: \(layout) of up to \(clusterSize)")
        let pusherToken = fanOutToken
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            let port = server.port
            for (i, token) in tokens.enumerated() {
                group.addTask {
                    await LoadClient(index: i, cluster: i / clusterSize, token: token, port: port, context: context, board: board).run()
                }
            }
            // Every client subscribed (or failed), then the memory with every session open.
            let deadline = ContinuousClock.now + .seconds(300)
            while board.settled < clients, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            let open = ResidentMemory.of(server.pid)
            board.setOpenMemory(open)
            // Catch-up: each session subscribed from its first page's cursor, so it now receives
            // what the others of its cluster pushed after that (up to 10 × the cluster's size).
            // Timed apart, and over before the fan-out begins, so that the fan-out's CPU is the
            // wake-ups' alone.
            let catchUpStart = (ContinuousClock.now, ServerCPU.seconds(of: server.pid))
            try await board.waitUntilQuiet(for: .seconds(1), atMost: .seconds(300))
            let catchUpCPU = ServerCPU.seconds(of: server.pid) - catchUpStart.1
            let catchUpSeconds = Bench.seconds(since: catchUpStart.0) - 1
            // The same sessions with nothing in flight: what an open, idle session holds.
            let quiet = ResidentMemory.of(server.pid)
            SpeedBench.add("load \(clients) clients: server memory with all open, caught up and quiet",
                           String(format: "%.0f MB (%.0f KB per session)", quiet, (quiet - idle) * 1024 / Double(max(1, clients))),
                           target: "lower is better")
            // The server gives a burst's freed memory back once its sessions have been quiet
            // for a second (`MemoryReturn.trimWhenQuiet`): what the open sessions hold then.
            try await Task.sleep(for: .seconds(4))
            board.setSettledMemory(ResidentMemory.of(server.pid))
            SpeedBench.add("load \(clients) clients: catch-up after subscribing (each receives what the others pushed)",
                           String(format: "%.1f s, %.2f s of server CPU (%d pages)", catchUpSeconds, catchUpCPU, board.received),
                           target: "lower is better")
            // Fan-out: with every session subscribed and caught up, one more client of the first
            // cluster pushes one change at a time; each push wakes the sessions of that cluster
            // (`ChangeNotifier`; before the eleventh session it woke every session of the tenant,
            // and the others found nothing for their cluster), and the next goes once every
            // subscriber of the first cluster has its page.
            let fanOutStart = ServerCPU.seconds(of: server.pid)
            let fanOut = try await FanOutPusher(token: pusherToken, port: port, context: context, board: board).run(pushes: fanOutPushes)
            let fanOutCPU = ServerCPU.seconds(of: server.pid) - fanOutStart
            let wakeups = Double(fanOut * board.subscribedInFirstCluster)
            SpeedBench.add("load \(clients) clients: server CPU per woken session (\(fanOut) pushes, each waking the \(board.subscribedInFirstCluster) sessions of its cluster)",
                           String(format: "%.0f µs (%.3f s in all)", fanOutCPU * 1e6 / max(1, wakeups), fanOutCPU),
                           target: "lower is better")
            board.leave()
            try await group.waitForAll()
        }
        let wall = Bench.seconds(since: start)
        let cpu = ServerCPU.seconds(of: server.pid) - cpuBefore
        try await Task.sleep(for: .seconds(5))
        let after = ResidentMemory.of(server.pid)
        func percentile(_ p: Double, of seconds: [Double]) -> Double {
            let sorted = seconds.sorted()
            return sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000
        }
        let latencies = board.pullLatencies
        func percentile(_ p: Double) -> Double { percentile(p, of: latencies) }
        let p99 = percentile(0.99)
        let goal: Double = clients <= 1_000 ? 300 : 2_000
        let perSession = (board.settledMemory - idle) * 1024 / Double(max(1, clients))
        SpeedBench.add("load \(layout): pull p50 / p99", String(format: "%.0f / %.0f ms (%d ok, %d failed, %.1f s wall)",
                                                                     percentile(0.5), p99, latencies.count, board.failures, wall),
                       target: String(format: "p99 < %.0f ms: %@", goal, p99 < goal && board.failures == 0 ? "met" : "MISSED"))
        // Signature checks run below pulls (`SignatureChecks`): what pulls gain under load,
        // pushes may wait for; printed so that the trade shows.
        let pushes = board.pushLatencies
        SpeedBench.add("load \(clients) clients: push of 10 changes, sent to acknowledged, p50 / p99",
                       String(format: "%.0f / %.0f ms", percentile(0.5, of: pushes), percentile(0.99, of: pushes)))
        // Acknowledgements come a group commit at a time, and each client pulls as soon as its
        // push is acknowledged: how many pulls came together decides the p99 more than any
        // one pull's cost (MEASUREMENTS.md, fifteenth session), so the bunching is printed.
        let busiest = board.busiestPullWindow(seconds: 0.1)
        SpeedBench.add("load \(clients) clients: pulls sent in the busiest 100 ms, and their pull p50 / p99",
                       String(format: "%d (%.0f / %.0f ms)", busiest.count, percentile(0.5, of: busiest), percentile(0.99, of: busiest)))
        // The target is judged twice: as the last one subscribed, with the burst still in
        // flight (met since the sixteenth session, with trims during bursts), and once settled
        // (the burst's freed memory given back).
        let verdict = { (megabytes: Double) in megabytes < 300 ? "met" : "MISSED" }
        SpeedBench.add("load \(clients) clients: server memory idle / all open as the last subscribed / all open, settled / 5 s after they left",
                       String(format: "%.0f / %.0f / %.0f / %.0f MB (%.0f KB per settled session)", idle, board.openMemory, board.settledMemory, after, perSession),
                       target: clients >= 4_000
                           ? "< 300 MB at 4,000: \(verdict(board.openMemory)) as the last subscribed, \(verdict(board.settledMemory)) settled; back near idle"
                           : "back near idle")
        SpeedBench.add("load \(clients) clients: server CPU while they ran", String(format: "%.2f s (%.1f ms per client)", cpu, cpu * 1000 / Double(max(1, clients))),
                       target: "lower is better (both cores count)")
        if let failure = board.firstFailure { print("    first failure: \(failure)") }
    }
}

/// A process's CPU time (user and system, every thread) from /proc/<pid>/stat.
enum ServerCPU {
    /// Seconds; 0 when the process is gone or /proc cannot be read.
    static func seconds(of pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // After "pid (name) ": state is field 3, utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// What the clients report, and the signal to leave.
final class LoadBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var latencies: [Double] = []
    private var pushes: [Double] = []
    private var failed = 0
    private var done = 0
    private var firstError: String?
    private var leaving = false
    private var open = 0.0
    private var settledMB: Double = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    let clients: Int
    /// Clients in the first cluster.
    let firstCluster: Int
    /// When the clients started: pulls are placed in time from here.
    let start: ContinuousClock.Instant
    /// When each pull was sent (seconds after `start`), beside `latencies`.
    private var pullsSent: [Double] = []

    init(clients: Int, firstCluster: Int, start: ContinuousClock.Instant) {
        self.clients = clients
        self.firstCluster = firstCluster
        self.start = start
    }

    /// The pull latencies of the pulls sent within the `seconds` that held the most of them.
    func busiestPullWindow(seconds: Double) -> [Double] {
        let sent = lock.withLock { zip(pullsSent, latencies).sorted { $0.0 < $1.0 } }
        var best = 0..<0
        var first = 0
        for last in sent.indices {
            while sent[last].0 - sent[first].0 > seconds { first += 1 }
            if last + 1 - first > best.count { best = first..<last + 1 }
        }
        return sent[best].map(\.1)
    }

    var pullLatencies: [Double] { lock.withLock { latencies } }
    /// Each client's push of 10 changes, sent to acknowledged.
    var pushLatencies: [Double] { lock.withLock { pushes } }
    var failures: Int { lock.withLock { failed } }
    var settled: Int { lock.withLock { done } }
    var firstFailure: String? { lock.withLock { firstError } }
    var openMemory: Double { lock.withLock { open } }

    func setOpenMemory(_ mb: Double) { lock.withLock { open = mb } }
    /// The server's memory with every session open, once they have been quiet for a few seconds.
    var settledMemory: Double { lock.withLock { settledMB } }
    func setSettledMemory(_ mb: Double) { lock.withLock { settledMB = mb } }

    func subscribed(pullSent: ContinuousClock.Instant, pullSeconds: Double, pushSeconds: Double, inFirstCluster: Bool) {
        lock.withLock {
            pullsSent.append(Bench.seconds(since: start, until: pullSent))
            latencies.append(pullSeconds)
            pushes.append(pushSeconds)
            done += 1
            if inFirstCluster { firstClusterSubscribed += 1 }
        }
    }

    private var pages = 0
    private var firstClusterPages = 0
    private var firstClusterSubscribed = 0
    /// Pages the subscribed clients have received.
    var received: Int { lock.withLock { pages } }
    /// Pages the subscribed clients of the first cluster (the fan-out pusher's) have received.
    var receivedInFirstCluster: Int { lock.withLock { firstClusterPages } }
    /// Clients of the first cluster subscribed.
    var subscribedInFirstCluster: Int { lock.withLock { firstClusterSubscribed } }
    func receivedPage(inFirstCluster: Bool) { lock.withLock { pages += 1; if inFirstCluster { firstClusterPages += 1 } } }

    /// Returns once no page has arrived for `quiet` (or after `limit`).
    func waitUntilQuiet(for quiet: Duration, atMost limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        var last = received
        var since = ContinuousClock.now
        while ContinuousClock.now < deadline, ContinuousClock.now - since < quiet {
            try await Task.sleep(for: .milliseconds(50))
            let now = received
            if now != last { (last, since) = (now, ContinuousClock.now) }
        }
    }

    func failed(_ reason: String) {
        lock.withLock {
            failed += 1
            done += 1
            if firstError == nil { firstError = reason }
        }
    }

    func waitToLeave() async {
        await withCheckedContinuation { continuation in
            let now = lock.withLock { () -> Bool in
                if leaving { return true }
                waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func leave() {
        let all = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            leaving = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in all { waiter.resume() }
    }
}

struct LoadClient {
    /// The cursor of a `changes` line, read from its end (canonical keys are sorted: `changes`,
    /// `cursor`, `more`, `type`); an `error` line, or anything else, is decoded and thrown.
    static func cursorOfPage(_ line: ByteBuffer) throws -> Cursor {
        let bytes = line.readableBytesView
        let tail = String(decoding: bytes.suffix(200), as: UTF8.self)
        if tail.hasSuffix("\"type\":\"changes\"}"), let start = tail.range(of: "\"cursor\":\"", options: .backwards),
           let end = tail[start.upperBound...].firstIndex(of: "\"") {
            return Cursor(String(tail[start.upperBound..<end]))
        }
        let message = try WireCodec.decode(line)
        if case .error(let error) = message { throw ClusterSyncError(.internal, "\(error.code): \(error.message)") }
        throw ClusterSyncError(.internal, "expected a changes page, got \(tail.suffix(60))")
    }

    static func cluster(_ index: Int) -> String { "c\(index)" }

    let index: Int
    /// Its cluster's number (`cluster(_:)`).
    let cluster: Int
    let token: String
    let port: Int
    let context: NIOSSLContext
    let board: LoadBoard

    func run() async {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(120))
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: 64 * 1024 * 1024)))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            try await channel.executeThenClose { inbound, outbound in
                var lines = inbound.makeAsyncIterator()
                func send(_ message: WireMessage) async throws { try await outbound.write(ByteBuffer(string: WireCodec.encode(message))) }
                func next() async throws -> WireMessage {
                    guard let line = try await lines.next() else { throw ClusterSyncError(.internal, "closed") }
                    let message = try WireCodec.decode(line)
                    if case .error(let error) = message { throw ClusterSyncError(.internal, "\(error.code): \(error.message)") }
                    return message
                }
                let replica = ReplicaID(String(format: "%016llx", 0xC0DE_0000_0000 + UInt64(index)))!
                // Pushes are signed (PROTOCOL.md §6.2): each client is a replica with its own key.
                let key = ReplicaSigningKey()
                try await send(.hello(Hello(replica: replica, token: token, client: "clustersync-bench", key: key.publicKey)))
                _ = try await next()
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                let record = RecordID.random(for: .risk)
                var changes: [Change] = []
                for n in 1...10 {
                    let id = ChangeID(replica: replica, counter: Int64(n))
                    let previous: [ChangeID] = n > 4 ? [ChangeID(replica: replica, counter: Int64(n - 4))] : []
                    let value = JSONValue.string("Load \(index) \(n)")
                    let change = Change(id: id, hlc: HLCTimestamp(millis: now, logical: UInt16(n)), record: record,
                                        scope: RecordScope(tenant: "load", cluster: Self.cluster(cluster)), field: LocalEdits.fields[n % 4], value: value,
                                        supersedes: previous)
                    changes.append(ChangeSignature.signed(change, with: key))
                }
                let pushStart = ContinuousClock.now
                try await send(.push(Push(batch: "b1", changes: changes)))
                _ = try await next()
                let pushSeconds = Bench.seconds(since: pushStart)
                let pullStart = ContinuousClock.now
                try await send(.pull(Pull(cursor: nil)))
                // The page's arrival is the figure: its cursor is read from the line's end
                // without decoding its changes (a real client decodes on its own machine; here
                // thousands of clients decoding on the server's two cores measured themselves).
                guard let line = try await lines.next() else { throw ClusterSyncError(.internal, "closed") }
                let pullSeconds = Bench.seconds(since: pullStart)
                let subscribeFrom = try Self.cursorOfPage(line)
                try await send(.subscribe(Subscribe(cursor: subscribeFrom)))
                while true {
                    if case .subscribed = try await next() { break }
                }
                board.subscribed(pullSent: pullStart, pullSeconds: pullSeconds, pushSeconds: pushSeconds, inFirstCluster: cluster == 0)
                // Read what the others push until told to leave, then close.
                let board = self.board
                let raw = channel.channel
                Task {
                    await board.waitToLeave()
                    raw.close(promise: nil)
                }
                do {
                    let first = cluster == 0
                    while try await lines.next() != nil { board.receivedPage(inFirstCluster: first) }
                } catch {
                    // Closed by us.
                }
            }
        } catch {
            board.failed("\(error)")
        }
    }
}

/// The fan-out phase's pusher: one more client of the tenant pushing one change at a time, each
/// once every subscribed client has received the page the previous one woke it for.
struct FanOutPusher {
    let token: String
    let port: Int
    let context: NIOSSLContext
    let board: LoadBoard

    /// Returns how many pushes every subscriber received.
    func run(pushes: Int) async throws -> Int {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: 1 << 20)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            func exchange(_ message: WireMessage) async throws {
                try await outbound.write(ByteBuffer(string: WireCodec.encode(message)))
                guard let line = try await lines.next() else { throw ClusterSyncError(.internal, "closed") }
                if case .error(let error) = try WireCodec.decode(line) { throw ClusterSyncError(.internal, "\(error.code): \(error.message)") }
            }
            let replica = ReplicaID("00000000fa000001")!
            let key = ReplicaSigningKey()
            try await exchange(.hello(Hello(replica: replica, token: token, client: "clustersync-bench", key: key.publicKey)))
            let subscribers = board.subscribedInFirstCluster
            let record = RecordID.random(for: .risk)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            var done = 0
            for n in 1...pushes {
                let before = board.receivedInFirstCluster
                let change = Change(id: ChangeID(replica: replica, counter: Int64(n)), hlc: HLCTimestamp(millis: now, logical: UInt16(n)),
                                    record: record, scope: RecordScope(tenant: "load", cluster: LoadClient.cluster(0)), field: "title",
                                    value: .string("Fan-out \(n)"), supersedes: n > 1 ? [ChangeID(replica: replica, counter: Int64(n - 1))] : [])
                try await exchange(.push(Push(batch: "f\(n)", changes: [ChangeSignature.signed(change, with: key)])))
                let deadline = ContinuousClock.now + .seconds(60)
                while board.receivedInFirstCluster < before + subscribers, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
                guard board.receivedInFirstCluster >= before + subscribers else { break }
                done = n
            }
            return done
        }
    }
}
