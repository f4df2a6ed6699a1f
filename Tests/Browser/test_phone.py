"""A practice manager on a phone (400 px wide): every page of the app fits the screen, forms
and record pages included, so nothing needs scrolling sideways. The registers' cards are in
test_walkthrough.py; the roll-up's phone check is in test_rollup.py."""
import re

from playwright.sync_api import expect

from conftest import cli, shot

PHONE = {"width": 400, "height": 900}


def widest(page):
    """The page's width, and the elements that stick out past the screen's right edge."""
    return page.evaluate("""() => {
        const out = [];
        for (const e of document.querySelectorAll('body *')) {
            const r = e.getBoundingClientRect();
            if (r.right > window.innerWidth + 0.5 && r.width > 0)
                out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '') + ' ' + Math.round(r.right));
        }
        return [document.documentElement.scrollWidth, out.slice(0, 8)];
    }""")


def assert_fits(page, name):
    width, sticking_out = widest(page)
    shot(page, "phone-" + name)
    assert width <= PHONE["width"], f"{name} is {width} px wide on a {PHONE['width']} px screen: {sticking_out}"


def test_forms_and_record_pages_fit_a_phone_screen(page, app):
    risk = cli(app.replica, "risk", "add", "title=Phlebotomy clinic capacity at the Prestatyn branch surgery",
               "owner=Nurse lead", "category=service-delivery", "likelihood=3", "consequence=4", "review_date=2027-01-31",
               "description=Two phlebotomists share the clinic; when one is away the waiting list grows past six weeks.")
    cli(app.replica, "risk", "set", risk, "owner=Practice manager")
    action = cli(app.replica, "action", "add", "title=Agree the winter locum rota with the health board",
                 "owner=Cluster lead", "due_date=2026-12-01", "source=" + risk)
    terms = cli(app.replica, "terms", "add", "title=Cluster board terms of reference", "body=stakeholder-board",
                "date_agreed=2026-04-01", "quorum=2")
    meeting = cli(app.replica, "meeting", "add", "title=Cluster board, November", "body=stakeholder-board",
                  "date=2026-11-20", "status=held", "chair=Dr Gwen Morgan")
    cli(app.replica, "meeting", "attend", meeting, "Dr Siân Evans", "--capacity", "clinician", "--practice", "prestatyn-medical")
    decision = cli(app.replica, "decision", "add", "title=Fund the phlebotomy pilot", "meeting=" + meeting)
    declaration = cli(app.replica, "declaration", "add", "member=Dr Siân Evans", "organisation=Prestatyn Medical",
                      "nature=pecuniary", "description=Partner in the practice that would host the pilot", "meeting=" + meeting)
    agenda = cli(app.replica, "list", "create", "title=Board agenda, November", "kind=agenda")
    plan = cli(app.replica, "plan", "add", "title=Cluster plan 2025-28 for north Denbighshire", "period_start=2025-04-01",
               "period_end=2028-03-31", "status=draft")
    contribution = cli(app.replica, "contribution", "add", "plan=" + plan, "contributor=prestatyn-medical", "year=2025-26",
                       "date=2026-09-12", "summary=Practice needs assessment and the list's pressures")
    cli(app.replica, "terms", "add", "title=GP Collaborative terms", "body=gp-collaborative", "date_agreed=2025-04-01",
        "practices+=prestatyn-medical", "practices+=rhyl")

    page.set_viewport_size(PHONE)
    pages = [("risks/new", "Add a risk"), ("actions/new", None), ("meetings/new", None), ("terms/new", None),
             ("decisions/new", None), ("declarations/new", None),
             (f"records/{risk}", "Phlebotomy clinic capacity"), (f"records/{risk}/edit", None),
             (f"records/{action}", None), (f"records/{terms}", None), (f"records/{meeting}", None),
             (f"records/{decision}", None), (f"records/{declaration}", None), (f"lists/{agenda}", None),
             ("lists", None), ("conflicts", None), ("sync", None), ("export", None), ("import", None),
             ("terms", None), ("decisions", None), ("declarations", None),
             ("plans", None), ("plans/new", None), ("contributions", None), ("contributions/new", None),
             (f"records/{plan}", None), (f"records/{contribution}", None), ("attendance", "GP Collaborative attendance")]
    for path, heading in pages:
        page.goto(app.address + path)
        if heading:
            expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(heading))
        assert_fits(page, path.replace("/", "-"))
    # A record's details: each name above its value, which has the screen's width.
    page.goto(app.address + f"records/{risk}")
    value = page.locator("dl.fields dd").first.bounding_box()
    assert value["width"] >= 300, f"a detail's value is squeezed to {value['width']} px"


