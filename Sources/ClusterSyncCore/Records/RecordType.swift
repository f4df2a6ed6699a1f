/// The kinds of record a cluster keeps.
public enum RecordType: String, CaseIterable, Sendable, Codable {
    /// A risk register entry (guide §3.8, risk scoring guidelines).
    case risk
    /// An action tracker entry.
    case action
    /// A collaborative list: an agenda, the priority list, a membership list, plan objectives.
    case list
    /// One item of a collaborative list.
    case item
    /// A meeting of a cluster body: board, leadership team, collaborative, PCPG (guide §6.2).
    case meeting
    /// An entry of the decision log (guide §3.5 to §3.7).
    case decision
    /// An entry of the declarations of interest register (guide §3.6).
    case declaration
    /// One version of a body's terms of reference: quorum, voting rules, membership.
    case terms
    /// The cluster plan (the three-year rolling plan, guide §7).
    case plan
    /// A GP practice's contribution to the cluster plan / IMTP (QAIF CND015W, CND016W).
    case contribution

    /// The type's name after "a" or "an", for messages: "an action", "a risk".
    public var withArticle: String { "aeiou".contains(rawValue.first!) ? "an \(rawValue)" : "a \(rawValue)" }

    public var prefix: String {
        switch self {
        case .risk: "RSK"
        case .action: "ACT"
        case .list: "LST"
        case .item: "ITM"
        case .meeting: "MTG"
        case .decision: "DEC"
        case .declaration: "DOI"
        case .terms: "TOR"
        case .plan: "PLN"
        case .contribution: "CTB"
        }
    }

    public init?(prefix: String) {
        guard prefix.utf8.count == 3 else { return nil }
        self.init(packedPrefix: Self.packed(prefix.utf8))
    }

    /// The type whose prefix's three bytes, first byte highest, make `packedPrefix`: compared as
    /// numbers, because a record id's type is read for every change received.
    init?(packedPrefix: UInt32) {
        guard let found = Self.packedPrefixes.first(where: { $0.packed == packedPrefix }) else { return nil }
        self = found.type
    }

    /// The first three of `bytes`, first byte highest, as `init(packedPrefix:)` compares them.
    static func packed(_ bytes: some Sequence<UInt8>) -> UInt32 {
        bytes.prefix(3).reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static let packedPrefixes: [(packed: UInt32, type: RecordType)] = allCases.map { (packed($0.prefix.utf8), $0) }

    public var schema: RecordSchema {
        switch self {
        case .risk: RecordSchema.risk
        case .action: RecordSchema.action
        case .list: RecordSchema.list
        case .item: RecordSchema.item
        case .meeting: RecordSchema.meeting
        case .decision: RecordSchema.decision
        case .declaration: RecordSchema.declaration
        case .terms: RecordSchema.terms
        case .plan: RecordSchema.plan
        case .contribution: RecordSchema.contribution
        }
    }
}
