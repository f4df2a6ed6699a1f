import ClusterSyncClient
import ClusterSyncCore
import Testing

/// Keeping one of a conflict's competing values as a page or a command names it: by the id of
/// the change that wrote it, which a value arriving meanwhile cannot shift (the web app's
/// *Keep this one* posted the value's position until the fifty-sixth session, so a value synced
/// in between settled the conflict on one nobody had seen), or by its number, within bounds.
@Suite struct ConflictKeepingTests {
    @Test func aValueNamedByItsChangeIsKeptThoughAnotherArrivedAndShiftedTheNumbers() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        let prestatyn = try makeReplica(dir, "prestatyn", practice: "prestatyn")
        let conwy = try makeReplica(dir, "conwy", practice: "conwy")
        try rhyl.rememberRole(.clusterLead, region: nil)
        let risk = try rhyl.create(.risk, edits: [.set("title", .string("Locum cover"))])
        _ = try prestatyn.merge(with: rhyl)
        _ = try conwy.merge(with: rhyl)
        let ours = try #require(try rhyl.edit(risk, .set("owner", .string("Rhyl practice manager"))).first)
        try prestatyn.edit(risk, .set("owner", .string("Prestatyn nurse")))
        _ = try rhyl.merge(with: prestatyn)
        let shown = try #require(try rhyl.record(risk)?.conflicts.first)
        let numberShown = try #require(shown.values.firstIndex { $0.id == ours.id }) + 1

        // A third practice's value, written later, arrives before the page's choice is sent.
        try conwy.edit(risk, .set("owner", .string("Conwy GP")))
        _ = try rhyl.merge(with: conwy)
        let view = try #require(try rhyl.record(risk))
        let conflict = try #require(view.conflicts.first)
        #expect(conflict.values.count == 3)
        #expect(conflict.values.firstIndex { $0.id == ours.id }.map { $0 + 1 } != numberShown,
                "the number the page showed now names another value")

        let (edit, said) = try ConflictResolution.keeping(ours.id.description, conflict, of: view, values: ValueText(replica: rhyl))
        #expect(said.contains("Rhyl practice manager"))
        try rhyl.edit(risk, edit)
        #expect(try rhyl.record(risk)?.conflicts.isEmpty == true)
        #expect(try rhyl.record(risk)?.string("owner") == "Rhyl practice manager")
    }

    @Test func aValueNoLongerCompetingOrANumberOutOfRangeIsRefusedInWords() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        let prestatyn = try makeReplica(dir, "prestatyn", practice: "prestatyn")
        let risk = try rhyl.create(.risk, edits: [.set("title", .string("Estates lease"))])
        _ = try prestatyn.merge(with: rhyl)
        let first = try #require(try rhyl.edit(risk, .set("owner", .string("Rhyl"))).first)
        try prestatyn.edit(risk, .set("owner", .string("Prestatyn")))
        _ = try rhyl.merge(with: prestatyn)
        let view = try #require(try rhyl.record(risk))
        let conflict = try #require(view.conflicts.first)
        let values = ValueText(replica: rhyl)

        // A change that wrote no competing value (the page was of an earlier conflict, settled since).
        let gone = ChangeID(replica: first.id.replica, counter: first.id.counter + 100)
        let stale = #expect(throws: ClusterSyncError.self) { try ConflictResolution.keeping(gone.description, conflict, of: view, values: values) }
        #expect(stale?.code == .invalidValue)
        #expect(stale?.message.contains("no longer one of its competing values") == true)
        // Int.min once trapped on `n - 1`, taking the app (every tab's session) down with it.
        for number in ["0", "3", "\(Int.min)", "\(Int.max)"] {
            let error = #expect(throws: ClusterSyncError.self) { try ConflictResolution.keeping(number, conflict, of: view, values: values) }
            #expect(error?.message == "owner has 2 competing values: give 1 to 2", "\(number)")
        }
    }
}
