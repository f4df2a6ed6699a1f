import CSV
import ClusterSyncCore
import ClusterSyncStorage
import GRDB

/// `clustersync import --format csv`: the columns `export --format csv` writes, read back.
extension Replica {
    /// The field columns of a type's CSV (after `id` and `practice`): every field but positions.
    static func csvColumns(_ type: RecordType) -> [FieldSpec] {
        type.schema.fields.filter { $0.kind != .position }
    }

    /// A field as its CSV cell: sets joined with "; " (attendees as a JSON array), a map as a
    /// JSON object, notes one per line as `YYYY-MM-DD text`, other values as a person types them.
    static func csvCell(_ view: RecordView, _ spec: FieldSpec) -> String {
        switch spec.kind {
        case .attendeeSet:
            let members = view.members(spec.name)
            return members.isEmpty ? "" : JSONValue.array(members).canonicalText
        case .choiceMap:
            let values = view.mapValues(spec.name)
            return values.isEmpty ? "" : JSONValue.object(values).canonicalText
        case .quorumRule:
            return view.value(spec.name).flatMap(QuorumRule.init)?.description ?? ""
        case .notes:
            return (view.writes[spec.name] ?? []).map { "\($0.value["date"]?.stringValue ?? "") \($0.value["text"]?.stringValue ?? "")" }
                .joined(separator: "\n")
        default:
            if spec.kind.cardinality == .set { return view.members(spec.name).map(Self.plain).joined(separator: "; ") }
            return view.value(spec.name).map(Self.plain) ?? ""
        }
    }

    public struct ImportProblem: Sendable, Equatable, CustomStringConvertible {
        /// The line of the file where the row starts (the header is line 1).
        public var line: Int
        public var column: String?
        public var message: String
        public var description: String { "line \(line)\(column.map { ", column \($0)" } ?? ""): \(message)" }
    }

    public struct ImportOutcome: Sendable, Equatable {
        public var created = 0
        public var updated = 0
        public var unchanged = 0
        public var changes = 0
        public var problems: [ImportProblem] = []
        public var dryRun = false
        /// What each row that creates or updates a record changes, in file order.
        public var rows: [RowChange] = []
        /// Rows that import but may not be meant: a new row whose title a record here already
        /// has (the same file imported twice adds its new rows twice).
        public var warnings: [ImportProblem] = []
    }

    /// A row that creates or updates a record: its line, the record, and the fields it writes.
    public struct RowChange: Sendable, Equatable {
        public var line: Int
        public var record: RecordID
        public var created: Bool
        /// Field names as the columns name them (a vote's `votes`), each once, in column order.
        public var fields: [String]

        public init(line: Int, record: RecordID, created: Bool, fields: [String]) {
            self.line = line
            self.record = record
            self.created = created
            self.fields = fields
        }

        /// "line 3: update RSK-… (title, score)"; "line 9: create a new risk (title, …)": a new
        /// record's id is drawn when it is made, so a check names none (the CLI audit: the id a
        /// check printed was not the one the import then gave).
        public var text: String {
            "line \(line): " + (created ? "create a new \(record.type.rawValue)" : "update \(record)") + " (\(fields.joined(separator: ", ")))"
        }
    }

    private struct RollBack: Error {}

    /// The separator of a CSV file: a semicolon when its header line has more of them than
    /// commas (as Excel and LibreOffice save CSV in locales whose decimal mark is a comma),
    /// else a comma. The header line is the first with a name in it, as the import reads it
    /// (empty rows above it, `;;;` or blank, are passed over).
    static func delimiter(of text: String) -> UnicodeScalar {
        let lines = text.unicodeScalars.split { $0 == "\n" || $0 == "\r" }
        let blank: Set<UnicodeScalar> = [" ", "\t", ",", ";", "\u{FEFF}"]
        guard let header = lines.first(where: { $0.contains { !blank.contains($0) } }) else { return "," }
        return header.filter { $0 == ";" }.count > header.filter { $0 == "," }.count ? ";" : ","
    }

