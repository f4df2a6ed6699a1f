import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// Import: a spreadsheet saved as CSV (the columns export writes), read by the library's
/// `importCSV`, with the same rules and messages as `clustersync import --format csv`. All rows
/// or none: a refused file changes nothing, and the page lists each problem by line and column.
extension Pages {
    /// The largest file accepted (about 20,000 risks' worth of rows); a larger one is refused
    /// before it is read.
    static let maxImportBytes = 8 * 1024 * 1024

    /// Lists and their items too, as `clustersync import --type list|item` (web app audit: a list
    /// kept in a spreadsheet, a membership list or a plan's objectives, could not come in).
    /// Lists before items: an item's row names its list (LST- id), made by the lists' import.
    static let importTypes: [RecordType] = [.risk, .action, .meeting, .decision, .declaration, .terms, .plan, .contribution, .list, .item]

    /// A register's CSV file name: risks.csv, actions.csv, meetings.csv, terms.csv…
    static func csvName(_ type: RecordType) -> String {
        type == .terms ? "terms.csv" : "\(type.rawValue)s.csv"
    }

    struct ImportDone {
        var created: String, updated: String, unchanged: String, checked: Bool
        /// The same form was sent again (a reload of the post, a second click): imported once.
        var sentAgain = false
    }

    func registerImportPages(on router: Router<BasicRequestContext>) {
        router.get("/import") { request, _ in
            // After an import the browser is sent here with its counts, so a reload cannot import twice.
            let query = self.query(request)
            var done: ImportDone?
            if let created = query["created"].flatMap(Int.init), let updated = query["updated"].flatMap(Int.init),
               let unchanged = query["unchanged"].flatMap(Int.init) {
                done = ImportDone(created: String(created), updated: String(updated), unchanged: String(unchanged),
                                  checked: query["checked"] == "1", sentAgain: query["again"] == "1")
            }
            let type = query["type"].flatMap(RecordType.init(rawValue:)) ?? .risk
            let warnings = query["notes"].flatMap(Int.init).flatMap(self.session.importNotes.notes) ?? []
            return self.importPage(type: type, done: done, warnings: warnings, status: .ok)
        }
        router.post("/import") { request, _ in try await self.importUpload(request) }
    }

    /// `checkOnly`: the "Check only" box as it was sent, kept ticked when a check is refused.
    func importPage(type: RecordType, done: ImportDone? = nil, refusal: String? = nil, problems: [Replica.ImportProblem] = [],
                    checkOnly: Bool = false, rows: [Replica.RowChange] = [], warnings: [Replica.ImportProblem] = [],
                    status: HTTPResponse.Status = .unprocessableContent) -> Response {
        var data: [String: Any] = [
            // Drawn anew for each page, so the same post sent again is told from a new import.
            "sent": AppSession.random(),
            "types": Self.importTypes.map { ["optionValue": $0.rawValue, "optionLabel": t["import_type_\($0.rawValue)"], "selected": $0 == type] },
            "sizeHint": t.text("import_hint", String(Self.maxImportBytes / 1024 / 1024)),
        ]
        if let refusal { data["refusal"] = refusal }
        if checkOnly { data["checkOnly"] = true }
        if !problems.isEmpty {
            data["hasProblems"] = true
            data["problems"] = problems.map { ["line": String($0.line), "column": $0.column ?? "", "message": $0.message] }
        }
        if !rows.isEmpty {
            data["hasRows"] = true
            data["rows"] = rows.map { row -> [String: Any] in
                // A check makes no record, so a row that adds one has no id yet to show.
                ["line": String(row.line), "action": t[row.created ? "import_row_create" : "import_row_update"],
                 "record": row.created && checkOnly ? t["import_row_new"] : row.record.rawValue,
                 "fields": row.fields.map { t["field_\($0)"] }.joined(separator: ", ")]
            }
        }
        // Rows that import but may not be meant: the same file imported again adds its new rows
        // again, and the app has no delete (web app audit: the CLI said so, the app did not).
        if !warnings.isEmpty {
            data["hasWarnings"] = true
            data["warnings"] = warnings.map { ["line": String($0.line), "message": $0.message] }
        }
        let flash = done.map { done in
            (done.sentAgain ? t["import_sent_again"] + " " : "")
                + t.text(done.checked ? "import_checked" : "import_done", done.created, done.updated, done.unchanged)
        }
        return page.html("import", title: t["import_title"], section: .importing, data: data, flash: flash,
                         conflicts: conflictCount(), status: refusal == nil ? .ok : status)
    }

