"""`clustersync report --html`: the board report made from a real replica by the real binary,
opened from disk in headless Chromium (no server, no network), rendered to PNG and to an A4 PDF."""
import datetime
import os
import re

from conftest import SHOTS, cli, init_replica


def day(offset):
    return (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=offset)).isoformat()


def financial_year(today):
    start = today.year if today.month >= 4 else today.year - 1
    return f"{start}-{(start + 1) % 100:02d}", datetime.date(start, 4, 1)


def make_cluster(path):
    init_replica(path, "prestatyn", "Dr Siân Evans, cluster lead", role="cluster-lead")
    today = datetime.datetime.now(datetime.timezone.utc).date()
    year, year_start = financial_year(today)
    action = cli(path, "action", "add", "title=Agree winter locum rota", "owner=Cluster development manager",
                 f"due_date={day(-5)}", "status=in-progress")
    cli(path, "action", "add", "title=Estates survey", "owner=Practice manager", f"due_date={day(40)}")
    escalated = cli(path, "risk", "add", "title=GP locum cover <winter> & weekends", "likelihood=4", "consequence=5",
                    "owner=Cluster lead", "category=workforce", "escalation=health-board", f"review_date={day(-3)}",
                    "controls=Shared locum pool across three practices", "gaps=No cover agreed for weekends",
                    "target_likelihood=2", "target_consequence=3", "treatment=treat")
    cli(path, "risk", "set", escalated, f"linked_actions+={action}")
    cli(path, "risk", "add", "title=Premises lease ends", "likelihood=3", "consequence=3", f"review_date={day(30)}",
        "lessons_learned=Start lease talks two years out")
    cli(path, "risk", "add", "title=Data sharing agreement lapses", "likelihood=1", "consequence=2")
    # Two risks closed by the lead: one with its lessons learned, one without (the report says so).
    flu = cli(path, "risk", "add", "title=Flu clinic staffing", "likelihood=3", "consequence=4", "owner=Practice manager")
    cli(path, "risk", "set", flu, "status=closed", "lessons_learned=Book bank staff in August, not October")
    lift = cli(path, "risk", "add", "title=Surgery lift out of service", "likelihood=2", "consequence=3")
    cli(path, "risk", "set", lift, "status=closed")
    cli(path, "risk", "add", "--private", "title=Private practice matter", "likelihood=5", "consequence=5")
    decision = cli(path, "decision", "add", "title=Fund the minor ailments pilot", f"date={day(-1)}",
                   "method=consensus", "outcome=agreed", "financial_implications=yes", "amount=12000")
    cli(path, "terms", "add", "title=GP Collaborative ToR", "body=gp-collaborative", f"date_agreed={year_start.isoformat()}",
        "practices+=prestatyn", "practices+=rhyl")
    meeting = cli(path, "meeting", "add", "title=GP Collaborative", "body=gp-collaborative", f"date={day(0)}", "status=held")
    cli(path, "meeting", "attend", meeting, "Dr Siân Evans", "--practice", "prestatyn")
    # What guide §3.11 asks the annual report for: progress against the plan, the meetings and
    # their quorum, decisions with what needs a look, the interests declared.
    priorities = cli(path, "list", "create", "title=Plan priorities", "kind=priorities")
    cli(path, "list", "add", priorities, "Reduce phlebotomy waits")
    cli(path, "list", "set", priorities, "1", "measure=Median wait under 5 days", "owner=Cluster lead")
    cli(path, "plan", "add", "title=Cluster plan 2025-28", "period_start=2025-04-01", "period_end=2028-03-31", "status=agreed",
        f"priorities={priorities}")
    cli(path, "terms", "add", "title=Board ToR", "body=stakeholder-board", f"date_agreed={year_start.isoformat()}", "quorum=3")
    board = cli(path, "meeting", "add", "title=Cluster board", "body=stakeholder-board", f"date={day(-2)}", "status=held")
    cli(path, "meeting", "attend", board, "Dr Siân Evans", "--practice", "prestatyn")
    cli(path, "decision", "add", "title=Second care navigator post", f"meeting={board}", "method=consensus", "outcome=agreed")
    cli(path, "declaration", "add", "member=Rhys Morgan", "organisation=Morgan Pharmacy Ltd", "nature=pecuniary",
        f"date_declared={day(-10)}")
    # Prestatyn's contribution to the plan for the last QAIF year, on time (CND015W).
    qaif_start = today.year if today.month >= 10 else today.year - 1
    cli(path, "contribution", "add", "contributor=prestatyn", f"year={qaif_start - 1}-{str(qaif_start)[2:]}",
        f"date={qaif_start}-09-12", "summary=Needs assessment")
    return year, decision


