/// A body's quorum: a number of members, or a proportion of its members (rounded up).
public enum QuorumRule: Hashable, Sendable, CustomStringConvertible {
    case count(Int)
    case proportion(numerator: Int, denominator: Int)

    public init?(_ value: JSONValue) {
        guard case .object(let o) = value else { return nil }
        func small(_ v: JSONValue?) -> Int? {
            guard case .int(let n)? = v, n >= 1, n <= 1000 else { return nil }
            return Int(n)
        }
        if o.count == 1, let n = small(o["count"]) {
            self = .count(n)
        } else if o.count == 2, let a = small(o["numerator"]), let b = small(o["denominator"]), a <= b {
            self = .proportion(numerator: a, denominator: b)
        } else {
            return nil
        }
    }

    /// Reads `5` or `1/2` as typed.
    public init?(typed text: String) {
        let parts = text.split(separator: "/").map { String($0.filter { !$0.isWhitespace }) }
        if parts.count == 1, let n = Int(parts[0]), let rule = QuorumRule(.object(["count": .int(Int64(n))])) {
            self = rule
        } else if parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]),
                  let rule = QuorumRule(.object(["numerator": .int(Int64(a)), "denominator": .int(Int64(b))])) {
            self = rule
        } else {
            return nil
        }
    }

    public var jsonValue: JSONValue {
        switch self {
        case .count(let n): .object(["count": .int(Int64(n))])
        case .proportion(let a, let b): .object(["numerator": .int(Int64(a)), "denominator": .int(Int64(b))])
        }
    }

    public var description: String {
        switch self {
        case .count(let n): "\(n)"
        case .proportion(let a, let b): "\(a)/\(b)"
        }
    }

    /// The members needed, or nil for a proportion of a body whose members are not listed.
    public func required(members: Int) -> Int? {
        switch self {
        case .count(let n): return n
        case .proportion(let a, let b):
            guard members > 0 else { return nil }
            return (members * a + b - 1) / b
        }
    }
}

/// The majority a vote needs, over the votes cast (for and against; abstentions are not cast).
public enum MajorityRule: String, Sendable, CaseIterable {
    case simple
    case twoThirds = "two-thirds"
    case threeQuarters = "three-quarters"
    case unanimous

    /// The majority in words, as a check names it: "a two-thirds majority", "a unanimous vote".
    public var words: String {
        switch self {
        case .simple: "a simple majority"
        case .twoThirds: "a two-thirds majority"
        case .threeQuarters: "a three-quarters majority"
        case .unanimous: "a unanimous vote"
        }
    }

    /// Whether `votesFor` against `against` carries the motion. No votes cast carries nothing.
    public func carries(for votesFor: Int, against: Int) -> Bool {
        let cast = votesFor + against
        guard cast > 0 else { return false }
        switch self {
        case .simple: return votesFor > against
        case .twoThirds: return votesFor * 3 >= cast * 2
        case .threeQuarters: return votesFor * 4 >= cast * 3
        case .unanimous: return against == 0
        }
    }
}

/// Money in pounds as registers hold it: digits, optionally a point and two digits.
public enum Amount {
    /// What an amount must be, as a refusal says it.
    public static let described = "an amount in pounds: digits, optionally with two decimal places after a point (12000, 350.50; 1,500 groups thousands)"

    public static func isValid(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, (1...12).contains(whole.count),
              whole.allSatisfy({ $0.isASCII && $0.isNumber }), whole == "0" || whole.first != "0" else { return false }
        if parts.count == 2 { return parts[1].count == 2 && parts[1].allSatisfy { $0.isASCII && $0.isNumber } }
        return true
    }

    /// A valid stored amount in pence (`350.50` → 35050); nil for anything else. Up to 12 digits
    /// of pounds fit an Int64 many times over.
    public static func pence(_ amount: String) -> Int64? {
        guard isValid(amount) else { return nil }
        let parts = amount.split(separator: ".")
        guard let pounds = Int64(parts[0]) else { return nil }
        return pounds * 100 + (parts.count == 2 ? Int64(parts[1]) ?? 0 : 0)
    }

