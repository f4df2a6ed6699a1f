import Foundation

/// Dates and record ids encode as the strings people read (`2026-11-23`, `RSK-…`), so kept
/// roll-up contributions and roll-ups have the JSON shape the README documents.
protocol CodableAsText: Codable {
    init?(text: String)
    var text: String { get }
    /// What a bad value should have looked like, for the decoding error.
    static var expectedText: String { get }
}

extension CodableAsText {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(text: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected \(Self.expectedText)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

extension CalendarDate: CodableAsText {
    init?(text: String) { self.init(text) }
    var text: String { description }
    static var expectedText: String { "a date YYYY-MM-DD" }
}

extension RecordID: CodableAsText {
    init?(text: String) { self.init(text) }
    var text: String { rawValue }
    static var expectedText: String { "a record id like RSK-…" }
}

extension ClusterRollup {
    /// The JSON shape documented in the README (keys sorted when printed canonically).
    public var jsonValue: JSONValue { rollupJSON(self) }
}

extension RegionRollup {
    /// The JSON shape documented in the README: the cluster roll-ups and their totals.
    public var jsonValue: JSONValue { rollupJSON(self) }
}

private func rollupJSON(_ value: some Encodable) -> JSONValue {
    // Encoding plain counts, dates and strings cannot fail.
    (try? JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))) ?? .null
}
