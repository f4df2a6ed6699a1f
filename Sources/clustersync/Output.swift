import ClusterSyncClient
import ClusterSyncCore
import Foundation

/// Plain-text rendering of records for a person at a terminal.
enum Output {
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func printJSON(_ value: JSONValue) {
        print(value.canonicalText)
    }

    /// Columns padded to their widest cell.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func truncated(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }

    static func describe(_ write: FieldWrite) -> String {
        "\(Replica.plain(write.value))    (\(write.author ?? "unknown author"), \(localTime(write.hlc)), change \(write.id))"
    }

    static func localTime(_ hlc: HLCTimestamp) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        formatter.timeZone = .current
        return formatter.string(from: Date(timeIntervalSince1970: Double(hlc.millis) / 1000))
    }

    /// A record's fields, derived values and conflicts, one per line.
    static func render(_ view: RecordView, today: CalendarDate, items: [RecordView]? = nil) -> String {
        let scope = view.scope.practice.map { "private to \($0)" } ?? "shared with cluster \(view.scope.cluster)"
        var lines = ["\(view.id)  \(view.type.rawValue)  \(scope)\(view.isDeleted ? "  DELETED" : "")"]
        let derived = view.derived(today: today)
        for spec in view.type.schema.fields where spec.kind != .position {
            let text: String?
            switch spec.kind.cardinality {
            case .register:
                text = view.value(spec.name).map { value in
                    if let score = RiskScore(value) { return "\(score.likelihood)x\(score.consequence) = \(score.score) (\(score.band.rawValue))" }
                    return Replica.plain(value)
                }
            case .set:
                let members = view.members(spec.name).map(Replica.plain)
                text = members.isEmpty ? nil : members.joined(separator: ", ")
            case .log:
                let notes = view.writes[spec.name] ?? []
                text = notes.isEmpty ? nil : notes.map { note in
                    "\n    \(note.value["date"].map(Replica.plain) ?? "")  \(note.author ?? "")  \(note.value["text"].map(Replica.plain) ?? "")"
                }.joined()
            }
            if let text {
                lines.append("  " + spec.name.padding(toLength: 18, withPad: " ", startingAt: 0) + text)
            }
        }
        if let rag = derived["rag"]?.stringValue { lines.append("  " + "rag".padding(toLength: 18, withPad: " ", startingAt: 0) + rag) }
        if derived["review_overdue"] == .bool(true) { lines.append("  review is overdue") }
        if let items {
            lines.append("  items:")
            for (i, item) in items.enumerated() {
                let done = item.value("done") == .bool(true) ? "[x]" : "[ ]"
                let owner = item.string("owner").map { "  (\($0))" } ?? ""
                let flag = item.conflicts.isEmpty ? "" : "  CONFLICT"
                lines.append("   \(i + 1). \(done) \(item.string("text") ?? "")\(owner)  \(item.id)\(flag)")
            }
        }
        let conflicts = view.conflicts
        if !conflicts.isEmpty {
            lines.append("  conflicts:")
            for conflict in conflicts {
                lines.append("    \(conflict.field) (\(conflict.kind.rawValue)):")
                for write in conflict.values { lines.append("      \(write.field == conflict.field ? "" : write.field + ": ")\(describe(write))") }
            }
        }
        return lines.joined(separator: "\n")
    }
}
