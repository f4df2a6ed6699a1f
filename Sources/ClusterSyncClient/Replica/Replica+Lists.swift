import ClusterSyncCore

/// List operations both front ends share: finding an item, and placing one at a position.
extension Replica {
    /// Finds a list item by its 1-based position or its id.
    public static func requireItem(_ text: String, in items: [RecordView], list: RecordID) throws -> RecordView {
        if let n = Int(text) {
            guard n >= 1, n <= items.count else {
                throw ClusterSyncError(.unknownRecord, "\(list) has \(items.count) items; there is no item \(n)")
            }
            return items[n - 1]
        }
        guard let id = RecordID(typed: text), let item = items.first(where: { $0.id == id }) else {
            throw ClusterSyncError(.unknownRecord, "\(list) has no item \(text); give its number or its ITM- id")
        }
        return item
    }

    /// The position slot to insert after so that an item lands at 1-based `position` in `items`
    /// (which must not contain the item being placed).
    public static func anchor(forPosition position: Int?, in items: [RecordView]) throws -> ChangeID? {
        let target = position ?? items.count + 1
        guard target >= 1, target <= items.count + 1 else {
            throw ClusterSyncError(.invalidValue, "position must be 1 to \(items.count + 1)", field: "position")
        }
        return target == 1 ? nil : items[target - 2].writes["position"]?.first?.id
    }

    /// Moves an item of `list` to 1-based `position`, 1 to the number of items: a position past
    /// the end is refused, as adding at one is (the CLI audit: a move there went last unsaid).
    public func move(_ item: RecordID, inList list: RecordID, to position: Int) throws {
        let items = try items(of: list)
        let others = items.filter { $0.id != item }
        try edit(item, .place(after: try Self.anchor(forPosition: position, in: others)))
    }

    /// Adds an item to `list` at 1-based `position` (nil: at the end); the item is private when
    /// the list is. Returns the item's id.
    public func addItem(toList list: RecordView, text: String, owner: String? = nil, at position: Int? = nil) throws -> RecordID {
        var edits: [Edit] = [.set("list", .string(list.id.rawValue)), .set("text", .string(text))]
        if let owner { edits.append(.set("owner", .string(owner))) }
        edits.append(.place(after: try Self.anchor(forPosition: position, in: try items(of: list.id))))
        return try create(.item, private: list.scope.practice != nil, edits: edits)
    }
}
