/// GP practices' attendance at the GP Collaborative against QAIF CND014W: at least four
/// meetings in the QAIF year (1 October to 30 September, `QAIFYear`).
///
/// Who counts for a practice (seed 003): an attendee of the practice in the role `member` (a
/// clinical partner or senior practice-employed clinician; a senior administrator or a
/// practice manager only when agreed in advance, `Attendee.ownPracticeRefusal`); a `substitute` for it only when the
/// arrangement was agreed with the Health Board before the meeting (`agreed_by`); a `buddy`
/// counts for its own practice, and for the practice it `represents` when the buddying was
/// agreed. `in-attendance` never counts. Meetings left are the body's meetings recorded in the
/// rest of the year that are not yet held: dated after today, or today and not marked `held`
/// (a meeting dated later is not held, whatever its status says), and not `cancelled`; only
/// held meetings' attendance counts. A practice is red when even attending all of them would
/// leave it short.
public struct AttendanceReport: Sendable, Equatable {
    public static let minimum = 4
    public static let body = "gp-collaborative"

    public enum Status: String, Sendable, Codable {
        /// Four or more attended.
        case met
        /// Short, but the meetings left could still make four.
        case canReach = "can-reach"
        /// Short, and the meetings left cannot make four (or the year is over).
        case cannotReach = "cannot-reach"
    }

    public struct Row: Sendable, Equatable {
        public var practice: String
        public var attended: [RecordID]
        public var status: Status
        /// Attendance recorded for the practice that does not count, with the reason.
        public var notCounted: [(meeting: RecordID, name: String, reason: String)]
        /// Meetings still to attend to reach the minimum (0 once met).
        public var needed: Int { max(0, AttendanceReport.minimum - attended.count) }

        public static func == (a: Row, b: Row) -> Bool {
            a.practice == b.practice && a.attended == b.attended && a.status == b.status
                && a.notCounted.map { "\($0.meeting)\($0.name)\($0.reason)" } == b.notCounted.map { "\($0.meeting)\($0.name)\($0.reason)" }
        }
    }

    /// Whether a meeting is still to come on `today`: dated later, or dated today and not yet
    /// marked held. One rule for attendance's meetings left and the roll-up's meetings by body.
    public static func isLeft(date: CalendarDate, status: String?, today: CalendarDate) -> Bool {
        date > today || (date == today && status != "held")
    }

    /// A meeting that counts anywhere (attendance, the roll-up's meetings by body): live, of a
    /// body, dated and not cancelled; nil for any other record.
    public static func countedMeeting(_ view: RecordView) -> (body: String, date: CalendarDate, status: String?)? {
        guard view.type == .meeting, !view.isDeleted, let body = view.string("body"), view.string("status") != "cancelled",
              let date = view.date("date") else { return nil }
        return (body, date, view.string("status"))
    }

    public var year: QAIFYear
    public var held: [RecordID]
    public var left: [RecordID]
    public var practices: [Row]

    /// What one meeting of the GP Collaborative says about attendance: who counted for which
    /// practice, under the rule above. Computed from the meeting's record alone, so a roll-up
    /// can keep it per meeting (`RollupContribution.meeting`) and this report can be rebuilt
    /// from kept values without reading records again.
    public struct Meeting: Sendable, Equatable, Codable {
        public var id: RecordID
        public var date: CalendarDate
        /// `held`, `scheduled` or nil (cancelled meetings are not kept).
        public var status: String?
        /// Practices the meeting counts for.
        public var counted: [String]
        /// Every practice named by an attendee (attending for itself or represented).
        public var named: [String]
        public var notCounted: [NotCounted]

        public struct NotCounted: Sendable, Equatable, Codable {
            public var practice: String
            public var name: String
            public var reason: String
        }