def test_report_renders_to_png_and_pdf(workdir, browser):
    replica = os.path.join(workdir, "lead.sqlite")
    year, _ = make_cluster(replica)
    out = os.path.join(workdir, "report.html")
    printed = cli(replica, "report", "--html", out, "--period", year)
    assert printed.startswith(f"wrote {out}")
    html = open(out, encoding="utf-8").read()
    # Self-contained: no scripts, nothing fetched; the title is escaped, not markup.
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    assert "&lt;winter&gt; &amp; weekends" in html
    assert "@page" in html and "<svg" in html

    context = browser.new_context(viewport={"width": 1000, "height": 1400}, locale="en-GB", offline=True)
    page = context.new_page()
    page.goto("file://" + out)
    text = page.inner_text("body")
    assert "north-denbighshire" in text
    assert "Open risks on the 5×5 matrix" in text
    assert "GP locum cover <winter> & weekends" in text          # the escalated risk in full
    assert "Shared locum pool across three practices" in text
    assert "Agree winter locum rota" in text                      # its linked action
    assert "Fund the minor ailments pilot" in text                # a decision of the period
    assert "Private practice matter" not in text                  # practice-private: nowhere
    # Risks closed in the period, with their lessons learned (guide §3.8).
    closed = page.eval_on_selector_all("table.closed-risks tbody tr", "trs => trs.map(tr => [...tr.children].map(c => c.textContent.trim()))")
    assert sorted([r[1], r[3]] for r in closed) == [["Flu clinic staffing", "Book bank staff in August, not October"],
                                                   ["Surgery lift out of service", "none recorded"]], closed
    # Lessons learned from reviews of a risk still open, in a section of their own.
    open_lessons = page.eval_on_selector_all("table.open-lessons tbody tr", "trs => trs.map(tr => [...tr.children].map(c => c.textContent.trim()))")
    assert [[r[1], r[3]] for r in open_lessons] == [["Premises lease ends", "Start lease talks two years out"]], open_lessons
    # Contributions to the plan: last QAIF year's (its deadline passed), then this one's.
    contributions = page.eval_on_selector_all("table.contributions tbody tr", "trs => trs.map(tr => [...tr.children].map(c => c.textContent.trim()))")
    assert [[r[0], r[2]] for r in contributions] == [["prestatyn", "on time"]], contributions
    assert "No contribution recorded for" in text
    # Attendance: prestatyn 1 meeting, rhyl (in the terms of reference) none; no meetings left, so both short.
    # The running QAIF year's table is the last; from October to March the financial year also
    # holds the end of the last QAIF year (30 September), reported first with its final figures.
    tables = page.eval_on_selector_all("table.attendance", "ts => ts.map(t => [...t.querySelectorAll('tbody tr')].map(tr => [...tr.children].map(c => c.textContent.trim())))")
    rows = tables[-1]
    assert [[r[0], r[2], r[3]] for r in rows] == [["prestatyn", "1", "cannot reach"], ["rhyl", "0", "cannot reach"]]
    today = datetime.datetime.now(datetime.timezone.utc).date()
    qaif_start = today.year if today.month >= 10 else today.year - 1
    if today.month >= 10 or today.month < 4:
        ended = f"{qaif_start - 1}-{qaif_start % 100:02d}"
        assert f"GP Collaborative attendance {ended}" in text and "these are its final figures" in text, text
        assert len(tables) == 2, tables
    else:
        assert len(tables) == 1 and "final figures" not in text, tables
    # The heat map counts 3 open shared risks: 4x5, 3x3, 1x2 (the private 5x5 is not counted).
    cells = page.eval_on_selector_all("table.heat td", "tds => tds.map(td => td.textContent.replace(/^\\w+: /, '').trim())")
    assert len(cells) == 25
    assert sum(int(c.split(": ")[-1]) for c in cells) == 3
    plan = page.inner_text("section.plans")
    assert "Cluster plan 2025-28" in plan and "Reduce phlebotomy waits" in plan and "Median wait under 5 days" in plan, plan
    meetings = page.eval_on_selector_all("table.meetings tbody tr", "trs => trs.map(tr => [...tr.children].map(c => c.textContent.trim()))")
    assert [m[1] for m in meetings] == ["Cluster board", "GP Collaborative"], meetings
    assert meetings[0][4].startswith("NOT MET: 1 of 3 needed"), meetings
    navigator = page.locator("table.decisions tbody tr", has_text="Second care navigator post")
    assert "taken at a meeting that did not have its quorum" in navigator.inner_text()
    declarations = page.inner_text("table.declarations")
    assert "Rhys Morgan" in declarations and "Morgan Pharmacy Ltd" in declarations
    tiles = page.inner_text(".tiles")
    assert "3\nopen risks" in tiles and "1\nactions overdue" in tiles

    os.makedirs(SHOTS, exist_ok=True)
    png = os.path.join(SHOTS, "board-report.png")
    page.screenshot(path=png, full_page=True)
    assert os.path.getsize(png) > 30_000
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    pdf = os.path.join(SHOTS, "board-report.pdf")
    page.emulate_media(media="print")
    page.pdf(path=pdf, format="A4", print_background=True, prefer_css_page_size=True)
    data = open(pdf, "rb").read()
    assert data.startswith(b"%PDF")
    # A4 (595 x 842 points, as the report's @page asks), on at least one page.
    assert re.search(rb"/MediaBox\s*\[\s*0\s+0\s+59[45](\.\d+)?\s+84[12](\.\d+)?\s*\]", data), "not A4"
    context.close()


def test_a_bad_period_is_refused_and_writes_nothing(workdir):
    import subprocess
    from conftest import BINARY
    replica = os.path.join(workdir, "lead.sqlite")
    init_replica(replica, "prestatyn", "Dr Siân Evans")
    out = os.path.join(workdir, "report.html")
    result = subprocess.run([BINARY, "report", "--replica", replica, "--html", out, "--period", "2026-2027"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "--period must be a financial year like 2026-27" in result.stderr
    assert not os.path.exists(out)
