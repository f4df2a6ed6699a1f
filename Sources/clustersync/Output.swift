import ClusterSyncClient
import ClusterSyncCommandLine
import ClusterSyncCore
import Foundation

/// Plain-text rendering of records for a person at a terminal.
enum Output {
    /// To a terminal, with the control characters of values neutralised (`TerminalText`); to a
    /// file or a pipe, as it is (an export is data).
    static func print(_ text: String) {
        write(text, to: .standardOutput, descriptor: 1)
    }

    static func printError(_ text: String) {
        write(text, to: .standardError, descriptor: 2)
    }

    private static func write(_ text: String, to handle: FileHandle, descriptor: Int32) {
        StandardStream.write((isatty(descriptor) != 0 ? TerminalText.neutralised(text) : text) + "\n", to: handle)
    }

    static func printJSON(_ value: JSONValue) {
        print(value.canonicalText)
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String { TextTable.render(header, rows) }

    static func truncated(_ text: String, _ width: Int) -> String { TextTable.truncated(text, width) }

    static func describe(_ write: FieldWrite) -> String {
        // An emptied value (a date taken back, a vote withdrawn) says so rather than printing nothing.
        let value = Replica.plain(write.value)
        let emptied = FieldMap.split(write.field) == nil ? "(empty)" : "(withdrawn)"
        return "\(value.isEmpty ? emptied : value)    (\(write.author ?? "unknown author"), \(localTime(write.hlc)), change \(write.id))"
    }

    static func localTime(_ hlc: HLCTimestamp) -> String { TextTable.localTime(hlc) }

    /// ISO 8601 with the local zone's offset, for JSON: "2026-11-30T09:15:02+00:00".
    static func isoTime(_ date: Date) -> String {
        var style = Date.ISO8601FormatStyle(timeZone: .current)
        style = style.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .colon)
        return date.formatted(style)
    }

    static func isoTime(millis: Int64) -> String { isoTime(Date(timeIntervalSince1970: Double(millis) / 1000)) }

    /// The width of `show`'s label column for a record type: its longest field name and a space,
    /// at least 18, so every value of one record starts in the same column.
    static func labelWidth(_ type: RecordType) -> Int {
        max(18, (type.schema.fields.map(\.name.count).max() ?? 0) + 1)
    }

