import ArgumentParser
import ClusterSyncClient
import ClusterSyncCore
import Foundation

struct RollupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollup",
        abstract: "The cluster's governance picture in counts: a 5x5 heat map of open risks, risks by band and status, actions by RAG, decisions, GP Collaborative attendance, terms of reference due for review.",
        discussion: """
            Counts come from the cluster-shared records this replica holds (practice-private records count nowhere). \
            With several clusters (a PCPG or Health Board replica) each cluster is listed, then the totals. \
            Heat map cells show the count and the band's letter (L low, M moderate, H high, E extreme), coloured by band \
            on a terminal unless NO_COLOR is set (--color always|never overrides).
            """)

    enum ColourChoice: String, ExpressibleByArgument, CaseIterable { case auto, always, never }

    @OptionGroup var replica: ReplicaOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Only this cluster.") var cluster: String?
    @Option(help: "On a Health Board's replica: only this region (a PCPG's county).") var region: String?
    @Option(name: .customLong("color"), help: "Colour the heat map: auto (a terminal without NO_COLOR), always, never.")
    var colour: ColourChoice = .auto

    func run() throws {
        let rollup = try replica.open().rollup(cluster: cluster, region: region)
        if output.json { return Output.printJSON(rollup.jsonValue) }
        let useColour = switch colour { case .auto: Output.colour; case .always: true; case .never: false }
        Output.print(RollupText(colour: useColour).render(rollup))
    }
}

/// The plain-text roll-up. Colour is never the only sign: every heat map cell carries its band's
/// letter, and every count its words.
struct RollupText {
    var colour: Bool

