/// A hybrid logical clock timestamp: wall-clock milliseconds since 1970 and a logical counter
/// that orders events within one millisecond (or while the wall clock stands behind).
///
/// Packed into one `Int64` (`millis << 16 | logical`) for storage, and written on the wire as
/// 12 hex digits, a dash and 4 hex digits (`019ab0c3d2e1-0000`), which sorts as it compares.
public struct HLCTimestamp: Hashable, Comparable, Sendable {
    public var millis: Int64
    public var logical: UInt16

    public init(millis: Int64, logical: UInt16 = 0) {
        self.millis = millis
        self.logical = logical
    }

    public init(packed: Int64) {
        self.millis = packed >> 16
        self.logical = UInt16(truncatingIfNeeded: packed & 0xFFFF)
    }

    public var packed: Int64 { millis << 16 | Int64(logical) }

    public static func < (a: HLCTimestamp, b: HLCTimestamp) -> Bool {
        (a.millis, a.logical) < (b.millis, b.logical)
    }

    public static let zero = HLCTimestamp(millis: 0)

    public var text: String {
        // 12 digits hold every valid stamp (`maximumMillis`); one past it (never read, never
        // packed) keeps all its digits.
        guard millis >= 0, millis <= Self.maximumMillis else {
            let m = String(millis, radix: 16)
            let l = String(logical, radix: 16)
            return String(repeating: "0", count: max(0, 12 - m.count)) + m + "-" + String(repeating: "0", count: 4 - l.count) + l
        }
        return String(unsafeUninitializedCapacity: 17) { buffer in write(into: buffer) }
    }

    /// `text`'s bytes appended to `out` (a change's canonical text), without a `String`.
    func writeText(into out: inout [UInt8]) {
        guard millis >= 0, millis <= Self.maximumMillis else {
            out.append(contentsOf: text.utf8)
            return
        }
        ASCIIDigits.append(17, to: &out) { buffer in _ = write(into: buffer) }
    }

    /// The 17 characters of a valid stamp's text at the start of `buffer`.
    private func write(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        ASCIIDigits.writeHex(UInt64(millis), width: 12, into: buffer, at: 0)
        buffer[12] = UInt8(ascii: "-")
        ASCIIDigits.writeHex(UInt64(logical), width: 4, into: buffer, at: 13)
        return 17
    }

    /// The largest `millis` a stamp may have: the packed form keeps 47 bits for it (year 6429).
    public static let maximumMillis: Int64 = (1 << 47) - 1

    /// Reads the canonical text only: lowercase hex digits (no capitals, no sign), and `millis`
    /// at most `maximumMillis`, so that every stamp read also packs.
    public init?(text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 17, utf8[12] == UInt8(ascii: "-") else { return nil }
        func hex(_ bytes: ArraySlice<UInt8>) -> Int64? {
            var n: Int64 = 0
            for c in bytes {
                let digit: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
                default: return nil
                }
                n = n << 4 | Int64(digit)
            }
            return n
        }
        guard let m = hex(utf8[0..<12]), m <= Self.maximumMillis, let l = hex(utf8[13..<17]) else { return nil }
        self.init(millis: m, logical: UInt16(l))
    }
}

/// The clock of one replica. Pure: the wall time is passed in, so tests can drive it.
public struct HybridLogicalClock: Sendable {
    public private(set) var last: HLCTimestamp

    public init(last: HLCTimestamp = .zero) {
        self.last = last
    }

    /// The timestamp of a new local event.
    public mutating func tick(wallMillis: Int64) -> HLCTimestamp {
        if wallMillis > last.millis {
            last = HLCTimestamp(millis: wallMillis)
        } else if last.logical == .max {
            last = HLCTimestamp(millis: last.millis + 1)
        } else {
            last.logical += 1
        }
        return last
    }

    /// Takes a remote timestamp into account so that later local events sort after it.
    public mutating func observe(_ remote: HLCTimestamp) {
        if remote > last { last = remote }
    }
}

/// How far ahead of the receiver's wall clock a change may be stamped before it is refused.
public enum ClockPolicy {
    /// Five minutes: generous for laptops that have been offline, tight enough that one
    /// misconfigured machine cannot pin every replica's clock hours into the future.
    public static let maximumSkewMillis: Int64 = 5 * 60 * 1000

    /// The most a server may be set to allow (`limits.maxClockSkewSeconds`), and take for its
    /// replicas in its welcome: an hour.
    public static let largestSkewMillis: Int64 = 60 * 60 * 1000
}
