import ClusterSyncCore
import Testing

/// Inputs found by `Fuzz/run.sh`, kept so the fixes stay. (Other findings sit with the tests of
/// their code: `AuthorNameTests.cuttingForLengthCannotLeaveAVia`,
/// `WireCodecTests.aPageWithAnUnreadableChangeFirstRoundTrips`.)
@Suite struct FuzzFindingsTests {
    /// FuzzChangeCodec: `666666666666666386.38` parsed as a double that is whole
    /// (6.666666666666664e+17), whose canonical text then read back as an integer: the canonical
    /// text was not a fixed point. It is the integer from the start.
    @Test func aFractionThatIsAWholeDoubleReadsAsTheIntegerItIs() throws {
        let value = try JSONValue(parsing: "666666666666666386.38")
        #expect(value == .int(666_666_666_666_666_368))
        let again = try JSONValue(parsing: value.canonicalText)
        #expect(again == value && again.canonicalText == value.canonicalText)
        // Beyond Int64 a whole double stays a double, and its text still reads back as itself.
        let large = try JSONValue(parsing: "1e19")
        #expect(try JSONValue(parsing: large.canonicalText) == large)
        #expect(try JSONValue(parsing: "2.5") == .double(2.5))
    }

    /// FuzzChangeCodec: a change naming an unknown field of 3,000 bytes got an admission error
    /// quoting all of it, sent back to the peer and logged. A name is quoted only when short and
    /// holding no NHS number.
    @Test func anUnknownFieldIsNotEchoedWhole() throws {
        let name = "vot" + String(repeating: "\u{FFFD}", count: 1_000) + "es:Dr Siân"
        for type in RecordType.allCases {
            let change = Change(
                id: ChangeID("1@5f0c9e1a2b3c4d5e")!, hlc: HLCTimestamp(millis: 1_795_426_200_000),
                record: RecordID.random(for: type), scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"),
                field: name, value: .string("for"))
            let rule = ChangeAdmission(session: SessionIdentity(tenant: "ctmuhb", cluster: "rhondda", practice: "W95010", author: "W95010"),
                                       limits: .default)
            let error = #expect(throws: ClusterSyncError.self) { try rule.check(change, nowMillis: 1_795_426_200_000) }
            #expect(error?.code == .unknownField)
            #expect((error?.message.utf8.count ?? 0) < 600, "\(error?.message.prefix(200) ?? "")")
            #expect(error?.message.contains("named with 1013 characters") == true, "\(error?.message ?? "")")
        }
        // FuzzChangeCodec again (thirty-eighth session, from the map-key vector): a name of few
        // characters and many combining marks was quoted whole, 1,347 bytes.
        let heavy = "vo;es:" + String(repeating: "a\u{301}\u{301}\u{301}\u{301}\u{301}\u{301}\u{301}\u{301}", count: 30)
        let heavyError = #expect(throws: ClusterSyncError.self) { try RecordType.decision.schema.validate(field: heavy, value: .string("for")) }
        #expect((heavyError?.message.utf8.count ?? 0) < 600, "\(heavyError?.message.prefix(200) ?? "")")
        // A short name is still quoted, and is the error's field.
        let error = #expect(throws: ClusterSyncError.self) { try RecordType.risk.schema.validate(field: "colour", value: .string("red")) }
        #expect(error?.message.contains(#"no field "colour""#) == true)
        #expect(error?.field == "colour")
        // One that could carry an NHS number is not.
        let nhs = #expect(throws: ClusterSyncError.self) { try RecordType.risk.schema.validate(field: "943 476 5919", value: .string("x")) }
        #expect(nhs?.message.contains("943") == false)
    }
}
