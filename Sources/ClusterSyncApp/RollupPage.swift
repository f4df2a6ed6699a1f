import ClusterSyncClient
import ClusterSyncCore
import Hummingbird

/// The roll-up page: a PCPG analyst's or Health Board's first page (what `clustersync rollup`
/// prints), and a practice's view of its own cluster in counts. It reads `Replica.rollup`, the
/// server's roll-up on a read-only replica, and shows counts only, never a title or a name.
extension Pages {
    func registerRollupPage(on router: Router<BasicRequestContext>) {
        router.get("/rollup") { _, _ in try self.rollupPage() }
    }

    /// Where `/` goes: a read-only replica holds roll-ups and escalated risks, so it opens on the
    /// roll-up; a practice's on its risk register.
    var home: String {
        page.readOnly ? "/rollup" : "/risks"
    }

    func rollupPage() throws -> Response {
        let region: RegionRollup
        do {
            region = try replica.rollup()
        } catch is ClusterSyncError where page.readOnly {
            // A read-only replica that has not synced has no roll-up yet.
            return page.html("rollup", title: t["rollup_title"], section: .rollup,
                             data: ["none": t["rollup_none"]], conflicts: conflictCount())
        }
        let r = region.risks, a = region.actions, d = region.decisions, at = region.attendance
        let heading = region.region.map { t.text("rollup_heading_region", $0, region.tenant, WalesDates.shown(region.today)) }
            ?? t.text("rollup_heading_clusters", region.clusters.map(\.cluster).joined(separator: ", "), region.tenant, WalesDates.shown(region.today))
        var data: [String: Any] = HeatMap.data(r.matrix)
        data["heading"] = heading
        data["clusters"] = region.clusters.map { c -> [String: Any] in
            ["cluster": c.cluster, "open": String(c.risks.byStatus["open"] ?? 0), "extreme": String(c.risks.byBand["extreme"] ?? 0),
             "unescalated": String(c.risks.escalationSuggested),
             "reviews": String(c.risks.reviewOverdue), "actions": String(c.actions.overdue),
             "attendance": String(c.attendance.byStatus["cannot-reach"] ?? 0), "terms": String(c.terms.reviewOverdue)]
        }
        // A Health Board's replica: its PCPGs' regions side by side.
        if region.region == nil, region.byRegion.count > 1 {
            data["regions"] = region.byRegion.map { r -> [String: Any] in
                ["region": r.region ?? t["rollup_no_region"], "clusterCount": String(r.clusters.count), "open": String(r.risks.byStatus["open"] ?? 0),
                 "extreme": String(r.risks.byBand["extreme"] ?? 0), "unescalated": String(r.risks.escalationSuggested),
                 "reviews": String(r.risks.reviewOverdue), "actions": String(r.actions.overdue),
                 "attendance": String(r.attendance.byStatus["cannot-reach"] ?? 0), "terms": String(r.terms.reviewOverdue)]
            }
            data["hasRegions"] = true
        }
        data["risks"] = t.text("rollup_risks_line", String(r.total), String(r.byStatus["open"] ?? 0), String(r.byStatus["closed"] ?? 0),
                               String(r.byBand["extreme"] ?? 0), String(r.byBand["high"] ?? 0), String(r.byBand["moderate"] ?? 0),
                               String(r.byBand["low"] ?? 0), String(r.byBand["unscored"] ?? 0), String(r.reviewOverdue))
        data["escalated"] = t.text("rollup_escalated_line", String(r.escalation["pcpg"] ?? 0), String(r.escalation["health-board"] ?? 0),
                                   String(RiskScore.escalationTrigger), String(r.escalationSuggested))
        data["actions"] = t.text("rollup_actions_line", String(a.total), String(a.byRAG["red"] ?? 0), String(a.byRAG["amber"] ?? 0),
                                 String(a.byRAG["green"] ?? 0), String(a.byRAG["blue"] ?? 0), String(a.overdue),
                                 // Cancelled actions have no RAG rating: counted, so the figures add up (an audit).
                                 String(a.byRAG["none"] ?? 0))
        data["decisions"] = t.text("rollup_decisions_line", String(d.total), d.year, String(d.yearByOutcome["agreed"] ?? 0),
                                   String(d.yearFinancialByOutcome["agreed"] ?? 0), Amount.shown(pence: d.yearAgreedPence),
                                   String(d.yearFinancialByOutcome["rejected"] ?? 0))
        data["categories"] = t.text("rollup_categories_line", (RecordSchema.riskCategories + ["none"]).map { category in
            "\(category == "none" ? t["rollup_no_category"] : category.replacingOccurrences(of: "-", with: " ")) \(r.byCategory[category] ?? 0)"
        }.joined(separator: ", "))
        data["attendance"] = t.text("rollup_attendance_line", at.year, String(at.minimum), String(at.meetingsHeld), String(at.meetingsLeft),
                                    String(at.byStatus["met"] ?? 0), String(at.byStatus["can-reach"] ?? 0), String(at.byStatus["cannot-reach"] ?? 0))
        if !at.registeredNotListed.isEmpty {
            data["unlisted"] = t.text("rollup_unlisted_line", region.named(at.registeredNotListed))
        }
        data["contributions"] = [region.planContributions.lastYear, region.planContributions.year].map { year -> String in
            let without = region.named(year.registeredWithout)
            return t.text("rollup_contributions_line", year.year, WalesDates.shown(year.deadline), String(year.byStatus["on-time"] ?? 0),
                          String(year.byStatus["late"] ?? 0), String(year.byStatus["undated"] ?? 0))
                + (without.isEmpty ? "" : " " + t.text("rollup_contributions_without", without))
        }
        data["terms"] = t.text("rollup_terms_line", String(region.terms.inForce), String(region.terms.reviewOverdue))
        if let practices = region.practicesShown { data["practices"] = practices }
        data["meetings"] = t.text("rollup_meetings_line", region.meetings.year,
                                  region.meetings.shown ?? t[region.meetings.reported ? "rollup_meetings_none" : "rollup_meetings_not_reported"])
        return page.html("rollup", title: t["rollup_title"], section: .rollup, data: data, conflicts: conflictCount())
    }

