/// The order of a collaborative list.
///
/// Every position write of an item is a slot in a tree: the slot stands right after the slot it
/// names (`{"after": id}`, or the head for null). Siblings are ordered latest clock first, and
/// the tree is read depth first (RGA). So concurrent inserts at one place are both kept in an
/// order every replica agrees on, and a run typed by one replica (each item after the one
/// before) stays together, never interleaved with another replica's run. A move is a new
/// position write that supersedes the old; the old slot stays in the tree, invisible, so items
/// placed after it keep their place.
public enum SequenceOrder {
    public struct Slot: Sendable, Hashable {
        public var id: ChangeID
        public var hlc: HLCTimestamp
        public var after: ChangeID?

        public init(id: ChangeID, hlc: HLCTimestamp, after: ChangeID?) {
            self.id = id
            self.hlc = hlc
            self.after = after
        }

        public init?(_ write: FieldWrite) {
            guard case .object(let o) = write.value, let after = o["after"] else { return nil }
            self.init(id: write.id, hlc: write.hlc, after: after.stringValue.flatMap { ChangeID($0) })
        }
    }

    /// Orders `visible` slot ids, given every slot ever written in the list (live or not).
    /// A slot whose anchor is unknown (not yet received) hangs off the head until it arrives.
    ///
    /// Honest clients only name slots that already exist, so the slots form a tree. A crafted
    /// change can still name its own id, or close a cycle with others; such slots cannot be
    /// reached from the head, and rather than vanish they follow the tree, visible ones latest
    /// first (the same on every replica, whatever order the changes arrived in).
    public static func order(slots: [Slot], visible: Set<ChangeID>) -> [ChangeID] {
        let known = Set(slots.map(\.id))
        var children: [ChangeID?: [Slot]] = [:]
        for slot in slots {
            let parent = slot.after.flatMap { known.contains($0) ? $0 : nil }
            children[parent, default: []].append(slot)
        }
        for key in children.keys {
            children[key]!.sort(by: precedes)
        }
        var result: [ChangeID] = []
        result.reserveCapacity(visible.count)
        var reached: Set<ChangeID> = []
        // Depth first without recursion: a long run is a deep chain.
        var stack: [Slot] = (children[nil] ?? []).reversed()
        while let slot = stack.popLast() {
            guard reached.insert(slot.id).inserted else { continue }
            if visible.contains(slot.id) { result.append(slot.id) }
            if let kids = children[slot.id] { stack.append(contentsOf: kids.reversed()) }
        }
        if reached.count < known.count {
            var seen = reached
            let stranded = slots.filter { visible.contains($0.id) && seen.insert($0.id).inserted }
            result += stranded.sorted(by: precedes).map(\.id)
        }
        return result
    }

    /// Sibling order: the latest clock first, then the greater change id.
    static func precedes(_ a: Slot, _ b: Slot) -> Bool {
        a.hlc != b.hlc ? a.hlc > b.hlc : a.id > b.id
    }
}
