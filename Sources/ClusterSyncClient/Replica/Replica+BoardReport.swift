import ClusterSyncCore

/// What a cluster's annual report to the Health Board (guide §3.11) or a PCPG board paper shows,
/// read from this replica's cluster-shared records (never its practice's private ones).
/// `clustersync report --html` renders it; the figures are the roll-up's.
public struct BoardReport: Sendable {
    public var tenant: String
    public var cluster: String
    public var period: ReportPeriod
    /// The day the figures are taken at: the period's last day, or today if it has not ended.
    public var asOf: CalendarDate
    /// The day the report was made.
    public var made: CalendarDate
    public var rollup: ClusterRollup
    /// Open risks by band (`RiskCounts.bands`) at each month end of the period up to `asOf`,
    /// from the replica's history.
    public var bandsByMonth: [(monthEnd: CalendarDate, counts: [String: Int])]
    /// Open risks past review, actions past due and terms of reference in force past review, on `asOf`.
    public var overdue: [RecordView]
    /// Decisions dated in the period (their own date, else their meeting's), oldest first.
    public var decisions: [RecordView]
    /// What needs a look in each decision (`GovernanceRecords.checks`: an inquorate meeting, an
    /// outcome the votes do not give, a vote with an interest in force…), by decision.
    public var decisionChecks: [RecordID: [String]]
    /// Meetings dated in the period, oldest first, each with its quorum as `show` judges it.
    public var meetings: [(meeting: RecordView, quorum: GovernanceRecords.QuorumCheck)]
    /// Plans whose period overlaps the report's (guide §3.11: progress against the cluster
    /// plan), each with its priorities (the items of its priorities list) in list order.
    public var plans: [(plan: RecordView, priorities: [RecordView])]
    /// Declarations of interest in force at some time in the period (the register's annual
    /// summary), by member.
    public var declarations: [RecordView]
    /// Risks closed in the period (the day their `closed` status was written), oldest first: the
    /// report on lessons learned from risk reviews (guide §3.8), each with its `lessons_learned`.
    public var closedRisks: [(risk: RecordView, closedOn: CalendarDate)]
    /// Risks still open on `asOf` whose lessons learned were written in the period, on the day
    /// the lessons they hold now were written, oldest first: what reviews of risks not yet
    /// closed taught (guide §3.8 asks for lessons learned from risk reviews, not only closures).
    public var lessonsFromOpenRisks: [(risk: RecordView, writtenOn: CalendarDate)]
    /// GP Collaborative attendance in the QAIF year containing `asOf`.
    public var attendance: AttendanceReport
    /// Attendance in the last QAIF year that ended in the period before `asOf`'s, when one did:
    /// its final figures, which a report on a financial year otherwise missed (April to March
    /// holds the end of one QAIF year, 30 September, and the first half of the next).
    public var endedAttendance: AttendanceReport?
    /// Open risks escalated to the PCPG or the Health Board, highest score first, with the
    /// actions linked to them.
    public var escalated: [(risk: RecordView, actions: [RecordView])]
}

extension Replica {
    /// Whether a plan's period (open-ended where a date is missing) overlaps `period`.
    static func overlaps(_ plan: RecordView, _ period: ReportPeriod) -> Bool {
        (plan.date("period_start").map { $0 <= period.last } ?? true) && (plan.date("period_end").map { $0 >= period.first } ?? true)
    }

    public func boardReport(period: ReportPeriod? = nil, today: CalendarDate? = nil) throws -> BoardReport {
        try refuseClusterReport("the cluster's governance report")
        let made = today ?? self.today
        let period = period ?? ReportPeriod(year: FinancialYear(containing: made))
        // Every risk is rebuilt at every month end of the period: a period of centuries typed
        // into the app held it for minutes (review, forty-second session).
        guard period.last.dayNumber - period.first.dayNumber < 5 * 366 else {
            throw ClusterSyncError(.invalidValue, "a report covers at most five years; \(period) is longer: report a financial year, or a shorter span",
                                   field: "period")
        }
        let asOf = min(made, period.last)
        let identity = try identity()
        var sharedChanges: [RecordID: [Change]] = [:]
        for change in try allChanges() where change.scope.practice == nil
            && change.scope.cluster == identity.cluster && change.scope.tenant == identity.tenant {
            sharedChanges[change.record, default: []].append(change)
        }
        // A period that ended before today is reported as it stood on its last day: every shared
        // record rebuilt from its changes as of that day's end (a risk closed since is open in
        // it, an action completed since was overdue). Before, such a report said "figures as at
        // 31 Mar" and showed today's (governance audit).
        let shared: [RecordView] = asOf < made
            ? sharedChanges.map { RecordView(id: $0.key, scope: $0.value[0].scope, changes: $0.value, asOf: asOf.endOfDay) }
                .filter { $0.exists && !$0.isDeleted }
            : try records().filter {
                $0.scope.tenant == identity.tenant && $0.scope.cluster == identity.cluster && $0.scope.practice == nil && !$0.isDeleted
            }
        let rollup = ClusterRollup(tenant: identity.tenant, cluster: identity.cluster, records: shared, today: asOf)
        let byID = Dictionary(shared.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })

        // Risks by band at month ends: each shared risk rebuilt from its changes as of the day's end.
        let riskChanges = sharedChanges.filter { $0.key.type == .risk }
        let bandsByMonth = period.monthEnds(until: asOf).map { day in
            var counts = Dictionary(uniqueKeysWithValues: RiskCounts.bands.map { ($0, 0) })
            for (id, changes) in riskChanges {
                let view = RecordView(id: id, scope: changes[0].scope, changes: changes, asOf: day.endOfDay)
                guard case .risk(let risk)? = RollupContribution(view), risk.status == "open" else { continue }
                counts[risk.score?.band.rawValue ?? "unscored", default: 0] += 1
            }
            return (monthEnd: day, counts: counts)
        }

