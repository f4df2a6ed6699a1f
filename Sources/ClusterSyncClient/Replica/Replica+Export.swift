import ClusterSyncCore

extension Replica {
    /// Every record as the stable JSON document `export --format json` prints: records sorted by
    /// id, deleted ones included; lists carrying their items in order and, under
    /// `deleted_items`, their deleted items by id (a deleted item can hold an edit-against-delete
    /// conflict). Two converged replicas export the same bytes (on the same day: derived BRAG
    /// ratings depend on the date).
    public func exportJSON(today: CalendarDate) throws -> JSONValue {
        let views = try records()
        var records: [JSONValue] = []
        for view in views {
            guard view.type == .list else {
                records.append(view.jsonValue(today: today))
                continue
            }
            guard case .object(var list) = view.jsonValue(today: today, items: try items(of: view.id)) else { continue }
            list["deleted_items"] = .array(try deletedItems(of: view.id).map { $0.jsonValue(today: today) })
            records.append(.object(list))
        }
        return .object(["format": .string("clustersync-export/1"), "records": .array(records)])
    }

    /// The derived columns a type's CSV carries after its fields: shown in the sheet, never
    /// read back. Import passes over these and only these (another type's, a contribution's
    /// `deadline` on an action's sheet, is a column nothing reads: the forty-eighth session
    /// found a practice's "Deadline" column on its action tracker silently dropped).
    static func csvDerivedColumns(_ type: RecordType) -> [String] {
        switch type {
        case .risk: ["score_total", "band", "review_overdue"]
        case .action: ["rag"]
        case .terms: ["review_overdue"]
        case .declaration: ["in_force"]
        case .contribution: ["deadline", "on_time"]
        case .list, .item, .meeting, .decision, .plan: []
        }
    }

    /// One record type as CSV with a header row, deleted records left out: a register a
    /// spreadsheet opens. Set fields are joined with "; ", conflicts counted in their own column.
    public func exportCSV(_ type: RecordType, today: CalendarDate) throws -> String {
        let columns = Self.csvColumns(type)
        let derivedKeys = Self.csvDerivedColumns(type)
        var lines = [(["id", "practice"] + columns.map(\.name) + derivedKeys + ["conflicts", ExportFingerprint.column]).map(csvField).joined(separator: ",")]
        for view in try csvRows(type) where !view.isDeleted {
            var cells = [view.id.rawValue, view.scope.practice ?? ""]
            for spec in columns { cells.append(Self.csvCell(view, spec)) }
            let derived = view.derived(today: today)
            cells += derivedKeys.map { key in derived[key == "score_total" ? "score" : key].map(Self.plain) ?? "" }
            cells.append(String(view.conflicts.count))
            cells.append(ExportFingerprint.cell(view, columns: columns, today: today))
            lines.append(cells.map(csvField).joined(separator: ","))
        }
        // A byte-order mark first: Excel reads a CSV file without one in the computer's own code
        // page, so Siân and Llŷr came back from a spreadsheet as SiÃ¢n and LlÅ·r (import audit).
        return Self.byteOrderMark + lines.joined(separator: "\n") + "\n"
    }

    /// A type's records in the order a spreadsheet should list them: by id, except list items,
    /// list by list in each list's order (by id, the order was the ids' random one).
    func csvRows(_ type: RecordType) throws -> [RecordView] {
        guard type == .item else { return try records(type) }
        var rows: [RecordView] = []
        var placed = Set<RecordID>()
        for list in try records(.list) {
            for item in try items(of: list.id) where placed.insert(item.id).inserted { rows.append(item) }
        }
        // Items of a list not held here (or deleted) keep their id order after the rest.
        return rows + (try records(.item)).filter { !placed.contains($0.id) }
    }

    /// What starts a UTF-8 file so that spreadsheets read it as UTF-8; `import` skips it.
    public static let byteOrderMark = "\u{FEFF}"

    /// A value as a person reads it: strings bare, scores as 4x3, a quorum as 1/2, an attendee as
    /// "Mrs Hughes (substitute, meliden, agreed by BCUHB)".
    public static func plain(_ value: JSONValue) -> String {
        if let s = value.stringValue { return s }
        if let score = RiskScore(value) { return "\(score.likelihood)x\(score.consequence)" }
        if let b = value.boolValue { return b ? "yes" : "no" }
        // A quorum as typed (1/2), an attendee as the meeting lists them: not their JSON.
        if let rule = QuorumRule(value) { return rule.description }
        if let attendee = Attendee(value) { return attendee.text }
        return value.canonicalText
    }
}

private func csvField(_ text: String) -> String {
    let text = CSVFormulaGuard.guarded(text)
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// A spreadsheet takes a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
/// as a formula, quoted or not: shared records arrive from other practices, so an export must
/// not carry one into a practice manager's spreadsheet (`=HYPERLINK(...)`). Such a cell is
/// written with a `'` before it, which spreadsheets show as text and hide; an import takes the
/// `'` off again, so an export imports back as it was. (A value that itself starts with `'` and
/// one of those characters loses its `'` on import: a price of the guard no record needs.)
enum CSVFormulaGuard {
    static let starts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    static func guarded(_ text: String) -> String {
        guard let first = text.first, starts.contains(first) else { return text }
        return "'" + text
    }

    static func unguarded(_ cell: String) -> String {
        guard cell.first == "'", let second = cell.dropFirst().first, starts.contains(second) else { return cell }
        return String(cell.dropFirst())
    }
}
