"""The README's practice manager walk-through, tried in headless Chromium against the real
`clustersync app` on a real replica: add and edit risks, a refused value kept as typed, a
conflict made by another practice's replica and merged in, settled with one click, a list
reordered without JavaScript. Screenshots land in $SCREENSHOTS (default .build/browser-screenshots)."""
import json
import os
import base64
import hashlib
import re
import urllib.error
import urllib.request

from playwright.sync_api import expect

from conftest import cli, init_replica, open_app, reload, shot


def shown_record(page):
    """The id of the record the page shows, as a Save lands on it."""
    return re.search(r"/records/([A-Z]+-[A-Z0-9]+)", page.url).group(1)


def add_risk(page, title, owner, likelihood, consequence, review):
    page.get_by_role("link", name="Risk register").click()
    page.get_by_role("link", name="Add a risk").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Owner").fill(owner)
    page.get_by_label("Likelihood", exact=True).select_option(str(likelihood))
    page.get_by_label("Consequence", exact=True).select_option(str(consequence))
    page.get_by_label("Review date").fill(review)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return shown_record(page)


def test_add_edit_and_see_risks_in_the_register(page, app):
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk register")
    add_risk(page, "GP locum cover over winter", "Practice manager", 4, 4, "15/12/2026")
    details = page.locator("dl.fields")
    expect(details).to_contain_text("4x4 = 16 (extreme)")
    expect(details).to_contain_text("15 Dec 2026")
    add_risk(page, "Server room air conditioning", "Estates lead", 2, 3, "01/01/2026")
    add_risk(page, "Phlebotomy clinic capacity", "Nurse lead", 3, 2, "30/06/2027")

    # Edit: the form shows the date as typed in Wales, and the change shows on the record.
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Review date")).to_have_value("30/06/2027")
    # A date set by mistake is emptied by emptying its box: the record has no review date, and
    # history keeps the one it had.
    page.get_by_label("Review date").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.locator("dl.fields")).not_to_contain_text("Review date")
    expect(page.locator("tbody")).to_contain_text("review date changed from 30 Jun 2027 to no date")
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Review date")).to_have_value("")
    page.get_by_label("Review date").fill("30/06/2027")
    page.get_by_label("Owner").fill("Lead nurse, Prestatyn")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.get_by_text("Lead nurse, Prestatyn").first).to_be_visible()
    expect(page.get_by_text("changed from Nurse lead to Lead nurse, Prestatyn")).to_be_visible()
    # Cause, effect and the lessons a review taught are written here too, as the CLI writes
    # them (the board report's lessons learned; web app audit: only shown before).
    page.get_by_role("link", name="Edit").click()
    # This practice's replica has no lead's role: the form says what only the lead may write
    # before Save refuses it.
    expect(page.locator("#h-status")).to_have_text("Closing a shared risk is the cluster lead's: this practice's replica cannot.")
    expect(page.get_by_label("Escalated to")).to_have_attribute("aria-describedby", "h-escalation")
    page.get_by_label("Cause").fill("Two phlebotomists retiring in spring")
    page.get_by_label("Effect").fill("Waits over ten days")
    page.get_by_label("Lessons learned").fill("Recruit a year ahead")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    shown = json.loads(cli(app.replica, "risk", "show", shown_record(page), "--json"))
    assert [shown["fields"].get(f) for f in ["cause", "effect", "lessons_learned"]] == [
        "Two phlebotomists retiring in spring", "Waits over ten days", "Recruit a year ahead"], shown

    page.get_by_role("link", name="Risk register").click()
    table = page.locator("#register")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    # Sorted by score, highest first; the overdue review is highlighted and says so in words.
    expect(rows.nth(0)).to_contain_text("GP locum cover over winter")
    overdue = rows.filter(has_text="Server room air conditioning")
    expect(overdue).to_have_class("overdue")
    expect(overdue).to_contain_text("1 Jan 2026 (overdue)")
    # Its page says so beside the review date, as the register does, not in a row of its own.
    overdue.get_by_role("link").click()
    review = page.locator("dl.fields dt", has_text="Review date")
    expect(review).to_have_count(1)
    expect(page.locator("dl.fields")).to_contain_text("1 Jan 2026 (overdue)")
    page.go_back()
    # The heat map counts open risks by likelihood (rows, 5 at the top) and consequence.
    heat = page.locator("table.heat tbody tr")
    expect(heat.nth(1).locator("td").nth(3)).to_have_text("extreme: 1")  # likelihood 4, consequence 4
    # Each axis has a header of its own: likelihood over the row labels, consequence across the
    # columns. One corner cell holding both wrapped into a cramped block at narrow widths.
    expect(page.locator("table.heat thead th.corner")).to_have_text("Likelihood")
    expect(page.locator("table.heat thead th[colspan='5']")).to_have_text("Consequence")
    # The bands' colours have a key in words.
    expect(page.locator(".heat-key")).to_have_text(re.compile(r"low\s+moderate\s+high\s+extreme"))
    shot(page, "risk-register")
    page.set_viewport_size({"width": 400, "height": 900})
    axis = page.locator("table.heat thead th[colspan='5']").bounding_box()
    heat_box = page.locator("table.heat").bounding_box()
    assert axis["height"] < 30, f"the consequence header wraps: {axis}"
    shot(page, "risk-register-narrow")
    assert heat_box["x"] + heat_box["width"] <= 400, f"the heat map is wider than a phone: {heat_box}"
    shot(page, "risk-register-narrow")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Sort by title, then filter to overdue reviews only.
    table.locator("thead").get_by_role("link", name=re.compile("^Risk")).click()
    expect(rows.nth(0)).to_contain_text("GP locum cover over winter")
    expect(page.locator("th[aria-sort]")).to_contain_text("Risk")
    page.get_by_label("Only risks overdue for review").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Server room air conditioning")

    # What the CLI reads back is what the browser wrote, dates in ISO.
    listed = cli(app.replica, "risk", "list")
    assert "Lead nurse, Prestatyn" in listed and "2027-06-30" in listed


