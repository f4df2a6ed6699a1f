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

/// A form's edits written only if the fields they write are as the form showed them, checked
/// inside the write (`Replica.edit(_:unchangedSince:)`): the web app compared its form with the
/// record outside the write, so a sync committing in between was written over, no conflict.
@Suite struct UnchangedSinceTests {
    @Test func aFieldChangedAfterTheFormWasReadIsNotWrittenOverAndAnotherFieldIs() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let rhyl = try makeReplica(dir, "rhyl", practice: "rhyl")
        let prestatyn = try makeReplica(dir, "prestatyn", practice: "prestatyn")
        let action = try rhyl.create(.action, edits: [.set("title", .string("Book the flu clinic")), .set("owner", .string("Rhyl"))])
        _ = try prestatyn.merge(with: rhyl)
        let formRead = try #require(try rhyl.record(action))

        // Prestatyn's change to the owner arrives between the form's read and its save.
        try prestatyn.edit(action, .set("owner", .string("Prestatyn")))
        _ = try rhyl.merge(with: prestatyn)
        let pending = try rhyl.pendingCount()
        let changed = #expect(throws: Replica.ChangedMeanwhile.self) {
            try rhyl.edit([(action, .set("owner", .string("Rhyl nurse"))), (action, .set("title", .string("Book two clinics")))],
                          unchangedSince: formRead)
        }
        #expect(changed?.fields == ["owner"])
        #expect(try rhyl.pendingCount() == pending, "nothing written, the title neither")
        #expect(try rhyl.record(action)?.string("owner") == "Prestatyn")

        // A form that writes only other fields goes through.
        try rhyl.edit([(action, .set("title", .string("Book two clinics")))], unchangedSince: formRead)
        #expect(try rhyl.record(action)?.string("title") == "Book two clinics")
        // Read again, the form writes the owner over what it now shows.
        try rhyl.edit([(action, .set("owner", .string("Rhyl nurse")))], unchangedSince: try #require(try rhyl.record(action)))
        #expect(try rhyl.record(action)?.string("owner") == "Rhyl nurse" && (try rhyl.record(action)?.conflicts.isEmpty) == true)
    }
}