    /// A record's fields, derived values and conflicts, one per line.
    static func render(_ view: RecordView, today: CalendarDate, items: [RecordView]? = nil, governance: GovernanceRecords? = nil) -> String {
        let scope = view.scope.practice.map { "private to \($0)" } ?? "shared with cluster \(view.scope.cluster)"
        var lines = ["\(view.id)  \(view.type.rawValue)  \(scope)\(view.isDeleted ? "  DELETED" : "")"]
        let derived = governance.map { view.derived(today: today, governance: $0) } ?? view.derived(today: today)
        for spec in view.type.schema.fields where spec.kind != .position && spec.kind != .attendeeSet {
            let text: String?
            switch spec.kind.cardinality {
            case .register:
                text = view.value(spec.name).map { value in
                    if let score = RiskScore(value) { return "\(score.likelihood)x\(score.consequence) = \(score.score) (\(score.band.rawValue))" }
                    if spec.kind == .amount, let amount = value.stringValue { return Amount.shown(amount) }
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
                lines.append("  " + spec.name.padding(toLength: labelWidth(view.type), withPad: " ", startingAt: 0) + text)
            }
        }
        if let rag = derived["rag"]?.stringValue { lines.append("  " + "rag".padding(toLength: labelWidth(view.type), withPad: " ", startingAt: 0) + rag) }
        if derived["review_overdue"] == .bool(true) { lines.append("  review is overdue") }
        if derived["escalation_suggested"] == .bool(true) {
            lines.append("  score \(RiskScore.escalationTrigger) or more and not escalated beyond the cluster: the lead may escalate it (escalation=pcpg)")
        }
        if let on = derived["escalated_on"]?.stringValue, let days = derived["escalated_days"]?.intValue {
            lines.append("  escalated to \(view.escalation ?? "") on \(on), " + (days == 0 ? "today" : "\(days) day\(days == 1 ? "" : "s") ago"))
        }
        if let moved = derived["due_moved_days"]?.intValue, let original = view.string("original_due_date") {
            lines.append("  due date moved \(abs(moved)) day\(abs(moved) == 1 ? "" : "s") \(moved > 0 ? "later" : "earlier") than first agreed (\(original))")
        }
        if let items {
            lines.append("  items:")
            for (i, item) in items.enumerated() {
                let done = item.value("done") == .bool(true) ? "[x]" : "[ ]"
                let owner = item.string("owner").map { "  (\($0))" } ?? ""
                let flag = item.conflicts.isEmpty ? "" : "  CONFLICT"
                lines.append("   \(i + 1). \(done) \(item.string("text") ?? "")\(owner)  \(item.id)\(flag)")
                // A plan priority's measure, under it.
                if let measure = item.string("measure"), !measure.isEmpty { lines.append("        measure: \(measure)") }
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

// MARK: Terminal output: colour, wrapping, tables with wrapped cells

extension Output {
    /// ANSI styles, used only when stdout is a terminal and NO_COLOR is unset (never for --json).
    enum Style: String {
        case bold = "1"
        case dim = "2"
        case red = "31"
        case green = "32"
        case yellow = "33"
    }

    static let colour: Bool = isatty(1) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    static func styled(_ text: String, _ style: Style?) -> String {
        guard colour, let style, !text.isEmpty else { return text }
        return "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m"
    }

    /// The terminal's width; COLUMNS, else 100, when stdout is not a terminal.
    static let width: Int = {
        if isatty(1) != 0 {
            var size = winsize()
            let result = withUnsafeMutablePointer(to: &size) { ioctl(1, UInt(TIOCGWINSZ), $0) }
            if result == 0, size.ws_col >= 40 { return Int(size.ws_col) }
        }
        if let text = ProcessInfo.processInfo.environment["COLUMNS"], let n = Int(text), n >= 40 { return n }
        return 100
    }()

    /// Text broken into lines of at most `width` characters, at spaces where it can be, never
    /// cut: a word longer than the width is split over lines. Line breaks in the text are kept.
    static func wrap(_ text: String, _ width: Int) -> [String] {
        let width = max(width, 8)
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            // A bulleted line ("- value") wraps with its continuation lines indented under the text.
            let indent = paragraph.hasPrefix("- ") ? "  " : ""
            let width = paragraph.hasPrefix("- ") ? max(width - 2, 6) : width
            var first = true
            var line = ""
            func emit(_ text: String) {
                lines.append(first ? text : indent + text)
                first = false
            }
            var words = paragraph.split(separator: " ", omittingEmptySubsequences: true)
            if !indent.isEmpty, !words.isEmpty {
                words.removeFirst()
                line = "-"
            }
            for word in words {
                var word = Substring(word)
                if !line.isEmpty, line.count + 1 + word.count <= width {
                    line += " " + word
                    continue
                }
                if !line.isEmpty { emit(line) }
                while word.count > width {
                    emit(String(word.prefix(width)))
                    word = word.dropFirst(width)
                }
                line = String(word)
            }
            emit(line)
        }
        return lines
    }

    struct Cell: ExpressibleByStringLiteral {
        var text: String
        var style: Style?

        init(_ text: String, _ style: Style? = nil) {
            self.text = text
            self.style = style
        }

        init(stringLiteral value: String) { self.init(value) }
    }

    /// Columns padded to their widest line; a cell wider than its column's limit in `wrap`
    /// (nil: no limit) is wrapped onto further lines. Styles colour the text, not the padding.
    static func grid(_ header: [Cell]?, _ rows: [[Cell]], wrap limits: [Int?]) -> String {
        let all = (header.map { [$0] } ?? []) + rows
        let columns = all.map(\.count).max() ?? 0
        let split: [[[String]]] = all.map { row in
            row.enumerated().map { i, cell in
                let limit = i < limits.count ? limits[i] : nil
                return limit.map { Self.wrap(cell.text, $0) } ?? cell.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            }
        }
        var widths = Array(repeating: 0, count: columns)
        for row in split { for (i, lines) in row.enumerated() { widths[i] = max(widths[i], lines.map(\.count).max() ?? 0) } }
        var out: [String] = []
        for (r, row) in split.enumerated() {
            let height = row.map(\.count).max() ?? 1
            for l in 0..<height {
                var line = ""
                for (i, lines) in row.enumerated() {
                    let text = l < lines.count ? lines[l] : ""
                    let last = i == row.count - 1
                    line += styled(text, all[r][i].style)
                    if !last { line += String(repeating: " ", count: widths[i] - text.count + 2) }
                }
                while line.hasSuffix(" ") { line.removeLast() }
                out.append(line)
            }
        }
        return out.joined(separator: "\n")
    }

    /// Splits what is left of the terminal's width after `fixed` columns among the columns whose
    /// `natural` widths are given: a column narrower than its fair share keeps its width, the
    /// others share the rest equally, at least `minimum` each.
    static func flexibleWidths(fixed: [Int], natural: [Int], minimum: Int = 16) -> [Int] {
        let gaps = 2 * (fixed.count + natural.count - 1)
        var room = max(width - fixed.reduce(0, +) - gaps, minimum * natural.count)
        var result = natural.map { max($0, 1) }
        var left = natural.indices.sorted { natural[$0] < natural[$1] }
        while let narrowest = left.first {
            let share = room / left.count
            if natural[narrowest] <= share {
                room -= natural[narrowest]
                left.removeFirst()
            } else {
                for i in left { result[i] = max(minimum, share) }
                break
            }
        }
        return result
    }
}
