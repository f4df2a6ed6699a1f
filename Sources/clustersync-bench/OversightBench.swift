import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncServer
import ClusterSyncStorage
import Foundation
import Logging

/// How long a PCPG's replica takes to come up to date (issue 10 item 8): a region of 20 clusters
/// holding 500 risks and 1,000 actions each (5 risks of each cluster escalated to the PCPG, each
/// with two actions), then 1,000 changes spread over the 20 clusters; the PCPG replica syncs over
/// loopback TLS against the in-process server. Beside it, in the same run: one practice's
/// replica catching up with its own cluster's share of those changes, and the PCPG's sync when
/// nothing changed (its roll-up and list alone); then its sync after 50 changes in one cluster.
enum OversightBench {
    static let clusters = 20
    static let risks = 500
    static let actions = 1_000

    static func run(in directory: URL, runs: Int) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let data = DataDirectory(path: directory.appendingPathComponent("data").path)
        try data.initialise()
        let store = try SQLiteServerStore(path: data.database)
        try await store.addTenant("bench")
        try await store.addRegion("county", tenant: "bench")
        let names = (1...clusters).map { String(format: "c%02d", $0) }
        for cluster in names {
            try await store.addCluster(cluster, tenant: "bench", region: "county")
            try await store.addPractice("p", cluster: cluster, tenant: "bench")
        }
        let pcpgToken = directory.appendingPathComponent("pcpg.token").path
        try await store.issueToken(for: .pcpg(tenant: "bench", region: "county"), label: "analyst", expiresAt: nil)
            .write(toFile: pcpgToken, atomically: true, encoding: .utf8)
        let practiceToken = directory.appendingPathComponent("practice.token").path
        try await store.issueToken(practice: "p", cluster: names[0], tenant: "bench", label: nil)
            .write(toFile: practiceToken, atomically: true, encoding: .utf8)

        let running = try await BenchServer.start(store: store, data: data)
        defer { running.task.cancel() }
        let port = running.port

        // The registers, pushed straight into the store: per cluster, risks (title, score,
        // review date, escalation for the first 5) and actions (title, due date, source).
        let fillStart = ContinuousClock.now
        var filler = Filler(now: Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000)
        var riskIDs: [String: [RecordID]] = [:]
        var actionIDs: [String: [RecordID]] = [:]
        for cluster in names {
            var batch: [Change] = []
            for r in 0..<risks {
                let id = RecordID.random(for: .risk)
                riskIDs[cluster, default: []].append(id)
                batch.append(filler.change(id, cluster, "title", .string("Risk \(r)")))
                batch.append(filler.change(id, cluster, "score", .object(["likelihood": .int(Int64(r % 5 + 1)), "consequence": .int(Int64(r / 5 % 5 + 1))])))
                batch.append(filler.change(id, cluster, "review_date", .string("2026-\(String(format: "%02d", r % 12 + 1))-15")))
                if r < 5 { batch.append(filler.change(id, cluster, "escalation", .string("pcpg"))) }
            }
            for a in 0..<actions {
                let id = RecordID.random(for: .action)
                actionIDs[cluster, default: []].append(id)
                batch.append(filler.change(id, cluster, "title", .string("Action \(a)")))
                batch.append(filler.change(id, cluster, "due_date", .string("2026-\(String(format: "%02d", a % 12 + 1))-01")))
                batch.append(filler.change(id, cluster, "source", .string(riskIDs[cluster]![a % risks].rawValue)))
            }
            try await filler.push(batch, cluster: cluster, to: store)
        }
        print(String(format: "PCPG: %d clusters x (%d risks + %d actions) stored in %.1f s (%d changes)",
                     clusters, risks, actions, Bench.seconds(since: fillStart), filler.counter))

        let pcpg = try Replica.createReadOnly(path: directory.appendingPathComponent("pcpg.sqlite").path, tenant: "bench", role: .pcpg,
                                              region: "county", displayName: "PCPG analyst").0
        try pcpg.setRemote(RemoteSettings(host: "127.0.0.1", port: port, caFile: data.caCertificate, tokenFile: pcpgToken))
        let practice = try Replica(path: directory.appendingPathComponent("practice.sqlite").path)
        try practice.initialise(tenant: "bench", cluster: names[0], practice: "p", displayName: "Practice")
        try practice.setRemote(RemoteSettings(host: "127.0.0.1", port: port, caFile: data.caCertificate, tokenFile: practiceToken))
        let firstStart = ContinuousClock.now
        let first = try await SyncClient(replica: pcpg, remote: try pcpg.remote()!).sync()
        print(String(format: "PCPG replica's first sync:                  %10.1f ms (%d changes of escalated records, roll-up of %d clusters)",
                     Bench.seconds(since: firstStart) * 1000, first.pulled, clusters))
        _ = try await SyncClient(replica: practice, remote: try practice.remote()!).sync()

