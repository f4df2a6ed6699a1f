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
        if let sig { o["sig"] = .string(sig) }
        return .object(o)
    }

    /// `jsonValue.canonicalText`, written straight from the fields in sorted key order (no
    /// dictionary, no sort): every change made is signed over this text and stored as it.
    public var jsonText: String {
        // Every byte came from a `String` or is ASCII: the bytes are valid UTF-8.
        String(decoding: jsonBytes(after: ""), as: UTF8.self)
    }

    /// `jsonText`'s UTF-8 bytes after `prefix` (what a signature signs: ChangeSignature).
    func jsonBytes(after prefix: StaticString) -> [UInt8] {
        var text = ChangeTextWriter(capacity: prefix.utf8CodeUnitCount + 256 + (sig == nil ? 0 : 96) + 40 * (supersedes.count + seen.count),
                                    prefix: prefix)
        if let author { text.string("author", author) }
        text.string("cluster", scope.cluster)
        text.string("field", field)
        text.key("hlc")
        text.hlc(hlc)
        text.key("id")
        text.id(id)
        if let practice = scope.practice { text.string("practice", practice) }
        text.string("record", record.rawValue)
        if !seen.isEmpty { text.ids("seen", seen) }
        if let sig { text.string("sig", sig) }
        if !supersedes.isEmpty { text.ids("sup", supersedes) }
        text.string("tenant", scope.tenant)
        if let value { text.key("value"); text.value(value) }
        return text.finishBytes()
    }

    /// `jsonText` of a change as a store's columns hold it, written without decoding it first
    /// (a server's snapshot page, PROTOCOL.md §5.7): `id` and `value` in their canonical text,
    /// `sup` and `seen` as comma-separated change ids (`nil` or empty: none). The keys and their
    /// order are `jsonText`'s; ChangeVectorTests holds the two equal on every vector.
    public static func jsonText(
        author: String?, cluster: String, field: String, hlc: HLCTimestamp, id: String, practice: String?,
        record: String, seen: String?, sig: String?, sup: String?, tenant: String, value: String?
    ) -> String {
        var text = ChangeTextWriter(capacity: 256 + (sig == nil ? 0 : 96) + (value?.utf8.count ?? 0) + (sup?.utf8.count ?? 0)
                                        + (seen?.utf8.count ?? 0))
        if let author { text.string("author", author) }
        text.string("cluster", cluster)
        text.string("field", field)
        text.key("hlc")
        text.hlc(hlc)
        text.string("id", id)
        if let practice { text.string("practice", practice) }
        text.string("record", record)
        if let seen, !seen.isEmpty { text.idTexts("seen", seen.split(separator: ",")) }
        if let sig { text.string("sig", sig) }
        if let sup, !sup.isEmpty { text.idTexts("sup", sup.split(separator: ",")) }
        text.string("tenant", tenant)
        if let value { text.key("value"); text.verbatim(value) }
        return text.finish()
    }

    /// Decodes one change from its JSON text.
    public init(jsonText: some StringProtocol) throws(ClusterSyncError) {
        if let change = CanonicalLineReader.change(jsonText) {
            self = change
            return
        }
        self = try JSONValue.decode(Change.self, from: jsonText)
    }
}

extension Change: Codable {
    enum CodingKeys: String, CodingKey {
        case id, hlc, record, tenant, cluster, practice, field, value, sup, seen, author, sig
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func invalid(_ key: CodingKeys, _ message: String) -> DecodingError {
            .dataCorruptedError(forKey: key, in: c, debugDescription: message)
        }
        func ids(_ key: CodingKeys) throws -> [ChangeID] {
            try (c.decodeIfPresent([String].self, forKey: key) ?? []).map { text in
                guard let id = ChangeID(text) else { throw invalid(key, "\"\(text)\" is not a change id (counter@replica)") }
                return id
            }
        }
        let idText = try c.decode(String.self, forKey: .id)
        guard let id = ChangeID(idText) else {
            throw invalid(.id, "\"\(idText)\" is not of the form counter@replica (a counter from 1 without sign or leading zeros, 16 lowercase hex digits)")
        }
        let hlcText = try c.decode(String.self, forKey: .hlc)
        guard let hlc = HLCTimestamp(text: hlcText) else {
            throw invalid(.hlc, "\"\(hlcText)\" is not 12 lowercase hex digits (below 800000000000), a dash and 4 lowercase hex digits")
        }
        let recordText = try c.decode(String.self, forKey: .record)
        guard let record = RecordID(recordText) else {
            throw invalid(.record, "\"\(recordText)\" is not a type prefix (RSK, ACT, LST, ITM), a dash and 10 base-32 characters, in capitals")
        }
        self.init(
            id: id, hlc: hlc, record: record,
            scope: RecordScope(
                tenant: try c.decode(String.self, forKey: .tenant),
                cluster: try c.decode(String.self, forKey: .cluster),
                practice: try c.decodeIfPresent(String.self, forKey: .practice)),
            field: try c.decode(String.self, forKey: .field),
            value: try c.decodeIfPresent(JSONValue.self, forKey: .value),
            supersedes: try ids(.sup), seen: try ids(.seen),
            author: try c.decodeIfPresent(String.self, forKey: .author),
            sig: try c.decodeIfPresent(String.self, forKey: .sig).map { text in
                guard ChangeSignature.bytes(of: text) != nil else {
                    throw invalid(.sig, "not an Ed25519 signature: 64 bytes in standard base64 with padding (88 characters)")
                }
                return text
            })
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}

extension JSONValue {
    /// Parses JSON text; a syntax error is a `malformed` error.
    public init(parsing text: some StringProtocol) throws(ClusterSyncError) {
        if let fast = JSONValue.parseSimple(text) {
            self = fast
            return
        }
        self = try JSONValue.decode(JSONValue.self, from: text)
    }

