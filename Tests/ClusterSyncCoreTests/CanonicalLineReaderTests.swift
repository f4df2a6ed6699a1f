@testable import ClusterSyncCore
import ClusterSyncServerTesting
import Foundation
import Testing

/// The canonical-line reader (the fast path of `WireCodec` and `Change(jsonText:)`) against the
/// decoder it stands in for: on every vector, and on thousands of damaged copies of them,
/// whatever the reader accepts the decoder decodes to the same value.
@Suite struct CanonicalLineReaderTests {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors")

    /// The change texts of the change vectors (valid, invalid, redaction).
    static func changeTexts() throws -> [String] {
        var texts: [String] = []
        for name in ["valid", "invalid", "redaction"] {
            let text = try String(contentsOf: vectors.appendingPathComponent("changes/\(name).jsonl"), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let object = try JSONValue(parsing: line)
                texts.append(object["line"]?.stringValue ?? object["change"]?.canonicalText ?? String(line))
            }
        }
        return texts
    }

    static func wireLines() throws -> [String] {
        try WireVectors.all().flatMap { $0.messageLines.map(\.line) }
    }

    static func sameChange(_ text: String) {
        guard let fast = CanonicalLineReader.change(text) else { return }
        let slow = try? JSONValue.decode(Change.self, from: text)
        #expect(slow == fast, "the reader took \(text) as \(fast), the decoder as \(String(describing: slow))")
    }

    static func sameMessage(_ line: String) {
        for clientOnly in [false, true] {
            guard let fast = CanonicalLineReader.message(line, clientMessagesOnly: clientOnly) else { continue }
            let slow = try? WireCodec.decodeWithoutFastPath(line, clientMessagesOnly: clientOnly)
            #expect(slow == fast, "the reader took \(line) as \(fast), the decoder as \(String(describing: slow))")
        }
    }

