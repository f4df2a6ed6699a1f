import ArgumentParser
import ClusterSyncClient
import ClusterSyncCore

struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "List, compare and settle conflicts: fields written concurrently, and edits made against a delete.",
        discussion: """
            Without a subcommand, lists every open conflict. A resolution is an ordinary edit: sync it and the \
            conflict clears on every replica (a value written concurrently with it makes a new conflict).
            """,
        subcommands: [ListConflicts.self, ShowConflicts.self, ResolveConflict.self],
        defaultSubcommand: ListConflicts.self)
}

extension RecordConflictSummary {
    /// The summary of one record, conflicts or none, with its list if it is an item.
    static func of(_ view: RecordView, in replica: Replica) throws -> RecordConflictSummary {
        let list = view.type == .item ? try view.reference("list").flatMap { try replica.record($0) } : nil
        return RecordConflictSummary(record: view, list: list)
    }

    /// The record as a person names it: its title (a list item's text and its list).
    var heading: String {
        var text = title ?? "(no title)"
        if record.type == .item {
            text += " (in list \"\(list?.string("title") ?? record.string("list") ?? "?")\")"
        }
        return text
    }
}

/// How a competing value is styled: deletes red, other values yellow.
func valueStyle(_ write: FieldWrite) -> Output.Style {
    write.field == RecordSchema.deletedField.name && write.value == .bool(true) ? .red : .yellow
}

struct ListConflicts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List every field and list position written concurrently, and every edit against a delete (the default).")

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let replica = try replica.open()
        let summaries = try replica.conflicts()
        let values = ValueText(replica: replica)
        if output.json {
            Output.printJSON(.object(["conflicts": .array(summaries.flatMap { summary in
                summary.entriesJSON(time: Output.localTime) { values.text($1, in: $0, of: summary.record) }
            })]))
            return
        }
        guard !summaries.isEmpty else {
            Output.print("no conflicts")
            return
        }
        var rows: [[Output.Cell]] = []
        var count = 0
        for summary in summaries {
            var firstOfRecord = true
            for conflict in summary.conflicts {
                count += 1
                for (offset, write) in conflict.values.enumerated() {
                    let first = offset == 0
                    rows.append([
                        Output.Cell(firstOfRecord ? summary.record.id.rawValue : "", .bold),
                        Output.Cell(firstOfRecord ? summary.record.type.rawValue + (summary.record.isDeleted ? ", deleted" : "") : ""),
                        Output.Cell(firstOfRecord ? summary.heading : ""),
                        Output.Cell(first ? conflict.field : "", .bold),
                        Output.Cell("\(offset + 1)"),
                        Output.Cell(values.text(write, in: conflict, of: summary.record), valueStyle(write)),
                        Output.Cell(write.author ?? "unknown"),
                        Output.Cell(write.id.replica.rawValue),
                        Output.Cell(Output.localTime(write.hlc)),
                    ])
                    firstOfRecord = false
                }
            }
        }
        let header: [Output.Cell] = ["id", "type", "title", "field", "#", "value", "by", "replica", "when"].map { Output.Cell($0, .dim) }
        let natural = (0..<header.count).map { i in ([header] + rows).map { $0[i].text.count }.max() ?? 0 }
        let flexible = Output.flexibleWidths(fixed: [0, 1, 3, 4, 6, 7, 8].map { natural[$0] }, natural: [natural[2], natural[5]])
        Output.print(Output.grid(header, rows, wrap: [nil, nil, flexible[0], nil, nil, flexible[1], nil, nil, nil]))
        // A read-only replica settles nothing: its conflicts are settled in the practices' replicas.
        let readOnly = ((try? replica.oversightRole()) ?? nil) != nil
        let settle = !readOnly
            ? "Settle: clustersync conflicts resolve ID FIELD --keep N (or --value VALUE)."
            : "They are settled in the practices' replicas, by the practice or its cluster lead: this replica changes nothing."
        Output.print("""

            \(count) conflict\(count == 1 ? "" : "s") in \(summaries.count) record\(summaries.count == 1 ? "" : "s"). \
            Compare: clustersync conflicts show ID. \(settle)
            """ + Self.leadNote(replica))
    }
}

extension ListConflicts {
    /// On a replica without the lead's role: that settling another practice's value is the
    /// lead's (`LeadPowers`), said before someone tries and is refused.
    static func leadNote(_ replica: Replica) -> String {
        guard let role = try? replica.effectiveRole().role, role.isPractice, !role.hasLeadPowers else { return "" }
        return "\nSettling a conflict with another practice's value is the cluster lead's; this replica's role is \(role.rawValue) "
            + "(clustersync status). Ask the lead, settle only this practice's own values, or give way: keep the other practice's value."
    }
}

