import ClusterSyncCore
import Testing

/// A record's changes read as history: oldest first, each with what it replaced.
@Suite struct RecordHistoryTests {
    static let (a, b, c) = (Fixtures.a, Fixtures.b, Fixtures.c)
    static let (risk, action, item) = (Fixtures.risk, Fixtures.action, Fixtures.item)
    static let scope = RecordScope(tenant: "bcuhb", cluster: "north-denbighshire")

    static func change(
        _ replica: ReplicaID, _ counter: Int64, at millis: Int64, _ field: String, _ value: JSONValue?,
        record: RecordID = risk, sup: [Change] = [], seen: [Change] = [], author: String? = nil
    ) -> Change {
        Change(
            id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: millis), record: record, scope: scope,
            field: field, value: value, supersedes: sup.map(\.id), seen: seen.map(\.id), author: author)
    }

    @Test func aRegisterWriteShowsTheValuesItReplaced() throws {
        let first = Self.change(Self.a, 1, at: 10, "owner", .string("Cluster lead"), author: "prestatyn")
        let mine = Self.change(Self.a, 2, at: 20, "owner", .string("Practice manager"), sup: [first], author: "prestatyn")
        let theirs = Self.change(Self.b, 1, at: 21, "owner", .string("Nurse lead"), sup: [first], author: "rhyl (laptop)")
        let settled = Self.change(Self.c, 1, at: 30, "owner", .string("Practice manager"), sup: [mine, theirs], author: "denbigh")
        let history = RecordHistory.entries([settled, theirs, first, mine])

        #expect(history.map(\.change) == [first.id, mine.id, theirs.id, settled.id], "oldest first, whatever the input order")
        #expect(history.allSatisfy { $0.action == .set })
        #expect(history[0].before == [], "a first write replaced nothing")
        #expect(history[0].after == .string("Cluster lead"))
        #expect(history[1].before == [.string("Cluster lead")])
        #expect(history[2].before == [.string("Cluster lead")], "both concurrent writes replaced the first")
        // The write that settled the conflict replaced both competing values, default winner (latest) first.
        #expect(history[3].before == [.string("Nurse lead"), .string("Practice manager")])
        #expect(history[3].after == .string("Practice manager"))
        #expect(history[3].supersedes == [mine.id, theirs.id])
        #expect(history.map(\.author) == ["prestatyn", "prestatyn", "rhyl (laptop)", "denbigh"])
        #expect(history[2].replica == Self.b)
        #expect(history.allSatisfy { $0.unknownBefore.isEmpty })
    }

    @Test func aSetRemoveShowsTheMemberRemovedAndAnAddReplacesNothing() {
        let addA = Self.change(Self.a, 1, at: 10, "tags", .string("winter"))
        let addB = Self.change(Self.b, 1, at: 11, "tags", .string("winter"))
        let other = Self.change(Self.b, 2, at: 12, "tags", .string("estates"))
        let remove = Self.change(Self.c, 1, at: 20, "tags", nil, sup: [addA, addB])
        let again = Self.change(Self.a, 2, at: 21, "tags", .string("winter"))
        let history = RecordHistory.entries([addA, addB, other, remove, again])

        #expect(history.map(\.action) == [.add, .add, .add, .remove, .add])
        #expect(history[0].before == [] && history[0].after == .string("winter"))
        #expect(history[3].before == [.string("winter")], "the member removed, once though two adds held it")
        #expect(history[3].after == nil)
        #expect(history[4].before == [])
    }

    @Test func deletesAndRestoresAreNamedAndEditsBeforeTheDeleteStay() {
        let title = Self.change(Self.a, 1, at: 10, "title", .string("Estates lease"), author: "prestatyn")
        let owner = Self.change(Self.b, 1, at: 11, "owner", .string("Cluster lead"), author: "rhyl (laptop)")
        let delete = Self.change(Self.c, 1, at: 20, "deleted", .bool(true), seen: [title, owner], author: "denbigh")
        let restore = Self.change(Self.a, 2, at: 30, "deleted", .bool(false), sup: [delete], author: "prestatyn")
        let deleteAgain = Self.change(Self.b, 2, at: 40, "deleted", .bool(true), sup: [restore], seen: [title, owner])
        let history = RecordHistory.entries([deleteAgain, restore, delete, owner, title])

        #expect(history.map(\.action) == [.set, .set, .delete, .restore, .delete])
        #expect(history.map(\.field) == ["title", "owner", "deleted", "deleted", "deleted"])
        #expect(history[2].before == [] && history[2].after == .bool(true))
        #expect(history[3].before == [.bool(true)] && history[3].after == .bool(false))
        #expect(history[4].before == [.bool(false)] && history[4].after == .bool(true))
        #expect(history[0].author == "prestatyn" && history[1].author == "rhyl (laptop)")
    }

    @Test func notesReplaceNothingAndPositionsShowTheSlotTheyLeft() {
        let note = JSONValue.object(["date": .string("2026-11-23"), "text": .string("Advert placed")])
        let notes = RecordHistory.entries([
            Self.change(Self.a, 1, at: 10, "notes", note, record: Self.action),
            Self.change(Self.b, 1, at: 11, "notes", note, record: Self.action),
        ])
        #expect(notes.map(\.action) == [.note, .note])
        #expect(notes.allSatisfy { $0.before.isEmpty && $0.after == note })

        let anchor = ChangeID(replica: Self.c, counter: 7)
        let inserted = Self.change(Self.a, 1, at: 10, "position", .object(["after": .null]), record: Self.item)
        let moved = Self.change(Self.a, 2, at: 20, "position", .object(["after": .string(anchor.description)]), record: Self.item, sup: [inserted])
        let done = Self.change(Self.b, 1, at: 15, "done", .bool(true), record: Self.item)
        let history = RecordHistory.entries([moved, done, inserted])
        #expect(history.map(\.action) == [.place, .set, .place])
        #expect(history[0].before == [])
        #expect(history[2].before == [.object(["after": .null])])
        #expect(history[2].after == .object(["after": .string(anchor.description)]))
    }

    @Test func writesNotHeldOrOfAnotherFieldAreNotCountedAsReplaced() {
        let missing = ChangeID(replica: Self.c, counter: 99)
        let title = Self.change(Self.a, 1, at: 10, "title", .string("Estates lease"))
        var owner = Self.change(Self.b, 1, at: 20, "owner", .string("Cluster lead"), sup: [title])
        owner.supersedes.append(missing)
        let history = RecordHistory.entries([title, owner])
        #expect(history[1].before == [], "a write of another field is never what a change replaced")
        #expect(history[1].unknownBefore == [title.id, missing])
        #expect(history[1].supersedes == [title.id, missing])
    }

    /// History names the person and the practice the server stamped (PROTOCOL.md §6.1).
    @Test func theAuthorIsReadAsPersonAndPractice() {
        #expect(AuthorParts(author: "W95010 (Siân Evans)") == AuthorParts(practice: "W95010", person: "Siân Evans"))
        #expect(AuthorParts(author: "W95010") == AuthorParts(practice: "W95010", person: nil))
        // Stored before signed changes: the maker as it claimed to be, and no practice.
        #expect(AuthorParts(author: "Manager, Rhyl via prestatyn (laptop)") == AuthorParts(practice: nil, person: "Manager, Rhyl"))
        // Not yet synced: the replica's own name.
        #expect(AuthorParts(author: "Siân Evans") == AuthorParts(practice: nil, person: "Siân Evans"))
        #expect(AuthorParts(author: nil) == AuthorParts(practice: nil, person: nil))
        let stamped = Self.change(Self.a, 1, at: 10, "owner", .string("Cluster lead"), author: "rhyl (Practice manager)")
        let json = RecordHistory.entries([stamped])[0].jsonValue(time: { _ in "" })
        #expect(json["person"] == .string("Practice manager") && json["practice"] == .string("rhyl"))
    }

    @Test func sameClockOrdersByChangeIDAndDuplicatesCountOnce() {
        let fromB = Self.change(Self.b, 1, at: 10, "title", .string("B"))
        let fromA = Self.change(Self.a, 1, at: 10, "title", .string("A"))
        let history = RecordHistory.entries([fromB, fromA, fromB])
        #expect(history.map(\.change) == [fromA.id, fromB.id])
    }

    @Test func theJSONShape() {
        let first = Self.change(Self.a, 1, at: 10, "owner", .string("Cluster lead"), author: "prestatyn")
        let second = Self.change(Self.b, 1, at: 20, "owner", .string("Practice manager"), sup: [first])
        let entry = RecordHistory.entries([first, second])[1]
        #expect(entry.jsonValue(time: { "t\($0.millis)" }) == .object([
            "change": .string(second.id.description),
            "replica": .string(Self.b.rawValue),
            "hlc": .string(HLCTimestamp(millis: 20).text),
            "time": .string("t20"),
            "author": .null,
            "person": .null,
            "practice": .null,
            "field": .string("owner"),
            "action": .string("set"),
            "before": .array([.string("Cluster lead")]),
            "after": .string("Practice manager"),
            "supersedes": .array([.string(first.id.description)]),
        ]))
    }
}