def test_a_form_opened_before_a_sync_does_not_undo_what_the_sync_brought(page, app):
    risk = cli(app.replica, "risk", "add", "title=Estates lease", "owner=Practice manager", "likelihood=2", "consequence=3")
    page.goto(app.address + "records/" + risk + "/edit")
    expect(page.get_by_label("Owner")).to_have_value("Practice manager")
    # Meanwhile (a sync, another window) the owner and the review date change.
    cli(app.replica, "risk", "set", risk, "owner=Estates lead, Rhyl", "review_date=2027-01-31")
    # Saving the old form with only the title changed keeps the new owner and date.
    page.get_by_label("Title").fill("Estates lease, Rhyl")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    shown = cli(app.replica, "risk", "show", risk)
    assert "Estates lease, Rhyl" in shown and "Estates lead, Rhyl" in shown and "2027-01-31" in shown, shown
    # A field changed both under the form and on it is not written blind: the form says what it
    # reads now, keeps what was typed, and a second save writes it.
    page.get_by_role("link", name="Edit").click()
    cli(app.replica, "risk", "set", risk, "owner=Cluster lead")
    page.get_by_label("Owner").fill("Practice manager, Rhyl")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text('it now reads "Cluster lead"')
    expect(page.get_by_label("Owner")).to_have_value("Practice manager, Rhyl")
    assert "Cluster lead" in cli(app.replica, "risk", "show", risk)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert "Practice manager, Rhyl" in cli(app.replica, "risk", "show", risk)
    # A description of several lines written elsewhere (LF) reads as unchanged when the browser
    # sends it back (CR LF), ending line break and all.
    cli(app.replica, "risk", "set", risk, "description=Lease ends March 2027.\nEstates review in January.\n",
        "likelihood=3", "consequence=4")
    page.get_by_role("link", name="Edit").click()
    description = page.get_by_label("Description")
    description.fill(description.input_value() + "\nBoard to decide in February.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    shown = cli(app.replica, "risk", "show", risk)
    assert "Board to decide in February." in shown and "\r" not in shown, shown
    # A score's half changed on the form while the other changed under it is refused, not merged.
    page.get_by_role("link", name="Edit").click()
    cli(app.replica, "risk", "set", risk, "consequence=5")
    page.get_by_label("Likelihood", exact=True).select_option("2")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text('it now reads "5"')
    assert "3x5" in cli(app.replica, "risk", "show", risk).replace(" ", "")


def test_a_refused_value_keeps_what_was_typed(page):
    page.get_by_role("link", name="Add a risk").click()
    typed_title = "Letter to patient 943 476 5919 not sent"
    page.get_by_label("Title").fill(typed_title)
    page.get_by_label("Owner").fill("Reception lead")
    page.get_by_label("Likelihood", exact=True).select_option("2")
    page.get_by_label("Consequence", exact=True).select_option("5")
    page.get_by_role("button", name="Save").click()
    # The same rule and message as `clustersync risk add`: an NHS number has no place here.
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("There is a problem")
    expect(alert).to_contain_text("NHS number")
    expect(page.get_by_label("Title")).to_have_value(typed_title)
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Title")).to_be_focused()   # the keyboard starts at the field to put right
    expect(page.get_by_label("Owner")).to_have_value("Reception lead")
    expect(page.get_by_label("Likelihood", exact=True)).to_have_value("2")
    shot(page, "validation-error")

    # A date that is not one is refused in plain words, and kept as typed too.
    page.get_by_label("Title").fill("Letter to patient not sent")
    page.get_by_label("Review date").fill("next Tuesday")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Review date must be a date like 15/12/2026")
    expect(page.get_by_label("Review date")).to_have_value("next Tuesday")
    # A day that does not exist is said so, not asked for in a form it is in already.
    page.get_by_label("Review date").fill("31/02/2026")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Review date must be a day that exists: there is no 31 February 2026 (February 2026 has 28 days)")
    expect(page.get_by_label("Review date")).to_have_value("31/02/2026")
    expect(page.get_by_label("Review date")).to_be_focused()
    page.get_by_label("Review date").fill("28/02/2026")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Letter to patient not sent")


def test_resolve_a_conflict_from_another_practice(page, app, workdir):
    risk = add_risk(page, "Flu vaccine fridge failure", "Practice manager", 3, 4, "15/12/2026")

    # Rhyl's replica receives the risk, and Rhyl's practice manager changes its owner with the CLI.
    rhyl = os.path.join(workdir, "rhyl.sqlite")
    init_replica(rhyl, "rhyl-health", "Rhyl Health Centre")
    cli(rhyl, "merge", "--from", app.replica)
    cli(rhyl, "risk", "set", risk, "owner=Rhyl nurse manager")

    # Meanwhile Prestatyn changes the same field in the browser, without seeing Rhyl's change.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Owner").fill("Prestatyn practice manager")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()

    # The same on a second risk: the Conflicts page says what it is for once, not per record.
    second = cli(app.replica, "risk", "add", "title=Phone lines down", "owner=Reception lead")
    cli(rhyl, "merge", "--from", app.replica)
    cli(rhyl, "risk", "set", second, "owner=Rhyl reception")
    cli(app.replica, "risk", "set", second, "owner=Prestatyn reception")
    cli(app.replica, "merge", "--from", rhyl)
    page.get_by_role("link", name=re.compile("^Conflicts")).click()
    expect(page.locator("nav .badge")).to_have_text("records in conflict: 2")
    # Seen, the badge is the number; heard, it says what it counts.
    expect(page.get_by_role("link", name="Conflicts records in conflict: 2")).to_be_visible()
    expect(page.get_by_text("These records were changed at two practices at once")).to_have_count(1)
    cli(app.replica, "conflicts", "resolve", second, "owner", "--keep", "1")
    reload(page)
    expect(page.locator("nav .badge")).to_have_text("records in conflict: 1")
    # Every page's menu counts the same (kept between changes of the file, counted again after
    # one, whichever process made it: here the CLI).
    page.get_by_role("link", name="Risk register").click()
    expect(page.locator("nav .badge")).to_have_text("records in conflict: 1")
    page.get_by_role("link", name=re.compile("^Conflicts")).click()
    page.get_by_role("link", name="Flu vaccine fridge failure").click()
    section = page.locator("section.conflict")
    expect(section).to_contain_text("Owner")
    sides = section.locator(".side")
    expect(sides).to_have_count(2)
    expect(section).to_contain_text("Rhyl nurse manager")
    expect(section).to_contain_text("Prestatyn practice manager")
    expect(section).to_contain_text("by Rhyl Health Centre")
    shot(page, "conflict")

    # A tampered form (a value the page never offered) is refused with the library's message,
    # not a failure of the page, and settles nothing.
    form = sides.first.locator("form")
    form.locator("input[name=keep]").evaluate("input => input.value = '99'")
    form.get_by_role("button", name=re.compile("Keep this one")).click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.locator("section.conflict .side").count() == 2
    # The smallest number there is once took the app down (`n - 1` trapped), every tab with it.
    form = page.locator("section.conflict .side").first.locator("form")
    form.locator("input[name=keep]").evaluate("input => input.value = '-9223372036854775808'")
    form.get_by_role("button", name=re.compile("Keep this one")).click()
    expect(page.get_by_role("alert")).to_contain_text("give 1 to 2")
    # So did an empty `settled` typed into the address bar.
    record_url = "/".join(page.url.split("?")[0].split("/")[:5])  # http://host/records/ID, not /resolve
    for query in ["?settled=", "?settled=:"]:
        page.goto(record_url + query)
        expect(page.get_by_role("heading", level=1)).to_have_text("Flu vaccine fridge failure")
    page.get_by_role("link", name=re.compile("^Conflicts")).click()
    page.get_by_role("link", name="Flu vaccine fridge failure").click()
    section = page.locator("section.conflict")
    sides = section.locator(".side")

    sides.filter(has_text="Rhyl nurse manager").get_by_role("button", name=re.compile("Keep this one")).click()
    expect(page.get_by_role("status")).to_contain_text("Settled: Owner")
    expect(page.get_by_text("No conflicts: every practice's copy agrees.")).to_be_visible()
    expect(page.locator("nav .badge")).to_have_count(0)
    expect(page.get_by_role("heading", name="Needs a decision")).to_have_count(0)
    expect(page.locator("dl.fields")).to_contain_text("Rhyl nurse manager")
    # History says which value was kept over which, not "changed from X to X".
    expect(page.locator("tbody")).to_contain_text("owner settled: Rhyl nurse manager kept over Prestatyn practice manager")
    # The CLI sees it settled too: the resolution is an ordinary edit in the replica.
    assert "no conflicts" in cli(app.replica, "conflicts")
    page.get_by_role("link", name="Sync").click()
    expect(page.locator("#pending")).not_to_have_text("0")


def test_reorder_a_list_without_javascript(browser, app):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    open_app(page, app)
    page.get_by_role("link", name="Lists").click()
    # A list without a title is refused, and the page says why (it used to come back silently),
    # keeping the kind chosen.
    page.get_by_label("Kind of list").select_option("membership")
    page.get_by_role("button", name="Create the list").click()
    expect(page.get_by_role("alert")).to_contain_text("a list needs a title")
    expect(page.get_by_label("Kind of list")).to_have_value("membership")
    page.get_by_label("Title").fill("Cluster board agenda, December")
    page.get_by_label("Kind of list").select_option("agenda")
    page.get_by_role("button", name="Create the list").click()
    # An item without its text is refused beside the field.
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#e-text")).to_have_text("An item needs its text: type what the item is before adding it")
    for text in ["Apologies", "Minutes of the last meeting", "Winter pressures", "Any other business"]:
        page.get_by_label("Item", exact=True).fill(text)
        page.get_by_role("button", name="Add", exact=True).click()
    items = page.locator("#items .text")
    expect(items).to_have_text(["Apologies", "Minutes of the last meeting", "Winter pressures", "Any other business"])

    page.get_by_role("button", name="Move up: Winter pressures").click()
    expect(items).to_have_text(["Apologies", "Winter pressures", "Minutes of the last meeting", "Any other business"])
    page.get_by_role("button", name="Move down: Apologies").click()
    expect(items).to_have_text(["Winter pressures", "Apologies", "Minutes of the last meeting", "Any other business"])
    page.get_by_role("spinbutton", name="Move to place: Any other business").fill("1")
    page.get_by_role("button", name="Move: Any other business").click()
    expect(items).to_have_text(["Any other business", "Winter pressures", "Apologies", "Minutes of the last meeting"])
    shot(page, "agenda")

    # An item typed wrong is corrected on its own page, and one added by mistake deleted there
    # (web app audit: the list page only moved items). Deleting an item is any practice's.
    page.get_by_role("link", name="Apologies: edit or delete this item").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Apologies")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Item").fill("Apologies and substitutes")
    page.get_by_label("Owner").fill("Cluster lead")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Apologies and substitutes")
    shot(page, "agenda-item")
    page.get_by_role("link", name="Lists").click()
    page.get_by_role("link", name="Cluster board agenda, December").click()
    expect(items).to_have_text(["Any other business", "Winter pressures", "Apologies and substitutes – Cluster lead", "Minutes of the last meeting"])
    page.get_by_role("link", name="Winter pressures: edit or delete this item").click()
    page.get_by_label("Yes, delete this record").check()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("Item deleted from the list.")
    expect(items).to_have_text(["Any other business", "Apologies and substitutes – Cluster lead", "Minutes of the last meeting"])
    # Deleted, the same item may be added again (a form alike is otherwise answered once).
    page.get_by_label("Item", exact=True).fill("Winter pressures")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(items).to_have_text(["Any other business", "Apologies and substitutes – Cluster lead", "Minutes of the last meeting", "Winter pressures"])
    context.close()


