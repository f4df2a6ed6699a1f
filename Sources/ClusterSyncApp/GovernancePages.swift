import ClusterSyncClient
import ClusterSyncCore
import Hummingbird

/// Meetings, the decision log and the declarations of interest register: tables of their
/// records; each record opens on the shared record page (a meeting's with its attendance form).
extension Pages {
    func registerGovernancePages(on router: Router<BasicRequestContext>) {
        router.get("/meetings") { request, _ in
            try self.governanceRegister(self.query(request), .meeting, columns: ["field_body", "field_date", "field_status", "col_attendance"],
                                        also: [["href": "/terms", "label": self.t["terms_title"]]]
                                            + (self.page.readOnly ? [] : [["href": "/attendance", "label": self.t["attendance_title"]],
                                                                          // A board paper is written after a meeting: reached from here too (chair's audit).
                                                                          ["href": "/report", "label": self.t["report_title"]]])) { view in
                [self.choice(view, "body"), self.date(view, "date"), self.choice(view, "status"), String(view.members("attendees").count)]
            }
        }
        router.get("/terms") { request, _ in
            let today = self.replica.today
            let governance = try self.governance()
            return try self.governanceRegister(self.query(request), .terms, columns: ["field_body", "field_date_agreed", "field_review_date", "col_in_force"],
                                               overdue: { governance.isOverdue($0, today: today) }) { view in
                let inForce = governance.termsInForce(body: view.string("body") ?? "", on: today)?.id == view.id
                // A review past due shows so, as on the record's page and in the roll-up.
                let review = self.date(view, "review_date") + (governance.isOverdue(view, today: today) ? " (" + self.t["overdue"] + ")" : "")
                return [self.choice(view, "body"), self.date(view, "date_agreed"), review, self.t[inForce ? "yes" : "no"]]
            }
        }
        router.get("/decisions") { request, _ in
            // The meeting that took each, and how many of its checks need a look (an inquorate
            // meeting, a vote by a non-member…): the log said neither (web app audit).
            let governance = try self.governance(listing: .decision)
            // What needs a look, in words (the scale audit: a bare count, and no way to list
            // only those), and a choice to list only the decisions with any. Each decision's
            // worked out once, and each record its words name read once, for the whole page.
            var looked: [RecordID: [String]] = [:]
            var names: [RecordID: String?] = [:]
            func looks(_ view: RecordView) -> [String] {
                if let known = looked[view.id] { return known }
                let found = governance.checks(of: view).filter(\.needsAttention).map(\.text)
                looked[view.id] = found
                return found
            }
            func name(_ id: RecordID) -> String? {
                if let known = names[id] { return known }
                let found = self.checkName(id)
                names[id] = found
                return found
            }
            return try self.governanceRegister(self.query(request), .decision, columns: ["field_date", "field_meeting", "field_method", "field_outcome", "check_check"],
                                               narrowing: Narrowing(label: self.t["decisions_needing_look"], count: "decisions_needing_look_count", keeps: { !looks($0).isEmpty })) { view in
                // The governance's own (a read of the file for each row cost as much as the row); a
                // deleted meeting, which it leaves out, from the file.
                let meeting = governance.meeting(view.string("meeting"))?.name
                    ?? view.reference("meeting").flatMap { try? self.replica.record($0) }?.name ?? ""
                return [self.date(view, "date"), meeting, self.choice(view, "method"), self.choice(view, "outcome"), looks(view).map { self.namedRecords(in: $0, name: name) }.joined(separator: "; ")]
            }
        }
        router.get("/plans") { request, _ in
            // A read-only replica holds the plans of every cluster it covers: each says whose.
            let clusters = self.page.readOnly
            return try self.governanceRegister(self.query(request), .plan, columns: (clusters ? ["col_cluster"] : []) + ["field_period_start", "field_period_end", "field_status"],
                                               also: clusters ? [] : [["href": "/contributions", "label": self.t["contributions_title"]]]) { view in
                (clusters ? [view.scope.cluster] : []) + [self.date(view, "period_start"), self.date(view, "period_end"), self.choice(view, "status")]
            }
        }
        router.get("/contributions") { request, _ in
            let today = self.replica.today
            return try self.governanceRegister(self.query(request), .contribution, columns: ["field_year", "field_date", "field_plan", "col_on_time"],
                                               also: [["href": "/plans", "label": self.t["plans_title"]]]) { view in
                let onTime = view.derived(today: today)["on_time"]?.boolValue
                let plan = view.reference("plan").flatMap { try? self.replica.record($0) }?.name ?? ""
                return [view.string("year") ?? "", self.date(view, "date"), plan, onTime.map { self.t[$0 ? "yes" : "no"] } ?? ""]
            }
        }
        router.get("/attendance") { request, _ in try self.attendancePage(self.query(request)) }
        router.get("/declarations") { request, _ in
            let today = self.replica.today
            return try self.governanceRegister(self.query(request), .declaration, columns: ["field_organisation", "field_nature", "field_date_declared", "col_in_force"]) { view in
                let inForce = view.derived(today: today)["in_force"]?.boolValue
                return [view.string("organisation") ?? "", self.choice(view, "nature"), self.date(view, "date_declared"),
                        inForce.map { self.t[$0 ? "yes" : "no"] } ?? ""]
            }
        }
    }

