import ClusterSyncClient
import ClusterSyncCore
import Mustache

/// The board report as one self-contained HTML file: inline CSS and SVG, nothing fetched, no
/// script; prints to A4. Rendered with the app's Mustache library (every `{{value}}` escaped),
/// the heat map with the app's own partial and colours. Charts are SVG drawn here from numbers
/// and fixed words only; every chart has a table or text beside it with the same figures.
public enum BoardReportHTML {
    public static func render(_ report: BoardReport, catalogue t: Catalogue = .english) throws -> String {
        var library = MustacheLibrary()
        try library.register(BoardReportTemplate.page, named: "report")
        try library.register(HeatMap.template, named: "heatmap")
        return library.render(data(report, t), withTemplate: "report") ?? ""
    }

    static func shown(_ date: CalendarDate?) -> String { date.map(WalesDates.shown) ?? "" }

    static func scoreText(_ value: JSONValue?) -> String {
        guard let score = value.flatMap(RiskScore.init) else { return "" }
        return "\(score.likelihood)x\(score.consequence) = \(score.score) (\(score.band.rawValue))"
    }

    static func data(_ report: BoardReport, _ t: Catalogue) -> [String: Any] {
        let r = report.rollup
        let open = r.risks.byStatus["open"] ?? 0
        let met = report.attendance.practices.filter { $0.status == .met }.count
        let tiles: [[String: Any]] = [
            ["value": String(open), "label": "open risks", "tone": "plain"],
            ["value": String(r.risks.byBand["extreme"] ?? 0), "label": "extreme (15–25)", "tone": (r.risks.byBand["extreme"] ?? 0) > 0 ? "extreme" : "plain"],
            ["value": String(r.risks.reviewOverdue), "label": "risk reviews overdue", "tone": r.risks.reviewOverdue > 0 ? "high" : "plain"],
            ["value": String(r.actions.overdue), "label": "actions overdue", "tone": r.actions.overdue > 0 ? "high" : "plain"],
            ["value": String(report.decisions.count), "label": "decisions in the period", "tone": "plain"],
            ["value": "\(met) of \(report.attendance.practices.count)", "label": "practices at \(AttendanceReport.minimum)+ GP Collaborative meetings",
             "tone": met < report.attendance.practices.count ? "high" : "low"],
        ]
        let bands = RiskScore.Band.allCases.reversed().map(\.rawValue)
        let ragOrder = ["red", "amber", "green", "blue", "none"]
        let ragWords = ["red": "red: overdue", "amber": "amber: due within 14 days", "green": "green: on track", "blue": "blue: complete", "none": "cancelled"]
        var data: [String: Any] = HeatMap.data(r.risks.matrix)
        data["t"] = t.strings
        data["css"] = Stylesheet.palette + BoardReportTemplate.css
        data["tenant"] = report.tenant
        data["cluster"] = report.cluster
        data["period"] = report.period.description
        data["from"] = shown(report.period.first)
        data["to"] = shown(report.period.last)
        data["asOf"] = shown(report.asOf)
        data["made"] = shown(report.made)
        data["tiles"] = tiles
        data["bandRows"] = (bands + ["unscored"]).map { b -> [String: Any] in ["band": b, "count": String(r.risks.byBand[b] ?? 0)] }
        data["closed"] = String(r.risks.byStatus["closed"] ?? 0)
        data["escalationPCPG"] = String(r.risks.escalation["pcpg"] ?? 0)
        data["escalationHB"] = String(r.risks.escalation["health-board"] ?? 0)
        data["trendSVG"] = Charts.bandsOverTime(report.bandsByMonth)
        data["trendRows"] = report.bandsByMonth.map { month -> [String: Any] in
            let name: String = WalesDates.monthNames[month.monthEnd.month - 1] + " " + String(month.monthEnd.year)
            let cells: [String] = bands.map { String(month.counts[$0] ?? 0) }
            return ["month": name, "cells": cells]
        }
        data["ragSVG"] = Charts.stackedBar(ragOrder.map { (key: $0, count: r.actions.byRAG[$0] ?? 0) }, cssPrefix: "rag")
        data["ragRows"] = ragOrder.map { key -> [String: Any] in ["rag": key, "words": ragWords[key]!, "count": String(r.actions.byRAG[key] ?? 0)] }
        data["actionsTotal"] = String(r.actions.total)
        data["overdue"] = report.overdue.map(overdueRow)
        data["hasOverdue"] = !report.overdue.isEmpty
        let governance = GovernanceRecords(report.decisions)
        data["decisions"] = report.decisions.map { d -> [String: Any] in
            let outcome: String = d.string("outcome") ?? "not recorded"
            let amount: String = d.string("amount").map(Amount.shown) ?? ""
            return ["title": d.string("title") ?? "", "date": shown(d.date("date") ?? governance.date(of: d)),
                    "method": d.string("method") ?? "", "outcome": outcome, "outcomeClass": d.string("outcome") ?? "none", "amount": amount,
                    "checks": (report.decisionChecks[d.id] ?? []).map { WalesDates.shown(inText: $0) }]
        }
        data["plans"] = report.plans.map { entry -> [String: Any] in
            let plan = entry.plan
            let period = [plan.date("period_start"), plan.date("period_end")].map { $0.map(shown) ?? "…" }.joined(separator: " to ")
            return ["title": plan.string("title") ?? "", "period": period, "status": plan.string("status") ?? "",
                    "risks": String(plan.members("risks").count), "actions": String(plan.members("actions").count),
                    "decisions": String(plan.members("decisions").count), "hasPriorities": !entry.priorities.isEmpty,
                    "priorities": entry.priorities.map { item -> [String: Any] in
                        ["text": item.string("text") ?? "", "measure": item.string("measure") ?? "", "owner": item.string("owner") ?? "",
                         "done": item.value("done") == .bool(true) ? "yes" : "no"]
                    }]
        }
        data["hasPlans"] = !report.plans.isEmpty
        data["meetings"] = report.meetings.map { entry -> [String: Any] in
            let m = entry.meeting
            // Judged only for a held meeting under terms that set a quorum; a dash otherwise.
            let judged = m.string("status") == "held" && entry.quorum.required != nil
            return ["date": shown(m.date("date")), "title": m.string("title") ?? "", "body": m.string("body") ?? "",
                    "status": m.string("status") ?? "", "quorum": judged ? WalesDates.shown(inText: entry.quorum.words) : "—",
                    "inquorate": judged && entry.quorum.met == false]
        }
        data["hasMeetings"] = !report.meetings.isEmpty
        data["declarations"] = report.declarations.map { d -> [String: Any] in
            ["member": d.string("member") ?? "", "organisation": d.string("organisation") ?? "", "nature": d.string("nature") ?? "",
             "declared": shown(d.date("date_declared")), "withdrawn": d.date("date_withdrawn").map(shown) ?? "",
             "dispensation": d.string("dispensation") ?? ""]
        }
        data["hasDeclarations"] = !report.declarations.isEmpty
        data["hasDecisions"] = !report.decisions.isEmpty
        data["decisionCounts"] = DecisionCounts.outcomes.map { o -> [String: Any] in
            let n = report.decisions.filter { ($0.string("outcome") ?? "none") == o }.count
            return ["outcome": o == "none" ? "not recorded" : o, "count": String(n)]
        }
        data["closedRisks"] = report.closedRisks.map { closed -> [String: Any] in
            let lessons = closed.risk.string("lessons_learned") ?? ""
            return ["date": shown(closed.closedOn), "title": closed.risk.name, "owner": closed.risk.string("owner") ?? "",
                    "lessons": lessons, "noLessons": lessons.isEmpty]
        }
        data["hasClosedRisks"] = !report.closedRisks.isEmpty
        data["openLessons"] = report.lessonsFromOpenRisks.map { open -> [String: Any] in
            ["date": shown(open.writtenOn), "title": open.risk.name, "owner": open.risk.string("owner") ?? "",
             "lessons": open.risk.string("lessons_learned") ?? ""]
        }
        data["hasOpenLessons"] = !report.lessonsFromOpenRisks.isEmpty
        // The year whose deadline has passed (final), then this one: as the roll-up counts them.
        let words = ["on-time": "on time", "late": "late", "undated": "not dated"]
        data["contributionYears"] = [report.rollup.planContributions.lastYear, report.rollup.planContributions.year].map { year -> [String: Any] in
            ["year": year.year, "deadline": shown(year.deadline), "hasPractices": !year.practices.isEmpty,
             "practices": year.practices.map { ["practice": $0.practice, "date": shown($0.date), "status": words[$0.status] ?? $0.status] }]
        }
        // A QAIF year that ended in the period (final), then the one the figures' day is in.
        data["attendanceYears"] = ([report.endedAttendance].compactMap { $0 } + [report.attendance]).map { year -> [String: Any] in
            ["year": year.year.description, "ended": year.year.last < report.asOf, "last": shown(year.year.last),
             "meetingsHeld": String(year.held.count), "meetingsLeft": String(year.left.count),
             "attendance": year.practices.map(attendanceRow), "hasAttendance": !year.practices.isEmpty]
        }
        data["escalated"] = report.escalated.map { escalatedRisk($0, asOf: report.asOf) }
        data["hasEscalated"] = !report.escalated.isEmpty
        return data
    }

