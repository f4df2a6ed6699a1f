import ClusterSyncCore
import Foundation
import Testing

/// The chain rule and its walk (`LedgerChain`, `LedgerVerifier`) and redaction (`Redaction`),
/// without I/O, against `Protocol/vectors/ledger/chain.jsonl` and `vectors/changes/redaction.jsonl`.
@Suite struct LedgerTests {
    static let vectors = ChangeVectorTests.directory.deletingLastPathComponent()

    struct Row {
        var seq: Int64
        var entry: LedgerEntry?
        var text: String?
    }

    /// A chain of `count` title writes of tenant ctmuhb, as a store would hold it (made as a
    /// store makes a push's entries, `LedgerChain.entries`).
    static func chain(_ count: Int) -> [Row] {
        let texts = (1...count).map { n in
            Change(id: ChangeID("\(n)@5f0c9e1a2b3c4d5e")!, hlc: HLCTimestamp(millis: 1_790_000_000_000 + Int64(n), logical: 0),
                   record: RecordID("RSK-7K3M9Q2X1A")!, scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"),
                   field: "description", value: .string("Note \(n)"), author: "W95010").jsonText
        }
        let entries = LedgerChain.entries(tenant: "ctmuhb", after: 0, canonicalTexts: texts, previous: LedgerChain.genesis)
        return zip(entries, texts).map { Row(seq: $0.seq, entry: $0, text: $1) }
    }

    /// A push's salts, drawn together, are 16 bytes each and all different; a chain made in two
    /// pushes verifies as one made in one.
    @Test func aBatchsSaltsAreSixteenRandomBytesEach() {
        let salts = LedgerChain.newSalts(1_000)
        #expect(salts.count == 1_000 && salts.allSatisfy { $0.count == 16 })
        #expect(Set(salts).count == 1_000)
        #expect(LedgerChain.newSalts(0).isEmpty)
        // Each call draws its own key: two pushes never share a salt.
        #expect(Set(LedgerChain.newSalts(4) + LedgerChain.newSalts(4)).count == 8)
        var rows = Self.chain(5)
        let more = LedgerChain.entries(tenant: "ctmuhb", after: 5, canonicalTexts: ["{\"a\":1}", "{\"a\":2}"],
                                       previous: rows[4].entry!.entryHash)
        #expect(more.map(\.seq) == [6, 7])
        rows += zip(more, ["{\"a\":1}", "{\"a\":2}"]).map { Row(seq: $0.seq, entry: $0, text: $1) }
        #expect(Self.walk(rows).problems.isEmpty)
    }

    static func walk(_ rows: [Row], head: Data? = nil) -> LedgerReport {
        var verifier = LedgerVerifier(tenant: "ctmuhb", expectedHead: head)
        for row in rows.sorted(by: { $0.seq < $1.seq }) { verifier.add(seq: row.seq, entry: row.entry, changeText: row.text) }
        return verifier.finish()
    }

    static func kinds(_ report: LedgerReport) -> [String] { report.problems.map { "\($0.kind.rawValue)\($0.seqs)" } }