def test_every_request_needs_the_session_and_every_form_its_token(page, app):
    # The start link works once: a second browser cannot use it; nor can anything without the cookie.
    # Redirects are not followed: a start link that worked again would answer 303 with a cookie,
    # and following it without the cookie would end at a 403 too.
    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(NoRedirects)
    for url in [app.link, app.address + "risks", app.address + "export/risks.csv"]:
        try:
            opener.open(url)
            raise AssertionError(f"{url} answered without the session cookie")
        except urllib.error.HTTPError as error:
            assert error.code == 403, f"{url}: {error.code}"
            assert error.headers["Set-Cookie"] is None, f"{url} set a cookie"
            assert "default-src 'none'" in error.headers["Content-Security-Policy"]
    # With the cookie but without the CSRF token, a form is refused and nothing is written.
    cookie = page.context.cookies()[0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    request = urllib.request.Request(app.address + "risks", data=b"title=Forged", method="POST",
                                     headers={"Cookie": f"{cookie['name']}={cookie['value']}"})
    try:
        urllib.request.urlopen(request)
        raise AssertionError("a form without its CSRF token was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 403
    assert "Forged" not in cli(app.replica, "risk", "list")
    # A page asked for under another host name (DNS rebinding) is refused, cookie or not.
    rebound = urllib.request.Request(app.address + "risks", headers={
        "Host": "attacker.example", "Cookie": f"{cookie['name']}={cookie['value']}"})
    try:
        urllib.request.urlopen(rebound)
        raise AssertionError("a request for another host name was answered")
    except urllib.error.HTTPError as error:
        assert error.code == 403
    # A page that does not exist, signed in: a page saying so, with the same headers.
    try:
        urllib.request.urlopen(urllib.request.Request(app.address + "nope", headers={"Cookie": f"{cookie['name']}={cookie['value']}"}))
        raise AssertionError("/nope was answered")
    except urllib.error.HTTPError as error:
        assert error.code == 404
        assert "default-src 'none'" in error.headers["Content-Security-Policy"]
        assert error.headers["Cache-Control"] == "no-store"
        assert "There is no such page" in error.read().decode()
    # One script only, inline (nothing fetched): the one that notices changes, allowed by its
    # hash in the Content-Security-Policy and by nothing else.
    page.goto(app.address + "risks")
    scripts = page.locator("script")
    assert scripts.count() == 1 and scripts.first.get_attribute("src") is None
    digest = base64.b64encode(hashlib.sha256(scripts.first.text_content().encode()).digest()).decode()
    with urllib.request.urlopen(urllib.request.Request(app.address + "risks", headers={
            "Cookie": f"{cookie['name']}={cookie['value']}"})) as response:
        policy = response.headers["Content-Security-Policy"]
    assert f"script-src 'sha256-{digest}';" in policy and "unsafe-inline" not in policy


def test_a_meeting_with_attendance_and_a_declaration_of_interest(page, app):
    cli(app.replica, "list", "create", "title=Board agenda, March", "kind=agenda")
    page.get_by_role("link", name="Meetings").click()
    page.get_by_role("link", name="Add a meeting").click()
    page.get_by_label("Title").fill("Cluster board, March")
    page.get_by_label("Body").select_option(index=1)
    page.get_by_label("Date").fill("12/03/2027")
    page.get_by_label("Chair").fill("Dr Gwen Morgan")
    page.get_by_label("Agenda").select_option(label="Board agenda, March")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cluster board, March")
    expect(page.locator("dl.fields")).to_contain_text("12 Mar 2027")
    expect(page.locator("dl.fields")).to_contain_text("Board agenda, March")

    page.get_by_label("Name").fill("Dr Siân Evans")
    page.get_by_label("Attended as").select_option("substitute")
    page.get_by_label("In the capacity of").select_option("clinician")
    # The practice's full name instead of its id: refused beside the form, what was typed kept.
    page.get_by_label("Practice", exact=True).fill("Prestatyn Medical")
    page.get_by_role("button", name="Record attendance").click()
    expect(page.locator("#a-error")).to_contain_text("practice must be a practice's id as the cluster registered it")
    expect(page.locator("#a-error")).to_contain_text('got "Prestatyn Medical"')
    # In a form's words: the JSON shape the CLI's message ends with is not shown here.
    expect(page.locator("#a-error")).not_to_contain_text("{")
    expect(page.get_by_label("Name")).to_have_value("Dr Siân Evans")
    expect(page.get_by_label("Attended as")).to_have_value("substitute")
    expect(page.get_by_label("In the capacity of")).to_have_value("clinician")
    page.get_by_label("Practice", exact=True).fill("prestatyn-medical")
    page.get_by_label("Agreed in advance by").fill("BCUHB primary care")
    page.get_by_label("Agreed on").fill("01/03/2027")
    page.get_by_role("button", name="Record attendance").click()
    expect(page.get_by_role("status")).to_have_text("Attendance recorded.")
    expect(page.locator("dl.fields")).to_contain_text("Dr Siân Evans (substitute, clinician, prestatyn-medical, agreed by BCUHB primary care on 1 Mar 2027)")
    expect(page.locator("tbody")).to_contain_text("agreed by BCUHB primary care on 1 Mar 2027) added to attended")
    page.get_by_role("link", name="Meetings").click()
    row = page.locator("tbody tr").filter(has_text="Cluster board, March")
    expect(row).to_contain_text("12 Mar 2027")
    expect(row.locator("td").last).to_have_text("1")
    shot(page, "meetings")

    page.get_by_role("link", name="Declarations of interest").click()
    page.get_by_role("link", name="Declare an interest").click()
    page.get_by_label("Organisation").fill("Rhyl Pharmacy Ltd")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("a declaration of interest needs a member")
    expect(page.get_by_label("Organisation")).to_have_value("Rhyl Pharmacy Ltd")
    page.get_by_label("Member").fill("Dr Rhys Jones")
    page.get_by_label("Nature of the interest").select_option("pecuniary")
    page.get_by_label("Declared on").fill("01/11/2026")
    # Declared at the meeting: chosen on the declaration's own form, as `declaration add
    # meeting=` (web app audit: only the meeting's page could link it).
    page.get_by_label("Meeting").select_option(label="Cluster board, March, 12 Mar 2027")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dr Rhys Jones")
    expect(page.locator("dl.fields")).to_contain_text("Cluster board, March")
    declaration = shown_record(page)
    shown = json.loads(cli(app.replica, "declaration", "show", declaration, "--json"))
    assert shown["fields"]["meeting"].startswith("MTG-"), shown
    # The meeting's page offers declarations by member, organisation and day (a member may
    # declare several), and a page not held here says so without alarm.
    page.goto(app.address + "records/" + shown["fields"]["meeting"])
    expect(page.get_by_label("Add to declarations of interest").locator("option", has_text="Dr Rhys Jones")).to_have_text(
        "Dr Rhys Jones, Rhyl Pharmacy Ltd, 1 Nov 2026")
    page.goto(app.address + "meetings/terms")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    page.go_back()
    page.get_by_role("link", name="Declarations of interest").click()
    expect(page.locator("tbody tr").filter(has_text="Dr Rhys Jones")).to_contain_text("1 Nov 2026")


def test_a_decisions_page_shows_what_its_votes_are_checked_against(page, app):
    """The checks of `GovernanceRecords.checks`, as the CLI's `show` prints them: a vote cast
    with an interest in force, a vote by a non-member, a held meeting short of its quorum."""
    r = app.replica
    cli(r, "terms", "add", "title=Board ToR", "body=stakeholder-board", "date_agreed=2026-04-01", "quorum=3",
        "majority=simple", "members+=Dr Rhys Jones", "members+=Dr Siân Evans", "members+=Ceri Lloyd")
    meeting = cli(r, "meeting", "add", "title=Cluster board, October", "body=stakeholder-board", "date=2026-10-15", "status=held")
    cli(r, "meeting", "attend", meeting, "Dr Rhys Jones", "--practice", "rhyl")
    cli(r, "declaration", "add", "member=Dr Rhys Jones", "nature=pecuniary", "organisation=Rhyl Pharmacy Ltd", "date_declared=2026-10-01")
    decision = cli(r, "decision", "add", "title=Fund the pharmacy pilot", f"meeting={meeting}", "method=vote", "outcome=agreed")
    cli(r, "decision", "vote", decision, "Dr Rhys Jones", "for")
    cli(r, "decision", "vote", decision, "Megan Price", "for")
    page.goto(app.address + "records/" + decision)
    checks = page.locator("dl.checks")
    expect(page.get_by_role("heading", name="Checks against the terms of reference and declarations")).to_be_visible()
    expect(checks.locator("dd.attention")).to_have_text([
        "taken at a meeting that did not have its quorum",
        "voted but not recorded as attending the meeting: Megan Price",
        "voted with an interest in force and not recorded as abstaining for it: Dr Rhys Jones",
        "voted but not a member in the terms of reference Board ToR: Megan Price",
    ])
    # Records the checks name are links titled as people know them, not ids.
    expect(checks.locator("dd", has_text="Dr Rhys Jones (Rhyl Pharmacy Ltd, declared 1 Oct 2026)")).to_have_count(1)
    checks.get_by_role("link", name="Rhyl Pharmacy Ltd, declared 1 Oct 2026").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dr Rhys Jones")
    expect(page.locator("dl.fields")).to_contain_text("pecuniary")
    page.go_back()
    expect(checks.get_by_role("link", name="Board ToR").first).to_have_attribute("href", re.compile(r"^/records/TOR-"))
    expect(checks).to_contain_text("2 for, 0 against, 0 abstaining")
    # Labelled in the app's words, not the CLI's.
    expect(checks.locator("dt").first).to_have_text("Votes cast")
    expect(checks.locator("dt", has_text="Needs a look")).to_have_count(4)
    # Each member's vote is listed, and its history names the member as written.
    expect(page.locator("dl.fields")).to_contain_text("Megan Price: for")
    expect(page.locator("tbody")).to_contain_text("votes: Megan Price set to for")
    assert os.path.getsize(shot(page, "decision-checks")) > 10_000
    # Megan Price was not at the meeting and did not vote: the chair withdraws the vote, and
    # the checks about her go (`decision unvote`).
    page.get_by_role("button", name="Withdraw Megan Price's vote (recorded by mistake)").click()
    expect(page.get_by_role("status")).to_contain_text("Vote withdrawn")
    expect(checks.locator("dd.attention")).to_have_text([
        "taken at a meeting that did not have its quorum",
        "voted with an interest in force and not recorded as abstaining for it: Dr Rhys Jones",
    ])
    expect(checks).to_contain_text("1 for, 0 against, 0 abstaining")
    expect(page.locator("dl.fields")).not_to_contain_text("Megan Price")
    expect(page.locator("tbody")).to_contain_text("votes: Megan Price changed from for to withdrawn")
    shot(page, "decision-vote-withdrawn")
    page.goto(app.address + "records/" + decision)
    # The meeting lists the decision naming it; its own empty link sets say what they are not,
    # rather than "None yet." beside that list (web app audit).
    page.goto(app.address + "records/" + meeting)
    expect(page.get_by_role("heading", name="Decisions taken at this meeting")).to_be_visible()
    expect(page.locator("main")).to_contain_text("None linked from the meeting itself. Decisions that name this meeting are listed under")
    expect(page.locator("main")).to_contain_text("None made at this meeting.")
    expect(page.locator("section.set", has=page.get_by_role("heading", name="Decisions", exact=True))).not_to_contain_text("None yet.")
    # The decision log names each decision's meeting and what needs a look, in words (the
    # scale audit: a bare count), and lists only the decisions that need one when asked.
    cli(r, "decision", "add", "title=Note the winter plan", "date=2026-11-02", "method=consensus", "outcome=agreed")
    cli(r, "decision", "vote", decision, "Megan Price", "for")
    page.goto(app.address + "decisions")
    row = page.locator("table tbody tr", has_text="Fund the pharmacy pilot")
    expect(row.locator("td[data-label='Meeting']")).to_have_text("Cluster board, October")
    expect(row.locator("td[data-label='Needs a look']")).to_have_text(
        "taken at a meeting that did not have its quorum; voted but not recorded as attending the meeting: Megan Price; "
        "voted with an interest in force and not recorded as abstaining for it: Dr Rhys Jones; "
        "voted but not a member in the terms of reference Board ToR: Megan Price")
    expect(page.locator("table tbody tr")).to_have_count(2)
    page.get_by_label("Only decisions that need a look").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("p.register-narrowed")).to_have_text("1 of the 2 decisions needs a look.")
    expect(page.get_by_label("Only decisions that need a look")).to_be_checked()
    shot(page, "decision-log-needing-a-look")


def test_a_chair_records_a_decision_and_its_votes_in_the_browser(page, app):
    """The decision form links a meeting (dating the decision by it) and the decision's page
    records each member's vote, so a cluster lead chairing a meeting needs no terminal."""
    r = app.replica
    cli(r, "terms", "add", "title=Board ToR", "body=stakeholder-board", "date_agreed=2026-04-01", "quorum=1", "majority=simple")
    cli(r, "meeting", "add", "title=Cluster board, October", "body=stakeholder-board", "date=2026-10-15", "status=held")
    page.get_by_role("link", name="Decisions").click()
    page.get_by_role("link", name="Add a decision").click()
    page.get_by_label("Title").fill("Extend the minor ailments pilot")
    page.get_by_label("Meeting").select_option(label="Cluster board, October, 15 Oct 2026")
    page.get_by_label("How decided").select_option("vote")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Extend the minor ailments pilot")
    expect(page.locator("dl.fields")).to_contain_text("15 Oct 2026")       # dated by its meeting
    for member, vote in [("Dr Siân Evans", "for"), ("Ceri Lloyd", "against"), ("Dr Gareth Jones", "for"),
                         ("Rhys Morgan", "abstain-interest")]:
        page.get_by_label("Member").fill(member)
        page.get_by_label("Vote", exact=True).select_option(vote)
        page.get_by_role("button", name="Record the vote").click()
        expect(page.get_by_role("status")).to_have_text("Vote recorded.")
    expect(page.locator("dl.fields")).to_contain_text("Ceri Lloyd: against")
    expect(page.locator("dl.checks")).to_contain_text("2 for, 1 against, 1 abstaining")
    expect(page.locator("dl.checks")).to_contain_text("votes carry")
    expect(page.locator("tbody")).to_contain_text("meeting set to Cluster board, October")
    shot(page, "decision-votes")
    shown = json.loads(cli(r, "decision", "show", "--json", page.url.split("/records/")[1].split("?")[0]))
    assert shown["fields"]["votes"] == {"Dr Siân Evans": "for", "Ceri Lloyd": "against", "Dr Gareth Jones": "for", "Rhys Morgan": "abstain"}
    assert shown["fields"]["abstained_for_interest"] == ["Rhys Morgan"]
    assert shown["fields"]["date"] == "2026-10-15"


def test_terms_of_reference_and_a_decisions_financial_implications_in_the_browser(page, app):
    """The terms of reference a meeting is judged by, and the decision fields that choose its
    majority, can be kept without a terminal (governance audit: neither could)."""
    page.get_by_role("link", name="Meetings").click()
    page.get_by_role("link", name="Terms of reference").click()
    page.get_by_role("link", name="Add terms of reference").click()
    page.get_by_label("Title").fill("Board ToR")
    page.get_by_label("Body").select_option("stakeholder-board")
    page.get_by_label("Agreed on (in force from)").fill("01/04/2026")
    page.get_by_label("Quorum", exact=True).fill("1/2")
    page.get_by_label("Majority of votes cast").select_option("simple")
    page.get_by_label("Majority with financial implications").select_option("two-thirds")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Board ToR")
    expect(page.locator("dl.fields")).to_contain_text("1/2")
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Quorum", exact=True)).to_have_value("1/2")
    page.get_by_label("Review date").fill("01/04/2027")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("dl.fields")).to_contain_text("1 Apr 2027")
    page.get_by_role("link", name="Meetings").click()
    page.get_by_role("link", name="Terms of reference").click()
    expect(page.locator("tbody tr").filter(has_text="Board ToR")).to_contain_text("yes")   # in force

    page.get_by_role("link", name="Decisions").click()
    page.get_by_role("link", name="Add a decision").click()
    page.get_by_label("Title").fill("Fund the pilot")
    page.get_by_label("Financial implications").select_option("yes")
    page.get_by_label("Amount").fill("£12,000.00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("dl.fields")).to_contain_text("£12,000")
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Financial implications")).to_have_value("yes")
    expect(page.get_by_label("Amount")).to_have_value("£12,000")
    shown = json.loads(cli(app.replica, "decision", "show", "--json", page.url.split("/records/")[1].split("/")[0]))
    assert shown["fields"]["financial_implications"] is True and shown["fields"]["amount"] == "12000"


def test_a_chair_records_proxies_a_substitute_and_a_casting_vote_in_the_browser(page, app):
    """Guide §3.10, "voting rights, including voting rights of proxies": the terms say whether a
    proxy may vote and whether the chair has a casting vote; the meeting's page records whom a
    substitute stands in for; the decision's page records a vote cast by proxy, and the edit form
    the chair's casting vote, which breaks the tie."""
    r = app.replica
    terms = cli(r, "terms", "add", "title=Board ToR", "body=stakeholder-board", "date_agreed=2026-04-01", "quorum=2",
                "majority=simple", "members+=Dr Siân Evans", "members+=Ceri Lloyd", "members+=Owain Price", "members+=Dr Alys Hughes")
    meeting = cli(r, "meeting", "add", "title=Cluster board", "body=stakeholder-board", "date=2026-11-20", "status=held")
    cli(r, "meeting", "attend", meeting, "Dr Siân Evans")
    cli(r, "meeting", "attend", meeting, "Ceri Lloyd")
    decision = cli(r, "decision", "add", "title=Extend opening hours", f"meeting={meeting}", "method=vote", "outcome=agreed")

    page.goto(app.address + "records/" + meeting)
    page.get_by_label("Name").fill("Nia Thomas")
    page.get_by_label("Attended as").select_option("substitute")
    page.get_by_label(re.compile("^Replaces")).fill("Dr Alys Hughes")
    page.get_by_label(re.compile("^Agreed in advance by")).fill("BCUHB")
    page.get_by_role("button", name="Record attendance").click()
    expect(page.locator("dl.fields")).to_contain_text("Nia Thomas (substitute, replacing Dr Alys Hughes, agreed by BCUHB)")
    expect(page.locator("dl.checks")).to_contain_text("met: 3 of 2 needed")

    page.goto(app.address + "records/" + decision)
    for member, vote, proxy in [("Dr Siân Evans", "for", False), ("Ceri Lloyd", "against", False),
                                ("Owain Price", "for", True), ("Nia Thomas", "against", False)]:
        page.get_by_label("Member").fill(member)
        page.get_by_label("Vote", exact=True).select_option(vote)
        page.get_by_label("Cast by a proxy").set_checked(proxy)
        page.get_by_role("button", name="Record the vote").click()
        expect(page.get_by_role("status")).to_have_text("Vote recorded.")
    checks = page.locator("dl.checks")
    expect(checks.locator("dd.attention")).to_have_text([
        "the recorded outcome does not match the votes and the majority rule",
        "voted by proxy, which the terms of reference Board ToR are not recorded as allowing (proxy votes: yes if they do): Owain Price",
    ])
    expect(page.locator("#s-voted_by_proxy ~ ul.members")).to_contain_text("Owain Price")
    expect(page.locator("dl.fields")).to_contain_text("Owain Price: for (by proxy)")

    page.goto(app.address + "records/" + terms)
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("May a proxy vote for an absent member?").select_option("yes")
    page.get_by_label("Does the chair have a casting vote in a tie?").select_option("yes")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Board ToR")

    page.goto(app.address + "records/" + decision)
    expect(checks.locator("dd.attention")).to_have_text([
        "the recorded outcome does not match the votes and the majority rule",
        "the votes tie and the terms of reference Board ToR give the chair a casting vote: record whether the chair used it (for, against or not used)",
    ])
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Chair's casting vote (in a tie)").select_option("for")
    page.get_by_role("button", name="Save").click()
    expect(checks).to_contain_text("2 for, 2 against, 0 abstaining; the chair's casting vote for")
    expect(checks.locator("dd.attention")).to_have_count(0)
    shot(page, "decision-casting-vote")
    shown = json.loads(cli(r, "decision", "show", "--json", decision))
    assert shown["fields"]["voted_by_proxy"] == ["Owain Price"] and shown["fields"]["casting_vote"] == "for"
    assert shown["derived"]["casting_vote_counted"] == "for" and shown["derived"]["outcome_matches_votes"] is True


def test_a_chairs_slips_are_put_right_in_plain_words(page, app):
    """What the web audit found a chair meets: a substitute recorded again once agreed is one
    attendee, counted; an empty name or member is asked for plainly; an overdue review of the
    terms of reference shows in their register."""
    r = app.replica
    cli(r, "terms", "add", "title=Board ToR", "body=stakeholder-board", "date_agreed=2026-04-01", "review_date=2026-06-01",
        "quorum=2", "members+=Dr Siân Evans", "members+=Dr Gareth Jones")
    meeting = cli(r, "meeting", "add", "title=Cluster board", "body=stakeholder-board", "date=2026-11-20", "status=held")
    cli(r, "meeting", "attend", meeting, "Dr Siân Evans", "--practice", "prestatyn")
    page.goto(app.address + "records/" + meeting)
    page.get_by_label("Name").fill("Dr Tom Hughes")
    page.get_by_label("Attended as").select_option("substitute")
    page.get_by_role("button", name="Record attendance").click()
    expect(page.locator("dl.checks")).to_contain_text("substitutes not agreed before the meeting (not counted): Dr Tom Hughes")
    page.get_by_label("Name").fill("Dr Tom Hughes")
    page.get_by_label("Attended as").select_option("substitute")
    page.get_by_label(re.compile("^Agreed in advance by")).fill("Dr Alys Jones")
    page.get_by_role("button", name="Record attendance").click()
    expect(page.locator("dl.fields")).to_contain_text("Dr Tom Hughes (substitute, agreed by Dr Alys Jones)")
    assert page.locator("dl.fields").inner_text().count("Dr Tom Hughes") == 1
    expect(page.locator("dl.checks")).to_contain_text("met: 2 of 2 needed")
    # An empty name is asked for in words.
    page.get_by_role("button", name="Record attendance").click()
    expect(page.get_by_role("alert")).to_contain_text("an attendee needs a name")

    # A name recorded by mistake is removed from the page.
    page.get_by_label("Name").fill("Dr Wrong Name")
    page.get_by_role("button", name="Record attendance").click()
    page.get_by_role("button", name="Remove Dr Wrong Name from the attendance").click()
    expect(page.get_by_role("status")).to_have_text("Attendance removed.")
    expect(page.locator("dl.fields")).not_to_contain_text("Dr Wrong Name")

    decision = cli(r, "decision", "add", "title=Fund the pilot", f"meeting={meeting}", "method=vote")
    # The meeting lists the decisions taken at it.
    page.goto(app.address + "records/" + meeting)
    page.locator("ul.meeting-decisions").get_by_role("link", name="Fund the pilot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fund the pilot")
    page.get_by_role("button", name="Record the vote").click()
    expect(page.get_by_role("alert")).to_contain_text("a vote needs the member's name")

    page.get_by_role("link", name="Meetings").click()
    page.get_by_role("link", name="Terms of reference").click()
    expect(page.locator("tbody tr").filter(has_text="Board ToR")).to_contain_text("1 Jun 2026 (overdue)")

    # Every register the import page takes exports as CSV, to fill in and import back.
    page.get_by_role("link", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("^Meetings \\(CSV")).click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert download.value.suggested_filename == "meetings.csv" and text.startswith("id,practice,title,body") and "Cluster board" in text
    expect(page.get_by_role("link", name=re.compile("^Terms of reference \\(CSV"))).to_have_attribute("href", "/export/terms.csv")


def test_a_long_value_without_spaces_wraps_instead_of_widening_the_page(page, app):
    link = "https://sharepoint.example.nhs.wales/" + "a" * 3000
    risk = cli(app.replica, "risk", "add", "title=" + "T" * 200, "owner=Estates lead", "description=" + link)
    for path in ["risks", "records/" + risk]:
        page.goto(app.address + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"/{path} is {width} px wide"
    shot(page, "long-value")


def test_the_start_link_works_when_clicked_in_another_site(browser, app):
    # A practice manager clicks the link in webmail or Teams: another site, whose navigation does
    # not carry a SameSite=Strict cookie through a redirect. The start page moves on itself.
    import http.server
    import threading
    html = f'<!doctype html><a href="{app.link}">Open ClusterSync</a>'.encode()

    class Mail(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    mail = http.server.HTTPServer(("127.0.0.1", 0), Mail)
    threading.Thread(target=mail.serve_forever, daemon=True).start()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(f"http://localhost:{mail.server_port}/")
        page.get_by_role("link", name="Open ClusterSync").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Risk register")
    finally:
        context.close()
        mail.shutdown()


def test_registers_fit_a_phone_screen(page, app):
    # A practice manager checks the registers on a phone: each row is a card, the title on its
    # own line and every other cell under its column's name, so nothing is wider than the screen
    # and no title is squeezed until it breaks inside its words.
    cli(app.replica, "risk", "add", "title=Phlebotomy clinic capacity at the Prestatyn branch surgery", "owner=Nurse lead",
        "category=service-delivery", "likelihood=3", "consequence=4", "review_date=2027-01-31")
    cli(app.replica, "action", "add", "title=Agree the winter locum rota with the health board", "owner=Cluster lead", "due_date=2026-12-01")
    cli(app.replica, "meeting", "add", "title=Cluster board, November", "body=stakeholder-board", "date=2026-11-20", "status=held")
    page.set_viewport_size({"width": 400, "height": 900})
    for path, title in [("risks", "Phlebotomy clinic capacity"), ("actions", "Agree the winter locum rota"), ("meetings", "Cluster board")]:
        page.goto(app.address + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"/{path} is {width} px wide on a 400 px screen"
        expect(page.get_by_role("link", name=re.compile(title))).to_be_visible()
        cell = page.locator("table.cards tbody td:first-child").first.bounding_box()
        assert cell["width"] >= 350, f"/{path}'s title is squeezed to {cell['width']} px"
        # The other cells say which column they are: the label comes from the table's own header.
        label = page.evaluate("getComputedStyle(document.querySelector('table.cards tbody td[data-label]'), '::before').content")
        assert label.endswith(': "'), f"/{path}: {label}"
        shot(page, "phone-" + path)
    page.set_viewport_size({"width": 1280, "height": 900})
    # On a laptop the same register is a table with its header row.
    page.goto(app.address + "risks")
    expect(page.locator("#register thead th").first).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('#register tbody tr')).display") == "table-row"


def test_a_chair_keeps_members_apologies_and_links_in_the_browser(page, app):
    """A terms of reference's members, a meeting's apologies and what a meeting decided are sets:
    the record's page adds and removes their members, as `FIELD+=` and `FIELD-=` do (governance
    audit: the app edited no set field)."""
    terms = cli(app.replica, "terms", "add", "title=Board ToR", "body=stakeholder-board", "date_agreed=2026-04-01", "quorum=2")
    meeting = cli(app.replica, "meeting", "add", "title=Cluster board, November", "body=stakeholder-board", "date=2026-11-20")
    decision = cli(app.replica, "decision", "add", "title=Fund the pilot", "meeting=" + meeting)
    page.goto(app.address + "records/" + terms)
    members = page.locator("section.set").filter(has=page.get_by_role("heading", name="Members"))
    # Names and practice ids are matched against attendance as written there: the boxes say so.
    expect(members.get_by_label("Add to members")).to_have_accessible_description("Each name as the attendance records it")
    for name in ["Dr Siân Evans", "Rhys Morgan", "Ceri Lloyd"]:
        members.get_by_label("Add to members").fill(name)
        members.get_by_role("button", name="Add").click()
        expect(page.get_by_text("Saved.")).to_be_visible()
    expect(members.locator("li")).to_have_count(3)
    members.get_by_role("button", name="Remove Rhys Morgan from members").click()
    expect(members.locator("li")).to_have_count(2)
    # The same person typed again in other capitals and without the accent is refused, beside
    # the box, naming the member already there.
    members.get_by_label("Add to members").fill("dr sian evans")
    members.get_by_role("button", name="Add").click()
    expect(page.get_by_role("alert")).to_contain_text('members already holds "Dr Siân Evans"')
    members = page.locator("section.set").filter(has=page.get_by_role("heading", name="Members"))
    expect(members.locator("li")).to_have_count(2)
    # A choice set offers only the words it does not hold yet.
    roles = page.locator("section.set").filter(has=page.get_by_role("heading", name="Roles counted for the quorum"))
    roles.get_by_label("Add to roles counted for the quorum").select_option("buddy")
    roles.get_by_role("button", name="Add").click()
    expect(roles.locator("li")).to_have_text([re.compile("^buddy")])
    expect(roles.get_by_label("Add to roles counted for the quorum").locator("option", has_text="buddy")).to_have_count(0)
    shown = json.loads(cli(app.replica, "terms", "show", "--json", terms))
    assert sorted(shown["fields"]["members"]) == ["Ceri Lloyd", "Dr Siân Evans"], shown["fields"]
    assert shown["fields"]["quorum_roles"] == ["buddy"], shown["fields"]

    page.goto(app.address + "records/" + meeting)
    apologies = page.locator("section.set").filter(has=page.get_by_role("heading", name="Apologies"))
    apologies.get_by_label("Add to apologies").fill("Dr Alys Hughes")
    apologies.get_by_role("button", name="Add").click()
    expect(apologies.locator("li")).to_have_text([re.compile("^Dr Alys Hughes")])
    # A link is chosen from the records held here, shown by title.
    decisions = page.locator("section.set").filter(has=page.get_by_role("heading", name="Decisions"))
    expect(decisions.locator("option", has_text="Fund the pilot")).to_have_attribute("value", decision)
    decisions.get_by_label("Add to decisions").select_option(decision)
    decisions.get_by_role("button", name="Add").click()
    expect(decisions.locator("li")).to_have_text([re.compile("^Fund the pilot")])
    # A value a set refuses says why beside its box, which keeps it and has the focus; the
    # summary at the top links there. Nothing is written.
    apologies.get_by_label("Add to apologies").fill("x" * 60)
    apologies.get_by_role("button", name="Add").click()
    expect(page.get_by_role("alert")).to_contain_text("apologies must be a label of 1 to 50 characters")
    box = apologies.get_by_label("Add to apologies")
    expect(box).to_have_value("x" * 60)
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(apologies.locator(".error")).to_contain_text("apologies must be a label of 1 to 50 characters")
    expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#s-apologies-value")
    apologies.get_by_label("Add to apologies").fill("")
    apologies.get_by_role("button", name="Add").click()
    expect(apologies.locator(".error")).to_have_text(re.compile("Type or choose what to add to apologies"))
    # The sets are kept here only, not listed again under Details.
    expect(page.locator("dl.fields")).not_to_contain_text("Dr Alys Hughes")
    shot(page, "meeting-sets")
    shown = json.loads(cli(app.replica, "meeting", "show", "--json", meeting))
    assert shown["fields"]["apologies"] == ["Dr Alys Hughes"] and shown["fields"]["decisions"] == [decision], shown["fields"]
    # A form from a page shown before the set changed (another tab) does nothing twice: the
    # second removal finds nothing to remove, and says saved.
    page.goto(app.address + "records/" + meeting)
    stale = page.context.new_page()
    stale.goto(app.address + "records/" + meeting)
    page.locator("section.set").filter(has=page.get_by_role("heading", name="Decisions")).get_by_role("button", name="Remove Fund the pilot from decisions").click()
    stale.locator("section.set").filter(has=stale.get_by_role("heading", name="Decisions")).get_by_role("button", name="Remove Fund the pilot from decisions").click()
    expect(stale.get_by_text("Saved.")).to_be_visible()
    stale.close()
    history = page.locator("table").last
    expect(history).to_contain_text("Fund the pilot removed from decisions")
    expect(history.locator("tr", has_text="removed from decisions")).to_have_count(1)


def test_a_private_risk_links_the_practices_own_actions_and_overdue_terms_stand_out(page, app):
    """A practice's private risk may link its private actions (as the CLI lets it), while a
    shared record is offered shared ones only; a terms of reference past its review date is
    highlighted in its register as a risk past review is (web audit)."""
    own = cli(app.replica, "risk", "add", "--private", "title=Our lease renewal")
    private_action = cli(app.replica, "action", "add", "--private", "title=Ask the landlord", "owner=Practice manager")
    shared_action = cli(app.replica, "action", "add", "title=Agree locum rota", "owner=Cluster lead")
    shared = cli(app.replica, "risk", "add", "title=Winter locum gap")
    # The register marks the practice's own risk, which nobody else sees, and not the shared one.
    page.goto(app.address + "risks")
    expect(page.locator("#register tbody tr", has_text="Our lease renewal")).to_contain_text("(private to this practice)")
    expect(page.locator("#register tbody tr", has_text="Winter locum gap")).not_to_contain_text("private")
    page.goto(app.address + "records/" + own)
    links = page.locator("section.set").filter(has=page.get_by_role("heading", name="Linked actions")).get_by_label("Add to linked actions")
    expect(links.locator("option", has_text="Ask the landlord")).to_have_attribute("value", private_action)
    links.select_option(private_action)
    page.locator("section.set").filter(has=page.get_by_role("heading", name="Linked actions")).get_by_role("button", name="Add").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert json.loads(cli(app.replica, "risk", "show", "--json", own))["fields"]["linked_actions"] == [private_action]
    # The action deleted later: the link stays, and says the action is deleted.
    cli(app.replica, "action", "delete", private_action)
    reload(page)
    linked = page.locator("section.set").filter(has=page.get_by_role("heading", name="Linked actions")).locator("li")
    expect(linked).to_have_text([re.compile(r"^Ask the landlord \(deleted\)")])
    # A decision's meeting deleted later: its edit form keeps the link chosen, saying so, and
    # saving another field leaves it.
    meeting = cli(app.replica, "meeting", "add", "--private", "title=Partners' meeting", "body=other", "date=2026-11-20")
    decision = cli(app.replica, "decision", "add", "--private", "title=Renew the lease", "meeting=" + meeting)
    cli(app.replica, "meeting", "delete", meeting)
    page.goto(app.address + f"records/{decision}/edit")
    expect(page.get_by_label("Meeting")).to_have_value(meeting)
    expect(page.get_by_label("Meeting").locator("option:checked")).to_have_text(f"{meeting} (deleted, or not held here)")
    page.get_by_label("Title").fill("Renew the lease for five years")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert json.loads(cli(app.replica, "decision", "show", "--json", decision))["fields"]["meeting"] == meeting
    page.goto(app.address + "records/" + shared)
    offered = page.locator("section.set").filter(has=page.get_by_role("heading", name="Linked actions")).locator("option")
    expect(offered.filter(has_text="Agree locum rota")).to_have_attribute("value", shared_action)
    expect(offered.filter(has_text="Ask the landlord")).to_have_count(0)

    cli(app.replica, "terms", "add", "title=Old ToR", "body=stakeholder-board", "date_agreed=2024-04-01", "review_date=2025-04-01")
    page.goto(app.address + "terms")
    expect(page.locator("tbody tr").filter(has_text="Old ToR")).to_have_class("overdue")


def test_the_action_tracker_opens_on_what_is_outstanding(page, app):
    """After a few years most of a cluster's actions are done: the tracker opens on those still to
    do, says how many of how many it shows, and filters by status, words and overdue (the scale
    audit: it listed all 2,000)."""
    cli(app.replica, "action", "add", "title=Chase the phlebotomy locum", "owner=Practice manager", "due_date=2020-01-15")
    cli(app.replica, "action", "add", "title=Book the winter vaccination clinic", "owner=Nurse lead",
        "status=in-progress", "due_date=2099-01-15")
    cli(app.replica, "action", "add", "title=Send the minutes to the PCPG", "owner=Cluster lead", "status=complete")
    page.goto(app.address + "actions")
    table = page.locator("table.cards")
    expect(table.locator("caption")).to_have_text("2 of 3 actions shown")
    expect(table).to_contain_text("Chase the phlebotomy locum")
    expect(table).not_to_contain_text("Send the minutes")
    expect(page.get_by_label("Status")).to_have_value("outstanding")
    shot(page, "actions-outstanding")
    page.get_by_label("Status").select_option("all")
    page.get_by_role("button", name="Apply filters").click()
    expect(table.locator("caption")).to_have_text("3 of 3 actions shown")
    page.get_by_label("Words in the title or owner").fill("nurse")
    page.get_by_role("button", name="Apply filters").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Book the winter vaccination clinic")
    page.get_by_role("link", name="Clear filters").click()
    page.get_by_label("Only actions past their due date").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr")).to_contain_text("Red (overdue)")
    page.get_by_label("Only actions past their due date").uncheck()
    page.get_by_label("Status").select_option("cancelled")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("No actions match these filters.")).to_be_visible()

    # Sorted by a column's heading, as the risk register is, its filters kept (the scale
    # audit: the tracker sorted only by due date).
    page.goto(app.address + "actions?status=all")
    titles = table.locator("tbody tr td:first-child")
    expect(titles).to_have_text(["Chase the phlebotomy locum", "Book the winter vaccination clinic", "Send the minutes to the PCPG"])
    expect(table.locator("th[aria-sort]")).to_have_text("Due date (Sort by due date) ▲")
    table.get_by_role("link", name="Owner").click()
    expect(titles).to_have_text(["Send the minutes to the PCPG", "Book the winter vaccination clinic", "Chase the phlebotomy locum"])
    expect(table.locator("caption")).to_have_text("3 of 3 actions shown")
    table.get_by_role("link", name="Owner").click()
    expect(titles).to_have_text(["Chase the phlebotomy locum", "Book the winter vaccination clinic", "Send the minutes to the PCPG"])
    expect(table.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    page.get_by_label("Sort by").select_option("title")
    page.get_by_label("Order").select_option("")
    page.get_by_role("button", name="Apply filters").click()
    expect(titles).to_have_text(["Book the winter vaccination clinic", "Chase the phlebotomy locum", "Send the minutes to the PCPG"])
    expect(page.get_by_label("Status")).to_have_value("all")


def test_a_long_decision_log_opens_on_its_latest(page, app, workdir):
    """Years of decisions: the log lists the latest 200 by date, and the rest of the last day they
    reach, and links to the rest, rather than a page of every one (the scale audit: 1,600
    decisions, 430 KB, 3 s)."""
    sheet = os.path.join(workdir, "decisions.csv")
    with open(sheet, "w", encoding="utf-8") as out:
        out.write("title,date,method,outcome\n")
        for n in range(205):
            out.write(f"Decision {n:03},{2020 + n // 100}-{1 + n % 12:02}-{1 + n % 28:02},consensus,agreed\n")
    cli(app.replica, "import", "--format", "csv", "--type", "decision", sheet)
    page.goto(app.address + "decisions")
    # The 200th is one of two decisions of 13 Jan 2020 (Decision 012 and 096): a day is not cut
    # in two, so both are listed (a meeting's decisions share its day).
    expect(page.locator("p.register-partial")).to_contain_text("The latest 201 of 205, by date.")
    expect(page.locator("table.cards tbody tr")).to_have_count(201)
    expect(page.get_by_role("link", name="Decision 012", exact=True)).to_have_count(1)
    expect(page.get_by_role("link", name="Decision 096", exact=True)).to_have_count(1)
    # The four oldest (2020's first days) are left to the link.
    expect(page.get_by_role("link", name="Decision 000", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Decision 036", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Decision 204", exact=True)).to_have_count(1)
    page.get_by_role("link", name="Show all 205").click()
    expect(page.locator("table.cards tbody tr")).to_have_count(205)
    expect(page.get_by_role("link", name="Decision 000", exact=True)).to_have_count(1)
    expect(page.locator("p.register-partial")).to_have_count(0)


def test_a_progress_note_on_an_action(page, app):
    """A practice manager records progress on an action without a terminal: the note is dated
    today and reads as `clustersync action show` has it; an empty note is refused, keeping the
    page (web app audit: the app had no way to add one)."""
    action = cli(app.replica, "action", "add", "title=Chase the phlebotomy locum", "owner=Practice manager")
    page.goto(app.address + "records/" + action)
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator("#n-error")).to_contain_text("a progress note needs some text")
    page.get_by_label("Progress note (dated today)").fill("Agency rang back: two dates offered")
    page.get_by_role("button", name="Add the note").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    shown = json.loads(cli(app.replica, "action", "show", action, "--json"))
    notes = shown["fields"]["notes"]
    assert [n["text"] for n in notes] == ["Agency rang back: two dates offered"], notes
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", notes[0]["date"]), notes
    # Shown with its day as dates are shown and who wrote it, as `action show` names the author.
    expect(page.locator("dl.fields")).to_contain_text(re.compile(r"\d{1,2} \w{3} 20\d\d: Agency rang back: two dates offered \(Prestatyn Medical\)"))


def test_delete_and_restore_a_record(page, app):
    """A record made by mistake is deleted from its page, after a tick that says so, and
    restored from there, as the CLI's `delete` and `restore` (web app audit: the app could not
    take out a file imported twice). A practice's replica may delete its private records; a
    shared one is the cluster lead's, and the page says so."""
    private = cli(app.replica, "risk", "add", "--private", "title=Duplicate from a spreadsheet")
    shared = cli(app.replica, "risk", "add", "title=Winter locum gap")
    page.goto(app.address + "records/" + private)
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator("#d-error")).to_contain_text('Tick "Yes, delete this record"')
    assert "deleted" not in cli(app.replica, "risk", "show", private).splitlines()[0].lower()
    page.get_by_label("Yes, delete this record").check()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Deleted. Restore brings it back.")
    assert json.loads(cli(app.replica, "risk", "show", private, "--json"))["deleted"] is True
    page.get_by_role("link", name="Risk register").click()
    expect(page.locator("#register")).not_to_contain_text("Duplicate from a spreadsheet")
    page.goto(app.address + "records/" + private)
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert json.loads(cli(app.replica, "risk", "show", private, "--json"))["deleted"] is False
    # A shared risk: this practice's replica has no lead's role, and is refused in words.
    page.goto(app.address + "records/" + shared)
    page.get_by_label("Yes, delete this record").check()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator("#d-error")).to_contain_text("needs the cluster lead")
    expect(page.locator("#d-error")).not_to_contain_text("clustersync")   # no terminal commands here
    assert json.loads(cli(app.replica, "risk", "show", shared, "--json"))["deleted"] is False