    /// A header cell as the column it names: as export writes it, or as a spreadsheet may
    /// have retyped it ("Title ", "CATEGORY", "Due Date", "due-date", "Risk Owner"). Unknown
    /// names come back as written, for the problem that names them.
    static func columnName(_ cell: String, of type: RecordType, known: Set<String>) -> String {
        let written = cell.replacingOccurrences(of: "\u{FEFF}", with: "").trimmed
        let words = written.lowercased().split { $0.isWhitespace || $0 == "-" || $0 == "_" }.joined(separator: "_")
        let prefix = type.rawValue + "_"
        let unprefixed = words.hasPrefix(prefix) ? String(words.dropFirst(prefix.count)) : words
        // "Impact" is what many registers call the matrix's consequence.
        let consequence = { (name: String) in name.hasSuffix("impact") ? name.dropLast("impact".count) + "consequence" : name }
        for candidate in [words, unprefixed, consequence(words), consequence(unprefixed)] where known.contains(candidate) {
            return candidate
        }
        return written
    }

    /// The line breaks inside a row's quoted cells: the lines it takes in the file beyond its first.
    static func lineBreaks(in row: [String]) -> Int {
        row.reduce(0) { $0 + $1.unicodeScalars.filter { $0 == "\n" }.count }
    }

    /// A note's line as its date and its text: dated as export writes it (`2026-11-20 text`), or
    /// as people write a date (`20/11/2026 text`, `20/11/2026: text`, `3 Nov 2025 - text`); nil
    /// for a line not starting so (the import audit: `20/10/2025: Interviews arranged` went on
    /// the note above, its date lost, and `2025-09-01: rota` kept the colon's space).
    static func datedNote(_ line: String) -> (CalendarDate, String)? {
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        let separators: Set<Character> = [":", "-", "–", ","]
        for count in [1, 3] where words.count > count {
            let first = words.prefix(count).joined(separator: " ")
            var text = Substring(words.dropFirst(count).joined(separator: " "))
            // As export writes it: the text as it is, whatever it starts with, so that an
            // export imported again finds its notes already there.
            if count == 1, let date = CalendarDate(first) {
                if !text.isEmpty { return (date, String(text)) }
                continue
            }
            var written = Substring(first)
            while let last = written.last, separators.contains(last) { written.removeLast() }
            guard let date = CalendarDate(typed: written) else { continue }
            while let head = text.first, head == " " || separators.contains(head) { text.removeFirst() }
            if !text.isEmpty { return (date, String(text)) }
        }
        return nil
    }

    /// How a file's quoted cells would mislead the CSV reader, which takes a quoted cell on to
    /// its closing quote, rows and all.
    enum QuoteProblem: Equatable {
        /// A quoted cell with text after its closing quote (`"a" b,c`), opened at this line (the
        /// import audit: a hand-edited controls cell swallowed the two risks under it).
        case textAfterClosingQuote(Int)
        /// A quoted cell never closed, opened at this line. (A `"` inside a cell that does not
        /// start with one, `Replace 5" pipe`, is the cell's text: until the fifty-sixth session
        /// an odd count of them refused the whole file "at line 1".)
        case unterminated(Int)
    }

    /// The first `QuoteProblem` of `text`; nil when it has none.
    static func quoteProblem(_ text: String, delimiter: Unicode.Scalar) -> QuoteProblem? {
        var line = 1, atCellStart = true, quoted = false, openedAt = 1
        var scalars = text.unicodeScalars.makeIterator()
        var next = scalars.next()
        while let scalar = next {
            next = scalars.next()
            if scalar == "\u{FEFF}" { continue }
            if scalar == "\n" { line += 1 }
            if quoted {
                guard scalar == "\"" else { continue }
                if next == "\"" { next = scalars.next(); continue }
                quoted = false
                if let after = next, after != "\n", after != "\r", after != delimiter { return .textAfterClosingQuote(openedAt) }
            } else if scalar == "\"", atCellStart {
                quoted = true
                openedAt = line
            }
            atCellStart = scalar == "\n" || scalar == "\r" || scalar == delimiter
        }
        return quoted ? .unterminated(openedAt) : nil
    }

    /// The columns a risk's sheet may score it by instead of `score` (4x3): likelihood and
    /// consequence, as the NHS matrix is drawn and as most registers keep them, for the score,
    /// the initial score and the target score.
    static let scoreHalfColumns = ["likelihood", "consequence", "initial_likelihood", "initial_consequence",
                                   "target_likelihood", "target_consequence"]

