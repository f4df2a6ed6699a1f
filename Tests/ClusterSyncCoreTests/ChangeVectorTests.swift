@testable import ClusterSyncCore
import Foundation
import Testing

/// The golden vectors in `Protocol/vectors/changes/`, which other implementations test against
/// too (see `Protocol/changes.md`).
@Suite struct ChangeVectorTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ClusterSyncCoreTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the package root
        .appendingPathComponent("Protocol")
        .appendingPathComponent("vectors")
        .appendingPathComponent("changes")

    /// The lines of a vector file: UTF-8, every line ended by a newline, no blank lines.
    static func lines(_ name: String) throws -> [String] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        let text = try #require(String(data: data, encoding: .utf8), "\(name) is not UTF-8")
        #expect(text.hasSuffix("\n"), "\(name) must end with a newline")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        for (n, line) in lines.enumerated() {
            #expect(!line.isEmpty, "\(name):\(n + 1) is blank")
            #expect(!line.contains("\r"), "\(name):\(n + 1) has a carriage return")
        }
        return lines
    }

    static func validChanges() throws -> [Change] {
        try lines("valid.jsonl").map { try Change(jsonText: $0) }
    }

    // MARK: valid.jsonl

    @Test func validLinesDecodeAndReencodeByteForByte() throws {
        let lines = try Self.lines("valid.jsonl")
        #expect(lines.count >= 30)
        for (n, line) in lines.enumerated() {
            let change: Change
            do throws(ClusterSyncError) {
                change = try Change(jsonText: line)
            } catch {
                Issue.record("valid.jsonl:\(n + 1) does not decode: \(error.code) \(error.field ?? "-"): \(error.message)")
                continue
            }
            #expect(Array(change.jsonText.utf8) == Array(line.utf8), "valid.jsonl:\(n + 1) re-encodes as \(change.jsonText)")
            #expect((try? Change(jsonText: change.jsonText)) == change, "valid.jsonl:\(n + 1) changes when decoded again")
        }
    }

    /// `jsonText` writes the fields straight out; `jsonValue.canonicalText` is the definition.
    @Test func directEncodingMatchesTheCanonicalTreeOnEveryVector() throws {
        for change in try Self.validChanges() {
            var variant = change
            variant.author = "Dr \"Quote\" \\ Jones\n\u{0}\u{1}\u{9}\u{D}\u{1F}\u{7F} Siân Ŵ — 😀"
            variant.sig = String(repeating: "A", count: 86) + "=="
            variant.seen = variant.supersedes + [ChangeID(replica: change.id.replica, counter: 99)]
            // Text values are written as bytes, escaped as the tree escapes them.
            var text = variant
            text.value = .string("a\"b\\c/d\u{0}\u{8}\u{A}\u{C}\u{1F} é 😀")
            for c in [change, variant, text] {
                #expect(c.jsonText == c.jsonValue.canonicalText, "\(c.jsonValue.canonicalText)")
                // As a store's columns hold it (a snapshot page is written from them).
                let columns = Change.jsonText(
                    author: c.author, cluster: c.scope.cluster, field: c.field, hlc: c.hlc, id: c.id.description,
                    practice: c.scope.practice, record: c.record.rawValue,
                    seen: c.seen.isEmpty ? nil : c.seen.map(\.description).joined(separator: ","), sig: c.sig,
                    sup: c.supersedes.isEmpty ? nil : c.supersedes.map(\.description).joined(separator: ","),
                    tenant: c.scope.tenant, value: c.value?.canonicalText)
                #expect(columns == c.jsonText, "\(columns)")
                // A store's `value` column, written as bytes.
                if let value = c.value {
                    var bytes: [UInt8] = [7]
                    value.writeCanonical(into: &bytes)
                    #expect(bytes == [7] + Array(value.canonicalText.utf8), "\(value.canonicalText)")
                }
            }
        }
    }

    @Test func validLinesPassValidation() throws {
        for (n, change) in try Self.validChanges().enumerated() {
            do throws(ClusterSyncError) {
                try change.record.type.schema.validate(field: change.field, value: change.value)
            } catch {
                Issue.record("valid.jsonl:\(n + 1) fails validation: \(error.code) \(error.field ?? "-"): \(error.message)")
            }
        }
    }

    @Test func validLinesAreAConsistentHistory() throws {
        let changes = try Self.validChanges()
        #expect(Set(changes.map(\.id)).count == changes.count, "change ids are unique")
        // Each replica's counter and clock only go up, and every change names only earlier changes.
        var lastByReplica: [ReplicaID: Change] = [:]
        var earlier: [ChangeID: Change] = [:]
        for change in changes {
            if let last = lastByReplica[change.id.replica] {
                #expect(change.id.counter > last.id.counter, "\(change.id) after \(last.id)")
                #expect(change.hlc > last.hlc, "\(change.id) is stamped after \(last.id)")
            }
            lastByReplica[change.id.replica] = change
            for id in change.supersedes {
                let named = try #require(earlier[id], "\(change.id) supersedes \(id), which comes later or nowhere")
                #expect(named.record == change.record && named.field == change.field, "\(change.id) supersedes a write of another field")
                #expect(named.hlc < change.hlc)
            }
            for id in change.seen {
                let named = try #require(earlier[id], "\(change.id) has seen \(id), which comes later or nowhere")
                #expect(named.record == change.record && named.field != "deleted")
            }
            earlier[change.id] = change
        }
    }

    /// The state Protocol/changes.md says the valid vectors replay to, whatever the arrival order.
    @Test(arguments: ["in file order", "reversed"])
    func validLinesReplayToTheDocumentedState(_ order: String) throws {
        let inFile = try Self.validChanges()
        let changes = order == "reversed" ? inFile.reversed() : inFile
        var fields: [RecordID: [String: FieldWrites]] = [:]
        var scopes: [RecordID: RecordScope] = [:]
        var slots: [SequenceOrder.Slot] = []  // every position write, live or superseded
        var itemOfSlot: [ChangeID: RecordID] = [:]
        for change in changes {
            fields[change.record, default: [:]][change.field, default: FieldWrites()].apply(change)
            scopes[change.record] = change.scope
            if change.field == "position", let write = FieldWrite(change), let slot = SequenceOrder.Slot(write) {
                slots.append(slot)
                itemOfSlot[slot.id] = change.record
            }
        }
        func view(_ text: String) throws -> RecordView {
            let id = try #require(RecordID(text))
            let live = (fields[id] ?? [:]).values.flatMap { $0.live.values }
            return RecordView(id: id, scope: try #require(scopes[id]), liveWrites: live)
        }
        let today = CalendarDate(year: 2026, month: 11, day: 23)

        let risk = try view("RSK-7K3M9Q2X1A")
        #expect(risk.string("title") == "Practice nurse vacancies in Treorchy and Ton Pentre")
        #expect(risk.members("tags") == [.string("estates")])
        #expect(risk.members("linked_actions") == [.string("ACT-4F8R2M6W0Z")])
        #expect(risk.derived(today: today)["score"] == .int(15))
        #expect(risk.derived(today: today)["band"] == .string("extreme"))
        // Its review date, emptied: the record reads as if it had none, and its one live write of
        // the field is the empty one, not a conflict.
        #expect(risk.value("review_date") == nil && risk.date("review_date") == nil && risk.overdueDate == nil)
        #expect(risk.writes["review_date"]?.map(\.value) == [RecordView.emptiedDate])
        #expect(risk.jsonValue(today: today)["fields"]?["review_date"] == nil)
        let action = try view("ACT-4F8R2M6W0Z")
        #expect(action.derived(today: today) == ["rag": .string("blue")])
        #expect(action.writes["notes"]?.count == 1)
        #expect(try !view("ITM-3C7E9H5M1T").isDeleted)
        #expect(try view("ITM-2B6D8G4K0E").value("done") == .bool(true))
        #expect(try view("RSK-8X2Y4Z6V0S").scope.practice == "W95010")
        #expect(risk.scope.practice == nil)

        let items = ["ITM-2B6D8G4K0E", "ITM-3C7E9H5M1T"]
        let visible = Set(try items.flatMap { try view($0).liveIDs("position") })
        let list = SequenceOrder.order(slots: slots, visible: visible).map { itemOfSlot[$0]?.rawValue }
        #expect(list == ["ITM-3C7E9H5M1T", "ITM-2B6D8G4K0E"])

        for id in fields.keys {
            #expect(try view(id.rawValue).conflicts.isEmpty, "\(id) has a conflict")
        }

        // Governance records (Protocol/changes.md, Test vectors).
        let governance = GovernanceRecords(try fields.keys.map { try view($0.rawValue) })
        let meeting = try view("MTG-6A7B8C9D0E")
        #expect(meeting.attendees.map(\.name) == ["Ceri Lloyd", "Dr Siân Evans", "Gareth Jones", "Nia Thomas", "Rhys Morgan"])
        #expect(meeting.attendees.first { $0.name == "Nia Thomas" }?.replaces == "Dr Alys Hughes")
        #expect(meeting.string("status") == "held")
        let quorum = governance.quorum(of: meeting)
        #expect(quorum.terms?.rawValue == "TOR-1M2N3P4Q5R" && quorum.required == 3 && quorum.present == 4 && quorum.met == true)
        #expect(quorum.substitutesBesideMember.isEmpty && quorum.substitutesForNonMembers.isEmpty)
        let decision = try view("DEC-5E6F7G8H9J")
        #expect(decision.mapValues("votes") == [
            "Dr Siân Evans": .string("for"), "Gareth Jones": .string("for"), "Ceri Lloyd": .string("for"), "Rhys Morgan": .string("abstain"),
            "Owain Price": .string("for"),
        ])
        // Nia Thomas's vote, recorded by mistake, was withdrawn: no vote, no conflict, kept in history.
        #expect(decision.entries(ofMap: "votes").first { $0.key == "Nia Thomas" }?.writes.map(\.value) == [FieldMap.withdrawn])
        #expect(decision.conflicts.isEmpty)
        let votes = governance.votes(of: decision)
        #expect(votes.votesFor == 4 && votes.against == 0 && votes.abstentions == 1)
        #expect(votes.rule == .twoThirds && votes.carried == true && votes.outcomeMatches == true)
        // Owain Price, absent, voted by proxy, which these terms allow; no tie, so the chair's
        // casting vote (not used) plays no part.
        #expect(votes.absentVoters.isEmpty && votes.proxyNotAllowed.isEmpty && votes.castingVote == nil && votes.castingVoteNotCounted == nil)
        #expect(governance.interests(forDecision: decision).map(\.member) == ["Rhys Morgan"])
        #expect(try view("DOI-2K4M6P8R0T").derived(today: today) == ["in_force": .bool(true)])
        #expect(try view("CTB-8P9Q0R1S2T").derived(today: today) == ["deadline": .string("2026-09-30"), "on_time": .bool(true)])
        #expect(try view("ITM-2B6D8G4K0E").string("measure") == "Vacancies filled by March")
    }

    @Test func validLinesCoverEveryFieldKindAndOperation() throws {
        let changes = try Self.validChanges()
        let lines = try Self.lines("valid.jsonl")
        func spec(_ c: Change) -> FieldSpec? { c.record.type.schema.field(c.field) }
        func has(_ what: String, _ test: (Change) -> Bool) {
            let found = changes.contains(where: test)
            #expect(found, "valid.jsonl has no \(what)")
        }

        let kinds = Set(changes.compactMap { spec($0).map { Self.kindName($0.kind) } })
        #expect(kinds == Set(Self.allKindNames), "field kinds without a vector: \(Set(Self.allKindNames).subtracting(kinds).sorted())")
        #expect(Set(changes.map(\.record.type)) == Set(RecordType.allCases))

        has("register write that supersedes") {
            spec($0)?.kind.cardinality == .register && $0.field != "deleted" && $0.value != nil && !$0.supersedes.isEmpty
        }
        has("date emptied (\"\")") { spec($0)?.kind == .date && $0.value == RecordView.emptiedDate }
        has("set add") { spec($0)?.kind.cardinality == .set && $0.value != nil && $0.supersedes.isEmpty }
        has("set remove (no value, supersedes)") { spec($0)?.kind.cardinality == .set && $0.value == nil && !$0.supersedes.isEmpty }
        has("notes append") { spec($0)?.kind == .notes && $0.value != nil && $0.supersedes.isEmpty }
        has("position at the head") { $0.field == "position" && $0.value == .object(["after": .null]) }
        has("position after a slot") { $0.field == "position" && $0.value?["after"]?.stringValue != nil }
        has("move (position that supersedes)") { $0.field == "position" && !$0.supersedes.isEmpty }
        has("delete with seen") { $0.field == "deleted" && $0.value == .bool(true) && !$0.seen.isEmpty }
        has("restore") { $0.field == "deleted" && $0.value == .bool(false) && !$0.supersedes.isEmpty }
        has("practice-private scope") { $0.scope.practice != nil }
        has("cluster-shared scope") { $0.scope.practice == nil }
        has("author") { $0.author != nil }
        has("change without author") { $0.author == nil }
        has("non-zero logical clock") { $0.hlc.logical != 0 }
        has("counter at its largest, 2^53 − 1") { $0.id.counter == ChangeID.maxCounter }
        for escape in [#"\n"#, #"\t"#, #"\""#, #"\\"#, #"\u0001"#, #"\u0008"#, #"\u000c"#, #"\u001f"#] {
            #expect(lines.contains { $0.contains(escape) }, "valid.jsonl has no string escaped as \(escape)")
        }
        #expect(lines.contains { $0.utf8.contains { $0 >= 0x80 } }, "valid.jsonl has no unescaped non-ASCII text")
    }

    // MARK: invalid.jsonl

    struct InvalidVector {
        var number: Int
        var line: String
        var code: String
        var field: String?
    }

    static func invalidVectors() throws -> [InvalidVector] {
        try lines("invalid.jsonl").enumerated().map { n, text in
            let object = try JSONValue(parsing: text)
            guard case .object(let o) = object, Set(o.keys) == ["line", "code", "field"],
                  let line = o["line"]?.stringValue, let code = o["code"]?.stringValue
            else { throw ClusterSyncError(.malformed, "invalid.jsonl:\(n + 1) is not {line, code, field}") }
            let field: String?
            switch o["field"] {
            case .string(let s)?: field = s
            case .null?: field = nil
            default: throw ClusterSyncError(.malformed, "invalid.jsonl:\(n + 1) field must be a string or null")
            }
            return InvalidVector(number: n + 1, line: line, code: code, field: field)
        }
    }

    /// Vectors the reference implementation is known to get wrong (see Protocol/changes.md,
    /// "Where the Swift code differs from this specification"), with the reason. They are
    /// checked inside `withKnownIssue`, so the test starts failing once the bug is fixed: then
    /// delete the entry here.
    static func knownDeviation(_ line: String) -> Comment? {
        nil
    }

    @Test func invalidLinesFailWithTheStatedCodeAndField() throws {
        let vectors = try Self.invalidVectors()
        #expect(vectors.count >= 100)
        for v in vectors {
            if let reason = Self.knownDeviation(v.line) {
                withKnownIssue(reason) { Self.check(v) }
            } else {
                Self.check(v)
            }
        }
    }

    static func check(_ v: InvalidVector) {
        let at = "invalid.jsonl:\(v.number)"
        let change: Change
        do throws(ClusterSyncError) {
            change = try Change(jsonText: v.line)
        } catch {
            #expect(v.code == ClusterSyncError.Code.malformed.rawValue,
                    "\(at) expected \(v.code) from validation, but decoding failed: \(error.message)")
            #expect(error.code.rawValue == v.code, "\(at) code")
            #expect(error.field == v.field, "\(at) field: \(error.message)")
            return
        }
        #expect(v.code != ClusterSyncError.Code.malformed.rawValue, "\(at) decoded but should be malformed")
        do throws(ClusterSyncError) {
            try change.validate()
            Issue.record("\(at) passed validation: \(v.line)")
        } catch {
            #expect(error.code.rawValue == v.code, "\(at) code: \(error.message)")
            #expect(error.field == v.field, "\(at) field: \(error.message)")
        }
    }

    @Test func invalidLinesCoverEveryCheck() throws {
        let vectors = try Self.invalidVectors()
        let codes = Set(vectors.map(\.code))
        #expect(codes == ["malformed", "unknown-field", "invalid-value", "patient-data"])
        let malformedFields = Set(vectors.filter { $0.code == "malformed" }.map { $0.field ?? "(none)" })
        #expect(malformedFields == ["(none)", "id", "hlc", "record", "tenant", "cluster", "field", "practice", "author", "sup", "seen", "sig"])
        // A validation vector for every kind of field.
        var kinds: Set<String> = []
        for v in vectors where v.code == "invalid-value" || v.code == "patient-data" {
            let change = try Change(jsonText: v.line)
            if let spec = change.record.type.schema.field(change.field) { kinds.insert(Self.kindName(spec.kind)) }
        }
        #expect(kinds == Set(Self.allKindNames))
        // The free-text checks catch the NHS number in every spacing the guard knows.
        let patient = vectors.filter { $0.code == "patient-data" }.map(\.line)
        for number in ["943 476 5919", "9434765919", "943-476-5919", "401-023-2137"] {
            #expect(patient.contains { $0.contains(number) }, "no patient-data vector with \(number)")
        }
    }

    // MARK: The canonical form

    @Test func decodingAcceptsAnyLayoutAndEncodingIsCanonical() throws {
        let loose = """
            {
              "value" : "Practice nurse vacancy in Treorchy",
              "tenant": "ctmuhb", "sup": [], "seen": [],
              "record": "RSK-7K3M9Q2X1A", "id": "1@5f0c9e1a2b3c4d5e",
              "hlc": "01a207a23280-0000", "field": "title", "cluster": "rhondda"
            }
            """
        let change = try Change(jsonText: loose)
        #expect(change.supersedes.isEmpty && change.seen.isEmpty)
        #expect(change.jsonText == #"{"cluster":"rhondda","field":"title","hlc":"01a207a23280-0000","id":"1@5f0c9e1a2b3c4d5e","record":"RSK-7K3M9Q2X1A","tenant":"ctmuhb","value":"Practice nurse vacancy in Treorchy"}"#)
    }

    @Test func absentOptionalKeysAreOmittedAndOrderIsKept() throws {
        let a = ReplicaID("5f0c9e1a2b3c4d5e")!
        let bare = Change(
            id: ChangeID(replica: a, counter: 3), hlc: HLCTimestamp(millis: 1), record: RecordID("RSK-7K3M9Q2X1A")!,
            scope: RecordScope(tenant: "t", cluster: "c"), field: "tags", value: nil)
        #expect(bare.jsonText == #"{"cluster":"c","field":"tags","hlc":"000000000001-0000","id":"3@5f0c9e1a2b3c4d5e","record":"RSK-7K3M9Q2X1A","tenant":"t"}"#)

        var full = bare
        full.scope.practice = "W95010"
        full.author = "Siân"
        full.value = .string("estates")
        full.supersedes = [ChangeID(replica: a, counter: 2), ChangeID(replica: a, counter: 1)]
        full.seen = [ChangeID(replica: a, counter: 1)]
        #expect(full.jsonText == #"{"author":"Siân","cluster":"c","field":"tags","hlc":"000000000001-0000","id":"3@5f0c9e1a2b3c4d5e","practice":"W95010","record":"RSK-7K3M9Q2X1A","seen":["1@5f0c9e1a2b3c4d5e"],"sup":["2@5f0c9e1a2b3c4d5e","1@5f0c9e1a2b3c4d5e"],"tenant":"t","value":"estates"}"#)
        #expect(try Change(jsonText: full.jsonText) == full)
    }

    /// An optional key whose value is null reads as absent: `"value":null` is a remove (valid
    /// only for a set field), and the re-encoded change has no such key.
    @Test func aNullOptionalKeyReadsAsAbsent() throws {
        let line = #"{"author":null,"cluster":"c","field":"tags","hlc":"000000000001-0000","id":"3@5f0c9e1a2b3c4d5e","practice":null,"record":"RSK-7K3M9Q2X1A","seen":null,"sup":["2@5f0c9e1a2b3c4d5e"],"tenant":"t","value":null}"#
        let change = try Change(jsonText: line)
        #expect(change.value == nil && change.author == nil && change.scope.practice == nil && change.seen.isEmpty)
        #expect(change.jsonText == #"{"cluster":"c","field":"tags","hlc":"000000000001-0000","id":"3@5f0c9e1a2b3c4d5e","record":"RSK-7K3M9Q2X1A","sup":["2@5f0c9e1a2b3c4d5e"],"tenant":"t"}"#)
        try RecordSchema.risk.validate(field: "tags", value: change.value)
        // On a register it is a write without a value, which validation refuses.
        #expect(throws: ClusterSyncError.self) { try RecordSchema.risk.validate(field: "title", value: change.value) }
    }

    @Test func stringsEscapeOnlyQuoteBackslashAndControlCharacters() {
        let text = "a\"b\\c/d\u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}\u{7F} é Ŵ — 😀"
        let expected = #""a\"b\\c/d\u0000\u0001\u0008\t\n\u000c\r\u001f"# + "\u{7F} é Ŵ — 😀\""
        #expect(JSONValue.string(text).canonicalText == expected)
        #expect(JSONValue.object([text: .null]).canonicalText == "{" + expected + ":null}")
        #expect((try? JSONValue(parsing: expected)) == .string(text))
    }

    @Test func objectKeysAreSortedAtEveryDepth() {
        let value = JSONValue.object([
            "text": .string("x"), "date": .string("2026-11-23"),
            "nested": .object(["z": .int(1), "a": .array([.object(["b": .bool(true), "a": .null])])]),
        ])
        #expect(value.canonicalText == #"{"date":"2026-11-23","nested":{"a":[{"a":null,"b":true}],"z":1},"text":"x"}"#)
    }

    @Test(arguments: [
        ("1", "1"), ("-5", "-5"), ("1.0", "1"), ("1e2", "100"), ("-0", "0"), ("-0.0", "0"), ("4.50", "4.5"),
        ("9223372036854775807", "9223372036854775807"), ("-9223372036854775808", "-9223372036854775808"),
        ("[true,false,null]", "[true,false,null]"),
    ])
    func numbersAndLiterals(_ input: String, _ canonical: String) throws {
        #expect(try JSONValue(parsing: input).canonicalText == canonical)
    }

    /// Not JSON numbers, though `Int64(_:)` would read them.
    @Test(arguments: ["+5", "007", "-007", "00", "-", "--1", "1-", "+0", "0x10", "1_000"])
    func numbersOutsideTheJSONGrammarAreRefused(_ input: String) {
        #expect(throws: ClusterSyncError.self) { try JSONValue(parsing: input) }
    }

    /// `JSONDecoder` checks a value's syntax only when decoding it; a bad value anywhere inside
    /// `value` is still a syntax error of the whole line, with no field.
    @Test(arguments: ["+5", "007", "-01", "\"a\tb\"", "\"a\u{1}b\"", "{\"likelihood\":+4,\"consequence\":3}", "[1,\"x\ny\"]", "[[[+1]]]"])
    func aValueThatIsNotJSONIsASyntaxError(_ value: String) {
        let line = #"{"cluster":"rhondda","field":"target_score","hlc":"01a207a23280-0000","id":"1@5f0c9e1a2b3c4d5e","record":"RSK-7K3M9Q2X1A","tenant":"ctmuhb","value":"#
            + value + "}"
        do throws(ClusterSyncError) {
            _ = try Change(jsonText: line)
            Issue.record("\(value) was accepted")
        } catch {
            #expect(error.code == .malformed && error.field == nil, "\(error.field ?? "-"): \(error.message)")
        }
        #expect(throws: ClusterSyncError.self) { try JSONValue(parsing: value) }
    }

    // MARK: Canonical identifiers

    /// A decoder must refuse identifiers that are not in canonical form: they would re-encode
    /// with different bytes. (Each of these is also in invalid.jsonl.)
    @Test(arguments: [
        ("id", "+1@5f0c9e1a2b3c4d5e"),
        ("id", "01@5f0c9e1a2b3c4d5e"),
        ("id", "١@5f0c9e1a2b3c4d5e"),
        ("hlc", "01A207A23280-0000"),
        ("hlc", "+1a207a23280-0000"),
        ("hlc", "-00000000001-0000"),
        ("hlc", "800000000000-0000"),
        ("record", "rsk-7k3m9q2x1a"),
        ("record", "RSK-ßßßßß"),
    ])
    func nonCanonicalIdentifiersAreRefused(_ key: String, _ text: String) {
        var o = [
            "cluster": "rhondda", "field": "title", "hlc": "01a207a23280-0000", "id": "1@5f0c9e1a2b3c4d5e",
            "record": "RSK-7K3M9Q2X1A", "tenant": "ctmuhb", "value": "Practice nurse vacancy in Treorchy",
        ]
        o[key] = text
        let line = JSONValue.object(o.mapValues(JSONValue.string)).canonicalText
        do throws(ClusterSyncError) {
            let change = try Change(jsonText: line)
            Issue.record("\(text) was read as \(key): \(change.jsonText)")
        } catch {
            #expect(error.code == .malformed && error.field == key, "\(error.field ?? "-"): \(error.message)")
        }
    }

    @Test func changeIDCountersAreCanonicalDecimal() {
        let replica = "@5f0c9e1a2b3c4d5e"
        #expect(ChangeID("1" + replica)?.counter == 1)
        #expect(ChangeID("9223372036854775807" + replica)?.counter == .max)
        for counter in ["", "0", "00", "01", "+1", "-1", " 1", "1 ", "1e3", "١", "９", "9223372036854775808", "19223372036854775807"] {
            #expect(ChangeID(counter + replica) == nil, "\(counter)")
        }
    }

    /// The error names the key of the change at fault, also for an element of a list.
    @Test(arguments: [
        (#""sup":[2]"#, "sup"), (#""seen":[null]"#, "seen"), (#""sup":["1@5f0c9e1a2b3c4d5e",{}]"#, "sup"),
        (#""seen":[["1@5f0c9e1a2b3c4d5e"]]"#, "seen"), (#""sup":["x"]"#, "sup"),
    ])
    func aBadListElementIsReportedWithTheListsKey(_ pair: String, _ key: String) {
        let line = #"{"cluster":"rhondda","field":"title","hlc":"01a207a23280-0000","id":"2@5f0c9e1a2b3c4d5e","record":"RSK-7K3M9Q2X1A","#
            + pair + #","tenant":"ctmuhb","value":"Practice nurse vacancy in Treorchy"}"#
        do throws(ClusterSyncError) {
            _ = try Change(jsonText: line)
            Issue.record("\(pair) was accepted")
        } catch {
            #expect(error.code == .malformed && error.field == key, "\(error.field ?? "-"): \(error.message)")
        }
    }

    // MARK: What JSONDecoder would allow (StrictJSONSyntax)

    /// Foundation's `JSONDecoder` is more lenient than RFC 8259: it keeps the first of duplicate
    /// keys (other parsers keep the last, so two implementations would read different changes)
    /// and accepts trailing commas. Both are refused before it reads the text, naming what was
    /// wrong. (Each line is also in invalid.jsonl, which both ends are held to.)
    @Test(arguments: [
        (#"{"cluster":"rhondda","field":"title","field":"status","hlc":"01a207a23280-0000","id":"1@5f0c9e1a2b3c4d5e","record":"RSK-7K3M9Q2X1A","tenant":"ctmuhb","value":"open"}"#,
         #"the key "field" appears twice"#),
        (#"{"cluster":"rhondda","f\u0069eld":"status","field":"title","hlc":"01a207a23280-0000","id":"1@5f0c9e1a2b3c4d5e","record":"RSK-7K3M9Q2X1A","tenant":"ctmuhb","value":"open"}"#,
         #"the key "field" appears twice"#),
        (#"{"cluster":"rhondda","field":"notes","hlc":"01a207a23280-0000","id":"1@5f0c9e1a2b3c4d5e","record":"RSK-7K3M9Q2X1A","tenant":"ctmuhb","value":{"text":"a","text":"b"}}"#,
         #"the key "text" appears twice"#),
        (#"{"cluster":"rhondda","field":"title","hlc":"01a207a23280-0000","id":"1@5f0c9e1a2b3c4d5e","record":"RSK-7K3M9Q2X1A","tenant":"ctmuhb","value":"Practice nurse vacancy in Treorchy",}"#,
         #"a comma before "}""#),
        (#"{"cluster":"rhondda","field":"title","hlc":"01a207a23280-0000","id":"2@5f0c9e1a2b3c4d5e","record":"RSK-7K3M9Q2X1A","sup":["1@5f0c9e1a2b3c4d5e",],"tenant":"ctmuhb","value":"Practice nurse vacancy in Treorchy"}"#,
         #"a comma before "]""#),
    ])
    func lenientJSONIsRefused(_ line: String, naming problem: String) {
        do {
            let change = try Change(jsonText: line)
            Issue.record("read as \(change)")
        } catch {
            #expect(error.code == .malformed && error.field == nil && error.message.contains(problem), "\(error)")
        }
    }

    /// The same key in two objects, or a comma inside a string, is no fault.
    @Test func aKeyInTwoObjectsAndCommasInStringsAreJSON() throws {
        let value = try JSONValue(parsing: #"{"a":{"a":1},"b":[{"a":1},{"a":"x,]"}],"c":"\"a\":1,}"}"#)
        #expect(value["a"]?["a"] == .int(1))
        #expect(value["c"] == .string(#""a":1,}"#))
    }

    /// `sup` and `seen` are bounded (changes.md §8, item 7): the limit itself is admitted, one
    /// more is refused, as is an id named twice or `seen` on anything but a delete.
    @Test func supersedesAndSeenAreBounded() throws {
        let maker = ReplicaID("5f0c9e1a2b3c4d5e")!, other = ReplicaID("a3b2c1d0e9f80716")!
        func ids(_ n: Int) -> [ChangeID] { (1...Int64(n)).map { ChangeID(replica: other, counter: $0) } }
        func change(_ field: String, _ value: JSONValue, sup: [ChangeID] = [], seen: [ChangeID] = []) -> Change {
            Change(id: ChangeID(replica: maker, counter: 9), hlc: HLCTimestamp(millis: 1_700_000_000_000), record: RecordID("RSK-7K3M9Q2X1A")!,
                   scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"), field: field, value: value, supersedes: sup, seen: seen)
        }
        try change("title", .string("Locum cover"), sup: ids(Change.maxSupersedes)).validate()
        try change("deleted", .bool(true), sup: ids(2), seen: ids(Change.maxSeen)).validate()
        let refused: [(Change, String)] = [
            (change("title", .string("Locum cover"), sup: ids(Change.maxSupersedes + 1)), "sup may name at most 1000 changes; got 1001"),
            (change("deleted", .bool(true), seen: ids(Change.maxSeen + 1)), "seen may name at most 4096 changes; got 4097"),
            (change("title", .string("Locum cover"), sup: ids(2) + ids(1)), "sup names 1@a3b2c1d0e9f80716 twice"),
            (change("title", .string("Locum cover"), seen: ids(1)), "seen is only for a delete (field deleted, value true), not a write of title"),
            (change("deleted", .bool(false), seen: ids(1)), "seen is only for a delete (field deleted, value true), not a write of deleted"),
        ]
        for (bad, message) in refused {
            let error = #expect(throws: ClusterSyncError.self) { try bad.validate() }
            #expect(error?.code == .invalidValue && error?.message == message && error?.field == (message.hasPrefix("sup") ? "sup" : "seen"),
                    "\(String(describing: error))")
        }
    }

    /// Nesting deeper than `JSONDecoder` goes is refused before it, naming why: a text ending
    /// with `[` one level deeper (513) made Foundation's parser trap instead of throwing.
    @Test func deepNestingIsMalformed() {
        let mixed = "[" + String(repeating: #"{"a":["#, count: 256)
        for text in [String(repeating: "[", count: 513), mixed] {
            #expect(throws: ClusterSyncError.self) { try WireCodec.decode(text) }
            #expect(throws: ClusterSyncError.self) { try Change(jsonText: text) }
            do {
                _ = try JSONValue(parsing: text)
                Issue.record("parsed")
            } catch {
                #expect(error.code == .malformed && error.message.contains("nested more than 512 deep"), "\(error)")
            }
        }
        for depth in [StrictJSONSyntax.maxDepth + 1, 100_000] {
            let line = #"{"limit":2,"type":"pull","x":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
            #expect(throws: ClusterSyncError.self) { try WireCodec.decode(line) }
            #expect(throws: ClusterSyncError.self) { try WireCodec.decode(String(repeating: "[", count: depth)) }
        }
        // Within the depth, a repeated key is found however deep it sits.
        let deep = String(repeating: "[", count: 500) + #"{"a":1,"a":2}"# + String(repeating: "]", count: 500)
        #expect(throws: ClusterSyncError.self) { try JSONValue(parsing: deep) }
    }

    /// An object of many distinct keys is JSON (each key goes into its object's set in place),
    /// one with the last key repeated is not, and a long repeated key is not echoed whole.
    @Test func manyKeysAndALongRepeatedKey() throws {
        let keys = (0..<20_000).map { #""k\#($0)":0"# }.joined(separator: ",")
        #expect(try JSONValue(parsing: "{" + keys + "}")["k19999"] == .int(0))
        #expect(throws: ClusterSyncError.self) { try JSONValue(parsing: "{" + keys + #","k19999":1}"#) }
        let long = String(repeating: "x", count: 100_000)
        do {
            _ = try JSONValue(parsing: #"{""# + long + #"":1,""# + long + #"":2}"#)
            Issue.record("parsed")
        } catch {
            #expect(error.code == .malformed && error.message.utf8.count < 300, "\(error.message.prefix(300))")
        }
    }

    /// A wire line is held to the same rule before its message is read.
    @Test func aWireLineWithARepeatedKeyIsMalformed() {
        #expect(throws: ClusterSyncError.self) {
            try WireCodec.decode(#"{"limit":2,"type":"pull","type":"bye"}"#)
        }
        #expect(throws: ClusterSyncError.self) {
            try WireCodec.decode(#"{"limit":2,"typ\u0065":"bye","type":"pull"}"#)
        }
        #expect(throws: ClusterSyncError.self) { try WireCodec.decode(#"{"limit":2,"type":"pull",}"#) }
        #expect(throws: Never.self) { try WireCodec.decode(#"{ "limit" : 2, "type" : "pull" }"#) }
    }

    // MARK: Helpers

    /// Exhaustive on purpose: a new field kind does not compile until it has a name here, and
    /// then the coverage tests fail until the vectors have an example of it.
    static func kindName(_ kind: FieldKind) -> String {
        switch kind {
        case .text: "text"
        case .choice: "choice"
        case .date: "date"
        case .riskScore: "riskScore"
        case .flag: "flag"
        case .reference: "reference"
        case .referenceSet: "referenceSet"
        case .tagSet: "tagSet"
        case .notes: "notes"
        case .position: "position"
        case .choiceMap: "choiceMap"
        case .attendeeSet: "attendeeSet"
        case .choiceSet: "choiceSet"
        case .quorumRule: "quorumRule"
        case .amount: "amount"
        }
    }

    static let allKindNames = [
        "text", "choice", "date", "riskScore", "flag", "reference", "referenceSet", "tagSet", "notes", "position",
        "choiceMap", "attendeeSet", "choiceSet", "quorumRule", "amount",
    ]
}
