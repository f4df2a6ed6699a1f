import ClusterSyncClient
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
        for view in try replicas[0].records(nil) + (try replicas[0].records(.item)) {
            for (field, writes) in model[view.id] ?? [:] {
                #expect(Set((view.writes[field] ?? []).map(\.id)) == Set(writes.live.keys), "seed \(seed) \(view.id).\(field)")
            }
        }
        let conflicts = try replicas[0].records(nil).reduce(0) { $0 + $1.conflicts.count }
        print("convergence seed \(seed): \(all.count) changes, \(conflicts) conflicts")
    }
}

/// One random edit of any kind; edits the replica refuses (a deleted record, an absent member)
/// are part of the game and skipped.
enum RandomEdits {
    static let titles = ["Locum cover", "Estates", "Flu uptake", "Workforce", "IG breach", "Budget"]
    static let owners = ["Cluster lead", "Practice manager", "Pharmacy lead", "CDM"]
    static let tags = ["winter", "estates", "ig", "finance"]

    static func perform(on replica: Replica, using rng: inout SplitMix64) throws {
        let records = try replica.records(nil)
        let risks = records.filter { $0.type == .risk }
        let actions = records.filter { $0.type == .action }
        let lists = records.filter { $0.type == .list }
        func pick<T>(_ xs: [T]) -> T? { xs.isEmpty ? nil : xs[Int.random(in: 0..<xs.count, using: &rng)] }
        func score() -> JSONValue {
            RiskScore(likelihood: Int.random(in: 1...5, using: &rng), consequence: Int.random(in: 1...5, using: &rng))!.jsonValue
        }
        do {
            switch Int.random(in: 0..<14, using: &rng) {
            case 0:
                _ = try replica.create(.risk, edits: [.set("title", .string(pick(titles)!)), .set("score", score())])
            case 1:
                _ = try replica.create(.action, edits: [.set("title", .string(pick(titles)!)), .set("due_date", .string("2026-12-0\(Int.random(in: 1...9, using: &rng))"))])
            case 2:
                _ = try replica.create(.list, edits: [.set("title", .string("Agenda")), .set("kind", .string("agenda"))])
            case 3, 4:
                guard let r = pick(risks) else { return }
                try replica.edit(r.id, Bool.random(using: &rng) ? .set("owner", .string(pick(owners)!)) : .set("title", .string(pick(titles)!)))
            case 5:
                guard let r = pick(risks) else { return }
                try replica.edit(r.id, .set("score", score()))
            case 6:
                guard let r = pick(risks) else { return }
                try replica.edit(r.id, .add("tags", .string(pick(tags)!)))
            case 7:
                guard let r = pick(risks), let tag = pick(r.members("tags")) else { return }
                try replica.edit(r.id, .remove("tags", tag))
            case 8:
                guard let r = pick(records) else { return }
                try replica.edit(r.id, r.isDeleted && Bool.random(using: &rng) ? .restore : .delete)
            case 9:
                guard let a = pick(actions) else { return }
                try replica.edit(a.id, .add("notes", .object(["date": .string("2026-11-23"), "text": .string("Chased")])))
            case 10:
                guard let a = pick(actions) else { return }
                try replica.edit(a.id, .set("status", .string(pick(RecordSchema.actionStatuses)!)))
            case 11:
                guard let l = pick(lists) else { return }
                let items = try replica.items(of: l.id)
                let after = pick(items)?.writes["position"]?.first?.id
                _ = try replica.create(.item, edits: [.set("list", .string(l.id.rawValue)), .set("text", .string(pick(titles)!)), .place(after: Bool.random(using: &rng) ? after : nil)])
            case 12:
                guard let l = pick(lists), let item = pick(try replica.items(of: l.id)) else { return }
                let after = pick(try replica.items(of: l.id).filter { $0.id != item.id })?.writes["position"]?.first?.id
                try replica.edit(item.id, .place(after: after))
            default:
                guard let l = pick(lists), let item = pick(try replica.items(of: l.id)) else { return }
                try replica.edit(item.id, Bool.random(using: &rng) ? .delete : .set("done", .bool(true)))
            }
        } catch let error as ClusterSyncError where error.isUserError {
            return
        }
    }
}