    static func overdueRow(_ v: RecordView) -> [String: Any] {
        let isAction = v.type == .action
        let kind = isAction ? "action" : v.type == .risk ? "risk review" : "terms of reference review"
        return ["kind": kind, "title": v.string("title") ?? "", "owner": v.string("owner") ?? "",
                "date": shown(v.overdueDate), "id": v.id.rawValue]
    }

    static func attendanceRow(_ row: AttendanceReport.Row) -> [String: Any] {
        let n = row.attended.count
        let dots: [[String: Any]] = (0..<max(AttendanceReport.minimum, n)).map { ["filled": $0 < n] }
        let status = row.status == .met ? "met" : row.status == .canReach ? "can reach" : "cannot reach"
        return ["practice": row.practice, "attended": String(n), "dots": dots, "status": status, "statusClass": row.status.rawValue]
    }

    static func escalatedRisk(_ entry: (risk: RecordView, actions: [RecordView]), asOf: CalendarDate) -> [String: Any] {
        let v = entry.risk
        var d: [String: Any] = [:]
        d["title"] = v.string("title") ?? ""
        d["band"] = RiskScore(v.value("score") ?? .null)?.band.rawValue ?? "none"
        d["id"] = v.id.rawValue
        d["level"] = v.escalation == "health-board" ? "Health Board" : "PCPG"
        if let on = v.escalatedOn { d["escalatedOn"] = shown(on) }
        d["score"] = scoreText(v.value("score"))
        d["initial"] = scoreText(v.value("initial_score"))
        d["target"] = v.value("target_score") == nil ? "—" : scoreText(v.value("target_score"))
        // Facts shown as a dash when missing; paragraphs (and their headings) left out when empty,
        // since Mustache treats an empty string as a value.
        for field in ["owner", "category", "treatment"] { d[field] = v.string(field) ?? "—" }
        for field in ["description", "controls", "gaps"] { if let text = v.string(field), !text.isEmpty { d[field] = text } }
        d["review"] = shown(v.date("review_date"))
        d["reviewOverdue"] = RecordFilter.isOverdue(v, today: asOf)
        d["actions"] = entry.actions.map { a -> [String: Any] in
            let rag = a.derived(today: asOf)["rag"]?.stringValue ?? "none"
            let status = (a.status ?? "").replacingOccurrences(of: "-", with: " ")
            return ["title": a.string("title") ?? "", "owner": a.string("owner") ?? "", "due": shown(a.date("due_date")), "status": status, "rag": rag]
        }
        d["hasActions"] = !entry.actions.isEmpty
        return d
    }
}