    /// A row's score halves as its score cells (4x3), each half given alone taking the other
    /// from the record (`FieldInput.score`, as `set likelihood=4` does); a half's problem names
    /// its column. A row giving a score both ways is refused rather than one silently winning.
    static func scoreCells(_ cells: inout [String: String], current: RecordView?, problems: inout [ImportProblem]) {
        for scoreField in ["score", "initial_score", "target_score"] {
            let prefix = String(scoreField.dropLast("score".count))
            let halves = ["likelihood", "consequence"].map { cells.removeValue(forKey: prefix + $0).flatMap { $0.trimmed.isEmpty ? nil : $0 } }
            guard halves.contains(where: { $0 != nil }) else { continue }
            if let whole = cells[scoreField], !whole.trimmed.isEmpty {
                problems.append(ImportProblem(line: 0, column: scoreField,
                    message: "the row gives \(scoreField) and \(prefix)likelihood or \(prefix)consequence too; keep one of them"))
                continue
            }
            // Both halves checked, so the row lists every problem at once.
            var levels: [Int?] = []
            for (half, text) in zip(["likelihood", "consequence"], halves) {
                do throws(ClusterSyncError) {
                    levels.append(try text.map { text throws(ClusterSyncError) in try FieldInput.level(text, half: half, field: prefix + half) })
                } catch {
                    problems.append(ImportProblem(error))
                }
            }
            guard levels.count == 2 else { continue }
            do throws(ClusterSyncError) {
                let score = try FieldInput.score(scoreField, likelihood: levels[0], consequence: levels[1], current: current)
                cells[scoreField] = "\(score.likelihood)x\(score.consequence)"
            } catch {
                // Named by the column the row has, whose partner is missing.
                let given = prefix + (levels[0] == nil ? "consequence" : "likelihood")
                problems.append(ImportProblem(line: 0, column: given, message: error.message))
            }
        }
    }

    /// Imports the rows of a CSV export of `type` in one transaction: every row is checked and
    /// every problem reported; if there is any, or `dryRun`, nothing is written. A row whose `id`
    /// names a record here updates it (only the cells that differ; an empty cell leaves the field
    /// as it is); a row without an id creates a record.
    /// A problem's column is named as the file's header row writes it ("Review Date" for
    /// `review_date`), so that a practice manager finds it in the sheet.
    public func importCSV(_ text: String, type: RecordType, dryRun: Bool = false) throws -> ImportOutcome {
        var headings: [String: String] = [:]
        var outcome = try importCSV(text, type: type, dryRun: dryRun, headings: &headings)
        func asWritten(_ problem: ImportProblem) -> ImportProblem {
            var problem = problem
            problem.column = problem.column.map { headings[$0] ?? $0 }
            return problem
        }
        outcome.problems = outcome.problems.map(asWritten)
        outcome.warnings = outcome.warnings.map(asWritten)
        // A refused file made nothing: no counts, and no ids of records that do not exist (the
        // import audit: `--json` said created 1, naming an id `show` did not know).
        if !outcome.problems.isEmpty {
            (outcome.created, outcome.updated, outcome.unchanged, outcome.changes, outcome.rows) = (0, 0, 0, 0, [])
        }
        return outcome
    }

