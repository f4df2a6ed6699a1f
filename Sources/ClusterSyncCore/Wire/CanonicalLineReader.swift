/// Reads the lines that carry changes in bulk, `changes` and `snapshot` pages and `push` batches, straight
/// from their bytes into `Change`s: no `JSONDecoder`, no intermediate tree. It takes only what
/// it is sure of (the keys of those messages, well-formed JSON, integers without fraction or
/// exponent, no `null` for an optional key, no key twice) and checks every identifier with the
/// same constructors as `Change(from:)`; anything else, including any change that would be
/// unreadable or malformed, makes it give up (nil) and the line goes through `WireCodec`'s
/// decoder, which says exactly what is wrong. So the two paths decode every line they both
/// accept to the same message (tested on the vectors and by the fuzz corpus).
enum CanonicalLineReader {
    /// The message, or nil when the line is not one this reader takes.
    static func message(_ bytes: UnsafeRawBufferPointer, clientMessagesOnly: Bool) -> WireMessage? {
        var reader = Reader(bytes: bytes)
        return reader.line(clientMessagesOnly: clientMessagesOnly)
    }

    static func message(_ text: some StringProtocol, clientMessagesOnly: Bool) -> WireMessage? {
        var utf8 = String(text)
        return utf8.withUTF8 { message(UnsafeRawBufferPointer($0), clientMessagesOnly: clientMessagesOnly) }
    }

    /// `bytes` as a string, or nil when they are not valid UTF-8; `ascii` says none is 0x80 or
    /// above (every such string is valid).
    ///
    /// Not `String(validating:as:)`: it is generic and not specialised for UTF-8, so each call
    /// looks up type metadata at run time, a tenth of a replica's CPU in a long pull
    /// (MEASUREMENTS.md, thirtieth session). Decoding replaces invalid UTF-8 with U+FFFD, whose
    /// bytes are valid and so cannot be where the input's invalid ones were: the input was
    /// valid exactly when the decoded string has the same bytes.
    static func validUTF8(_ bytes: UnsafeRawBufferPointer, ascii: Bool) -> String? {
        var text = String(decoding: bytes, as: UTF8.self)
        guard !ascii else { return text }
        return text.withUTF8 { $0.elementsEqual(bytes) } ? text : nil
    }

    /// One change's JSON text (`Change(jsonText:)`), or nil when it is not one this reader takes.
    static func change(_ text: some StringProtocol) -> Change? {
        var utf8 = String(text)
        return utf8.withUTF8 { buffer in
            var reader = Reader(bytes: UnsafeRawBufferPointer(buffer))
            guard let change = reader.change() else { return nil }
            reader.skipSpace()
            return reader.i == buffer.count ? change : nil
        }
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var i = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), colon = UInt8(ascii: ":"), comma = UInt8(ascii: ",")
        static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
        static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")

        mutating func line(clientMessagesOnly: Bool) -> WireMessage? {
            guard take(Self.openBrace) else { return nil }
            var type: String?, cursor: String?, batch: String?, more: Bool?
            var changes: [Change]?
            var seen = 0
            if !take(Self.closeBrace) {
                repeat {
                    guard let key = keyBytes() else { return nil }
                    let bit: Int
                    switch key {
                    case "type": guard let text = string() else { return nil }; type = text; bit = 1
                    case "changes": guard let list = changeArray() else { return nil }; changes = list; bit = 2
                    case "cursor": guard let text = string() else { return nil }; cursor = text; bit = 4
                    case "more": guard let flag = bool() else { return nil }; more = flag; bit = 8
                    case "batch": guard let text = string() else { return nil }; batch = text; bit = 16
                    default: return nil
                    }
                    guard seen & bit == 0 else { return nil }
                    seen |= bit
                } while take(Self.comma)
                guard take(Self.closeBrace) else { return nil }
            }
            skipSpace()
            guard i == bytes.count, let type, let changes else { return nil }
            switch type {
            case "changes" where !clientMessagesOnly && batch == nil:
                guard let cursor, let more else { return nil }
                return .changes(ChangesPage(changes: changes, cursor: Cursor(cursor), more: more))
            case "snapshot" where !clientMessagesOnly && batch == nil:
                // A snapshot page has the keys of a changes page (PROTOCOL.md §5.7).
                guard let cursor, let more else { return nil }
                return .snapshot(ChangesPage(changes: changes, cursor: Cursor(cursor), more: more))
            case "push" where cursor == nil && more == nil:
                guard let batch else { return nil }
                return .push(Push(batch: batch, changes: changes))
            default:
                return nil
            }
        }

