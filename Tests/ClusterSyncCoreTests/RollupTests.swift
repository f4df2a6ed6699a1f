import ClusterSyncCore
import Foundation
import Testing

@Suite struct RollupTests {
    static let today = CalendarDate(year: 2026, month: 11, day: 23)
    static let shared = RecordScope(tenant: "bcuhb", cluster: "north-denbighshire")

    /// A record holding `fields`, one write each (sets: one write per member).
    static func record(_ id: String, _ fields: [String: JSONValue], scope: RecordScope = shared, sets: [String: [JSONValue]] = [:]) -> RecordView {
        var writes: [FieldWrite] = []
        var n: Int64 = 0
        func write(_ field: String, _ value: JSONValue) {
            n += 1
            writes.append(FieldWrite(id: ChangeID(replica: Fixtures.a, counter: n), hlc: HLCTimestamp(millis: n), field: field, value: value))
        }
        for (field, value) in fields.sorted(by: { $0.key < $1.key }) { write(field, value) }
        for (field, members) in sets.sorted(by: { $0.key < $1.key }) { for m in members { write(field, m) } }
        return RecordView(id: RecordID(id)!, scope: scope, liveWrites: writes)
    }

    static func risk(_ id: String, _ l: Int64, _ c: Int64, status: String = "open", review: String? = nil, escalation: String? = nil,
                     scope: RecordScope = shared) -> RecordView {
        var f: [String: JSONValue] = ["title": "Risk", "score": .object(["likelihood": .int(l), "consequence": .int(c)]), "status": .string(status)]
        if let review { f["review_date"] = .string(review) }
        if let escalation { f["escalation"] = .string(escalation) }
        return record(id, f, scope: scope)
    }

    static func action(_ id: String, status: String, due: String?) -> RecordView {
        var f: [String: JSONValue] = ["title": "Action", "status": .string(status)]
        if let due { f["due_date"] = .string(due) }
        return record(id, f)
    }

    static func attendee(_ name: String, _ practice: String, role: String = "member", agreedBy: String? = nil) -> JSONValue {
        Attendee(name: name, role: role, practice: practice, agreedBy: agreedBy).jsonValue
    }

    static func meeting(_ id: String, _ date: String, status: String, _ attendees: [JSONValue]) -> RecordView {
        record(id, ["title": "GP Collaborative", "body": "gp-collaborative", "date": .string(date), "status": .string(status)],
               sets: ["attendees": attendees])
    }