        let termsOverdue = Set(rollup.terms.overdue.map(\.terms))
        let overdue = shared.filter { view in
            switch view.type {
            case .risk, .action: RecordFilter.isOverdue(view, today: asOf)
            case .terms: termsOverdue.contains(view.id)
            default: false
            }
        }.sorted { ($0.overdueDate?.dayNumber ?? .max, $0.id) < ($1.overdueDate?.dayNumber ?? .max, $1.id) }

        let governance = GovernanceRecords(shared, today: asOf)
        let decisions = shared.filter { $0.type == .decision && (governance.date(of: $0).map(period.contains) ?? false) }
            .sorted { (governance.date(of: $0)!, $0.id) < (governance.date(of: $1)!, $1.id) }
        let decisionChecks = Dictionary(uniqueKeysWithValues: decisions.map { d in
            (d.id, governance.checks(of: d).filter(\.needsAttention).map(\.text))
        })
        let meetings = shared.filter { $0.type == .meeting && ($0.date("date").map(period.contains) ?? false) }
            .sorted { ($0.date("date")!, $0.id) < ($1.date("date")!, $1.id) }
            .map { (meeting: $0, quorum: governance.quorum(of: $0)) }
        let plans = try shared.filter { $0.type == .plan && Self.overlaps($0, period) }
            .sorted { ($0.date("period_start")?.dayNumber ?? 0, $0.id) < ($1.date("period_start")?.dayNumber ?? 0, $1.id) }
            .map { plan -> (plan: RecordView, priorities: [RecordView]) in
                // In list order as the list stands now; on a past period, each item as it stood then.
                let items = try plan.reference("priorities").map { try self.items(of: $0) } ?? []
                return (plan, asOf < made ? items.compactMap { byID[$0.id] } : items)
            }
        let declarations = shared.filter { $0.type == .declaration && $0.isInForce(from: period.first, to: period.last) }.sorted { ($0.string("member") ?? "", $0.id) < ($1.string("member") ?? "", $1.id) }

        let attendance = AttendanceReport(records: shared, year: QAIFYear(containing: asOf), today: asOf)
        let ended = QAIFYear(startYear: QAIFYear(containing: asOf).startYear - 1)
        let endedAttendance = period.contains(ended.last) ? AttendanceReport(records: shared, year: ended, today: asOf) : nil

        func score(_ v: RecordView) -> Int { RiskScore(v.value("score") ?? .null)?.score ?? 0 }
        let escalatedRisks = shared.filter {
            $0.type == .risk && $0.status == "open" && OversightReach.levels.contains($0.escalation ?? "")
        }.sorted { (-score($0), $0.id) < (-score($1), $1.id) }
        var escalated: [(risk: RecordView, actions: [RecordView])] = []
        for risk in escalatedRisks {
            let ids = risk.references("linked_actions")
            escalated.append((risk: risk, actions: ids.compactMap { byID[$0] }))
        }
        // Closed as of the figures' day, on the day its status first became closed after it was
        // last open: writing `closed` again (a conflict settled) moves nothing, and a risk
        // reopened since still shows in the period it was closed in.
        let closedRisks = riskChanges.compactMap { id, changes -> (risk: RecordView, closedOn: CalendarDate)? in
            let then = RecordView(id: id, scope: changes[0].scope, changes: changes, asOf: asOf.endOfDay)
            guard !then.isDeleted, then.status == "closed" else { return nil }
            var closedSince: HLCTimestamp?
            for change in changes.filter({ $0.field == "status" && $0.hlc <= asOf.endOfDay }).sorted(by: { $0.hlc < $1.hlc }) {
                if change.value == .string("closed") { closedSince = closedSince ?? change.hlc } else { closedSince = nil }
            }
            guard let closedSince else { return nil }
            let day = CalendarDate(unixMillis: closedSince.millis)
            return period.contains(day) ? (risk: byID[id] ?? then, closedOn: day) : nil
        }.sorted { ($0.closedOn, $0.risk.id) < ($1.closedOn, $1.risk.id) }
        let lessonsFromOpenRisks = riskChanges.compactMap { id, changes -> (risk: RecordView, writtenOn: CalendarDate)? in
            let then = RecordView(id: id, scope: changes[0].scope, changes: changes, asOf: asOf.endOfDay)
            // The day of the write shown (under a conflict, not the other's).
            guard !then.isDeleted, then.status == "open", let lessons = then.value("lessons_learned"), lessons != .string(""),
                  let written = then.writes["lessons_learned"]?.filter({ $0.value == lessons }).map(\.hlc).max() else { return nil }
            let day = CalendarDate(unixMillis: written.millis)
            return period.contains(day) ? (risk: byID[id] ?? then, writtenOn: day) : nil
        }.sorted { ($0.writtenOn, $0.risk.id) < ($1.writtenOn, $1.risk.id) }
        return BoardReport(tenant: identity.tenant, cluster: identity.cluster, period: period, asOf: asOf, made: made, rollup: rollup,
                           bandsByMonth: bandsByMonth, overdue: overdue, decisions: decisions, decisionChecks: decisionChecks,
                           meetings: meetings, plans: plans, declarations: declarations, closedRisks: closedRisks,
                           lessonsFromOpenRisks: lessonsFromOpenRisks, attendance: attendance, endedAttendance: endedAttendance,
                           escalated: escalated)
    }
}
