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

    /// A store's `sup` and `seen` columns: the ids' text joined by commas, written as bytes.
    @Test func idListsAreTheIDsJoinedByCommas() {
        var generator = SplitMix64(seed: 13)
        for count in [0, 1, 2, 5] {
            let ids = (0..<count).map { _ in
                ChangeID(replica: ReplicaID(bits: generator.next()), counter: Int64.random(in: 1...Int64.max, using: &generator))
            } + (count == 5 ? [ChangeID(replica: ReplicaID(bits: 1), counter: -5)] : [])
            var bytes: [UInt8] = [7]
            ChangeID.writeList(ids, into: &bytes)
            #expect(bytes == [7] + Array(ids.map(\.description).joined(separator: ",").utf8))
            #expect(ChangeID.list(String(decoding: bytes.dropFirst(), as: UTF8.self)) == ids.filter { $0.counter > 0 })
        }
    }

    /// `ChangeID.list` reads a stored list in one pass over its bytes; it must read what
    /// splitting at commas and parsing each part reads, damaged lists included.
    @Test func idListsReadAsTheirPartsRead() {
        var generator = SplitMix64(seed: 17)
        let parts = ["1@0000000000000001", "42@5f0c9e1a2b3c4d5e", "", "0@0000000000000001", "x", "9223372036854775807@ffffffffffffffff",
                     "1@000000000000000G", "@", "1@0000000000000001 "]
        var lists = ["", ",", ",,", "1@0000000000000001,", ",1@0000000000000001"]
        for _ in 0..<500 {
            let count = Int.random(in: 1...5, using: &generator)
            lists.append((0..<count).map { _ in parts.randomElement(using: &generator)! }.joined(separator: ","))
        }
        for list in lists {
            #expect(ChangeID.list(list) == list.split(separator: ",").compactMap { Self.referenceChange(String($0)) }, "\(list)")
        }
    }

    /// The parsers read ids byte by byte; these references say the rule in plain Swift, and the
    /// two must agree on edge cases and on random damage to valid ids.
    static func referenceReplica(_ text: String) -> ReplicaID? {
        guard text.utf8.count == 16, text.utf8.allSatisfy({ "0123456789abcdef".utf8.contains($0) }),
              let bits = UInt64(text, radix: 16) else { return nil }
        return ReplicaID(bits: bits)
    }

    static func referenceChange(_ text: String) -> ChangeID? {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let first = parts[0].first, first != "0", parts[0].count <= 19,
              parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), let counter = Int64(parts[0]),
              let replica = referenceReplica(String(parts[1])) else { return nil }
        return ChangeID(replica: replica, counter: counter)
    }

    static func referenceRecord(_ text: String) -> RecordID? {
        let utf8 = Array(text.utf8)
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
        guard utf8.count == 14, utf8[3] == UInt8(ascii: "-"),
              RecordType.allCases.contains(where: { $0.prefix.utf8.elementsEqual(utf8[0..<3]) }),
              utf8[4...].allSatisfy({ alphabet.contains($0) }) else { return nil }
        return RecordID(text)
    }

    static func referenceStamp(_ text: String) -> HLCTimestamp? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        let hex = "0123456789abcdef"
        guard parts.count == 2, parts[0].count == 12, parts[1].count == 4, text.utf8.count == 17,
              parts.allSatisfy({ $0.allSatisfy { hex.contains($0) } }),
              let millis = Int64(parts[0], radix: 16), millis <= HLCTimestamp.maximumMillis,
              let logical = UInt16(parts[1], radix: 16) else { return nil }
        return HLCTimestamp(millis: millis, logical: logical)
    }

    @Test func idsAreParsedByTheirRuleWhateverTheText() {
        var generator = SplitMix64(seed: 5)
        var texts = [
            "", "@", "1@", "@0000000000000001", "0@0000000000000001", "01@0000000000000001", "-1@0000000000000001",
            "9223372036854775807@ffffffffffffffff", "9223372036854775808@ffffffffffffffff", "99999999999999999999@0000000000000001",
            "1@000000000000000", "1@00000000000000001", "1@000000000000000G", "1@FFFFFFFFFFFFFFFF", "1@0000000000000001@",
            "RSK-7K3M9Q2X1A", "RSK-7K3M9Q2X1", "RSK-7K3M9Q2X1AB", "RSK_7K3M9Q2X1A", "rsk-7K3M9Q2X1A", "RSK-7K3M9Q2X1I",
            "XYZ-7K3M9Q2X1A", "RSKé7K3M9Q2X1", "0000000000000001", "000000000000000g", "ffffffffffffffff",
        ]
        texts += ["7fffffffffff-ffff", "800000000000-0000", "00000000000-00000", "0000000000000-000", "018f2a3b4c5d-0001"]
        let valid = ["42@5f0c9e1a2b3c4d5e", "RSK-7K3M9Q2X1A", "ACT-4F8R2M6W0Z", "5f0c9e1a2b3c4d5e", "018f2a3b4c5d-0001"]
            + RecordType.allCases.map { $0.prefix + "-0123456789" }
        let bytes = Array("0123456789abcdefABCDEFGHIJKLMNOPQRSTUVWXYZ@-_é".unicodeScalars)
        for text in valid {
            texts.append(text)
            for _ in 0..<300 {
                var scalars = Array(text.unicodeScalars)
                let place = Int.random(in: 0...scalars.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0 where place < scalars.count: scalars[place] = bytes.randomElement(using: &generator)!
                case 1 where place < scalars.count: scalars.remove(at: place)
                default: scalars.insert(bytes.randomElement(using: &generator)!, at: place)
                }
                texts.append(String(String.UnicodeScalarView(scalars)))
            }
        }
        for text in texts {
            #expect(ReplicaID(text) == Self.referenceReplica(text), "\(text)")
            #expect(ChangeID(text) == Self.referenceChange(text), "\(text)")
            #expect(RecordID(text) == Self.referenceRecord(text), "\(text)")
            #expect(RecordID(text[...]) == Self.referenceRecord(text), "\(text) as a substring")
            #expect(ChangeID(text[...]) == Self.referenceChange(text), "\(text) as a substring")
            #expect(HLCTimestamp(text: text) == Self.referenceStamp(text), "\(text)")
            #expect(HLCTimestamp(text: text[...]) == Self.referenceStamp(text), "\(text) as a substring")
        }
        for type in RecordType.allCases {
            #expect(RecordType(prefix: type.prefix) == type)
            #expect(RecordID(type.prefix + "-0123456789")?.type == type)
        }
        #expect(RecordType(prefix: "RS") == nil && RecordType(prefix: "RSKK") == nil && RecordType(prefix: "rsk") == nil)
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