    /// A cluster with hand-counted figures (the expectations below are counted from this list).
    static let records: [RecordView] = [
        // Open: 4x5=20 extreme (review overdue, escalated to pcpg), 3x4=12 high, 2x2=4 moderate
        // (review in future), 1x3=3 low. Closed: 5x5 extreme (review overdue, but closed).
        risk("RSK-0000000001", 4, 5, review: "2026-11-01", escalation: "pcpg"),
        risk("RSK-0000000002", 3, 4, escalation: "cluster"),
        risk("RSK-0000000003", 2, 2, review: "2027-01-01"),
        risk("RSK-0000000004", 1, 3),
        risk("RSK-0000000005", 5, 5, status: "closed", review: "2026-01-01"),
        // An open risk with no score.
        record("RSK-0000000006", ["title": "Unscored", "status": "open"]),
        // Private to a practice: counts nowhere.
        risk("RSK-0000000007", 5, 5, review: "2020-01-01", escalation: "health-board",
             scope: RecordScope(tenant: "bcuhb", cluster: "north-denbighshire", practice: "rhyl")),
        // Deleted: counts nowhere.
        record("RSK-0000000008", ["title": "Gone", "score": .object(["likelihood": 5, "consequence": 5]), "deleted": true]),
        // Actions: red (due 2026-11-01, in progress), amber (due in 10 days, not started), green
        // (due 2027-03-01), blue (complete, overdue date irrelevant), none (cancelled).
        action("ACT-0000000001", status: "in-progress", due: "2026-11-01"),
        action("ACT-0000000002", status: "not-started", due: "2026-12-03"),
        action("ACT-0000000003", status: "not-started", due: "2027-03-01"),
        action("ACT-0000000004", status: "complete", due: "2026-01-01"),
        action("ACT-0000000005", status: "cancelled", due: "2026-01-01"),
        // Decisions: agreed in the financial year 2026-27, agreed in 2025-26, deferred undated, one
        // with no outcome.
        record("DEC-0000000001", ["title": "A", "outcome": "agreed", "date": "2026-10-01"]),
        record("DEC-0000000002", ["title": "B", "outcome": "agreed", "date": "2025-10-01"]),
        record("DEC-0000000003", ["title": "C", "outcome": "deferred"]),
        record("DEC-0000000004", ["title": "D", "date": "2026-06-01"]),
        // GP Collaborative, QAIF year 2026-27 (from 1 October 2026): three held meetings (prestatyn
        // at all three, rhyl at one, meliden by a substitute not agreed, so not counted), one
        // scheduled on 2027-02-10.
        meeting("MTG-0000000001", "2026-10-05", status: "held", [attendee("Dr Evans", "prestatyn"), attendee("Dr Jones", "rhyl")]),
        meeting("MTG-0000000002", "2026-10-20", status: "held", [attendee("Dr Evans", "prestatyn"), attendee("Mrs Hughes", "meliden", role: "substitute")]),
        meeting("MTG-0000000003", "2026-11-10", status: "held", [attendee("Dr Evans", "prestatyn")]),
        meeting("MTG-0000000004", "2027-02-10", status: "scheduled", []),
        // A meeting of the last QAIF year (to 30 September 2026) does not count in 2026-27.
        meeting("MTG-0000000005", "2026-09-30", status: "held", [attendee("Dr Jones", "rhyl")]),
        // Terms of reference: the GP Collaborative's lists a fourth practice (dyserth); the board's
        // older version is overdue but replaced by a newer one that is not; the leadership team's
        // one version is overdue.
        record("TOR-0000000001", ["title": "GP", "body": "gp-collaborative", "date_agreed": "2026-04-01", "review_date": "2027-04-01"],
               sets: ["practices": ["prestatyn", "rhyl", "meliden", "dyserth"]]),
        record("TOR-0000000002", ["title": "Board v1", "body": "stakeholder-board", "date_agreed": "2024-04-01", "review_date": "2025-04-01"]),
        record("TOR-0000000003", ["title": "Board v2", "body": "stakeholder-board", "date_agreed": "2025-05-01", "review_date": "2027-05-01"]),
        record("TOR-0000000004", ["title": "LT", "body": "leadership-team", "date_agreed": "2024-01-01", "review_date": "2026-10-01"]),
        // A practice's contribution to the plan for QAIF 2025-26, made on time (by 30 September 2026).
        record("CTB-0000000001", ["contributor": "prestatyn", "year": "2025-26", "date": "2026-09-12"]),
        // Lists count nothing.
        record("LST-0000000001", ["title": "Agenda"]),
    ]

