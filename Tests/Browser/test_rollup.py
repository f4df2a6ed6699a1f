"""A PCPG analyst's web app: a read-only replica opens on its region's roll-up (counts only, as
the server sent them), and its risk register holds the risks escalated to the PCPG and nothing
else. Through the real server (`clustersyncd serve`) and a real cluster lead's replica."""
import datetime
import os
import re

import pytest
from playwright.sync_api import expect

from conftest import RunningApp, RunningServer, cli, init_replica, shot, open_app


@pytest.fixture
def region(workdir):
    server = RunningServer(workdir)
    # Stopped however the set-up ends: a failed step must not leave the server running.
    try:
        server.admin("region", "add", "north", "--tenant", server.TENANT)
        server.admin("cluster", "set-region", "--tenant", server.TENANT, server.CLUSTER, "north")

        # The cluster lead's replica: escalating to the PCPG is the lead's.
        lead = os.path.join(workdir, "prestatyn.sqlite")
        init_replica(lead, "prestatyn-medical", "Prestatyn Medical")
        server.admin("practice", "add", "--tenant", server.TENANT, "--cluster", server.CLUSTER, "prestatyn-medical")
        # A community pharmacy: counted by kind, owing no GP Collaborative attendance.
        server.admin("practice", "add", "--tenant", server.TENANT, "--cluster", server.CLUSTER, "--kind", "pharmacy", "boots-prestatyn")
        token = os.path.join(workdir, "lead.token")
        with open(token, "w") as file:
            file.write(server.admin("credential", "issue", "--tenant", server.TENANT, "--cluster", server.CLUSTER,
                                    "--practice", "prestatyn-medical", "--role", "cluster-lead", "--label", "Cluster lead"))
        cli(lead, "remote", "set", f"localhost:{server.port}", "--ca", os.path.join(server.data, "ca.pem"), "--token-file", token)
        cli(lead, "sync")  # the replica learns its role from the server
        escalated = cli(lead, "risk", "add", "title=GP locum cover across the county", "owner=Cluster lead",
                        "likelihood=4", "consequence=5")
        cli(lead, "risk", "set", escalated, "escalation=pcpg")
        cli(lead, "risk", "add", "title=Branch surgery lift out of order", "owner=Practice manager", "likelihood=3", "consequence=4")
        # Extreme and held in the cluster: the roll-up counts it for the PCPG to ask about.
        cli(lead, "risk", "add", "title=Flooding of the branch car park", "owner=Practice manager", "likelihood=5", "consequence=3",
            "category=estates")
        # A decision with financial implications, agreed this financial year: its sum reaches the PCPG.
        cli(lead, "decision", "add", "title=Fund the phlebotomy pilot", "method=consensus", "outcome=agreed",
            "financial_implications=yes", "amount=12000.50")
        # Prestatyn's contribution to the plan for last QAIF year, made late (after 30 September).
        today = datetime.date.today()
        start = today.year if today.month >= 10 else today.year - 1
        last = f"{start - 1}-{str(start)[2:]}"
        cli(lead, "contribution", "add", "contributor=prestatyn-medical", f"year={last}", f"date={start}-10-02",
            "summary=Needs assessment")
        # The cluster board met today: counted by body, no title.
        cli(lead, "meeting", "add", "title=Cluster board, winter", "body=stakeholder-board", f"date={today.isoformat()}", "status=held")
        # The cluster plan, agreed, with its priorities: it reaches the PCPG whole. Next year's,
        # a draft, stays the cluster's.
        priorities = cli(lead, "list", "create", "title=Cluster priorities", "kind=priorities")
        cli(lead, "list", "add", priorities, "Same-day access for urgent care")
        cli(lead, "list", "add", priorities, "Frailty pathway across the county")
        cli(lead, "plan", "add", "title=Cluster plan 2026-29", "period_start=2026-04-01", "period_end=2029-03-31",
            "status=agreed", f"priorities={priorities}")
        cli(lead, "plan", "add", "title=Cluster plan 2027-30", "status=draft")
        cli(lead, "sync")

        # The PCPG analyst's replica, made for the region.
        pcpg = os.path.join(workdir, "pcpg.sqlite")
        cli(pcpg, "init", "--tenant", server.TENANT, "--role", "pcpg", "--region", "north", "--name", "PCPG analyst")
        token = os.path.join(workdir, "pcpg.token")
        with open(token, "w") as file:
            file.write(server.admin("credential", "issue", "--tenant", server.TENANT, "--role", "pcpg", "--region", "north",
                                    "--label", "PCPG analyst"))
        cli(pcpg, "remote", "set", f"localhost:{server.port}", "--ca", os.path.join(server.data, "ca.pem"), "--token-file", token)
        yield server, pcpg
    finally:
        server.stop()