def test_a_private_risk_made_in_the_app(page, app):
    """A practice's own risk, made private when it is added, as `risk add --private` makes it:
    the register marks it, and `risk show` has its scope as the practice's (web app audit: the
    app made shared records only)."""
    page.get_by_role("link", name="Add a risk").click()
    page.get_by_label("Title").fill("Partner retiring next spring")
    page.get_by_label("Private to this practice").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner retiring next spring")
    risk = shown_record(page)
    shown = json.loads(cli(app.replica, "risk", "show", risk, "--json"))
    assert shown.get("practice") == "prestatyn-medical", shown
    # Refused for another reason, the form keeps the tick.
    page.get_by_role("link", name="Risk register").click()
    page.get_by_role("link", name="Add a risk").click()
    page.get_by_label("Private to this practice").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Private to this practice")).to_be_checked()
    page.get_by_role("link", name="Risk register").click()
    expect(page.locator("#register tbody tr", has_text="Partner retiring")).to_contain_text("(private to this practice)")


def test_terms_a_plan_and_a_contribution_made_private_in_the_app(page, app):
    """Every record the app makes may be the practice's own, as `add --private` makes any type
    (web app audit: terms of reference, plans and contributions were shared only)."""
    for section, link, label, value in [
        ("terms", "Add terms of reference", "Title", "Practice partnership terms"),
        ("plans", "Add a plan", "Title", "Practice development plan"),
        ("contributions", "Record a contribution", "What the practice contributed", "Our own draft, not yet sent"),
    ]:
        page.goto(app.address + section)
        page.get_by_role("link", name=link).click()
        page.get_by_label(re.compile("^" + label)).fill(value)
        if section == "plans":
            page.get_by_label("Plan period from").fill("01/04/2026")
            page.get_by_label("Plan period to").fill("31/03/2027")
        page.get_by_label("Private to this practice").check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_be_visible()
        record = shown_record(page)
        kind = {"TOR": "terms", "PLN": "plan", "CTB": "contribution"}[record.split("-")[0]]
        shown = json.loads(cli(app.replica, kind, "show", record, "--json"))
        assert shown.get("practice") == "prestatyn-medical", shown
    shot(page, "contribution-private")


