import Foundation

/// The JSON form of a change, as specified in `Protocol/changes.md`.
///
/// Encoding is canonical (sorted keys, no white space, absent rather than empty optional keys), so
/// the same change always has the same bytes. Decoding is strict: a missing or mistyped key is a
/// `malformed` error that names the key.
extension Change {
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(id.description),
            "hlc": .string(hlc.text),
            "record": .string(record.rawValue),
            "tenant": .string(scope.tenant),
            "cluster": .string(scope.cluster),
            "field": .string(field),
        ]
        if let practice = scope.practice { o["practice"] = .string(practice) }
        if let value { o["value"] = value }
        if !supersedes.isEmpty { o["sup"] = .array(supersedes.map { .string($0.description) }) }
        if !seen.isEmpty { o["seen"] = .array(seen.map { .string($0.description) }) }
        if let author { o["author"] = .string(author) }
        return .object(o)
    }

    public var jsonText: String { jsonValue.canonicalText }

    public init(json: JSONValue) throws(ClusterSyncError) {
        guard case .object(let o) = json else {
            throw ClusterSyncError(.malformed, "a change must be a JSON object, not \(json.typeName)")
        }
        func string(_ key: String) throws(ClusterSyncError) -> String {
            guard let v = o[key] else { throw ClusterSyncError(.malformed, "change is missing \"\(key)\"", field: key) }
            guard let s = v.stringValue else {
                throw ClusterSyncError(.malformed, "change key \"\(key)\" must be a string, not \(v.typeName)", field: key)
            }
            return s
        }
        func ids(_ key: String) throws(ClusterSyncError) -> [ChangeID] {
            guard let v = o[key] else { return [] }
            guard case .array(let items) = v else {
                throw ClusterSyncError(.malformed, "change key \"\(key)\" must be an array of change ids", field: key)
            }
            var result: [ChangeID] = []
            result.reserveCapacity(items.count)
            for item in items {
                guard let text = item.stringValue, let id = ChangeID(text) else {
                    throw ClusterSyncError(.malformed, "change key \"\(key)\" holds \(item) which is not a change id (counter@replica)", field: key)
                }
                result.append(id)
            }
            return result
        }
        let idText = try string("id")
        guard let id = ChangeID(idText) else {
            throw ClusterSyncError(.malformed, "change id \"\(idText)\" is not of the form counter@replica (16 hex digits)", field: "id")
        }
        let hlcText = try string("hlc")
        guard let hlc = HLCTimestamp(text: hlcText) else {
            throw ClusterSyncError(.malformed, "change hlc \"\(hlcText)\" is not 12 hex digits, a dash and 4 hex digits", field: "hlc")
        }
        let recordText = try string("record")
        guard let record = RecordID(recordText) else {
            throw ClusterSyncError(.malformed, "record id \"\(recordText)\" is not a type prefix (RSK, ACT, LST, ITM) and 10 base-32 characters", field: "record")
        }
        var practice: String?
        if let p = o["practice"] {
            guard let s = p.stringValue else {
                throw ClusterSyncError(.malformed, "change key \"practice\" must be a string", field: "practice")
            }
            practice = s
        }
        var author: String?
        if let a = o["author"] {
            guard let s = a.stringValue else {
                throw ClusterSyncError(.malformed, "change key \"author\" must be a string", field: "author")
            }
            author = s
        }
        self.init(
            id: id, hlc: hlc, record: record,
            scope: RecordScope(tenant: try string("tenant"), cluster: try string("cluster"), practice: practice),
            field: try string("field"), value: o["value"], supersedes: try ids("sup"), seen: try ids("seen"),
            author: author
        )
    }

    public init(jsonText: some StringProtocol) throws(ClusterSyncError) {
        try self.init(json: try JSONValue(parsing: jsonText))
    }
}

extension JSONValue {
    /// Parses JSON text; a syntax error is a `malformed` error.
    public init(parsing text: some StringProtocol) throws(ClusterSyncError) {
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw ClusterSyncError(.malformed, "not valid JSON: \(JSONValue.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        switch decoding {
        case .dataCorrupted(let context): return context.underlyingError.map { "\($0)" } ?? context.debugDescription
        default: return "\(decoding)"
        }
    }
}