    /// Pence as people read pounds: 1200050 → `£12,000.50`, 1200000 → `£12,000`.
    public static func shown(pence: Int64) -> String {
        let pounds = String(pence / 100), rest = pence % 100
        return shown(rest == 0 ? pounds : pounds + "." + (rest < 10 ? "0" : "") + String(rest))
    }

    /// `£12,000`, `12000` and `12000.00` as typed → `12000` (so a spreadsheet's `£1,500.00`
    /// imported again reads as the `1500` it is, not as a change), and `1500.5`, as Excel's
    /// General format saves £1,500.50, → `1500.50`. A comma is taken out only where it groups
    /// thousands (`1,500`, `12,000.50`): a decimal comma (`1500,50`, `12,5`) stays, and the
    /// amount is refused as typed. Taking every comma out had stored `1500,50` as £150,050.
    public static func typed(_ text: String) -> String {
        var amount = text.filter { $0 != "£" && $0 != " " }
        let whole = amount.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let groups = whole.split(separator: ",", omittingEmptySubsequences: false)
        if groups.count > 1, (1...3).contains(groups[0].count), groups.dropFirst().allSatisfy({ $0.count == 3 }) {
            amount.removeAll { $0 == "," }
        }
        let parts = amount.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 2, parts[1].count == 1, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) { amount += "0" }
        return amount.hasSuffix(".00") ? String(amount.dropLast(3)) : amount
    }

    /// As people read it: `12000` as `£12,000`, `350.50` as `£350.50`.
    public static func shown(_ amount: String) -> String {
        let parts = amount.split(separator: ".", maxSplits: 1)
        var whole = String(parts.first ?? "")
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        return "£" + whole + grouped + (parts.count > 1 ? "." + parts[1] : "")
    }
}

/// A year of twelve months from the first of `startMonth`, written `2026-27` after the calendar
/// year it starts in.
public protocol TwelveMonthYear: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The month it starts on the first of (2 to 12: a year from January is a calendar year).
    static var startMonth: Int { get }
    /// The calendar year in which it starts.
    var startYear: Int { get }
    init(startYear: Int)
}

extension TwelveMonthYear {
    public init(containing date: CalendarDate) {
        self.init(startYear: date.month >= Self.startMonth ? date.year : date.year - 1)
    }

    /// Reads `2026-27` (the second part must be the next year's last two digits).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        // Digits only (`+123-24` read as 123-24 before) and a year people mean.
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
              (parts[0] + parts[1]).allSatisfy({ $0.isASCII && $0.isNumber }), let y = Int(parts[0]), let next = Int(parts[1]),
              (1900...2998).contains(y), (y + 1) % 100 == next else { return nil }
        self.init(startYear: y)
    }

    public var first: CalendarDate { CalendarDate(year: startYear, month: Self.startMonth, day: 1) }
    public var last: CalendarDate { CalendarDate(year: startYear + 1, month: Self.startMonth - 1, day: 1).endOfMonth }
    public func contains(_ date: CalendarDate) -> Bool { first <= date && date <= last }

    public var description: String {
        let next = (startYear + 1) % 100
        return "\(startYear)-\(next < 10 ? "0" : "")\(next)"
    }

    public static func < (a: Self, b: Self) -> Bool { a.startYear < b.startYear }
}

/// A QAIF year: the cycle of the Professional Collaborative indicators, 1 October to
/// 30 September (seed 003: "the 1st October – 30th September QAIF cycle"), written `2026-27`
/// for October 2026 to September 2027. GP Collaborative attendance (CND014W) is counted over it,
/// and a practice's contribution to the cluster plan (CND015W) is due on its last day.
public struct QAIFYear: TwelveMonthYear {
    public static let startMonth = 10
    public var startYear: Int

    public init(startYear: Int) { self.startYear = startYear }

    /// The CND015W deadline for a practice's contribution to the cluster plan: the data shared
    /// with the Health Board "by 30th September to feed in to the IMTP cycle".
    public var contributionDeadline: CalendarDate { last }
}

/// A financial year: 1 April to 31 March, written `2026-27`, as the Health Board's annual report
/// and plans run. Board report periods and the roll-up's decisions of the year use it.
public struct FinancialYear: TwelveMonthYear {
    public static let startMonth = 4
    public var startYear: Int

    public init(startYear: Int) { self.startYear = startYear }
}