        /// Nil for anything but a live, dated, not-cancelled GP Collaborative meeting.
        public init?(_ view: RecordView) {
            guard let meeting = AttendanceReport.countedMeeting(view), meeting.body == AttendanceReport.body else { return nil }
            let date = meeting.date
            id = view.id
            self.date = date
            status = meeting.status
            var counted = Set<String>()
            var named = Set<String>()
            var notCounted: [NotCounted] = []
            for a in view.attendees {
                if let p = a.practice { named.insert(p) }
                if let p = a.represents { named.insert(p) }
                switch a.role {
                case "member", "buddy":
                    if let p = a.practice {
                        if let why = a.ownPracticeRefusal(meetingOn: date) {
                            notCounted.append(.init(practice: p, name: a.name, reason: why))
                        } else {
                            counted.insert(p)
                        }
                    }
                    if let q = a.represents {
                        if let why = a.arrangementRefusal(meetingOn: date) {
                            notCounted.append(.init(practice: q, name: a.name, reason: "buddying \(why)"))
                        } else {
                            counted.insert(q)
                        }
                    }
                case "substitute":
                    guard let p = a.practice else { continue }
                    if let why = a.arrangementRefusal(meetingOn: date) {
                        notCounted.append(.init(practice: p, name: a.name, reason: "substitute \(why)"))
                    } else {
                        counted.insert(p)
                    }
                default:
                    if let p = a.practice { notCounted.append(.init(practice: p, name: a.name, reason: "in attendance only")) }
                }
            }
            self.counted = counted.sorted()
            self.named = named.sorted()
            self.notCounted = notCounted
        }
    }

    /// `records`: any records (the meetings and terms of reference are used); `known`: practices
    /// to list even without attendance (this replica's own).
    public init(records: [RecordView], year: QAIFYear, today: CalendarDate, known: [String] = []) {
        var listed = Set(known)
        for terms in records where terms.type == .terms && !terms.isDeleted && terms.string("body") == Self.body
            && (terms.date("date_agreed").map { $0 <= year.last } ?? false) {
            listed.formUnion(terms.members("practices").compactMap(\.stringValue))
        }
        self.init(meetings: records.compactMap(Meeting.init), practices: listed, year: year, today: today)
    }

    /// The report from meetings already read (`Meeting(view)`) and the practices to list
    /// (from the GP Collaborative's terms of reference agreed by the year's end, and this
    /// replica's own practice).
    public init(meetings all: [Meeting], practices listed: Set<String>, year: QAIFYear, today: CalendarDate) {
        self.year = year
        let meetings = all.filter { year.contains($0.date) }.sorted { ($0.date, $0.id) < ($1.date, $1.id) }
        let isLeft: (Meeting) -> Bool = { Self.isLeft(date: $0.date, status: $0.status, today: today) }
        held = meetings.filter { !isLeft($0) }.map(\.id)
        left = meetings.filter(isLeft).map(\.id)

        var names = listed
        var attended: [String: [RecordID]] = [:]
        var notCounted: [String: [(RecordID, String, String)]] = [:]
        for meeting in meetings {
            names.formUnion(meeting.named)
            guard !isLeft(meeting) else { continue }
            for p in meeting.counted { attended[p, default: []].append(meeting.id) }
            for n in meeting.notCounted { notCounted[n.practice, default: []].append((meeting.id, n.name, n.reason)) }
        }
        let remaining = today > year.last ? 0 : left.count
        practices = names.sorted().map { p in
            let count = attended[p]?.count ?? 0
            let status: Status = count >= Self.minimum ? .met : count + remaining >= Self.minimum ? .canReach : .cannotReach
            // A reason is kept only for meetings the practice did not otherwise attend.
            let reasons = (notCounted[p] ?? []).filter { !(attended[p] ?? []).contains($0.0) }
            return Row(practice: p, attended: attended[p] ?? [], status: status, notCounted: reasons)
        }
    }

    public var jsonValue: JSONValue {
        .object([
            "year": .string(year.description),
            "from": .string(year.first.description), "to": .string(year.last.description),
            "minimum": .int(Int64(Self.minimum)),
            "meetings_held": .array(held.map { .string($0.rawValue) }),
            "meetings_left": .array(left.map { .string($0.rawValue) }),
            "practices": .array(practices.map { row in
                .object([
                    "practice": .string(row.practice),
                    "attended": .int(Int64(row.attended.count)),
                    "meetings": .array(row.attended.map { .string($0.rawValue) }),
                    "needed": .int(Int64(row.needed)),
                    "status": .string(row.status.rawValue),
                    "not_counted": .array(row.notCounted.map {
                        .object(["meeting": .string($0.meeting.rawValue), "name": .string($0.name), "reason": .string($0.reason)])
                    }),
                ])
            }),
        ])
    }
}