    func importUpload(_ request: Request) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            // Room for the form's other parts and the part headers beside the file.
            body = try await request.collectBody(upTo: Self.maxImportBytes + 16 * 1024)
        } catch is NIOTooManyBytesError {
            return importPage(type: .risk, refusal: t.text("import_too_large", String(Self.maxImportBytes / 1024 / 1024)), status: .contentTooLarge)
        }
        guard let form = MultipartForm(contentType: request.headers[.contentType] ?? "", body: Array(buffer: body)),
              session.isCSRF(form.text("csrf")) else { return expired() }
        guard let type = form.text("type").flatMap(RecordType.init(rawValue:)), Self.importTypes.contains(type) else {
            return importPage(type: .risk, refusal: t["import_no_type"])
        }
        guard let file = form["file"], let name = file.filename, !name.isEmpty, !file.data.isEmpty else {
            return importPage(type: type, refusal: t["import_no_file"], checkOnly: form.text("check") == "1")
        }
        guard let text = String(validating: file.data, as: UTF8.self) else {
            return importPage(type: type, refusal: t.text("import_not_utf8", name), checkOnly: form.text("check") == "1")
        }
        let checkOnly = form.text("check") == "1"
        // A check writes nothing; an import is made once for the same page's form and file (a
        // reload of its post, a second click), which could otherwise add every new row again:
        // a practice cannot delete shared records, so each copy would wait for the lead.
        let key = checkOnly ? nil : FormSubmissions.fingerprint(path: "/import", [
            ("type", Data(type.rawValue.utf8)), ("sent", Data((form.text("sent") ?? "").utf8)), ("file", Data(file.data)),
        ])
        if let key {
            // A second click while the first is still importing waits for it (up to 20 s), so
            // its answer still shows the counts and notes: the browser shows the last answer only.
            var claim = session.submissions.claim(key)
            for _ in 0..<80 where claim == .again(nil) {
                try await Task.sleep(for: .milliseconds(250))
                claim = session.submissions.claim(key)
            }
            switch claim {
            case .again(let target?): return .redirect(to: target + "&again=1")
            case .again(nil): return page.message(status: .conflict, title: t["form_again_title"], body: t["form_again_body"])
            case .first: break
            }
        }
        let outcome: Replica.ImportOutcome
        do {
            outcome = try replica.importCSV(text, type: type, dryRun: checkOnly)
        } catch {
            if let key { session.submissions.release(key) }
            throw error
        }
        guard outcome.problems.isEmpty else {
            if let key { session.submissions.release(key) }
            let count = outcome.problems.count
            return importPage(type: type, refusal: t.text(count == 1 ? "import_refused_one" : "import_refused", String(count), name),
                              problems: outcome.problems, checkOnly: checkOnly)
        }
        if outcome.dryRun {
            // A check writes nothing, so its page is answered at once, with what each row would change.
            return importPage(type: type, done: ImportDone(created: String(outcome.created), updated: String(outcome.updated),
                                                           unchanged: String(outcome.unchanged), checked: true),
                              checkOnly: true, rows: outcome.rows, warnings: outcome.warnings, status: .ok)
        }
        // Redirected, so a reload cannot import twice; the notes wait in the session for the
        // page the redirect opens (a reload of it shows them again).
        let notes = outcome.warnings.isEmpty ? "" : "&notes=\(session.importNotes.keep(outcome.warnings))"
        let target = "/import?type=\(type.rawValue)&created=\(outcome.created)&updated=\(outcome.updated)"
            + "&unchanged=\(outcome.unchanged)&checked=0\(notes)"
        if let key { session.submissions.finish(key, at: target) }
        return .redirect(to: target)
    }
}

/// The notes of the session's last imports (rows that import but may not be meant), by the
/// number their result page's address carries: an import is answered by a redirect, which
/// the notes would not otherwise survive. In memory, as the session is.
final class ImportNotes: Sendable {
    static let kept = 20

    private struct State {
        var next = 1
        var notes: [(number: Int, notes: [Replica.ImportProblem])] = []
    }

    private let state = Mutex(State())

    /// Keeps `notes` and returns their number.
    func keep(_ notes: [Replica.ImportProblem]) -> Int {
        state.withLock { state in
            let number = state.next
            state.next += 1
            state.notes.append((number, notes))
            if state.notes.count > Self.kept { state.notes.removeFirst() }
            return number
        }
    }

    func notes(_ number: Int) -> [Replica.ImportProblem]? {
        state.withLock { state in state.notes.first { $0.number == number }?.notes }
    }
}
