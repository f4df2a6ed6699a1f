/// A replica's identity: 64 random bits generated at `init`, written as 16 lowercase hex digits.
///
/// Held as the number, not the text: every change carries one, and batches of changes hash and
/// compare them many times.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let bits: UInt64

    public init(bits: UInt64) {
        self.bits = bits
    }

    public init?(_ text: some StringProtocol) {
        // A String's or Substring's bytes are read where they lie: from another module this
        // generic initialiser is not specialised, and walked the view through the protocol one
        // byte at a time (MEASUREMENTS.md, thirty-fifth session).
        guard let bits = text.utf8.withContiguousStorageIfAvailable({ Self.bits(hex: $0) }) ?? Self.bits(hex: Array(text.utf8)) else {
            return nil
        }
        self.bits = bits
    }

    /// The number 16 lowercase hex digits write; nil for any other text. Read byte by byte,
    /// with no `String` made on the way: every change received carries ids (a long pull's
    /// hundred thousand, MEASUREMENTS.md, thirtieth session).
    static func bits(hex utf8: some Collection<UInt8>) -> UInt64? {
        var (bits, count): (UInt64, Int) = (0, 0)
        for c in utf8 {
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
            count += 1
            guard count <= 16 else { return nil }
            bits = bits << 4 | UInt64(digit)
        }
        return count == 16 ? bits : nil
    }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> ReplicaID {
        ReplicaID(bits: UInt64.random(in: .min ... .max, using: &generator))
    }

    public static func random() -> ReplicaID {
        var g = SystemRandomNumberGenerator()
        return random(using: &g)
    }

    /// The 16 lowercase hex digits.
    public var rawValue: String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            ASCIIDigits.writeHex(bits, width: 16, into: buffer, at: 0)
            return 16
        }
    }

    public var description: String { rawValue }
    /// The order of the hex text, which is the order of the numbers.
    public static func < (a: ReplicaID, b: ReplicaID) -> Bool { a.bits < b.bits }
}

/// A change's globally unique id: the replica that made it and that replica's counter,
/// written `counter@replica` (`42@5f0c9e1a2b3c4d5e`).
public struct ChangeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var replica: ReplicaID
    public var counter: Int64

    /// The largest counter a change may have (2^53 − 1, exact in every JSON reader): a replica
    /// counts its changes from 1, so no honest one comes near it (`Change.validate`).
    public static let maxCounter: Int64 = (1 << 53) - 1

    public init(replica: ReplicaID, counter: Int64) {
        self.replica = replica
        self.counter = counter
    }

    /// Reads the canonical text only: the counter is ASCII digits without sign or leading zero
    /// (1 to 2^63 − 1), the replica 16 lowercase hex digits.
    public init?(_ text: some StringProtocol) {
        // In place, as `ReplicaID.init` reads its text.
        guard let id = text.utf8.withContiguousStorageIfAvailable(Self.parse) ?? Array(text.utf8).withUnsafeBufferPointer(Self.parse) else {
            return nil
        }
        self = id
    }

    /// The ids of a comma-separated list (`sup`, `seen` as stores keep them), in its order;
    /// an entry that is not an id's canonical text is skipped, as is an empty one.
    public static func list(_ text: String) -> [ChangeID] {
        var text = text
        return text.withUTF8 { utf8 in
            var ids: [ChangeID] = []
            var start = 0
            for end in 0...utf8.count where end == utf8.count || utf8[end] == UInt8(ascii: ",") {
                if let id = parse(UnsafeBufferPointer(rebasing: utf8[start..<end])) { ids.append(id) }
                start = end + 1
            }
            return ids
        }
    }

    private static func parse(_ utf8: UnsafeBufferPointer<UInt8>) -> ChangeID? {
        guard let at = utf8.firstIndex(of: UInt8(ascii: "@")) else { return nil }
        // At most 19 digits, so the sum cannot pass UInt64's range before the check against Int64's.
        var (counter, digits): (UInt64, Int) = (0, 0)
        for c in utf8[..<at] {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"), digits > 0 || c != UInt8(ascii: "0"), digits < 19 else { return nil }
            counter = counter * 10 + UInt64(c - UInt8(ascii: "0"))
            digits += 1
        }
        guard digits > 0, counter <= UInt64(Int64.max), let bits = ReplicaID.bits(hex: utf8[(at + 1)...]) else { return nil }
        return ChangeID(replica: ReplicaID(bits: bits), counter: Int64(counter))
    }

    public var description: String {
        // Counters start at 1; a negative one (never valid) keeps its sign.
        guard counter >= 0 else { return "\(counter)@\(replica.rawValue)" }
        let digits = ASCIIDigits.decimalCount(UInt64(counter))
        return String(unsafeUninitializedCapacity: digits + 17) { buffer in write(into: buffer, digits: digits) }
    }

    /// Ids as a store's `sup` and `seen` columns hold them (`counter@replica`, comma-separated),
    /// appended to `out` as UTF-8 without a `String` for each.
    public static func writeList(_ ids: [ChangeID], into out: inout [UInt8]) {
        for index in ids.indices {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            ids[index].writeText(into: &out)
        }
    }

    /// `description`'s bytes appended to `out` (a change's canonical text), without a `String`.
    public func writeText(into out: inout [UInt8]) {
        guard counter >= 0 else {
            out.append(contentsOf: description.utf8)
            return
        }
        let digits = ASCIIDigits.decimalCount(UInt64(counter))
        ASCIIDigits.append(digits + 17, to: &out) { buffer in _ = write(into: buffer, digits: digits) }
    }

    /// counter@replica at the start of `buffer`, for a counter of `digits` decimal digits.
    private func write(into buffer: UnsafeMutableBufferPointer<UInt8>, digits: Int) -> Int {
        ASCIIDigits.writeDecimal(UInt64(counter), count: digits, into: buffer, at: 0)
        buffer[digits] = UInt8(ascii: "@")
        ASCIIDigits.writeHex(replica.bits, width: 16, into: buffer, at: digits + 1)
        return digits + 17
    }

    public static func < (a: ChangeID, b: ChangeID) -> Bool {
        (a.replica, a.counter) < (b.replica, b.counter)
    }
}