struct ShowConflicts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one record's conflicts side by side, each field's values numbered for --keep.")

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "A record id (RSK-, ACT-, LST- or ITM-).") var id: String

    func run() throws {
        let replica = try replica.open()
        let view = try replica.requireRecord(typed: id, of: nil)
        let summary = try RecordConflictSummary.of(view, in: replica)
        let values = ValueText(replica: replica)
        if output.json {
            Output.printJSON(summary.jsonValue(time: Output.localTime) { values.text($1, in: $0, of: view) })
            return
        }
        var lines = [
            Output.styled(view.id.rawValue, .bold) + "  " + view.type.rawValue
                + (view.isDeleted ? "  " + Output.styled("DELETED", .red) : ""),
        ]
        lines += Output.wrap(summary.heading, Output.width - 2).map { "  " + $0 }
        let conflicts = summary.conflicts
        if conflicts.isEmpty { lines.append("no conflicts") }
        for conflict in conflicts {
            lines.append("")
            let explanation = switch conflict.kind {
            case .concurrentValues: "\(conflict.values.count) values written without seeing each other"
            case .editAgainstDelete: "deleted while \(conflict.values.count - 1 == 1 ? "an edit was" : "edits were") made without seeing the delete"
            }
            lines.append(Output.styled(conflict.field, .bold) + "  " + conflict.kind.rawValue + ": " + explanation)
            let labels = ["value", "by", "replica", "when", "change"]
            let columns = conflict.values.count
            let room = (Output.width - labels.map(\.count).max()! - 2 * columns) / max(columns, 1)
            let header = [Output.Cell("")] + (1...columns).map { Output.Cell("\($0)", .bold) }
            let rows: [[Output.Cell]] = [
                [Output.Cell(labels[0], .dim)] + conflict.values.map { Output.Cell(values.text($0, in: conflict, of: view), valueStyle($0)) },
                [Output.Cell(labels[1], .dim)] + conflict.values.map { Output.Cell($0.author ?? "unknown") },
                [Output.Cell(labels[2], .dim)] + conflict.values.map { Output.Cell($0.id.replica.rawValue) },
                [Output.Cell(labels[3], .dim)] + conflict.values.map { Output.Cell(Output.localTime($0.hlc)) },
                [Output.Cell(labels[4], .dim)] + conflict.values.map { Output.Cell($0.id.description) },
            ]
            lines.append(Output.grid(header, rows, wrap: [nil] + Array(repeating: max(room, 16), count: columns)))
            lines.append(Self.hint(for: conflict, of: view))
        }
        if !conflicts.isEmpty { lines.append(ListConflicts.leadNote(replica).trimmingCharacters(in: .newlines)) }
        Output.print(lines.joined(separator: "\n"))
    }

    static func hint(for conflict: RecordView.Conflict, of view: RecordView) -> String {
        let command = "clustersync conflicts resolve \(view.id) \(conflict.field)"
        let numbers = conflict.values.indices.map { "\($0 + 1)" }.joined(separator: "|")
        if conflict.field == RecordSchema.deletedField.name {
            if conflict.kind == .editAgainstDelete {
                return "settle: \(command) --keep delete (delete it again) or --keep edit (restore it, edits kept)"
            }
            return "settle: \(command) --keep \(numbers)"
        }
        if view.type.schema.field(conflict.field)?.kind == .position {
            return "settle: \(command) --keep \(numbers) (or move it with clustersync list move)"
        }
        return "settle: \(command) --keep \(numbers) (or an author) or --value VALUE"
    }
}

struct ResolveConflict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Settle one field's conflict: keep one competing value, or write a new one.",
        discussion: """
            --keep takes a value's number from `conflicts show`, or its author (the author exactly, or the start of a \
            practice's name if only one value matches). For a delete against edits (field `deleted`), --keep delete \
            deletes the record again and --keep edit restores it with the edits. For a list item's position, --keep \
            puts the item where the kept value placed it. --value is typed like `set` (4x3 for a score; likelihood or \
            consequence name the score too). The resolution is an ordinary edit: sync to share it.
            """)

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The record's id.") var id: String
    @Argument(help: "The field in conflict (deleted for an edit against a delete, position for a list item's place).") var field: String
    @Option(help: "The competing value to keep: its number, its author, or for `deleted`: delete or edit.") var keep: String?
    @Option(help: "A new value instead, typed like `set` does.") var value: String?

    func validate() throws {
        if keep == nil, value == nil { throw ValidationError("say how to settle it: --keep N (or an author) or --value VALUE") }
        if keep != nil, value != nil { throw ValidationError("give --keep or --value, not both") }
    }

    func run() throws {
        let replica = try replica.open()
        let view = try replica.requireRecord(typed: id, of: nil)
        let (conflict, half) = try ConflictResolution.conflict(named: field, in: view)
        let name = conflict.field
        let values = ValueText(replica: replica)
        let (edit, outcome) = if let keep {
            try ConflictResolution.keeping(keep, conflict, of: view, values: values)
        } else {
            try ConflictResolution.writing(value!, field: name, half: half, of: view, replica: replica, values: values)
        }
        try replica.edit(view.id, edit)
        Output.print("settled \(name) of \(view.id): \(outcome); sync to share it")
    }
}