def test_an_action_says_what_it_came_from(page, app):
    """An action's form offers the record it came from, of any type its `source` may name,
    each named with its type (web app audit: the app could not say); a private meeting is made
    from its form as a private risk is."""
    risk = cli(app.replica, "risk", "add", "title=Winter locum gap")
    page.goto(app.address + "actions/new")
    page.get_by_label("Title").fill("Agree a county locum pool")
    source = page.get_by_label("Came from")
    expect(source.locator("option", has_text="Winter locum gap")).to_have_text(re.compile(r"^Risk: Winter locum gap$"))
    source.select_option(risk)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agree a county locum pool")
    action = shown_record(page)
    assert json.loads(cli(app.replica, "action", "show", action, "--json"))["fields"]["source"] == risk
    page.goto(app.address + "meetings/new")
    page.get_by_label("Title").fill("Partners' meeting")
    page.get_by_label("Private to this practice").check()
    page.get_by_role("button", name="Save").click()
    meeting = shown_record(page)
    assert json.loads(cli(app.replica, "meeting", "show", meeting, "--json")).get("practice") == "prestatyn-medical"


def test_a_meeting_and_a_decision_list_their_actions_arising(page, app):
    """Actions whose `source` is a meeting or one of its decisions are listed on both pages, with
    owner, due date and status (web app audit: they showed nowhere but on the action; the scale
    audit: a meeting reviewing its actions could not see which were done)."""
    meeting = cli(app.replica, "meeting", "add", "title=Cluster board, January", "date=2027-01-14").strip()
    decision = cli(app.replica, "decision", "add", "title=Fund the minor ailments pilot", "meeting=" + meeting).strip()
    cli(app.replica, "action", "add", "title=Write to the Health Board", "owner=Cluster lead", "due_date=2027-02-01", "source=" + decision)
    minutes = cli(app.replica, "action", "add", "title=Circulate the minutes", "source=" + meeting)
    cli(app.replica, "action", "add", "title=Unrelated action")
    page.goto(app.address + "records/" + meeting)
    arising = page.locator("ul.arising-actions li")
    expect(arising).to_have_count(2)
    expect(page.locator("ul.arising-actions")).to_contain_text("Write to the Health Board – Cluster lead, due 1 Feb 2027, not started")
    expect(arising.filter(has_text="Circulate the minutes")).to_have_text("Circulate the minutes – not started")
    cli(app.replica, "action", "set", minutes, "status=complete")
    reload(page)
    expect(arising.filter(has_text="Circulate the minutes")).to_have_text("Circulate the minutes – complete")
    shot(page, "meeting-arising")
    # The same in the action tracker, where they can be filtered further.
    page.get_by_role("link", name="These in the action tracker").click()
    expect(page.locator("#from-hint")).to_contain_text("Only the actions arising from Cluster board, January.")
    expect(page.locator("table.cards tbody tr")).to_have_count(2)
    expect(page.locator("table.cards")).not_to_contain_text("Unrelated action")
    page.get_by_label("Status").select_option("outstanding")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("table.cards tbody tr")).to_have_count(1)
    expect(page.locator("table.cards")).to_contain_text("Write to the Health Board")
    page.get_by_role("link", name="Show every action").click()
    expect(page.locator("table.cards")).to_contain_text("Unrelated action")
    page.goto(app.address + "records/" + decision)
    expect(arising).to_have_text(["Write to the Health Board – Cluster lead, due 1 Feb 2027, not started"])


