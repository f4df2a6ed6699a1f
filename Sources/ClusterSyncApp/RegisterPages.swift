import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Hummingbird

/// The risk register and the action tracker: their tables, and the forms that add to them.
extension Pages {
    func registerRiskPages(on router: Router<BasicRequestContext>) {
        router.get("/risks") { request, _ in try self.riskRegister(self.query(request)) }
        router.get("/actions") { request, _ in try self.actionTracker(self.query(request)) }
        for type in [RecordType.risk, .action, .meeting, .decision, .declaration, .terms, .plan, .contribution] {
            let path = Self.path(of: type)
            router.get("\(path)/new") { request, _ in
                self.newForm(type, typed: nil, problems: [], linked: RecordForm.of(type)!.links(from: self.query(request)) { self.linkable($0, listKind: $1) })
            }
            router.post(RouterPath(path)) { request, _ in
                guard let form = try await self.posted(request) else { return self.expired() }
                return try self.once(request, form) { try self.create(type, form: form) }
            }
        }
    }

    // MARK: Risk register

    struct RiskRow {
        var view: RecordView
        var score: RiskScore?
        var overdue: Bool

        init(_ view: RecordView, today: CalendarDate) {
            self.view = view
            score = view.value("score").flatMap(RiskScore.init)
            overdue = RecordFilter.isOverdue(view, today: today)
        }
    }

    static let riskColumns: [RecordOrder.Key] = [.title, .owner, .category, .score, .status, .review]
    static let riskColumnLabels = ["col_title", "col_owner", "col_category", "col_score", "col_status", "col_review"]
    static let riskSorting = SortableColumns(keys: riskColumns, labels: riskColumnLabels)

    func riskRegister(_ query: FormBody) throws -> Response {
        let today = replica.today
        let status = query["status"] ?? "open"
        let band = query["band"] ?? ""
        let words = query.trimmed("q")
        let overdueOnly = query["overdue"] == "1"
        let (order, direction) = Self.riskSorting.order(query, standard: .score)

        let all = try register(.risk)
        let filter = RecordFilter(band: band.isEmpty ? nil : band, status: status == "all" ? nil : status,
                                  overdue: overdueOnly, words: words)
        let rows = order.sorted(all.filter { filter.matches($0, today: today) }).map { RiskRow($0, today: today) }

        let sorting = Self.riskSorting.data(order, direction: direction, t: t) { column, descending in
            var parts = ["sort=\(column)", "dir=\(descending ? "desc" : "asc")", "status=\(Self.encoded(status))"]
            if !band.isEmpty { parts.append("band=\(Self.encoded(band))") }
            if !words.isEmpty { parts.append("q=\(Self.encoded(words))") }
            if overdueOnly { parts.append("overdue=1") }
            return "/risks?" + parts.joined(separator: "&")
        }
        let tableRows = riskTableRows(rows)
        let matrix = RiskMatrix(scores: all.filter { $0.status == "open" }.compactMap { $0.value("score").flatMap(RiskScore.init) })
        let data: [String: Any] = HeatMap.data(matrix).merging(sorting) { _, new in new }.merging([
            "rows": tableRows, "hasRows": !rows.isEmpty,
            "countText": t.text("risks_count", String(rows.count), String(all.count)),
            "q": words, "overdueOnly": overdueOnly,
            "statusOptions": SortableColumns.options([("open", t["status_open"]), ("closed", t["status_closed"]), ("all", t["status_all"])], selected: status),
            "bandOptions": SortableColumns.options([("", t["any"])] + RiskScore.Band.allCases.map { ($0.rawValue, $0.rawValue) }, selected: band),
        ]) { _, new in new }
        return page.html("risks", title: t["risks_title"], section: .risks, data: data,
                         flash: query["saved"] == "1" ? t["form_saved"] : nil, conflicts: conflictCount())
    }