def test_a_pcpg_analyst_opens_on_the_regions_roll_up(browser, region):
    server, pcpg = region
    app = RunningApp(pcpg)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        page = context.new_page()
        open_app(page, app)
        # Not synced yet: no roll-up, and the way to get one.
        expect(page.get_by_role("heading", name="Roll-up")).to_be_visible()
        expect(page.locator("main")).to_contain_text("No roll-up yet: this replica has not synced")

        cli(pcpg, "sync")
        # The agreed plan is listed on the analyst's replica; the draft is not.
        listed = cli(pcpg, "plan", "list")
        assert "Cluster plan 2026-29" in listed and "2027-30" not in listed, listed
        page.goto(app.address)
        expect(page).to_have_url(app.address + "rollup")
        expect(page.locator("#rollup-heading")).to_contain_text("Region north (bcuhb)")
        row = page.locator("#rollup-clusters tbody tr")
        expect(row).to_have_count(1)
        # north-denbighshire: three open risks, two extreme, one of them not escalated.
        expect(row.first).to_contain_text("north-denbighshire")
        cells = row.first.locator("td")
        expect(cells.nth(0)).to_have_text("3")
        expect(cells.nth(1)).to_have_text("2")
        expect(cells.nth(2)).to_have_text("1")
        expect(cells.nth(2)).to_have_attribute("data-label", "Scoring 15+, not escalated")
        totals = page.locator("#rollup-totals")
        expect(page.locator("#rollup-practices")).to_have_text(re.compile(r"^\d+ GP, 1 pharmacy$"))
        expect(totals).not_to_contain_text("boots-prestatyn")
        expect(page.locator("#rollup-meetings")).to_have_text(re.compile(r"^In 20\d\d-\d\d \(financial year\): stakeholder board 1 held\.$"))
        expect(totals).to_contain_text("3 in all (3 open, 0 closed). Open by band: extreme 2, high 1")
        expect(totals).to_contain_text("Open and escalated: 1 to the PCPG, 0 to the Health Board. "
                                       "Open, scoring 15 or more and not escalated beyond the cluster: 1.")
        expect(totals).to_contain_text("Open risks by category: clinical 0, workforce 0, financial 0, service delivery 0, "
                                       "information governance 0, reputation 0, partnership 0, estates 1, other 0, no category 2.")
        expect(totals).to_contain_text(re.compile(r"With financial implications in 20\d\d-\d\d: 1 agreed, for £12,000\.50 in all; 0 rejected\."))
        expect(totals).to_contain_text(re.compile(r"20\d\d-\d\d, due by 30 Sep 20\d\d: 0 on time, 1 late, 0 undated\."))
        # The heat map: likelihood 4 x consequence 5 and 3 x 4 hold one each.
        heat = page.locator("table.heat tbody tr")
        expect(heat.nth(1).locator("td").nth(4)).to_contain_text("1")
        expect(heat.nth(2).locator("td").nth(3)).to_contain_text("1")
        # Counts only: no title appears on the roll-up.
        expect(page.locator("main")).not_to_contain_text("locum")
        expect(page.locator("footer")).to_contain_text("A read-only copy")
        expect(page.get_by_role("link", name="Import")).to_have_count(0)
        # A cluster's registers are not held here: not offered, rather than shown empty.
        for held_elsewhere in ["Lists", "Meetings", "Decisions", "Declarations of interest"]:
            expect(page.locator("nav").get_by_role("link", name=held_elsewhere, exact=True)).to_have_count(0)
        expect(page.locator("nav").get_by_role("link", name="Action tracker")).to_have_count(1)
        assert page.goto(app.address + "attendance").status == 403
        expect(page.locator("main")).to_contain_text("the Roll-up page gives each cluster's GP Collaborative attendance")
        page.goto(app.address + "rollup")
        path = shot(page, "pcpg-rollup")
        assert os.path.getsize(path) > 10_000
        # An analyst on a phone: the roll-up's tables fit the screen.
        page.set_viewport_size({"width": 400, "height": 900})
        width = page.evaluate("document.documentElement.scrollWidth")
        shot(page, "phone-pcpg-rollup")
        assert width <= 400, f"the roll-up is {width} px wide on a 400 px screen"
        page.set_viewport_size({"width": 1280, "height": 900})

        # The cluster plan agreed, with its cluster and its priorities; the draft is not here.
        page.locator("nav").get_by_role("link", name="Cluster plan", exact=True).click()
        plans = page.locator("main table tbody tr")
        expect(plans).to_have_count(1)
        expect(plans.first).to_contain_text("Cluster plan 2026-29")
        expect(plans.first.locator("td").nth(1)).to_have_text("north-denbighshire")
        expect(page.locator("main")).not_to_contain_text("2027-30")
        expect(page.get_by_role("link", name="Practice contributions to the plan")).to_have_count(0)
        plans.first.get_by_role("link").click()
        expect(page.locator("main")).to_contain_text("Cluster priorities")
        page.get_by_role("link", name="Cluster priorities").first.click()
        expect(page.locator("main")).to_contain_text("Same-day access for urgent care")
        expect(page.locator("main")).to_contain_text("Frailty pathway across the county")
        shot(page, "pcpg-plan-priorities")

        # The register holds the escalated risk, in full, and not the other.
        page.get_by_role("link", name="Risk register").click()
        expect(page.locator("main")).to_contain_text("GP locum cover across the county")
        expect(page.locator("main")).not_to_contain_text("Branch surgery lift")
        # Read-only: nothing offers a change.
        expect(page.get_by_role("link", name="Add a risk")).to_have_count(0)
        page.locator("#register tbody a").first.click()
        expect(page.get_by_role("heading", name="Details")).to_be_visible()
        expect(page.get_by_role("link", name="Edit")).to_have_count(0)
        expect(page.locator("main form")).to_have_count(0)
        # Since when the risk has been escalated, as the analyst reads it.
        expect(page.locator("dl.fields")).to_contain_text(re.compile(r"Escalated since\s*\d{1,2} \w{3} 20\d\d \(0 days\)"))
        # Nor does a typed address: the form pages say this replica changes nothing.
        record = page.url
        for path in ["risks/new", "actions/new", "import", record.split("/", 3)[3] + "/edit"]:
            response = page.goto(app.address + path)
            assert response.status == 403, path
            expect(page.get_by_role("heading", level=1)).to_have_text("This replica changes nothing")
            expect(page.locator("main form")).to_have_count(0)
    finally:
        context.close()
        app.stop()