def test_a_form_sent_again_makes_nothing_twice(page, app):
    """Back then Save on a new record's form, or on a progress note's, goes to what the first
    post made, says so, and makes nothing again (web app audit: it made a second meeting and a
    second note); one field changed makes a new record."""
    page.goto(app.address + "meetings/new")
    page.get_by_label("Title").fill("Cluster board, February")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cluster board, February")
    first = page.url.split("?")[0]
    page.go_back()
    expect(page.get_by_label("Title")).to_have_value("Cluster board, February")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("This form was sent twice: it was saved once, here.")
    assert page.url.split("?")[0] == first, page.url
    assert cli(app.replica, "meeting", "list").count("Cluster board, February") == 1
    page.go_back()
    page.get_by_label("Title").fill("Cluster board, March")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cluster board, March")
    assert page.url.split("?")[0] != first, page.url

    action = cli(app.replica, "action", "add", "title=Book the venue").strip()
    page.goto(app.address + "records/" + action)
    page.locator("textarea[name=note]").fill("Venue booked for 12 Feb")
    page.get_by_role("button", name="Add the note").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.go_back()
    page.get_by_role("button", name="Add the note").click()
    expect(page.get_by_role("status")).to_have_text("This form was sent twice: it was saved once, here.")
    shown = json.loads(cli(app.replica, "action", "show", action, "--json"))
    assert json.dumps(shown).count("Venue booked for 12 Feb") == 1, shown