    /// `headings`: each column's header cell as written, by the field it names.
    private func importCSV(_ text: String, type: RecordType, dryRun: Bool, headings: inout [String: String]) throws -> ImportOutcome {
        var outcome = ImportOutcome(dryRun: dryRun)
        // `clustersync export` writes JSON unless told CSV (the CLI audit: importing it listed
        // every JSON key as an unknown column).
        if let first = text.unicodeScalars.first(where: { !$0.properties.isWhitespace && $0 != "\u{FEFF}" }), first == "{" || first == "[" {
            outcome.problems.append(ImportProblem(line: 1, column: nil,
                message: "the file is JSON, and import reads CSV: export the register with `clustersync export --format csv --type \(type.rawValue)` "
                    + "(the web app's Export page writes CSV too)"))
            return outcome
        }
        switch Self.quoteProblem(text, delimiter: Self.delimiter(of: text)) {
        case .textAfterClosingQuote(let line):
            outcome.problems.append(ImportProblem(line: line, column: nil, message: "a cell starts with \" but goes on after its closing \" "
                + "(\"Grow your own\" scheme): the rows after it would be read into it. Put the whole cell in quotes and double the quotes "
                + "inside it (\"\"\"Grow your own\"\" scheme\"), as a spreadsheet saves it"))
            return outcome
        case .unterminated(let line):
            outcome.problems.append(ImportProblem(line: line, column: nil, message: "a cell starts with \" and has no closing \": "
                + "the rest of the file would be read into it. Close the quotes, or put the whole cell in quotes and double the quotes inside it"))
            return outcome
        case nil:
            break
        }
        let reader = try CSVReader(string: text, hasHeaderRow: false, delimiter: Self.delimiter(of: text))
        // The header is the first row with a name in it: a sheet saved with an empty row above
        // it (`,,,` or a blank line) is read from there, not refused line by line.
        var headerLine = 1
        var firstRow = reader.next()
        while let row = firstRow, row.allSatisfy({ $0.trimmed.isEmpty }) {
            headerLine += 1 + Self.lineBreaks(in: row)
            firstRow = reader.next()
        }
        guard let header = firstRow else {
            outcome.problems.append(ImportProblem(line: 1, column: nil, message: "the file is empty; it needs the header row export writes"))
            return outcome
        }
        let columns = Self.csvColumns(type)
        let known = Set(["id", "practice", "conflicts", ExportFingerprint.column] + columns.map(\.name)
                        + Self.csvDerivedColumns(type)
                        + (type == .risk ? Self.scoreHalfColumns : []))
        let names = header.map { Self.columnName($0, of: type, known: known) }
        // A heading wrapped in its cell (Alt+Enter) is named on one line.
        for (name, cell) in zip(names, header) where headings[name] == nil {
            headings[name] = cell.replacingOccurrences(of: "\u{FEFF}", with: "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        // A score made of its halves' columns is named by them (`Initial Likelihood and Initial Impact`).
        for prefix in ["", "initial_", "target_"] where type == .risk && headings[prefix + "score"] == nil {
            let halves = ["likelihood", "consequence"].compactMap { headings[prefix + $0] }
            if !halves.isEmpty { headings[prefix + "score"] = halves.joined(separator: " and ") }
        }
        var firstColumn: [String: Int] = [:]
        for (index, name) in names.enumerated() where !name.isEmpty {
            if let first = firstColumn[name] {
                outcome.problems.append(ImportProblem(line: headerLine, column: name, message: "column \(name) appears twice (columns \(first + 1) and \(index + 1)); keep one of them"))
                continue
            }
            firstColumn[name] = index
            if !known.contains(name) {
                outcome.problems.append(ImportProblem(line: headerLine, column: name, message: "\(type.rawValue) has no column \(name); columns are id, practice, \(columns.map(\.name).joined(separator: ", "))"
                    + (type == .risk ? " (or likelihood and consequence for score, and so for initial_score and target_score)" : "")))
            }
        }
        // No id column: a register kept in a spreadsheet of its own, every row a new record. An
        // export without its id column would add its whole register again.
        if names.contains(ExportFingerprint.column), !names.contains("id") {
            outcome.problems.append(ImportProblem(line: headerLine, column: "id", message: "the file is an export (it has the exported column) without "
                + "its id column: put the id column back to update the records, or take the exported column out to add every row as a new record"))
        }
        if !outcome.problems.isEmpty { return outcome }
        var rows: [(line: Int, cells: [String: String])] = []
        var firstLine: [RecordID: Int] = [:]
        var line = headerLine + 1 + Self.lineBreaks(in: header)
        while let row = reader.next() {
            defer { line += 1 + Self.lineBreaks(in: row) }
            if row.allSatisfy({ $0.trimmed.isEmpty }) { continue }
            guard row.count == names.count else {
                outcome.problems.append(ImportProblem(line: line, column: nil, message: "the row has \(row.count) cells; the header has \(names.count) (a cell holding a comma or line break must be in double quotes)"))
                continue
            }
            // A spreadsheet may save empty columns after the last one; a value under no name is a mistake.
            if let unnamed = zip(names, row).enumerated().first(where: { $0.element.0.isEmpty && !$0.element.1.isEmpty }) {
                outcome.problems.append(ImportProblem(line: line, column: nil, message: "column \(unnamed.offset + 1) has a value but no name in the header row"))
                continue
            }
            // A file whose line ends were all made CR LF (Windows tools do it) has them inside
            // quoted cells too: a cell holds LF line breaks, as the replica stores them.
            let cells = Dictionary(zip(names, row.map { CSVFormulaGuard.unguarded($0.replacingOccurrences(of: "\r\n", with: "\n")) }),
                                   uniquingKeysWith: { a, _ in a })
            // Two rows for one record would be applied one after the other, the second silently winning.
            if let id = cells["id"].flatMap({ RecordID(typed: $0) }) {
                if let first = firstLine[id] {
                    outcome.problems.append(ImportProblem(line: line, column: "id", message: "\(id) is on line \(first) too; keep one row per record"))
                    continue
                }
                firstLine[id] = line
            }
            rows.append((line, cells))
        }
        // A sheet of the practice's own (not an export, whose derived cells are export's: one has
        // the exported column, or, made before it, every derived column and conflicts) with a
        // column ClusterSync works out itself: its cells are not read, and the person is told
        // (the import audit: a declaration's "In Force" of No was passed over without a word).
        let exportsColumns = ["conflicts"] + Self.csvDerivedColumns(type)
        if !names.contains(ExportFingerprint.column), !exportsColumns.allSatisfy(names.contains) {
            for name in exportsColumns where rows.contains(where: { !($0.cells[name] ?? "").trimmed.isEmpty }) {
                outcome.warnings.append(ImportProblem(line: headerLine, column: name,
                    message: "\(name) is worked out by ClusterSync from the record, so its cells were not read"))
            }
        }
        let today = self.today
        // A new row titled as a record already here: most often the same file imported again.
        // A declaration is the same when its member declares the same interest: one member
        // declares several (the scale audit: every member's second declaration was warned of).
        // (Of the columns the sheet has: one without organisations still finds its rows here.)
        let keyFields = (type == .item ? ["text"] : type == .declaration ? ["member", "organisation", "description"] : ["title"])
            .enumerated().filter { $0.offset == 0 || names.contains($0.element) }.map(\.element)
        let titleKey = keyFields[0]
        func duplicateKey(_ value: (String) -> String?) -> String? {
            guard let title = value(titleKey), !title.trimmed.isEmpty else { return nil }
            return keyFields.map { GovernanceRecords.nameKey(value($0) ?? "") }.joined(separator: "\u{1F}")
        }
        var held: [String: RecordID] = [:]
        for view in try records(type) where !view.isDeleted {
            if let key = duplicateKey(view.string) { held[key] = held[key] ?? view.id }
        }
        // Or titled as a row above it that adds one too: a row copied twice in the sheet.
        var addedAt: [String: Int] = [:]
        for (line, cells) in rows where (cells["id"] ?? "").trimmed.isEmpty {
            guard let key = duplicateKey({ cells[$0] }) else { continue }
            let quoted = PatientDataGuard.quotable(cells[titleKey] ?? "") ?? "…"
            let described = type == .declaration ? "a declaration by \"\(quoted)\" of the same interest" : "\(type.withArticle) titled \"\(quoted)\""
            if let existing = held[key] {
                outcome.warnings.append(ImportProblem(line: line, column: titleKey,
                    message: "\(described) is already here (\(existing)); this row adds another"))
            } else if let first = addedAt[key] {
                outcome.warnings.append(ImportProblem(line: line, column: titleKey,
                    message: "line \(first) adds \(described) too; this row adds another"))
            }
            addedAt[key] = addedAt[key] ?? line
        }
        do {
            try database.write { db in
                var session = try LocalEditSession(db, wallMillis: wallClock())
                let identity = session.identity
                var lastItems: [RecordID: RecordID] = [:]
                for (line, cells) in rows {
                    var problems: [ImportProblem] = []
                    let warned = outcome.warnings.count
                    defer {
                        for index in warned..<outcome.warnings.count { outcome.warnings[index].line = line }
                    }
                    do {
                        if var change = try importRow(cells, type: type, identity: identity, today: today, session: &session, db: db,
                                                      outcome: &outcome, problems: &problems, lastItems: &lastItems) {
                            change.line = line
                            outcome.rows.append(change)
                        }
                    } catch let error as ClusterSyncError {
                        problems.append(ImportProblem(error))
                    } catch let problem as ImportProblem {
                        problems.append(problem)
                    }
                    outcome.problems += problems.map { ImportProblem(line: line, column: $0.column, message: $0.message) }
                }
                try session.finish()
                outcome.changes = session.made.count
                if dryRun || !outcome.problems.isEmpty { throw RollBack() }
            }
        } catch is RollBack {}
        return outcome
    }

    /// The row's change, its line left for the caller to fill in; nil when it changes nothing.
    private func importRow(
        _ cells: [String: String], type: RecordType, identity: ReplicaIdentity, today: CalendarDate,
        session: inout LocalEditSession, db: Database, outcome: inout ImportOutcome, problems: inout [ImportProblem],
        lastItems: inout [RecordID: RecordID]
    ) throws -> RowChange? {
        // What the rows before wrote, in the file before this row reads it (an item's list).
        try session.flush()
        let idText = cells["id"] ?? ""
        var current: RecordView?
        let id: RecordID
        let scope: RecordScope
        if idText.isEmpty {
            id = RecordID.random(for: type)
            // "Rhyl" for rhyl: a sheet's practice column is written as people write names.
            let practice = (cells["practice"] ?? "").trimmed
            guard practice.isEmpty || practice.lowercased() == identity.practice.lowercased() else {
                throw ImportProblem(line: 0, column: "practice", message: "a private record here can only be \(identity.practice)'s; leave practice empty to share it with the cluster")
            }
            scope = identity.scope(private: !practice.isEmpty)
            // Said, since a sheet's own "Practice" column may mean which practice a row is about
            // (the import audit: such a row became private, and neither the check nor the import said so).
            if !practice.isEmpty {
                outcome.warnings.append(ImportProblem(line: 0, column: "practice", message: "this row adds \(type.withArticle) private to "
                    + "\(identity.practice), which other practices will not see (its practice cell names this practice); leave practice empty to share it with the cluster"))
            }
        } else {
            guard let parsed = RecordID(typed: idText), parsed.type == type else {
                throw ImportProblem(line: 0, column: "id", message: "\(PatientDataGuard.quotable(idText) ?? "the id") is not the id of a \(type.rawValue) (\(type.prefix)-…): "
                    + "this column is read as ClusterSync's own id, which updates that record; leave it empty to add the row as a new \(type.rawValue), "
                    + "or take the column out if it holds the sheet's own numbering")
            }
            guard let view = try Self.view(parsed, db), view.exists, let s = try Self.scope(of: parsed, db) else {
                throw ImportProblem(line: 0, column: "id", message: "no \(type.rawValue) \(parsed) in this replica; leave id empty to create a new one")
            }
            // A record's sharing is set when it is made: a practice cell saying otherwise was
            // passed over unread, the row counted unchanged (the fifty-sixth session's review).
            // An empty cell leaves it, as it leaves any field.
            let practice = (cells["practice"] ?? "").trimmed
            if !practice.isEmpty, practice.lowercased() != s.practice?.lowercased() {
                throw ImportProblem(line: 0, column: "practice", message: s.practice.map {
                    "\(parsed) is private to \($0), and a record's sharing is set when it is made: leave practice as \($0), or empty"
                } ?? "\(parsed) is shared with the cluster, and a record's sharing is set when it is made: leave practice empty "
                    + "(to keep such a record private, add it as a new row naming \(identity.practice))")
            }
            id = parsed
            current = view
            scope = s
        }
        var cells = cells
        if type == .risk { Self.scoreCells(&cells, current: current, problems: &problems) }
        var edits: [Edit] = []
        let columns = Self.csvColumns(type)
        let exported = current == nil ? nil : ExportFingerprint.checksums(cells[ExportFingerprint.column], columns: columns)
        var keptHere: [String] = []
        // Every cell is checked, so that one run lists every problem of the row.
        for spec in columns {
            // An empty cell, or one of spaces, leaves the field as it is (a date is not emptied).
            guard let cell = cells[spec.name], !cell.trimmed.isEmpty else { continue }
            // What changed here since the file was exported is not overwritten unseen.
            if let current, let asExported = exported?[spec.name] {
                let here = Self.csvCell(current, spec)
                let hereAsExported = ExportFingerprint.checksum(here, spec: spec, today: today) == asExported
                // A cell as exported writes nothing, whatever the field holds now: kept if changed
                // since, and never read again (a note's later line, a value stored with spaces).
                if ExportFingerprint.checksum(cell, spec: spec, today: today) == asExported {
                    if !hereAsExported { keptHere.append(spec.name) }
                    continue
                }
                if !hereAsExported {
                    if ExportFingerprint.reading(cell, spec: spec, today: today) != ExportFingerprint.reading(here, spec: spec, today: today) {
                        let now = here.isEmpty ? "now empty" : "now \"\(PatientDataGuard.quotable(here) ?? "…")\""
                        problems.append(ImportProblem(line: 0, column: spec.name, message: "\(spec.name) was changed in this replica since the file "
                            + "was exported (\(now)), and the file changes it too: importing would overwrite that change unseen. "
                            + "Export again and make this edit there, or edit \(id) itself"))
                        continue
                    }
                }
            }
            do {
                let made = try Self.edits(cell, spec, current: current, today: today)
                for edit in made {
                    switch edit {
                    case .set(let field, let value), .add(let field, let value): try type.schema.validate(field: field, value: value)
                    default: break
                    }
                }
                edits += made
            } catch let error as ClusterSyncError {
                problems.append(ImportProblem(error))
            }
        }
        guard problems.isEmpty else { return nil }
        if !keptHere.isEmpty {
            outcome.warnings.append(ImportProblem(line: 0, column: nil, message: "\(id): \(keptHere.joined(separator: ", ")) kept as changed in this "
                + "replica since the file was exported (the file's cells are as exported)"))
        }
        if current == nil, let field = NewRecordDefaults.datedToday(type, given: edits, meetingDate: { try? Self.view($0, db)?.date("date") }) {
            throw ImportProblem(line: 0, column: field, message: "a \(type.rawValue) added from a spreadsheet needs its \(field) "
                + "(it is not dated the day of the import); where the sheet gives a day once for several rows, give it on each")
        }
        if current == nil {
            edits += NewRecordDefaults.edits(for: type, given: edits, today: today,
                                             meetingDate: { try? Self.view($0, db)?.date("date") })
        }
        if type == .item, current == nil {
            guard let list = edits.lazy.compactMap({ if case .set("list", let v) = $0 { v.stringValue.flatMap { RecordID($0) } } else { nil } }).first else {
                throw ImportProblem(line: 0, column: "list", message: "an item needs its list (LST- id)")
            }
            // After the item a row above added to the list, which is its last: ordering the whole
            // list for each row made an import of 600 items take 44 s (the scale audit).
            let last = try lastItems[list].map { try Self.view($0, db) } ?? Self.items(of: list, db).last
            edits.append(.place(after: last?.writes["position"]?.first?.id))
            lastItems[list] = id
        }
        var implied = LocalEditRules.implied(by: edits, type: type, current: current, today: today,
                                             meetingDate: { try? Self.view($0, db)?.date("date") })
        // A row adding an action already complete is the register's history, not completed
        // today: its completion date is what the row gives, or none (an import had dated old
        // actions with the day of the import).
        if current == nil { implied.removeAll { if case .set("completed_date", _) = $0 { true } else { false } } }
        edits += implied
        if let current, current.isDeleted, !edits.isEmpty {
            throw ImportProblem(line: 0, column: "id", message: "\(id) is deleted here; restore it before importing changes to it")
        }
        if current == nil {
            do throws(ClusterSyncError) {
                try NewRecordDefaults.requireFields(type, in: edits)
            } catch {
                throw ImportProblem(line: 0, column: error.field, message: error.message)
            }
        }
        var writes = edits.map { (record: id, edit: $0, scope: scope) }
        for (decision, edit) in try Self.decisionsFollowing(id, edits: edits, current: current, db) {
            if let decisionScope = try Self.scope(of: decision, db) { writes.append((decision, edit, decisionScope)) }
        }
        for write in writes {
            do {
                try session.edit(write.record, scope: write.scope, write.edit)
            } catch let error as ClusterSyncError {
                // A refusal each of a cell's edits meets is said once.
                let problem = ImportProblem(error)
                if !problems.contains(problem) { problems.append(problem) }
            }
        }
        if current == nil { outcome.created += 1 } else if edits.isEmpty { outcome.unchanged += 1 } else { outcome.updated += 1 }
        guard !edits.isEmpty else { return nil }
        var fields: [String] = []
        for edit in edits {
            let field: String? = switch edit {
            case .set(let f, _), .add(let f, _), .remove(let f, _): FieldMap.split(f)?.map ?? f
            case .place: "position"
            case .delete, .restore: nil
            }
            if let field, !fields.contains(field) { fields.append(field) }
        }
        return RowChange(line: 0, record: id, created: current == nil, fields: fields)
    }

    /// What a new record gets besides its cells (as `add` gives it): a status, set-once copies.
    /// The edits that make a field hold what its cell says, given the record as it is.
    static func edits(_ cell: String, _ spec: FieldSpec, current: RecordView?, today: CalendarDate) throws -> [Edit] {
        let name = spec.name
        switch spec.kind {
        case .choiceMap:
            guard case .object(let o)? = try? JSONValue(parsing: cell) else {
                throw ClusterSyncError(.invalidValue, "\(name) must be a JSON object of member → vote, as export writes it", field: name)
            }
            let shown = current?.mapValues(name) ?? [:]
            // `""` withdraws a vote shown here, the member named as `decision unvote` names one
            // (ignoring case and spacing); for a member with none it writes nothing.
            return o.keys.sorted().compactMap { typed in
                let value = o[typed]!
                let key = value != FieldMap.withdrawn ? typed
                    : shown.keys.first { $0 == typed } ?? shown.keys.first { GovernanceRecords.nameKey($0) == GovernanceRecords.nameKey(typed) } ?? typed
                return shown[key] == value || (value == FieldMap.withdrawn && shown[key] == nil) ? nil : .set(FieldMap.field(name, key: key), value)
            }
        case .notes:
            var notes: [JSONValue] = []
            let existingNotes = current?.writes[name] ?? []
            /// Whether `line` goes on the note above as one held here does (export writes a
            /// note's later lines as they are, and one may start with a day-first date).
            func continuesAHeldNote(_ last: JSONValue, _ line: String) -> Bool {
                guard let text = last["text"]?.stringValue else { return false }
                let continued = text + "\n" + line
                return existingNotes.contains { $0.value["date"] == last["date"] && $0.value["text"]?.stringValue?.hasPrefix(continued) == true }
            }
            for text in cell.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
                // Dated as export writes it (2026-11-20), or as people write a date
                // (20/11/2026). A later line starting so is the note above going on only where
                // a note held here reads so (export wrote it): otherwise it is a new note (the
                // CLI audit: a day-first note added under another was read into it, and that
                // note added a second time; a held note with a line starting with an ISO date, split in two).
                let continues = notes.last.map { continuesAHeldNote($0, text) } ?? false
                if !continues, let (date, note) = Self.datedNote(text) {
                    notes.append(.object(["date": .string(date.description), "text": .string(note)]))
                } else if case .object(var last)? = notes.last, let t = last["text"]?.stringValue {
                    last["text"] = .string(t + "\n" + text)
                    notes[notes.count - 1] = .object(last)
                } else {
                    throw ClusterSyncError(.invalidValue, "notes must be one per line, each starting with its date (2026-11-20 or 20/11/2026) and a space", field: name)
                }
            }
            let existing = Set(existingNotes.map(\.value))
            let added = notes.filter { !existing.contains($0) }
            // Said once for the cell, not once for each note past the limit.
            if !added.isEmpty, existingNotes.count + added.count > FieldGrowth.maxLiveWrites {
                throw ClusterSyncError(.invalidValue, "the cell adds \(added.count) \(added.count == 1 ? "note" : "notes") to the \(existingNotes.count) held here; "
                    + "\(name) holds at most \(FieldGrowth.maxLiveWrites): keep the older ones in the spreadsheet"
                    + (existingNotes.isEmpty ? "" : ", or remove some first"), field: name)
            }
            return added.map { .add(name, $0) }
        default:
            break
        }
        if spec.kind.cardinality == .set {
            let wanted: [JSONValue]
            if spec.kind == .attendeeSet {
                guard case .array(let a)? = try? JSONValue(parsing: cell) else {
                    throw ClusterSyncError(.invalidValue, "\(name) must be a JSON array of attendees, as export writes it", field: name)
                }
                wanted = a
            } else {
                wanted = try cell.split(separator: ";").map { String($0).trimmed }.filter { !$0.isEmpty }
                    .map { try FieldInput.value($0, for: spec, today: today) }
            }
            let have = current?.members(name) ?? []
            return wanted.filter { !have.contains($0) }.map { .add(name, $0) }
                + have.filter { !wanted.contains($0) }.map { .remove(name, $0) }
        }
        // A cell that reads as the record shows the field is unchanged, in conflict or not: an
        // export imported again must not settle a conflict (the displayed value is one of its
        // sides, and which one a spreadsheet cannot say); `conflicts resolve` settles it.
        let value = try FieldInput.value(cell, for: spec, today: today)
        // Text stored with spaces around it (before they were trimmed) is the cell's text.
        if let current, current.value(name) == value || (value.stringValue != nil && current.value(name)?.stringValue?.trimmed == value.stringValue) {
            return []
        }
        return [.set(name, value)]
    }
}

extension Replica.ImportProblem: Error {
    /// A problem from an error, its column the field named (a vote's column is `votes`); the
    /// line is filled in by the caller.
    init(_ error: ClusterSyncError) {
        self.init(line: 0, column: error.field.map { FieldMap.split($0)?.map ?? $0 }, message: error.message)
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
