import ClusterSyncClient
import ClusterSyncClientTesting
import ClusterSyncCore
import Foundation
import Testing

/// Random edits of every kind on three replicas, exchanged in random partial batches, in random
/// order, with duplicates: every replica must end byte-identical, and agree with the in-memory
/// definition of the merge rule (`FieldWrites`).
@Suite struct ConvergenceTests {
    static let seeds: [UInt64] = [1, 2, 3, 42, 2026, 0xC1A5_7E55]

    @Test(arguments: seeds)
    func threeReplicasConverge(seed: UInt64) throws {
        print("convergence seed \(seed)")
        var rng = SplitMix64(seed: seed)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let replicas = try ["prestatyn", "rhyl", "prestatyn"].enumerated().map { i, practice in
            try makeReplica(dir, "r\(i)", practice: practice)
        }
        var lastExchanged: [Set<ChangeID>] = Array(repeating: [], count: replicas.count)

        for step in 0..<240 {
            let r = replicas[Int.random(in: 0..<replicas.count, using: &rng)]
            try RandomEdits.perform(on: r, using: &rng)
            if step % 8 == 7 {
                // A partial, shuffled, duplicated batch from one replica to another.
                let from = Int.random(in: 0..<replicas.count, using: &rng)
                var to = Int.random(in: 0..<replicas.count, using: &rng)
                if to == from { to = (to + 1) % replicas.count }
                var batch = try replicas[from].allChanges().filter { _ in Bool.random(using: &rng) }
                batch += batch.prefix(3)
                batch.shuffle(using: &rng)
                try replicas[to].apply(batch, origin: .peer)
                lastExchanged[to].formUnion(batch.map(\.id))
            }
        }
        // Everyone tells everyone everything, in shuffled order.
        let all = try replicas.flatMap { try $0.allChanges() }
        for replica in replicas {
            try replica.apply(all.shuffled(using: &rng), origin: .peer)
        }

        let exports = try replicas.map { try $0.exportJSON(today: fixedToday).canonicalText }
        #expect(exports[0] == exports[1], "seed \(seed)")
        #expect(exports[0] == exports[2], "seed \(seed)")
        #expect(try Set(replicas[0].allChanges().map(\.id)) == Set(all.map(\.id)))

        // The SQLite state is the in-memory rule applied to the same changes.
        var model: [RecordID: [String: FieldWrites]] = [:]
        for change in all.shuffled(using: &rng) { model[change.record, default: [:]][change.field, default: FieldWrites()].apply(change) }
        let views = try replicas[0].records(nil) + (try replicas[0].records(.item))
        // Every record the changes name is listed (deleted ones too), and nothing else.
        #expect(Set(views.map(\.id)) == Set(model.keys), "seed \(seed)")
        for view in views {
            let fields = model[view.id] ?? [:]
            for field in Set(fields.keys).union(view.writes.keys) {
                #expect(Set((view.writes[field] ?? []).map(\.id)) == Set((fields[field]?.live ?? [:]).keys), "seed \(seed) \(view.id).\(field)")
            }
        }
        let conflicts = try replicas[0].records(nil).reduce(0) { $0 + $1.conflicts.count }
        print("convergence seed \(seed): \(all.count) changes, \(conflicts) conflicts")
    }
}
