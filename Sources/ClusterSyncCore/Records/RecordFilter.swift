import Foundation

/// What a register is filtered and ordered by: the questions people ask of it when reviewing
/// it. The one place these rules live; the CLI's `list`, the web app's registers and
/// `clustersync overdue` all call it.
public struct RecordFilter: Sendable {
    public var band: String?
    /// A record without a status counts as having its type's starting status (`RecordView.status`).
    public var status: String?
    /// Matched ignoring case, anywhere in the owner.
    public var owner: String?
    public var overdue = false
    public var escalation: String?
    public var tag: String?
    /// nil: both; true: only practice-private records; false: only cluster-shared ones.
    public var isPrivate: Bool?
    /// Each of its words matched ignoring case and accents ("sian" finds "Siân"), anywhere in
    /// the record's name, owner or category.
    public var words: String?
    public var includeDeleted = false
    /// Only what is still to be done: an action neither complete, closed nor cancelled (the
    /// action tracker's first view; with 2,000 actions after a few years, most are done).
    public var outstanding = false

    /// Only records whose `source` is one of these (`GovernanceRecords.arisingSources`: the
    /// actions arising from a meeting or a decision).
    public var source: Set<RecordID>?

    /// An action's statuses once nothing is left to do.
    public static let finishedActionStatuses: Set<String> = ["complete", "closed", "cancelled"]

    public init(band: String? = nil, status: String? = nil, owner: String? = nil, overdue: Bool = false,
                escalation: String? = nil, tag: String? = nil, isPrivate: Bool? = nil, words: String? = nil,
                includeDeleted: Bool = false, outstanding: Bool = false, source: Set<RecordID>? = nil) {
        self.band = band
        self.status = status
        self.owner = owner
        self.overdue = overdue
        self.escalation = escalation
        self.tag = tag
        self.isPrivate = isPrivate
        self.words = words.flatMap { $0.isEmpty ? nil : RecordOrder.folded($0) }
        self.includeDeleted = includeDeleted
        self.outstanding = outstanding
        self.source = source
    }

    /// This filter for a register of `type`, with each word as the register writes it (`Extreme`
    /// is `extreme`, `health board` is `health-board`); a word the register has no such value
    /// of, or a filter the register has no field for, is refused naming what it may be (the CLI
    /// audit: `--status opn` or `--band` on actions listed nothing, as if none matched).
    public func checked(for type: RecordType) throws(ClusterSyncError) -> RecordFilter {
        func word(_ typed: String?, _ option: String, _ words: [String]?) throws(ClusterSyncError) -> String? {
            guard let typed else { return nil }
            guard let words else {
                throw ClusterSyncError(.invalidValue, "--\(option) does not apply to \(type.withArticle)'s register", field: option)
            }
            let key = { (word: String) in RecordOrder.folded(word).replacingOccurrences(of: "-", with: " ") }
            guard let found = words.first(where: { key($0) == key(typed) }) else {
                throw ClusterSyncError(.invalidValue, "--\(option) must be one of \(words.joined(separator: ", ")) for \(type.withArticle); got "
                    + (PatientDataGuard.quotable(typed).map { "\"\($0)\"" } ?? "other text"), field: option)
            }
            return found
        }
        func choices(_ field: String) -> [String]? {
            if case .choice(let words)? = type.schema.field(field)?.kind { return words }
            return nil
        }
        var checked = self
        checked.status = try word(status, "status", choices("status"))
        checked.band = try word(band, "band", type.schema.field("score") == nil ? nil : RiskScore.Band.allCases.map(\.rawValue))
        checked.escalation = try word(escalation, "escalation", choices("escalation"))
        if tag != nil, type.schema.field("tags") == nil {
            throw ClusterSyncError(.invalidValue, "--tag does not apply to \(type.withArticle)'s register", field: "tag")
        }
        if owner != nil, type.schema.field("owner") == nil {
            throw ClusterSyncError(.invalidValue, "--owner does not apply to \(type.withArticle)'s register", field: "owner")
        }
        return checked
    }

