/// What one cluster-shared record adds to its cluster's roll-up: the few facts the counts need,
/// read from the record's view once, when it changes. The roll-up is aggregated from these at a
/// given day (`ClusterRollup(…, today:)`), so whoever keeps roll-ups (the server, as changes
/// arrive) holds one contribution per record and never rescans the log or re-reads records.
///
/// Facts that depend on the day (an overdue review, an action's RAG, whether a meeting is still
/// to come) are kept as dates and judged at aggregation, so a kept contribution never goes stale.
/// Practice-private and deleted records contribute nothing (`init?` returns nil), nor do record
/// types the roll-up does not count (lists, items, declarations, plans).
public enum RollupContribution: Sendable, Equatable, Codable {
    case risk(Risk)
    case action(Action)
    case decision(Decision)
    /// A GP Collaborative meeting: who it counted for (CND014W), besides its date and status.
    case meeting(AttendanceReport.Meeting)
    /// A meeting of any other body, for the meetings counted by body.
    case bodyMeeting(BodyMeeting)
    case terms(Terms)
    /// A practice's contribution to the cluster plan (CND015W, CND016W).
    case planContribution(PlanContribution)

    public struct PlanContribution: Sendable, Equatable, Codable {
        /// The contributing practice's id, as typed (the server names it only if registered).
        public var practice: String
        /// The QAIF year it is for.
        public var year: String
        public var date: CalendarDate?

        public init(practice: String, year: String, date: CalendarDate?) {
            self.practice = practice
            self.year = year
            self.date = date
        }
    }

    public struct BodyMeeting: Sendable, Equatable, Codable {
        /// One of `RecordSchema.bodies` other than the GP Collaborative.
        public var body: String
        public var date: CalendarDate
        /// `held`, `scheduled` or nil (cancelled meetings are not kept).
        public var status: String?

        public init(body: String, date: CalendarDate, status: String?) {
            self.body = body
            self.date = date
            self.status = status
        }
    }

    public struct Risk: Sendable, Equatable, Codable {
        /// Nil when the risk has not been scored.
        public var likelihood: Int?
        public var consequence: Int?
        /// `open` or `closed` (a risk with no status is open).
        public var status: String
        public var reviewDate: CalendarDate?
        /// One of `RecordSchema.escalationLevels`, or nil when not set.
        public var escalation: String?
        /// One of `RecordSchema.riskCategories`, or nil when not set (and in rows kept before
        /// the forty-second session, until recomputed).
        public var category: String?

        public init(likelihood: Int?, consequence: Int?, status: String, reviewDate: CalendarDate?, escalation: String?,
                    category: String? = nil) {
            self.likelihood = likelihood
            self.consequence = consequence
            self.status = status
            self.reviewDate = reviewDate
            self.escalation = escalation
            self.category = category
        }

        public var score: RiskScore? {
            guard let likelihood, let consequence else { return nil }
            return RiskScore(likelihood: likelihood, consequence: consequence)
        }
    }

    public struct Action: Sendable, Equatable, Codable {
        /// One of `RecordSchema.actionStatuses` (an action with no status is not started).
        public var status: String
        public var dueDate: CalendarDate?

        public init(status: String, dueDate: CalendarDate?) {
            self.status = status
            self.dueDate = dueDate
        }

        public func rag(today: CalendarDate) -> BRAG { BRAG.rate(status: status, dueDate: dueDate, today: today) }
    }

    public struct Decision: Sendable, Equatable, Codable {
        /// `agreed`, `rejected`, `deferred`, or nil while not recorded.
        public var outcome: String?
        /// The decision's own date (a decision without one counts in the totals only).
        public var date: CalendarDate?
        /// Marked as having financial implications (nil: not marked, or kept before the
        /// forty-second session).
        public var financial: Bool?
        /// The sum involved, in pence (a number, never text: the roll-up carries no free text).
        public var amountPence: Int64?

        public init(outcome: String?, date: CalendarDate?, financial: Bool? = nil, amountPence: Int64? = nil) {
            self.outcome = outcome
            self.date = date
            self.financial = financial
            self.amountPence = amountPence
        }
    }

