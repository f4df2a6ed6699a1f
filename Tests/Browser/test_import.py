"""Import a register from a spreadsheet in the browser: the same rules and messages as
`clustersync import --format csv`; a refused file changes nothing and the page says which line
and column and why."""
import os

from playwright.sync_api import expect

from conftest import cli, shot

HEADER = "id,practice,title,category,owner,score,review_date,status\n"


def write(workdir, name, text):
    path = os.path.join(workdir, name)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    return path


def test_import_a_spreadsheet_all_rows_or_none(page, app, workdir):
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import")

    # A file with two bad rows: nothing is imported, and each problem names its line and column.
    bad = write(workdir, "bad-risks.csv", HEADER
                + ",,Lift out of order,estates,Estates lead,4x3,2026-12-15,open\n"
                + ",,Phone lines down,clinical,Reception lead,7x3,2026-12-15,open\n"
                + ",,Flooding in the car park,estates,Estates lead,2x2,2026-02-31,open\n")
    page.get_by_label("Register", exact=True).select_option("risk")
    page.get_by_label("CSV file").set_input_files(bad)
    page.get_by_label("Check only").check()
    page.get_by_role("button", name="Import").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nothing imported: 2 problems in bad-risks.csv")
    expect(page.get_by_label("Check only")).to_be_checked()
    page.get_by_label("Check only").uncheck()
    rows = alert.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("3")
    expect(rows.nth(0)).to_contain_text("score")
    expect(rows.nth(1)).to_contain_text("4")
    expect(rows.nth(1)).to_contain_text("review_date")
    shot(page, "import-refused")
    # The CLI reads the same file with the same rules and the same messages.
    cli_result = __import__("subprocess").run(
        [__import__("conftest").BINARY, "import", "--format", "csv", "--type", "risk", bad, "--replica", app.replica],
        capture_output=True, text=True)
    assert cli_result.returncode == 1
    for message in rows.locator("td:nth-child(3)").all_text_contents():
        assert message in cli_result.stderr
    assert "Lift out of order" not in cli(app.replica, "risk", "list")

    # The corrected file goes in whole.
    good = write(workdir, "risks.csv", HEADER
                 + ",,Lift out of order,estates,Estates lead,4x3,2026-12-15,open\n"
                 + ",,Phone lines down,clinical,Reception lead,3x3,2026-12-15,open\n"
                 + ",,Flooding in the car park,estates,Estates lead,2x2,2026-02-28,open\n")
    page.get_by_label("CSV file").set_input_files(good)
    # Checked first: the page says what each row would change, and nothing is written.
    page.get_by_label("Check only").check()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("Checked, nothing imported: 3 would be added")
    checked = page.locator("table.check-rows tbody tr")
    expect(checked).to_have_count(3)
    expect(checked.nth(0)).to_contain_text("add")
    expect(checked.nth(0)).to_contain_text("Title, Category, Owner, Score")
    assert "Lift out of order" not in cli(app.replica, "risk", "list")
    page.get_by_label("CSV file").set_input_files(good)
    page.get_by_label("Check only").uncheck()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 3 added, 0 updated, 0 unchanged.")
    listed = cli(app.replica, "risk", "list")
    for title in ["Lift out of order", "Phone lines down", "Flooding in the car park"]:
        assert title in listed
    expect(page.locator("#import-warnings")).to_have_count(0)

    # The same file again: each new row adds a record titled as one already here. The check says
    # so row by row (a row it would add has no id yet), and so does the import, which the app
    # cannot undo (web app audit: only the CLI said so).
    page.get_by_label("CSV file").set_input_files(good)
    page.get_by_label("Check only").check()
    page.get_by_role("button", name="Import").click()
    warnings = page.locator("#import-warnings li")
    expect(warnings).to_have_count(3)
    expect(warnings.nth(0)).to_contain_text("Line 2: a risk titled \"Lift out of order\" is already here (RSK-")
    expect(page.locator("table.check-rows tbody tr").nth(0).locator("td").nth(2)).to_have_text("(new)")
    page.get_by_label("CSV file").set_input_files(good)
    page.get_by_label("Check only").uncheck()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 3 added, 0 updated, 0 unchanged.")
    expect(page.locator("#import-warnings li")).to_have_count(3)
    shot(page, "import-again-warned")
    page.get_by_role("link", name="Risk register").click()
    expect(page.locator("#register")).to_contain_text("Phone lines down")


