/// The board report's page and its inline stylesheet (the palette and heat map styles come from
/// `Stylesheet.palette`). Words are English for now; the figures' labels say what each counts.
enum BoardReportTemplate {
    static let page = """
    <!doctype html>
    <html lang="en-GB">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Cluster governance report: {{cluster}}, {{period}}</title>
    <style>
    {{{css}}}
    </style>
    </head>
    <body>
    <header class="cover">
    <p class="kicker">{{tenant}} · Cluster governance report</p>
    <h1>{{cluster}}</h1>
    <p class="period">{{from}} to {{to}} · figures as at {{asOf}}</p>
    </header>
    <main>
    <section class="tiles" aria-label="Key figures">
    {{#tiles}}<div class="tile tone-{{tone}}"><span class="value">{{value}}</span><span class="label">{{label}}</span></div>
    {{/tiles}}</section>

    <section class="grid-2">
    <div>
    <h2>Open risks on the 5×5 matrix</h2>
    {{> heatmap}}
    </div>
    <div>
    <h2>Risks by band</h2>
    <table class="counts">
    <thead><tr><th scope="col">Band (open risks)</th><th scope="col" class="num">Count</th></tr></thead>
    <tbody>{{#bandRows}}<tr><th scope="row"><span class="swatch band-{{band}}"></span>{{band}}</th><td class="num">{{count}}</td></tr>{{/bandRows}}</tbody>
    </table>
    <p class="note">{{closed}} closed. Escalated and open: {{escalationPCPG}} to the PCPG, {{escalationHB}} to the Health Board.</p>
    </div>
    </section>

    <section class="keep">
    <h2>Open risks by band, month by month</h2>
    <div class="legend"><span><span class="swatch band-extreme"></span>extreme</span><span><span class="swatch band-high"></span>high</span><span><span class="swatch band-moderate"></span>moderate</span><span><span class="swatch band-low"></span>low</span></div>
    {{{trendSVG}}}
    <table class="counts small trend">
    <thead><tr><th scope="col">Month end</th><th scope="col" class="num">extreme</th><th scope="col" class="num">high</th><th scope="col" class="num">moderate</th><th scope="col" class="num">low</th></tr></thead>
    <tbody>{{#trendRows}}<tr><th scope="row">{{month}}</th>{{#cells}}<td class="num">{{.}}</td>{{/cells}}</tr>{{/trendRows}}</tbody>
    </table>
    </section>

    <section class="keep">
    <h2>Actions by RAG ({{actionsTotal}} actions)</h2>
    {{{ragSVG}}}
    <ul class="legend rag-legend">{{#ragRows}}<li><span class="swatch rag-{{rag}}"></span>{{words}}: <strong>{{count}}</strong></li>{{/ragRows}}</ul>
    </section>

    <section>
    <h2>Overdue</h2>
    {{#hasOverdue}}<table>
    <thead><tr><th scope="col">What</th><th scope="col">Title</th><th scope="col">Owner</th><th scope="col">Was due</th></tr></thead>
    <tbody>{{#overdue}}<tr><td>{{kind}}</td><td>{{title}}</td><td>{{owner}}</td><td>{{date}}</td></tr>{{/overdue}}</tbody>
    </table>{{/hasOverdue}}
    {{^hasOverdue}}<p>Nothing overdue.</p>{{/hasOverdue}}
    </section>

    <section class="plans">
    <h2>Progress against the cluster plan</h2>
    {{#plans}}<article class="plan keep">
    <h3>{{title}}</h3>
    <p class="note">{{period}}{{#status}} · {{status}}{{/status}} · {{risks}} linked risks, {{actions}} linked actions, {{decisions}} linked decisions</p>
    {{#hasPriorities}}<table class="priorities">
    <thead><tr><th scope="col">Priority</th><th scope="col">Measure</th><th scope="col">Owner</th><th scope="col">Done</th></tr></thead>
    <tbody>{{#priorities}}<tr><td>{{text}}</td><td>{{measure}}</td><td>{{owner}}</td><td>{{done}}</td></tr>{{/priorities}}</tbody>
    </table>{{/hasPriorities}}
    {{^hasPriorities}}<p>No priorities recorded.</p>{{/hasPriorities}}
    </article>{{/plans}}
    {{^hasPlans}}<p>No cluster plan recorded for the period.</p>{{/hasPlans}}
    </section>

    <section>
    <h2>Meetings in the period</h2>
    {{#hasMeetings}}<table class="meetings">
    <thead><tr><th scope="col">Date</th><th scope="col">Meeting</th><th scope="col">Body</th><th scope="col">Status</th><th scope="col">Quorum</th></tr></thead>
    <tbody>{{#meetings}}<tr><td>{{date}}</td><td>{{title}}</td><td>{{body}}</td><td>{{status}}</td><td{{#inquorate}} class="attention"{{/inquorate}}>{{quorum}}</td></tr>{{/meetings}}</tbody>
    </table>{{/hasMeetings}}
    {{^hasMeetings}}<p>No meetings recorded in the period.</p>{{/hasMeetings}}
    </section>

    <section>
    <h2>Decisions taken in the period</h2>
    <p class="note">{{#decisionCounts}}<span class="pill">{{outcome}}: {{count}}</span> {{/decisionCounts}}</p>
    {{#hasDecisions}}<table class="decisions">
    <thead><tr><th scope="col">Date</th><th scope="col">Decision</th><th scope="col">Method</th><th scope="col">Amount</th><th scope="col">Outcome</th><th scope="col">Needs a look</th></tr></thead>
    <tbody>{{#decisions}}<tr><td>{{date}}</td><td>{{title}}</td><td>{{method}}</td><td>{{amount}}</td><td><span class="outcome outcome-{{outcomeClass}}">{{outcome}}</span></td><td class="attention">{{#checks}}<div>{{.}}</div>{{/checks}}</td></tr>{{/decisions}}</tbody>
    </table>{{/hasDecisions}}
    {{^hasDecisions}}<p>No decisions recorded in the period.</p>{{/hasDecisions}}
    </section>

    <section>
    <h2>Risks closed in the period and lessons learned</h2>
    {{#hasClosedRisks}}<table class="closed-risks">
    <thead><tr><th scope="col">Closed</th><th scope="col">Risk</th><th scope="col">Owner</th><th scope="col">Lessons learned</th></tr></thead>
    <tbody>{{#closedRisks}}<tr><td>{{date}}</td><td>{{title}}</td><td>{{owner}}</td><td>{{#noLessons}}<em>none recorded</em>{{/noLessons}}{{lessons}}</td></tr>{{/closedRisks}}</tbody>
    </table>{{/hasClosedRisks}}
    {{^hasClosedRisks}}<p>No risks closed in the period.</p>{{/hasClosedRisks}}
    </section>

    <section>
    <h2>Lessons learned from reviews of risks still open</h2>
    {{#hasOpenLessons}}<table class="open-lessons">
    <thead><tr><th scope="col">Written</th><th scope="col">Risk</th><th scope="col">Owner</th><th scope="col">Lessons learned</th></tr></thead>
    <tbody>{{#openLessons}}<tr><td>{{date}}</td><td>{{title}}</td><td>{{owner}}</td><td>{{lessons}}</td></tr>{{/openLessons}}</tbody>
    </table>{{/hasOpenLessons}}
    {{^hasOpenLessons}}<p>No lessons learned recorded in the period on risks still open.</p>{{/hasOpenLessons}}
    </section>

    {{#attendanceYears}}<section class="keep">
    <h2>GP Collaborative attendance {{year}} (QAIF CND014W: at least 4 a year)</h2>
    {{#ended}}<p class="note">The year ended on {{last}}: these are its final figures. Meetings held: {{meetingsHeld}}.</p>{{/ended}}
    {{^ended}}<p class="note">Meetings held: {{meetingsHeld}}; still to come in the year: {{meetingsLeft}}.</p>{{/ended}}
    {{#hasAttendance}}<table class="attendance">
    <thead><tr><th scope="col">Practice</th><th scope="col">Meetings attended</th><th scope="col" class="num">Attended</th><th scope="col">Status</th></tr></thead>
    <tbody>{{#attendance}}<tr><th scope="row">{{practice}}</th><td aria-hidden="true">{{#dots}}<span class="dot{{#filled}} filled{{/filled}}"></span>{{/dots}}</td><td class="num">{{attended}}</td><td><span class="status status-{{statusClass}}">{{status}}</span></td></tr>{{/attendance}}</tbody>
    </table>{{/hasAttendance}}
    {{^hasAttendance}}<p>No GP Collaborative attendance recorded for {{year}}.</p>{{/hasAttendance}}
    </section>{{/attendanceYears}}

    <section class="keep">
    <h2>Practices' contributions to the cluster plan (QAIF CND015W, CND016W: by 30 September)</h2>
    {{#contributionYears}}<h3>{{year}}, due by {{deadline}}</h3>
    {{#hasPractices}}<table class="contributions">
    <thead><tr><th scope="col">Practice</th><th scope="col">Made</th><th scope="col">Status</th></tr></thead>
    <tbody>{{#practices}}<tr><th scope="row">{{practice}}</th><td>{{date}}</td><td>{{status}}</td></tr>{{/practices}}</tbody>
    </table>{{/hasPractices}}
    {{^hasPractices}}<p>No contribution recorded for {{year}}.</p>{{/hasPractices}}
    {{/contributionYears}}
    </section>

    <section>
    <h2>Declarations of interest in force in the period</h2>
    {{#hasDeclarations}}<table class="declarations">
    <thead><tr><th scope="col">Member</th><th scope="col">Organisation</th><th scope="col">Nature</th><th scope="col">Declared</th><th scope="col">Withdrawn</th><th scope="col">Dispensation</th></tr></thead>
    <tbody>{{#declarations}}<tr><td>{{member}}</td><td>{{organisation}}</td><td>{{nature}}</td><td>{{declared}}</td><td>{{withdrawn}}</td><td>{{dispensation}}</td></tr>{{/declarations}}</tbody>
    </table>{{/hasDeclarations}}
    {{^hasDeclarations}}<p>No declarations of interest in force in the period.</p>{{/hasDeclarations}}
    </section>

    <section class="escalated">
    <h2>Risks escalated beyond the cluster</h2>
    {{#escalated}}<article class="risk keep">
    <h3><span class="badge band-{{band}}">{{score}}</span> {{title}}</h3>
    <dl>
    <dt>Escalated to</dt><dd>{{level}}{{#escalatedOn}}, on {{escalatedOn}}{{/escalatedOn}}</dd>
    <dt>Owner</dt><dd>{{owner}}</dd>
    <dt>Category</dt><dd>{{category}}</dd>
    <dt>Initial score</dt><dd>{{initial}}</dd>
    <dt>Target score</dt><dd>{{target}}</dd>
    <dt>Treatment</dt><dd>{{treatment}}</dd>
    <dt>Next review</dt><dd>{{review}}{{#reviewOverdue}} <strong class="overdue">(overdue)</strong>{{/reviewOverdue}}</dd>
    </dl>
    {{#description}}<p>{{description}}</p>{{/description}}
    {{#controls}}<h4>Controls (mitigations in place)</h4><p>{{controls}}</p>{{/controls}}
    {{#gaps}}<h4>Gaps in control</h4><p>{{gaps}}</p>{{/gaps}}
    <h4>Linked actions</h4>
    {{#hasActions}}<table class="small">
    <thead><tr><th scope="col">Action</th><th scope="col">Owner</th><th scope="col">Due</th><th scope="col">Status</th><th scope="col">RAG</th></tr></thead>
    <tbody>{{#actions}}<tr><td>{{title}}</td><td>{{owner}}</td><td>{{due}}</td><td>{{status}}</td><td><span class="rag-pill rag-{{rag}}">{{rag}}</span></td></tr>{{/actions}}</tbody>
    </table>{{/hasActions}}
    {{^hasActions}}<p>None linked.</p>{{/hasActions}}
    </article>{{/escalated}}
    {{^hasEscalated}}<p>No open risk is escalated to the PCPG or the Health Board.</p>{{/hasEscalated}}
    </section>
    </main>
    <footer><p>Made with ClusterSync on {{made}} from the cluster's shared registers ({{tenant}} / {{cluster}}). Counts only include records shared with the cluster; practices' private records are not included.</p></footer>
    </body>
    </html>
    """

