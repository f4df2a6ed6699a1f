@testable import ClusterSyncCore
import Testing

@Suite struct RecordViewTests {
    static let (a, b, c) = (Fixtures.a, Fixtures.b, Fixtures.c)
    static let (risk, action, item) = (Fixtures.risk, Fixtures.action, Fixtures.item)
    static let today = CalendarDate(year: 2026, month: 11, day: 23)

    static func w(
        _ replica: ReplicaID, _ counter: Int64, at millis: Int64, _ field: String, _ value: JSONValue,
        seen: [FieldWrite] = [], author: String? = nil
    ) -> FieldWrite {
        FieldWrite(
            id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: millis), field: field, value: value,
            author: author, seen: seen.map(\.id))
    }

    static func view(_ id: RecordID, _ writes: [FieldWrite]) -> RecordView {
        RecordView(id: id, scope: RecordScope(tenant: "ctmuhb", cluster: "rhondda"), liveWrites: writes)
    }

    static func score(_ l: Int64, _ c: Int64) -> JSONValue { .object(["likelihood": .int(l), "consequence": .int(c)]) }

    static func date(_ days: Int) -> JSONValue { .string(CalendarDate(dayNumber: today.dayNumber + days).description) }

    // MARK: Escalation

    /// An open risk escalated beyond the cluster says since when (PCPG audit): the day the level
    /// it is at was written, and how many days before today; with the lead's `pcpg` and a
    /// practice's `cluster` in conflict, the `pcpg` write's day. Closed, or held in the
    /// cluster, it says nothing.
    @Test func anEscalatedRiskSaysSinceWhen() {
        let day = Int64(86_400_000)
        let since = Self.today.dayNumber - 10
        let escalated = Self.view(Self.risk, [Self.w(Self.a, 1, at: Int64(since) * day + 5_000, "escalation", .string("pcpg")),
                                              Self.w(Self.b, 1, at: Int64(since + 3) * day, "escalation", .string("cluster"))])
        let derived = escalated.derived(today: Self.today)
        #expect(derived["escalated_on"] == .string(CalendarDate(dayNumber: since).description) && derived["escalated_days"] == .int(10))
        let closed = Self.view(Self.risk, escalated.writes.values.flatMap { $0 } + [Self.w(Self.a, 2, at: 1, "status", .string("closed"))])
        #expect(closed.derived(today: Self.today)["escalated_on"] == nil)
        // Two leads escalating to the same level at once: since the first. A clock set ahead:
        // escalated today, never "-3 days".
        let twice = Self.view(Self.risk, [Self.w(Self.a, 1, at: Int64(since) * day, "escalation", .string("pcpg")),
                                          Self.w(Self.b, 1, at: Int64(since + 4) * day, "escalation", .string("pcpg"))])
        #expect(twice.derived(today: Self.today)["escalated_days"] == .int(10))
        let ahead = Self.view(Self.risk, [Self.w(Self.a, 1, at: Int64(Self.today.dayNumber + 3) * day, "escalation", .string("health-board"))])
        #expect(ahead.derived(today: Self.today)["escalated_days"] == .int(0))
        let held = Self.view(Self.risk, [Self.w(Self.a, 1, at: 1, "escalation", .string("cluster"))])
        #expect(held.derived(today: Self.today)["escalated_on"] == nil && held.escalatedOn == nil)
    }

    // MARK: Names in a set

    /// A name added again in other capitals or accents is refused where it is typed, naming the
    /// member it repeats; the same name as written, and another name, are added.
    @Test func aSetDoesNotTakeANameAgainInOtherCapitalsOrAccents() throws {
        let terms = try #require(RecordID("TOR-1M2N3P4Q5R"))
        let view = Self.view(terms, [Self.w(Self.a, 1, at: 10, "members", .string("Dr Siân Evans")),
                                     Self.w(Self.a, 2, at: 11, "title", .string("Board ToR"))])
        // Pasted from mail: two spaces, a no-break space; and a curly apostrophe.
        for typed in ["dr siân evans", "Dr Sian Evans", "DR SIAN EVANS", "Dr  Siân Evans", "Dr\u{00A0}Siân Evans ", "Dr Siân\tEvans"] {
            do {
                _ = try Edit.add("members", .string(typed)).plan(on: view, type: .terms)
                Issue.record("\(typed) was added beside Dr Siân Evans")
            } catch {
                #expect(error.code == .invalidValue && error.field == "members")
                #expect(error.message.contains("already holds \"Dr Siân Evans\""), "\(error.message)")
            }
        }
        #expect(try Edit.add("members", .string("Dr Siân Evans")).plan(on: view, type: .terms).value == .string("Dr Siân Evans"))
        #expect(try Edit.add("members", .string("Dr Siôn Evans")).plan(on: view, type: .terms).value == .string("Dr Siôn Evans"))
        let apologies = Self.view(terms, [Self.w(Self.a, 3, at: 12, "members", .string("Siôn O'Brien"))])
        #expect(throws: ClusterSyncError.self) { try Edit.add("members", .string("Siôn O\u{2019}Brien")).plan(on: apologies, type: .terms) }
        // A meeting's attendees by name: one person recorded twice would count twice.
        let meeting = try #require(RecordID("MTG-1M2N3P4Q5R"))
        let attended = Self.view(meeting, [Self.w(Self.a, 4, at: 13, "attendees", .object(["name": .string("Dr Siân Evans"), "role": .string("member")]))])
        do {
            _ = try Edit.add("attendees", .object(["name": .string("DR SIAN EVANS"), "role": .string("member")])).plan(on: attended, type: .meeting)
            Issue.record("DR SIAN EVANS was recorded beside Dr Siân Evans")
        } catch {
            #expect(error.field == "attendees" && error.message.contains("already holds \"Dr Siân Evans\""), "\(error.message)")
        }
        #expect(throws: Never.self) {
            try Edit.add("attendees", .object(["name": .string("Rhys Morgan"), "role": .string("member")])).plan(on: attended, type: .meeting)
        }
        // Another field's members are not compared.
        #expect(try Edit.add("signatories", .string("dr sian evans")).plan(on: view, type: .terms).field == "signatories")
    }

    /// ASCII names take a quicker path than others (`Edit.asciiNameKey`): both must give one key
    /// for one person, however typed.
    @Test func aNameHasOneKeyHoweverItIsTyped() {
        let key = GovernanceRecords.nameKey("Dr Siân O\u{2019}Brien")
        for typed in ["dr sian o'brien", "  DR   SIAN O`BRIEN ", "Dr\tSian\r\nO'Brien", "Dr\u{00A0}Siân O'Brien", "DR SIÂN O`BRIEN"] {
            #expect(GovernanceRecords.nameKey(typed) == key, "\(typed)")
        }
        #expect(key == "dr sian o'brien")
        #expect(GovernanceRecords.nameKey(" \t ") == "")
        #expect(GovernanceRecords.nameKey("Rhys-Morgan 2") == "rhys-morgan 2")
        #expect(GovernanceRecords.nameKey("Rhys Morgan") != GovernanceRecords.nameKey("Rhys Morgans"))
        // Every ASCII character, alone, inside a name and around spaces, as the general rule has it.
        for byte in UInt8(0)...0x7F {
            let c = String(decoding: [byte], as: UTF8.self)
            for text in [c, "Dr\(c)Sian", " \(c) Ceri  \(c)", "\(c)\(c)x\(c)"] {
                #expect(Edit.nameKey(text) == Edit.anyNameKey(text), "byte \(byte)")
            }
        }
    }

    // MARK: Reading fields

    @Test func aRegisterShowsTheLatestWriteThenTheGreaterChangeID() {
        let early = Self.w(Self.c, 9, at: 10, "title", .string("early"))
        let tieA = Self.w(Self.a, 1, at: 20, "title", .string("tie from A"))
        let tieB = Self.w(Self.b, 1, at: 20, "title", .string("tie from B"))
        let view = Self.view(Self.risk, [tieA, early, tieB])
        #expect(view.value("title") == .string("tie from B"))
        #expect(view.string("title") == "tie from B")
        #expect(view.writes["title"]?.map(\.id) == [tieB.id, tieA.id, early.id])
        #expect(view.liveIDs("title") == [tieB.id, tieA.id, early.id])
        // The order does not depend on the order the writes are given in.
        #expect(Self.view(Self.risk, [early, tieB, tieA]) == view)
        #expect(view.value("owner") == nil)
    }

    @Test func aLogReadsOldestFirst() {
        let first = Self.w(Self.b, 5, at: 10, "notes", .object(["date": .string("2026-11-20"), "text": .string("one")]))
        let second = Self.w(Self.a, 1, at: 20, "notes", .object(["date": .string("2026-11-21"), "text": .string("two")]))
        let third = Self.w(Self.a, 2, at: 20, "notes", .object(["date": .string("2026-11-21"), "text": .string("three")]))
        let view = Self.view(Self.action, [third, first, second])
        #expect(view.writes["notes"]?.map(\.id) == [first.id, second.id, third.id])
        #expect(view.conflicts.isEmpty, "a log with several entries is not a conflict")
    }

    @Test func aSetShowsEachMemberOnceInCanonicalOrder() {
        let estatesA = Self.w(Self.a, 1, at: 10, "tags", .string("estates"))
        let workforce = Self.w(Self.a, 2, at: 13, "tags", .string("workforce"))
        let estatesB = Self.w(Self.b, 1, at: 12, "tags", .string("estates"))
        let budget = Self.w(Self.b, 2, at: 11, "tags", .string("budget"))
        let view = Self.view(Self.risk, [estatesA, workforce, estatesB, budget])
        // Not display order (workforce is the latest write): canonical order.
        #expect(view.members("tags") == [.string("budget"), .string("estates"), .string("workforce")])
        #expect(Set(view.tags(of: .string("estates"), in: "tags")) == [estatesA.id, estatesB.id])
        #expect(view.tags(of: .string("clinical"), in: "tags") == [])
        #expect(view.members("linked_actions") == [])
        #expect(view.conflicts.isEmpty, "a set with several members is not a conflict")
    }

    @Test func aRecordWithoutWritesDoesNotExist() {
        let empty = Self.view(Self.risk, [])
        #expect(!empty.exists && !empty.isDeleted)
        #expect(empty.conflicts.isEmpty)
        #expect(Self.view(Self.risk, [Self.w(Self.a, 1, at: 10, "title", .string("x"))]).exists)
    }

    // MARK: Conflicts

    @Test func concurrentValuesOfARegisterAreAConflict() throws {
        let mine = Self.w(Self.a, 1, at: 10, "score", Self.score(4, 3))
        let theirs = Self.w(Self.b, 1, at: 12, "score", Self.score(2, 5))
        let title = Self.w(Self.a, 2, at: 13, "title", .string("Nurse vacancy"))
        let view = Self.view(Self.risk, [mine, theirs, title])
        let conflicts = view.conflicts
        #expect(conflicts.count == 1)
        let conflict = try #require(conflicts.first)
        #expect(conflict.field == "score")
        #expect(conflict.kind == .concurrentValues)
        #expect(conflict.values.map(\.id) == [theirs.id, mine.id], "the default winner first")
        #expect(view.value("score") == Self.score(2, 5))
        // Two scorings conflict as pairs: nothing mixes a likelihood of one with a consequence of the other.
        #expect(Set(conflict.values.map(\.value)) == [Self.score(4, 3), Self.score(2, 5)])
    }

    @Test func conflictsAreListedInSchemaOrderDeletedFirst() {
        let view = Self.view(Self.risk, [
            Self.w(Self.a, 1, at: 10, "status", .string("open")), Self.w(Self.b, 1, at: 10, "status", .string("closed")),
            Self.w(Self.a, 2, at: 11, "title", .string("x")), Self.w(Self.b, 2, at: 11, "title", .string("y")),
            Self.w(Self.a, 3, at: 12, "deleted", .bool(true)), Self.w(Self.b, 3, at: 12, "deleted", .bool(false)),
        ])
        #expect(view.conflicts.map(\.field) == ["deleted", "title", "status"])
        #expect(view.conflicts.allSatisfy { $0.kind == .concurrentValues })
    }

    @Test func concurrentWritesOfTheSameValueAreNoConflict() {
        let restoreA = Self.w(Self.a, 1, at: 10, "deleted", .bool(false))
        let restoreB = Self.w(Self.b, 1, at: 11, "deleted", .bool(false))
        let closedA = Self.w(Self.a, 2, at: 12, "status", .string("closed"))
        let closedB = Self.w(Self.b, 2, at: 13, "status", .string("closed"))
        let view = Self.view(Self.risk, [restoreA, restoreB, closedA, closedB])
        #expect(view.conflicts.isEmpty)
        #expect(view.string("status") == "closed")
        // Both writes stay live, so the next write supersedes both.
        #expect(Set(view.liveIDs("status")) == [closedA.id, closedB.id])
        // A third, different value makes it a conflict again, listing every live write.
        let openC = Self.w(Self.c, 1, at: 14, "status", .string("open"))
        let conflicted = Self.view(Self.risk, [restoreA, restoreB, closedA, closedB, openC])
        #expect(conflicted.conflicts.map(\.field) == ["status"])
        #expect(conflicted.conflicts.first?.values.map(\.id) == [openC.id, closedB.id, closedA.id])
    }

    @Test func twoMovesToTheSamePlaceAreNoConflict() {
        let text = Self.w(Self.a, 1, at: 10, "text", .string("Welcome"))
        let slot = ChangeID(replica: Self.c, counter: 7)
        let moveA = Self.w(Self.a, 2, at: 20, "position", .object(["after": .string(slot.description)]))
        let moveB = Self.w(Self.b, 1, at: 21, "position", .object(["after": .string(slot.description)]))
        #expect(Self.view(Self.item, [text, moveA, moveB]).conflicts.isEmpty)
    }

    @Test func anEditTheDeleterDidNotSeeIsAConflict() throws {
        let text = Self.w(Self.a, 1, at: 10, "text", .string("Winter pressures plan"))
        let position = Self.w(Self.a, 2, at: 10, "position", .object(["after": .null]))
        // B deletes having seen the text and position; C, offline, ticks the item as done.
        let delete = Self.w(Self.b, 1, at: 30, "deleted", .bool(true), seen: [text, position])
        let done = Self.w(Self.c, 1, at: 20, "done", .bool(true))
        let view = Self.view(Self.item, [text, position, delete, done])
        #expect(view.isDeleted)
        #expect(view.editsAgainstDelete.map(\.id) == [done.id])
        let conflict = try #require(view.conflicts.first)
        #expect(view.conflicts.count == 1)
        #expect(conflict.field == "deleted")
        #expect(conflict.kind == .editAgainstDelete)
        #expect(conflict.values.map(\.id) == [delete.id, done.id])
    }

    @Test func aDeleteThatSawEveryWriteIsNoConflict() {
        let text = Self.w(Self.a, 1, at: 10, "text", .string("Winter pressures plan"))
        let done = Self.w(Self.c, 1, at: 20, "done", .bool(true))
        let delete = Self.w(Self.b, 1, at: 30, "deleted", .bool(true), seen: [text, done])
        let view = Self.view(Self.item, [text, done, delete])
        #expect(view.isDeleted)
        #expect(view.editsAgainstDelete.isEmpty)
        #expect(view.conflicts.isEmpty)
    }

    @Test func aRestoredRecordHasNoEditAgainstDelete() {
        let text = Self.w(Self.a, 1, at: 10, "text", .string("Winter pressures plan"))
        let done = Self.w(Self.c, 1, at: 20, "done", .bool(true))
        let restore = Self.w(Self.a, 2, at: 40, "deleted", .bool(false))
        let view = Self.view(Self.item, [text, done, restore])
        #expect(!view.isDeleted)
        #expect(view.editsAgainstDelete.isEmpty)
        #expect(view.conflicts.isEmpty)
    }

    @Test func concurrentDeletesPoolWhatTheySaw() {
        let title = Self.w(Self.a, 1, at: 10, "title", .string("Nurse vacancy"))
        let owner = Self.w(Self.a, 2, at: 11, "owner", .string("Practice manager"))
        let deleteB = Self.w(Self.b, 1, at: 30, "deleted", .bool(true), seen: [title])
        let deleteC = Self.w(Self.c, 1, at: 31, "deleted", .bool(true), seen: [owner])
        let view = Self.view(Self.risk, [title, owner, deleteB, deleteC])
        #expect(view.isDeleted)
        #expect(view.editsAgainstDelete.isEmpty)
        // Two deletes agree: no conflict, though both stay live for a restore to supersede.
        #expect(view.conflicts.isEmpty)
        #expect(view.liveIDs("deleted").count == 2)
    }

    @Test func onlyTheLiveDeletesCountAsHavingSeen() throws {
        let text = Self.w(Self.a, 1, at: 10, "text", .string("Winter pressures plan"))
        let done = Self.w(Self.c, 1, at: 20, "done", .bool(true))
        // A restore concurrent with the delete, carrying a `seen` list it should not have:
        // it is not a delete, so what it lists does not count.
        let restore = Self.w(Self.c, 2, at: 25, "deleted", .bool(false), seen: [text, done])
        let delete = Self.w(Self.b, 1, at: 30, "deleted", .bool(true), seen: [text])
        let view = Self.view(Self.item, [text, done, restore, delete])
        #expect(view.isDeleted)
        #expect(view.editsAgainstDelete.map(\.id) == [done.id])
        let against = try #require(view.conflicts.first { $0.kind == .editAgainstDelete })
        #expect(against.values.map(\.id) == [delete.id, done.id], "the restore is not listed as a delete")
    }

    @Test func aDeleteAndARestoreMadeConcurrentlyConflictAndTheLaterWins() {
        let title = Self.w(Self.a, 1, at: 10, "title", .string("Nurse vacancy"))
        let delete = Self.w(Self.b, 1, at: 30, "deleted", .bool(true), seen: [title])
        let restore = Self.w(Self.c, 1, at: 31, "deleted", .bool(false))
        let view = Self.view(Self.risk, [title, delete, restore])
        #expect(!view.isDeleted)
        #expect(view.conflicts.map(\.field) == ["deleted"])
        let later = Self.w(Self.b, 2, at: 32, "deleted", .bool(true), seen: [title])
        #expect(Self.view(Self.risk, [title, later, restore]).isDeleted)
    }

    // MARK: Derived values

    @Test(arguments: [
        (1, 1, 1, "low"), (1, 3, 3, "low"), (2, 2, 4, "moderate"), (2, 3, 6, "moderate"), (2, 4, 8, "high"),
        (3, 4, 12, "high"), (3, 5, 15, "extreme"), (4, 4, 16, "extreme"), (5, 5, 25, "extreme"),
    ])
    func aRiskScoreAndBand(_ likelihood: Int, _ consequence: Int, _ score: Int, _ band: String) {
        let view = Self.view(Self.risk, [Self.w(Self.a, 1, at: 10, "score", Self.score(Int64(likelihood), Int64(consequence)))])
        let derived = view.derived(today: Self.today)
        #expect(derived["score"] == .int(Int64(score)))
        #expect(derived["band"] == .string(band))
    }

    @Test func bandColours() {
        #expect(RiskScore.Band.allCases.map(\.colour) == ["green", "yellow", "amber", "red"])
    }

    @Test func aRiskDerivesInitialAndTargetScoresAndAnOverdueReview() {
        let writes = [
            Self.w(Self.a, 1, at: 10, "initial_score", Self.score(4, 4)),
            Self.w(Self.a, 2, at: 11, "target_score", Self.score(1, 3)),
            Self.w(Self.a, 3, at: 12, "review_date", Self.date(-1)),
            Self.w(Self.a, 4, at: 13, "status", .string("open")),
        ]
        let derived = Self.view(Self.risk, writes).derived(today: Self.today)
        #expect(derived == ["initial_score": .int(16), "target_score": .int(3), "review_overdue": .bool(true)])

        let dueToday = Self.view(Self.risk, [Self.w(Self.a, 3, at: 12, "review_date", Self.date(0))])
        #expect(dueToday.derived(today: Self.today)["review_overdue"] == .bool(false))
        // A closed risk is not reviewed.
        let closed = Self.view(Self.risk, writes + [Self.w(Self.b, 1, at: 20, "status", .string("closed"))])
        #expect(closed.string("status") == "closed")
        #expect(closed.derived(today: Self.today)["review_overdue"] == nil)
    }

    @Test(arguments: [
        // status, due date in days from today, rating
        ("in-progress", -1, "red"),
        ("not-started", -30, "red"),
        ("in-progress", 0, "amber"),
        ("in-progress", 1, "amber"),
        ("not-started", 14, "amber"),
        ("in-progress", 15, "green"),
        ("not-started", 365, "green"),
        ("complete", -30, "blue"),
        ("complete", 30, "blue"),
        ("closed", -1, "blue"),
        ("cancelled", -1, "none"),
        ("cancelled", 30, "none"),
    ])
    func anActionsBRAG(_ status: String, _ dueInDays: Int, _ rating: String) {
        let view = Self.view(Self.action, [
            Self.w(Self.a, 1, at: 10, "status", .string(status)),
            Self.w(Self.a, 2, at: 11, "due_date", Self.date(dueInDays)),
        ])
        #expect(view.derived(today: Self.today) == ["rag": .string(rating)])
    }

    @Test func anActionWithoutStatusOrDueDate() {
        #expect(Self.view(Self.action, []).derived(today: Self.today) == ["rag": .string("green")])
        let noDate = Self.view(Self.action, [Self.w(Self.a, 1, at: 10, "status", .string("in-progress"))])
        #expect(noDate.derived(today: Self.today) == ["rag": .string("green")])
        let noStatus = Self.view(Self.action, [Self.w(Self.a, 2, at: 11, "due_date", Self.date(-2))])
        #expect(noStatus.derived(today: Self.today) == ["rag": .string("red")])
    }

    @Test func theBRAGFollowsTheDefaultWinnerOfAConflict() {
        let view = Self.view(Self.action, [
            Self.w(Self.a, 1, at: 10, "status", .string("in-progress")),
            Self.w(Self.b, 1, at: 11, "status", .string("complete")),
            Self.w(Self.a, 2, at: 12, "due_date", Self.date(-3)),
        ])
        #expect(view.derived(today: Self.today) == ["rag": .string("blue")])
    }

    @Test func listsAndItemsDeriveNothing() {
        #expect(Self.view(RecordID("LST-9H5J3N7P1C")!, [Self.w(Self.a, 1, at: 10, "title", .string("Agenda"))]).derived(today: Self.today).isEmpty)
        #expect(Self.view(Self.item, [Self.w(Self.a, 1, at: 10, "text", .string("Item"))]).derived(today: Self.today).isEmpty)
    }
}
