/// What `list` commands filter and sort by, and what `clustersync overdue` reports: the
/// questions people ask of a register when reviewing it.
public struct RecordFilter: Sendable {
    public enum SortKey: String, Sendable, CaseIterable {
        /// Highest risk score first.
        case score
        /// Earliest due date first (records without one last).
        case due
        /// Earliest review date first (records without one last).
        case review
    }

    public var band: String?
    public var status: String?
    /// Matched ignoring case, anywhere in the owner.
    public var owner: String?
    public var overdue = false
    public var escalation: String?
    public var tag: String?
    /// nil: both; true: only practice-private records; false: only cluster-shared ones.
    public var isPrivate: Bool?

    public init(band: String? = nil, status: String? = nil, owner: String? = nil, overdue: Bool = false,
                escalation: String? = nil, tag: String? = nil, isPrivate: Bool? = nil) {
        self.band = band
        self.status = status
        self.owner = owner
        self.overdue = overdue
        self.escalation = escalation
        self.tag = tag
        self.isPrivate = isPrivate
    }

    public func matches(_ view: RecordView, today: CalendarDate) -> Bool {
        let derived = view.derived(today: today)
        if let band, derived["band"]?.stringValue != band { return false }
        if let status, view.string("status") != status { return false }
        if let owner, !(view.string("owner")?.lowercased().contains(owner.lowercased()) ?? false) { return false }
        if overdue, !Self.isOverdue(view, today: today) { return false }
        if let escalation, view.string("escalation") != escalation { return false }
        if let tag, !view.members("tags").contains(.string(tag)) { return false }
        if let isPrivate, (view.scope.practice != nil) != isPrivate { return false }
        return true
    }

    /// A review date passed (risk, terms of reference) or a due date passed (action).
    public static func isOverdue(_ view: RecordView, today: CalendarDate) -> Bool {
        let derived = view.derived(today: today)
        return derived["review_overdue"] == .bool(true) || derived["rag"] == .string("red")
    }

    public static func sorted(_ views: [RecordView], by key: SortKey) -> [RecordView] {
        func date(_ v: RecordView, _ field: String) -> Int { v.date(field)?.dayNumber ?? .max }
        switch key {
        case .score:
            return views.sorted { (-(RiskScore($0.value("score") ?? .null)?.score ?? 0), $0.id) < (-(RiskScore($1.value("score") ?? .null)?.score ?? 0), $1.id) }
        case .due:
            return views.sorted { (date($0, "due_date"), $0.id) < (date($1, "due_date"), $1.id) }
        case .review:
            return views.sorted { (date($0, "review_date"), $0.id) < (date($1, "review_date"), $1.id) }
        }
    }
}
