/// A record as a replica sees it: its live writes, read through its schema.
public struct RecordView: Sendable, Equatable {
    public var id: RecordID
    public var scope: RecordScope
    /// Live writes per field, default winner first (clock order for logs).
    public private(set) var writes: [String: [FieldWrite]]

    public init(id: RecordID, scope: RecordScope, liveWrites: some Sequence<FieldWrite>) {
        self.id = id
        self.scope = scope
        var byField: [String: [FieldWrite]] = [:]
        for write in liveWrites { byField[write.field, default: []].append(write) }
        for (field, list) in byField where list.count > 1 {
            byField[field] = Self.ordered(list, field: field, type: id.type)
        }
        self.writes = byField
    }

    /// A field's live writes in the order `writes` keeps them.
    private static func ordered(_ list: [FieldWrite], field: String, type: RecordType) -> [FieldWrite] {
        if type.schema.field(field)?.kind.cardinality == .log {
            list.sorted { ($0.hlc, $0.id) < ($1.hlc, $1.id) }
        } else {
            list.sorted(by: FieldWrite.precedes)
        }
    }

    /// The view after `change` is applied to `view` (nil: a record with no live writes), as a
    /// store leaves it: the writes it supersedes in its field gone, its own write live unless
    /// it removes; nil when no live write is left. Only the change's field is touched, so a
    /// view holding some fields only stays true for those.
    public static func applying(_ change: Change, to view: RecordView?) -> RecordView? {
        var result = view ?? RecordView(id: change.record, scope: change.scope, liveWrites: [])
        var list = result.writes[change.field] ?? []
        if !change.supersedes.isEmpty {
            let superseded = Set(change.supersedes)
            list.removeAll { superseded.contains($0.id) }
        }
        if let write = FieldWrite(change) {
            list.append(write)
            if list.count > 1 { list = ordered(list, field: change.field, type: change.record.type) }
        }
        result.writes[change.field] = list.isEmpty ? nil : list
        return result.writes.isEmpty ? nil : result
    }

    public var type: RecordType { id.type }

    /// How a record is named to people: its title, a list item's text, a member's name.
    public var name: String {
        string("title") ?? string("text") ?? string("member") ?? contributionName ?? type.rawValue
    }

    /// A contribution by its practice and QAIF year: "prestatyn, 2026-27".
    private var contributionName: String? {
        guard type == .contribution, let contributor = string("contributor") else { return nil }
        return string("year").map { "\(contributor), \($0)" } ?? contributor
    }

    /// The level a risk is escalated to, as oversight, the roll-up and the board report read it.
    /// While any live value of `escalation` is beyond the cluster (the lead's `pcpg` and a
    /// practice's `cluster` written without seeing it, in conflict), the highest of those: a
    /// concurrent write cannot take a risk out of the PCPG's or Health Board's view; only the
    /// lead's write superseding the level can (`LeadPowers.withdrawEscalation`).
    public var escalation: String? {
        let live = (writes["escalation"] ?? []).compactMap(\.value.stringValue)
        // `OversightReach.levels` runs lowest first: the highest live one is the level.
        for level in OversightReach.levels.reversed() where live.contains(level) { return level }
        return string("escalation")
    }

    /// For a cluster-shared risk escalated beyond the cluster: the day its level (`escalation`)
    /// was written, the earliest such write when several are live. Read from the live writes,
    /// so settling a conflict over the level, or writing it again, starts it again (README,
    /// Known limits).
    public var escalatedOn: CalendarDate? {
        guard type == .risk, scope.practice == nil, let level = escalation, LeadPowers.beyondTheCluster.contains(level),
              let written = writes["escalation"]?.filter({ $0.value.stringValue == level }).map(\.hlc).min() else { return nil }
        return CalendarDate(unixMillis: written.millis)
    }

    /// The date a record falls overdue on: an action's due date, else its review date.
    public var overdueDate: CalendarDate? {
        type == .action ? date("due_date") : date("review_date")
    }

    /// The record's status, or its type's starting status when it has none (a record made
    /// exactly as given, or whose status was cleared): what registers filter and count by.
    public var status: String? {
        string("status") ?? NewRecordDefaults.startingStatus(of: type)
    }

    /// The shown value of a register field: the default winner among its live writes. A date
    /// emptied (`emptiedDate`) reads as none.
    public func value(_ field: String) -> JSONValue? {
        guard let value = writes[field]?.first?.value else { return nil }
        if value == Self.emptiedDate, case .date = type.schema.field(field)?.kind { return nil }
        return value
    }

    /// The value that empties a date field: a date set by mistake (a withdrawal that never
    /// happened) is taken back by writing it, and the record then reads as if the date had
    /// never been set (changes.md §6). A write like any other, so two practices emptying and
    /// changing one date meanwhile are in conflict, and history keeps the date that was there.
    public static let emptiedDate = JSONValue.string("")

    public func string(_ field: String) -> String? { value(field)?.stringValue }

    /// The record a link field names (`source`, an item's `list`, a plan's `priorities`), or nil.
    public func reference(_ field: String) -> RecordID? { string(field).flatMap { RecordID($0) } }

    /// The records a set of links names (`linked_actions`, a plan's `risks`), in canonical order.
    public func references(_ field: String) -> [RecordID] { members(field).compactMap { $0.stringValue.flatMap { RecordID($0) } } }