    public struct Terms: Sendable, Equatable, Codable {
        public var id: RecordID
        public var body: String
        public var dateAgreed: CalendarDate
        public var reviewDate: CalendarDate?
        /// For the GP Collaborative's terms: the practices whose attendance is reported.
        public var practices: [String]

        public init(id: RecordID, body: String, dateAgreed: CalendarDate, reviewDate: CalendarDate?, practices: [String]) {
            self.id = id
            self.body = body
            self.dateAgreed = dateAgreed
            self.reviewDate = reviewDate
            self.practices = practices
        }
    }

    /// The record's contribution, or nil when it adds nothing: a practice-private record (its
    /// practice's own, never counted), a deleted one, or a type the roll-up does not count.
    public init?(_ view: RecordView) {
        guard view.scope.practice == nil, view.exists, !view.isDeleted else { return nil }
        switch view.type {
        case .risk:
            let score = view.value("score").flatMap(RiskScore.init)
            self = .risk(Risk(likelihood: score?.likelihood, consequence: score?.consequence,
                              status: view.string("status") ?? "open", reviewDate: view.date("review_date"),
                              escalation: view.escalation, category: view.string("category")))
        case .action:
            self = .action(Action(status: view.string("status") ?? "not-started", dueDate: view.date("due_date")))
        case .decision:
            self = .decision(Decision(outcome: view.string("outcome"), date: view.date("date"),
                                      financial: view.value("financial_implications")?.boolValue,
                                      amountPence: view.string("amount").flatMap(Amount.pence)))
        case .meeting:
            if let meeting = AttendanceReport.Meeting(view) {
                self = .meeting(meeting)
            } else {
                guard let m = AttendanceReport.countedMeeting(view), m.body != AttendanceReport.body else { return nil }
                self = .bodyMeeting(BodyMeeting(body: m.body, date: m.date, status: m.status))
            }
        case .terms:
            guard let body = view.string("body"), let agreed = view.date("date_agreed") else { return nil }
            self = .terms(Terms(id: view.id, body: body, dateAgreed: agreed, reviewDate: view.date("review_date"),
                                practices: view.members("practices").compactMap(\.stringValue)))
        case .contribution:
            guard let practice = view.string("contributor"), let year = view.string("year").flatMap(QAIFYear.init) else { return nil }
            self = .planContribution(PlanContribution(practice: practice, year: year.description, date: view.date("date")))
        case .list, .item, .declaration, .plan:
            return nil
        }
    }
}

extension RollupContribution {
    /// The fields a record's contribution is read from, besides whether the record exists (has
    /// a live write) and is deleted; nil for a type that never contributes. A value written to
    /// any other field of a record that exists already cannot change what it contributes.
    /// `RollupTests` writes every other schema field of each type and checks just that.
    public static func inputs(of type: RecordType) -> Set<String>? {
        switch type {
        case .risk: ["score", "status", "review_date", "escalation", "category"]
        case .action: ["status", "due_date"]
        case .decision: ["outcome", "date", "financial_implications", "amount"]
        case .meeting: ["body", "status", "date", "attendees"]
        case .terms: ["body", "date_agreed", "review_date", "practices"]
        case .contribution: ["contributor", "year", "date"]
        case .list, .item, .declaration, .plan: nil
        }
    }

    /// Whether `changes` (to one cluster-shared record) may change its contribution, given
    /// whether it had one before: a record that contributed nothing may start to (its first
    /// write, whatever the field), a removal may leave a record without a live write, and a
    /// redaction may erase the value of an input.
    public static func mayChange(_ type: RecordType, by changes: some Sequence<Change>, hadContribution: Bool) -> Bool {
        guard let inputs = inputs(of: type) else { return false }
        guard hadContribution else { return true }
        return changes.contains {
            $0.value == nil || $0.field == RecordSchema.deletedField.name || $0.field == Redaction.field || inputs.contains($0.field)
        }
    }
}