def test_every_problem_of_a_form_is_listed_at_one_save(page, app):
    """A wrong date and a wrong quorum on new terms of reference are both said at the first
    Save, beside their fields, with nothing else (web app audit: one, then the other)."""
    page.goto(app.address + "terms/new")
    page.get_by_label(re.compile("^Title")).fill("Board terms 2026")
    page.get_by_label(re.compile("^Agreed on")).fill("31/04/2026")
    page.get_by_label("Quorum").fill("half")
    page.get_by_label("Majority of votes cast").select_option(index=1)
    page.get_by_role("button", name="Save").click()
    problems = page.get_by_role("alert").locator("li")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("31 April")
    # Named as the form labels it, not by the stored field's name (chair's audit).
    expect(problems.nth(1)).to_contain_text("Quorum must be a number of members (5) or a proportion of them (1/2); got half")
    shot(page, "form-every-problem")
    page.get_by_label(re.compile("^Agreed on")).fill("30/04/2026")
    page.get_by_label("Quorum").fill("5")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Board terms 2026")


def test_a_chair_picks_names_and_records_from_the_meetings_page(page, app):
    """Attendance and votes offer the body's members by name (those recorded left out), and a
    meeting's page opens a decision, an action or a declaration with the meeting already chosen
    (the forty-sixth session's audit as a chair: names typed each time, a decision recorded from
    Decisions only)."""
    r = app.replica
    cli(r, "terms", "add", "title=Board ToR", "body=stakeholder-board", "date_agreed=2026-04-01", "quorum=2",
        "members+=Dr Siân Evans", "members+=Ceri Lloyd", "members+=Rhys Morgan")
    meeting = cli(r, "meeting", "add", "title=Cluster board, October", "body=stakeholder-board", "date=2026-10-15", "status=held").strip()
    page.goto(app.address + "records/" + meeting)
    expect(page.locator("#a-names option")).to_have_count(3)
    assert page.locator("#a-names option").evaluate_all("os => os.map(o => o.value)") == ["Ceri Lloyd", "Dr Siân Evans", "Rhys Morgan"]
    page.get_by_label("Name").fill("Ceri Lloyd")
    page.get_by_role("button", name="Record attendance").click()
    expect(page.get_by_role("status")).to_have_text("Attendance recorded.")
    assert page.locator("#a-names option").evaluate_all("os => os.map(o => o.value)") == ["Dr Siân Evans", "Rhys Morgan"]
    page.get_by_label("Name").fill("Rhys Morgan")
    page.get_by_label("In the capacity of").select_option("clinician")
    page.get_by_role("button", name="Record attendance").click()
    expect(page.get_by_role("status")).to_have_text("Attendance recorded.")
    assert page.locator("#a-names option").evaluate_all("os => os.map(o => o.value)") == ["Dr Siân Evans"]
    # The details list attendees by name, as the list under the form does.
    attended = page.locator("dl.fields dt", has_text="Attended").locator("xpath=following-sibling::dd[1]")
    expect(attended).to_have_text("Ceri Lloyd (member)\nRhys Morgan (member, clinician)")

    page.get_by_role("link", name="Record a decision taken here").click()
    expect(page.get_by_label("Meeting")).to_have_value(meeting)
    page.get_by_label("Title").fill("Extend the minor ailments pilot")
    page.get_by_label("How decided").select_option("vote")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Extend the minor ailments pilot")
    expect(page.locator("dl.fields")).to_contain_text("15 Oct 2026")
    # Those present who vote first, then the other members (a proxy may vote for them).
    assert page.locator("#v-names option").evaluate_all("os => os.map(o => o.value)") == ["Ceri Lloyd", "Rhys Morgan", "Dr Siân Evans"]
    page.get_by_label("Member").fill("Ceri Lloyd")
    page.get_by_role("button", name="Record the vote").click()
    expect(page.get_by_role("status")).to_have_text("Vote recorded.")
    assert page.locator("#v-names option").evaluate_all("os => os.map(o => o.value)") == ["Rhys Morgan", "Dr Siân Evans"]
    decision = page.url.split("/records/")[1].split("?")[0]

    page.goto(app.address + "records/" + meeting)
    expect(page.locator("ul.meeting-decisions")).to_have_text("Extend the minor ailments pilot")
    page.get_by_role("link", name="Add an action arising").click()
    expect(page.get_by_label("Came from")).to_have_value(meeting)
    # A refused Save keeps the way back to the meeting.
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cluster board, October")
    # A substitute replaces a member who is not there.
    assert page.locator("#a-replaced option").evaluate_all("os => os.map(o => o.value)") == ["Dr Siân Evans"]
    page.get_by_role("link", name="Record a declaration made here").click()
    expect(page.get_by_label("Meeting")).to_have_value(meeting)
    assert page.locator("#l-member option").evaluate_all("os => os.map(o => o.value)") == ["Ceri Lloyd", "Dr Siân Evans", "Rhys Morgan"]
    shot(page, "declaration-from-meeting")
    page.goto(app.address + "records/" + decision)
    page.get_by_role("link", name="Add an action arising").click()
    expect(page.get_by_label("Came from")).to_have_value(decision)
    page.get_by_label("Title").fill("Write to the Health Board")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("dl.fields")).to_contain_text("Extend the minor ailments pilot")
    page.goto(app.address + "records/" + meeting)
    expect(page.locator("ul.arising-actions")).to_contain_text("Write to the Health Board")
    shot(page, "meeting-record-from-here")
    # A link the form does not offer (another type's id) is not chosen.
    page.goto(app.address + "decisions/new?meeting=" + decision)
    expect(page.get_by_label("Meeting")).to_have_value("")
    # The board paper after the meeting, from the meetings' register too.
    page.get_by_role("navigation").get_by_role("link", name="Meetings").click()
    page.get_by_role("link", name="Governance report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Governance report")


