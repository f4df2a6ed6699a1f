/// One change of a record's history, with what it replaced.
public struct HistoryEntry: Sendable, Equatable {
    /// What the change did, read from its field's kind and its value.
    public enum Action: String, Sendable, CaseIterable {
        /// A register written (a field's value; on a list item, not its position).
        case set
        /// A member added to a set field.
        case add
        /// A member removed from a set field.
        case remove
        /// A note appended to a log field.
        case note
        /// A list item placed: inserted, or moved.
        case place
        /// The record deleted.
        case delete
        /// A delete undone.
        case restore
        /// Another change's value erased (`after` is the redaction's request: change, field, reason).
        case redact
    }

    public var change: ChangeID
    public var hlc: HLCTimestamp
    /// Who made the change: the author the server stamped, or the replica's name before a sync.
    public var author: String?
    public var field: String
    public var action: Action
    /// The values the change replaced, default winner first: for a register write the values of
    /// the writes it superseded (several when it settled a conflict; none for a first write);
    /// for a set remove the member removed; for a delete or restore the `deleted` values before.
    /// Adds and notes replace nothing.
    public var before: [JSONValue]
    /// The value written; nil for a set remove.
    public var after: JSONValue?
    /// Every write the change superseded, in the order the change names them.
    public var supersedes: [ChangeID]
    /// Superseded writes the history does not hold, so their values are not in `before`.
    public var unknownBefore: [ChangeID]

    public var replica: ReplicaID { change.replica }

    /// The practice and person `author` names (`AuthorParts`).
    public var madeBy: AuthorParts { AuthorParts(author: author) }

    public init(
        change: ChangeID, hlc: HLCTimestamp, author: String?, field: String, action: Action,
        before: [JSONValue], after: JSONValue?, supersedes: [ChangeID], unknownBefore: [ChangeID] = []
    ) {
        self.change = change
        self.hlc = hlc
        self.author = author
        self.field = field
        self.action = action
        self.before = before
        self.after = after
        self.supersedes = supersedes
        self.unknownBefore = unknownBefore
    }
}

/// Turns the changes of one record (superseded ones included, as `Replica.history(of:)` returns
/// them) into a history a person can read: oldest first, each change with the values it
/// replaced. Pure: the replica reads the changes, this reads them as history.
public enum RecordHistory {
    /// The history of the changes given, oldest first (clock, then change id: the order every
    /// replica agrees on). A change superseding a write of another record or field (which no
    /// honest client makes, and which the merge rule ignores) does not count that write as replaced.
    public static func entries(_ changes: [Change]) -> [HistoryEntry] {
        var byID: [ChangeID: Change] = [:]
        for change in changes { byID[change.id] = change }
        let ordered = byID.values.sorted { ($0.hlc, $0.id) < ($1.hlc, $1.id) }
        return ordered.map { entry(for: $0, in: byID) }
    }

    static func entry(for change: Change, in byID: [ChangeID: Change]) -> HistoryEntry {
        var replaced: [Change] = []
        var unknown: [ChangeID] = []
        for id in change.supersedes {
            if let earlier = byID[id], earlier.record == change.record, earlier.field == change.field {
                replaced.append(earlier)
            } else {
                unknown.append(id)
            }
        }
        // The values replaced, in the order a conflict shows them (default winner first); a
        // remove's superseded adds all hold the one member, shown once.
        let writes = replaced.compactMap(FieldWrite.init).sorted(by: FieldWrite.precedes)
        var seen = Set<String>()
        let before = writes.map(\.value).filter { seen.insert($0.canonicalText).inserted }

        let kind = change.recordType.schema.field(change.field)?.kind
        let action: HistoryEntry.Action
        if change.field == Redaction.field {
            action = .redact
        } else if change.field == RecordSchema.deletedField.name {
            action = change.value == .bool(false) ? .restore : .delete
        } else {
            switch kind?.cardinality {
            case .set: action = change.value == nil ? .remove : .add
            case .log: action = .note
            default: action = kind == .position ? .place : .set
            }
        }
        return HistoryEntry(
            change: change.id, hlc: change.hlc, author: change.author, field: change.field, action: action,
            before: action == .add || action == .note || action == .redact ? [] : before, after: change.value,
            supersedes: change.supersedes, unknownBefore: unknown)
    }
}

extension HistoryEntry {
    /// The stable JSON shape of one history entry (`clustersync history --json`); `time` turns a
    /// clock reading into the wall time shown to a person.
    public func jsonValue(time: (HLCTimestamp) -> String) -> JSONValue {
        .object([
            "change": .string(change.description),
            "replica": .string(replica.rawValue),
            "hlc": .string(hlc.text),
            "time": .string(time(hlc)),
            "author": author.map(JSONValue.string) ?? .null,
            "person": madeBy.person.map(JSONValue.string) ?? .null,
            "practice": madeBy.practice.map(JSONValue.string) ?? .null,
            "field": .string(field),
            "action": .string(action.rawValue),
            "before": .array(before),
            "after": after ?? .null,
            "supersedes": .array(supersedes.map { .string($0.description) }),
        ])
    }
}
