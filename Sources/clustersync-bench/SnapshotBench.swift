import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import GRDB
import Logging

/// `--snapshot [N]` (issue 12 items 3 and 4): a cluster with N changes (default 1,000,000) of
/// history over N/50 records (20,000), every record's title and owner rewritten 25 times each, so
/// its state is 2 live values per record. Prints, in one run:
/// - a new replica's first sync over loopback TLS, which takes the snapshot of the state (target
///   under 2 s), beside the raw SQLite reference: copying the same live rows from the store's
///   file into a new file with one INSERT ... SELECT;
/// - the store file before and after compacting everything (`compact --horizon-days 0`, then
///   VACUUM), and how long compaction took.
enum SnapshotBench {
    static func run(in directory: URL, changes total: Int) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let data = DataDirectory(path: directory.appendingPathComponent("data").path)
        try data.initialise()
        let store = try SQLiteServerStore(path: data.database, durability: .normal)
        try await store.addTenant("bench")
        try await store.addCluster("c1", tenant: "bench")
        try await store.addPractice("p1", cluster: "c1", tenant: "bench")
        try await store.addPractice("p2", cluster: "c1", tenant: "bench")
        let token = directory.appendingPathComponent("p2.token").path
        try await store.issueToken(practice: "p2", cluster: "c1", tenant: "bench", label: nil).write(toFile: token, atomically: true, encoding: .utf8)

