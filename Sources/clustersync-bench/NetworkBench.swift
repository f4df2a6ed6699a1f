import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncStorage
import Foundation
import Logging

/// Sync over loopback TLS against an in-process server on the embedded SQLite store.
enum NetworkBench {
    struct Fixture {
        let directory: URL
        let server: SyncServer
        let store: SQLiteServerStore
        let serverTask: Task<Void, any Error>
        let port: Int
        let tokenFile: String
        let caFile: String

        func replica(_ name: String, practice: String) throws -> Replica {
            let replica = try Replica(path: directory.appendingPathComponent("\(name).sqlite").path)
            try replica.initialise(tenant: "bench", cluster: "c1", practice: practice, displayName: name)
            try replica.setRemote(RemoteSettings(host: "127.0.0.1", port: port, caFile: caFile, tokenFile: tokenFile))
            return replica
        }

        func stop() async {
            serverTask.cancel()
            _ = await serverTask.result
        }
    }

    static func start(in directory: URL) async throws -> Fixture {
        let data = DataDirectory(path: directory.appendingPathComponent("data").path)
        try data.initialise()
        let store = try SQLiteServerStore(path: data.database)
        try await store.addTenant("bench")
        try await store.addCluster("c1", tenant: "bench")
        try await store.addPractice("p1", cluster: "c1", tenant: "bench")
        try await store.addPractice("p2", cluster: "c1", tenant: "bench")
        let tokenFile = directory.appendingPathComponent("token").path
        try await store.issueToken(practice: "p1", cluster: "c1", tenant: "bench", label: nil)
            .write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let running = try await BenchServer.start(store: store, data: data)
        return Fixture(directory: directory, server: running.server, store: store, serverTask: running.task, port: running.port,
                       tokenFile: tokenFile, caFile: data.caCertificate)
    }

    /// A store with the bench tenant, cluster and practices, at `path`.
    static func emptyStore(_ path: String, durability: DatabaseSetup.Durability) async throws -> SQLiteServerStore {
        let store = try SQLiteServerStore(path: path, durability: durability)
        try await store.addTenant("bench")
        try await store.addCluster("c1", tenant: "bench")
        try await store.addPractice("p2", cluster: "c1", tenant: "bench")
        return store
    }

