import ClusterSyncCore
import Testing

@Suite struct PatientDataGuardTests {
    /// Digits of a number, for `isValidNHSNumber`.
    static func digits(_ text: String) -> [UInt8] { text.utf8.map { $0 - UInt8(ascii: "0") } }

    // 943 476 5919 and 401 023 2137 pass the modulus 11 check:
    // 9·10 + 4·9 + 3·8 + 4·7 + 7·6 + 6·5 + 5·4 + 9·3 + 1·2 = 299, 299 mod 11 = 2, 11 − 2 = 9.
    @Test func theModulus11Check() {
        #expect(PatientDataGuard.isValidNHSNumber(Self.digits("9434765919")))
        #expect(PatientDataGuard.isValidNHSNumber(Self.digits("4010232137")))
        // A remainder of 0 gives the check digit 0, not 11.
        #expect(PatientDataGuard.isValidNHSNumber(Self.digits("0000000000")))
        // Every other last digit fails.
        for last in 0...9 where last != 9 {
            #expect(!PatientDataGuard.isValidNHSNumber(Self.digits("943476591\(last)")), "943476591\(last)")
        }
        // A remainder of 1 would need the check digit 10: no number with these first nine digits is valid.
        for last in 0...9 {
            #expect(!PatientDataGuard.isValidNHSNumber(Self.digits("000000006\(last)")), "000000006\(last)")
        }
        #expect(!PatientDataGuard.isValidNHSNumber(Self.digits("943476591")))
        #expect(!PatientDataGuard.isValidNHSNumber(Self.digits("94347659190")))
    }

    @Test(arguments: [
        ("9434765919", "9434765919"),
        ("943 476 5919", "9434765919"),
        ("943-476-5919", "9434765919"),
        ("943 476-5919", "9434765919"),
        ("NHS no: 943 476 5919.", "9434765919"),
        ("Recall (9434765919) for review", "9434765919"),
        ("ref9434765919x", "9434765919"),
        ("401 023 2137", "4010232137"),
        ("401-023-2137 then 943 476 5919", "4010232137"),
        ("Phone 01443 443443; patient 943 476 5919", "9434765919"),
    ])
    func validNumbersAreFound(_ text: String, _ number: String) {
        #expect(PatientDataGuard.nhsNumber(in: text) == number)
    }

    @Test(arguments: [
        "943 476 5918",  // wrong check digit
        "9434765918",
        "000 000 0060",  // check digit would be 10
        "01443 443443",  // an 11-digit phone number
        "01443443443",
        "07700 900123",
        "029 2074 5919",
        "19434765919",  // 11 digits, even though ten of them would pass
        "94347659190",
        "943 476 59190",
        "Review on 2026-11-23 at 09:30, 12 attendees, 3 actions",
        "",
    ])
    func otherNumbersAreAllowed(_ text: String) {
        #expect(PatientDataGuard.nhsNumber(in: text) == nil)
    }

    @Test(arguments: [
        ("description", RecordType.risk, JSONValue.string("Patient 943 476 5919 complained")),
        ("title", RecordType.action, .string("Recall 9434765919")),
        ("tags", RecordType.risk, .string("943-476-5919")),
        ("notes", RecordType.action, .object(["date": .string("2026-11-23"), "text": .string("Rang 401 023 2137")])),
        ("text", RecordType.item, .string("401-023-2137")),
        ("description", RecordType.list, .string("Members: 943 476 5919")),
    ])
    func freeTextWithANumberIsRefused(_ field: String, _ type: RecordType, _ value: JSONValue) {
        do throws(ClusterSyncError) {
            try type.schema.validate(field: field, value: value)
            Issue.record("\(field) accepted an NHS number")
        } catch {
            #expect(error.code == .patientData)
            #expect(error.field == field)
            // The message names the field but never repeats the number.
            #expect(!error.message.contains("5919") && !error.message.contains("2137"))
            #expect(error.isUserError)
        }
    }

    @Test func freeTextWithoutANumberIsAccepted() throws {
        try RecordSchema.risk.validate(field: "description", value: .string("Call 01443 443443 or 07700 900123 (943 476 5918)"))
        try RecordSchema.action.validate(field: "notes", value: .object(["date": .string("2026-11-23"), "text": .string("12 posts, 3 filled")]))
        try RecordSchema.risk.validate(field: "tags", value: .string("2026-27"))
    }

    @Test func choicesAreNotFreeText() {
        // Only text, tags and notes are checked; other kinds refuse numbers for their own reasons.
        do throws(ClusterSyncError) {
            try RecordSchema.risk.validate(field: "status", value: .string("9434765919"))
            Issue.record("a number was accepted as a status")
        } catch {
            #expect(error.code == .invalidValue)
        }
    }

