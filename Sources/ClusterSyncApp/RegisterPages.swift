import ClusterSyncClient
import ClusterSyncCore
import Foundation
import Hummingbird

/// The risk register and the action tracker: their tables, and the forms that add to them.
extension Pages {
    func registerRiskPages(on router: Router<BasicRequestContext>) {
        router.get("/risks") { request, _ in try self.riskRegister(self.query(request)) }
        router.get("/actions") { _, _ in try self.actionTracker() }
        for type in [RecordType.risk, .action, .meeting, .decision, .declaration] {
            let path = Self.path(of: type)
            router.get("\(path)/new") { _, _ in self.newForm(type, typed: nil, problems: []) }
            router.post(RouterPath(path)) { request, _ in
                guard let form = try await self.posted(request) else { return self.expired() }
                return try self.create(type, form: form)
            }
        }
    }

    // MARK: Risk register

    struct RiskRow {
        var view: RecordView
        var title: String
        var score: RiskScore?
        var overdue: Bool
        var status: String
        /// Sort keys, folded once: comparing with the locale's rules for every pair is slow.
        var titleKey: String
        var sortKey: String
    }

    static let riskColumns = ["title", "owner", "category", "score", "status", "review"]
    static let riskColumnLabels = ["col_title", "col_owner", "col_category", "col_score", "col_status", "col_review"]

