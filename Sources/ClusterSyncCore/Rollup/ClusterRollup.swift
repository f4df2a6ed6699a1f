/// A cluster's governance picture in counts, for a PCPG, a Health Board or the cluster's own
/// annual report: aggregated from its cluster-shared records' contributions on a given day.
/// It carries counts and dates only, never free text (no titles, owners or names), so it can
/// go to readers who may not see the records themselves.
///
/// Built from `RollupContribution`s (one per record, kept as changes arrive) so the holder can
/// aggregate cheaply at any time; `ClusterRollup(tenant:cluster:records:today:)` is the same
/// from record views. Regions merge cluster roll-ups (`RegionRollup`).
public struct ClusterRollup: Sendable, Equatable, Codable {
    public var tenant: String
    public var cluster: String
    /// The region (a PCPG's county) the server has the cluster in, in the roll-ups it sends
    /// (`namingOnly`); nil in a practice's own, and for a cluster in no region.
    public var region: String?
    public var today: CalendarDate
    public var risks: RiskCounts
    public var actions: ActionCounts
    public var decisions: DecisionCounts
    public var attendance: AttendanceCounts
    public var terms: TermsCounts
    /// Practices' contributions to the cluster plan (CND015W, CND016W), for the QAIF year
    /// containing the day and the one before (whose 30 September deadline has passed).
    public var planContributions: PlanContributionCounts
    /// Meetings of each body in the financial year containing the day.
    public var meetings: MeetingCounts
    /// The practices the server registered in the cluster, by kind (`PracticeKind`), in the
    /// roll-ups it sends (`namingOnly`); all 0 in a practice's own, whose replica does not know
    /// them.
    public var practicesByKind = Self.noPractices

    /// 0 for every kind, so the JSON shape never depends on what is registered.
    public static let noPractices = Dictionary(uniqueKeysWithValues: PracticeKind.allCases.map { ($0.rawValue, 0) })

    public init(tenant: String, cluster: String, contributions: some Sequence<RollupContribution>, today: CalendarDate) {
        self.tenant = tenant
        self.cluster = cluster
        self.today = today
        let year = FinancialYear(containing: today)
        risks = RiskCounts()
        actions = ActionCounts()
        decisions = DecisionCounts(year: year)
        var meetingCounts = MeetingCounts(year: year)
        var meetings: [AttendanceReport.Meeting] = []
        var terms: [RollupContribution.Terms] = []
        var made: [RollupContribution.PlanContribution] = []
        for contribution in contributions {
            switch contribution {
            case .risk(let risk): risks.add(risk, today: today)
            case .action(let action): actions.add(action, today: today)
            case .decision(let decision): decisions.add(decision, year: year)
            case .meeting(let meeting):
                meetings.append(meeting)
                meetingCounts.add(body: AttendanceReport.body, date: meeting.date, status: meeting.status, year: year, today: today)
            case .bodyMeeting(let m): meetingCounts.add(body: m.body, date: m.date, status: m.status, year: year, today: today)
            case .terms(let t): terms.append(t)
            case .planContribution(let c): made.append(c)
            }
        }
        planContributions = PlanContributionCounts(cluster: cluster, made: made, today: today)
        self.meetings = meetingCounts
        // Practices listed for attendance: those in the GP Collaborative's terms of reference
        // agreed by the year's end (as `clustersync attendance`), and any that attended.
        let qaif = QAIFYear(containing: today)
        let listed = terms.filter { $0.body == AttendanceReport.body && $0.dateAgreed <= qaif.last }.flatMap(\.practices)
        let report = AttendanceReport(meetings: meetings, practices: Set(listed), year: qaif, today: today)
        attendance = AttendanceCounts(cluster: cluster, report: report)
        self.terms = TermsCounts(cluster: cluster, terms: terms, today: today)
    }

    enum CodingKeys: String, CodingKey {
        case tenant, cluster, region, today, risks, actions, decisions, attendance, terms
        case planContributions = "plan_contributions", practicesByKind = "practices_by_kind", meetings
    }