    /// The register's rows as HTML, built here rather than by the template: with thousands of
    /// rows, the template engine's lookups of each value cost several times the replica read.
    /// The same markup and escaping as a template's `{{value}}`.
    func riskTableRows(_ rows: [RiskRow]) -> String {
        var html = ""
        html.reserveCapacity(rows.count * 300)
        let labels = RowLabels(t)
        let overdueLabel = " <span class=\"overdue-label\">(" + t["overdue"] + ")</span>"
        // Each cell after the title opens with its column's name, which a phone's narrow screen
        // shows beside it (the stylesheet's `table.cards`).
        let opening = Self.riskColumnLabels.map { "<td" + RowLabels.dataLabel(t[$0]) }
        var statusText: [String: String] = [:]
        for row in rows {
            let view = row.view
            labels.appendTitleCell(of: view, overdue: row.overdue, to: &html)
            html += opening[1] + ">"
            HTMLText.append(view.string("owner") ?? "", to: &html)
            html += "</td>" + opening[2] + ">"
            let category = view.string("category") ?? ""
            HTMLText.append(category.contains("-") ? category.replacingOccurrences(of: "-", with: " ") : category, to: &html)
            html += "</td>" + opening[3] + " class=\"band-"
            HTMLText.append(row.score?.band.rawValue ?? "none", to: &html)
            html += "\">"
            if let score = row.score { HTMLText.append("\(score.score) (\(score.band.rawValue))", to: &html) }
            html += "</td>" + opening[4] + ">"
            let status = view.status ?? ""
            if statusText[status] == nil { statusText[status] = t["status_\(status)"] }
            HTMLText.append(statusText[status]!, to: &html)
            html += "</td>" + opening[5] + ">"
            if let review = view.string("review_date") { HTMLText.append(WalesDates.shown(iso: review), to: &html) }
            if row.overdue { html += overdueLabel }
            html += "</td></tr>\n"
        }
        return html
    }

    static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    // MARK: Action tracker

    /// The tracker sorts by due date first, and by any column but the RAG rating (which the due
    /// date and status make) as the risk register does (scale audit: due date only).
    static let actionSorting = SortableColumns(keys: [.title, .owner, .due, .status], labels: ["field_title", "col_owner", "col_due", "col_status"])

    /// The status filter's choices: what is still to do (the first view), each status, all.
    static let actionStatusChoices = ["outstanding"] + RecordSchema.actionStatuses + ["all"]