def test_an_import_sent_twice_imports_once(page, app, workdir):
    """A reload of the import's post, or a second click, imports once (a practice cannot delete
    the shared records a second import adds); a new import from a new page still goes."""
    import urllib.request
    page.get_by_role("link", name="Import").click()
    cookie = page.context.cookies()[0]
    csrf = page.locator("input[name=csrf]").get_attribute("value")
    sent = page.locator("input[name=sent]").get_attribute("value")
    row = b",,Boiler past its service date,estates,Estates lead,3x3,2026-12-15,open\r\n"

    def post(sent):
        body = (b"--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + csrf.encode() + b"\r\n"
                b"--b\r\nContent-Disposition: form-data; name=\"sent\"\r\n\r\n" + sent.encode() + b"\r\n"
                b"--b\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nrisk\r\n"
                b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\r\n"
                + HEADER.encode() + row + b"--b--\r\n")
        request = urllib.request.Request(app.address + "import", data=body, method="POST", headers={
            "Cookie": f"{cookie['name']}={cookie['value']}", "Content-Type": "multipart/form-data; boundary=b"})
        with urllib.request.urlopen(request) as answer:
            return answer.geturl(), answer.read().decode()

    first, _ = post(sent)
    assert "created=1" in first and "again" not in first
    again, text = post(sent)
    assert "again=1" in again, again
    assert "This import was sent twice: the file was imported once." in text
    assert cli(app.replica, "risk", "list").count("Boiler past its service date") == 1

    # From a new page the same file is a new import: it adds the row again, and says so, on the
    # page the import's redirect opens and again when that page is reloaded.
    page.reload()
    newer = page.locator("input[name=sent]").get_attribute("value")
    assert newer != sent
    page.get_by_label("Register", exact=True).select_option("risk")
    page.get_by_label("CSV file").set_input_files(write(workdir, "boiler.csv", HEADER + row.decode()))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 1 added, 0 updated, 0 unchanged.")
    expect(page.locator("#import-warnings li")).to_have_count(1)
    expect(page.locator("#import-warnings li")).to_contain_text("Boiler past its service date")
    page.reload()
    expect(page.locator("#import-warnings li")).to_have_count(1)
    assert cli(app.replica, "risk", "list").count("Boiler past its service date") == 2


def test_an_import_without_its_form_token_is_refused(page, app, workdir):
    import urllib.error
    import urllib.request
    cookie = page.context.cookies()[0]
    body = (b"--b\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nrisk\r\n"
            b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\r\n"
            + HEADER.encode() + b",,Forged,estates,Someone,2x2,2026-12-15,open\r\n--b--\r\n")
    request = urllib.request.Request(app.address + "import", data=body, method="POST", headers={
        "Cookie": f"{cookie['name']}={cookie['value']}", "Content-Type": "multipart/form-data; boundary=b"})
    try:
        urllib.request.urlopen(request)
        raise AssertionError("an import without its CSRF token was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 403
    assert "Forged" not in cli(app.replica, "risk", "list")


def test_a_file_or_a_form_too_large_is_refused_in_words(page, app, workdir):
    # A file over 8 MB: the import page says so, and nothing is imported.
    page.get_by_role("link", name="Import").click()
    big = write(workdir, "big.csv", HEADER + (",,Lift out of order,estates,Estates lead,4x3,2026-12-15,open\n" * 150_000))
    assert os.path.getsize(big) > 8 * 1024 * 1024
    page.get_by_label("Register", exact=True).select_option("risk")
    page.get_by_label("CSV file").set_input_files(big)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("The file is larger than 8 MB")
    assert "Lift out of order" not in cli(app.replica, "risk", "list")
    # A form over 256 KB: a page saying so, not a failure, and nothing saved.
    page.get_by_role("link", name="Risk register").click()
    page.get_by_role("link", name="Add a risk").click()
    page.get_by_label("Title").fill("Pasted minutes")
    page.get_by_label("Description").fill("x" * 300_000)
    with page.expect_response(lambda response: response.request.method == "POST") as answered:
        page.get_by_role("button", name="Save").click()
    assert answered.value.status == 413
    expect(page.get_by_role("heading", level=1)).to_have_text("That was too much to send")
    assert "Pasted minutes" not in cli(app.replica, "risk", "list")


def test_a_list_and_its_items_go_out_and_come_back_as_spreadsheets(page, app, workdir):
    """A membership list kept in a spreadsheet: exported from the app, items added in the file,
    imported back (web app audit: lists were the CLI's only)."""
    import re
    members = cli(app.replica, "list", "create", "title=Stakeholder board members", "kind=membership").strip()
    cli(app.replica, "list", "add", members, "Dr Siân Evans")
    page.get_by_role("link", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("^Lists' items \\(CSV")).click()
    assert download.value.suggested_filename == "items.csv"
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert text.startswith("id,practice,list,text,owner") and "Dr Siân Evans" in text, text
    expect(page.get_by_role("link", name=re.compile("^Lists \\(agendas"))).to_have_attribute("href", "/export/lists.csv")

    path = write(workdir, "items.csv", "list,text,owner\n" + members + ",Llŷr Roberts,\n" + members + ",Rhian Price,Chair\n")
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("Register", exact=True).select_option("item")
    page.get_by_label("CSV file").set_input_files(path)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 2 added, 0 updated, 0 unchanged.")
    shown = cli(app.replica, "list", "show", members)
    assert shown.index("Dr Siân Evans") < shown.index("Llŷr Roberts") < shown.index("Rhian Price"), shown
