import ClusterSyncCore
import Foundation
import Testing

/// Ids and clock stamps are formatted by writing digits into the string's storage; these hold
/// that text to the plain formulas of the canonical forms (PROTOCOL.md), over edge and random
/// values, and to the parsers.
@Suite struct IdentifierTextTests {
    static func padded(_ text: String, to width: Int) -> String {
        String(repeating: "0", count: max(0, width - text.count)) + text
    }

    @Test func replicaIDsAreSixteenLowercaseHexDigits() {
        var generator = SplitMix64(seed: 7)
        let values: [UInt64] = [0, 1, 0xf, 0x10, 0xabc, UInt64.max, UInt64.max >> 4] + (0..<500).map { _ in generator.next() }
        for bits in values {
            let id = ReplicaID(bits: bits)
            #expect(id.rawValue == Self.padded(String(bits, radix: 16), to: 16))
            #expect(ReplicaID(id.rawValue) == id)
        }
    }

    @Test func changeIDsAreTheCounterInDecimalAndTheReplica() {
        var generator = SplitMix64(seed: 11)
        let counters: [Int64] = [1, 9, 10, 99, 100, 1_000_000, Int64.max] + (0..<500).map { _ in Int64.random(in: 1...Int64.max, using: &generator) }
        for counter in counters {
            let id = ChangeID(replica: ReplicaID(bits: generator.next()), counter: counter)
            #expect(id.description == "\(counter)@\(id.replica.rawValue)")
            #expect(ChangeID(id.description) == id)
        }
        // Never valid, but still written as it is.
        #expect(ChangeID(replica: ReplicaID(bits: 1), counter: 0).description == "0@0000000000000001")
        #expect(ChangeID(replica: ReplicaID(bits: 1), counter: -5).description == "-5@0000000000000001")
    }

    @Test func clockStampsAreTwelveHexDigitsADashAndFour() {
        var generator = SplitMix64(seed: 13)
        var stamps = [HLCTimestamp(millis: 0), HLCTimestamp(millis: 1, logical: 1), HLCTimestamp(millis: HLCTimestamp.maximumMillis, logical: .max)]
        stamps += (0..<500).map { _ in
            HLCTimestamp(millis: Int64.random(in: 0...HLCTimestamp.maximumMillis, using: &generator), logical: UInt16.random(in: 0...UInt16.max, using: &generator))
        }
        for stamp in stamps {
            #expect(stamp.text == Self.padded(String(stamp.millis, radix: 16), to: 12) + "-" + Self.padded(String(stamp.logical, radix: 16), to: 4))
            #expect(HLCTimestamp(text: stamp.text) == stamp)
        }
        // Outside the valid range (never read back): all the digits, as before.
        #expect(HLCTimestamp(millis: HLCTimestamp.maximumMillis + 1).text == "800000000000-0000")
        #expect(HLCTimestamp(millis: 0x1_0000_0000_0000, logical: 2).text == "1000000000000-0002")
    }

    @Test func hashesAreTwoLowercaseHexDigitsAByte() {
        var generator = SplitMix64(seed: 17)
        var inputs: [[UInt8]] = [[], [0], [0xff], [0x0f, 0xf0], Array(0...255)]
        inputs += (0..<200).map { _ in (0..<Int(generator.next() % 65)).map { _ in UInt8(truncatingIfNeeded: generator.next()) } }
        for bytes in inputs {
            let text = LedgerChain.hex(Data(bytes))
            #expect(text == bytes.map { Self.padded(String($0, radix: 16), to: 2) }.joined())
            if bytes.count == 32 { #expect(LedgerChain.data(hex: text) == Data(bytes)) }
        }
    }
}