    /// Fills the server's store directly: `count` changes over records of 100 writes each,
    /// numbered on from `start` (a later fill of the same store goes on where the last ended).
    /// Their maker's key is registered first, as every replica's is before its changes reach a
    /// store (an unsigned push is refused), so the store takes the path a served push takes.
    static func fill(_ store: any ServerStore, count: Int, from start: Int = 0, perPush: Int = 1_000) async throws {
        let identity = SessionIdentity(tenant: "bench", cluster: "c1", practice: "p2", author: "p2")
        let replica = ReplicaID("00000000000000b2")!
        _ = try await store.registerReplicaKey(makerKey.publicKey, replica: replica, session: identity, person: nil)
        let scope = RecordScope(tenant: "bench", cluster: "c1")
        let base = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        var batch: [Change] = []
        batch.reserveCapacity(perPush)
        var record = RecordID.random(for: .risk)
        for i in start..<(start + count) {
            if i % 100 == 0 { record = RecordID.random(for: .risk) }
            let counter = Int64(i + 1)
            let previous = i % 100 >= 4 ? [ChangeID(replica: replica, counter: counter - 4)] : []
            batch.append(Change(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: base + Int64(i / 1000)),
                                record: record, scope: scope, field: LocalEdits.fields[i % 4],
                                value: .string("Value \(i)"), supersedes: previous))
            if batch.count == perPush {
                _ = try await store.push(batch, as: identity)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { _ = try await store.push(batch, as: identity) }
    }

    /// The filled changes' maker's key: fixed, so that every fill of a store registers the same.
    static let makerKey = try! ReplicaSigningKey(rawRepresentation: [UInt8](repeating: 0xb2, count: 32))

    static func run(in directory: URL, pushCount: Int, storedCount: Int, runs: Int) async throws {
        let fixture = try await start(in: directory)

        var pushRates: [Double] = []
        var pushCPU: [Double] = []
        for run in 0..<runs {
            let pusher = try fixture.replica("pusher-\(run)", practice: "p1")
            _ = try LocalEdits.make(count: pushCount, on: pusher)
            let pending = try pusher.pendingCount()
            let start = ContinuousClock.now
            let cpuStart = Bench.processCPUSeconds()
            let pushed = PushClock()
            _ = try await SyncClient(replica: pusher, remote: try pusher.remote()!).sync { state in
                if state.pushed == state.toPush { pushed.mark() }
            }
            let seconds = pushed.seconds(since: start)
            pushRates.append(Double(pending) / seconds)
            // Client and server share this process: their CPU over the wall clock says how much
            // of the two cores the push kept busy.
            pushCPU.append((Bench.processCPUSeconds() - cpuStart) / Bench.seconds(since: start))
        }
        print(String(format: "changes pushed and acknowledged over TLS:    %10.0f changes/s (batches of 1,000; %.2f cores busy, client and server)",
                     Bench.median(pushRates), Bench.median(pushCPU)))

        let fillStart = ContinuousClock.now
        try await fill(fixture.store, count: storedCount)
        print(String(format: "server store filled directly (FULL):        %10.0f changes/s (1,000 per push)", Double(storedCount) / Bench.seconds(since: fillStart)))
        // What durable acknowledgements cost: the same fill, and single-change pushes, into a
        // store committing with synchronous=FULL (as served) and one with NORMAL.
        let normal = try await emptyStore(directory.appendingPathComponent("normal.sqlite").path, durability: .normal)
        let normalStart = ContinuousClock.now
        try await fill(normal, count: storedCount)
        print(String(format: "server store filled directly (NORMAL):      %10.0f changes/s (1,000 per push)", Double(storedCount) / Bench.seconds(since: normalStart)))
        let singles = min(storedCount, 2_000)
        for (name, durability) in [("FULL", DatabaseSetup.Durability.full), ("NORMAL", .normal)] {
            let store = try await emptyStore(directory.appendingPathComponent("singles-\(name).sqlite").path, durability: durability)
            let start = ContinuousClock.now
            try await fill(store, count: singles, perPush: 1)
            let seconds = Bench.seconds(since: start)
            print(String(format: "one-change pushes stored (%@):%@%10.0f pushes/s (%.2f ms each)",
                         name, String(repeating: " ", count: 17 - name.count), Double(singles) / seconds, seconds * 1000 / Double(singles)))
        }

        let fresh = try fixture.replica("fresh", practice: "p1")
        let pullStart = ContinuousClock.now
        let summary = try await SyncClient(replica: fresh, remote: try fresh.remote()!).sync()
        let pullSeconds = Bench.seconds(since: pullStart)
        print(String(format: "first pull by a fresh replica:              %10.1f s for %d changes (%.0f changes/s)",
                     pullSeconds, summary.pulled, Double(summary.pulled) / pullSeconds))

        var oneChange: [Double] = []
        let id = try fresh.create(.risk, edits: [.set("title", .string("One change"))])
        _ = try await SyncClient(replica: fresh, remote: try fresh.remote()!).sync()
        for i in 0..<max(runs, 5) {
            try fresh.edit(id, .set("owner", .string("Owner \(i)")))
            let start = ContinuousClock.now
            _ = try await SyncClient(replica: fresh, remote: try fresh.remote()!).sync()
            oneChange.append(Bench.seconds(since: start) * 1000)
        }
        print(String(format: "one-change sync, server holding %d:    %10.1f ms (connect, TLS, push, pull)", storedCount, Bench.median(oneChange)))
        await fixture.stop()
    }
}

/// When the last batch was acknowledged.
final class PushClock: @unchecked Sendable {
    private let lock = NSLock()
    private var at: ContinuousClock.Instant?

    func mark() { lock.withLock { if at == nil { at = .now } } }

    func seconds(since start: ContinuousClock.Instant) -> Double {
        lock.withLock { Bench.seconds(since: start, until: at ?? .now) }
    }
}
