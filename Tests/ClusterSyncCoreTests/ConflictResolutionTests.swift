import ClusterSyncCore
import Testing

/// What `clustersync conflicts resolve` relies on in the core: the edits that settle each kind of
/// conflict, and the JSON shape conflicts are reported in.
@Suite struct ConflictResolutionTests {
    static let a = ReplicaID("5f0c9e1a2b3c4d5e")!
    static let b = ReplicaID("a3b2c1d0e9f80716")!
    static let risk = RecordID("RSK-7K3M9Q2X1A")!
    static let action = RecordID("ACT-4F8R2M6W0Z")!
    static let item = RecordID("ITM-2B6D8G4K0E")!
    static let list = RecordID("LST-9H5J3N7P1C")!
    static let scope = RecordScope(tenant: "bcuhb", cluster: "north-denbighshire")

    static func w(_ replica: ReplicaID, _ counter: Int64, at millis: Int64, _ field: String, _ value: JSONValue,
                  seen: [FieldWrite] = [], author: String? = nil) -> FieldWrite {
        FieldWrite(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: millis), field: field,
                   value: value, author: author, seen: seen.map(\.id))
    }

    static func view(_ id: RecordID, _ writes: [FieldWrite]) -> RecordView {
        RecordView(id: id, scope: scope, liveWrites: writes)
    }

    @Test func aSetOnceFieldTakesAnyOfItsCompetingFirstValues() throws {
        let mine = Self.w(Self.a, 1, at: 10, "original_due_date", .string("2026-12-01"))
        let theirs = Self.w(Self.b, 1, at: 12, "original_due_date", .string("2026-12-15"))
        let current = Self.view(Self.action, [mine, theirs])
        #expect(current.value("original_due_date") == .string("2026-12-15"))
        // Keeping the value that is not shown settles the conflict.
        let keep = try Edit.set("original_due_date", .string("2026-12-01")).plan(on: current, type: .action)
        #expect(Set(keep.supersedes) == [mine.id, theirs.id])
        // A third value is still refused.
        #expect(throws: ClusterSyncError.self) {
            try Edit.set("original_due_date", .string("2027-01-01")).plan(on: current, type: .action)
        }
    }

    @Test func aRestoreSettlesADeleteAndARestoreMadeConcurrently() throws {
        let title = Self.w(Self.a, 1, at: 10, "title", .string("Estates lease"))
        let delete = Self.w(Self.a, 2, at: 20, "deleted", .bool(true), seen: [title])
        let restore = Self.w(Self.b, 1, at: 21, "deleted", .bool(false))
        let current = Self.view(Self.risk, [title, delete, restore])
        #expect(!current.isDeleted, "the later restore is shown")
        let planned = try Edit.restore.plan(on: current, type: .risk)
        #expect(Set(planned.supersedes) == [delete.id, restore.id] && planned.value == .bool(false))
        // A record with one live restore is simply not deleted.
        #expect(throws: ClusterSyncError.self) { try Edit.restore.plan(on: Self.view(Self.risk, [title, restore]), type: .risk) }
    }

    @Test func aDeleteSeesEveryLiveWriteSoItSettlesAnEditAgainstADelete() throws {
        let title = Self.w(Self.a, 1, at: 10, "title", .string("Estates lease"))
        let delete = Self.w(Self.a, 2, at: 20, "deleted", .bool(true), seen: [title])
        let owner = Self.w(Self.b, 1, at: 15, "owner", .string("Cluster lead"))
        let current = Self.view(Self.risk, [title, delete, owner])
        #expect(current.conflicts.map(\.kind) == [.editAgainstDelete])
        let planned = try Edit.delete.plan(on: current, type: .risk)
        let again = FieldWrite(id: ChangeID(replica: Self.b, counter: 2), hlc: HLCTimestamp(millis: 30), field: "deleted",
                               value: .bool(true), seen: planned.seen)
        #expect(Self.view(Self.risk, [title, owner, again]).conflicts.isEmpty)
    }

    @Test func theReportShapeNumbersValuesAndNamesAnItemsList() {
        let text = Self.w(Self.a, 1, at: 10, "text", .string("Risk review"))
        let listOf = Self.w(Self.a, 2, at: 10, "list", .string(Self.list.rawValue))
        let top = Self.w(Self.a, 3, at: 20, "position", .object(["after": .null]), author: "prestatyn")
        let end = Self.w(Self.b, 1, at: 21, "position", .object(["after": .string("9@\(Self.a.rawValue)")]), author: "rhyl (laptop)")
        let list = Self.view(Self.list, [Self.w(Self.a, 9, at: 5, "title", .string("Cluster board"))])
        let summary = RecordConflictSummary(record: Self.view(Self.item, [text, listOf, top, end]), list: list)
        #expect(summary.title == "Risk review")
        let entries = summary.entriesJSON(time: { "t\($0.millis)" }) { conflict, write in "\(conflict.field) by \(write.author ?? "")" }
        #expect(entries.count == 1)
        let entry = entries[0]
        #expect(entry["id"] == .string(Self.item.rawValue))
        #expect(entry["type"] == .string("item"))
        #expect(entry["title"] == .string("Risk review"))
        #expect(entry["list"] == .object(["id": .string(Self.list.rawValue), "title": .string("Cluster board")]))
        #expect(entry["field"] == .string("position"))
        #expect(entry["kind"] == .string("concurrent-values"))
        #expect(entry["count"] == .int(2))
        #expect(entry["deleted"] == .bool(false))
        guard case .array(let values) = entry["values"] else { Issue.record("no values"); return }
        #expect(values.map { $0["number"] } == [.int(1), .int(2)])
        #expect(values.map { $0["author"] } == [.string("rhyl (laptop)"), .string("prestatyn")], "the default winner first")
        #expect(values.map { $0["time"] } == [.string("t21"), .string("t20")])
        #expect(values.map { $0["text"] } == [.string("position by rhyl (laptop)"), .string("position by prestatyn")])
        #expect(values[0]["change"] == .string(end.id.description))

        // Nested for one record; a risk has no list.
        let risk = RecordConflictSummary(record: Self.view(Self.risk, [
            Self.w(Self.a, 1, at: 10, "title", .string("A")), Self.w(Self.b, 1, at: 11, "title", .string("B")),
        ]))
        let shown = risk.jsonValue(time: { _ in "" })
        #expect(shown["list"] == .null)
        #expect(shown["title"] == .string("B"))
        guard case .array(let conflicts) = shown["conflicts"] else { Issue.record("no conflicts"); return }
        #expect(conflicts.map { $0["field"] } == [.string("title")])
        #expect(conflicts.first?["values"].map { v -> Bool in if case .array(let a) = v { a.count == 2 } else { false } } == true)
        #expect(RecordConflictSummary(record: Self.view(Self.risk, [])).entriesJSON(time: { _ in "" }).isEmpty)
    }
}