    /// As synthesised, except that a roll-up from before `plan_contributions` (a server or a
    /// replica file of an earlier version) reads it as none made, and one from before
    /// `practices_by_kind` or `meetings` as none registered or counted.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tenant = try c.decode(String.self, forKey: .tenant)
        cluster = try c.decode(String.self, forKey: .cluster)
        region = try c.decodeIfPresent(String.self, forKey: .region)
        today = try c.decode(CalendarDate.self, forKey: .today)
        risks = try c.decode(RiskCounts.self, forKey: .risks)
        actions = try c.decode(ActionCounts.self, forKey: .actions)
        decisions = try c.decode(DecisionCounts.self, forKey: .decisions)
        attendance = try c.decode(AttendanceCounts.self, forKey: .attendance)
        terms = try c.decode(TermsCounts.self, forKey: .terms)
        planContributions = try c.decodeIfPresent(PlanContributionCounts.self, forKey: .planContributions)
            ?? PlanContributionCounts(cluster: cluster, made: [], today: today)
        practicesByKind = try c.decodeIfPresent([String: Int].self, forKey: .practicesByKind) ?? Self.noPractices
        meetings = try c.decodeIfPresent(MeetingCounts.self, forKey: .meetings) ?? MeetingCounts(year: FinancialYear(containing: today), reported: false)
    }

    /// The roll-up of record views (any records of the cluster; private ones count nothing).
    public init(tenant: String, cluster: String, records: some Sequence<RecordView>, today: CalendarDate) {
        self.init(tenant: tenant, cluster: cluster,
                  contributions: records.lazy.filter { $0.scope.tenant == tenant && $0.scope.cluster == cluster }.compactMap(RollupContribution.init),
                  today: today)
    }
}

/// Several clusters' roll-ups (a PCPG's county, or a Health Board's whole tenant) and their
/// totals. Each cluster keeps its own figures; the totals add them up.
public struct RegionRollup: Sendable, Equatable, Codable {
    public var tenant: String
    /// The region's name, or nil for a whole tenant.
    public var region: String?
    public var today: CalendarDate
    public var clusters: [ClusterRollup]
    public var risks: RiskCounts
    public var actions: ActionCounts
    public var decisions: DecisionCounts
    public var attendance: AttendanceCounts
    public var terms: TermsCounts
    public var planContributions: PlanContributionCounts
    public var meetings: MeetingCounts
    public var practicesByKind: [String: Int]

    /// The roll-up's clusters added up region by region (a Health Board's PCPGs), by region
    /// name, clusters in no region last.
    public var byRegion: [RegionRollup] {
        Dictionary(grouping: clusters) { $0.region }
            .sorted { ($0.key == nil ? 1 : 0, $0.key ?? "") < ($1.key == nil ? 1 : 0, $1.key ?? "") }
            .map { RegionRollup(tenant: tenant, region: $0.key, clusters: $0.value) }
    }

    /// Practices as a list of them reads: each with its cluster in brackets when the roll-up
    /// spans several clusters (a practice's id is only unique within its cluster).
    public func named(_ practices: [AttendanceCounts.Unlisted]) -> String {
        practices.map { clusters.count > 1 ? "\($0.practice) (\($0.cluster))" : $0.practice }.joined(separator: ", ")
    }