def test_a_chairs_typing_is_quoted_as_typed_and_dates_to_come_are_refused(page, app):
    """An amount refused is quoted as typed, a completion date to come is refused with the
    form's dates, and a vote for a name too long says so in a vote's words (chair's audit)."""
    r = app.replica
    decision = cli(r, "decision", "add", "title=Fund the minor ailments pilot", "method=vote").strip()
    page.goto(app.address + "records/" + decision + "/edit")
    page.get_by_label("Amount").fill("£12,000.50p")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text('Amount (£) must be an amount in pounds')
    expect(page.get_by_role("alert")).to_contain_text('got £12,000.50p')
    page.goto(app.address + "records/" + decision)
    page.get_by_label("Member").fill("A" * 101)
    page.get_by_role("button", name="Record the vote").click()
    expect(page.locator("#v-error")).to_contain_text("a member's name in a vote is 1 to 100 characters, without line breaks; got 101 characters")
    page.goto(app.address + "actions/new")
    page.get_by_label(re.compile("^Title")).fill("Write to the Health Board")
    page.get_by_label("Completed").fill("01/01/2099")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Completed must be a day that has come")
    expect(page.get_by_role("alert")).to_contain_text("got 1 Jan 2099")
    shot(page, "form-completion-to-come")


def test_a_long_list_of_records_to_link_is_found_by_words_or_id(page, app, workdir):
    """A cluster's years of records: a link's list shows the first 50 and a box finds any other
    by its id or words of its name (the scale audit: an action's form offered 4,051 records,
    278 KB; a meeting's page every action and decision)."""
    sheet = os.path.join(workdir, "actions.csv")
    with open(sheet, "w", encoding="utf-8") as out:
        out.write("title,owner\n")
        for n in range(59):
            out.write(f"Action {n:03},Ceri Lloyd\n")
        out.write("Write to the LHB about premises funding,Siân Evans\n")
    cli(app.replica, "import", "--format", "csv", "--type", "action", sheet)
    premises = json.loads(cli(app.replica, "action", "list", "--search", "premises", "--json"))["records"][0]["id"]
    page.goto(app.address + "actions/new")
    source = page.get_by_label("Came from")
    expect(source.locator("option")).to_have_count(51)
    expect(page.locator("#h-find-source")).to_have_text(
        "The list shows 50 of the 60 held here. To link another, type its id, or words of its name or owner, then save.")
    page.get_by_label("Title").fill("Chase the premises reply")
    page.get_by_label("Or find it by its id, or words of its name or owner").fill("lhb PREMISES")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chase the premises reply")
    action = shown_record(page)
    assert json.loads(cli(app.replica, "action", "show", action, "--json"))["fields"]["source"] == premises
    # Back then Save: the box is given back as typed, so the form is the one sent, and nothing
    # is made twice (an audit made a second, unlinked action: the box came back empty).
    page.go_back()
    expect(page.get_by_label("Or find it by its id, or words of its name or owner")).to_have_value("lhb PREMISES")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("This form was sent twice: it was saved once, here.")
    assert cli(app.replica, "action", "list").count("Chase the premises reply") == 1
    # Its owner's words find it too: Siân owns one action of the 60.
    page.goto(app.address + "actions/new")
    page.get_by_label("Title").fill("Thank Siân for the letter")
    page.get_by_label("Or find it by its id, or words of its name or owner").fill("sian")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank Siân for the letter")
    assert json.loads(cli(app.replica, "action", "show", shown_record(page), "--json"))["fields"]["source"] == premises

    # Words matching several: the form says so and lists them; one is chosen, the words kept.
    page.goto(app.address + "actions/new")
    page.get_by_label("Title").fill("Follow up action 01x")
    page.get_by_label("Or find it by its id, or words of its name or owner").fill("action 01")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#e-source")).to_contain_text("Came from: 11 records match “action 01”")
    # Choose…, None of these, and the 11.
    expect(page.get_by_label("Came from").locator("option")).to_have_count(13)
    expect(page.locator("#h-find-source")).to_have_text("The list shows 11 of the 11 that match “action 01”.")
    shot(page, "link-finder-several")
    # Saved again without choosing: said again, not saved without the link.
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#e-source")).to_contain_text("Came from: choose one of the records that match “action 01” in the list")
    expect(page.get_by_label("Came from").locator("option")).to_have_count(13)
    chosen = json.loads(cli(app.replica, "action", "list", "--search", "Action 013", "--json"))["records"][0]["id"]
    page.get_by_label("Came from").select_option(chosen)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow up action 01x")
    followed = shown_record(page)
    assert json.loads(cli(app.replica, "action", "show", followed, "--json"))["fields"]["source"] == chosen

    # Words matching nothing refuse the form and write nothing.
    before = len(json.loads(cli(app.replica, "action", "list", "--json"))["records"])
    page.goto(app.address + "actions/new")
    page.get_by_label("Title").fill("Nothing to link")
    page.get_by_label("Or find it by its id, or words of its name or owner").fill("flu clinic")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#e-source")).to_contain_text("Came from: no record this may link to matches “flu clinic”")
    expect(page.get_by_label("Title")).to_have_value("Nothing to link")
    assert len(json.loads(cli(app.replica, "action", "list", "--json"))["records"]) == before

    # On an edit form the link it has is listed among the matches, chosen: saved as it is, the
    # link stays (a review found it refused again and again); another among them is taken.
    page.goto(app.address + "records/" + followed + "/edit")
    finder = page.get_by_label("Or find it by its id, or words of its name or owner")
    finder.fill("action 01")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#e-source")).to_contain_text("11 records match “action 01”")
    expect(page.get_by_label("Came from")).to_have_value(chosen)
    expect(finder).to_have_value("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow up action 01x")
    assert json.loads(cli(app.replica, "action", "show", followed, "--json"))["fields"]["source"] == chosen
    page.goto(app.address + "records/" + followed + "/edit")
    finder.fill("action 01")
    page.get_by_role("button", name="Save").click()
    other = json.loads(cli(app.replica, "action", "list", "--search", "Action 012", "--json"))["records"][0]["id"]
    page.get_by_label("Came from").select_option(other)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow up action 01x")
    assert json.loads(cli(app.replica, "action", "show", followed, "--json"))["fields"]["source"] == other

    # Words decide over a record the page chose: *Add an action arising* on a meeting's page
    # presets the meeting, and words typed in the box name another (an audit's action was
    # linked to the meeting, its words passed over); an action cannot come from itself.
    board = cli(app.replica, "meeting", "add", "title=Cluster board, February", "date=2027-02-11").strip()
    page.goto(app.address + "actions/new?source=" + board)
    expect(page.get_by_label("Came from")).to_have_value(board)
    page.get_by_label("Title").fill("Premises reply for the board")
    page.get_by_label("Or find it by its id, or words of its name or owner").fill("premises funding")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Premises reply for the board")
    assert json.loads(cli(app.replica, "action", "show", shown_record(page), "--json"))["fields"]["source"] == premises
    # Words matching several with the page's preset: the preset is not kept beside the matches
    # (saving again took it), and *None of these* leaves the action without a link.
    page.goto(app.address + "actions/new?source=" + board)
    page.get_by_label("Title").fill("Tidy the action log")
    page.get_by_label("Or find it by its id, or words of its name or owner").fill("action 02")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#e-source")).to_contain_text("records match “action 02”")
    expect(page.get_by_label("Came from")).to_have_value("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#e-source")).to_contain_text("choose one of the records that match “action 02”")
    page.get_by_label("Came from").select_option(label="None of these (no link)")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tidy the action log")
    assert "source" not in json.loads(cli(app.replica, "action", "show", shown_record(page), "--json"))["fields"]
    page.goto(app.address + "records/" + followed + "/edit")
    page.get_by_label("Or find it by its id, or words of its name or owner").fill(followed)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#e-source")).to_contain_text(f"Came from names {followed}, the record itself; link another record")

    # A meeting's page adds an action by its id, typed in any capitals.
    meeting = cli(app.replica, "meeting", "add", "title=Cluster board, March", "date=2027-03-11").strip()
    page.goto(app.address + "records/" + meeting)
    actions = page.locator("section.set", has=page.get_by_role("heading", name="Actions", exact=True))
    expect(actions.locator("select option")).to_have_count(51)
    actions.get_by_label("Or find it by its id, or words of its name or owner").fill(premises.lower())
    actions.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(actions.locator("ul.members")).to_contain_text("Write to the LHB about premises funding")
    assert json.loads(cli(app.replica, "meeting", "show", meeting, "--json"))["fields"]["actions"] == [premises]
    # Its words again (a second tab, a second click): there already, and said so.
    actions.get_by_label("Or find it by its id, or words of its name or owner").fill("premises funding")
    actions.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_have_text("That is in the list already: nothing was added.")
    actions.get_by_label("Or find it by its id, or words of its name or owner").fill("action 05")
    actions.get_by_role("button", name="Add").click()
    expect(actions.locator("p.error")).to_contain_text("records match “action 05”")
    expect(actions.locator("select option")).to_have_count(1 + 10)

    # *Came from* names six types: its list shows some of each, not the first 50 of one.
    page.goto(app.address + "actions/new")
    expect(page.get_by_label("Came from").locator("option", has_text="Meeting: Cluster board, March")).to_have_count(1)