    /// Stored values are canonical and mostly plain strings, numbers or flags: read those without
    /// a decoder. Anything else (escapes, objects, arrays) goes through `JSONDecoder`.
    static func parseSimple(_ text: some StringProtocol) -> JSONValue? {
        let utf8 = Array(text.utf8)
        guard let first = utf8.first else { return nil }
        if first == UInt8(ascii: "\""), utf8.count >= 2, utf8.last == UInt8(ascii: "\""),
           !utf8.dropFirst().dropLast().contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 < 0x20 }) {
            return .string(String(decoding: utf8.dropFirst().dropLast(), as: UTF8.self))
        }
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default:
            // JSON's integer grammar, -?(0|[1-9][0-9]*): `Int64(_:)` alone would also take `+5`
            // and `007`, which are not JSON.
            let digits = first == UInt8(ascii: "-") ? utf8.dropFirst() : utf8[...]
            guard let lead = digits.first, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  lead != UInt8(ascii: "0") || digits.count == 1
            else { return nil }
            return Int64(String(decoding: utf8, as: UTF8.self)).map(JSONValue.int)
        }
    }

    /// Decodes a `Decodable` from JSON text, turning decoding errors into `malformed` errors that
    /// name the key at fault.
    public static func decode<T: Decodable>(_ type: T.Type, from text: some StringProtocol) throws(ClusterSyncError) -> T {
        try StrictJSONSyntax.check(text.utf8)
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch let error as ClusterSyncError {
            throw error
        } catch let error as DecodingError {
            throw ClusterSyncError(decoding: error)
        } catch {
            throw ClusterSyncError(.malformed, "not valid JSON: \(error)")
        }
    }
}

extension ClusterSyncError {
    init(decoding error: DecodingError) {
        func path(_ context: DecodingError.Context) -> String? {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? nil : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        /// The key to name as `field`: the first key of a change on the coding path (`sup` for
        /// `sup[0]`, also inside a message that carries changes), else the last key that is not
        /// an array index.
        func field(_ context: DecodingError.Context) -> String? {
            let keys = context.codingPath.filter { $0.intValue == nil }.map(\.stringValue)
            return keys.first { Change.CodingKeys(stringValue: $0) != nil } ?? keys.last
        }
        switch error {
        case .keyNotFound(let key, let context):
            let at = path(context).map { " in \($0)" } ?? ""
            self.init(.malformed, "\"\(key.stringValue)\" is missing\(at)", field: key.stringValue)
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let key = path(context) ?? "the message"
            let expected = type == String.self ? "a string" : type == Int.self || type == Int64.self ? "a number"
                : String(describing: type).hasPrefix("Array") ? "an array" : "\(type)"
            self.init(.malformed, "\"\(key)\" must be \(expected)", field: field(context))
        case .dataCorrupted(let context):
            if let key = path(context) {
                self.init(.malformed, "\"\(key)\": \(context.debugDescription)", field: field(context))
            } else {
                let detail = context.underlyingError.map { "\($0)" } ?? context.debugDescription
                self.init(.malformed, "not valid JSON: \(detail)")
            }
        @unknown default:
            self.init(.malformed, "not valid JSON: \(error)")
        }
    }
}

/// Writes a change's canonical text key by key, as UTF-8 bytes; the caller gives the keys in
/// sorted order. Bytes rather than `String` appends: every change is written once to be signed,
/// once to be pushed and once more by the server for its log, and some thirty appends to a
/// `String` (each checking capacity and re-counting) cost 2.1 µs a change, most of the text's
/// cost (MEASUREMENTS.md, seventeenth session). Ids and clock stamps are written as digits
/// straight into the buffer, without a `String` of their own.
private struct ChangeTextWriter {
    private var out: [UInt8]
    private var first = true

    init(capacity: Int, prefix: StaticString = "") {
        out = []
        out.reserveCapacity(capacity)
        out.append(contentsOf: UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
        out.append(UInt8(ascii: "{"))
    }

    mutating func key(_ name: StaticString) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }

    mutating func string(_ name: StaticString, _ value: some StringProtocol) {
        key(name)
        JSONValue.writeString(value, into: &out)
    }

    mutating func hlc(_ stamp: HLCTimestamp) {
        out.append(UInt8(ascii: "\""))
        stamp.writeText(into: &out)
        out.append(UInt8(ascii: "\""))
    }

    mutating func id(_ id: ChangeID) {
        out.append(UInt8(ascii: "\""))
        id.writeText(into: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Change ids are digits, "@" and hex digits: nothing in them needs escaping.
    mutating func ids(_ name: StaticString, _ list: [ChangeID]) {
        key(name)
        out.append(UInt8(ascii: "["))
        for (index, changeID) in list.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            id(changeID)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Ids as a store's `sup` or `seen` column holds them, already in their text.
    mutating func idTexts(_ name: StaticString, _ list: some Sequence<some StringProtocol>) {
        key(name)
        out.append(UInt8(ascii: "["))
        var firstID = true
        for id in list {
            if !firstID { out.append(UInt8(ascii: ",")) }
            firstID = false
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: id.utf8)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "]"))
    }

    mutating func value(_ value: JSONValue) {
        value.writeCanonical(into: &out)
    }

    /// Text that is canonical JSON already.
    mutating func verbatim(_ text: String) {
        var text = text
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    consuming func finishBytes() -> [UInt8] {
        out.append(UInt8(ascii: "}"))
        return out
    }

    consuming func finish() -> String {
        // Every byte came from a `String` or is ASCII: the bytes are valid UTF-8.
        String(decoding: finishBytes(), as: UTF8.self)
    }
}
