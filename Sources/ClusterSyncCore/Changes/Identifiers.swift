/// A replica's identity: 16 lowercase hex digits (64 random bits), generated at `init`.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(_ text: some StringProtocol) {
        guard text.utf8.count == 16, text.utf8.allSatisfy({ Self.isHexDigit($0) }) else { return nil }
        self.rawValue = String(text)
    }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> ReplicaID {
        let bits = UInt64.random(in: .min ... .max, using: &generator)
        let hex = String(bits, radix: 16)
        return ReplicaID(String(repeating: "0", count: 16 - hex.count) + hex)!
    }

    public static func random() -> ReplicaID {
        var g = SystemRandomNumberGenerator()
        return random(using: &g)
    }

    public var description: String { rawValue }
    public static func < (a: ReplicaID, b: ReplicaID) -> Bool { a.rawValue < b.rawValue }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f"))
    }
}

/// A change's globally unique id: the replica that made it and that replica's counter,
/// written `counter@replica` (`42@5f0c9e1a2b3c4d5e`).
public struct ChangeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var replica: ReplicaID
    public var counter: Int64

    public init(replica: ReplicaID, counter: Int64) {
        self.replica = replica
        self.counter = counter
    }

    public init?(_ text: some StringProtocol) {
        guard let at = text.firstIndex(of: "@"),
              let counter = Int64(text[text.startIndex..<at]), counter > 0,
              let replica = ReplicaID(text[text.index(after: at)...])
        else { return nil }
        self.init(replica: replica, counter: counter)
    }

    public var description: String { "\(counter)@\(replica.rawValue)" }

    public static func < (a: ChangeID, b: ChangeID) -> Bool {
        (a.replica, a.counter) < (b.replica, b.counter)
    }
}

/// A record's id: a type prefix and ten Crockford base-32 characters (`RSK-7K3M9Q2X1A`).
/// Made on the replica that creates the record; 50 random bits keep ids of one tenant apart.
public struct RecordID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public init?(_ text: some StringProtocol) {
        let upper = text.uppercased()
        let parts = upper.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, RecordType(prefix: String(parts[0])) != nil, parts[1].utf8.count == 10,
              parts[1].utf8.allSatisfy({ Self.alphabet.contains($0) })
        else { return nil }
        self.rawValue = upper
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
    public var type: RecordType { RecordType(prefix: String(rawValue.prefix(3)))! }

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