    @Test func aPrivateOrDeletedRecordContributesNothing() {
        #expect(RollupContribution(Self.records[6]) == nil)
        #expect(RollupContribution(Self.records[7]) == nil)
        #expect(RollupContribution(Self.records.last!) == nil)
        #expect(RollupContribution(Self.records[0]) == .risk(.init(likelihood: 4, consequence: 5, status: "open",
                                                                    reviewDate: CalendarDate("2026-11-01"), escalation: "pcpg")))
    }

    @Test func risksAreCountedByBandStatusAndOnTheMatrix() {
        let r = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: Self.records, today: Self.today).risks
        #expect(r.total == 6)
        #expect(r.byStatus == ["open": 5, "closed": 1])
        #expect(r.byBand == ["low": 1, "moderate": 1, "high": 1, "extreme": 1, "unscored": 1])
        #expect(r.byStatusAndBand["closed"] == ["low": 0, "moderate": 0, "high": 0, "extreme": 1, "unscored": 0])
        #expect(r.matrix.total == 4)
        #expect(r.matrix.count(likelihood: 4, consequence: 5) == 1)
        #expect(r.matrix.count(likelihood: 3, consequence: 4) == 1)
        #expect(r.matrix.count(likelihood: 5, consequence: 5) == 0)  // closed, private and deleted ones
        #expect(r.reviewOverdue == 1)
        #expect(r.escalation == ["practice": 0, "cluster": 1, "pcpg": 1, "health-board": 0, "none": 3])
        // The open extreme risk is escalated to the PCPG, the 5x5 closed, the other 5x5 private.
        #expect(r.escalationSuggested == 0)
        #expect(r.byCategory["none"] == 5, "no fixture has a category")
        let categorised = [Self.record("RSK-1000000001", ["title": "W", "status": "open", "category": "workforce"]),
                           Self.record("RSK-1000000002", ["title": "X", "status": "closed", "category": "workforce"]),
                           Self.record("RSK-1000000003", ["title": "Y", "status": "open", "category": "not-a-category"])]
        let c = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: categorised, today: Self.today).risks
        #expect(c.byCategory["workforce"] == 1 && c.byCategory["none"] == 1, "open risks only; a word not in the list as none")
        #expect(c.byCategory.count == RecordSchema.riskCategories.count + 1)
    }

    @Test func actionsAreCountedByRAGAndStatusWithOverdue() {
        let a = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: Self.records, today: Self.today).actions
        #expect(a.total == 5)
        #expect(a.byRAG == ["blue": 1, "red": 1, "amber": 1, "green": 1, "none": 1])
        #expect(a.byStatus == ["not-started": 2, "in-progress": 1, "complete": 1, "closed": 0, "cancelled": 1])
        #expect(a.overdue == 1)
        #expect(a.overdueByStatus["in-progress"] == 1)
        // The same contributions judged a month later: the amber one is now red too.
        let later = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: Self.records,
                                  today: CalendarDate("2026-12-23")!).actions
        #expect(later.overdue == 2)
        #expect(later.byRAG["amber"] == 0)
    }

    @Test func decisionsAreCountedByOutcomeAndInTheYear() {
        let d = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: Self.records, today: Self.today).decisions
        #expect(d.total == 4)
        #expect(d.byOutcome == ["agreed": 2, "rejected": 0, "deferred": 1, "none": 1])
        #expect(d.year == "2026-27")
        #expect(d.yearByOutcome == ["agreed": 1, "rejected": 0, "deferred": 0, "none": 1])
        #expect(d.yearFinancialByOutcome.values.reduce(0, +) == 0 && d.yearAgreedPence == 0)
        // With financial implications: an agreed sum counts in the year's agreed total, a
        // rejected one only among the year's financial decisions, last year's in neither, and
        // a sum on a decision not marked financial in neither (the check on the decision says so).
        let money = [
            Self.record("DEC-1000000001", ["title": "A", "outcome": "agreed", "date": "2026-10-01", "financial_implications": true, "amount": "12000.50"]),
            Self.record("DEC-1000000002", ["title": "B", "outcome": "agreed", "date": "2026-11-01", "financial_implications": true, "amount": "350"]),
            Self.record("DEC-1000000003", ["title": "C", "outcome": "rejected", "date": "2026-11-01", "financial_implications": true, "amount": "900"]),
            Self.record("DEC-1000000004", ["title": "D", "outcome": "agreed", "date": "2025-11-01", "financial_implications": true, "amount": "500"]),
            Self.record("DEC-1000000005", ["title": "E", "outcome": "agreed", "date": "2026-11-01", "amount": "700"]),
        ]
        let m = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: money, today: Self.today).decisions
        #expect(m.yearFinancialByOutcome == ["agreed": 2, "rejected": 1, "deferred": 0, "none": 0])
        #expect(m.yearAgreedPence == 1_235_050)
        #expect(Amount.shown(pence: m.yearAgreedPence) == "£12,350.50" && Amount.shown(pence: 1_200_005) == "£12,000.05")
        // 93,000 decisions of the largest amount a field holds pass Int64: the sum stops at its
        // largest rather than trapping (a trap here stopped the server; review).
        let largest = RollupContribution.decision(.init(outcome: "agreed", date: CalendarDate("2026-10-01"), financial: true,
                                                        amountPence: Amount.pence("999999999999.99")))
        let huge = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", contributions: Array(repeating: largest, count: 93_000), today: Self.today)
        #expect(huge.decisions.yearAgreedPence == Int64.max)
        #expect(RegionRollup(tenant: "bcuhb", region: nil, clusters: [huge, huge]).decisions.yearAgreedPence == Int64.max)
    }

    @Test func attendanceMatchesTheAttendanceReport() {
        let rollup = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: Self.records, today: Self.today)
        let a = rollup.attendance
        #expect(a.year == "2026-27")
        #expect(a.meetingsHeld == 3)
        #expect(a.meetingsLeft == 1)
        // prestatyn 3 + 1 left can reach; rhyl 1 + 1 cannot; meliden 0 (substitute not agreed) and
        // dyserth 0 (listed in the terms) cannot.
        #expect(a.practices.map { "\($0.practice) \($0.attended) \($0.needed) \($0.status.rawValue)" } == [
            "dyserth 0 4 cannot-reach", "meliden 0 4 cannot-reach", "prestatyn 3 1 can-reach", "rhyl 1 3 cannot-reach",
        ])
        #expect(a.byStatus == ["met": 0, "can-reach": 1, "cannot-reach": 3])
        let report = AttendanceReport(records: Self.records, year: QAIFYear(startYear: 2026), today: Self.today)
        #expect(report.practices.map { $0.attended.count } == a.practices.map(\.attended))
    }

    /// Every body's meetings in the financial year (PCPG audit: only the GP Collaborative's
    /// counted anywhere): held, still to come, or past and never marked held; cancelled and
    /// undated meetings, and those of another year, count nowhere.
    @Test func meetingsAreCountedByBodyInTheFinancialYear() throws {
        let others = [
            Self.record("MTG-1000000001", ["title": "Board", "body": "stakeholder-board", "date": "2026-06-01", "status": "held"]),
            Self.record("MTG-1000000002", ["title": "Board", "body": "stakeholder-board", "date": "2026-09-01"]),
            Self.record("MTG-1000000003", ["title": "Board", "body": "stakeholder-board", "date": "2027-01-10", "status": "scheduled"]),
            Self.record("MTG-1000000004", ["title": "Board", "body": "stakeholder-board", "date": "2026-07-01", "status": "cancelled"]),
            Self.record("MTG-1000000005", ["title": "Pharmacy", "body": "pharmacy-collaborative", "date": "2026-03-01", "status": "held"]),
            Self.record("MTG-1000000006", ["title": "LT", "body": "leadership-team", "date": .string(Self.today.description), "status": "scheduled"]),
            Self.record("MTG-1000000007", ["title": "LT", "body": "leadership-team", "status": "held"]),
        ]
        let rollup = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: Self.records + others, today: Self.today)
        let m = rollup.meetings
        #expect(m.year == "2026-27")
        #expect(m.byBody["stakeholder-board"] == ["held": 1, "left": 1, "not_recorded": 1])
        #expect(m.byBody["leadership-team"] == ["held": 0, "left": 1, "not_recorded": 0])
        #expect(m.byBody["pharmacy-collaborative"] == ["held": 0, "left": 0, "not_recorded": 0], "last financial year's")
        // The GP Collaborative's four held since April (one of them in the last QAIF year) and one to come.
        #expect(m.byBody["gp-collaborative"] == ["held": 4, "left": 1, "not_recorded": 0])
        #expect(m.shown == "stakeholder board 1 held, 1 left, 1 not recorded as held; leadership team 1 left; GP Collaborative 4 held, 1 left")
        #expect(Set(m.byBody.keys) == Set(RecordSchema.bodies))
        // Kept as contributions, the same; a region adds its clusters up.
        let kept = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire",
                                 contributions: (Self.records + others).compactMap(RollupContribution.init), today: Self.today)
        #expect(kept.meetings == m)
        #expect(RegionRollup(tenant: "bcuhb", region: nil, clusters: [rollup, rollup]).meetings.byBody["stakeholder-board"]?["held"] == 2)
        // A roll-up from before `meetings` reads as none counted.
        guard case .object(var old) = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(rollup)) else { return }
        old["meetings"] = nil
        let read = try JSONDecoder().decode(ClusterRollup.self, from: Data(JSONValue.object(old).canonicalText.utf8))
        #expect(read.meetings == MeetingCounts(year: FinancialYear(containing: Self.today), reported: false) && read.meetings.shown == nil)
        #expect(!RegionRollup(tenant: "bcuhb", region: nil, clusters: [read, rollup]).meetings.reported, "a total with one not counted is not a figure")
    }

    @Test func onlyTheTermsInForceCountForReview() {
        let t = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: Self.records, today: Self.today).terms
        #expect(t.inForce == 3)
        #expect(t.reviewOverdue == 1)
        #expect(t.overdue.map { "\($0.body) \($0.terms) \($0.reviewDate)" } == ["leadership-team TOR-0000000004 2026-10-01"])
    }

    /// `RollupContribution.inputs`: writing any other field of a record leaves its contribution
    /// as it was, and writing an input changes some record's (so the list is neither too short,
    /// which would leave a roll-up stale, nor padded).
    @Test func aContributionIsReadFromItsInputsAlone() {
        func writing(_ field: String, _ value: JSONValue, on view: RecordView) -> RecordView {
            let others = view.writes.filter { $0.key != field }.values.flatMap { $0 }
            let write = FieldWrite(id: ChangeID(replica: Fixtures.b, counter: 1), hlc: HLCTimestamp(millis: 1_000), field: field, value: value)
            return RecordView(id: view.id, scope: view.scope, liveWrites: others + [write])
        }
        for type in RecordType.allCases {
            let views = Self.records.filter { $0.id.type == type && RollupContribution($0) != nil }
            guard let inputs = RollupContribution.inputs(of: type) else {
                #expect(views.isEmpty, "\(type) contributes, but has no inputs")
                continue
            }
            #expect(!views.isEmpty, "no \(type) fixture contributes")
            for field in type.schema.fields.map(\.name) where field != RecordSchema.deletedField.name {
                let value: JSONValue = switch field {
                case "attendees": Self.attendee("Dr Roberts", "dyserth")
                case "amount": "12000"
                case "financial_implications": true
                default: "x"
                }
                let changed = views.filter { RollupContribution(writing(field, value, on: $0)) != RollupContribution($0) }
                if inputs.contains(field) {
                    #expect(!changed.isEmpty, "\(type).\(field) is an input, but writing it changed no contribution")
                } else {
                    #expect(changed.isEmpty, "\(type).\(field) is not an input, but writing it changed \(changed.map(\.id))")
                }
            }
        }
        // Whatever the field, a record's first write, a removal, a delete and a redaction may change it.
        let title = Change(id: ChangeID(replica: Fixtures.b, counter: 1), hlc: HLCTimestamp(millis: 1), record: RecordID("RSK-0000000001")!,
                           scope: Self.shared, field: "title", value: "Risk")
        #expect(!RollupContribution.mayChange(.risk, by: [title], hadContribution: true))
        #expect(RollupContribution.mayChange(.risk, by: [title], hadContribution: false))
        for field in ["deleted", Redaction.field, "status"] {
            var change = title
            change.field = field
            #expect(RollupContribution.mayChange(.risk, by: [change], hadContribution: true), "\(field)")
        }
        var removal = title
        removal.value = nil
        #expect(RollupContribution.mayChange(.risk, by: [removal], hadContribution: true))
        #expect(!RollupContribution.mayChange(.list, by: [title], hadContribution: false))
    }

    @Test func contributionsAggregateLikeRecordsAndRoundTripThroughJSON() throws {
        let contributions = Self.records.compactMap(RollupContribution.init)
        #expect(contributions.count == 25)  // 6 risks, 5 actions, 4 decisions, 5 meetings, 4 terms, 1 contribution
        let fromContributions = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", contributions: contributions, today: Self.today)
        #expect(fromContributions == ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: Self.records, today: Self.today))
        let data = try JSONEncoder().encode(contributions)
        #expect(try JSONDecoder().decode([RollupContribution].self, from: data) == contributions)
        let rollupData = try JSONEncoder().encode(fromContributions)
        #expect(try JSONDecoder().decode(ClusterRollup.self, from: rollupData) == fromContributions)
        // A roll-up from a server or replica file of an earlier version, without
        // `escalation_suggested`, still reads: as none suggested.
        var south = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: [Self.risk("RSK-1000000001", 4, 5)], today: Self.today)
        #expect(south.risks.escalationSuggested == 1)
        guard case .object(var old) = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(south)),
              case .object(var risks)? = old["risks"] else { Issue.record("not an object"); return }
        risks["escalation_suggested"] = nil
        old["risks"] = .object(risks)
        south.risks.escalationSuggested = 0
        #expect(try JSONDecoder().decode(ClusterRollup.self, from: Data(JSONValue.object(old).canonicalText.utf8)) == south)
        // Nor `practices_by_kind` (forty-third session): as none registered.
        let registered = south.namingOnly(registered: ["rhyl": .gp, "boots-rhyl": .pharmacy], region: nil)
        guard case .object(var before) = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(registered)) else { return }
        #expect(before["practices_by_kind"]?["pharmacy"] == .int(1))
        before["practices_by_kind"] = nil
        let read = try JSONDecoder().decode(ClusterRollup.self, from: Data(JSONValue.object(before).canonicalText.utf8))
        #expect(read.practicesByKind == ClusterRollup.noPractices && read.attendance == registered.attendance)
    }

    @Test func theJSONShapeIsStable() throws {
        let rollup = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: Self.records, today: Self.today)
        let json = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(rollup))
        guard case .object(let o) = json else { Issue.record("not an object"); return }
        #expect(Set(o.keys) == ["tenant", "cluster", "today", "risks", "actions", "decisions", "attendance", "terms", "plan_contributions",
                                "practices_by_kind", "meetings"])
        #expect(json["plan_contributions"]?["last_year"]?["practices"]?.canonicalText
            == "[{\"cluster\":\"north-denbighshire\",\"date\":\"2026-09-12\",\"practice\":\"prestatyn\",\"status\":\"on-time\"}]")
        #expect(o["today"] == .string("2026-11-23"))
        #expect(json["risks"]?["matrix"]?.canonicalText == "[[0,0,1,0,0],[0,1,0,0,0],[0,0,0,1,0],[0,0,0,0,1],[0,0,0,0,0]]")
        #expect(json["risks"]?["review_overdue"] == .int(1))
        #expect(json["risks"]?["escalation_suggested"] == .int(0))
        #expect(json["actions"]?["by_rag"]?["red"] == .int(1))
        #expect(json["attendance"]?["practices"]?.canonicalText.contains("\"status\":\"can-reach\"") == true)
        #expect(json["terms"]?["overdue"]?.canonicalText
            == "[{\"body\":\"leadership-team\",\"cluster\":\"north-denbighshire\",\"review_date\":\"2026-10-01\",\"terms\":\"TOR-0000000004\"}]")
    }

    /// CND015W: each practice's contribution to the plan for the QAIF year, on time by 30
    /// September or late, this year's and last year's (whose deadline has passed); outside the
    /// cluster, a practice it did not register is not named, and the registered ones with none are.
    @Test func contributionsToThePlanAreCountedByPracticeAndDeadline() {
        let made = [
            Self.record("CTB-1000000001", ["contributor": "prestatyn", "year": "2025-26", "date": "2026-09-30"]),
            Self.record("CTB-1000000002", ["contributor": "prestatyn", "year": "2025-26", "date": "2026-10-02"]),  // again, later: one practice
            Self.record("CTB-1000000003", ["contributor": "rhyl", "year": "2025-26", "date": "2026-10-01"]),
            Self.record("CTB-1000000004", ["contributor": "Mr Patient Smith", "year": "2025-26"]),
            Self.record("CTB-1000000005", ["contributor": "rhyl", "year": "2026-27", "date": "2026-11-01"]),
            Self.record("CTB-1000000006", ["contributor": "dyserth", "year": "2024-25", "date": "2025-09-01"]),  // too old to count
            Self.record("CTB-1000000007", ["contributor": "meliden", "year": "not a year"]),                    // contributes nothing
        ]
        let rollup = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: made, today: Self.today)
        let last = rollup.planContributions.lastYear, now = rollup.planContributions.year
        #expect(last.year == "2025-26" && last.deadline == CalendarDate("2026-09-30") && now.year == "2026-27")
        #expect(last.practices.map { "\($0.practice) \($0.status)" } == ["Mr Patient Smith undated", "prestatyn on-time", "rhyl late"])
        #expect(last.byStatus == ["on-time": 1, "late": 1, "undated": 1])
        #expect(now.practices.map(\.practice) == ["rhyl"] && now.byStatus["on-time"] == 1)
        // A pharmacy owes no contribution (the indicator is the GP contract's): counted by kind only.
        let named = rollup.namingOnly(registered: ["prestatyn": .gp, "rhyl": .gp, "meliden": .gp, "boots-rhyl": .pharmacy], region: nil)
        let outside = named.planContributions
        #expect(outside.lastYear.practices.map(\.practice) == [ClusterRollup.unregisteredPractice, "prestatyn", "rhyl"])
        #expect(outside.lastYear.registeredWithout.map(\.practice) == ["meliden"])
        #expect(outside.year.registeredWithout.map(\.practice) == ["meliden", "prestatyn"])
        #expect(named.attendance.registeredNotListed.map(\.practice) == ["meliden", "prestatyn", "rhyl"])
        #expect(named.practicesByKind["gp"] == 3 && named.practicesByKind["pharmacy"] == 1 && named.practicesByKind["dental"] == 0)
        // A pharmacist recorded in attendance at the GP Collaborative: the pharmacy owes no
        // attendance, so it is not counted short of it.
        let withPharmacist = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: Self.records + [
            Self.meeting("MTG-2000000001", "2026-11-12", status: "held", [Self.attendee("Mr Boots", "boots-rhyl", role: "in-attendance")]),
        ], today: Self.today)
        #expect(withPharmacist.attendance.practices.contains { $0.practice == "boots-rhyl" })
        let counted = withPharmacist.namingOnly(registered: ["prestatyn": .gp, "rhyl": .gp, "meliden": .gp, "dyserth": .gp, "boots-rhyl": .pharmacy],
                                                region: nil).attendance
        #expect(!counted.practices.contains { $0.practice == "boots-rhyl" })
        #expect(counted.byStatus == withPharmacist.attendance.byStatus.merging(["cannot-reach": -1], uniquingKeysWith: +), "\(counted.byStatus)")
        #expect(rollup.practicesByKind.values.allSatisfy { $0 == 0 }, "a practice's own roll-up knows no registered practices")
        #expect(!RegionRollup(tenant: "bcuhb", region: nil, clusters: [rollup.namingOnly(registered: ["rhyl": .gp], region: nil)])
            .jsonValue.canonicalText.contains("Patient"))
    }

    @Test func aRegionAddsItsClustersUp() {
        let north = ClusterRollup(tenant: "bcuhb", cluster: "north-denbighshire", records: Self.records, today: Self.today)
        let southScope = RecordScope(tenant: "bcuhb", cluster: "south-denbighshire")
        let south = ClusterRollup(tenant: "bcuhb", cluster: "south-denbighshire", records: [
            Self.risk("RSK-1000000001", 4, 5, scope: southScope), Self.risk("RSK-1000000002", 1, 1, scope: southScope),
            // A north record handed to the south roll-up is not counted there.
            Self.risk("RSK-1000000003", 4, 5),
        ], today: Self.today)
        #expect(south.risks.total == 2)
        // South holds a 4x5 open and not escalated: what the PCPG may ask it about.
        #expect(south.risks.escalationSuggested == 1)
        let region = RegionRollup(tenant: "bcuhb", region: "denbighshire", clusters: [south, north])
        #expect(region.risks.escalationSuggested == 1)
        #expect(region.clusters.map(\.cluster) == ["north-denbighshire", "south-denbighshire"])
        #expect(region.risks.total == 8)
        #expect(region.risks.byBand["extreme"] == 2)
        #expect(region.risks.byBand["low"] == 2)
        #expect(region.risks.matrix.count(likelihood: 4, consequence: 5) == 2)
        #expect(region.actions.overdue == 1)
        #expect(region.attendance.practices.count == 4)
        #expect(region.attendance.meetingsHeld == 3)
        #expect(region.terms.reviewOverdue == 1)
    }
}

// Literals for the fixtures above (tests only: the library never guesses a value's type).
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
