"""Backing up the replica from the Export page, as a practice manager who never opens a terminal:
a whole copy beside the replica, readable only by its owner, that `clustersync restore` puts back."""
import os
import re
import stat
import subprocess

from playwright.sync_api import expect

from conftest import BINARY, RunningApp, cli, open_app, shot


def test_back_up_now_writes_a_whole_copy_beside_the_replica(page, app, replica, workdir):
    # Edits the app holds open: part of them sit in the replica's -wal, which a copy by hand misses.
    for title in ["Locum cover", "Flu clinics", "Winter pressures"]:
        cli(replica, "risk", "add", f"title={title}")
    page.get_by_role("link", name="Export").click()
    expect(page.get_by_role("heading", level=2, name="Back up this laptop's replica")).to_be_visible()
    expect(page.get_by_text(replica)).to_be_visible()
    expect(page.locator("#last-backup")).to_have_text("There is no backup beside it yet.")
    page.get_by_role("button", name="Back up now").click()
    flash = page.get_by_role("status")
    expect(flash).to_contain_text("Backed up to " + os.path.join(workdir, "prestatyn-backup-"))
    expect(flash).to_contain_text("of prestatyn-medical (north-denbighshire, bcuhb), 6 changes not yet synced")
    expect(page.locator("#last-backup")).to_contain_text("The latest backup beside it: ")
    expect(page.locator("#last-backup")).to_contain_text(os.path.join(workdir, "prestatyn-backup-"))
    shot(page, "export-backup")

    backups = [name for name in os.listdir(workdir) if re.fullmatch(r"prestatyn-backup-\d{4}-\d{2}-\d{2}-\d{6}\.sqlite", name)]
    assert len(backups) == 1, os.listdir(workdir)
    backup = os.path.join(workdir, backups[0])
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    restored = os.path.join(workdir, "restored.sqlite")
    result = subprocess.run([BINARY, "restore", "--from", backup, "--replica", restored], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    listed = cli(restored, "risk", "list")
    for title in ["Locum cover", "Flu clinics", "Winter pressures"]:
        assert title in listed, listed


def test_backups_asked_for_at_once_each_get_a_file_of_their_own(page, app, replica, workdir):
    cli(replica, "risk", "add", "title=Locum cover")
    page.get_by_role("link", name="Export").click()
    statuses = page.evaluate("""async () => {
        const csrf = document.querySelector('form[action="/export/backup"] input[name=csrf]').value;
        const send = () => fetch('/export/backup', {method: 'POST', body: new URLSearchParams({csrf})}).then(r => r.status);
        return Promise.all([send(), send(), send()]);
    }""")
    assert statuses == [200, 200, 200], statuses
    backups = sorted(name for name in os.listdir(workdir) if re.fullmatch(r"prestatyn-backup-\d{4}-\d{2}-\d{2}-\d{6}\.sqlite", name))
    assert len(backups) == 3, os.listdir(workdir)
    assert not [name for name in os.listdir(workdir) if "partial" in name], os.listdir(workdir)


def test_a_health_boards_read_only_replica_is_backed_up_too(browser, workdir):
    replica = os.path.join(workdir, "health-board.sqlite")
    subprocess.run([BINARY, "init", "--replica", replica, "--tenant", "bcuhb", "--role", "health-board", "--name", "BCUHB analyst"],
                   check=True, capture_output=True, timeout=60)
    running = RunningApp(replica)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        page = context.new_page()
        open_app(page, running)
        page.get_by_role("link", name="Export").click()
        page.get_by_role("button", name="Back up now").click()
        expect(page.get_by_role("status")).to_contain_text("Backed up to " + os.path.join(workdir, "health-board-backup-"))
    finally:
        context.close()
        running.stop()


def test_a_backup_without_its_form_token_is_refused(page, app, workdir):
    page.get_by_role("link", name="Export").click()
    page.evaluate("document.querySelector('form[action=\"/export/backup\"] input[name=csrf]').value = 'forged'")
    page.get_by_role("button", name="Back up now").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Export")
    assert not [name for name in os.listdir(workdir) if "backup" in name], os.listdir(workdir)