    @Test func theVectorsReadTheSameAndTheValidOnesTakeTheFastPath() throws {
        let texts = try Self.changeTexts()
        #expect(texts.count > 20)
        for text in texts { Self.sameChange(text) }
        let valid = try String(contentsOf: Self.vectors.appendingPathComponent("changes/valid.jsonl"), encoding: .utf8).split(separator: "\n")
        for line in valid {
            #expect(CanonicalLineReader.change(line) != nil, "a canonical change takes the fast path: \(line)")
        }
        let lines = try Self.wireLines()
        for line in lines { Self.sameMessage(line) }
        // Every push and page (changes or snapshot) of the transcripts is read by the reader, not the decoder.
        let bulk = lines.filter {
            $0.contains(#""type":"push""#) || (($0.contains(#""type":"changes""#) || $0.contains(#""type":"snapshot""#)) && !$0.contains("rollup"))
        }
        #expect(bulk.contains { $0.contains(#""type":"snapshot""#) }, "the transcripts hold snapshot pages")
        #expect(!bulk.isEmpty)
        for line in bulk where (try? WireCodec.decodeWithoutFastPath(line)) != nil {
            #expect(CanonicalLineReader.message(line, clientMessagesOnly: false) != nil, "\(line)")
        }
    }

    @Test func damagedCopiesReadTheSameOrGoToTheDecoder() throws {
        var random = SplitMix(seed: 12)
        let alphabet = Array(#"{}[]":,\ 0-9.eEtrufalsn@ÿ"#.utf8) + [0x00, 0x0A, 0xC3, 0xFF]
        let samples = try Self.changeTexts().prefix(30) + Self.wireLines().filter { $0.contains("changes") }.prefix(20)
        var fastTaken = 0
        for sample in samples {
            let bytes = Array(sample.utf8)
            for _ in 0..<300 {
                var damaged = bytes
                for _ in 0...(random.next() % 3) {
                    let at = Int(random.next() % UInt64(max(damaged.count, 1)))
                    let byte = alphabet[Int(random.next() % UInt64(alphabet.count))]
                    switch random.next() % 3 {
                    case 0 where !damaged.isEmpty: damaged[at] = byte
                    case 1: damaged.insert(byte, at: min(at, damaged.count))
                    default: if !damaged.isEmpty { damaged.remove(at: at) }
                    }
                }
                let text = String(decoding: damaged, as: UTF8.self)
                if CanonicalLineReader.change(text) != nil { fastTaken += 1 }
                Self.sameChange(text)
                Self.sameMessage(text)
            }
        }
        #expect(fastTaken > 0, "some damaged copies are still valid changes")
    }

    /// `validUTF8` (decode, then compare the bytes) accepts exactly what `String(validating:)`
    /// accepts: every kind of invalid UTF-8 at every place in a short string, and random bytes.
    @Test func stringsAreValidatedAsTheStandardLibraryValidatesThem() {
        let invalid: [[UInt8]] = [
            [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF0, 0x80, 0x80, 0x80],
            [0xF0, 0x9F, 0x98], [0xE2, 0x82], [0xC3], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFE], [0xFF],
        ]
        let valid: [[UInt8]] = [[], [0x41], Array("Siân".utf8), Array("€".utf8), Array("😀".utf8), [0xEF, 0xBF, 0xBD]]
        func check(_ bytes: [UInt8]) {
            let expected = String(validating: bytes, as: UTF8.self)
            let ascii = bytes.allSatisfy { $0 < 0x80 }
            let found = bytes.withUnsafeBytes { CanonicalLineReader.validUTF8($0, ascii: ascii) }
            #expect(found == expected, "\(bytes)")
            if !ascii { #expect(bytes.withUnsafeBytes { CanonicalLineReader.validUTF8($0, ascii: false) } == expected, "\(bytes)") }
        }
        for piece in invalid + valid {
            for before in valid { for after in valid { check(before + piece + after) } }
        }
        var random = SplitMix64(seed: 12)
        for _ in 0..<20_000 {
            check((0..<Int.random(in: 0...6, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
        }
    }

    @Test func changesWithEveryKindOfValueRoundTrip() throws {
        var random = SplitMix(seed: 7)
        let strings = ["", "plain", "Siân's \"quoted\" \\ back/slash", "tab\tnew\nline\r", "\u{0}\u{1F}", "emoji 🏥 and Ŵ", "</script>"]
        func value(_ depth: Int) -> JSONValue {
            switch random.next() % (depth > 2 ? 4 : 6) {
            case 0: return .string(strings[Int(random.next() % UInt64(strings.count))])
            case 1: return .int([0, 1, -1, Int64.max, Int64.min, 42][Int(random.next() % 6)])
            case 2: return .bool(random.next() % 2 == 0)
            case 3: return .string("Value \(random.next() % 1000)")
            case 4: return .array((0..<Int(random.next() % 3)).map { _ in value(depth + 1) })
            default:
                return .object(Dictionary(uniqueKeysWithValues: (0..<Int(random.next() % 3)).map { ("k\($0)\(strings[$0 % strings.count])", value(depth + 1)) }))
            }
        }
        let replica = ReplicaID("5f0c9e1a2b3c4d5e")!
        for n in 1...500 {
            let change = Change(
                id: ChangeID(replica: replica, counter: Int64(n)), hlc: HLCTimestamp(millis: 0x01a2_07a2_3280 + Int64(n)),
                record: RecordID("RSK-7K3M9Q2X1A")!, scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda", practice: n % 3 == 0 ? "W95010" : nil),
                field: n % 5 == 0 ? "notes" : "title", value: n % 7 == 0 ? nil : value(0),
                supersedes: n > 1 ? [ChangeID(replica: replica, counter: Int64(n - 1))] : [],
                seen: n % 4 == 0 ? [ChangeID(replica: replica, counter: 1)] : [], author: n % 2 == 0 ? strings[n % strings.count] : nil)
            let text = change.jsonText
            #expect(CanonicalLineReader.change(text) == change, "\(text)")
            #expect(try JSONValue.decode(Change.self, from: text) == change)
            let page = WireCodec.encode(.changes(ChangesPage(changes: [change, change], cursor: Cursor("s1:9"), more: n % 2 == 0)))
            #expect(CanonicalLineReader.message(page.dropLast(), clientMessagesOnly: false) == (try WireCodec.decodeWithoutFastPath(page.dropLast())))
        }
    }

    @Test func storedTextsGoOutAsTheyAreAndReadAsChanges() throws {
        let change = WireCodecTests.change
        let page = ChangesPage(storedTexts: [WireCodecTests.changeText, WireCodecTests.changeText], cursor: Cursor("s1:3"), more: false)
        let line = WireCodec.encode(.changes(page))
        #expect(line == #"{"changes":[\#(WireCodecTests.changeText),\#(WireCodecTests.changeText)],"cursor":"s1:3","more":false,"type":"changes"}"# + "\n")
        #expect(try WireCodec.decode(line.dropLast()) == .changes(ChangesPage(changes: [change, change], cursor: Cursor("s1:3"), more: false)))
    }
}

/// A seeded generator: the same damage every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