def test_a_health_board_compares_its_regions(browser, region, workdir):
    """A Health Board's roll-up puts its PCPGs' regions side by side (each cluster carries its
    region from the server), as `rollup` does in the terminal."""
    server, _ = region
    server.admin("region", "add", "east", "--tenant", server.TENANT)
    server.admin("cluster", "add", "--tenant", server.TENANT, "flint")
    server.admin("cluster", "set-region", "--tenant", server.TENANT, "flint", "east")
    board = os.path.join(workdir, "board.sqlite")
    cli(board, "init", "--tenant", server.TENANT, "--role", "health-board", "--name", "Primary care team")
    token = os.path.join(workdir, "board.token")
    with open(token, "w") as file:
        file.write(server.admin("credential", "issue", "--tenant", server.TENANT, "--role", "health-board", "--label", "Primary care team"))
    cli(board, "remote", "set", f"localhost:{server.port}", "--ca", os.path.join(server.data, "ca.pem"), "--token-file", token)
    cli(board, "sync")
    app = RunningApp(board)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        page = context.new_page()
        open_app(page, app)
        table = page.locator("#rollup-regions")
        expect(table.locator("caption")).to_have_text("By region (each PCPG's clusters together)")
        rows = table.locator("tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0).locator("th")).to_have_text("east")
        expect(rows.nth(0).locator("td").nth(0)).to_have_text("1")         # one cluster, nothing in it
        expect(rows.nth(0).locator("td").nth(1)).to_have_text("0")
        expect(rows.nth(1).locator("th")).to_have_text("north")
        expect(rows.nth(1).locator("td").nth(1)).to_have_text("3")         # open risks
        expect(rows.nth(1).locator("td").nth(3)).to_have_text("1")         # scoring 15+, not escalated
        shot(page, "board-regions")
    finally:
        context.close()
        app.stop()