    /// Outstanding actions by due date first: after a few years most of a cluster's 2,000 are
    /// done, and the page listed every one (510 KB; the scale audit, forty-ninth session).
    func actionTracker(_ query: FormBody) throws -> Response {
        let today = replica.today
        let status = query["status"].flatMap { Self.actionStatusChoices.contains($0) ? $0 : nil } ?? "outstanding"
        let words = query.trimmed("q")
        let overdueOnly = query["overdue"] == "1"
        // `from`: the actions arising from a meeting or a decision (its page links here), as
        // its page lists them (scale audit: the tracker could not show a meeting's actions).
        let origin = query["from"].flatMap(RecordID.init).flatMap { try? replica.record($0) }
        let sources = try origin.flatMap { try governance().arisingSources(of: $0) }
        let (order, direction) = Self.actionSorting.order(query, standard: .due)
        let all = try register(.action)
        let filter = RecordFilter(status: RecordSchema.actionStatuses.contains(status) ? status : nil, overdue: overdueOnly,
                                  words: words, outstanding: status == "outstanding", source: sources)
        let rows = order.sorted(all.filter { filter.matches($0, today: today) })
        // A heading's link keeps the page's filters, as the risk register's do; the link that
        // stops filtering by a meeting's actions keeps the others and the order.
        func filters(keepingOrigin: Bool = true) -> [String] {
            ["status=\(Self.encoded(status))"] + (words.isEmpty ? [] : ["q=\(Self.encoded(words))"]) + (overdueOnly ? ["overdue=1"] : [])
                + (keepingOrigin ? origin.map { ["from=\($0.id.rawValue)"] } ?? [] : [])
        }
        let sorting = Self.actionSorting.data(order, direction: direction, t: t) { column, descending in
            "/actions?" + (["sort=\(column)", "dir=\(descending ? "desc" : "asc")"] + filters()).joined(separator: "&")
        }
        let statusOptions: [[String: Any]] = Self.actionStatusChoices.map { choice in
            let label = choice == "outstanding" ? t["actions_outstanding"] : choice == "all" ? t["status_all"]
                : choice.prefix(1).uppercased() + choice.dropFirst().replacingOccurrences(of: "-", with: " ")
            return ["optionValue": choice, "optionLabel": label, "selected": choice == status]
        }
        var data: [String: Any] = sorting.merging([
            "rows": actionTableRows(rows, today: today), "hasRows": !rows.isEmpty, "hasActions": !all.isEmpty,
            "countText": t.text("actions_count", String(rows.count), String(all.count)),
            "q": words, "overdueOnly": overdueOnly, "statusOptions": statusOptions,
        ]) { _, new in new }
        if let origin, sources != nil {
            data["from"] = ["id": origin.id.rawValue, "text": t.text("actions_from", origin.name),
                            "clear": "/actions?" + (["sort=\(order.key.rawValue)"] + (direction.map { ["dir=\(Self.encoded($0))"] } ?? [])
                                + filters(keepingOrigin: false)).joined(separator: "&")]
        }
        return page.html("actions", title: t["actions_title"], section: .actions, data: data, conflicts: conflictCount())
    }

    /// The tracker's rows as HTML, built here as the risk register's are (`riskTableRows`).
    func actionTableRows(_ rows: [RecordView], today: CalendarDate) -> String {
        var html = ""
        html.reserveCapacity(rows.count * 300)
        let labels = RowLabels(t)
        // Each cell after the title names its column, which a phone's cards show beside it.
        let owner = RowLabels.dataLabel(t["col_owner"]), due = RowLabels.dataLabel(t["col_due"])
        let status = RowLabels.dataLabel(t["col_status"]), rag = RowLabels.dataLabel(t["col_rag"])
        for view in rows {
            let rating = view.derived(today: today)["rag"]?.stringValue ?? "none"
            labels.appendTitleCell(of: view, to: &html)
            html += "<td" + owner + ">"
            HTMLText.append(view.string("owner") ?? "", to: &html)
            html += "</td><td" + due + ">"
            if let date = view.string("due_date") { HTMLText.append(WalesDates.shown(iso: date), to: &html) }
            html += "</td><td" + status + ">"
            HTMLText.append((view.status ?? "").replacingOccurrences(of: "-", with: " "), to: &html)
            html += "</td><td class=\"rag-"
            HTMLText.append(rating, to: &html)
            html += "\"" + rag + ">"
            HTMLText.append(t["rag_\(rating)"], to: &html)
            html += "</td></tr>\n"
        }
        return html
    }

    // MARK: Adding

    /// Where a record opens: a list on its own page, with its items; any other on the record page.
    static func page(of id: RecordID) -> String {
        id.type == .list ? "/lists/\(id)" : "/records/\(id)"
    }

    static func path(of type: RecordType) -> String {
        switch type {
        case .risk: "/risks"
        case .action: "/actions"
        case .meeting: "/meetings"
        case .decision: "/decisions"
        case .declaration: "/declarations"
        case .terms: "/terms"
        case .plan: "/plans"
        case .contribution: "/contributions"
        case .list, .item: "/lists"
        }
    }

    static func section(of type: RecordType) -> PageRenderer.Section {
        switch type {
        case .risk: .risks
        case .action: .actions
        case .meeting: .meetings
        case .decision: .decisions
        case .declaration: .declarations
        // Terms of reference govern meetings: their pages sit under Meetings.
        case .terms: .meetings
        // Practices' contributions are to the plan (CND015W, CND016W): kept beside it.
        case .plan, .contribution: .plans
        case .list, .item: .lists
        }
    }

