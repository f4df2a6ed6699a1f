import ClusterSyncClient
import ClusterSyncCore
import ClusterSyncServer
import Foundation
import Testing

/// A PCPG replica that syncs now and then, with pages of a few changes, while three clusters
/// escalate and de-escalate risks, link actions, name sources and edit, and the administrator
/// moves the third into the region and out again, ends holding exactly
/// what a PCPG replica made at the end holds: pages that send a listed record's changes logged
/// since the cursor, and whole only what may be new to the replica (PROTOCOL.md §7.1), lose
/// nothing. Each sync ends with the replica holding every record listed to it, so it never
/// needs its fallback (pulling again from the start), which would hide a record sent short.
@Suite struct OversightConvergenceTests {
    static let seeds: [UInt64] = [1, 2, 3, 42, 2026]
    let fixture = OversightReadTests()
    let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "pcpg")
    /// Each cluster's own ids: a replica holds one record per id (PROTOCOL.md §7.1).
    let risks = ["conwy-west": ["RSK-7K3M9Q2X1A", "RSK-8M4N2P6Q0R", "RSK-3C5E7G9K1M"],
                 "conwy-east": ["RSK-1A2B3C4D5E", "RSK-6F7G8H9J0K", "RSK-2M3N4P5Q6R"],
                 "arfon": ["RSK-4T5V6W7X8Y", "RSK-9Z0A1B2C3D"]]
    let actions = ["conwy-west": ["ACT-4F8R2M6W0Z", "ACT-9H2K4M6P8R", "ACT-2B4D6F8H0J"],
                   "conwy-east": ["ACT-5S6T7V8W9X", "ACT-0Y1Z2A3B4C", "ACT-7D8E9F0G1H"],
                   "arfon": ["ACT-3E4F5G6H7J", "ACT-8K9M0N1P2Q"]]

    @Test(arguments: StoreBackend.available, seeds)
    func aReplicaSyncingAlongHoldsWhatAFreshOneHolds(_ kind: StoreBackend, seed: UInt64) async throws {
        let store = try await kind.make(wallClock: { OversightReadTests.now })
        try await fixture.regionOfTwo(store)
        try await store.addCluster("arfon", tenant: "bcuhb", region: nil)
        try await store.addPractice("arfon-1", cluster: "arfon", tenant: "bcuhb")
        var rng = SplitMix64(seed: seed)
        let (along, alongPath) = try OversightReadTests.pcpgReplica()
        defer { Self.remove(alongPath) }
        var counters = ["conwy-west": Int64(0), "conwy-east": 0, "arfon": 0]
        // The last write of each cluster's record and field, which the next one supersedes
        // (set members are added, never superseded).
        var last: [String: Int64] = [:]
        var syncs = 0
        for step in 0..<80 {
            if Int.random(in: 0..<12, using: &rng) == 0 {
                try await store.setRegion(Bool.random(using: &rng) ? "conwy" : nil, ofCluster: "arfon", tenant: "bcuhb")
            }
            let cluster = ["conwy-west", "conwy-east", "arfon"].randomElement(using: &rng)!
            var batch: [Change] = []
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let (record, field, value) = edit(step, risks: risks[cluster]!, actions: actions[cluster]!, &rng)
                counters[cluster]! += 1
                let key = "\(cluster) \(record) \(field)"
                let sup = field == "linked_actions" ? [] : last[key].map { [$0] } ?? []
                if field != "linked_actions" { last[key] = counters[cluster]! }
                batch.append(fixture.change(counters[cluster]!, record, field, value, cluster: cluster, sup: sup))
            }
            _ = try await store.push(batch, as: fixture.identity(cluster))
            if Int.random(in: 0..<4, using: &rng) == 0 {
                try await sync(along, store, limit: Int.random(in: 1...4, using: &rng), seed: seed)
                syncs += 1
            }
        }
        try await sync(along, store, limit: 1000, seed: seed)
        let (fresh, freshPath) = try OversightReadTests.pcpgReplica()
        defer { Self.remove(freshPath) }
        try await sync(fresh, store, limit: 1000, seed: seed)
        let held = try fresh.allChanges()
        #expect(!held.isEmpty && syncs > 5, "seed \(seed): something escalated, synced along the way")
        #expect(try along.exportJSON(today: OversightReadTests.today).canonicalText
                    == fresh.exportJSON(today: OversightReadTests.today).canonicalText, "seed \(seed)")
        #expect(Set(try along.allChanges().map(\.id)) == Set(held.map(\.id)), "seed \(seed)")
    }

    /// One random write: escalations (half of them to the PCPG or above), links, sources, edits.
    func edit(_ step: Int, risks: [String], actions: [String], _ rng: inout SplitMix64) -> (String, String, JSONValue) {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0, 1:
            (risks.randomElement(using: &rng)!, "escalation",
             .string(["cluster", "pcpg", "health-board", "practice"].randomElement(using: &rng)!))
        case 2: (risks.randomElement(using: &rng)!, "linked_actions", .string(actions.randomElement(using: &rng)!))
        case 3: (actions.randomElement(using: &rng)!, "source", .string(risks.randomElement(using: &rng)!))
        case 4, 5, 6: (risks.randomElement(using: &rng)!, "owner", .string("Owner \(step)"))
        default: (actions.randomElement(using: &rng)!, "title", .string("Title \(step)"))
        }
    }

    /// Pulls pages of at most `limit` until the last, applying each as a sync does; the replica
    /// then holds every record listed to it (its cursor kept, not left at the start).
    func sync(_ replica: Replica, _ store: any ServerStore, limit: Int, seed: UInt64) async throws {
        while true {
            let page = try await store.pull(for: pcpg, after: try replica.syncState().cursor, limit: limit)
            try replica.applyPulled(page)
            guard page.more else { break }
        }
        #expect(try replica.syncState().cursor != nil, "seed \(seed): a listed record was not sent")
    }

    static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