    func riskRegister(_ query: FormBody) throws -> Response {
        let today = replica.today
        let status = query["status"] ?? "open"
        let band = query["band"] ?? ""
        let words = query.trimmed("q").lowercased()
        let overdueOnly = query["overdue"] == "1"
        let sort = Self.riskColumns.contains(query["sort"] ?? "") ? query["sort"]! : "score"
        let descending = (query["dir"] ?? (sort == "score" ? "desc" : "asc")) == "desc"

        let all = try replica.records(.risk).filter { !$0.isDeleted }.map { view in
            let title = Self.title(of: view)
            let textKey = sort == "title" ? nil : ["owner", "category", "status"].contains(sort) ? view.string(sort) ?? "" : nil
            return RiskRow(view: view, title: title, score: view.value("score").flatMap(RiskScore.init),
                           overdue: view.derived(today: today)["review_overdue"]?.boolValue ?? false,
                           status: view.string("status") ?? "open",
                           titleKey: HTMLText.sortKey(title), sortKey: textKey.map(HTMLText.sortKey) ?? "")
        }

        var rows = all.filter { row in
            (status == "all" || row.status == status)
                && (band.isEmpty || row.score?.band.rawValue == band)
                && (!overdueOnly || row.overdue)
                && (words.isEmpty || [row.title, row.view.string("owner") ?? "", row.view.string("category") ?? ""]
                    .contains { $0.lowercased().contains(words) })
        }
        rows.sort { a, b in
            let ordered: Bool? = switch sort {
            case "score": (a.score?.score ?? 0) == (b.score?.score ?? 0) ? nil : (a.score?.score ?? 0) < (b.score?.score ?? 0)
            case "review": (a.view.string("review_date") ?? "9999") == (b.view.string("review_date") ?? "9999")
                ? nil : (a.view.string("review_date") ?? "9999") < (b.view.string("review_date") ?? "9999")
            case "title": Self.compare(a.titleKey, b.titleKey)
            default: Self.compare(a.sortKey, b.sortKey)
            }
            guard let ordered else { return a.titleKey < b.titleKey }
            return descending ? !ordered : ordered
        }

        func link(sort column: String, descending: Bool) -> String {
            var parts = ["sort=\(column)", "dir=\(descending ? "desc" : "asc")", "status=\(Self.encoded(status))"]
            if !band.isEmpty { parts.append("band=\(Self.encoded(band))") }
            if !words.isEmpty { parts.append("q=\(Self.encoded(query.trimmed("q")))") }
            if overdueOnly { parts.append("overdue=1") }
            return "/risks?" + parts.joined(separator: "&")
        }
        let columns: [[String: Any]] = zip(Self.riskColumns, Self.riskColumnLabels).map { column, label in
            var entry: [String: Any] = [
                "label": t[label], "sortLabel": t.text("sort_by", t[label].lowercased()),
                "href": link(sort: column, descending: column == sort ? !descending : column == "score"),
            ]
            if column == sort {
                entry["ariaSort"] = descending ? "descending" : "ascending"
                entry["arrow"] = descending ? "▼" : "▲"
            }
            return entry
        }
        let tableRows = riskTableRows(rows)
        let matrix = RiskMatrix(scores: all.filter { $0.status == "open" }.compactMap(\.score))
        func options(_ values: [(String, String)], selected: String) -> [[String: Any]] {
            values.map { ["optionValue": $0.0, "optionLabel": $0.1, "selected": $0.0 == selected] }
        }
        let data: [String: Any] = HeatMap.data(matrix).merging([
            "columns": columns, "rows": tableRows, "hasRows": !rows.isEmpty,
            "countText": t.text("risks_count", String(rows.count), String(all.count)),
            "q": query.trimmed("q"), "sort": sort, "dir": descending ? "desc" : "asc", "overdueOnly": overdueOnly,
            "statusOptions": options([("open", t["status_open"]), ("closed", t["status_closed"]), ("all", t["status_all"])], selected: status),
            "bandOptions": options([("", t["any"])] + RiskScore.Band.allCases.map { ($0.rawValue, $0.rawValue) }, selected: band),
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
        let conflictLabel = " <span class=\"conflict-label\">(" + t["has_conflict"] + ")</span>"
        let overdueLabel = " <span class=\"overdue-label\">(" + t["overdue"] + ")</span>"
        var statusText: [String: String] = [:]
        for row in rows {
            let view = row.view
            html += row.overdue ? "<tr class=\"overdue\"><td><a href=\"/records/" : "<tr><td><a href=\"/records/"
            HTMLText.append(view.id.rawValue, to: &html)
            html += "\">"
            HTMLText.append(row.title, to: &html)
            html += "</a>"
            if !view.conflicts.isEmpty { html += conflictLabel }
            html += "</td><td>"
            HTMLText.append(view.string("owner") ?? "", to: &html)
            html += "</td><td>"
            let category = view.string("category") ?? ""
            HTMLText.append(category.contains("-") ? category.replacingOccurrences(of: "-", with: " ") : category, to: &html)
            html += "</td><td class=\"band-"
            HTMLText.append(row.score?.band.rawValue ?? "none", to: &html)
            html += "\">"
            if let score = row.score { HTMLText.append("\(score.score) (\(score.band.rawValue))", to: &html) }
            html += "</td><td>"
            if statusText[row.status] == nil { statusText[row.status] = t["status_\(row.status)"] }
            HTMLText.append(statusText[row.status]!, to: &html)
            html += "</td><td>"
            if let review = view.string("review_date") { HTMLText.append(WalesDates.shown(iso: review), to: &html) }
            if row.overdue { html += overdueLabel }
            html += "</td></tr>\n"
        }
        return html
    }

    static func compare(_ a: String, _ b: String) -> Bool? {
        a == b ? nil : a < b
    }

    static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    // MARK: Action tracker

    func actionTracker() throws -> Response {
        let today = replica.today
        let rows: [[String: Any]] = try replica.records(.action).filter { !$0.isDeleted }
            .sorted { ($0.string("due_date") ?? "9999") < ($1.string("due_date") ?? "9999") }
            .map { view in
                let rag = view.derived(today: today)["rag"]?.stringValue ?? "none"
                return [
                    "id": view.id.rawValue, "title": Self.title(of: view), "owner": view.string("owner") ?? "",
                    "due": view.string("due_date").map { WalesDates.shown(iso: $0) } ?? "",
                    "status": (view.string("status") ?? "").replacingOccurrences(of: "-", with: " "),
                    "rag": rag, "ragText": t["rag_\(rag)"], "conflict": !view.conflicts.isEmpty,
                ]
            }
        return page.html("actions", title: t["actions_title"], section: .actions, data: ["rows": rows], conflicts: conflictCount())
    }

    // MARK: Adding

    static func path(of type: RecordType) -> String {
        switch type {
        case .risk: "/risks"
        case .action: "/actions"
        case .meeting: "/meetings"
        case .decision: "/decisions"
        case .declaration: "/declarations"
        case .list, .item: "/lists"
        default: "/risks"
        }
    }

    static func section(of type: RecordType) -> PageRenderer.Section {
        switch type {
        case .risk: .risks
        case .action: .actions
        case .meeting: .meetings
        case .decision: .decisions
        case .declaration: .declarations
        case .list, .item: .lists
        default: .none
        }
    }

    func newForm(_ type: RecordType, typed: FormBody?, problems: [RecordForm.Problem]) -> Response {
        let form = RecordForm.of(type)!
        let path = Self.path(of: type)
        let heading = t["form_new_\(type.rawValue)"]
        let data = form.data(heading: heading, action: path, cancel: path, values: { typed?[$0] ?? "" }, problems: problems, t: t)
        return page.html("form", title: heading, section: Self.section(of: type), data: data,
                         conflicts: conflictCount(), status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    func create(_ type: RecordType, form: FormBody) throws -> Response {
        let recordForm = RecordForm.of(type)!
        switch recordForm.edits(from: form, current: nil, today: replica.today, t: t) {
        case .refused(let problems):
            return newForm(type, typed: form, problems: problems)
        case .accepted(let edits):
            do {
                let id = try replica.add(type, edits: edits)
                return .redirect(to: "/records/\(id.rawValue)?saved=1")
            } catch let error as ClusterSyncError where error.isUserError {
                return newForm(type, typed: form, problems: [recordForm.problem(error)])
            }
        }
    }
}