    public func matches(_ view: RecordView, today: CalendarDate) -> Bool {
        if !includeDeleted, view.isDeleted { return false }
        if let status, view.status != status { return false }
        if outstanding, view.type == .action, Self.finishedActionStatuses.contains(view.status ?? "") { return false }
        if let source, view.reference("source").map(source.contains) != true { return false }
        if let band, RiskScore(view.value("score") ?? .null)?.band.rawValue != band { return false }
        // The owner and a tag as the search reads words: ignoring case and accents.
        if let owner, !RecordOrder.folded(view.string("owner") ?? "").contains(RecordOrder.folded(owner)) { return false }
        if overdue, !Self.isOverdue(view, today: today) { return false }
        if let escalation, view.escalation != escalation { return false }
        if let tag, !view.members("tags").contains(where: { $0.stringValue.map { RecordOrder.folded($0) == RecordOrder.folded(tag) } == true }) {
            return false
        }
        if let isPrivate, (view.scope.practice != nil) != isPrivate { return false }
        if let words {
            // Each word somewhere in the title, owner or category, in any order ("rhys morgan"
            // finds "Morgan, Rhys"; "LHB premises" finds "Write to LHB about premises funding").
            let searched = [view.name, view.string("owner") ?? "", view.string("category") ?? ""].map(RecordOrder.folded).joined(separator: "\n")
            if !words.split(whereSeparator: \.isWhitespace).allSatisfy({ searched.contains($0) }) { return false }
        }
        return true
    }

    /// A review date passed (risk, terms of reference) or a due date passed (action).
    public static func isOverdue(_ view: RecordView, today: CalendarDate) -> Bool {
        let derived = view.derived(today: today)
        return derived["review_overdue"] == .bool(true) || derived["rag"] == .string("red")
    }
}

/// The order a register is shown in: one column, either way, ties by name (ignoring case and
/// accents) and then by id, so the same records always come out in the same order.
public struct RecordOrder: Sendable, Equatable {
    public enum Key: String, Sendable, CaseIterable {
        /// Risk score (a record without one scores 0).
        case score
        /// Due date (read earliest first; records without one after the rest, either way).
        case due
        /// Review date (read earliest first; records without one after the rest, either way).
        case review
        /// A log's date: a meeting's or decision's `date`, a declaration's `date_declared`
        /// (read newest first, undated records last).
        case date
        case title, owner, category
        /// Status, in the order a record goes through them (`statusKey`).
        case status

        /// How the column reads unless told otherwise: highest score first, the newest of a
        /// log first, earliest due or review date first, A to Z.
        public var descendingByDefault: Bool { self == .score || self == .date }
    }

    public var key: Key
    public var descending: Bool

    public init(_ key: Key, descending: Bool? = nil) {
        self.key = key
        self.descending = descending ?? key.descendingByDefault
    }

    public func sorted(_ views: [RecordView]) -> [RecordView] {
        // Keys are worked out once per record, not per comparison: folding text is slow, and a
        // register can hold thousands of records.
        let keyed = views.map { view in (view: view, key: sortKey(of: view), name: Self.folded(view.name)) }
        return keyed.sorted { a, b in
            if a.key != b.key { return descending ? a.key > b.key : a.key < b.key }
            return (a.name, a.view.id) < (b.name, b.view.id)
        }.map(\.view)
    }

    /// A number, or text for the text columns (the number then 0).
    private func sortKey(of view: RecordView) -> SortValue {
        switch key {
        case .score: SortValue(number: RiskScore(view.value("score") ?? .null)?.score ?? 0)
        case .due: day(view.date("due_date"))
        case .review: day(view.date("review_date"))
        case .date: day(view.date("date") ?? view.date("date_declared"))
        case .title: SortValue(text: Self.folded(view.name))
        case .owner, .category: SortValue(text: Self.folded(view.string(key.rawValue) ?? ""))
        case .status: statusKey(of: view)
        }
    }

    /// A status in the order a record goes through them, as its type lists them (an action not
    /// started, in progress, complete, closed, cancelled), not A to Z, which put "cancelled"
    /// first; a status the type does not list after those, by its words.
    private func statusKey(of view: RecordView) -> SortValue {
        let status = view.status ?? ""
        guard case .choice(let words)? = view.type.schema.field("status")?.kind, let index = words.firstIndex(of: status) else {
            return SortValue(number: Int.max, text: status)
        }
        return SortValue(number: index)
    }

    /// A date as a sort key; a record without one after the rest, whichever way.
    private func day(_ date: CalendarDate?) -> SortValue {
        SortValue(number: date?.dayNumber ?? (descending ? .min : .max))
    }

    private struct SortValue: Comparable {
        var number = 0
        var text = ""
        static func < (a: SortValue, b: SortValue) -> Bool { (a.number, a.text) < (b.number, b.text) }
    }

    /// Text as it sorts: ignoring case and accents. Plain ASCII, the common case, only needs
    /// lowercasing; Foundation's folding is kept for the rest.
    public static func folded(_ text: String) -> String {
        text.utf8.allSatisfy { $0 < 0x80 } ? text.lowercased() : text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
    }
}
