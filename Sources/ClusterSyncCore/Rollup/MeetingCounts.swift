/// Meetings of each body the cluster records (the board, the leadership team, each
/// Professional Collaborative…) in the financial year containing the roll-up's day, as decisions
/// are counted: what a PCPG reads to see that a cluster's bodies meet (PCPG audit: before the
/// forty-third session only the GP Collaborative's meetings counted anywhere, through CND014W).
///
/// A meeting is `held` when it is dated on or before the day and marked held; `left` when it is
/// dated later, or on the day and not yet marked held (the rule of the GP Collaborative's
/// meetings left); `not_recorded` when its day has passed and nobody marked it held: a meeting
/// that may not have taken place, or whose record was never finished. A cancelled meeting, or
/// one without a date, counts nowhere.
public struct MeetingCounts: Sendable, Equatable, Codable {
    /// The financial year counted (`2026-27`, 1 April to 31 March), as `DecisionCounts.year`.
    public var year: String
    /// Per body (`GovernanceSchemas.bodies`, every one present): `held`, `left`, `not_recorded`.
    public var byBody = Dictionary(uniqueKeysWithValues: RecordSchema.bodies.map { ($0, MeetingCounts.none) })

    /// False for a roll-up from a server of an earlier version, which counted no meetings by
    /// body: its zeros are not figures (review, forty-third session). Not on the wire.
    public var reported = true

    public static let states = ["held", "left", "not_recorded"]
    static let none = zeros(states)

    public init(year: FinancialYear, reported: Bool = true) {
        self.year = year.description
        self.reported = reported
    }

    /// Counts a meeting of `body` on `date` with `status` (cancelled meetings are not passed).
    mutating func add(body: String, date: CalendarDate, status: String?, year: FinancialYear, today: CalendarDate) {
        guard year.contains(date), RecordSchema.bodies.contains(body) else { return }
        let state = if AttendanceReport.isLeft(date: date, status: status, today: today) { "left" } else if status == "held" { "held" } else { "not_recorded" }
        byBody[body, default: Self.none][state, default: 0] += 1
    }

    /// "stakeholder board 3 held, 1 left; GP Collaborative 2 held, 1 not recorded as held": the
    /// bodies with any meeting in the year, in `RecordSchema.bodies`' order; nil when none, or
    /// when not `reported`.
    public var shown: String? {
        guard reported else { return nil }
        let lines = RecordSchema.bodies.compactMap { body -> String? in
            let counts = byBody[body] ?? Self.none
            let parts = [("held", "held"), ("left", "left"), ("not_recorded", "not recorded as held")]
                .compactMap { key, words in (counts[key] ?? 0) > 0 ? "\(counts[key] ?? 0) \(words)" : nil }
            return parts.isEmpty ? nil : "\(Self.bodyName(body)) \(parts.joined(separator: ", "))"
        }
        return lines.isEmpty ? nil : lines.joined(separator: "; ")
    }

    /// A body as a sentence names it: "GP Collaborative", "pharmacy Collaborative", "PCPG",
    /// "stakeholder board".
    public static func bodyName(_ body: String) -> String {
        body.split(separator: "-").map { word in
            switch word {
            case "gp", "pcpg": word.uppercased()
            case "collaborative": "Collaborative"
            default: String(word)
            }
        }.joined(separator: " ")
    }

    public static func + (a: MeetingCounts, b: MeetingCounts) -> MeetingCounts {
        var s = a
        s.byBody = a.byBody.merging(b.byBody, uniquingKeysWith: sum)
        s.reported = a.reported && b.reported
        return s
    }

    enum CodingKeys: String, CodingKey {
        case year
        case byBody = "by_body"
    }
}