/// Inline SVG charts. Only numbers and fixed words go in, so nothing needs escaping.
enum Charts {
    static let bandColours = ["low": "#8fd19e", "moderate": "#ffe066", "high": "#ffb366", "extreme": "#f28b82", "unscored": "#d0d0d0"]

    /// Open risks by band at each month end, as stacked columns (extreme on top).
    static func bandsOverTime(_ months: [(monthEnd: CalendarDate, counts: [String: Int])]) -> String {
        let order = ["low", "moderate", "high", "extreme"]
        let width = 640.0, height = 230.0, left = 34.0, bottom = 34.0, top = 12.0
        let maxTotal = max(1, months.map { m in order.reduce(0) { $0 + (m.counts[$1] ?? 0) } }.max() ?? 1)
        let step = niceStep(maxTotal)
        let yMax = Double(((maxTotal + step - 1) / step) * step)
        let plotH = height - bottom - top
        let slot = (width - left - 8) / Double(max(months.count, 1))
        let barW = min(34, slot * 0.7)
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Open risks by band at each month end\" xmlns=\"http://www.w3.org/2000/svg\">"
        var y = 0
        while Double(y) <= yMax {
            let py = top + plotH - Double(y) / yMax * plotH
            svg += "<line x1=\"\(left)\" x2=\"\(width - 4)\" y1=\"\(f(py))\" y2=\"\(f(py))\" stroke=\"#d8d8d8\" stroke-width=\"1\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#4a4a4a\">\(y)</text>"
            y += step
        }
        for (i, month) in months.enumerated() {
            let x = left + Double(i) * slot + (slot - barW) / 2
            var base = top + plotH
            for band in order {
                let n = month.counts[band] ?? 0
                guard n > 0 else { continue }
                let h = Double(n) / yMax * plotH
                base -= h
                svg += "<rect x=\"\(f(x))\" y=\"\(f(base))\" width=\"\(f(barW))\" height=\"\(f(h))\" fill=\"\(bandColours[band]!)\" stroke=\"#fff\" stroke-width=\"1\"><title>\(band): \(n)</title></rect>"
            }
            let total = order.reduce(0) { $0 + (month.counts[$1] ?? 0) }
            if total > 0 {
                svg += "<text x=\"\(f(x + barW / 2))\" y=\"\(f(base - 4))\" text-anchor=\"middle\" font-size=\"11\" font-weight=\"700\" fill=\"#1b1b1b\">\(total)</text>"
            }
            svg += "<text x=\"\(f(x + barW / 2))\" y=\"\(f(height - bottom + 15))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#1b1b1b\">\(WalesDates.monthNames[month.monthEnd.month - 1])</text>"
            if i == 0 || month.monthEnd.month == 1 {
                svg += "<text x=\"\(f(x + barW / 2))\" y=\"\(f(height - bottom + 28))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#4a4a4a\">\(month.monthEnd.year)</text>"
            }
        }
        return svg + "</svg>"
    }

