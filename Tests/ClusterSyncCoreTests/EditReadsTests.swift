import ClusterSyncCore
import Testing

/// A batch of local edits reads only the fields each edit plans against (`Edit.fieldsRead`) and
/// keeps its records in step in memory (`RecordView.applying`): both must give what the whole
/// record would.
@Suite struct EditReadsTests {
    static let scope = RecordScope(tenant: "ctmuhb", cluster: "rhondda")
    static let (a, b) = (Fixtures.a, Fixtures.b)
    static let (action, item) = (Fixtures.action, Fixtures.item)

    static func write(_ replica: ReplicaID, _ counter: Int64, at millis: Int64, _ field: String, _ value: JSONValue) -> FieldWrite {
        FieldWrite(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: millis), field: field, value: value,
                   author: nil, seen: [])
    }

    static func change(
        _ record: RecordID, _ replica: ReplicaID, _ counter: Int64, at millis: Int64, _ field: String, _ value: JSONValue?,
        supersedes: [ChangeID] = []
    ) -> Change {
        Change(id: ChangeID(replica: replica, counter: counter), hlc: HLCTimestamp(millis: millis), record: record, scope: scope,
               field: field, value: value, supersedes: supersedes)
    }

    /// An action with a title in conflict, an owner, two tags (one added twice), two notes and a
    /// set-once date; the same action deleted; an item whose position is in conflict.
    static let views: [RecordView] = {
        let s = JSONValue.string
        let action = [
            write(a, 1, at: 10, "title", s("Audit")), write(b, 1, at: 11, "title", s("Audit the list")),
            write(a, 2, at: 12, "owner", s("Dr Evans")), write(a, 3, at: 13, "original_due_date", s("2026-12-01")),
            write(a, 4, at: 14, "tags", s("flu")), write(b, 2, at: 15, "tags", s("flu")), write(a, 5, at: 16, "tags", s("winter")),
            write(a, 6, at: 17, "notes", s("Started")), write(b, 3, at: 18, "notes", s("Chased")),
            write(a, 7, at: 19, "deleted", .bool(false)),
        ]
        let deleted = action.filter { $0.field != "deleted" } + [write(b, 4, at: 20, "deleted", .bool(true))]
        let item = [write(a, 8, at: 21, "text", s("Flu clinic")), write(a, 9, at: 22, "position", .object(["after": .null])),
                    write(b, 5, at: 23, "position", .object(["after": .null]))]
        return [RecordView(id: Self.action, scope: scope, liveWrites: action), RecordView(id: Self.action, scope: scope, liveWrites: deleted),
                RecordView(id: Self.item, scope: scope, liveWrites: item)]
    }()

    static let edits: [Edit] = [
        .set("title", .string("Audit again")), .set("owner", .string("Ms Price")), .set("due_date", .string("2027-01-10")),
        .set("original_due_date", .string("2026-12-01")), .set("original_due_date", .string("2027-02-01")),
        .add("tags", .string("flu")), .remove("tags", .string("flu")), .remove("tags", .string("summer")),
        .add("notes", .string("Done")), .set("deleted", .bool(true)), .delete, .restore, .place(after: nil),
        .set("text", .string("Flu and covid clinic")),
    ]

    /// What `plan` gives, or the error it throws, as text.
    static func outcome(_ edit: Edit, on view: RecordView?, type: RecordType) -> String {
        do throws(ClusterSyncError) {
            return "\(try edit.plan(on: view, type: type))"
        } catch {
            return "error: \(error)"
        }
    }

    @Test func planningOnTheFieldsAnEditReadsIsPlanningOnTheWholeRecord() {
        var compared = 0
        for whole in Self.views {
            for edit in Self.edits {
                // The record as a batch reads it: only those fields' live writes, none at all
                // when they have none.
                let part: RecordView?
                if let fields = edit.fieldsRead {
                    let writes = whole.writes.values.flatMap { $0 }.filter { fields.contains($0.field) }
                    part = writes.isEmpty ? nil : RecordView(id: whole.id, scope: whole.scope, liveWrites: writes)
                } else {
                    part = whole
                }
                #expect(Self.outcome(edit, on: part, type: whole.type) == Self.outcome(edit, on: whole, type: whole.type),
                        "\(edit) on \(whole.id) deleted=\(whole.isDeleted)")
                compared += 1
            }
        }
        #expect(compared == 42)
        // Only a delete reads the whole record (it lists every write it saw).
        #expect(Self.edits.filter { $0.fieldsRead == nil } == [.delete])
    }

    @Test func applyingAChangeGivesWhatTheStoreWouldReadBack() {
        let s = JSONValue.string
        let changes = [
            Self.change(Self.action, Self.a, 1, at: 20, "title", s("Audit")),
            // Concurrent, with an earlier clock: shown second, whatever the order it came in.
            Self.change(Self.action, Self.b, 1, at: 10, "title", s("Audit the list")),
            Self.change(Self.action, Self.a, 2, at: 30, "tags", s("flu")),
            Self.change(Self.action, Self.a, 3, at: 31, "notes", s("Chased")),
            Self.change(Self.action, Self.b, 2, at: 5, "notes", s("Started")),
            Self.change(Self.action, Self.a, 4, at: 40, "title", s("Audit, settled"),
                        supersedes: [ChangeID(replica: Self.a, counter: 1), ChangeID(replica: Self.b, counter: 1)]),
            // A remove: the tag's write goes, nothing takes its place.
            Self.change(Self.action, Self.a, 5, at: 41, "tags", nil, supersedes: [ChangeID(replica: Self.a, counter: 2)]),
            // Naming a write of another field supersedes nothing there.
            Self.change(Self.action, Self.a, 6, at: 42, "owner", s("Dr Evans"), supersedes: [ChangeID(replica: Self.a, counter: 3)]),
        ]
        var view: RecordView?
        var live: [FieldWrite] = []
        for change in changes {
            view = RecordView.applying(change, to: view)
            let superseded = Set(change.supersedes)
            live.removeAll { $0.field == change.field && superseded.contains($0.id) }
            if let write = FieldWrite(change) { live.append(write) }
            #expect(view == (live.isEmpty ? nil : RecordView(id: Self.action, scope: Self.scope, liveWrites: live)), "after \(change.id)")
        }
        #expect(view?.writes["title"]?.count == 1)
        #expect(view?.writes["notes"]?.map(\.value) == [s("Started"), s("Chased")])
        #expect(view?.writes["tags"] == nil)
        // Removing the last live write leaves no view, as the store reads none back.
        let lone = Self.change(Self.item, Self.a, 1, at: 1, "text", s("Flu clinic"))
        let gone = Self.change(Self.item, Self.a, 2, at: 2, "text", nil, supersedes: [lone.id])
        #expect(RecordView.applying(gone, to: RecordView.applying(lone, to: nil)) == nil)
    }
}