    @Test func theChainVectorsHashAsSpecified() throws {
        let text = try String(contentsOf: Self.vectors.appendingPathComponent("ledger/chain.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 3)
        var rows: [Row] = []
        for line in lines {
            let v = try JSONValue(parsing: line)
            let salt = try #require(Data(hexPairs: v["salt"]!.stringValue!))
            let content = LedgerChain.contentHash(salt: salt, canonicalText: v["text"]!.stringValue!)
            #expect(LedgerChain.hex(content) == v["contentHash"]?.stringValue)
            let entry = LedgerChain.entryHash(tenant: v["tenant"]!.stringValue!, seq: v["seq"]!.intValue!, contentHash: content,
                                              previous: LedgerChain.data(hex: v["previous"]!.stringValue!)!)
            #expect(LedgerChain.hex(entry) == v["entryHash"]?.stringValue)
            rows.append(Row(seq: v["seq"]!.intValue!, entry: LedgerEntry(seq: v["seq"]!.intValue!, salt: salt, contentHash: content, entryHash: entry),
                            text: v["text"]!.stringValue!))
        }
        let report = Self.walk(rows)
        #expect(report.isIntact && report.head?.seq == 3 && report.entries == 3)
    }

    @Test func anIntactChainPassesAndNamesItsHead() {
        let rows = Self.chain(5)
        let report = Self.walk(rows, head: rows[2].entry!.entryHash)
        #expect(report.isIntact)
        #expect(report.head == LedgerHead(seq: 5, hash: rows[4].entry!.entryHash))
    }

    @Test func eachKindOfTamperingIsNamed() {
        var altered = Self.chain(5)
        altered[1].text = altered[1].text!.replacingOccurrences(of: "Note 2", with: "Note two")
        #expect(Self.kinds(Self.walk(altered)) == ["altered[2]"])

        var removed = Self.chain(5)
        removed.remove(at: 2)
        #expect(Self.kinds(Self.walk(removed)) == ["removed[3]"])

        var reordered = Self.chain(5)
        (reordered[1].text, reordered[3].text) = (reordered[3].text, reordered[1].text)
        #expect(Self.kinds(Self.walk(reordered)) == ["reordered[2, 4]", "reordered[4, 2]"])

        var inserted = Self.chain(5)
        inserted.append(Row(seq: 6, entry: nil, text: inserted[0].text))
        #expect(Self.kinds(Self.walk(inserted)) == ["inserted[6]"])

        // An entry's own hash altered: the chain does not link there.
        var relinked = Self.chain(5)
        relinked[3].entry!.contentHash = LedgerChain.contentHash(salt: Data(count: 16), canonicalText: "x")
        #expect(Self.kinds(Self.walk(relinked)).contains("altered[4]"))

        // A rewritten chain is intact on its own; the head recorded before is not in it.
        let head = Self.chain(5)[4].entry!.entryHash
        let rewritten = Self.chain(5)  // fresh salts: every hash differs
        #expect(Self.kinds(Self.walk(rewritten, head: head)) == ["unknown-head[]"])
    }

    @Test func aRedactedEntryStillVerifiesAndIsReported() throws {
        var rows = Self.chain(3)
        let target = try Change(jsonText: rows[1].text!)
        let request = Redaction.Request(change: target.id, field: "description", reason: "a name typed by mistake")
        let redaction = Change(id: ChangeID("4@5f0c9e1a2b3c4d5e")!, hlc: HLCTimestamp(millis: 1_790_000_000_100, logical: 0),
                               record: target.record, scope: target.scope, field: Redaction.field, value: request.value, author: "Lead")
        let entry = LedgerChain.entry(tenant: "ctmuhb", seq: 4, canonicalText: redaction.jsonText, previous: rows[2].entry!.entryHash)
        rows.append(Row(seq: 4, entry: entry, text: redaction.jsonText))
        // The store erases the value and the salt; the content hash stays.
        rows[1].text = Redaction.erased(target, by: redaction.id).jsonText
        rows[1].entry!.salt = nil
        let report = Self.walk(rows)
        #expect(report.isIntact, "\(report.problems)")
        #expect(report.redactions.count == 1)
        #expect(report.redactions.first?.redactedSeq == 2 && report.redactions.first?.author == "Lead"
                && report.redactions.first?.request.reason == "a name typed by mistake")

        // Erased without a chained redaction: altered.
        var forged = rows
        forged.removeLast()
        #expect(Self.kinds(Self.walk(forged)) == ["altered[2]"])
    }

    @Test func theRedactionVectorsEraseAsSpecified() throws {
        let text = try String(contentsOf: ChangeVectorTests.directory.appendingPathComponent("redaction.jsonl"), encoding: .utf8)
        for line in text.split(separator: "\n") {
            let v = try JSONValue(parsing: line)
            let change = try Change(jsonText: v["change"]!.stringValue!)
            let redaction = try Change(jsonText: v["redaction"]!.stringValue!)
            try change.validate()
            try redaction.validate()
            let request = try #require(Redaction.request(of: redaction))
            try Redaction.check(request, of: redaction, target: change)
            let erased = Redaction.erased(change, by: redaction.id)
            #expect(erased.jsonText == v["erased"]?.stringValue)
            try erased.validate()
            #expect(Redaction.redaction(ofMarker: erased.value) == redaction.id)
            // A copy that still has the value is the same change as the erased one.
            #expect(ReplicaOwnership.sameChange(erased, change))
            // A redaction of another field of the record does not apply.
            var other = redaction
            other.value = Redaction.Request(change: change.id, field: "title", reason: "x").value
            #expect(throws: ClusterSyncError.self) { try Redaction.check(Redaction.request(of: other)!, of: other, target: change) }
        }
    }

    /// Redaction is one of the lead's powers (`LeadPowers`): refused to a practice at both ends (`lead-only`).
    @Test func redactingNeedsTheClusterLead() throws {
        let rows = Self.chain(1)
        let target = try Change(jsonText: rows[0].text!)
        let redaction = Change(id: ChangeID("2@5f0c9e1a2b3c4d5e")!, hlc: target.hlc, record: target.record, scope: target.scope,
                               field: Redaction.field, value: Redaction.Request(change: target.id, field: "description", reason: "a name").value)
        #expect(LeadPowers.needed(for: redaction, by: "W95010", supersededPractices: []) == .redact)
        for receiver in [ChangeAdmission.Receiver.replica, .server] {
            let error = #expect(throws: ClusterSyncError.self) {
                try LeadPowers.check(redaction, role: .practice, practice: "W95010", supersededPractices: [], receiver: receiver)
            }
            #expect(error?.code == .leadOnly && error?.message.contains("redacting a value") == true)
            try LeadPowers.check(redaction, role: .clusterLead, practice: "W95010", supersededPractices: [], receiver: receiver)
        }
    }
}

extension Data {
    init?(hexPairs text: String) {
        var bytes: [UInt8] = []
        var chars = Array(text.utf8)[...]
        while chars.count >= 2 {
            guard let byte = UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
            chars = chars.dropFirst(2)
        }
        guard chars.isEmpty else { return nil }
        self.init(bytes)
    }
}