    func render(_ region: RegionRollup) -> String {
        var lines: [String] = []
        // A region names its clusters: with one, no table below would (README audit).
        let clusters = region.clusters.map(\.cluster).joined(separator: ", ")
        let name = region.region.map { "region \($0): \(clusters.isEmpty ? "no clusters" : clusters)" } ?? clusters
        lines.append("Roll-up of \(name) (\(region.tenant)) on \(region.today)")
        if let practices = region.practicesShown { lines.append("Registered practices: \(practices)") }
        if region.clusters.count > 1 {
            lines.append("")
            lines.append(Output.table(["cluster", "open risks", "extreme", "not escalated", "reviews overdue", "actions overdue", "attendance red",
                                       "ToR overdue"],
                                      region.clusters.map { c in
                [c.cluster, "\(c.risks.byStatus["open"] ?? 0)", "\(c.risks.byBand["extreme"] ?? 0)", "\(c.risks.escalationSuggested)", "\(c.risks.reviewOverdue)",
                 "\(c.actions.overdue)", "\(c.attendance.byStatus["cannot-reach"] ?? 0)", "\(c.terms.reviewOverdue)"]
            }))
            let regions = region.byRegion
            if region.region == nil, regions.count > 1 {
                // A Health Board's replica: its PCPGs side by side.
                lines.append("")
                lines.append(Output.table(["region", "clusters", "open risks", "extreme", "not escalated", "reviews overdue", "actions overdue",
                                           "attendance red", "ToR overdue"], regions.map { r in
                    [r.region ?? "(no region)", "\(r.clusters.count)", "\(r.risks.byStatus["open"] ?? 0)", "\(r.risks.byBand["extreme"] ?? 0)",
                     "\(r.risks.escalationSuggested)", "\(r.risks.reviewOverdue)", "\(r.actions.overdue)",
                     "\(r.attendance.byStatus["cannot-reach"] ?? 0)", "\(r.terms.reviewOverdue)"]
                }))
            }
            lines.append("Totals:")
        }
        lines.append("")
        lines += heatMap(region.risks.matrix)
        lines.append("")
        let r = region.risks
        lines.append("Risks       \(r.total) (\(r.byStatus["open"] ?? 0) open, \(r.byStatus["closed"] ?? 0) closed); open by band: "
            + ((RiskScore.Band.allCases.reversed().map(\.rawValue) + ["unscored"]).map { "\($0) \(r.byBand[$0] ?? 0)" }.joined(separator: ", ")))
        lines.append("            reviews overdue \(r.reviewOverdue); escalated (open): "
            + ["pcpg", "health-board", "cluster"].map { "\($0) \(r.escalation[$0] ?? 0)" }.joined(separator: ", ")
            + "; scoring \(RiskScore.escalationTrigger)+ and not escalated beyond the cluster: \(r.escalationSuggested)")
        lines.append("            open by category: " + (RecordSchema.riskCategories + ["none"])
            .map { "\($0 == "none" ? "no category" : $0) \(r.byCategory[$0] ?? 0)" }.joined(separator: ", "))
        let a = region.actions
        lines.append("Actions     \(a.total); RAG: " + ["red", "amber", "green", "blue"].map { "\($0) \(a.byRAG[$0] ?? 0)" }.joined(separator: ", ")
            + ", cancelled \(a.byRAG["none"] ?? 0); overdue \(a.overdue)")
        lines.append("            by status: " + RecordSchema.actionStatuses.map { "\($0) \(a.byStatus[$0] ?? 0)" }.joined(separator: ", "))
        let d = region.decisions
        let outcomes = { (counts: [String: Int]) in
            DecisionCounts.outcomes.map { "\($0 == "none" ? "no outcome" : $0) \(counts[$0] ?? 0)" }.joined(separator: ", ")
        }
        lines.append("Decisions   \(d.total) (\(outcomes(d.byOutcome))); in \(d.year): \(outcomes(d.yearByOutcome))")
        lines.append("            with financial implications in \(d.year): \(outcomes(d.yearFinancialByOutcome)); "
            + "agreed \(Amount.shown(pence: d.yearAgreedPence))")
        lines.append("Meetings in \(region.meetings.year) (financial year): "
            + (region.meetings.shown ?? (region.meetings.reported ? "none recorded" : "not counted by this server (an earlier version)")))
        let t = region.terms
        lines.append("Terms of reference: \(t.inForce) in force, \(t.reviewOverdue) overdue for review"
            + t.overdue.map { "\n            \($0.body) (\(region.clusters.count > 1 ? $0.cluster + ", " : "")\($0.terms), review was due \($0.reviewDate))" }.joined())
        let at = region.attendance
        lines.append("")
        lines.append("GP Collaborative attendance \(at.year), minimum \(at.minimum) (CND014W): \(at.meetingsHeld) meeting\(at.meetingsHeld == 1 ? "" : "s") held, "
            + "\(at.meetingsLeft) left; met \(at.byStatus["met"] ?? 0), can reach \(at.byStatus["can-reach"] ?? 0), cannot reach \(at.byStatus["cannot-reach"] ?? 0)")
        if !at.practices.isEmpty {
            let multi = region.clusters.count > 1
            lines.append(Output.table((multi ? ["cluster"] : []) + ["practice", "attended", "needed", "status"], at.practices.map { p in
                let word = switch p.status { case .met: "met"; case .canReach: "can reach"; case .cannotReach: "RED: cannot reach" }
                let code = switch p.status { case .met: "32"; case .canReach: "33"; case .cannotReach: "31" }
                return (multi ? [p.cluster] : []) + [p.practice, "\(p.attended)", "\(p.needed)", paint(word, code)]
            }))
        }
        if !at.registeredNotListed.isEmpty {
            lines.append("GP practices registered, but neither in the GP Collaborative's terms of reference nor attending: "
                + region.named(at.registeredNotListed))
        }
        lines.append("")
        for year in [region.planContributions.lastYear, region.planContributions.year] {
            var line = "Contributions to the cluster plan \(year.year) (CND015W, by \(year.deadline)): on time \(year.byStatus["on-time"] ?? 0), "
                + "late \(year.byStatus["late"] ?? 0), undated \(year.byStatus["undated"] ?? 0)"
            if !year.registeredWithout.isEmpty {
                line += "; GP practices registered, none made: "
                    + region.named(year.registeredWithout)
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// Rows: likelihood 5 (top) to 1; columns: consequence 1 to 5, as the NHS matrix is drawn.
    func heatMap(_ matrix: RiskMatrix) -> [String] {
        let labelWidth = 18
        let cellWidth = 14
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        var lines = ["Open risks by likelihood (rows) and consequence (columns): count and band (L low, M moderate, H high, E extreme)"]
        lines.append(pad("", labelWidth) + (1...5).map { pad("\($0) \(RiskScore.consequenceWords[$0 - 1])", cellWidth) }.joined())
        for l in (1...5).reversed() {
            var line = pad("\(l) \(RiskScore.likelihoodWords[l - 1])", labelWidth)
            for c in 1...5 {
                let band = RiskScore(likelihood: l, consequence: c)!.band
                let cell = pad(" \(matrix.count(likelihood: l, consequence: c)) \(band.rawValue.prefix(1).uppercased())", cellWidth - 2)
                line += paint(cell, Self.background(band)) + "  "
            }
            lines.append(String(line.reversed().drop { $0 == " " }.reversed()))
        }
        return lines
    }

    /// Black text on the band's colour (amber from the 256-colour palette).
    static func background(_ band: RiskScore.Band) -> String {
        switch band {
        case .low: "30;42"
        case .moderate: "30;43"
        case .high: "30;48;5;214"
        case .extreme: "30;41"
        }
    }

    func paint(_ text: String, _ code: String) -> String {
        colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