    static let css = """

    * { box-sizing: border-box; }
    body { margin: 0; font-family: "Segoe UI", system-ui, Arial, sans-serif; font-size: 10.5pt; line-height: 1.45; color: var(--ink); background: #fff; }
    .cover { background: #003865; color: #fff; padding: 18px 28px 16px; }
    .cover h1 { margin: 2px 0 4px; font-size: 24pt; letter-spacing: -.01em; }
    .kicker { margin: 0; text-transform: uppercase; letter-spacing: .08em; font-size: 9pt; opacity: .85; }
    .period { margin: 0; font-size: 11pt; }
    main { padding: 14px 28px 8px; max-width: 210mm; }
    h2 { font-size: 13.5pt; color: #003865; margin: 18px 0 8px; padding-bottom: 3px; border-bottom: 2px solid #003865; }
    h3 { font-size: 12pt; margin: 0 0 6px; }
    h4 { font-size: 10pt; margin: 10px 0 2px; }
    .tiles { display: grid; grid-template-columns: repeat(6, 1fr); gap: 8px; margin-top: 4px; }
    .tile { border-radius: 6px; padding: 8px 10px; background: #f3f2f1; border-top: 5px solid #b1b4b6; }
    .tile .value { display: block; font-size: 20pt; font-weight: 700; line-height: 1.1; }
    .tile .label { display: block; font-size: 8.5pt; color: var(--muted); }
    .tone-extreme { border-top-color: #d4351c; } .tone-high { border-top-color: #f47738; } .tone-low { border-top-color: #00703c; }
    .grid-2 { display: grid; grid-template-columns: auto 1fr; gap: 28px; align-items: start; }
    table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
    th, td { border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; }
    /* A value without spaces wraps instead of running past the A4 edge (in tables, the last
       column's free text; dates and counts keep their width). */
    dd, h1, h2, h3, p, li, td:last-child { overflow-wrap: anywhere; }
    thead th { font-size: 9pt; color: var(--muted); font-weight: 600; }
    .num { text-align: right; }
    table.small { font-size: 9pt; }
    table.trend { width: auto; }
    table.trend td, table.trend th { padding: 1px 8px; }
    table.counts { width: auto; min-width: 14rem; }
    table.heat td.empty { color: rgba(0,0,0,.35); font-weight: 400; }
    .swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; border: 1px solid rgba(0,0,0,.15); }
    .band-unscored { background: #d0d0d0; }
    .legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 9pt; margin: 2px 0 4px; padding: 0; list-style: none; }
    .note { color: var(--muted); font-size: 9.5pt; margin: 4px 0; }
    .attention { color: #b00020; font-size: 9pt; }
    article.plan { margin: 8px 0 14px; }
    article.plan h3 { font-size: 11pt; margin: 4px 0; }
    .pill { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 8.5pt; background: #eee; margin-right: 4px; }
    .rag-pill { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 8.5pt; font-weight: 600; }
    table.heat caption { text-align: left; color: var(--muted); font-size: 9pt; }
    .outcome { font-weight: 600; }
    .outcome-agreed { color: #00703c; } .outcome-rejected { color: #b10e1e; } .outcome-deferred { color: #8a3a00; }
    svg.chart { width: 100%; max-width: 640px; height: auto; display: block; }
    svg.bar { width: 100%; max-width: 640px; height: auto; display: block; margin: 4px 0; }
    .dot { display: inline-block; width: 12px; height: 12px; border-radius: 50%; border: 2px solid #003865; margin-right: 4px; }
    .dot.filled { background: #003865; }
    .status { font-weight: 600; padding: 0 8px; border-radius: 10px; }
    .status-met { background: var(--low); } .status-can-reach { background: var(--moderate); } .status-cannot-reach { background: var(--extreme); }
    article.risk { border: 1px solid var(--line); border-left: 6px solid #003865; border-radius: 4px; padding: 10px 14px; margin: 10px 0; }
    article.risk p { margin: 2px 0; white-space: pre-wrap; }
    article.risk dl { display: grid; grid-template-columns: 8.5rem 1fr 8.5rem 1fr; gap: 2px 10px; margin: 4px 0; font-size: 9.5pt; }
    article.risk dt { color: var(--muted); }
    article.risk dd { margin: 0; }
    .badge { display: inline-block; padding: 1px 8px; border-radius: 4px; font-size: 10pt; }
    .overdue { color: #8a3a00; }
    footer { padding: 8px 28px 16px; color: var(--muted); font-size: 8.5pt; border-top: 1px solid var(--line); margin-top: 12px; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    @page { size: A4; margin: 14mm 12mm; }
    @media print {
      body { font-size: 9.5pt; }
      .cover { padding: 10px 14px; }
      main { padding: 8px 0 0; max-width: none; }
      footer { padding: 6px 0 0; }
      .keep, article.risk, tr, .tiles, .grid-2 { break-inside: avoid; }
      h2 { break-after: avoid; }
      .cover, .tile, .band-low, .band-moderate, .band-high, .band-extreme, .band-unscored, .rag-blue, .rag-red, .rag-amber, .rag-green, .rag-none,
      .status, .dot, .swatch, .badge, .rag-pill, svg { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
    }
    @media (max-width: 50rem) { .tiles { grid-template-columns: repeat(3, 1fr); } .grid-2 { grid-template-columns: 1fr; } }
    """
}
