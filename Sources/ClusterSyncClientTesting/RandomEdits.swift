import ClusterSyncClient
import ClusterSyncCore

// For tests that need practices editing at random: the client's convergence tests and the
// server's compaction and PostgreSQL convergence tests run the same edits.

/// One random edit of any kind; edits the replica refuses (a deleted record, an absent member)
/// are part of the game and skipped.
public enum RandomEdits {
    public static let titles = ["Locum cover", "Estates", "Flu uptake", "Workforce", "IG breach", "Budget"]
    public static let owners = ["Cluster lead", "Practice manager", "Pharmacy lead", "CDM"]
    public static let tags = ["winter", "estates", "ig", "finance"]

    public static func perform(on replica: Replica, using rng: inout SplitMix64) throws {
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