def test_a_register_is_sorted_on_a_phone(page, app):
    # The column headers that sort the register are not shown on a phone's cards; the filters'
    # "Sort by" and "Order" do the same.
    for title, likelihood in [("Asthma reviews backlog", "2"), ("Branch surgery lift out of order", "4"),
                              ("Cold chain for vaccines", "1")]:
        cli(app.replica, "risk", "add", "title=" + title, "owner=Practice manager", "likelihood=" + likelihood, "consequence=3")
    page.set_viewport_size(PHONE)
    page.goto(app.address + "risks")
    titles = page.locator("#register tbody td:first-child a")
    # By score, highest first, as the register opens.
    expect(titles).to_have_text(["Branch surgery lift out of order", "Asthma reviews backlog", "Cold chain for vaccines"])
    # Another column in its usual order (titles A to Z) unless an order is chosen.
    page.get_by_label("Sort by").select_option(label="Risk")
    page.get_by_role("button", name="Apply filters").click()
    expect(titles).to_have_text(["Asthma reviews backlog", "Branch surgery lift out of order", "Cold chain for vaccines"])
    expect(page.get_by_label("Sort by")).to_have_value("title")
    expect(page.get_by_label("Order")).to_have_value("")
    page.get_by_label("Order").select_option("desc")
    page.get_by_role("button", name="Apply filters").click()
    expect(titles).to_have_text(["Cold chain for vaccines", "Branch surgery lift out of order", "Asthma reviews backlog"])
    assert_fits(page, "risks-sorted")


def test_a_registers_cards_stay_a_table_for_assistive_technology(page, app):
    # Shown as blocks, a table's rows can stop being a table to a screen reader. Chromium's own
    # accessibility tree (what a screen reader is given) still has the register's cards as a
    # table's rows of cells on a phone; only the hidden header row and empty cells leave it.
    for title in ["Asthma reviews backlog", "Branch surgery lift out of order"]:
        cli(app.replica, "risk", "add", "title=" + title, "owner=Practice manager", "likelihood=2", "consequence=3")
    page.set_viewport_size(PHONE)
    page.goto(app.address + "risks")
    cdp = page.context.new_cdp_session(page)
    nodes = {n["nodeId"]: n for n in cdp.send("Accessibility.getFullAXTree")["nodes"] if not n.get("ignored")}

    def role(node):
        return node.get("role", {}).get("value")

    def children(node):
        return [nodes[c] for c in node.get("childIds", []) if c in nodes]

    def names(node):
        return [node.get("name", {}).get("value") or ""] + [n for child in children(node) for n in names(child)]

    register = [n for n in nodes.values() if role(n) == "table" and any("risks shown" in name for name in names(n))]
    assert len(register) == 1, "the register is not a table to assistive technology on a phone"
    rows = [n for n in nodes.values() if role(n) == "row" and any("Asthma" in x or "Branch surgery" in x for x in names(n))]
    assert len(rows) == 2, f"the register's cards are not rows: {sorted({role(n) for n in nodes.values()})}"
    for row in rows:
        parts = {role(child) for child in children(row)}
        assert parts == {"cell"}, f"a card's parts are {parts}, not cells"
        # Each cell after the title says its column, as a header would.
        assert any(x.startswith("Owner:") or "Owner: " in x for x in names(row)), names(row)


def test_the_risk_register_fits_a_laptop_screen(page, app):
    # A risk owned by a shared mailbox: a long address in the Owner column, on the laptop
    # widths practices have (before, the heat map took the left third and the register's
    # last columns fell off the screen at 1024 px).
    cli(app.replica, "risk", "add", "title=GP locum cover over winter", "likelihood=4", "consequence=4", "review_date=2027-01-31",
        "owner=estates.facilities.northdenbighshirecluster@wales.nhs.uk")
    for width in [1366, 1280, 1024, 768]:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(app.address + "risks")
        scrolled = page.evaluate("document.documentElement.scrollWidth")
        shot(page, f"laptop-risks-{width}")
        assert scrolled <= width, f"/risks is {scrolled} px wide on a {width} px screen"
        review = page.get_by_role("cell", name="31 Jan 2027").bounding_box()
        assert review["x"] + review["width"] <= width, f"the review date is off the screen at {width} px: {review}"


def test_dates_that_stay_and_a_completion_taken_back(page, app):
    # A meeting's date is what it is counted by: emptying its box is refused beside it, saying
    # which date stays.
    meeting = cli(app.replica, "meeting", "add", "title=Cluster board, November", "body=stakeholder-board", "date=2026-11-20")
    page.goto(app.address + f"records/{meeting}/edit")
    page.get_by_label("Date", exact=True).fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Date cannot be emptied: it stays 20 Nov 2026 unless you give another date")
    # An action set complete by mistake, then reopened in its form: the completion date goes.
    action = cli(app.replica, "action", "add", "title=Chase the locum agency", "owner=Practice manager", "status=complete")
    page.goto(app.address + f"records/{action}/edit")
    expect(page.get_by_label("Completed")).not_to_have_value("")
    page.get_by_label("Status").select_option("in-progress")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.locator("dl.fields")).not_to_contain_text("Completed")
    expect(page.locator("tbody")).to_contain_text("to no date")
