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

    public static let states = ["held", "left", "not_recorded"]
    static let none = zeros(states)

    public init(year: FinancialYear) { self.year = year.description }

    /// Counts a meeting of `body` on `date` with `status` (cancelled meetings are not passed).
    mutating func add(body: String, date: CalendarDate, status: String?, year: FinancialYear, today: CalendarDate) {
        guard year.contains(date), RecordSchema.bodies.contains(body) else { return }
        let state = if date > today || (date == today && status != "held") { "left" } else if status == "held" { "held" } else { "not_recorded" }
        byBody[body, default: Self.none][state, default: 0] += 1
    }

    /// "stakeholder board 3 held, 1 left; GP collaborative 2 held, 1 not recorded as held": the
    /// bodies with any meeting in the year, in `RecordSchema.bodies`' order; nil when none.
    public var shown: String? {
        let lines = RecordSchema.bodies.compactMap { body -> String? in
            let counts = byBody[body] ?? Self.none
            let parts = [("held", "held"), ("left", "left"), ("not_recorded", "not recorded as held")]
                .compactMap { key, words in (counts[key] ?? 0) > 0 ? "\(counts[key] ?? 0) \(words)" : nil }
            return parts.isEmpty ? nil : "\(body.replacingOccurrences(of: "-", with: " ")) \(parts.joined(separator: ", "))"
        }
        return lines.isEmpty ? nil : lines.joined(separator: "; ")
    }

    public static func + (a: MeetingCounts, b: MeetingCounts) -> MeetingCounts {
        var s = a
        s.byBody = a.byBody.merging(b.byBody, uniquingKeysWith: sum)
        return s
    }

    enum CodingKeys: String, CodingKey {
        case year
        case byBody = "by_body"
    }
}
