import ClusterSyncCore
import Testing

/// What a person types (`FieldInput.parse`) and what an edit becomes (`Edit.plan`).
@Suite struct ValidationTests {
    static let a = ReplicaID("5f0c9e1a2b3c4d5e")!
    static let b = ReplicaID("a3b2c1d0e9f80716")!
    static let risk = RecordID("RSK-7K3M9Q2X1A")!
    static let action = RecordID("ACT-4F8R2M6W0Z")!
    static let item = RecordID("ITM-2B6D8G4K0E")!
    static let today = CalendarDate(year: 2026, month: 11, day: 23)

    static func w(
        _ replica: ReplicaID, _ counter: Int64, at millis: Int64, _ field: String, _ value: JSONValue, seen: [FieldWrite] = []
    ) -> FieldWrite {
        FieldWrite(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: millis), field: field, value: value, seen: seen.map(\.id))
    }

    static func view(_ id: RecordID, _ writes: [FieldWrite]) -> RecordView {
        RecordView(id: id, scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"), liveWrites: writes)
    }

    static func score(_ l: Int64, _ c: Int64) -> JSONValue { .object(["likelihood": .int(l), "consequence": .int(c)]) }

    static func parse(_ arguments: [String], _ type: RecordType, current: RecordView? = nil) throws(ClusterSyncError) -> [Edit] {
        try FieldInput.parse(arguments, type: type, current: current, today: today)
    }

    /// Parses one argument, which makes one edit.
    static func parse(_ argument: String, _ type: RecordType, current: RecordView? = nil) throws -> Edit {
        let edits = try parse([argument], type, current: current)
        return try #require(edits.count == 1 ? edits.first : nil, "\(argument) made \(edits)")
    }

    /// Runs `body`, expecting it to throw `code` naming `field`; returns the error for more checks.
    @discardableResult
    static func expectError<T>(
        _ code: ClusterSyncError.Code, field: String?, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> T
    ) -> ClusterSyncError? {
        do {
            let result = try body()
            Issue.record("expected \(code), got \(result)", sourceLocation: sourceLocation)
            return nil
        } catch let error as ClusterSyncError {
            #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
            #expect(error.field == field, "\(error.message)", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("expected a ClusterSyncError, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    // MARK: Risk scores

    @Test func likelihoodSevenIsRefusedNamingTheFieldAndTheAllowedValues() {
        let error = Self.expectError(.invalidValue, field: "likelihood") { try Self.parse("likelihood=7", .risk) }
        let message = error?.message ?? ""
        for allowed in ["1 rare", "2 unlikely", "3 possible", "4 likely", "5 almost certain"] {
            #expect(message.contains(allowed), "\(message)")
        }
        #expect(message.contains("got 7"))

        let consequence = Self.expectError(.invalidValue, field: "target_consequence") {
            try Self.parse("target-consequence=0", .risk)
        }
        #expect(consequence?.message.contains("5 catastrophic") == true)
        Self.expectError(.invalidValue, field: "likelihood") { try Self.parse("likelihood=four", .risk) }
        Self.expectError(.invalidValue, field: "likelihood") { try Self.parse("likelihood+=4", .risk) }
        // The same refusal when the score arrives as a value rather than typed.
        Self.expectError(.invalidValue, field: "score") {
            try Edit.set("score", Self.score(7, 3)).plan(on: nil, type: .risk)
        }
    }

    /// A half as the matrix names it, as typed or as a register's sheet writes it; the number
    /// and the word, when both are given, must agree.
    @Test func aScoreHalfMayBeTheMatrixsWord() throws {
        #expect(try Self.parse(["likelihood=possible", "consequence=Major (4)"], .risk) == [.set("score", Self.score(3, 4))])
        #expect(try Self.parse(["likelihood=3 - Possible", "consequence= catastrophic "], .risk) == [.set("score", Self.score(3, 5))])
        #expect(try Self.parse(["target_likelihood=Almost  certain", "target_consequence=1"], .risk) == [.set("target_score", Self.score(5, 1))])
        for refused in ["3 likely", "-1", "possible 4 5", "0 - none", "very likely"] {
            let error = Self.expectError(.invalidValue, field: "likelihood") { try Self.parse("likelihood=\(refused)", .risk) }
            #expect(error?.message.contains("got \(refused)") == true, "\(error?.message ?? "")")
        }
    }

    @Test func aHalfScoreIsPairedWithTheCurrentOtherHalf() throws {
        let current = Self.view(Self.risk, [
            Self.w(Self.a, 1, at: 10, "score", Self.score(2, 4)),
            Self.w(Self.a, 2, at: 11, "target_score", Self.score(1, 5)),
        ])
        #expect(try Self.parse("likelihood=4", .risk, current: current) == .set("score", Self.score(4, 4)))
        #expect(try Self.parse("consequence=1", .risk, current: current) == .set("score", Self.score(2, 1)))
        #expect(try Self.parse("target_consequence=2", .risk, current: current) == .set("target_score", Self.score(1, 2)))
        #expect(try Self.parse("score=4x3", .risk) == .set("score", Self.score(4, 3)))
        Self.expectError(.invalidValue, field: "score") { try Self.parse("score=4x6", .risk) }

        // Both halves given together make one write, wherever they stand among the arguments.
        let pair = try Self.parse(["title=Nurse vacancy", "likelihood=4", "tags+=estates", "consequence=3"], .risk)
        #expect(pair == [.set("title", .string("Nurse vacancy")), .set("score", Self.score(4, 3)), .add("tags", .string("estates"))])
        #expect(try Self.parse(["target_consequence=2", "target_likelihood=1", "likelihood=5"], .risk, current: current)
            == [.set("target_score", Self.score(1, 2)), .set("score", Self.score(5, 4))])

        // A half alone, with no current score to take the other half from, names the missing half.
        let alone = Self.expectError(.invalidValue, field: "consequence") { try Self.parse(["likelihood=4"], .risk) }
        #expect(alone?.message.contains("consequence is needed too") == true)
        let target = Self.expectError(.invalidValue, field: "target_likelihood") {
            try Self.parse(["target_consequence=4", "likelihood=2"], .risk, current: Self.view(Self.risk, [Self.w(Self.a, 1, at: 10, "score", Self.score(2, 4))]))
        }
        #expect(target?.message.contains("target_likelihood is needed too") == true)
    }

    // MARK: Values the schema refuses

    /// A spreadsheet's date number (a date column saved unformatted) is refused naming the day
    /// it stands for and what to do; it is never taken as that day.
    @Test func aSpreadsheetsDateNumberIsRefusedNamingItsDay() throws {
        #expect(CalendarDate.spreadsheetDay(typed: "46113") == CalendarDate(year: 2026, month: 4, day: 1))
        #expect(CalendarDate.spreadsheetDay(typed: " 45292.5 ") == CalendarDate(year: 2024, month: 1, day: 1))
        #expect(CalendarDate.spreadsheetDay(typed: "32874") == CalendarDate(year: 1990, month: 1, day: 1))
        for notOne in ["2026", "12345", "99999", "46113x", "4611.3", "-46113", "46,113", ""] {
            #expect(CalendarDate.spreadsheetDay(typed: notOne) == nil, "\(notOne)")
        }
        let error = Self.expectError(.invalidValue, field: "due_date") { try Self.parse("due_date=46113", .action) }
        #expect(error?.message == "due_date must be a date written YYYY-MM-DD or DD/MM/YYYY; got 46113, which is how a spreadsheet saves "
            + "01/04/2026 in a column not formatted as dates: format the column as dates (or type the date) and try again")
        #expect(CalendarDate(typed: "46113") == nil)
        // An attendee's day agreed says the same (`meeting attend --agreed-on`, the app's form).
        let agreed = Self.expectError(.invalidValue, field: "agreed_on") {
            _ = try Attendee.typed(name: "Mrs Hughes", role: "substitute", agreedBy: "Chair", agreedOn: "46113")
        }
        #expect(agreed?.message == "the day it was agreed (agreed_on) must be a date written DD/MM/YYYY or YYYY-MM-DD; got 46113, which is how "
            + "a spreadsheet saves 01/04/2026 in a column not formatted as dates: format the column as dates (or type the date) and try again")
    }

    @Test func aDateThatIsNotADateIsRefused() throws {
        for text in ["2026-02-30", "2025-02-29", "2026-13-01", "11/23/2026", "tomorrow", "2026-11-23T09:00"] {
            // Typed, it is refused as it is read; sent as a value, the schema refuses it.
            let typed = Self.expectError(.invalidValue, field: "due_date") { try Self.parse("due-date=\(text)", .action) }
            #expect(typed?.message.contains("YYYY-MM-DD or DD/MM/YYYY") == true || typed?.message.contains("must be a day that exists: there is no") == true,
                    "\(typed?.message ?? "")")
            let error = Self.expectError(.invalidValue, field: "due_date") { try Edit.set("due_date", .string(text)).plan(on: nil, type: .action) }
            #expect(error?.message.contains("YYYY-MM-DD") == true)
        }
        #expect(try Self.parse("due-date=23/11/2026", .action) == .set("due_date", .string("2026-11-23")), "the hyphen in the name is read as an underscore")
        let leap = try Self.parse("review_date=2028-02-29", .risk).plan(on: nil, type: .risk)
        #expect(leap.value == .string("2028-02-29"))
    }

    @Test func anUnknownStatusIsRefusedListingTheAllowedOnes() throws {
        let edit = try Self.parse("status=done", .action)
        let error = Self.expectError(.invalidValue, field: "status") { try edit.plan(on: nil, type: .action) }
        #expect(error?.message.contains("not-started, in-progress, complete, closed, cancelled") == true)
        // A risk's statuses are not an action's.
        Self.expectError(.invalidValue, field: "status") {
            try Self.parse("status=in-progress", .risk).plan(on: nil, type: .risk)
        }
        #expect(try Self.parse("status=complete", .action).plan(on: nil, type: .action).value == .string("complete"))
    }

    /// A map key is bounded in bytes as well as characters: one "character" may carry any number
    /// of combining marks, and the key travels in page and snapshot cursors.
    @Test func aMapKeyOfOneCharacterAndManyBytesIsRefused() throws {
        let heavy = "a" + String(repeating: "\u{301}", count: 1_000)
        #expect(heavy.count == 1)
        let error = #expect(throws: ClusterSyncError.self) {
            try RecordType.decision.schema.validate(field: "votes:" + heavy, value: .string("for"))
        }
        #expect(error?.code == .invalidValue && error?.message.contains("400 bytes") == true, "\(String(describing: error))")
        try RecordType.decision.schema.validate(field: "votes:" + String(repeating: "ŵ", count: 100), value: .string("for"))
    }

    @Test func anUnknownFieldIsRefused() {
        Self.expectError(.unknownField, field: "colour") { try Self.parse("colour=red", .risk) }
        Self.expectError(.unknownField, field: "likelihood") { try Self.parse("likelihood=3", .action) }
        Self.expectError(.unknownField, field: "colour") {
            try Edit.set("colour", .string("red")).plan(on: nil, type: .risk)
        }
        Self.expectError(.invalidValue, field: nil) { try Self.parse("title", .risk) }
    }

    @Test func freeTextWithAnNHSNumberIsRefusedWhenPlanned() throws {
        let edit = try Self.parse("description=Seen 943 476 5919 today", .risk)
        Self.expectError(.patientData, field: "description") { try edit.plan(on: nil, type: .risk) }
        let note = try Self.parse("notes+=Rang 9434765919", .action)
        Self.expectError(.patientData, field: "notes") { try note.plan(on: nil, type: .action) }
    }

    // MARK: Set-once fields

    @Test func aSetOnceFieldCannotBeChanged() throws {
        let first = Self.w(Self.a, 1, at: 10, "original_due_date", .string("2026-12-01"))
        let current = Self.view(Self.action, [first])
        let error = Self.expectError(.alreadySet, field: "original_due_date") {
            try Edit.set("original_due_date", .string("2026-12-15")).plan(on: current, type: .action)
        }
        #expect(error?.message.contains("2026-12-01") == true)
        // Writing the value it already holds is allowed (and resolves a conflict of first writes).
        let same = try Edit.set("original_due_date", .string("2026-12-01")).plan(on: current, type: .action)
        #expect(same.supersedes == [first.id])
        // The first write is allowed.
        #expect(try Edit.set("original_due_date", .string("2026-12-15")).plan(on: nil, type: .action).supersedes == [])
        // The ordinary due date may move.
        let due = Self.view(Self.action, [first, Self.w(Self.a, 2, at: 11, "due_date", .string("2026-12-01"))])
        #expect(try Edit.set("due_date", .string("2026-12-15")).plan(on: due, type: .action).value == .string("2026-12-15"))

        let scored = Self.view(Self.risk, [Self.w(Self.a, 1, at: 10, "initial_score", Self.score(4, 3))])
        let rescore = try Self.parse("initial_likelihood=5", .risk, current: scored)
        #expect(rescore == .set("initial_score", Self.score(5, 3)))
        let held = Self.expectError(.alreadySet, field: "initial_score") { try rescore.plan(on: scored, type: .risk) }
        // The score as people write it, not its JSON (the CLI audit).
        #expect(held?.message == "initial_score is set once and already holds 4x3; it cannot be changed", "\(held?.message ?? "")")
    }

    // MARK: Sets, logs and positions

    @Test func aRemoveSupersedesEveryLiveAddOfTheMember() throws {
        let addA = Self.w(Self.a, 1, at: 10, "tags", .string("estates"))
        let addB = Self.w(Self.b, 1, at: 11, "tags", .string("estates"))
        let other = Self.w(Self.b, 2, at: 12, "tags", .string("workforce"))
        let current = Self.view(Self.risk, [addA, addB, other])
        let edit = try Self.parse("tags-=estates", .risk, current: current)
        #expect(edit == .remove("tags", .string("estates")))
        let planned = try edit.plan(on: current, type: .risk)
        #expect(planned.field == "tags" && planned.value == nil && planned.seen.isEmpty)
        #expect(Set(planned.supersedes) == [addA.id, addB.id])
    }

    @Test func removingAnAbsentMemberIsRefused() {
        let current = Self.view(Self.risk, [Self.w(Self.a, 1, at: 10, "tags", .string("estates"))])
        let error = Self.expectError(.invalidValue, field: "tags") {
            try Edit.remove("tags", .string("workforce")).plan(on: current, type: .risk)
        }
        #expect(error?.message.contains("workforce") == true)
        Self.expectError(.invalidValue, field: "tags") {
            try Edit.remove("tags", .string("estates")).plan(on: nil, type: .risk)
        }
        // Only sets have members to remove.
        Self.expectError(.invalidValue, field: "notes") {
            try Edit.remove("notes", .string("x")).plan(on: nil, type: .action)
        }
        Self.expectError(.invalidValue, field: "title") {
            try Edit.remove("title", .string("x")).plan(on: current, type: .risk)
        }
    }

    @Test func addsAndAppendsSupersedeNothing() throws {
        let current = Self.view(Self.action, [Self.w(Self.a, 1, at: 10, "tags", .string("estates"))])
        let tag = try Self.parse("tags+=estates", .action).plan(on: current, type: .action)
        #expect(tag.value == .string("estates") && tag.supersedes.isEmpty)

        let note = try Self.parse("notes+=Advert placed on NHS Jobs.", .action)
        let text = JSONValue.object(["date": .string("2026-11-23"), "text": .string("Advert placed on NHS Jobs.")])
        #expect(note == .add("notes", text))
        #expect(try note.plan(on: current, type: .action).supersedes.isEmpty)

        Self.expectError(.invalidValue, field: "tags") { try Self.parse("tags=estates", .action) }
        Self.expectError(.invalidValue, field: "notes") { try Self.parse("notes=hello", .action) }
        Self.expectError(.invalidValue, field: "title") {
            try Self.parse("title+=More", .action).plan(on: current, type: .action)
        }
    }

    @Test func aRegisterWriteSupersedesEveryLiveValue() throws {
        let one = Self.w(Self.a, 1, at: 10, "title", .string("Nurse vacancy"))
        let two = Self.w(Self.b, 1, at: 11, "title", .string("Nurse vacancies"))
        let current = Self.view(Self.risk, [one, two])
        let planned = try Self.parse("title=Practice nurse vacancies", .risk, current: current).plan(on: current, type: .risk)
        #expect(planned.value == .string("Practice nurse vacancies"))
        #expect(Set(planned.supersedes) == [one.id, two.id])
        #expect(planned.seen.isEmpty)
    }

    @Test func flagsAndReferencesAreReadFromText() throws {
        #expect(try Self.parse("done=yes", .item) == .set("done", .bool(true)))
        #expect(try Self.parse("done=N", .item) == .set("done", .bool(false)))
        Self.expectError(.invalidValue, field: "done") { try Self.parse("done=maybe", .item) }
        // A typed reference is written in its canonical capitals.
        #expect(try Self.parse("source=rsk-7k3m9q2x1a", .action) == .set("source", .string("RSK-7K3M9Q2X1A")))
        Self.expectError(.invalidValue, field: "linked_actions") {
            try Self.parse("linked_actions+=RSK-7K3M9Q2X1A", .risk).plan(on: nil, type: .risk)
        }
    }

    @Test func placingAnItemSupersedesItsCurrentPosition() throws {
        let slot = Self.w(Self.a, 3, at: 10, "position", .object(["after": .null]))
        let current = Self.view(Self.item, [slot])
        let anchor = ChangeID(replica: Self.b, counter: 18)
        let planned = try Edit.place(after: anchor).plan(on: current, type: .item)
        #expect(planned.field == "position")
        #expect(planned.value == .object(["after": .string("18@a3b2c1d0e9f80716")]))
        #expect(planned.supersedes == [slot.id])
        #expect(try Edit.place(after: nil).plan(on: nil, type: .item).value == .object(["after": .null]))
        Self.expectError(.wrongType, field: nil) { try Edit.place(after: nil).plan(on: nil, type: .risk) }
        // A position is not typed as a value.
        Self.expectError(.invalidValue, field: "position") {
            try Edit.set("position", .object(["after": .null])).plan(on: current, type: .item)
        }
    }

    // MARK: Deletes

    @Test func aDeletedRecordCannotBeEdited() throws {
        let title = Self.w(Self.a, 1, at: 10, "title", .string("Nurse vacancy"))
        let tag = Self.w(Self.a, 2, at: 11, "tags", .string("estates"))
        let delete = Self.w(Self.b, 1, at: 20, "deleted", .bool(true), seen: [title, tag])
        let deleted = Self.view(Self.risk, [title, tag, delete])
        #expect(deleted.isDeleted)
        let edits: [Edit] = [
            .set("title", .string("Other")), .add("tags", .string("workforce")), .remove("tags", .string("estates")),
            .set("status", .string("closed")),
        ]
        for edit in edits {
            Self.expectError(.recordDeleted, field: nil) { try edit.plan(on: deleted, type: .risk) }
        }
        let itemDelete = Self.w(Self.b, 2, at: 20, "deleted", .bool(true))
        Self.expectError(.recordDeleted, field: nil) {
            try Edit.place(after: nil).plan(on: Self.view(Self.item, [itemDelete]), type: .item)
        }

        let restore = try Edit.restore.plan(on: deleted, type: .risk)
        #expect(restore.field == "deleted" && restore.value == .bool(false))
        #expect(restore.supersedes == [delete.id] && restore.seen.isEmpty)
        // Deleting again is allowed; it replaces the delete it saw.
        #expect(try Edit.delete.plan(on: deleted, type: .risk).supersedes == [delete.id])
    }

    @Test func aDeleteCollectsTheWritesItSaw() throws {
        let titleA = Self.w(Self.a, 1, at: 10, "title", .string("Nurse vacancy"))
        let titleB = Self.w(Self.b, 1, at: 11, "title", .string("Nurse vacancies"))
        let tag = Self.w(Self.b, 2, at: 12, "tags", .string("estates"))
        let note = Self.w(Self.a, 2, at: 13, "notes", .object(["date": .string("2026-11-23"), "text": .string("Advert placed.")]))
        let restored = Self.w(Self.a, 3, at: 14, "deleted", .bool(false))
        let current = Self.view(Self.action, [titleB, note, restored, tag, titleA])
        let planned = try Edit.delete.plan(on: current, type: .action)
        #expect(planned.field == "deleted")
        #expect(planned.value == .bool(true))
        #expect(planned.supersedes == [restored.id])
        // Every live write of the other fields, conflicting values included, in change-id order
        // (replica, then counter).
        #expect(planned.seen == [titleA.id, note.id, titleB.id, tag.id])
    }

    @Test func thereIsNothingToDeleteOrRestoreOnAnEmptyRecord() throws {
        Self.expectError(.unknownRecord, field: nil) { try Edit.delete.plan(on: nil, type: .risk) }
        Self.expectError(.unknownRecord, field: nil) {
            try Edit.delete.plan(on: Self.view(Self.risk, []), type: .risk)
        }
        let live = Self.view(Self.risk, [Self.w(Self.a, 1, at: 10, "title", .string("Nurse vacancy"))])
        Self.expectError(.invalidValue, field: "deleted") { try Edit.restore.plan(on: live, type: .risk) }
    }

    // MARK: The deleted register

    /// `deleted` is a flag register in every schema, but only delete (which lists what it saw in
    /// `seen`) and restore write it: typed `deleted=yes` / `deleted=no` are those operations.
    @Test func typingDeletedYesIsADeleteThatSeesTheRecord() throws {
        let title = Self.w(Self.a, 1, at: 10, "title", .string("Nurse vacancy"))
        let current = Self.view(Self.risk, [title])
        #expect(try Self.parse("deleted=yes", .risk, current: current) == .delete)
        let planned = try Self.parse("deleted=yes", .risk, current: current).plan(on: current, type: .risk)
        #expect(planned.field == "deleted" && planned.value == .bool(true))
        #expect(planned.seen == [title.id])
        // With nothing to delete, the delete's own refusal applies.
        Self.expectError(.unknownRecord, field: nil) { try Self.parse("deleted=y", .risk).plan(on: nil, type: .risk) }

        let delete = Self.w(Self.b, 1, at: 20, "deleted", .bool(true), seen: [title])
        let deleted = Self.view(Self.risk, [title, delete])
        #expect(try Self.parse("deleted=no", .risk, current: deleted) == .restore)
        let restore = try Self.parse("deleted=No", .risk, current: deleted).plan(on: deleted, type: .risk)
        #expect(restore.value == .bool(false) && restore.supersedes == [delete.id])

        Self.expectError(.invalidValue, field: "deleted") { try Self.parse("deleted=maybe", .risk) }
        Self.expectError(.invalidValue, field: "deleted") { try Self.parse("deleted+=yes", .risk) }
    }

    @Test func theDeletedFieldIsNotSetAddedOrRemoved() {
        let title = Self.w(Self.a, 1, at: 10, "title", .string("Nurse vacancy"))
        let current = Self.view(Self.risk, [title])
        let deleted = Self.view(Self.risk, [title, Self.w(Self.b, 1, at: 20, "deleted", .bool(true), seen: [title])])
        for edit: Edit in [.set("deleted", .bool(true)), .set("deleted", .bool(false)), .add("deleted", .bool(true)), .remove("deleted", .bool(true))] {
            for view in [nil, current, deleted] {
                let error = Self.expectError(.invalidValue, field: "deleted") { try edit.plan(on: view, type: .risk) }
                #expect(error?.message.contains("use delete or restore") == true, "\(error?.message ?? "")")
            }
        }
    }

    // MARK: Dates and references

    /// `CalendarDate` reads each part as ASCII digits: no sign, space or other script.
    @Test(arguments: ["2026-+1-+5", "+026-11-23", "-026-11-23", "2026-11- 3", "2026-1 -23", "２０２６-11-23", "2026-11-2３", "2026-11-23 ", "202６-11-23"])
    func aDatePartThatIsNotASCIIDigitsIsNotADate(_ text: String) {
        #expect(CalendarDate(text) == nil)
        Self.expectError(.invalidValue, field: "due_date") {
            try RecordSchema.action.validate(field: "due_date", value: .string(text))
        }
    }

    /// Dates as people in Wales type them, and as a spreadsheet saved there writes them: day first,
    /// maybe with a time after it; two-digit years as POSIX reads them (69–99 in the 1900s).
    @Test(arguments: [
        ("2026-12-15", "2026-12-15"), ("15/12/2026", "2026-12-15"), (" 5/1/2027 ", "2027-01-05"), ("15.12.26", "2026-12-15"),
        ("15-12-2026", "2026-12-15"), ("15 Dec 2026", "2026-12-15"), ("3 march 2027", "2027-03-03"), ("29/02/2028", "2028-02-29"),
        ("01/11/2026 00:00", "2026-11-01"), ("01/11/2026 09:30", "2026-11-01"), ("2026-11-01T00:00:00", "2026-11-01"), ("2026-11-01T00:00:00.000Z", "2026-11-01"),
        ("1/4/98", "1998-04-01"), ("01/11/99", "1999-11-01"), ("1/11/70", "1970-11-01"), ("1/11/68", "2068-11-01"),
    ])
    func typedDatesReadDayFirst(_ typed: String, _ stored: String) throws {
        #expect(CalendarDate(typed: typed)?.description == stored)
        let value = try FieldInput.value(typed, for: #require(RecordSchema.action.field("due_date")), today: CalendarDate(year: 2026, month: 11, day: 23))
        #expect(value == .string(stored))
    }

    @Test(arguments: ["12/31/2026", "31/02/2026", "29/02/2027", "15/12/026", "15/12", "next week", "1/1/2026/1", "١٥/١٢/٢٠٢٦", "2026/12/15",
                      "2026-11-01T12:00:00", "15/12/0026", "1/1/3026"])
    func typedTextThatIsNoDayIsRefusedNamingBothForms(_ typed: String) {
        #expect(CalendarDate(typed: typed) == nil)
        Self.expectError(.invalidValue, field: "due_date") {
            _ = try FieldInput.value(typed, for: RecordSchema.action.field("due_date")!, today: CalendarDate(year: 2026, month: 11, day: 23))
        }
    }

    /// A date written in a right form that names no day says why, not which forms to use (the
    /// CLI audit: `2026-02-31` was asked to be written YYYY-MM-DD); years outside 1900 to 2999
    /// are a slip, however written.
    @Test(arguments: [
        ("2026-02-31", "there is no 31 February 2026 (February 2026 has 28 days)"), ("29/02/2027", "there is no 29 February 2027"),
        ("31/04/2026", "there is no 31 April 2026"), ("2026-13-01", "there is no month 13"), ("0001-01-01", "the year 1 is outside 1900 to 2999"),
        ("9999-12-31", "the year 9999 is outside 1900 to 2999"), ("15/12/0026", "the year 26 is outside"),
    ])
    func aDateThatNamesNoDaySaysWhy(_ typed: String, _ named: String) {
        #expect(CalendarDate(typed: typed) == nil)
        #expect(CalendarDate.problem(typed: typed)?.hasPrefix(named) == true, "\(CalendarDate.problem(typed: typed) ?? "none")")
        let error = #expect(throws: ClusterSyncError.self) {
            _ = try FieldInput.value(typed, for: RecordSchema.action.field("due_date")!, today: CalendarDate(year: 2026, month: 11, day: 23))
        }
        #expect(error?.message.hasPrefix("due_date must be a day that exists: \(named)") == true, "\(error?.message ?? "")")
        #expect(CalendarDate.problem(typed: "next week") == nil && CalendarDate.problem(typed: "15/12/2026") == nil)
    }

    /// A vote typed as `set` takes it is a word, in any capitals; typed as nothing it is refused,
    /// pointing at `decision unvote`, which takes the proxy and interest marks away with it.
    @Test func aVoteTypedAsNothingPointsAtUnvote() throws {
        let votes = try #require(RecordSchema.decision.field("votes"))
        #expect(try FieldInput.value("For", for: votes, today: CalendarDate(year: 2026, month: 11, day: 23)) == .string("for"))
        let error = Self.expectError(.invalidValue, field: "votes") {
            _ = try FieldInput.value(" ", for: votes, today: CalendarDate(year: 2026, month: 11, day: 23))
        }
        #expect(error?.message.contains("clustersync decision unvote DEC NAME") == true, "\(error?.message ?? "")")
    }

    /// Nothing typed for a date empties it (`due_date=`): the value every front end writes for
    /// that, which validation admits for a date field and no other kind.
    @Test(arguments: ["", "  "])
    func nothingTypedForADateEmptiesIt(_ typed: String) throws {
        let today = CalendarDate(year: 2026, month: 11, day: 23)
        let value = try FieldInput.value(typed, for: #require(RecordSchema.action.field("due_date")), today: today)
        #expect(value == RecordView.emptiedDate)
        try RecordSchema.action.validate(field: "due_date", value: value)
        Self.expectError(.invalidValue, field: "source") { try RecordSchema.action.validate(field: "source", value: RecordView.emptiedDate) }
        Self.expectError(.invalidValue, field: "status") { try RecordSchema.action.validate(field: "status", value: RecordView.emptiedDate) }
        // Only the dates a record is not dated or in force by.
        let emptiable = RecordType.allCases.flatMap { type in type.schema.fields.filter(\.emptiable).map { "\(type.rawValue).\($0.name)" } }
        #expect(Set(emptiable) == ["risk.review_date", "action.due_date", "action.completed_date", "declaration.date_withdrawn", "terms.review_date"])
        Self.expectError(.invalidValue, field: "date_declared") { try RecordSchema.declaration.validate(field: "date_declared", value: RecordView.emptiedDate) }
        // A set-once date is not emptied: it keeps the due date first agreed.
        Self.expectError(.invalidValue, field: "original_due_date") {
            _ = try Edit.set("original_due_date", RecordView.emptiedDate).plan(on: nil, type: .action)
        }
    }

    @Test func datesRoundTrip() {
        #expect(CalendarDate("2026-11-23") == CalendarDate(year: 2026, month: 11, day: 23))
        #expect(CalendarDate("0001-01-01")?.description == "0001-01-01")
        #expect(CalendarDate("2028-02-29") != nil && CalendarDate("2100-02-29") == nil && CalendarDate("2000-02-29") != nil)
    }

    /// A report's period as people type it: a financial year, or two dates in any form a date box
    /// takes, joined by "..", " to " or a spaced dash (web app audit: only ISO with ".." was read).
    @Test func aReportPeriodAsPeopleTypeIt() throws {
        let half = try #require(ReportPeriod(first: CalendarDate("2026-04-01")!, last: CalendarDate("2026-09-30")!))
        for typed in ["2026-04-01..2026-09-30", "01/04/2026 to 30/09/2026", " 1/4/2026 - 30/9/2026 ", "1 Apr 2026 – 30 Sep 2026", "01.04.26..30.09.26"] {
            #expect(ReportPeriod(typed) == half, "\(typed)")
        }
        #expect(ReportPeriod("2026-27") == ReportPeriod(year: FinancialYear(startYear: 2026)))
        // As board papers write a financial year too (web app audit, forty-sixth session).
        #expect(ReportPeriod("2026/27") == ReportPeriod(year: FinancialYear(startYear: 2026)))
        for refused in ["2026/28", "30/09/2026 to 01/04/2026", "01/04/2026", "01/04/2026 to", "04/31/2026 to 05/01/2026", ""] {
            #expect(ReportPeriod(refused) == nil, "\(refused)")
        }
        // Why two dates are no period, in words.
        #expect(ReportPeriod.problem("31/04/2026 to 30/09/2026")?.contains("there is no 31 April 2026") == true)
        #expect(ReportPeriod.problem("30/09/2026 to 01/04/2026") == "the first day is after the last")
        // A period pasted from a spreadsheet's cells not formatted as dates names the day.
        #expect(ReportPeriod.problem("46113 to 46295") == "46113 is no date, which is how a spreadsheet saves 01/04/2026 in a column not "
                + "formatted as dates: format the column as dates (or type the date) and try again")
        #expect(ReportPeriod.problem("01/04/2026 to 46295")?.hasPrefix("46295 is no date, which is how a spreadsheet saves 30/09/2026") == true)
        #expect(ReportPeriod.problem("2026/28") == nil && ReportPeriod.problem("01/04/2026 to 30/09/2026") == nil)
    }

    /// An attendee's agreement day naming no day says why, as every other date does (web app
    /// audit: it asked for a format the text already had).
    @Test func anAgreementDayNamingNoDaySaysWhy() {
        let refused = #expect(throws: ClusterSyncError.self) {
            _ = try Attendee.typed(name: "Dr Tom Hughes", role: "substitute", agreedBy: "Dr Alys Jones", agreedOn: "32/11/2026")
        }
        #expect(refused?.message.contains("there is no 32 November 2026 (November 2026 has 30 days)") == true, "\(String(describing: refused))")
        let unread = #expect(throws: ClusterSyncError.self) {
            _ = try Attendee.typed(name: "Dr Tom Hughes", role: "substitute", agreedBy: "Dr Alys Jones", agreedOn: "last week")
        }
        #expect(unread?.message.contains("must be a date written DD/MM/YYYY") == true, "\(String(describing: unread))")
    }

    /// Choices and scores as a spreadsheet may have written them.
    @Test func choicesAndScoresAsASpreadsheetWritesThem() throws {
        let today = CalendarDate(year: 2026, month: 11, day: 23)
        let status = try #require(RecordSchema.risk.field("status")), score = try #require(RecordSchema.risk.field("score"))
        for typed in ["open", "Open", " OPEN "] { #expect(try FieldInput.value(typed, for: status, today: today) == .string("open")) }
        // As the app shows them, spaces for hyphens.
        let actionStatus = try #require(RecordSchema.action.field("status")), category = try #require(RecordSchema.risk.field("category"))
        for typed in ["Not started", "not  started", "not-started"] {
            #expect(try FieldInput.value(typed, for: actionStatus, today: today) == .string("not-started"), "\(typed)")
        }
        #expect(try FieldInput.value("Service delivery", for: category, today: today) == .string("service-delivery"))
        for typed in ["4x3", "4X3", "4 x 3", "4×3"] {
            #expect(try FieldInput.value(typed, for: score, today: today) == RiskScore(likelihood: 4, consequence: 3)!.jsonValue, "\(typed)")
        }
        Self.expectError(.invalidValue, field: "status") { try RecordSchema.risk.validate(field: "status", value: FieldInput.value("opened", for: status, today: today)) }
    }

    /// Stored and received references must be canonical, so one record has one spelling in set
    /// members and comparisons; what people type is made canonical before it is written.
    @Test func aReferenceMustBeInCanonicalCapitals() throws {
        for text in ["rsk-7k3m9q2x1a", "RSK-7k3m9q2x1a", "Rsk-7K3M9Q2X1A", "RSK-ßßßßß", "RSK-7K3M9Q2X1A ", "ＲＳＫ-7K3M9Q2X1A"] {
            Self.expectError(.invalidValue, field: "source") {
                try RecordSchema.action.validate(field: "source", value: .string(text))
            }
        }
        try RecordSchema.action.validate(field: "source", value: .string("RSK-7K3M9Q2X1A"))
        #expect(try Self.parse("linked_actions+=act-4f8r2m6w0z", .risk) == .add("linked_actions", .string("ACT-4F8R2M6W0Z")))
        // Text that is no id even leniently is refused as typed, saying what an id looks like
        // (and, for a set, how several are separated: a spreadsheet's "ACT-…,ACT-…").
        let notAnID = #expect(throws: ClusterSyncError.self) { try Self.parse("source=RSK-ßßßßß", .action) }
        #expect(notAnID?.field == "source" && notAnID?.message.contains("must be the id of a risk (RSK-…) or an action (ACT-…)") == true,
                "\(String(describing: notAnID))")
        let commas = #expect(throws: ClusterSyncError.self) { try Self.parse("linked_actions+=ACT-4F8R2M6W0Z,ACT-4F8R2M6W0Y", .risk) }
        #expect(commas?.message.contains("must be the id of an action (ACT-…), several separated by \"; \"") == true, "\(String(describing: commas))")
        let wrongType = #expect(throws: ClusterSyncError.self) { try Self.parse("linked_actions+=RSK-7K3M9Q2X1A", .risk) }
        #expect(wrongType?.message.contains("must be the id of an action") == true)
    }

    @Test func recordIDsAreCanonicalOnlyButMayBeTypedInSmallLetters() {
        #expect(RecordID("RSK-7K3M9Q2X1A")?.rawValue == "RSK-7K3M9Q2X1A")
        for text in ["rsk-7k3m9q2x1a", "RSK-7K3M9Q2X1a", "RSK-SSSSSSSSSS".lowercased(), "RSK-ßßßßß", "RSK-7K3M9Q2X1I", "XYZ-7K3M9Q2X1A",
                     "RSK-7K3M9Q2X1", "RSK-7K3M9Q2X1AB", "RSK_7K3M9Q2X1A", " RSK-7K3M9Q2X1A", "RSK-7K3M9Q2X1A\n", ""] {
            #expect(RecordID(text) == nil, "\(text)")
        }
        #expect(RecordID(typed: "rsk-7k3m9q2x1a")?.rawValue == "RSK-7K3M9Q2X1A")
        #expect(RecordID(typed: "Itm-2b6D8g4K0e")?.rawValue == "ITM-2B6D8G4K0E")
        #expect(RecordID(typed: "RSK-7K3M9Q2X1A")?.rawValue == "RSK-7K3M9Q2X1A")
        // Lenient about case only: ASCII, and the alphabet still has no I, L, O or U.
        for text in ["RSK-ßßßßß", "rsk-ßßßßß", "ＲＳＫ-7K3M9Q2X1A", "rsk-7k3m9q2x1i", "rsk-7k3m9q2x1ａ", "rsk 7k3m9q2x1a", "ıtm-2b6d8g4k0e"] {
            #expect(RecordID(typed: text) == nil, "\(text)")
        }
        // Random ids are canonical.
        var g = SystemRandomNumberGenerator()
        for type in RecordType.allCases {
            let id = RecordID.random(for: type, using: &g)
            #expect(RecordID(id.rawValue) == id && id.type == type)
        }
    }

    // MARK: Removes

    @Test func removingFromARegisterSaysOnlySetsHaveMembers() {
        for (field, type) in [("title", RecordType.risk), ("status", .action), ("notes", .action), ("position", .item), ("done", .item)] {
            let error = Self.expectError(.invalidValue, field: field) {
                try Edit.remove(field, .string("x")).plan(on: nil, type: type)
            }
            #expect(error?.message.contains("only set fields have members to remove") == true, "\(error?.message ?? "")")
        }
        Self.expectError(.unknownField, field: "colour") { try Edit.remove("colour", .string("red")).plan(on: nil, type: .risk) }
    }

    // MARK: Error messages do not repeat record contents

    @Test func messagesGiveTheLengthOfFreeTextNotTheText() throws {
        let long = "Practice nurse vacancy " + String(repeating: "y", count: 190)
        let title = Self.expectError(.invalidValue, field: "title") {
            try RecordSchema.risk.validate(field: "title", value: .string(long))
        }
        #expect(title?.message.contains("213 characters") == true, "\(title?.message ?? "")")
        #expect(title?.message.contains("nurse") == false)
        let tag = Self.expectError(.invalidValue, field: "tags") {
            try RecordSchema.risk.validate(field: "tags", value: .string("estates-" + String(repeating: "z", count: 60)))
        }
        #expect(tag?.message.contains("68 characters") == true && tag?.message.contains("estates") == false, "\(tag?.message ?? "")")
        let note = Self.expectError(.invalidValue, field: "notes") {
            try RecordSchema.action.validate(field: "notes", value: .object(["date": .string("23/11/2026"), "text": .string("Rang the surgery")]))
        }
        #expect(note?.message.contains("Rang") == false, "\(note?.message ?? "")")
        let bare = Self.expectError(.invalidValue, field: "notes") {
            try RecordSchema.action.validate(field: "notes", value: .string("Rang the surgery"))
        }
        #expect(bare?.message.contains("Rang") == false && bare?.message.contains("16 characters") == true, "\(bare?.message ?? "")")
        let long10k = Self.expectError(.invalidValue, field: "notes") {
            try RecordSchema.action.validate(field: "notes", value: .object(["date": .string("2026-11-23"), "text": .string(String(repeating: "w", count: 10_001))]))
        }
        #expect(long10k?.message.contains("10001 characters") == true, "\(long10k?.message ?? "")")
    }

    @Test func shortValuesOfOtherKindsAreQuotedUnlessTheyHoldManyDigits() {
        let status = Self.expectError(.invalidValue, field: "status") {
            try RecordSchema.action.validate(field: "status", value: .string("done"))
        }
        #expect(status?.message.contains("\"done\"") == true)
        let date = Self.expectError(.invalidValue, field: "due_date") {
            try RecordSchema.action.validate(field: "due_date", value: .string("2026-02-30"))
        }
        #expect(date?.message.contains("2026-02-30") == true)
        for number in ["9434765919", "943 476 5919", "９４３４７６５９１９", "ref 9434765918"] {
            let error = Self.expectError(.invalidValue, field: "status") {
                try RecordSchema.risk.validate(field: "status", value: .string(number))
            }
            #expect(error?.message.contains(number) == false, "\(error?.message ?? "")")
            #expect(error?.message.contains("5919") == false && error?.message.contains("５９１９") == false)
        }
        let longChoice = Self.expectError(.invalidValue, field: "category") {
            try RecordSchema.risk.validate(field: "category", value: .string(String(repeating: "c", count: 41)))
        }
        #expect(longChoice?.message.contains("ccccc") == false, "\(longChoice?.message ?? "")")
        let number = Self.expectError(.invalidValue, field: "original_due_date") {
            try RecordSchema.action.validate(field: "original_due_date", value: .int(9_434_765_919))
        }
        #expect(number?.message.contains("9434765919") == false)
    }

    @Test func typedValuesAreQuotedOnlyWhenSafe() {
        let likelihood = Self.expectError(.invalidValue, field: "likelihood") { try Self.parse("likelihood=9434765919", .risk) }
        #expect(likelihood?.message.contains("9434765919") == false)
        let done = Self.expectError(.invalidValue, field: "done") { try Self.parse("done=943 476 5919", .item) }
        #expect(done?.message.contains("943 476 5919") == false)
        let score = Self.expectError(.invalidValue, field: "score") { try Self.parse("score=9434765919", .risk) }
        #expect(score?.message.contains("9434765919") == false)
        let bare = Self.expectError(.invalidValue, field: nil) { try Self.parse("Patient 943 476 5919", .risk) }
        #expect(bare?.message.contains("5919") == false)
        let remove = Self.expectError(.invalidValue, field: "tags") {
            try Edit.remove("tags", .string("943-476-5919")).plan(on: Self.view(Self.risk, [Self.w(Self.a, 1, at: 10, "tags", .string("estates"))]), type: .risk)
        }
        #expect(remove?.message.contains("5919") == false)
    }
}