    /// `clusters` should share one `today` (the first one's is used); they are listed by name.
    public init(tenant: String, region: String?, clusters: [ClusterRollup]) {
        self.tenant = tenant
        self.region = region
        let sorted = clusters.sorted { $0.cluster < $1.cluster }
        self.clusters = sorted
        let today = sorted.first?.today ?? CalendarDate(year: 1970, month: 1, day: 1)
        self.today = today
        risks = sorted.map(\.risks).reduce(RiskCounts(), +)
        actions = sorted.map(\.actions).reduce(ActionCounts(), +)
        decisions = sorted.map(\.decisions).reduce(DecisionCounts(year: FinancialYear(containing: today)), +)
        attendance = sorted.map(\.attendance).reduce(AttendanceCounts(year: QAIFYear(containing: today)), +)
        terms = sorted.map(\.terms).reduce(TermsCounts(), +)
        planContributions = sorted.map(\.planContributions).reduce(PlanContributionCounts(cluster: "", made: [], today: today), +)
        practicesByKind = sorted.map(\.practicesByKind).reduce(ClusterRollup.noPractices, sum)
        meetings = sorted.map(\.meetings).reduce(MeetingCounts(year: FinancialYear(containing: today)), +)
    }

    enum CodingKeys: String, CodingKey {
        case tenant, region, today, clusters, risks, actions, decisions, attendance, terms
        case planContributions = "plan_contributions", practicesByKind = "practices_by_kind", meetings
    }

    /// The totals are the clusters' sums, so they are added up again from the clusters read
    /// (each decoded as `ClusterRollup` decodes, a key added since read as none) rather than
    /// read a second time.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(tenant: try c.decode(String.self, forKey: .tenant), region: try c.decodeIfPresent(String.self, forKey: .region),
                  clusters: try c.decode([ClusterRollup].self, forKey: .clusters))
        today = try c.decode(CalendarDate.self, forKey: .today)
    }

    /// Written out so that `region` is `null` for a whole tenant rather than left out.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tenant, forKey: .tenant)
        try c.encode(region, forKey: .region)
        try c.encode(today, forKey: .today)
        try c.encode(clusters, forKey: .clusters)
        try c.encode(risks, forKey: .risks)
        try c.encode(actions, forKey: .actions)
        try c.encode(decisions, forKey: .decisions)
        try c.encode(attendance, forKey: .attendance)
        try c.encode(terms, forKey: .terms)
        try c.encode(planContributions, forKey: .planContributions)
        try c.encode(practicesByKind, forKey: .practicesByKind)
        try c.encode(meetings, forKey: .meetings)
    }

    /// "3 GP, 1 pharmacy": the registered practices by kind, kinds with none left out; nil
    /// when none is registered (a practice's own roll-up, or an earlier server's).
    public var practicesShown: String? {
        let counted = PracticeKind.allCases.compactMap { kind in
            (practicesByKind[kind.rawValue] ?? 0) > 0 ? "\(practicesByKind[kind.rawValue] ?? 0) \(kind.shown)" : nil
        }
        return counted.isEmpty ? nil : counted.joined(separator: ", ")
    }
}

// MARK: The figures

/// Zero for every key, so the JSON shape never depends on what happens to exist.
func zeros(_ keys: [String]) -> [String: Int] { Dictionary(uniqueKeysWithValues: keys.map { ($0, 0) }) }

func sum(_ a: [String: Int], _ b: [String: Int]) -> [String: Int] { a.merging(b, uniquingKeysWith: +) }

public struct RiskCounts: Sendable, Equatable, Codable {
    /// Band names, and `unscored` for a risk without a score.
    public static let bands = RiskScore.Band.allCases.map(\.rawValue) + ["unscored"]

    /// Every live cluster-shared risk.
    public var total = 0
    /// By status: `open`, `closed`.
    public var byStatus = zeros(RecordSchema.riskStatuses)
    /// Open risks by band.
    public var byBand = zeros(RiskCounts.bands)
    /// Every risk by status, then band.
    public var byStatusAndBand = Dictionary(uniqueKeysWithValues: RecordSchema.riskStatuses.map { ($0, zeros(RiskCounts.bands)) })
    /// Open scored risks on the 5x5 matrix.
    public var matrix = RiskMatrix()
    /// Open risks whose review date has passed.
    public var reviewOverdue = 0
    /// Open risks by escalation level (`none` when not set).
    public var escalation = zeros(RecordSchema.escalationLevels + ["none"])
    /// Open risks scored at the escalation trigger or above and not escalated beyond the
    /// cluster (`RiskScore.suggestsEscalation`): what a PCPG may ask a cluster about.
    public var escalationSuggested = 0
    /// Open risks by category (`none` when not set): the same kind of risk held in several
    /// clusters is what a PCPG plans for across them. A word from a fixed list, never text.
    public var byCategory = zeros(RecordSchema.riskCategories + ["none"])

