import Foundation

/// Dates and record ids encode as the strings people read (`2026-11-23`, `RSK-…`), so kept
/// roll-up contributions and roll-ups have the JSON shape the README documents.
extension CalendarDate: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CalendarDate(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected a date YYYY-MM-DD"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension RecordID: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = RecordID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected a record id like RSK-…"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
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
