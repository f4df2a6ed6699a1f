import ClusterSyncCore

/// How a person settles one field's conflict: keep a competing value, or write a new one.
/// Each returns the edit to make and what it did, in words; both the CLI and the web app call it.
public enum ConflictResolution {
    /// The conflict a person names by a field as typed (`owner`, `review-date`, `votes:Lloyd-Jones`,
    /// a score's half `likelihood`), and the score half named, if one was.
    public static func conflict(named typed: String, in view: RecordView) throws -> (conflict: RecordView.Conflict, half: String?) {
        var name = FieldInput.fieldName(typed)
        var half: String?
        if view.type == .risk, let (scoreField, _) = FieldInput.scoreHalf(name) {
            half = name
            name = scoreField
        }
        if view.type.schema.field(name) == nil {
            try view.type.schema.validate(field: name, value: nil)
        }
        let conflicts = view.conflicts
        guard let conflict = conflicts.first(where: { $0.field == name }) else {
            throw ClusterSyncError(.invalidValue,
                "\(view.id) has no conflict on \(name); "
                    + (conflicts.isEmpty ? "it has no conflicts" : "its conflicts are on \(conflicts.map(\.field).joined(separator: ", "))"),
                field: name)
        }
        return (conflict, half)
    }

    /// The edit that keeps the competing value(s) `keep` names: by the id of the change that
    /// wrote it (`42@5f0c9e1a2b3c4d5e`, what a page that showed the values posts, so a value
    /// arriving meanwhile cannot shift which one is kept), by its number as listed, by its
    /// author, or for an edit against a delete by `delete` or `edit`.
    public static func keeping(_ keep: String, _ conflict: RecordView.Conflict, of view: RecordView, values: ValueText) throws -> (Edit, String) {
        let writes = conflict.values
        let deleted = RecordSchema.deletedField.name
        func isDelete(_ write: FieldWrite) -> Bool { write.field == deleted && write.value == .bool(true) }
        let chosen: [Int]
        if let id = ChangeID(keep) {
            guard let index = writes.firstIndex(where: { $0.id == id }) else {
                throw ClusterSyncError(.invalidValue,
                    "the value of \(conflict.field) you chose is no longer one of its competing values (it was settled or written over "
                        + "meanwhile); look at the conflict again",
                    field: conflict.field)
            }
            chosen = [index]
        } else if let n = Int(keep) {
            // Compared, not subtracted: `n - 1` traps for Int.min.
            guard n >= 1, n <= writes.count else {
                throw ClusterSyncError(.invalidValue, "\(conflict.field) has \(writes.count) competing values: give 1 to \(writes.count)", field: conflict.field)
            }
            chosen = [n - 1]
        } else if conflict.field == deleted, ["delete", "deleted"].contains(keep.lowercased()) {
            chosen = writes.indices.filter { isDelete(writes[$0]) }
        } else if conflict.field == deleted, ["edit", "edits", "restore", "restored"].contains(keep.lowercased()) {
            chosen = writes.indices.filter { !isDelete(writes[$0]) }
        } else {
            let exact = writes.indices.filter { writes[$0].author == keep }
            chosen = !exact.isEmpty ? exact : writes.indices.filter {
                writes[$0].author?.lowercased().hasPrefix(keep.lowercased()) == true
            }
            guard !chosen.isEmpty else {
                let authors = writes.enumerated().map { "\($0.offset + 1) \($0.element.author ?? "unknown")" }.joined(separator: ", ")
                throw ClusterSyncError(.invalidValue,
                    "no competing value of \(conflict.field) was written by \"\(keep)\"; give a number or an author (\(authors))",
                    field: conflict.field)
            }
        }
        guard !chosen.isEmpty else {
            throw ClusterSyncError(.invalidValue, "\(conflict.field) has no \(keep) among its competing values", field: conflict.field)
        }
        let kept = chosen.map { writes[$0] }
        func ambiguous() -> ClusterSyncError {
            ClusterSyncError(.invalidValue,
                "\"\(keep)\" matches values \(chosen.map { "\($0 + 1)" }.joined(separator: " and ")) of \(conflict.field); give the number",
                field: conflict.field)
        }
        let numbers = chosen.map { "\($0 + 1)" }.joined(separator: ", ")
        if conflict.field == deleted {
            // A delete kept: delete again, seeing every live write. An edit or a restore kept: restore.
            let deletes = Set(kept.map(isDelete))
            guard deletes.count == 1 else { throw ambiguous() }
            return deletes.first! ? (.delete, "kept \(numbers), deleted again") : (.restore, "kept \(numbers), restored")
        }
        guard Set(kept.map(\.value)).count == 1 else { throw ambiguous() }
        let text = values.text(kept[0], in: conflict, of: view)
        if view.type.schema.field(conflict.field)?.kind == .position {
            let after = kept[0].value["after"]?.stringValue.flatMap { ChangeID($0) }
            return (.place(after: after), "kept \(numbers), placed \(text)")
        }
        return (.set(conflict.field, kept[0].value), "kept \(numbers), \(PatientDataGuard.quotable(text).map { "\"\($0)\"" } ?? "its value")")
    }

    /// The edit that writes a new value, typed as `set` takes it.
    public static func writing(
        _ text: String, field: String, half: String?, of view: RecordView, replica: Replica, values: ValueText
    ) throws -> (Edit, String) {
        if view.type.schema.field(field)?.kind == .position {
            throw ClusterSyncError(.invalidValue,
                "a list item's position takes --keep N; to put it elsewhere, use clustersync list move", field: field)
        }
        let argument = if let half, !text.lowercased().contains("x") { "\(half)=\(text)" } else { "\(field)=\(text)" }
        let edits = try FieldInput.parse([argument], type: view.type, current: view, today: replica.today)
        guard edits.count == 1 else { throw ClusterSyncError(.invalidValue, "give one value for \(field)", field: field) }
        switch edits[0] {
        case .delete: return (.delete, "deleted again")
        case .restore: return (.restore, "restored")
        case .set(field, let value):
            return (edits[0], "set to \(PatientDataGuard.quotable(values.text(value, field: field, of: view)).map { "\"\($0)\"" } ?? "the new value")")
        default:
            throw ClusterSyncError(.invalidValue, "\(field) takes a single value here: --value VALUE", field: field)
        }
    }
}