/// A record's id: a type prefix and ten Crockford base-32 characters (`RSK-7K3M9Q2X1A`).
/// Made on the replica that creates the record; 50 random bits keep ids of one tenant apart.
public struct RecordID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Crockford base 32: digits and capitals without I, L, O and U.
    public static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// Reads the canonical form only, as changes carry it and validation requires it: a type
    /// prefix in capitals, a dash and ten characters of the alphabet, in capitals (14 ASCII bytes).
    public init?(_ text: some StringProtocol) {
        guard Self.isCanonical(text.utf8) else { return nil }
        self.rawValue = String(text)
    }

    /// `init(_:)` for a `String`, the usual case (a stored row, a decoded value): a generic
    /// call from another module is not specialised, and read each byte through the protocol
    /// at several times the cost.
    public init?(_ text: String) {
        guard Self.isCanonical(text.utf8) else { return nil }
        self.rawValue = text
    }

    /// Byte by byte, with no array or string made on the way (as `ReplicaID.bits(hex:)`).
    private static func isCanonical(_ utf8: some Sequence<UInt8>) -> Bool {
        var (count, prefix): (Int, UInt32) = (0, 0)
        for c in utf8 {
            switch count {
            case 0..<3: prefix = prefix << 8 | UInt32(c)  // as `RecordType.packed`
            case 3: guard c == UInt8(ascii: "-") else { return false }
            case 4..<14: guard inAlphabet[Int(c)] else { return false }
            default: return false
            }
            count += 1
        }
        return count == 14 && RecordType(packedPrefix: prefix) != nil
    }

    /// Whether each byte is one of `alphabet`.
    private static let inAlphabet: [Bool] = (0..<256).map { alphabet.contains(UInt8($0)) }

    /// Reads an id as a person types it: ASCII letters in either case (`rsk-7k3m9q2x1a`), giving
    /// the canonical id. For command-line input only; never for changes or stored values.
    public init?(typed text: some StringProtocol) {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        let upper = String(decoding: text.utf8.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") ? $0 - 0x20 : $0 }, as: UTF8.self)
        self.init(upper)
    }

    public static func random<G: RandomNumberGenerator>(for type: RecordType, using generator: inout G) -> RecordID {
        var body = ""
        for _ in 0..<10 {
            body.unicodeScalars.append(Unicode.Scalar(alphabet[Int.random(in: 0..<32, using: &generator)]))
        }
        return RecordID(type.prefix + "-" + body)!
    }

    public static func random(for type: RecordType) -> RecordID {
        var g = SystemRandomNumberGenerator()
        return random(for: type, using: &g)
    }

    /// The record type named by the id's prefix.
    public var type: RecordType {
        RecordType(packedPrefix: RecordType.packed(rawValue.utf8))!
    }

    public var description: String { rawValue }
    public static func < (a: RecordID, b: RecordID) -> Bool { a.rawValue < b.rawValue }
}

/// Where a record lives. Cluster-shared records have no practice; a practice-private record
/// names the practice that owns it (each practice is its own data controller).
public struct RecordScope: Hashable, Sendable, Codable {
    public var tenant: String
    public var cluster: String
    public var practice: String?

    public init(tenant: String, cluster: String, practice: String? = nil) {
        self.tenant = tenant
        self.cluster = cluster
        self.practice = practice
    }
}