        var pcpgTimes: [Double] = []
        var pcpgPulled: [Double] = []
        var oneClusterPulled: [Double] = []
        var practiceTimes: [Double] = []
        var idleTimes: [Double] = []
        var oneClusterTimes: [Double] = []
        for run in 0..<runs {
            // 1,000 changes, 50 per cluster: rescored risks, moved due dates, and one risk per
            // cluster escalated or de-escalated in turn.
            for cluster in names {
                var batch: [Change] = []
                for i in 0..<50 {
                    let k = run * 50 + i
                    if i == 0 {
                        let id = riskIDs[cluster]![5 + run % 10]
                        batch.append(filler.change(id, cluster, "escalation", .string(run % 2 == 0 ? "pcpg" : "cluster")))
                    } else if i % 2 == 0 {
                        let id = riskIDs[cluster]![k % risks]
                        batch.append(filler.change(id, cluster, "score", .object(["likelihood": .int(Int64(k % 5 + 1)), "consequence": .int(3)])))
                    } else {
                        let id = actionIDs[cluster]![k % actions]
                        batch.append(filler.change(id, cluster, "due_date", .string("2027-01-\(String(format: "%02d", k % 28 + 1))")))
                    }
                }
                try await filler.push(batch, cluster: cluster, to: store)
            }
            let start = ContinuousClock.now
            let before = try pcpg.syncState().cursor
            _ = try await SyncClient(replica: pcpg, remote: try pcpg.remote()!).sync()
            pcpgTimes.append(Bench.seconds(since: start) * 1000)
            pcpgPulled.append(Double(try await sent(store, after: before)))
            let practiceStart = ContinuousClock.now
            _ = try await SyncClient(replica: practice, remote: try practice.remote()!).sync()
            practiceTimes.append(Bench.seconds(since: practiceStart) * 1000)
            let idleStart = ContinuousClock.now
            _ = try await SyncClient(replica: pcpg, remote: try pcpg.remote()!).sync()
            idleTimes.append(Bench.seconds(since: idleStart) * 1000)
            // 50 changes in one cluster only (its actions' due dates moved): the other 19
            // clusters' roll-ups and escalated records are not read or sent again.
            let one = names[run % clusters]
            var moved: [Change] = []
            for i in 0..<50 {
                moved.append(filler.change(actionIDs[one]![(run * 50 + i) % actions], one, "due_date",
                                           .string("2027-02-\(String(format: "%02d", i % 28 + 1))")))
            }
            try await filler.push(moved, cluster: one, to: store)
            let oneStart = ContinuousClock.now
            let beforeOne = try pcpg.syncState().cursor
            _ = try await SyncClient(replica: pcpg, remote: try pcpg.remote()!).sync()
            oneClusterTimes.append(Bench.seconds(since: oneStart) * 1000)
            oneClusterPulled.append(Double(try await sent(store, after: beforeOne)))
        }
        print(String(format: "PCPG replica up to date after 1,000 changes over %d clusters: %8.1f ms (median of %d), %.0f changes sent",
                     clusters, Bench.median(pcpgTimes), runs, Bench.median(pcpgPulled)))
        print(String(format: "  reference, same run: one practice catching up its cluster's 50: %8.1f ms", Bench.median(practiceTimes)))
        print(String(format: "PCPG replica up to date after 50 changes in one cluster:         %8.1f ms (median of %d), %.0f changes sent",
                     Bench.median(oneClusterTimes), runs, Bench.median(oneClusterPulled)))
        print(String(format: "  reference, same run: PCPG sync with nothing new:                 %8.1f ms", Bench.median(idleTimes)))
    }

    /// How many changes a PCPG's pull from `cursor` is sent, all pages, read from the store as
    /// the session read them just before (nothing was stored since), outside the timing.
    static func sent(_ store: SQLiteServerStore, after cursor: Cursor?) async throws -> Int {
        let pcpg = SessionIdentity.oversight(tenant: "bench", role: .pcpg, region: "county", author: "analyst")
        var (count, cursor) = (0, cursor)
        while true {
            let page = try await store.pull(for: pcpg, after: cursor, limit: WireLimits.default.maxChangesPerPage)
            count += page.changes.count
            cursor = page.cursor
            if !page.more { return count }
        }
    }

    /// Changes of the bench's practice replica, one per cluster's practice `p`.
    struct Filler {
        let now: Int64
        var counter: Int64 = 0
        let replica = ReplicaID("00000000000000b3")!
        /// The last change per (cluster, record, field), superseded by the next write of it.
        var last: [String: ChangeID] = [:]

        init(now: Int64) { self.now = now }

        mutating func change(_ record: RecordID, _ cluster: String, _ field: String, _ value: JSONValue) -> Change {
            counter += 1
            let key = "\(cluster)/\(record.rawValue)/\(field)"
            let id = ChangeID(replica: replica, counter: counter)
            defer { last[key] = id }
            return Change(id: id, hlc: HLCTimestamp(millis: now + counter / 100, logical: UInt16(counter % 100)), record: record,
                          scope: RecordScope(tenant: "bench", cluster: cluster), field: field, value: value,
                          supersedes: last[key].map { [$0] } ?? [])
        }

        func push(_ changes: [Change], cluster: String, to store: SQLiteServerStore) async throws {
            let identity = SessionIdentity(tenant: "bench", cluster: cluster, practice: "p", author: "p", role: .clusterLead)
            var start = 0
            while start < changes.count {
                let end = min(start + 1_000, changes.count)
                _ = try await store.push(Array(changes[start..<end]), as: identity)
                start = end
            }
        }
    }
}