    /// `linked`: the links the page that opened the form gave (`RecordForm.links(from:)`);
    /// *Cancel* goes back to that page, also once a *Save* was refused (`return_to`).
    func newForm(_ type: RecordType, typed: FormBody?, problems: [RecordForm.Problem], linked: [String: String] = [:]) -> Response {
        let form = RecordForm.of(type)!
        let path = Self.path(of: type)
        let heading = t["form_new_\(type.rawValue)"]
        // A contribution is most often this practice's, for the QAIF year now: offered, not written.
        let identity = try? replica.identity()
        let suggested = type == .contribution
            ? ["contributor": identity?.practice ?? "", "year": QAIFYear(containing: replica.today).description] : linked
        let back = linked.count == 1 ? linked.values.first : typed?["return_to"].flatMap { RecordID($0)?.rawValue }
        let cancel = back.map { "/records/\($0)" } ?? path
        var data = form.data(heading: heading, action: path, cancel: cancel, values: { typed?[$0] ?? suggested[$0] ?? "" }, problems: problems, t: t,
                             hints: leadOnlyHints(type), suggestions: nameSuggestions(type),
                             records: { self.linkable($0, listKind: $1) })
        // A practice's own record of any type, which nobody else sees, as the CLI's `add --private`
        // (web app audits: the app made shared records only, then only risks to declarations).
        // Chosen when made: a scope never changes.
        data["privateChoice"] = true
        if let back { data["returnTo"] = back }
        data["privateChecked"] = typed?["private"] == "yes"
        return page.html("form", title: heading, section: Self.section(of: type), data: data,
                         conflicts: conflictCount(), status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    func create(_ type: RecordType, form: FormBody) throws -> Response {
        let recordForm = RecordForm.of(type)!
        let (read, outcome) = recordForm.edits(from: form, current: nil, today: replica.today, t: t, records: { self.linkable($0, listKind: $1) })
        switch outcome {
        case .refused(let problems):
            return newForm(type, typed: read, problems: problems)
        case .accepted(let edits):
            do {
                let id = try replica.add(type, private: form["private"] == "yes", edits: edits)
                return .redirect(to: "/records/\(id.rawValue)?saved=1")
            } catch let error as ClusterSyncError where error.isUserError {
                return newForm(type, typed: read, problems: [recordForm.problem(error)])
            }
        }
    }
}

/// What a register's hand-built rows share: the title cell, marked private or in conflict as
/// `risk list` marks them, and each other cell's column name for a phone's cards.
struct RowLabels {
    let privateLabel: String
    let conflictLabel: String

    init(_ t: Catalogue) {
        // A practice's own record, which nobody else sees (web app audit).
        privateLabel = " <span class=\"private-label\">(" + t["record_private_short"] + ")</span>"
        conflictLabel = " <span class=\"conflict-label\">(" + t["has_conflict"] + ")</span>"
    }

    /// A row's opening and its title cell: the record's name, linking to its page.
    func appendTitleCell(of view: RecordView, overdue: Bool = false, to html: inout String) {
        html += overdue ? "<tr class=\"overdue\"><td><a href=\"/records/" : "<tr><td><a href=\"/records/"
        HTMLText.append(view.id.rawValue, to: &html)
        html += "\">"
        HTMLText.append(view.name, to: &html)
        html += "</a>"
        if view.scope.practice != nil { html += privateLabel }
        if !view.conflicts.isEmpty { html += conflictLabel }
        html += "</td>"
    }

    /// ` data-label="…"`: a cell's column name, escaped.
    static func dataLabel(_ label: String) -> String {
        var attribute = " data-label=\""
        HTMLText.append(label, to: &attribute)
        return attribute + "\""
    }
}
