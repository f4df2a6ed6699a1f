import ClusterSyncCore

/// Field values as a person reads them in conflicts and history: a score with its band, a
/// delete as "deleted", a list item's position as the item it follows.
public final class ValueText {
    public let replica: Replica
    private var owners: [RecordID: [ChangeID: RecordID]] = [:]
    private var texts: [RecordID: String?] = [:]

    public init(replica: Replica) {
        self.replica = replica
    }

    /// `value` of `field` of `record`; nil (a set remove writes none) reads as empty.
    public func text(_ value: JSONValue?, field: String, of record: RecordView) -> String {
        guard let value else { return "" }
        if let by = Redaction.redaction(ofMarker: value) { return "[redacted by \(by)]" }
        if field == Redaction.field, let change = value["change"]?.stringValue, let reason = value["reason"]?.stringValue {
            return "erased the value of \(value["field"]?.stringValue ?? "?") written by \(change): \(reason)"
        }
        if field == RecordSchema.deletedField.name {
            return value == .bool(false) ? "restored" : "deleted"
        }
        if let score = RiskScore(value) {
            return "\(score.likelihood)x\(score.consequence) = \(score.score) (\(score.band.rawValue))"
        }
        switch record.type.schema.field(field)?.kind {
        case .position: return place(value, of: record)
        case .amount: if let amount = value.stringValue { return Amount.shown(amount) }
        case .date: if value == RecordView.emptiedDate { return "no date" }
        case .choiceMap: if value == FieldMap.withdrawn { return "withdrawn" }
        default: break
        }
        if case .object(let note) = value, let text = note["text"]?.stringValue {
            return [note["date"]?.stringValue, text].compactMap { $0 }.joined(separator: " ")
        }
        return Replica.plain(value)
    }

    /// A competing value of a conflict; in an edit-against-delete conflict an edit names its field.
    public func text(_ write: FieldWrite, in conflict: RecordView.Conflict, of record: RecordView) -> String {
        let text = self.text(write.value, field: write.field, of: record)
        return write.field == conflict.field ? text : "\(write.field): \(text)"
    }

    /// `{"after": slot}` as the item the slot places: `after "Apologies"`, or `at the top`.
    public func place(_ value: JSONValue, of item: RecordView) -> String {
        guard let after = value["after"] else { return Replica.plain(value) }
        guard let slot = after.stringValue.flatMap({ ChangeID($0) }) else { return "at the top" }
        guard let list = item.string("list").flatMap({ RecordID($0) }),
              let owner = try? slotOwners(list)[slot] else { return "after slot \(slot)" }
        guard let text = itemText(owner) else { return "after \(owner)" }
        return "after \"\(text)\""
    }

    private func slotOwners(_ list: RecordID) throws -> [ChangeID: RecordID] {
        if let known = owners[list] { return known }
        let found = try replica.slotOwners(inList: list)
        owners[list] = found
        return found
    }

    private func itemText(_ id: RecordID) -> String? {
        if let known = texts[id] { return known }
        let text = (try? replica.record(id))?.flatMap { $0.string("text") }
        texts[id] = text
        return text
    }
}
