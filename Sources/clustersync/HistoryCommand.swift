import ArgumentParser
import ClusterSyncClient
import ClusterSyncCore

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Every change to a record, oldest first: when, who, which replica, which field, the value before and after.",
        discussion: """
            Reads this replica, so it works offline for everything the replica has seen, deleted records included. A replica \
            that started from a snapshot of the server's state (a new one, or one offline beyond the server's compaction \
            horizon) holds only current values: it asks the server for the rest (--local: don't).
            """)

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "A record id (RSK-, ACT-, MTG-, DEC-, …).") var id: String
    @Flag(help: "This replica's copy only: don't ask the server for history before a snapshot.") var local = false

    func run() async throws {
        let replica = try replica.open()
        guard let recordID = RecordID(typed: id) else {
            throw ClusterSyncError(.unknownRecord, "\"\(id)\" is not a record id (like RSK-7K3M9Q2X1A)")
        }
        var changes = try replica.history(of: recordID)
        var note: String?
        if !local, let remote = try replica.remote() {
            do {
                let full = try await replica.fullHistory(of: recordID) { try await SyncClient(replica: replica, remote: remote).serverHistory(of: $0) }
                changes = full.changes
                if full.compacted {
                    note = "the server compacted its log: values superseded before its compaction horizon are no longer kept"
                }
            } catch {
                let reason = (error as? ClusterSyncError)?.message ?? "\(error)"
                note = "this replica's copy only, which started from a snapshot: the server could not be asked (\(reason))"
            }
        }
        if let note { Output.printError("(\(note))") }
        guard let first = changes.first else {
            throw ClusterSyncError(.unknownRecord, "no record \(recordID) in this replica")
        }
        // A record whose every write was later superseded (a tag added and removed) has no view.
        let view = try replica.record(recordID) ?? RecordView(id: recordID, scope: first.scope, liveWrites: [])
        let summary = try RecordConflictSummary.of(view, in: replica)
        let entries = RecordHistory.entries(changes)
        if output.json {
            Output.printJSON(.object([
                "id": .string(recordID.rawValue),
                "type": .string(recordID.type.rawValue),
                "title": summary.title.map(JSONValue.string) ?? .null,
                "deleted": .bool(view.isDeleted),
                "history": .array(entries.map { $0.jsonValue(time: Output.localTime) }),
            ]))
            return
        }
        let values = ValueText(replica: replica)
        var rows: [[Output.Cell]] = []
        for entry in entries {
            var before = entry.before.map { values.text($0, field: entry.field, of: view) }
            if before.count > 1 { before = before.map { "- " + $0 } }
            if !entry.unknownBefore.isEmpty {
                before.append("(\(entry.unknownBefore.count) earlier value\(entry.unknownBefore.count == 1 ? "" : "s") not held here)")
            }
            let after: String = switch entry.action {
            case .remove: "(removed)"
            case .add: values.text(entry.after, field: entry.field, of: view) + " (added)"
            default: values.text(entry.after, field: entry.field, of: view)
            }
            let afterStyle: Output.Style? = switch entry.action {
            case .delete, .remove: .red
            case .restore: .green
            default: nil
            }
            rows.append([
                Output.Cell(Output.localTime(entry.hlc)),
                Output.Cell(entry.author ?? "unknown"),
                Output.Cell(entry.replica.rawValue),
                Output.Cell(entry.field, .bold),
                Output.Cell(before.joined(separator: "\n")),
                Output.Cell(after, afterStyle),
            ])
        }
        let header: [Output.Cell] = ["when", "who", "replica", "field", "before", "after"].map { Output.Cell($0, .dim) }
        let natural = (0..<header.count).map { i in
            ([header] + rows).map { $0[i].text.split(separator: "\n").map(\.count).max() ?? 0 }.max() ?? 0
        }
        let flexible = Output.flexibleWidths(fixed: Array(natural[0..<4]), natural: [natural[4], natural[5]])
        var heading = Output.styled(recordID.rawValue, .bold) + "  " + recordID.type.rawValue
        if view.isDeleted { heading += "  " + Output.styled("DELETED", .red) }
        Output.print(([heading] + Output.wrap(summary.heading, Output.width - 2).map { "  " + $0 }).joined(separator: "\n"))
        Output.print(Output.grid(header, rows, wrap: [nil, nil, nil, nil, flexible[0], flexible[1]]))
        Output.print("\n\(entries.count) change\(entries.count == 1 ? "" : "s")")
    }
}
