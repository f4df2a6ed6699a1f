import ClusterSyncCore

/// Ids and helpers shared by the core tests.
enum Fixtures {
    static let a = ReplicaID("5f0c9e1a2b3c4d5e")!
    static let b = ReplicaID("a3b2c1d0e9f80716")!
    static let c = ReplicaID("0e1d2c3b4a596877")!
    static let risk = RecordID("RSK-7K3M9Q2X1A")!
    static let action = RecordID("ACT-4F8R2M6W0Z")!
    static let item = RecordID("ITM-2B6D8G4K0E")!

    /// Every ordering of `items`.
    static func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        var result: [[T]] = []
        for i in items.indices {
            var rest = items
            let first = rest.remove(at: i)
            for tail in permutations(rest) { result.append([first] + tail) }
        }
        return result
    }
}
