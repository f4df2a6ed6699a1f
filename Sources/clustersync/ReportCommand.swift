import ArgumentParser
import ClusterSyncApp
import ClusterSyncClient
import ClusterSyncCore
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the cluster's governance report for the Health Board or a PCPG board paper as one HTML file.",
        discussion: """
            The file is self-contained (inline CSS and SVG, nothing fetched) and prints to A4: key figures, the 5x5 heat \
            map, open risks by band month by month, actions by RAG, what is overdue, progress against the cluster plan, the \
            meetings of the period with their quorum, decisions taken in the period with what needs a look in each, risks \
            closed in the period with their lessons learned, lessons learned in the period on risks still open, GP Collaborative attendance against CND014W, \
            practices' contributions to the cluster plan (CND015W), the declarations \
            of interest in force, and risks escalated to the PCPG or Health Board in full. Only records shared with the \
            cluster are used. A period that has ended is reported as its records stood on its last day. Open the file in a \
            browser; print it or save it as PDF from there.
            """)

    @OptionGroup var replica: ReplicaOptions
    @Option(help: ArgumentHelp("Where to write the report.", valueName: "file.html")) var html: String
    @Option(help: ArgumentHelp("A financial year (2026-27, 1 April to 31 March; default: the current one) or two dates, "
                               + "FIRST..LAST or \"FIRST to LAST\" (2026-04-01..2026-09-30, \"01/04/2026 to 30/09/2026\").",
                               valueName: "YYYY-YY|FIRST..LAST"))
    var period: String?

    func run() throws {
        var reportPeriod: ReportPeriod?
        if let period {
            guard let parsed = ReportPeriod(period) else {
                if let reason = ReportPeriod.problem(period) { throw ValidationError("--period \(period) is not a period: \(reason)") }
                throw ValidationError("--period must be a financial year like 2026-27 or two dates like 2026-04-01..2026-09-30 (first not after last); got \(period)")
            }
            reportPeriod = parsed
        }
        let report = try replica.open().boardReport(period: reportPeriod)
        let page = try BoardReportHTML.render(report)
        try Self.refuseToOverwrite(html, replica: replica.path)
        do {
            try Data(page.utf8).write(to: URL(fileURLWithPath: html), options: .atomic)
        } catch {
            throw ClusterSyncError(.invalidValue, "cannot write the report to \(html): \(error.localizedDescription)", field: "html")
        }
        Output.print("wrote \(html): \(report.cluster), \(report.period.first) to \(report.period.last), figures as at \(report.asOf)")
    }

    /// A report replaces an earlier one (an HTML file) but nothing else: `--html` naming the
    /// replica (or any file that is not HTML) overwrote it, and with it every change not yet
    /// synced.
    static func refuseToOverwrite(_ target: String, replica: String) throws {
        let resolved = URL(fileURLWithPath: target).standardizedFileURL.resolvingSymlinksInPath().path
        let replicaPath = URL(fileURLWithPath: replica).standardizedFileURL.resolvingSymlinksInPath().path
        guard ![replicaPath, replicaPath + "-wal", replicaPath + "-shm"].contains(resolved) else {
            throw ClusterSyncError(.invalidValue, "--html names the replica file \(replica): give the report a file of its own, such as report.html", field: "html")
        }
        guard let handle = FileHandle(forReadingAtPath: resolved) else { return }
        defer { try? handle.close() }
        let start = String(decoding: (try? handle.read(upToCount: 512)) ?? Data(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard start.isEmpty || start.hasPrefix("<!doctype html") || start.hasPrefix("<html") else {
            throw ClusterSyncError(.invalidValue, "\(target) exists and is not an HTML file; a report replaces only an earlier report: choose another name",
                                   field: "html")
        }
    }
}
