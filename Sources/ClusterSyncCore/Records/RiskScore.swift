/// Likelihood and consequence on the NHS 5x5 risk matrix, held together as one value so that
/// two concurrent re-scorings conflict as pairs instead of merging into a score nobody gave.
public struct RiskScore: Hashable, Sendable {
    public static let likelihoodWords = ["rare", "unlikely", "possible", "likely", "almost certain"]
    public static let consequenceWords = ["negligible", "minor", "moderate", "major", "catastrophic"]

    public var likelihood: Int
    public var consequence: Int

    public init?(likelihood: Int, consequence: Int) {
        guard (1...5).contains(likelihood), (1...5).contains(consequence) else { return nil }
        self.likelihood = likelihood
        self.consequence = consequence
    }

    public init?(_ value: JSONValue) {
        guard let l = value["likelihood"]?.intValue, let c = value["consequence"]?.intValue else { return nil }
        self.init(likelihood: Int(l), consequence: Int(c))
    }

    public var jsonValue: JSONValue {
        .object(["likelihood": .int(Int64(likelihood)), "consequence": .int(Int64(consequence))])
    }

    public var score: Int { likelihood * consequence }

    /// The score from which escalating beyond the cluster is commonly considered (domain: "a
    /// common trigger is a score of 15 or more"): the extreme band.
    public static let escalationTrigger = 15

    /// Whether an open cluster-shared risk is flagged for the lead to consider escalating: scored
    /// at the trigger or above and not escalated beyond the cluster. One rule for a risk's page
    /// and the roll-up's count (`RiskCounts.escalationSuggested`).
    public static func suggestsEscalation(_ score: RiskScore?, status: String?, escalation: String?) -> Bool {
        guard let score, score.score >= escalationTrigger, (status ?? "open") == "open" else { return false }
        return !LeadPowers.beyondTheCluster.contains(escalation ?? "")
    }

    /// The NPSA bands: 1-3 low, 4-6 moderate, 8-12 high, 15-25 extreme.
    public var band: Band {
        switch score {
        case ...3: .low
        case ...6: .moderate
        case ...12: .high
        default: .extreme
        }
    }

    public enum Band: String, Sendable, CaseIterable {
        case low, moderate, high, extreme

        /// The colour the matrix gives the band.
        public var colour: String {
            switch self {
            case .low: "green"
            case .moderate: "yellow"
            case .high: "amber"
            case .extreme: "red"
            }
        }
    }
}

/// An action's BRAG rating, derived from its status and due date on a given day.
public enum BRAG: String, Sendable, CaseIterable {
    case blue, red, amber, green
    /// Cancelled actions carry no rating.
    case none

    public static func rate(status: String?, dueDate: CalendarDate?, today: CalendarDate) -> BRAG {
        switch status {
        case "complete", "closed": return .blue
        case "cancelled": return .none
        default:
            guard let due = dueDate else { return .green }
            if due < today { return .red }
            if due.dayNumber - today.dayNumber <= 14 { return .amber }
            return .green
        }
    }
}
