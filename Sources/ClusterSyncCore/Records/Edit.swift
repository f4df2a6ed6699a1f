/// What a person asks to do to a record. `plan(on:)` turns it into the field write it makes,
/// naming exactly the writes it supersedes, after checking it against the schema.
public enum Edit: Sendable, Equatable {
    /// Write a register field; replaces every value it currently has, conflicting ones included.
    case set(String, JSONValue)
    /// Add a member to a set field, or append to a log field.
    case add(String, JSONValue)
    /// Remove a member from a set field (the adds this replica has seen; a concurrent add wins).
    case remove(String, JSONValue)
    /// Put a list item after the item whose position slot is given (nil: at the head).
    case place(after: ChangeID?)
    /// Tombstone the record.
    case delete
    /// Undo a delete (or settle a delete and a restore made concurrently in the restore's favour).
    case restore

    public struct Planned: Sendable, Equatable {
        public var field: String
        public var value: JSONValue?
        public var supersedes: [ChangeID]
        public var seen: [ChangeID]
    }

    /// The field a change made by this edit writes.
    public var fieldWritten: String {
        switch self {
        case .set(let field, _), .add(let field, _), .remove(let field, _): field
        case .place: "position"
        case .delete, .restore: RecordSchema.deletedField.name
        }
    }

    /// The fields of the record that `plan(on:)` reads (nil: the whole record), so that a batch
    /// of edits reads only those: the field written, and whether the record is deleted.
    public var fieldsRead: Set<String>? {
        self == .delete ? nil : [fieldWritten, RecordSchema.deletedField.name]
    }

    /// `view` is the record as this replica has it, or nil for a record being created.
    /// The name `value` repeats spelled otherwise, in a set of names or labels or among a
    /// meeting's attendees: the set would hold one person twice, and quorum and attendance
    /// count names. Checked where an edit is made, not when received: two practices may still
    /// each add their own spelling while apart, and both are kept.
    /// Other sets (a progress log's notes, hundreds of them) are not read: reading the members
    /// for each note added made an import of a long notes cell grow with the square of its notes.
    static func nameSpelledOtherwise(_ value: JSONValue, kind: FieldKind, in view: RecordView, field: String) -> String? {
        switch kind {
        case .tagSet: value.stringValue.flatMap { spelledOtherwise($0, in: view.members(field)) }
        case .attendeeSet: Attendee(value).flatMap { spelledOtherwise($0.name, in: view.members(field).compactMap { Attendee($0).map { .string($0.name) } }) }
        default: nil
        }
    }

    /// The member that `text` repeats in other capitals, accents or spacing ("dr sian evans"
    /// for "Dr Siân Evans"); the same text as written is no repeat.
    static func spelledOtherwise(_ text: String, in members: [JSONValue]) -> String? {
        let key = nameKey(text)
        return members.lazy.compactMap(\.stringValue).first { $0 != text && nameKey($0) == key }
    }

    /// A name as it compares with others: without case or accents, spaces (a pasted
    /// no-break space among them) run together, curly apostrophes and dashes as typed ones.
    static func nameKey(_ text: String) -> String {
        asciiNameKey(text) ?? anyNameKey(text)
    }

    /// `nameKey` of any text, character by character.
    static func anyNameKey(_ text: String) -> String {
        let typed = String(text.map { c -> Character in
            switch c {
            case "\u{2018}", "\u{2019}", "\u{02BC}", "`": "'"
            case "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}": "-"
            default: c
            }
        })
        return RecordOrder.folded(typed.split(whereSeparator: \.isWhitespace).joined(separator: " "))
    }

