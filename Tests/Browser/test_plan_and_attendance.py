"""The cluster plan, practices' contributions to it and GP Collaborative attendance, kept in the
browser: what a practice manager reports for QAIF (CND014W to CND016W) without a terminal."""
import json
import datetime
import os
import re

from playwright.sync_api import expect

from conftest import cli, reload, shot


def test_a_plan_and_a_practices_contribution_in_the_browser(page, app):
    r = app.replica
    priorities = cli(r, "list", "create", "title=Plan priorities 2025-28", "kind=priorities")
    cli(r, "list", "create", "title=Board agenda", "kind=agenda")
    page.locator("nav").get_by_role("link", name="Cluster plan", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cluster plan")
    page.get_by_role("link", name="Add a plan").click()
    page.get_by_label("Title").fill("Cluster plan 2025-28")
    page.get_by_label("Plan period from").fill("01/04/2025")
    page.get_by_label("Plan period to").fill("31/03/2028")
    page.get_by_label("Status").select_option("draft")  # agreeing it is the lead's
    # Only lists of priorities are offered, never an agenda.
    expect(page.get_by_label("Priorities").locator("option")).to_have_text(["Choose…", "Plan priorities 2025-28"])
    page.get_by_label("Priorities").select_option(label="Plan priorities 2025-28")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cluster plan 2025-28")
    plan = page.url.split("/records/")[1].split("?")[0]
    expect(page.locator("dl.fields")).to_contain_text("31 Mar 2028")
    expect(page.locator("dl.fields")).to_contain_text("Plan priorities 2025-28")
    # A period that ends before it starts is said, not refused (as `show` says it).
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Plan period to").fill("31/03/2024")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("dl.checks")).to_contain_text("the plan period ends before it starts")

    page.locator("nav").get_by_role("link", name="Cluster plan", exact=True).click()
    expect(page.locator("tbody tr").filter(has_text="Cluster plan 2025-28")).to_contain_text("1 Apr 2025")
    page.get_by_role("link", name="Practice contributions to the plan").click()
    page.get_by_role("link", name="Record a contribution").click()
    # This practice, this QAIF year: offered, and kept unless changed.
    expect(page.get_by_label("Practice contributing")).to_have_value("prestatyn-medical")
    expect(page.get_by_label("QAIF year")).to_have_value(re.compile(r"^20\d\d-\d\d$"))
    page.get_by_label("QAIF year").fill("2025-26")
    page.get_by_label("Plan", exact=True).select_option(label="Cluster plan 2025-28")
    page.get_by_label("Date").fill("12/10/2026")
    page.get_by_label("What the practice contributed").fill("Needs assessment for the Prestatyn list")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("prestatyn-medical, 2025-26")
    page.locator("nav").get_by_role("link", name="Cluster plan", exact=True).click()
    page.get_by_role("link", name="Practice contributions to the plan").click()
    row = page.locator("tbody tr").filter(has_text="prestatyn-medical, 2025-26")
    expect(row).to_contain_text("Cluster plan 2025-28")
    expect(row.locator("td").last).to_have_text("no")        # after 30 September 2026
    shot(page, "contributions")
    shown = json.loads(cli(r, "plan", "show", "--json", plan))
    assert shown["fields"]["priorities"] == priorities


def test_gp_collaborative_attendance_in_the_browser(page, app):
    r = app.replica
    cli(r, "terms", "add", "title=GP Collaborative ToR", "body=gp-collaborative", "date_agreed=2025-04-01",
        "practices+=prestatyn", "practices+=rhyl", "practices+=meliden")
    for day in ["2025-10-09", "2026-01-15", "2026-04-09", "2026-07-09"]:
        m = cli(r, "meeting", "add", "title=GP Collaborative", "body=gp-collaborative", f"date={day}", "status=held")
        cli(r, "meeting", "attend", m, "Dr Siân Evans", "--practice", "prestatyn")
        if day < "2026-02-01":
            cli(r, "meeting", "attend", m, "Dr Gareth Jones", "--practice", "rhyl")
        if day == "2026-04-09":
            cli(r, "meeting", "attend", m, "Mrs Hughes", "--role", "substitute", "--practice", "meliden")
    page.get_by_role("link", name="Meetings").click()
    page.get_by_role("link", name="GP Collaborative attendance").click()
    page.get_by_label("QAIF year").fill("2025-26")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("GP Collaborative attendance 2025-26")
    expect(page.locator("main")).to_contain_text("1 Oct 2025 to 30 Sep 2026: 4 meetings held, 0 meetings still to come")
    expect(page.locator("#schedule-hint")).to_have_count(0)   # a year ended: nothing is left to schedule
    rows = page.locator("table.attendance tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("meliden")
    expect(rows.nth(0)).to_contain_text("Mrs Hughes: substitute not agreed in advance")
    expect(rows.nth(1)).to_contain_text("prestatyn")
    expect(rows.nth(1)).to_contain_text("met")
    expect(rows.nth(2)).to_contain_text("cannot reach it")
    expect(page.locator("table.attendance tr.overdue")).to_have_count(2)      # meliden and rhyl, in red
    # A year typed wrongly is said, and the current year shown.
    page.get_by_label("QAIF year").fill("2025-2026")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#year-error")).to_contain_text("is not a QAIF year")
    expect(page.get_by_label("QAIF year")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("QAIF year")).to_have_value("2025-2026")
    # The current year, nothing scheduled in it: every practice reads red, and the page says
    # why and what to do (web app audit).
    expect(page.locator("#schedule-hint")).to_contain_text("add the year's remaining GP Collaborative meetings with the status scheduled")
    today = datetime.date.today()
    last_day = f"{(today.year if today.month >= 10 else today.year - 1) + 1}-09-30"   # the QAIF year's last day
    cli(r, "meeting", "add", "title=GP Collaborative", "body=gp-collaborative", f"date={last_day}", "status=scheduled")
    reload(page)
    expect(page.locator("#schedule-hint")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("1 meeting still to come")
    shot(page, "attendance")


def test_the_governance_report_is_downloaded_from_the_app(page, app, workdir):
    """The CLI's `report --html`, for a cluster lead without a terminal: from the roll-up, a
    period, and the file to print or save as PDF."""
    r = app.replica
    cli(r, "risk", "add", "title=Locum cover for winter", "likelihood=4", "consequence=4", "owner=Cluster lead")
    page.get_by_role("link", name="Roll-up").click()
    page.get_by_role("link", name=re.compile("governance report")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Governance report")
    # A period not written as one is said beside the box, which keeps it.
    page.get_by_label("Period").fill("2026/28")
    page.get_by_role("button", name="Download the report").click()
    expect(page.locator("#e-period")).to_contain_text("“2026/28” is not a period")
    expect(page.get_by_label("Period")).to_have_value("2026/28")
    # Two dates, one of them no day, say which and why (web app audit: only the general words).
    page.get_by_label("Period").fill("31/04/2026 to 30/09/2026")
    page.get_by_role("button", name="Download the report").click()
    expect(page.locator("#e-period")).to_contain_text("there is no 31 April 2026")
    # A period of centuries would hold the app for minutes: said, as the CLI says it.
    page.get_by_label("Period").fill("1900-01-01..2999-12-31")
    page.get_by_role("button", name="Download the report").click()
    expect(page.locator("#e-period")).to_contain_text("a report covers at most five years")
    # Two dates as every other date box takes them, and an empty box for the current year.
    page.get_by_label("Period").fill("01/04/2026 to 30/09/2026")
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download the report").click()
    assert caught.value.suggested_filename == "clustersync-report-north-denbighshire-2026-04-01-to-2026-09-30.html", caught.value.suggested_filename
    page.get_by_label("Period").fill("")
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download the report").click()
    assert re.fullmatch(r"clustersync-report-north-denbighshire-20\d\d-\d\d\.html", caught.value.suggested_filename), caught.value.suggested_filename
    # A financial year as board papers write it, with a slash, is the same year.
    page.get_by_label("Period").fill("2026/27")
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download the report").click()
    assert caught.value.suggested_filename == "clustersync-report-north-denbighshire-2026-27.html", caught.value.suggested_filename
    page.get_by_label("Period").fill("2026-27")
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download the report").click()
    download = caught.value
    assert download.suggested_filename == "clustersync-report-north-denbighshire-2026-27.html", download.suggested_filename
    saved = os.path.join(workdir, download.suggested_filename)
    download.save_as(saved)
    html = open(saved, encoding="utf-8").read()
    assert "north-denbighshire" in html and "Open risks on the 5×5 matrix" in html
    assert "<script" not in html
    page.goto("file://" + saved)
    expect(page.locator("body")).to_contain_text("Lessons learned from reviews of risks still open")