    func choice(_ view: RecordView, _ field: String) -> String {
        (view.string(field) ?? "").replacingOccurrences(of: "-", with: " ")
    }

    func date(_ view: RecordView, _ field: String) -> String {
        view.string(field).map { WalesDates.shown(iso: $0) } ?? ""
    }

    /// `also`: links to related pages shown beside the add button (the terms of reference from
    /// the meetings).
    /// `overdue`: whether a row is highlighted as the risk register highlights a review past due.
    /// `query`: `all=1` lists every record; otherwise the latest `registerPageRows`, with a link
    /// to the rest (a cluster's years of decisions made the log a 430 KB page of 3 s).
    /// A register's choice to list only some of its records (`only=1`): the decisions that need
    /// a look. The latest cut applies after it.
    struct Narrowing {
        var label: String
        /// Catalogue key of how many are kept of how many ({1} of {2}).
        var count: String
        var keeps: (RecordView) -> Bool
    }

    func governanceRegister(_ query: FormBody, _ type: RecordType, columns: [String], also: [[String: String]] = [],
                            narrowing: Narrowing? = nil,
                            overdue: (RecordView) -> Bool = { _ in false }, cells: (RecordView) -> [String]) throws -> Response {
        // Each cell carries its column's name, which a phone's narrow screen shows beside it.
        let labels = columns.map { t[$0] }
        let narrowed = narrowing != nil && query["only"] == "1"
        let every = try replica.register(type, order: RecordOrder(.date))
        let all = narrowed ? every.filter(narrowing!.keeps) : every
        // Only a register of dated events lists its latest: terms of reference (agreed on
        // `date_agreed`) and plans (a period) are ordered by name, and a declaration declared
        // years ago may be in force today (a chair reads the register for those).
        let byDay: Set<RecordType> = [.meeting, .decision, .contribution]
        let shown = query["all"] == "1" || !byDay.contains(type) ? all : Self.latestDays(of: all)
        let rows: [[String: Any]] = shown.map { view in
            ["id": view.id.rawValue, "name": view.name, "conflict": !view.conflicts.isEmpty, "overdue": overdue(view),
             "cells": zip(labels, cells(view)).map { ["label": $0, "value": $1] }]
        }
        let plural = Self.path(of: type).dropFirst()
        var data: [String: Any] = [
            "heading": t["\(plural)_title"], "newPath": "\(Self.path(of: type))/new", "addLabel": t["\(plural)_add"],
            "columns": [t[Self.firstColumn(of: type)]] + labels, "rows": rows, "also": also,
        ]
        if shown.count < all.count {
            data["partial"] = ["text": t.text("register_latest", String(shown.count), String(all.count)),
                               "href": "\(Self.path(of: type))?all=1" + (narrowed ? "&only=1" : ""), "label": t.text("register_show_all", String(all.count))]
        }
        if let narrowing {
            data["narrowing"] = ["label": narrowing.label, "checked": narrowed, "action": Self.path(of: type),
                                 "count": narrowed ? t.text(narrowing.count + (all.count == 1 ? "_one" : ""), String(all.count), String(every.count)) : ""]
        }
        return page.html("register", title: t["\(plural)_title"], section: Self.section(of: type), data: data, conflicts: conflictCount())
    }