    public init() {}

    /// As synthesised, except that a roll-up from before `escalation_suggested` (a server or a
    /// replica file of an earlier version) reads as none suggested rather than failing.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        total = try c.decode(Int.self, forKey: .total)
        byStatus = try c.decode([String: Int].self, forKey: .byStatus)
        byBand = try c.decode([String: Int].self, forKey: .byBand)
        byStatusAndBand = try c.decode([String: [String: Int]].self, forKey: .byStatusAndBand)
        matrix = try c.decode(RiskMatrix.self, forKey: .matrix)
        reviewOverdue = try c.decode(Int.self, forKey: .reviewOverdue)
        escalation = try c.decode([String: Int].self, forKey: .escalation)
        escalationSuggested = try c.decodeIfPresent(Int.self, forKey: .escalationSuggested) ?? 0
        byCategory = try c.decodeIfPresent([String: Int].self, forKey: .byCategory) ?? zeros(RecordSchema.riskCategories + ["none"])
    }

    mutating func add(_ risk: RollupContribution.Risk, today: CalendarDate) {
        total += 1
        let status = RecordSchema.riskStatuses.contains(risk.status) ? risk.status : "open"
        let band = risk.score?.band.rawValue ?? "unscored"
        byStatus[status, default: 0] += 1
        byStatusAndBand[status, default: zeros(Self.bands)][band, default: 0] += 1
        guard status == "open" else { return }
        byBand[band, default: 0] += 1
        if let score = risk.score { matrix.add(score) }
        if let review = risk.reviewDate, review < today { reviewOverdue += 1 }
        escalation[risk.escalation ?? "none", default: 0] += 1
        if RiskScore.suggestsEscalation(risk.score, status: status, escalation: risk.escalation) { escalationSuggested += 1 }
        byCategory[risk.category.flatMap { RecordSchema.riskCategories.contains($0) ? $0 : nil } ?? "none", default: 0] += 1
    }

    public static func + (a: RiskCounts, b: RiskCounts) -> RiskCounts {
        var s = a
        s.total += b.total
        s.byStatus = sum(a.byStatus, b.byStatus)
        s.byBand = sum(a.byBand, b.byBand)
        s.byStatusAndBand = a.byStatusAndBand.merging(b.byStatusAndBand, uniquingKeysWith: sum)
        s.matrix = a.matrix + b.matrix
        s.reviewOverdue += b.reviewOverdue
        s.escalation = sum(a.escalation, b.escalation)
        s.escalationSuggested += b.escalationSuggested
        s.byCategory = sum(a.byCategory, b.byCategory)
        return s
    }

    enum CodingKeys: String, CodingKey {
        case total, matrix, escalation
        case byStatus = "by_status", byBand = "by_band", byStatusAndBand = "by_status_and_band", reviewOverdue = "review_overdue"
        case escalationSuggested = "escalation_suggested", byCategory = "by_category"
    }
}

public struct ActionCounts: Sendable, Equatable, Codable {
    public var total = 0
    /// By BRAG rating on the day: `blue`, `red`, `amber`, `green`, `none` (cancelled).
    public var byRAG = zeros(BRAG.allCases.map(\.rawValue))
    public var byStatus = zeros(RecordSchema.actionStatuses)
    /// Actions past their due date and not complete, closed or cancelled (RAG red).
    public var overdue = 0
    /// Overdue actions by status (`not-started`, `in-progress`).
    public var overdueByStatus = zeros(RecordSchema.actionStatuses)

    public init() {}