    static let template = """
    <h1>{{t.rollup_title}}</h1>
    {{#none}}<p>{{none}}</p><p><a href="/sync">{{t.nav_sync}}</a></p>{{/none}}
    {{^none}}
    <p id="rollup-heading" class="lede">{{heading}}</p>
    <p>{{t.rollup_note}}{{#readOnly}} {{t.rollup_read_only}}{{/readOnly}}</p>
    {{^readOnly}}<p><a href="/report">{{t.report_link}}</a></p>{{/readOnly}}
    <table id="rollup-clusters" class="cards">
    <caption>{{t.rollup_clusters_caption}}</caption>
    <thead><tr><th scope="col">{{t.rollup_col_cluster}}</th><th scope="col">{{t.rollup_col_open}}</th><th scope="col">{{t.rollup_col_extreme}}</th>
    <th scope="col">{{t.rollup_col_unescalated}}</th><th scope="col">{{t.rollup_col_reviews}}</th><th scope="col">{{t.rollup_col_actions}}</th><th scope="col">{{t.rollup_col_attendance}}</th>
    <th scope="col">{{t.rollup_col_terms}}</th></tr></thead>
    <tbody>{{#clusters}}<tr><th scope="row">{{cluster}}</th><td data-label="{{t.rollup_col_open}}">{{open}}</td><td data-label="{{t.rollup_col_extreme}}">{{extreme}}</td><td data-label="{{t.rollup_col_unescalated}}">{{unescalated}}</td><td data-label="{{t.rollup_col_reviews}}">{{reviews}}</td><td data-label="{{t.rollup_col_actions}}">{{actions}}</td><td data-label="{{t.rollup_col_attendance}}">{{attendance}}</td><td data-label="{{t.rollup_col_terms}}">{{terms}}</td></tr>
    {{/clusters}}</tbody>
    </table>
    {{#hasRegions}}<table id="rollup-regions" class="cards">
    <caption>{{t.rollup_regions_caption}}</caption>
    <thead><tr><th scope="col">{{t.rollup_col_region}}</th><th scope="col">{{t.rollup_col_clusters}}</th><th scope="col">{{t.rollup_col_open}}</th><th scope="col">{{t.rollup_col_extreme}}</th>
    <th scope="col">{{t.rollup_col_unescalated}}</th><th scope="col">{{t.rollup_col_reviews}}</th><th scope="col">{{t.rollup_col_actions}}</th><th scope="col">{{t.rollup_col_attendance}}</th>
    <th scope="col">{{t.rollup_col_terms}}</th></tr></thead>
    <tbody>{{#regions}}<tr><th scope="row">{{region}}</th><td data-label="{{t.rollup_col_clusters}}">{{clusterCount}}</td><td data-label="{{t.rollup_col_open}}">{{open}}</td><td data-label="{{t.rollup_col_extreme}}">{{extreme}}</td><td data-label="{{t.rollup_col_unescalated}}">{{unescalated}}</td><td data-label="{{t.rollup_col_reviews}}">{{reviews}}</td><td data-label="{{t.rollup_col_actions}}">{{actions}}</td><td data-label="{{t.rollup_col_attendance}}">{{attendance}}</td><td data-label="{{t.rollup_col_terms}}">{{terms}}</td></tr>
    {{/regions}}</tbody>
    </table>{{/hasRegions}}
    <h2>{{t.rollup_totals}}</h2>
    {{> heatmap}}
    <dl class="fields" id="rollup-totals">
    {{#practices}}<dt>{{t.rollup_practices}}</dt><dd id="rollup-practices">{{practices}}</dd>{{/practices}}
    <dt>{{t.rollup_risks}}</dt><dd>{{risks}}<br>{{escalated}}<br>{{categories}}</dd>
    <dt>{{t.rollup_actions}}</dt><dd>{{actions}}</dd>
    <dt>{{t.rollup_decisions}}</dt><dd>{{decisions}}</dd>
    <dt>{{t.rollup_meetings}}</dt><dd id="rollup-meetings">{{meetings}}</dd>
    <dt>{{t.rollup_attendance}}</dt><dd>{{attendance}}{{#unlisted}}<br>{{unlisted}}{{/unlisted}}</dd>
    <dt>{{t.rollup_contributions}}</dt><dd>{{#contributions}}{{.}}<br>{{/contributions}}</dd>
    <dt>{{t.rollup_terms}}</dt><dd>{{terms}}</dd>
    </dl>
    {{/none}}
    """
}