    /// How many of a governance register's records its page lists before "Show all".
    static let registerPageRows = 200

    /// The first `registerPageRows` of a register ordered newest first, and the rest of the
    /// last day they reach: a meeting's decisions share its day, and a cut inside it showed some
    /// of them as if they were all (the scale audit of the decision log).
    static func latestDays(of all: [RecordView]) -> [RecordView] {
        guard all.count > registerPageRows else { return all }
        let lastDay = all[registerPageRows - 1].string("date")
        var end = registerPageRows
        while end < all.count, lastDay != nil, all[end].string("date") == lastDay { end += 1 }
        return Array(all[..<end])
    }

    /// What a register's first column names its records by.
    static func firstColumn(of type: RecordType) -> String {
        switch type {
        case .declaration: "field_member"
        case .contribution: "field_contributor"
        default: "field_title"
        }
    }

    /// GP Collaborative attendance in a QAIF year against CND014W's four meetings, as
    /// `clustersync attendance` reports it (`AttendanceReport`).
    func attendancePage(_ query: FormBody) throws -> Response {
        let typed = query.trimmed("year")
        let year = QAIFYear(typed)
        let report: AttendanceReport
        do {
            report = try replica.attendance(year: year)
        } catch let error as ClusterSyncError where error.code == .forbiddenScope {
            // A PCPG's or Health Board's replica: its Roll-up has each cluster's attendance.
            return page.message(status: .forbidden, title: t["attendance_title"], body: t["attendance_read_only"])
        }
        let rows: [[String: Any]] = report.practices.map { row in
            let status = switch row.status { case .met: "attendance_met"; case .canReach: "attendance_can_reach"; case .cannotReach: "attendance_cannot_reach" }
            return ["practice": row.practice, "attended": String(row.attended.count), "needed": String(row.needed),
                    "status": t[status], "statusClass": row.status.rawValue, "red": row.status == .cannotReach,
                    "notCounted": row.notCounted.map { "\($0.name): \($0.reason)" }.joined(separator: "; ")]
        }
        var data: [String: Any] = [
            "heading": t.text("attendance_heading", report.year.description),
            "period": t.text("attendance_period", WalesDates.shown(report.year.first), WalesDates.shown(report.year.last),
                             meetings(report.held.count), meetings(report.left.count), String(AttendanceReport.minimum)),
            // A year typed wrongly stays in its box beside what is wrong with it.
            "year": !typed.isEmpty && year == nil ? typed : report.year.description, "rows": rows, "hasRows": !rows.isEmpty,
        ]
        if !typed.isEmpty, year == nil { data["yearError"] = t.text("attendance_year_unread", typed) }
        // Nothing left scheduled in a year still running: every practice short of four reads as
        // red until the rest of the year is scheduled, which nothing said (web app audit).
        if report.left.isEmpty, replica.today <= report.year.last, report.practices.contains(where: { $0.status == .cannotReach }) {
            data["scheduleHint"] = t["attendance_schedule_hint"]
        }
        func meetings(_ n: Int) -> String { n == 1 ? t["attendance_meetings_one"] : t.text("attendance_meetings", String(n)) }
        return page.html("attendance", title: t.text("attendance_heading", report.year.description), section: .meetings, data: data,
                         conflicts: conflictCount())
    }
}
