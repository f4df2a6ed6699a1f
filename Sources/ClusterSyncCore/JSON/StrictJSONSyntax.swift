import Foundation

/// What RFC 8259 does not allow and Foundation's `JSONDecoder` reads anyway: an object with a
/// key twice (the decoder keeps the first, many parsers the last, so two receivers of one line
/// would read two different changes) and a comma before `]` or `}`; and nesting deeper than the
/// decoder survives (`maxDepth`). Checked before the decoder
/// on every text the canonical-line reader did not take (`JSONValue.decode`,
/// `WireCodec.decode`); the rest of JSON's grammar stays the decoder's to check.
///
/// Canonical text never has either (keys are sorted and unique), so a line that fails here is
/// one a client or server wrote by hand, or altered.
enum StrictJSONSyntax {
    /// The deepest nesting read, as `JSONDecoder`'s own limit. Deeper text is refused here and
    /// never reaches the decoder: given a line that ends with a `[` at depth 513, Foundation's
    /// parser traps while describing the error (`JSONError.SourceLocation`, swift-foundation of
    /// Swift 6.3.1), and one such line before any hello stopped the whole server
    /// (`BadInputTests.aLineNestedTooDeepIsMalformedAndTheServerStaysUp`). It also bounds this
    /// check's own stack: a 4 MB line of `[` would otherwise cost an entry a byte.
    static let maxDepth = 512

    /// Throws `malformed` naming the first repeated key, misplaced comma, or nesting too deep.
    static func check(_ bytes: some Collection<UInt8>) throws(ClusterSyncError) {
        // One entry per open object or array: an object's keys so far, nil for an array.
        var open: [Set<[UInt8]>?] = []
        var expectingKey = false
        var lastSignificant: UInt8 = 0
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                let start = index
                index = bytes.index(after: index)
                var escaped = false
                while index != bytes.endIndex, bytes[index] != UInt8(ascii: "\"") || escaped {
                    escaped = !escaped && bytes[index] == UInt8(ascii: "\\")
                    index = bytes.index(after: index)
                }
                // An unterminated string is the decoder's to report.
                guard index != bytes.endIndex else { return }
                if expectingKey, let last = open.indices.last, open[last] != nil {
                    let key = Self.key(bytes[bytes.index(after: start)..<index])
                    // Inserted in place: a copy of the set per key would make an object of many
                    // keys cost their square.
                    guard open[last]!.insert(key).inserted else {
                        // Named, but never echoed whole: a key may be most of a 4 MB line.
                        let name = String(decoding: key.prefix(64), as: UTF8.self) + (key.count > 64 ? "…" : "")
                        throw ClusterSyncError(.malformed, "not valid JSON: the key \"\(name)\" appears twice in one object")
                    }
                    expectingKey = false
                }
            case UInt8(ascii: "{"):
                guard open.count < Self.maxDepth else { throw Self.tooDeep }
                open.append([])
                expectingKey = true
            case UInt8(ascii: "["):
                guard open.count < Self.maxDepth else { throw Self.tooDeep }
                open.append(nil)
                expectingKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if lastSignificant == UInt8(ascii: ",") {
                    throw ClusterSyncError(.malformed, "not valid JSON: a comma before \"\(Character(UnicodeScalar(byte)))\"")
                }
                _ = open.popLast()
                expectingKey = false
            case UInt8(ascii: ","):
                expectingKey = open.last.map { $0 != nil } ?? false
            default:
                break
            }
            if byte != 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D { lastSignificant = byte }
            index = bytes.index(after: index)
        }
    }

    private static var tooDeep: ClusterSyncError {
        ClusterSyncError(.malformed, "not valid JSON: arrays and objects nested more than \(maxDepth) deep")
    }

    /// A key as the decoder reads it: escapes resolved (`"\u0061"` is `"a"`), so a key spelled
    /// twice in two ways is still found.
    private static func key(_ raw: some Collection<UInt8>) -> [UInt8] {
        guard raw.contains(UInt8(ascii: "\\")) else { return Array(raw) }
        let quoted = [UInt8(ascii: "\"")] + Array(raw) + [UInt8(ascii: "\"")]
        guard let text = try? JSONDecoder().decode(String.self, from: Data(quoted)) else { return Array(raw) }
        return Array(text.utf8)
    }
}
