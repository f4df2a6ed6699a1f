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

    public var prefix: String {
        switch self {
        case .risk: "RSK"
        case .action: "ACT"
        case .list: "LST"
        case .item: "ITM"
        }
    }

    public init?(prefix: String) {
        guard let type = RecordType.allCases.first(where: { $0.prefix == prefix }) else { return nil }
        self = type
    }

    public var schema: RecordSchema {
        switch self {
        case .risk: RecordSchema.risk
        case .action: RecordSchema.action
        case .list: RecordSchema.list
        case .item: RecordSchema.item
        }
    }
}