    /// `nameKey` of ASCII text in one pass over its bytes (nil for any other): most names are
    /// ASCII, and a decision log of 800 decisions works out tens of thousands of keys (over a
    /// third of `decision list`'s time went on them). ASCII's whitespace is tab to carriage
    /// return and the space; its only character the general rule rewrites is the backtick.
    private static func asciiNameKey(_ text: String) -> String? {
        var key: [UInt8] = []
        key.reserveCapacity(text.utf8.count)
        var spaceDue = false
        for byte in text.utf8 {
            switch byte {
            case 0x80...: return nil
            case 0x09...0x0D, 0x20: spaceDue = !key.isEmpty
            default:
                if spaceDue { key.append(0x20); spaceDue = false }
                switch byte {
                case UInt8(ascii: "`"): key.append(UInt8(ascii: "'"))
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): key.append(byte + 0x20)
                default: key.append(byte)
                }
            }
        }
        return String(decoding: key, as: UTF8.self)
    }

    public func plan(on view: RecordView?, type: RecordType) throws(ClusterSyncError) -> Planned {
        let schema = type.schema
        let deleted = RecordSchema.deletedField.name
        // The deleted register is written only by delete (which lists what it saw) and restore.
        switch self {
        case .set(deleted, _), .add(deleted, _), .remove(deleted, _):
            throw ClusterSyncError(.invalidValue, "\(deleted) is not edited directly; use delete or restore", field: deleted)
        default: break
        }
        if let view, view.isDeleted, self != .restore, self != .delete {
            throw ClusterSyncError(.recordDeleted, "\(view.id) is deleted; restore it before editing it")
        }
        switch self {
        case .set(let field, let value):
            try schema.validate(field: field, value: value)
            if schema.requiredText.contains(field), value.stringValue?.allSatisfy(\.isWhitespace) == true {
                throw ClusterSyncError(.invalidValue, "\(type.withArticle) needs a \(field); it cannot be empty", field: field)
            }
            guard let spec = schema.field(field), spec.kind.cardinality == .register, spec.kind != .position else {
                throw ClusterSyncError(.invalidValue, "\(field) is not a single-value field; use \(field)+=VALUE or \(field)-=VALUE", field: field)
            }
            // A set-once field takes only a value it already holds: that settles a conflict of
            // concurrent first writes in favour of one of them.
            if spec.setOnce, let current = view?.value(field), !(view?.writes[field] ?? []).contains(where: { $0.value == value }) {
                throw ClusterSyncError(.alreadySet,
                    "\(field) is set once and already holds \(RiskScore(current).map { "\($0.likelihood)x\($0.consequence)" } ?? PatientDataGuard.quotable(current.canonicalText) ?? "another value"); it cannot be changed",
                    field: field)
            }
            return Planned(field: field, value: value, supersedes: view?.liveIDs(field) ?? [], seen: [])
        case .add(let field, let value):
            try schema.validate(field: field, value: value)
            guard let spec = schema.field(field), spec.kind.cardinality != .register else {
                throw ClusterSyncError(.invalidValue, "\(field) holds one value; use \(field)=VALUE", field: field)
            }
            if let view, let same = Self.nameSpelledOtherwise(value, kind: spec.kind, in: view, field: field) {
                let quoted = PatientDataGuard.quotable(same).map { "\"\($0)\"" } ?? "a member"
                throw ClusterSyncError(.invalidValue,
                    "\(field) already holds \(quoted), the same name with other capitals, accents or spacing, so it is there already; "
                    + "to write it otherwise, remove that one first",
                    field: field)
            }
            return Planned(field: field, value: value, supersedes: [], seen: [])
        case .remove(let field, let value):
            // The kind first: a register's refusal should say why, not that it needs a value.
            guard let spec = schema.field(field) else {
                try schema.validate(field: field, value: nil)
                throw ClusterSyncError(.unknownField, "unknown field \(field)", field: field)
            }
            guard spec.kind.cardinality == .set else {
                throw ClusterSyncError(.invalidValue, "only set fields have members to remove; \(field) is not one", field: field)
            }
            let tags = view?.tags(of: value, in: field) ?? []
            guard !tags.isEmpty else {
                let member = PatientDataGuard.quotable(value.stringValue ?? value.canonicalText) ?? "that value"
                throw ClusterSyncError(.invalidValue, "\(field) does not contain \(member)", field: field)
            }
            return Planned(field: field, value: nil, supersedes: tags, seen: [])
        case .place(let after):
            guard type == .item else {
                throw ClusterSyncError(.wrongType, "only list items have a position")
            }
            let value = JSONValue.object(["after": after.map { .string($0.description) } ?? .null])
            return Planned(field: "position", value: value, supersedes: view?.liveIDs("position") ?? [], seen: [])
        case .delete:
            guard let view, view.exists else { throw ClusterSyncError(.unknownRecord, "there is nothing to delete") }
            let others = view.writes.filter { $0.key != deleted }.flatMap(\.value).map(\.id).sorted()
            return Planned(field: deleted, value: .bool(true), supersedes: view.liveIDs(deleted), seen: others)
        case .restore:
            // Also settles a delete and a restore made concurrently, whichever is shown.
            guard let view, view.isDeleted || view.liveIDs(deleted).count > 1 else {
                throw ClusterSyncError(.invalidValue, "the record is not deleted", field: deleted)
            }
            return Planned(field: deleted, value: .bool(false), supersedes: view.liveIDs(deleted), seen: [])
        }
    }
}

extension Edit {
    /// Whether this edit empties a date of a `type` record (`RecordView.emptiedDate`).
    public func emptiesADate(of type: RecordType) -> Bool {
        guard case .set(let field, let value) = self, value == RecordView.emptiedDate, case .date = type.schema.field(field)?.kind else {
            return false
        }
        return true
    }
}