    mutating func add(_ action: RollupContribution.Action, today: CalendarDate) {
        total += 1
        let rag = action.rag(today: today)
        byRAG[rag.rawValue, default: 0] += 1
        byStatus[action.status, default: 0] += 1
        if rag == .red {
            overdue += 1
            overdueByStatus[action.status, default: 0] += 1
        }
    }

    public static func + (a: ActionCounts, b: ActionCounts) -> ActionCounts {
        var s = a
        s.total += b.total
        s.byRAG = sum(a.byRAG, b.byRAG)
        s.byStatus = sum(a.byStatus, b.byStatus)
        s.overdue += b.overdue
        s.overdueByStatus = sum(a.overdueByStatus, b.overdueByStatus)
        return s
    }

    enum CodingKeys: String, CodingKey {
        case total, overdue
        case byRAG = "by_rag", byStatus = "by_status", overdueByStatus = "overdue_by_status"
    }
}

public struct DecisionCounts: Sendable, Equatable, Codable {
    public static let outcomes = RecordSchema.decisionOutcomes + ["none"]

    public var total = 0
    /// By recorded outcome (`none` while not recorded).
    public var byOutcome = zeros(DecisionCounts.outcomes)
    /// The financial year containing the roll-up's day (`2026-27`).
    public var year: String
    /// Decisions dated in that year, by outcome.
    public var yearByOutcome = zeros(DecisionCounts.outcomes)
    /// Decisions dated in that year with financial implications, by outcome (guide §3.11:
    /// assurance that cluster funds are used well; the Health Board delegates budgets through
    /// the PCPGs).
    public var yearFinancialByOutcome = zeros(DecisionCounts.outcomes)
    /// The sums of that year's decisions with financial implications that were agreed, in pence.
    public var yearAgreedPence: Int64 = 0

    public init(year: FinancialYear) { self.year = year.description }

    /// As synthesised, except that a roll-up from before the financial figures (a server or a
    /// replica file of an earlier version) reads them as none rather than failing.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        total = try c.decode(Int.self, forKey: .total)
        year = try c.decode(String.self, forKey: .year)
        byOutcome = try c.decode([String: Int].self, forKey: .byOutcome)
        yearByOutcome = try c.decode([String: Int].self, forKey: .yearByOutcome)
        yearFinancialByOutcome = try c.decodeIfPresent([String: Int].self, forKey: .yearFinancialByOutcome) ?? zeros(Self.outcomes)
        yearAgreedPence = try c.decodeIfPresent(Int64.self, forKey: .yearAgreedPence) ?? 0
    }

    mutating func add(_ decision: RollupContribution.Decision, year: FinancialYear) {
        let outcome = decision.outcome.flatMap { Self.outcomes.contains($0) ? $0 : nil } ?? "none"
        total += 1
        byOutcome[outcome, default: 0] += 1
        guard let date = decision.date, year.contains(date) else { return }
        yearByOutcome[outcome, default: 0] += 1
        guard decision.financial == true else { return }
        yearFinancialByOutcome[outcome, default: 0] += 1
        if outcome == "agreed" { yearAgreedPence = Self.saturating(yearAgreedPence, decision.amountPence ?? 0) }
    }

    public static func + (a: DecisionCounts, b: DecisionCounts) -> DecisionCounts {
        var s = a
        s.total += b.total
        s.byOutcome = sum(a.byOutcome, b.byOutcome)
        s.yearByOutcome = sum(a.yearByOutcome, b.yearByOutcome)
        s.yearFinancialByOutcome = sum(a.yearFinancialByOutcome, b.yearFinancialByOutcome)
        s.yearAgreedPence = saturating(a.yearAgreedPence, b.yearAgreedPence)
        return s
    }

    /// Sums of pence stop at Int64's largest rather than trap: 92,300 decisions of the largest
    /// amount a field holds would pass it, and a trap in a roll-up stopped the server
    /// (review, forty-second session).
    static func saturating(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int64.max : sum
    }

    enum CodingKeys: String, CodingKey {
        case total, year
        case byOutcome = "by_outcome", yearByOutcome = "year_by_outcome"
        case yearFinancialByOutcome = "year_financial_by_outcome", yearAgreedPence = "year_agreed_pence"
    }
}

