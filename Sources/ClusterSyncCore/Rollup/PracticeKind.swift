/// What kind of contractor or team a practice registered in a cluster is (seed 003's
/// Professional Collaboratives, one per contractor profession, and the community teams a
/// cluster also brings together). The spelling (`rawValue`) is the same on the command line
/// (`practice add --kind`), in both stores and in the roll-up's `practices_by_kind`.
///
/// Only a GP practice is held to the GP contract's QAIF indicators: attending the GP
/// Collaborative four times a year (CND014W) and contributing to the cluster plan (CND015W,
/// CND016W). A community pharmacy registered in the cluster owes neither, so the roll-up does not
/// name it among the practices without attendance or a contribution (PCPG audit: before the
/// forty-third session every registered practice was taken for a GP practice).
public enum PracticeKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible, TypedChoice {
    case gp
    case pharmacy
    case dental
    case optometry
    case communityNursing = "community-nursing"
    case alliedHealth = "allied-health"
    case other

    public var description: String { rawValue }

    public static let choiceName = "a practice's kind"
    public static let choiceField = "kind"

    /// Whether the GP contract's QAIF indicators (CND014W attendance, CND015W/016W contributions
    /// to the cluster plan) apply.
    public var owesQAIFClusterIndicators: Bool { self == .gp }

    /// As a sentence names a count of them: "GP", "pharmacy", "community nursing".
    public var shown: String { self == .gp ? "GP" : rawValue.replacingOccurrences(of: "-", with: " ") }
}
