/// An enum whose cases people type as their spellings (`rawValue`): a credential's role, a
/// practice's kind. One parse and one refusal for each.
public protocol TypedChoice: RawRepresentable, CaseIterable, Sendable where RawValue == String {
    /// What a refusal calls the value ("role", "a practice's kind").
    static var choiceName: String { get }
    /// The field a refusal names.
    static var choiceField: String { get }
}

extension TypedChoice {
    /// `practice, cluster-lead, pcpg, health-board`.
    public static var allSpellings: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Parses a spelling typed by a person or read from the wire.
    public static func parse(_ text: String) throws(ClusterSyncError) -> Self {
        guard let value = Self(rawValue: text) else {
            throw ClusterSyncError(.invalidValue, "\(choiceName) must be one of \(allSpellings); got \"\(text.prefix(40))\"", field: choiceField)
        }
        return value
    }
}