    /// The members of a set field, in canonical order.
    public func members(_ field: String) -> [JSONValue] {
        // Each member's text is made once, not at every comparison of the sort.
        var byText: [String: JSONValue] = [:]
        for write in writes[field] ?? [] { byText[write.value.canonicalText] = write.value }
        return byText.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The writes that currently count as members of a set field holding `value`: a remove must
    /// supersede exactly these.
    public func tags(of value: JSONValue, in field: String) -> [ChangeID] {
        (writes[field] ?? []).filter { $0.value == value }.map(\.id)
    }

    /// Every live write of a field (a register's siblings, a set's adds).
    public func liveIDs(_ field: String) -> [ChangeID] { (writes[field] ?? []).map(\.id) }

    public var isDeleted: Bool { value(RecordSchema.deletedField.name)?.boolValue ?? false }

    /// Whether the record has ever been written (a record known only by reference is empty).
    public var exists: Bool { !writes.isEmpty }

    /// Live writes of other fields that no live delete saw: edits concurrent with the delete.
    public var editsAgainstDelete: [FieldWrite] {
        guard isDeleted else { return [] }
        let deletes = (writes[RecordSchema.deletedField.name] ?? []).filter { $0.value == .bool(true) }
        let seen = Set(deletes.flatMap(\.seen))
        return writes.filter { $0.key != RecordSchema.deletedField.name }
            .flatMap(\.value).filter { !seen.contains($0.id) }
            .sorted(by: FieldWrite.precedes)
    }

    public var conflicts: [Conflict] {
        var result: [Conflict] = []
        for spec in [RecordSchema.deletedField] + type.schema.fields where spec.kind.cardinality == .register {
            // Writes that agree are no conflict: two practices restoring, closing or moving to
            // the same place. Both stay live, so the next write (or a resolution) supersedes both.
            if let live = writes[spec.name], live.count > 1, Set(live.map(\.value)).count > 1 {
                result.append(Conflict(field: spec.name, kind: .concurrentValues, values: live))
            }
        }
        result += mapConflicts
        let concurrent = editsAgainstDelete
        if !concurrent.isEmpty {
            let deletes = (writes[RecordSchema.deletedField.name] ?? []).filter { $0.value == .bool(true) }
            result.append(Conflict(field: RecordSchema.deletedField.name, kind: .editAgainstDelete, values: deletes + concurrent))
        }
        return result
    }

    public struct Conflict: Sendable, Equatable {
        public enum Kind: String, Sendable {
            /// Two or more values written to one field without seeing each other.
            case concurrentValues = "concurrent-values"
            /// A delete, and edits made without seeing it.
            case editAgainstDelete = "edit-against-delete"
        }

        public var field: String
        public var kind: Kind
        public var values: [FieldWrite]
    }
}

extension RecordView {
    /// Values computed from fields, never stored: a risk's score and band, an action's BRAG and
    /// how far its due date moved.
    public func derived(today: CalendarDate) -> [String: JSONValue] {
        switch type {
        case .risk:
            var d: [String: JSONValue] = [:]
            if let score = value("score").flatMap(RiskScore.init) {
                d["score"] = .int(Int64(score.score))
                d["band"] = .string(score.band.rawValue)
            }
            if let initial = value("initial_score").flatMap(RiskScore.init) { d["initial_score"] = .int(Int64(initial.score)) }
            if let target = value("target_score").flatMap(RiskScore.init) { d["target_score"] = .int(Int64(target.score)) }
            if let review = string("review_date").flatMap(CalendarDate.init), string("status") != "closed" {
                d["review_overdue"] = .bool(review < today)
            }
            // A score of 15 or more is the common trigger for escalating beyond the cluster: an
            // open shared risk there, not escalated beyond it, is flagged for the lead to consider.
            if scope.practice == nil, RiskScore.suggestsEscalation(value("score").flatMap(RiskScore.init), status: status, escalation: escalation) {
                d["escalation_suggested"] = .bool(true)
            }
            // How long an open risk has waited beyond the cluster (PCPG audit: nothing said when
            // it was escalated): the day the level it is at was written.
            if let escalatedOn, status == "open" {
                d["escalated_on"] = .string(escalatedOn.description)
                // Never negative: a write from a clock set ahead is escalated today.
                d["escalated_days"] = .int(Int64(max(0, today.dayNumber - escalatedOn.dayNumber)))
            }
            return d
        case .action:
            let rag = BRAG.rate(status: string("status"), dueDate: string("due_date").flatMap(CalendarDate.init), today: today)
            var d: [String: JSONValue] = ["rag": .string(rag.rawValue)]
            // A due date moved is seen against the one first agreed (negative: brought forward).
            if let due = date("due_date"), let original = date("original_due_date"), due != original {
                d["due_moved_days"] = .int(Int64(due.dayNumber - original.dayNumber))
            }
            return d
        case .list, .item, .meeting, .decision, .plan:
            return [:]
        case .terms:
            guard let review = date("review_date") else { return [:] }
            return ["review_overdue": .bool(review < today)]
        case .declaration:
            guard date("date_declared") != nil else { return [:] }
            return ["in_force": .bool(isInForce(from: today, to: today))]
        case .contribution:
            guard let year = string("year").flatMap(QAIFYear.init) else { return [:] }
            var d: [String: JSONValue] = ["deadline": .string(year.contributionDeadline.description)]
            if let made = date("date") { d["on_time"] = .bool(made <= year.contributionDeadline) }
            return d
        }
    }
}

extension RecordView {
    /// Whether a declaration of interest is in force on some day from `first` to `last`: declared
    /// on or before `last`, and not withdrawn on or before `first` (it is in force on a day while
    /// withdrawn after it). The one rule for `in_force`, the interests a meeting or a decision
    /// meets, and the board report's register.
    public func isInForce(from first: CalendarDate, to last: CalendarDate) -> Bool {
        guard let declared = date("date_declared"), declared <= last else { return false }
        return date("date_withdrawn").map { $0 > first } ?? true
    }
}
