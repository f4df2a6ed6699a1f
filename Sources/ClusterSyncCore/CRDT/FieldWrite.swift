/// A write that is still live: not superseded by any change this replica has seen.
public struct FieldWrite: Hashable, Sendable {
    public var id: ChangeID
    public var hlc: HLCTimestamp
    public var field: String
    public var value: JSONValue
    public var author: String?
    /// Only on deletes: the writes the deleter saw (see `Change.seen`).
    public var seen: [ChangeID]

    public init(id: ChangeID, hlc: HLCTimestamp, field: String, value: JSONValue, author: String? = nil, seen: [ChangeID] = []) {
        self.id = id
        self.hlc = hlc
        self.field = field
        self.value = value
        self.author = author
        self.seen = seen
    }

    public init?(_ change: Change) {
        guard let value = change.value else { return nil }
        self.init(id: change.id, hlc: change.hlc, field: change.field, value: value, author: change.author, seen: change.seen)
    }

    /// The order in which competing values are shown: the latest clock first, then the greater
    /// replica id. Every replica picks the same default winner.
    public static func precedes(_ a: FieldWrite, _ b: FieldWrite) -> Bool {
        if a.hlc != b.hlc { return a.hlc > b.hlc }
        return a.id > b.id
    }
}

/// The state of one field as a set of writes and the ids known to be superseded.
///
/// This is the whole merge rule, shared by registers, sets and logs: applying a change kills the
/// writes it supersedes (remembering ids not yet seen, so a write that arrives after its
/// successor stays dead) and adds its own write unless it is already known to be dead. Applying
/// is commutative and idempotent, so replicas converge whatever order changes arrive in.
/// The replica stores the same rule in SQLite; this in-memory form defines it and tests it.
public struct FieldWrites: Sendable, Equatable {
    public private(set) var live: [ChangeID: FieldWrite] = [:]
    public private(set) var superseded: Set<ChangeID> = []

    public init() {}

    public mutating func apply(_ change: Change) {
        for id in change.supersedes {
            superseded.insert(id)
            live[id] = nil
        }
        if let write = FieldWrite(change), !superseded.contains(change.id) {
            live[change.id] = write
        }
    }

    /// Live writes in display order, default winner first.
    public var ordered: [FieldWrite] { live.values.sorted(by: FieldWrite.precedes) }
}