    /// ClusterSyncError promises messages never hold record contents. The NHS check runs before
    /// the length check, so a too-long text holding a number is refused as patient data; and a
    /// too-long text is described by its length, never quoted.
    @Test func aTooLongTextIsNotQuotedInTheError() {
        let title = "Patient 943 476 5919 " + String(repeating: "x", count: 200)
        do throws(ClusterSyncError) {
            try RecordSchema.risk.validate(field: "title", value: .string(title))
            Issue.record("a 221-character title was accepted")
        } catch {
            #expect(error.code == .patientData)
            #expect(!error.message.contains("943 476 5919"))
        }
        let other = "Patient 943 476 5918 " + String(repeating: "x", count: 200)
        do throws(ClusterSyncError) {
            try RecordSchema.risk.validate(field: "title", value: .string(other))
            Issue.record("a 221-character title was accepted")
        } catch {
            #expect(error.code == .invalidValue)
            #expect(!error.message.contains("Patient") && !error.message.contains("5918"), "\(error.message)")
            #expect(error.message.contains("221 characters"), "\(error.message)")
        }
    }

    /// A note or tag holding a number is patient data whatever else is wrong with it.
    @Test(arguments: [
        ("tags", RecordType.risk, JSONValue.string("recall-943 476 5919-" + String(repeating: "t", count: 40))),
        ("notes", RecordType.action, .object(["date": .string("2026-11-31"), "text": .string("Rang 943 476 5919")])),
        ("notes", RecordType.action, .object(["date": .string("2026-11-23"), "text": .string("Rang 943 476 5919 " + String(repeating: "n", count: 10_000))])),
        ("notes", RecordType.action, .object(["text": .string("Rang 943 476 5919")])),
    ])
    func theNHSCheckRunsBeforeShapeAndLengthChecks(_ field: String, _ type: RecordType, _ value: JSONValue) {
        do throws(ClusterSyncError) {
            try type.schema.validate(field: field, value: value)
            Issue.record("\(field) was accepted")
        } catch {
            #expect(error.code == .patientData, "\(error.message)")
            #expect(!error.message.contains("5919"))
        }
    }

    // MARK: Other spacings and scripts

    @Test(arguments: [
        ("943  476  5919", "9434765919"),  // double spaces
        ("943 - 476 - 5919", "9434765919"),
        ("943.476.5919", "9434765919"),
        ("943/476/5919", "9434765919"),
        ("943\u{A0}476\u{A0}5919", "9434765919"),  // no-break spaces
        ("943\u{202F}476\u{2007}5919", "9434765919"),  // narrow no-break and figure spaces
        ("943\t476\t5919", "9434765919"),
        ("943\u{2013}476\u{2013}5919", "9434765919"),  // en dashes
        ("NHS: 943. 476 /5919", "9434765919"),
        ("９４３４７６５９１９", "9434765919"),  // full-width digits
        ("９４３ ４７６ ５９１９", "9434765919"),
        ("９４３\u{3000}４７６\u{3000}５９１９", "9434765919"),  // ideographic spaces
        ("９４３－４７６－５９１９", "9434765919"),  // full-width hyphens
        ("94３ 4７6-59１9", "9434765919"),  // mixed widths
        ("Ref ４０１０２３２１３７.", "4010232137"),
    ])
    func numbersSpacedOrWrittenOtherwiseAreFound(_ text: String, _ number: String) {
        #expect(PatientDataGuard.nhsNumber(in: text) == number, "\(text)")
        do throws(ClusterSyncError) {
            try RecordSchema.risk.validate(field: "description", value: .string("Seen " + text + " today"))
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.code == .patientData)
        }
    }

    @Test(arguments: [
        "943 476 5918",  // still the check digit
        "９４３ ４７６ ５９１８",
        "943, 476, 5919",  // a comma is not a separator
        "943 and 476 and 5919",
        "943:476:5919",
        "943 476\n5919",  // nor a line break
        "1943 476 5919",  // the groups must be 3, 3 and 4 digits
        "943 476 59190",
        "９４３４７６５９１９０",
        "Review 2026/11/23 at 09.30, 12 attendees",
    ])
    func otherSeparatorsAndNumbersAreAllowed(_ text: String) {
        #expect(PatientDataGuard.nhsNumber(in: text) == nil, "\(text)")
    }

    @Test func quotableTextIsShortAndHasFewDigits() {
        #expect(PatientDataGuard.quotable("in-progress") == "in-progress")
        #expect(PatientDataGuard.quotable("2026-11-23") == "2026-11-23")
        #expect(PatientDataGuard.quotable("123456789") == "123456789")
        #expect(PatientDataGuard.quotable("1234567890") == nil)
        #expect(PatientDataGuard.quotable("12 34 56 78 90") == nil)
        #expect(PatientDataGuard.quotable("１２３４５６７８９０") == nil)
        #expect(PatientDataGuard.quotable("١٢٣٤٥٦٧٨٩٠") == nil)  // Arabic-Indic digits
        #expect(PatientDataGuard.quotable(String(repeating: "a", count: 40)) != nil)
        #expect(PatientDataGuard.quotable(String(repeating: "a", count: 41)) == nil)
    }
}
