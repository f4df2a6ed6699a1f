/// The one stylesheet, served from /style.css (no inline styles: the Content-Security-Policy
/// allows none). Colours meet WCAG 2.1 AA contrast: band and RAG colours carry dark text and
/// every colour is paired with words, never meaning by colour alone.
enum Stylesheet {
    static let css = palette + """

    * { box-sizing: border-box; }
    body { margin: 0; font-family: system-ui, "Segoe UI", Arial, sans-serif; font-size: 1.05rem; line-height: 1.5; color: var(--ink); background: var(--paper); }
    a { color: var(--link); }
    /* A value without spaces (a pasted link, a long id) wraps instead of widening the page: in
       tables only the free text (a register's linked name, a last column), so that dates and
       names in the other columns keep their width. */
    dd, dt, h1, h2, h3, p, li, label, td:last-child, td a, #register td:nth-child(2) { overflow-wrap: anywhere; }
    a:focus, button:focus, input:focus, select:focus, textarea:focus, main:focus { outline: 3px solid var(--focus); outline-offset: 2px; box-shadow: 0 0 0 5px var(--ink); }
    main:focus { box-shadow: none; outline: none; }
    .skip { position: absolute; left: -999px; top: 0; background: var(--focus); color: var(--ink); padding: .5rem 1rem; }
    .skip:focus { left: 0; }
    .masthead { background: #003865; color: #fff; padding: .5rem 1.5rem; }
    .masthead .brand { margin: 0 0 .25rem; font-weight: 700; }
    .masthead ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; }
    .masthead a { color: #fff; text-decoration: none; padding: .25rem 0; display: inline-block; }
    .masthead a[aria-current="page"] { border-bottom: 4px solid #fff; font-weight: 700; }
    .masthead a:hover { text-decoration: underline; }
    .badge { background: #fff; color: #003865; border-radius: 1rem; padding: 0 .5rem; font-weight: 700; }
    main { padding: 1rem 1.5rem 2rem; max-width: 80rem; }
    footer { border-top: 1px solid var(--line); padding: .75rem 1.5rem; color: var(--muted); font-size: .9rem; }
    h1 { font-size: 1.8rem; margin: .5rem 0 1rem; }
    h2 { font-size: 1.35rem; margin: 1.5rem 0 .5rem; }
    .flash { background: #e6f4ea; border-left: 6px solid #00703c; padding: .5rem 1rem; }
    .changes-bar { position: sticky; top: 0; z-index: 1; background: #fff7bf; border-bottom: 4px solid #594d00; padding: 0 1rem; }
    .problem { border: 4px solid #b10e1e; padding: .75rem 1rem; margin-bottom: 1rem; }
    .warning { border: 4px solid #b35c00; padding: .75rem 1rem; margin-bottom: 1rem; }
    .problem h2 { margin-top: 0; }
    .error { color: #b10e1e; font-weight: 700; margin: .25rem 0; }
    .field { margin-bottom: 1rem; }
    .finder { margin-top: .6rem; }
    .field-error { border-left: 5px solid #b10e1e; padding-left: .75rem; }
    label, legend { display: block; font-weight: 700; }
    .hint { color: var(--muted); margin: .1rem 0 .25rem; }
    .req { font-weight: 400; color: var(--muted); }
    input[type=text], select, textarea { font: inherit; padding: .35rem .5rem; border: 2px solid var(--ink); max-width: 40rem; width: 100%; }
    input[type=number] { font: inherit; padding: .3rem; border: 2px solid var(--ink); width: 5rem; }
    select { width: auto; min-width: 12rem; }
    button, .button { font: inherit; background: #00703c; color: #fff; border: 0; padding: .45rem 1rem; cursor: pointer; text-decoration: none; display: inline-block; box-shadow: 0 2px 0 #002d18; }
    button.secondary, .button.secondary { background: #e8e8e8; color: var(--ink); box-shadow: 0 2px 0 #929191; }
    .actions-row { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; margin: 1rem 0; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
    caption { text-align: left; font-weight: 700; padding: .25rem 0; }
    th, td { border-bottom: 1px solid var(--line); padding: .4rem .5rem; text-align: left; vertical-align: top; }
    th a { color: var(--ink); }
    tr.overdue td { background: #fff4e5; }
    .tag { display: inline-block; padding: 0 .4rem; border: 1px solid var(--ink); font-size: .9rem; }
    .overdue-label { font-weight: 700; color: #8a3a00; }
    .conflict-label { font-weight: 700; color: #b10e1e; }
    dd.attention { color: #b10e1e; font-weight: 700; }
    .layout-2 { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: 2rem; align-items: start; }
    /* Below 80rem the heat map and filters go above the register, which then has the width:
       beside it, a laptop's 1024 px left the register's last columns off the screen. */
    @media (max-width: 80rem) { .layout-2 { grid-template-columns: minmax(0, 1fr); } }
    label.inline { display: inline; }
    .filters { background: #f3f2f1; padding: .75rem 1rem; }
    .filters .field { margin-bottom: .6rem; }
    dl.fields, dl.checks { display: grid; grid-template-columns: 14rem 1fr; gap: .25rem 1rem; }
    dl.fields dt, dl.checks dt { font-weight: 700; }
    dl.fields dd, dl.checks dd { margin: 0; white-space: pre-wrap; }
    .sides { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1rem; }
    .side { border: 2px solid var(--ink); padding: .75rem 1rem; }
    .side .value { font-size: 1.2rem; font-weight: 700; margin: .25rem 0 .5rem; }
    .conflict { margin-bottom: 1.5rem; }
    ol.items { padding-left: 0; list-style: none; counter-reset: item; }
    ol.items li { border-bottom: 1px solid var(--line); padding: .5rem 0; display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; }
    ol.items .text { flex: 1 1 20rem; }
    ol.items .number { font-weight: 700; min-width: 2rem; }
    ol.items form { display: inline-flex; gap: .35rem; align-items: center; margin: 0; }
    /* On a phone's narrow screen a register's rows become cards: the title on its own line, then
       each other cell under its column's name (data-label), so nothing is wider than the screen
       and no title breaks inside its words. The header row goes (its sort links with it: a card
       names its cells, and the filters' "Sort by" sorts), as do empty cells. A row's own header
       (the roll-up's cluster) is the card's title. */
    @media (max-width: 40rem) {
      main { padding: .75rem; }
      select { max-width: 100%; }
      table.cards thead { display: none; }
      table.cards td:empty { display: none; }
      table.cards, table.cards tbody, table.cards tr, table.cards td, table.cards tbody th, table.cards caption { display: block; width: 100%; }
      table.cards tr { border-bottom: 2px solid var(--line); padding: .5rem 0; }
      table.cards td, table.cards tbody th { border: 0; padding: .1rem .4rem; overflow-wrap: anywhere; }
      table.cards td:first-child { font-weight: 700; }
      table.cards td[data-label]::before { content: attr(data-label) ": "; font-weight: 700; }
      /* A record's details: each name above its value, which then has the screen's width. */
      dl.fields, dl.checks { grid-template-columns: minmax(0, 1fr); gap: 0; }
      dl.fields dd, dl.checks dd { margin-bottom: .5rem; }
    }
    @media print {
      .masthead nav, .skip, footer, form, .actions-row, .filters, button, .button, .changes-bar { display: none !important; }
      .masthead { background: none; color: #000; padding: 0; }
      main { padding: 0; max-width: none; }
      a { color: #000; text-decoration: none; }
      .layout-2 { display: block; }
      table { font-size: 10pt; }
      tr { break-inside: avoid; }
      th, td { border-bottom: 1px solid #000; }
      .band-low, .band-moderate, .band-high, .band-extreme, .rag-blue, .rag-red, .rag-amber, .rag-green { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
    }
    """

