import ClusterSyncClient
import ClusterSyncCore
import Hummingbird

/// The cluster's governance report for the Health Board or a PCPG board paper (guide §3.11), as
/// `clustersync report --html` writes it: one self-contained HTML file, downloaded to print or
/// save as PDF. Offered on a practice's replica, whose cluster it reports; a read-only replica
/// holds roll-ups, not a cluster's registers.
extension Pages {
    func registerReportPage(on router: Router<BasicRequestContext>) {
        guard !page.readOnly else { return }
        router.get("/report") { request, _ in self.reportPage(period: self.query(request)["period"], problem: nil) }
        router.get("/report/download") { request, _ in
            let typed = self.query(request).trimmed("period")
            // An empty box is the current financial year, as the page first offers it.
            guard let period = typed.isEmpty ? ReportPeriod(year: FinancialYear(containing: self.replica.today)) : ReportPeriod(typed) else {
                let reason = ReportPeriod.problem(typed).map { self.t.text("report_period_no_day", typed, $0) }
                return self.reportPage(period: typed, problem: reason ?? self.t.text("report_period_unread", typed))
            }
            let report: BoardReport
            do {
                report = try self.replica.boardReport(period: period)
            } catch let error as ClusterSyncError where error.isUserError {
                return self.reportPage(period: typed, problem: error.message)
            }
            // The file carries its own styles: served as a download, never as one of this app's
            // pages (whose policy allows no inline style).
            return self.download(try BoardReportHTML.render(report), type: "text/html",
                                 name: "clustersync-report-\(report.cluster)-\(period.description.replacingOccurrences(of: "..", with: "-to-")).html")
        }
    }

    func reportPage(period: String?, problem: String?) -> Response {
        let current = FinancialYear(containing: replica.today).description
        var data: [String: Any] = ["period": period ?? current, "current": current]
        if let problem { data["error"] = problem }
        return page.html("report", title: t["report_title"], section: .rollup, data: data, conflicts: conflictCount(),
                         status: problem == nil ? .ok : .unprocessableContent)
    }

    static let reportTemplate = """
    <h1>{{t.report_title}}</h1>
    <p>{{t.report_intro}}</p>
    <form method="get" action="/report/download">
    <div class="field"><label for="period">{{t.report_period}}</label>
    <p class="hint" id="h-period">{{t.report_period_hint}}</p>
    {{#error}}<p class="error" id="e-period"><span class="visually-hidden">{{t.form_error_title}}:</span> {{error}}</p>{{/error}}
    <input type="text" id="period" name="period" value="{{period}}" aria-describedby="h-period{{#error}} e-period{{/error}}"{{#error}} aria-invalid="true" autofocus{{/error}}></div>
    <button type="submit">{{t.report_download}}</button>
    </form>
    """
}
