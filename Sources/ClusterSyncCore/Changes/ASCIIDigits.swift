/// Digits written straight into a new string's storage. Every change's id, replica and clock
/// stamp are formatted as text on the hot paths (its canonical text, the store's columns), and
/// `String(_:radix:)` with padding took three allocations for each.
public enum ASCIIDigits {
    private static let hexDigits: StaticString = "0123456789abcdef"

    /// `value` as exactly `width` lowercase hex digits (the leading ones zero), at `offset`.
    static func writeHex(_ value: UInt64, width: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        var rest = value
        for index in stride(from: offset + width - 1, through: offset, by: -1) {
            buffer[index] = hexDigits.utf8Start[Int(rest & 0xF)]
            rest >>= 4
        }
    }

    /// `bytes` as lowercase hex, two digits a byte, in one allocation: the one hex writer (chain
    /// hashes, heads, certificate serials). The ledger writes three hashes a change as hex
    /// (PostgreSQL's chain rows); `String(format: "%02x")` a byte went through Foundation's
    /// formatter and was a quarter of a PostgreSQL push's CPU.
    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            var offset = 0
            for byte in bytes {
                buffer[offset] = hexDigits.utf8Start[Int(byte >> 4)]
                buffer[offset + 1] = hexDigits.utf8Start[Int(byte & 0xF)]
                offset += 2
            }
            return offset
        }
    }

    /// How many decimal digits `value` has.
    static func decimalCount(_ value: UInt64) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }

    /// `value` in decimal, `count` digits (`decimalCount(value)`), at `offset`.
    static func writeDecimal(_ value: UInt64, count: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        var rest = value
        for index in stride(from: offset + count - 1, through: offset, by: -1) {
            buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
    }

    /// Appends `count` bytes to `out`, written by `write` into the space they take.
    static func append(_ count: Int, to out: inout [UInt8], _ write: (UnsafeMutableBufferPointer<UInt8>) -> Void) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: count))
        out.withUnsafeMutableBufferPointer { buffer in write(UnsafeMutableBufferPointer(rebasing: buffer[start...])) }
    }
}