        // MARK: Changes

        mutating func changeArray() -> [Change]? {
            guard take(Self.openBracket) else { return nil }
            var changes: [Change] = []
            if take(Self.closeBracket) { return changes }
            repeat {
                guard let change = change() else { return nil }
                changes.append(change)
            } while take(Self.comma)
            return take(Self.closeBracket) ? changes : nil
        }

        mutating func change() -> Change? {
            guard take(Self.openBrace) else { return nil }
            var id: ChangeID?, hlc: HLCTimestamp?, record: RecordID?
            var tenant: String?, cluster: String?, practice: String?, field: String?, author: String?, sig: String?
            var value: JSONValue?
            var supersedes: [ChangeID] = [], seenIDs: [ChangeID] = []
            var seen = 0
            repeat {
                guard let key = changeKey() else { return nil }
                let bit: Int
                switch key {
                case .id:
                    guard let text = string(), let parsed = ChangeID(text) else { return nil }
                    id = parsed; bit = 1
                case .hlc:
                    guard let text = string(), let parsed = HLCTimestamp(text: text) else { return nil }
                    hlc = parsed; bit = 2
                case .record:
                    guard let text = string(), let parsed = RecordID(text) else { return nil }
                    record = parsed; bit = 4
                case .tenant: guard let text = string() else { return nil }; tenant = text; bit = 8
                case .cluster: guard let text = string() else { return nil }; cluster = text; bit = 16
                case .practice: guard let text = string() else { return nil }; practice = text; bit = 32
                case .field: guard let text = string() else { return nil }; field = text; bit = 64
                case .author: guard let text = string() else { return nil }; author = text; bit = 128
                case .value:
                    // `null` would be an absent value to the decoder, not `.null`: leave it to it.
                    guard let parsed = self.value(depth: 0), parsed != JSONValue.null else { return nil }
                    value = parsed; bit = 256
                case .sup: guard let ids = idArray() else { return nil }; supersedes = ids; bit = 512
                case .seen: guard let ids = idArray() else { return nil }; seenIDs = ids; bit = 1024
                case .sig:
                    guard let text = string(), ChangeSignature.bytes(of: text) != nil else { return nil }
                    sig = text; bit = 2048
                }
                guard seen & bit == 0 else { return nil }
                seen |= bit
            } while take(Self.comma)
            guard take(Self.closeBrace), let id, let hlc, let record, let tenant, let cluster, let field else { return nil }
            return Change(id: id, hlc: hlc, record: record, scope: RecordScope(tenant: tenant, cluster: cluster, practice: practice),
                          field: field, value: value, supersedes: supersedes, seen: seenIDs, author: author, sig: sig)
        }

        /// The keys a change may have (`Change`'s coding keys).
        enum ChangeKey: CaseIterable {
            case id, hlc, record, tenant, cluster, practice, field, author, value, sup, seen, sig
        }

        static let changeKeys: [(text: [UInt8], key: ChangeKey)] = ChangeKey.allCases.map { (Array("\($0)".utf8), $0) }

        /// A change's key and its colon, matched on the line's bytes: no string is made for it.
        /// An escaped key or any other is nil (the decoder then reads the line, as it does keys
        /// this reader does not take).
        mutating func changeKey() -> ChangeKey? {
            skipSpace()
            guard i < bytes.count, bytes[i] == Self.quote else { return nil }
            let start = i + 1
            var end = start
            while end < bytes.count, bytes[end] != Self.quote {
                guard bytes[end] != Self.backslash else { return nil }
                end += 1
            }
            guard end < bytes.count else { return nil }
            let text = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            guard let found = Self.changeKeys.first(where: { $0.text.count == text.count && $0.text.elementsEqual(text) }) else { return nil }
            i = end + 1
            return take(Self.colon) ? found.key : nil
        }

        mutating func idArray() -> [ChangeID]? {
            guard take(Self.openBracket) else { return nil }
            var ids: [ChangeID] = []
            if take(Self.closeBracket) { return ids }
            repeat {
                guard let text = string(), let id = ChangeID(text) else { return nil }
                ids.append(id)
            } while take(Self.comma)
            return take(Self.closeBracket) ? ids : nil
        }