    /// One horizontal bar split by share, each part in its class's colour (`rag-red` …).
    static func stackedBar(_ parts: [(key: String, count: Int)], cssPrefix: String) -> String {
        let total = parts.reduce(0) { $0 + $1.count }
        let width = 640.0, height = 34.0
        var svg = "<svg class=\"bar\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Actions by RAG\" xmlns=\"http://www.w3.org/2000/svg\">"
        guard total > 0 else {
            return svg + "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"#eee\"/></svg>"
        }
        let colours = ["red": "#f28b82", "amber": "#ffb366", "green": "#8fd19e", "blue": "#9ec5fe", "none": "#e0e0e0"]
        var x = 0.0
        for part in parts where part.count > 0 {
            let w = Double(part.count) / Double(total) * width
            svg += "<rect x=\"\(f(x))\" y=\"0\" width=\"\(f(w))\" height=\"\(Int(height))\" fill=\"\(colours[part.key] ?? "#ccc")\" stroke=\"#fff\" stroke-width=\"2\"><title>\(part.key): \(part.count)</title></rect>"
            if w > 22 {
                svg += "<text x=\"\(f(x + w / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"700\" fill=\"#1b1b1b\">\(part.count)</text>"
            }
            x += w
        }
        _ = cssPrefix
        return svg + "</svg>"
    }

    static func niceStep(_ maxValue: Int) -> Int {
        for step in [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000] where maxValue / step <= 5 { return step }
        return max(1, maxValue / 5)
    }

    static func f(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