        // The history, pushed straight into the store in batches of 1,000, as practice p1's.
        let records = max(1, total / 50)
        let ids = (0..<records).map { _ in RecordID.random(for: .risk) }
        let replica = ReplicaID("00000000000000c1")!
        let identity = SessionIdentity(tenant: "bench", cluster: "c1", practice: "p1", author: "p1", role: .clusterLead)
        let base = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        var last: [Int: [String: ChangeID]] = [:]
        var counter: Int64 = 0
        let fillStart = ContinuousClock.now
        var batch: [Change] = []
        batch.reserveCapacity(1_000)
        // Round after round over every record, so each batch touches 1,000 records.
        for round in 0..<50 {
            let field = round % 2 == 0 ? "title" : "owner"
            for (r, record) in ids.enumerated() {
                counter += 1
                let id = ChangeID(replica: replica, counter: counter)
                batch.append(Change(id: id, hlc: HLCTimestamp(millis: base + counter / 1_000, logical: UInt16(counter % 1_000)), record: record,
                                    scope: RecordScope(tenant: "bench", cluster: "c1"), field: field,
                                    value: .string("\(field == "title" ? "Risk" : "Owner") \(r) version \(round / 2)"),
                                    supersedes: last[r]?[field].map { [$0] } ?? []))
                last[r, default: [:]][field] = id
                if batch.count == 1_000 {
                    _ = try await store.push(batch, as: identity, from: replica)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        if !batch.isEmpty { _ = try await store.push(batch, as: identity, from: replica) }
        print(String(format: "snapshot: %d changes over %d records stored in %.1f s", counter, records, Bench.seconds(since: fillStart)))

        let running = try await BenchServer.start(store: store, data: data)
        defer { running.task.cancel() }
        let port = running.port

        let fresh = try Replica(path: directory.appendingPathComponent("fresh.sqlite").path)
        try fresh.initialise(tenant: "bench", cluster: "c1", practice: "p2", displayName: "New laptop")
        try fresh.setRemote(RemoteSettings(host: "127.0.0.1", port: port, caFile: data.caCertificate, tokenFile: token))
        let syncStart = ContinuousClock.now
        let summary = try await SyncClient(replica: fresh, remote: try fresh.remote()!).sync()
        let syncSeconds = Bench.seconds(since: syncStart)

        // The raw SQLite reference: the same live rows copied from the store's file, one statement.
        let rawStart = ContinuousClock.now
        let raw = try DatabaseQueue(path: directory.appendingPathComponent("raw.sqlite").path)
        let storePath = data.database
        try await raw.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS store", arguments: [storePath])
            try db.inTransaction {
                try db.execute(sql: """
                    CREATE TABLE live AS SELECT c.* FROM store.change c JOIN store.record r ON r.num = c.record
                    WHERE r.tenant = 'bench' AND r.cluster = 'c1' AND c.live = 1
                    """)
                return .commit
            }
        }
        let rawSeconds = Bench.seconds(since: rawStart)
        print(String(format: "snapshot bootstrap of a new replica over TLS: %8.3f s (%d live changes, the state of %d; target < 2 s)",
                     syncSeconds, summary.pulled, counter))
        print(String(format: "  raw SQLite, same run: the same live rows copied file to file: %8.3f s (ratio %.1f)",
                     rawSeconds, syncSeconds / max(rawSeconds, 1e-9)))

        try await stages(store: store, in: directory, against: fresh)

        // Disk before and after compaction, each after a checkpoint that empties the WAL.
        func storeBytes() async throws -> Int64 {
            try await store.vacuum()
            return ["", "-wal"].reduce(Int64(0)) { total, suffix in
                total + ((try? FileManager.default.attributesOfItem(atPath: data.database + suffix)[.size] as? Int64) ?? 0)
            }
        }
        let before = try await storeBytes()
        let compactStart = ContinuousClock.now
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let outcome = try await store.compact(tenant: "bench", olderThan: now, now: now)
        let compactSeconds = Bench.seconds(since: compactStart)
        let after = try await storeBytes()
        print(String(format: "compaction of %d changes: %d superseded dropped in %.1f s; store %.1f MB before, %.1f MB after (%.0f%% saved)",
                     counter, outcome.compacted, compactSeconds, Double(before) / 1e6, Double(after) / 1e6,
                     100 * (1 - Double(after) / Double(max(before, 1)))))
        let secondStart = ContinuousClock.now
        let second = try Replica(path: directory.appendingPathComponent("after-compaction.sqlite").path)
        try second.initialise(tenant: "bench", cluster: "c1", practice: "p2", displayName: "Another laptop")
        try second.setRemote(RemoteSettings(host: "127.0.0.1", port: port, caFile: data.caCertificate, tokenFile: token))
        _ = try await SyncClient(replica: second, remote: try second.remote()!).sync()
        print(String(format: "snapshot bootstrap after compaction: %8.3f s; exports identical to the first: %@",
                     Bench.seconds(since: secondStart),
                     try second.exportJSON(today: fresh.today) == fresh.exportJSON(today: fresh.today) ? "yes" : "NO"))
    }

    /// Where a bootstrap's time goes: the same snapshot again, stage by stage in this process
    /// without the network (the server's page reads, their encoding into lines, the client's
    /// decoding of the lines, the replica's apply of the pages), so the TLS figure above can be
    /// read as their sum plus the round trips. Each stage also as the CPU time (user + system) the
    /// process spent in it, which a loaded machine does not inflate as it does the wall clock.
    /// The replica it fills must export what `fresh` does.
    static func stages(store: SQLiteServerStore, in directory: URL, against fresh: Replica) async throws {
        let identity = SessionIdentity(tenant: "bench", cluster: "c1", practice: "p2", author: "p2", role: .practice)
        let limit = WireLimits().maxChangesPerPage
        var figures: [(name: String, wall: Double, cpu: Double)] = []
        func timed<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
            let (start, cpu) = (ContinuousClock.now, cpuSeconds())
            let result = try await body()
            figures.append((name, Bench.seconds(since: start), cpuSeconds() - cpu))
            return result
        }
        let pages: [Snapshot] = try await timed("server read") {
            var pages: [Snapshot] = []
            var after: SnapshotCursor?
            repeat {
                let page = try await store.snapshotStored(for: identity, after: after, limit: limit)
                pages.append(page)
                after = page.more ? try SnapshotCursor(page.cursor) : nil
            } while after != nil
            return pages
        }
        let lines = await timed("encode") { pages.map { WireCodec.encode(.snapshot($0)) } }
        let decoded: [Snapshot] = try await timed("decode") {
            try lines.map {
                guard case .snapshot(let page) = try WireCodec.decode($0.dropLast()) else { throw ClusterSyncError(.internal, "not a snapshot line") }
                return page
            }
        }
        let replica = try Replica(path: directory.appendingPathComponent("stages.sqlite").path)
        try replica.initialise(tenant: "bench", cluster: "c1", practice: "p2", displayName: "Stages")
        try await timed("replica apply") {
            for (index, page) in decoded.enumerated() { _ = try replica.applySnapshot(page, first: index == 0) }
        }
        print(String(format: "  stages, without the network (%d pages, %.1f MB): ", pages.count, Double(lines.reduce(0) { $0 + $1.utf8.count }) / 1e6)
              + figures.map { String(format: "%@ %.3f s (cpu %.3f s)", $0.name, $0.wall, $0.cpu) }.joined(separator: ", ")
              + "; export as over TLS: " + (try replica.exportJSON(today: fresh.today) == fresh.exportJSON(today: fresh.today) ? "yes" : "NO"))
    }

    /// CPU time this process has used, user and system, in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