        // MARK: JSON values

        mutating func value(depth: Int) -> JSONValue? {
            guard depth < 32 else { return nil }
            skipSpace()
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case Self.quote:
                return string().map(JSONValue.string)
            case Self.openBrace:
                i += 1
                var object: [String: JSONValue] = [:]
                if take(Self.closeBrace) { return .object(object) }
                repeat {
                    skipSpace()
                    guard let key = string(), take(Self.colon), let member = value(depth: depth + 1),
                          object.updateValue(member, forKey: key) == nil else { return nil }
                } while take(Self.comma)
                return take(Self.closeBrace) ? .object(object) : nil
            case Self.openBracket:
                i += 1
                var array: [JSONValue] = []
                if take(Self.closeBracket) { return .array(array) }
                repeat {
                    guard let element = value(depth: depth + 1) else { return nil }
                    array.append(element)
                } while take(Self.comma)
                return take(Self.closeBracket) ? .array(array) : nil
            case UInt8(ascii: "t"), UInt8(ascii: "f"):
                return bool().map(JSONValue.bool)
            case UInt8(ascii: "n"):
                return literal("null") ? .null : nil
            default:
                return integer().map(JSONValue.int)
            }
        }

        /// JSON's integer grammar, -?(0|[1-9][0-9]*), within Int64; a fraction, an exponent or
        /// "-0" is left to the decoder.
        mutating func integer() -> Int64? {
            var negative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
                negative = true
                i += 1
            }
            let digitsStart = i
            var magnitude: UInt64 = 0
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (plus, o2) = times.addingReportingOverflow(UInt64(bytes[i] - UInt8(ascii: "0")))
                guard !o1, !o2 else { return nil }
                magnitude = plus
                i += 1
            }
            let count = i - digitsStart
            guard count > 0, bytes[digitsStart] != UInt8(ascii: "0") || count == 1, !(negative && magnitude == 0) else { return nil }
            if i < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[i]) { return nil }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
                return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
            }
            guard magnitude <= UInt64(Int64.max) else { return nil }
            return Int64(magnitude)
        }

        mutating func bool() -> Bool? {
            skipSpace()
            if literal("true") { return true }
            if literal("false") { return false }
            return nil
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard i + n <= bytes.count else { return false }
            for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return false }
            i += n
            return true
        }

        /// A key and its colon.
        mutating func keyBytes() -> String? {
            skipSpace()
            guard let key = string(), take(Self.colon) else { return nil }
            return key
        }

        /// A string: without escapes (nearly every one) it is one validated copy of its bytes.
        mutating func string() -> String? {
            skipSpace()
            guard i < bytes.count, bytes[i] == Self.quote else { return nil }
            i += 1
            let start = i
            // Every byte or'ed together: below 0x80, the string is ASCII and needs no validation.
            var seen: UInt8 = 0
            while i < bytes.count {
                let byte = bytes[i]
                seen |= byte
                if byte == Self.quote {
                    let text = CanonicalLineReader.validUTF8(UnsafeRawBufferPointer(rebasing: bytes[start..<i]), ascii: seen < 0x80)
                    i += 1
                    return text
                }
                if byte == Self.backslash { return escapedString(from: start) }
                if byte < 0x20 { return nil }
                i += 1
            }
            return nil
        }

        mutating func escapedString(from start: Int) -> String? {
            var out: [UInt8] = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
            while i < bytes.count {
                let byte = bytes[i]
                if byte == Self.quote {
                    i += 1
                    return out.withUnsafeBytes { CanonicalLineReader.validUTF8($0, ascii: false) }
                }
                if byte < 0x20 { return nil }
                guard byte == Self.backslash else {
                    out.append(byte)
                    i += 1
                    continue
                }
                i += 1
                guard i < bytes.count else { return nil }
                let escape = bytes[i]
                i += 1
                switch escape {
                case Self.quote, Self.backslash, UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard let unit = hex4() else { return nil }
                    var scalar: Unicode.Scalar?
                    if (0xD800..<0xDC00).contains(unit) {
                        guard literal("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                    } else {
                        scalar = Unicode.Scalar(unit)
                    }
                    guard let scalar else { return nil }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    return nil
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let digit: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
                default: return nil
                }
                value = value << 4 | digit
                i += 1
            }
            return value
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
            return true
        }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x09 || bytes[i] == 0x0D { i += 1 }
        }
    }
}