extension ClusterRollup {
    /// What a practice id that the cluster did not register reads as outside the cluster.
    public static let unregisteredPractice = "(not a registered practice)"

    /// The roll-up as readers outside the cluster (a PCPG, a Health Board) get it: a practice in
    /// the attendance figures that the cluster did not register reads `unregisteredPractice`.
    /// A terms of reference's `practices` and an attendee's `practice` are typed on a replica,
    /// which cannot know the cluster's practices, so they may hold any text (a person's name
    /// typed by mistake); the server, which knows them, keeps such text from leaving the cluster.
    ///
    /// It also lists the registered GP practices the attendance figures leave out (neither in
    /// the GP Collaborative's terms of reference nor recorded attending): a practice that never
    /// came was in no figure at all (PCPG audit). They are listed, not counted as short: the
    /// terms may name them under another id. Practices of other kinds owe no attendance, so
    /// they are only counted, in `practicesByKind`.
    /// `region`: the cluster's region as the server has it, so a Health Board compares its PCPGs.
    public func namingOnly(registered: [String: PracticeKind], region: String?) -> ClusterRollup {
        var named = self
        named.region = region
        let practices = Set(registered.keys)
        let owing = Set(registered.filter(\.value.owesQAIFClusterIndicators).keys)
        named.practicesByKind = registered.values.reduce(into: Self.noPractices) { $0[$1.rawValue, default: 0] += 1 }
        named.planContributions = planContributions.namingOnly(registered: practices, owing: owing, cluster: cluster)
        let listed = Set(attendance.practices.map(\.practice))
        named.attendance.registeredNotListed = owing.subtracting(listed).sorted()
            .map { AttendanceCounts.Unlisted(cluster: cluster, practice: $0) }
        for index in named.attendance.practices.indices where !practices.contains(named.attendance.practices[index].practice) {
            named.attendance.practices[index].practice = Self.unregisteredPractice
        }
        // A practice registered as another kind (a pharmacist recorded in attendance at the GP
        // Collaborative) owes no attendance: not counted short of it (review, forty-third session).
        named.attendance.practices.removeAll { registered[$0.practice].map { !$0.owesQAIFClusterIndicators } ?? false }
        named.attendance.byStatus = named.attendance.practices.reduce(into: zeros(AttendanceCounts.statuses)) {
            $0[$1.status.rawValue, default: 0] += 1
        }
        return named
    }
}

/// GP Collaborative attendance against CND014W in the QAIF year containing the roll-up's day,
/// per practice (the same figures as `clustersync attendance`, without attendees' names).
public struct AttendanceCounts: Sendable, Equatable, Codable {
    public var year: String
    public var minimum = AttendanceReport.minimum
    /// Meetings held in the year so far, and recorded meetings still to come (summed over
    /// clusters in a region).
    public var meetingsHeld = 0
    public var meetingsLeft = 0
    public var practices: [Practice] = []
    /// Practices by status: `met`, `can-reach`, `cannot-reach`.
    public var byStatus = zeros(AttendanceCounts.statuses)
    static let statuses = ["met", "can-reach", "cannot-reach"]
    /// Practices the server registered in the cluster that the figures above leave out: filled
    /// in by the server for the roll-ups it sends (`ClusterRollup.namingOnly`), empty in a
    /// practice's own.
    public var registeredNotListed: [Unlisted] = []

    public struct Unlisted: Sendable, Equatable, Codable {
        public var cluster: String
        public var practice: String

        public init(cluster: String, practice: String) {
            self.cluster = cluster
            self.practice = practice
        }
    }