    /// The band and RAG colours and the heat map's look: shared by the app's stylesheet and the
    /// board report's inline one, so a band is the same colour wherever it is shown.
    static let palette = """
    :root { --ink: #1b1b1b; --muted: #4a4a4a; --link: #0b4f8a; --focus: #ffbf47; --line: #b1b4b6; --paper: #ffffff;
            --low: #8fd19e; --moderate: #ffe066; --high: #ffb366; --extreme: #f28b82; --blue: #9ec5fe; }
    .band-low { background: var(--low); } .band-moderate { background: var(--moderate); }
    .band-high { background: var(--high); } .band-extreme { background: var(--extreme); }
    .rag-blue { background: var(--blue); } .rag-red { background: var(--extreme); } .rag-amber { background: var(--high); }
    .rag-green { background: var(--low); } .rag-none { background: #e8e8e8; }
    table.heat { width: auto; }
    table.heat caption { font-weight: 400; max-width: 22rem; }
    table.heat td { width: 2.8rem; height: 2.4rem; text-align: center; font-weight: 700; border: 1px solid #fff; }
    table.heat th { font-weight: 400; font-size: .85rem; padding: .2rem .3rem; max-width: 5.5rem; }
    table.heat th.axis { font-weight: 700; text-align: center; }
    form.inline { display: inline; margin-left: .5rem; }
    ul.attendees li { margin: .25rem 0; }
    .heat-key { font-size: .85rem; margin: .3rem 0 0; }
    .heat-key .swatch { display: inline-block; width: .9rem; height: .9rem; vertical-align: -.1rem; border: 1px solid #888; margin-left: .4rem; }
    table.heat th.corner { vertical-align: bottom; text-align: left; }
    @media (max-width: 30rem) {
      table.heat th { font-size: .7rem; padding: .15rem .2rem; }
      table.heat td { width: 2.2rem; }
    }
    """
}
