import ClusterSyncCore

/// The 5x5 heat map both the risk register page and the board report draw: one template
/// (`heatmap`, a Mustache partial) and one way of turning `RiskMatrix` counts into its rows.
enum HeatMap {
    /// Rows from likelihood 5 (top) to 1, cells from consequence 1 to 5, as the NHS matrix is drawn.
    static func data(_ matrix: RiskMatrix) -> [String: Any] {
        [
            "consequences": (1...5).map { "\($0) \(RiskScore.consequenceWords[$0 - 1])" },
            // The colours' key: a band is told by colour in the cells, and by words only here.
            "heatBands": ["low", "moderate", "high", "extreme"].map { ["band": $0, "label": $0] },
            "heatRows": (1...5).reversed().map { l -> [String: Any] in
                [
                    "label": "\(l) \(RiskScore.likelihoodWords[l - 1])",
                    "cells": (1...5).map { c -> [String: Any] in
                        let count = matrix.count(likelihood: l, consequence: c)
                        return ["band": RiskScore(likelihood: l, consequence: c)!.band.rawValue, "count": String(count), "empty": count == 0]
                    },
                ]
            },
        ]
    }

    /// Expects `t` (the catalogue) and the keys of `data(_:)` in its context.
    static let template = """
    <table class="heat" aria-describedby="heat-caption">
    <caption id="heat-caption">{{t.heat_caption}}</caption>
    <thead><tr><th scope="col" rowspan="2" class="axis corner">{{t.heat_likelihood}}</th><th scope="colgroup" colspan="5" class="axis">{{t.heat_consequence}}</th></tr>
    <tr>{{#consequences}}<th scope="col">{{.}}</th>{{/consequences}}</tr></thead>
    <tbody>
    {{#heatRows}}<tr><th scope="row">{{label}}</th>{{#cells}}<td class="band-{{band}}{{#empty}} empty{{/empty}}"><span class="visually-hidden">{{band}}: </span>{{count}}</td>{{/cells}}</tr>
    {{/heatRows}}</tbody>
    </table>
    <p class="heat-key">{{#heatBands}}<span class="swatch band-{{band}}" aria-hidden="true"></span> {{label}} {{/heatBands}}</p>
    """
}