    public struct Practice: Sendable, Equatable, Codable {
        public var cluster: String
        public var practice: String
        public var attended: Int
        public var needed: Int
        public var status: AttendanceReport.Status
    }

    public init(year: QAIFYear) { self.year = year.description }

    /// As synthesised, except that a roll-up from before `registered_not_listed` reads it as empty.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        year = try c.decode(String.self, forKey: .year)
        minimum = try c.decode(Int.self, forKey: .minimum)
        meetingsHeld = try c.decode(Int.self, forKey: .meetingsHeld)
        meetingsLeft = try c.decode(Int.self, forKey: .meetingsLeft)
        practices = try c.decode([Practice].self, forKey: .practices)
        byStatus = try c.decode([String: Int].self, forKey: .byStatus)
        registeredNotListed = try c.decodeIfPresent([Unlisted].self, forKey: .registeredNotListed) ?? []
    }

    public init(cluster: String, report: AttendanceReport) {
        year = report.year.description
        meetingsHeld = report.held.count
        meetingsLeft = report.left.count
        practices = report.practices.map {
            Practice(cluster: cluster, practice: $0.practice, attended: $0.attended.count,
                     needed: $0.needed, status: $0.status)
        }
        for p in practices { byStatus[p.status.rawValue, default: 0] += 1 }
    }

    public static func + (a: AttendanceCounts, b: AttendanceCounts) -> AttendanceCounts {
        var s = a
        s.meetingsHeld += b.meetingsHeld
        s.meetingsLeft += b.meetingsLeft
        s.practices = (a.practices + b.practices).sorted { ($0.cluster, $0.practice) < ($1.cluster, $1.practice) }
        s.byStatus = sum(a.byStatus, b.byStatus)
        s.registeredNotListed = (a.registeredNotListed + b.registeredNotListed).sorted { ($0.cluster, $0.practice) < ($1.cluster, $1.practice) }
        return s
    }

    enum CodingKeys: String, CodingKey {
        case year, minimum, practices
        case meetingsHeld = "meetings_held", meetingsLeft = "meetings_left", byStatus = "by_status"
        case registeredNotListed = "registered_not_listed"
    }
}

/// Terms of reference due for review. Only the version in force counts (per body, the one agreed
/// latest on or before the day): an older version a body has since replaced is not overdue.
public struct TermsCounts: Sendable, Equatable, Codable {
    /// Bodies with terms of reference in force.
    public var inForce = 0
    public var reviewOverdue = 0
    public var overdue: [Overdue] = []

    public struct Overdue: Sendable, Equatable, Codable {
        public var cluster: String
        public var body: String
        public var terms: RecordID
        public var reviewDate: CalendarDate

        enum CodingKeys: String, CodingKey {
            case cluster, body, terms
            case reviewDate = "review_date"
        }
    }

    public init() {}

    init(cluster: String, terms: [RollupContribution.Terms], today: CalendarDate) {
        var current: [String: RollupContribution.Terms] = [:]
        for t in terms where t.dateAgreed <= today {
            if let other = current[t.body], (other.dateAgreed, other.id) > (t.dateAgreed, t.id) { continue }
            current[t.body] = t
        }
        inForce = current.count
        overdue = current.values.compactMap { t in
            guard let review = t.reviewDate, review < today else { return nil }
            return Overdue(cluster: cluster, body: t.body, terms: t.id, reviewDate: review)
        }.sorted { ($0.cluster, $0.body) < ($1.cluster, $1.body) }
        reviewOverdue = overdue.count
    }

    public static func + (a: TermsCounts, b: TermsCounts) -> TermsCounts {
        var s = a
        s.inForce += b.inForce
        s.reviewOverdue += b.reviewOverdue
        s.overdue = (a.overdue + b.overdue).sorted { ($0.cluster, $0.body) < ($1.cluster, $1.body) }
        return s
    }

    enum CodingKeys: String, CodingKey {
        case overdue
        case inForce = "in_force", reviewOverdue = "review_overdue"
    }
}
