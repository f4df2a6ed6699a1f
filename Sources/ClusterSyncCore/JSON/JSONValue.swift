/// A JSON value as carried in a change.
///
/// Values are compared and stored in their canonical text (`canonicalText`): object keys sorted,
/// no insignificant white space. Two replicas that hold the same value therefore hold the same
/// bytes, which is what lets converged replicas export byte-identical state.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e15: return Int64(d)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// A short name of the JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Most values are strings: try the common cases first, since each miss costs a thrown error.
        if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if container.decodeNil() {
            self = .null
        } else if let i = try? container.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            // A number written with a fraction can still be a whole double (666666666666666386.38
            // is 666666666666666368 once a double). Its canonical text would then be read back as
            // an integer, another value: it is that integer from the start (found by
            // FuzzChangeCodec). Whole doubles beyond Int64 stay doubles, as their text reads back.
            if d.rounded() == d, d >= -9.223372036854775808e18, d < 9.223372036854775808e18 {
                self = .int(Int64(d))
            } else {
                self = .double(d)
            }
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let o = try? container.decode([String: JSONValue].self) {
            self = .object(o)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            // `JSONDecoder` checks a value's syntax only when it is decoded, so a raw control
            // character in a string or a number such as `+5` or `007` lands here, as does any
            // value that holds one. It is a syntax error of the whole text, not a fault of a key.
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: [],
                debugDescription: "\(Self.path(decoder.codingPath)) holds a raw control character in a string "
                    + "or a number outside JSON's grammar"))
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        let keys = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return keys.isEmpty ? "the top level" : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { canonicalText }
}
