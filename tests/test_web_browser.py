"""The page in a real headless Chromium, as an ops person uses it: upload, check, import,
download; cancel and resume; a server restarted mid-import; hostile cells; a file too big.

Skipped (with the reason) when no Chromium is installed: `apt-get install chromium`.
Set LSQ_WEB_SCREENSHOT=docs/serve.png to refresh the README's screenshot.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from support import REFUSED_MAPPING
from web_setup import IMAGE, SCRIPT, captures, page_config, stored_names, write_leads

from importer.sandbox import RunningSandbox, SandboxConfig, serve_in_thread
from importer.web import serve_in_thread as serve_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no Chromium found: apt-get install chromium to run these"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect
Axe = pytest.importorskip("axe_playwright_python.sync_playwright", reason="pip install .[test]").Axe
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(20_000)
    opened = context.new_page()
    opened.dialogs = []  # any alert() would mean a cell ran as code
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    yield opened
    context.close()


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    config = SandboxConfig(async_delay=0.05, rate_limit=1000, latency=0.08)
    with serve_in_thread(config) as running:
        yield running


@pytest.fixture
def slow_sandbox() -> Iterator[RunningSandbox]:
    """Sending 60 rows takes about 3 s: long enough to stop an import half way."""
    config = SandboxConfig(async_delay=0.05, rate_limit=1000, latency=0.2)
    with serve_in_thread(config) as running:
        yield running


def check(page: Any, url: str, data: Path) -> None:
    """Home → choose the file and the mapping → Check the file."""
    page.goto(url)
    page.get_by_test_id("upload-file").set_input_files(str(data))
    page.get_by_test_id("mapping").select_option(label="loan.yaml")
    page.get_by_test_id("validate").click()
    expect(page.get_by_test_id("summary")).to_be_visible()


def accessible(page: Any, screen: str) -> None:
    """axe-core on the screen as it stands: no serious or critical WCAG 2 A/AA violation."""
    axe = Axe()
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    found = axe.run(page, options=options).response["violations"]
    grave = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not grave, f"{screen}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in grave
    )


def progress_done(page: Any) -> int:
    text = page.get_by_test_id("progress").text_content() or ""
    found = re.match(r"(\d+) of", text)
    return int(found.group(1)) if found else 0


def wait_for_captures(running: RunningSandbox, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while captures(running) < count:
        assert time.monotonic() < deadline, "the import did not start sending"
        time.sleep(0.02)


def test_upload_check_import_and_download(
    tmp_path: Path, page: Any, sandbox: RunningSandbox
) -> None:
    data = write_leads(tmp_path / "leads.csv", 30, bad=3)
    with serve_page(page_config(tmp_path, sandbox)) as served:
        page.goto(served.url)
        reached = []
        for _ in range(12):  # the keyboard reaches the form's controls in order
            page.keyboard.press("Tab")
            reached.append(page.evaluate("document.activeElement.dataset.testid || ''"))
        assert {"upload-file", "mapping", "validate"} <= set(reached)
        accessible(page, "home")

        check(page, served.url, data)
        expect(page.get_by_test_id("summary")).to_contain_text(
            "33 rows: 30 ready, 3 need fixing, 0 blank rows skipped. Importing takes"
        )
        problems = page.get_by_test_id("errors").locator("tbody tr")
        expect(problems).to_have_count(3)
        assert problems.locator("td").first.text_content() == "32"
        sort_by_row = page.get_by_test_id("errors").get_by_role("button", name=re.compile("^Row"))
        sort_by_row.click()  # it was sorted by row; a click sorts it the other way
        assert problems.first.locator("td").first.text_content() == "34"
        preview = page.get_by_test_id("preview")
        expect(preview.locator("thead")).to_contain_text("Email")
        expect(preview.locator("thead")).to_contain_text("EmailAddress")
        expect(preview.locator("tbody tr").first).to_contain_text("person0@example.com")
        accessible(page, "check")

        page.get_by_test_id("start").click()
        page.wait_for_url(re.compile(r"/imports/"))
        page.evaluate("window.notReloaded = true")
        first_seen = page.get_by_test_id("progress").text_content()
        expect(page.get_by_test_id("state")).to_have_text("finished")
        expect(page.get_by_test_id("progress")).to_have_text("30 of 30 rows done")
        assert first_seen != "30 of 30 rows done", "the import was followed while it ran"
        assert page.evaluate("window.notReloaded === true"), "updated live, without a reload"
        expect(page.get_by_test_id("counts")).to_contain_text("Success 30")
        expect(page.get_by_test_id("counts")).to_contain_text("Invalid 3")
        expect(page.get_by_test_id("cancel")).to_be_hidden()
        accessible(page, "import")

        shot = tmp_path / "serve.png"
        page.screenshot(path=str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("LSQ_WEB_SCREENSHOT"):
            shutil.copyfile(shot, os.environ["LSQ_WEB_SCREENSHOT"])

        with page.expect_download() as download:
            page.get_by_test_id("download-results").click()
        assert download.value.suggested_filename == "leads.results.xlsx"
        saved = tmp_path / "downloaded.xlsx"
        download.value.save_as(saved)
        sheet = openpyxl.load_workbook(saved)["Results"]
        header = [cell.value for cell in sheet[1]]
        statuses = [r[header.index("Status")] for r in sheet.iter_rows(min_row=2, values_only=True)]
        assert sorted(statuses) == ["Invalid"] * 3 + ["Success"] * 30

        page.goto(served.url)
        expect(page.get_by_test_id("imports").get_by_test_id("import-row")).to_have_count(1)
    assert captures(sandbox) == 30


def test_cancel_then_resume(tmp_path: Path, page: Any, slow_sandbox: RunningSandbox) -> None:
    sandbox = slow_sandbox
    data = write_leads(tmp_path / "leads.csv", 60)
    with serve_page(page_config(tmp_path, sandbox)) as served:
        check(page, served.url, data)
        page.get_by_test_id("start").click()
        wait_for_captures(sandbox, 5)
        expect(page.get_by_test_id("cancel")).to_contain_text("resume")
        page.get_by_test_id("cancel").click()
        expect(page.get_by_test_id("state")).to_have_text("stopped")
        expect(page.get_by_role("status")).to_contain_text("can be resumed")
        assert progress_done(page) < 60 and captures(sandbox) < 60
        page.get_by_role("button", name="Resume").click()
        expect(page.get_by_test_id("state")).to_have_text("finished")
        expect(page.get_by_test_id("progress")).to_have_text("60 of 60 rows done")
    assert captures(sandbox) == 60, "nothing was sent twice"
    assert sorted(stored_names(sandbox)) == sorted(f"Loan {i}" for i in range(60))


def test_a_server_restarted_mid_import_lists_it_and_resumes_it(
    tmp_path: Path, page: Any, slow_sandbox: RunningSandbox
) -> None:
    sandbox = slow_sandbox
    data = write_leads(tmp_path / "leads.csv", 60)
    config = page_config(tmp_path, sandbox)
    with serve_page(config) as first:
        check(page, first.url, data)
        page.get_by_test_id("start").click()
        page.wait_for_url(re.compile(r"/imports/"))
        wait_for_captures(sandbox, 5)
    sent_before = captures(sandbox)
    assert 0 < sent_before < 60
    with serve_page(config) as second:
        page.goto(second.url)
        row = page.get_by_test_id("import-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("leads.csv")
        expect(row).to_contain_text("stopped")
        row.get_by_role("button", name="Resume").click()
        expect(page.get_by_test_id("state")).to_have_text("finished")
        expect(page.get_by_test_id("counts")).to_contain_text("Success 60")
    assert captures(sandbox) == 60, "the restarted page sent nothing twice"
    assert len(set(stored_names(sandbox))) == 60


def test_hostile_cells_and_names_show_as_text(
    tmp_path: Path, page: Any, sandbox: RunningSandbox
) -> None:
    data = write_leads(tmp_path / f"{IMAGE}.csv", 4, bad=1, hostile=True)
    with serve_page(page_config(tmp_path, sandbox)) as served:
        check(page, served.url, data)
        expect(page.get_by_test_id("errors")).to_contain_text(IMAGE)
        expect(page.get_by_test_id("preview")).to_contain_text(SCRIPT)
        expect(page.locator("h1")).to_contain_text(IMAGE)
        page.get_by_test_id("start").click()
        expect(page.get_by_test_id("state")).to_have_text("finished")
        page.goto(served.url)
        expect(page.get_by_test_id("import-row")).to_contain_text(IMAGE)
        assert page.locator("img").count() == 0 and page.locator("main script").count() == 0
    assert page.dialogs == [], "no cell ran as code"


def test_a_file_above_the_upload_limit_is_refused_with_a_message(
    tmp_path: Path, page: Any, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox, max_upload_bytes=1024 * 1024)
    big = tmp_path / "big.csv"
    big.write_text("Email\n" + "someone@example.com\n" * 120_000, encoding="utf-8")
    with serve_page(config) as served:
        page.goto(served.url)
        page.get_by_test_id("upload-file").set_input_files(str(big))
        refusal = page.locator("[data-upload-error]")
        expect(refusal).to_contain_text("big.csv is larger than 1.0 MB")
        page.get_by_test_id("validate").click()
        expect(refusal).to_be_visible()
        assert page.url == served.url
        dropped = page.evaluate_handle(
            """() => { const t = new DataTransfer();
                       t.items.add(new File(['Email\\n'], 'dropped.csv', {type: 'text/csv'}));
                       return t; }"""
        )
        page.dispatch_event("[data-drop]", "drop", {"dataTransfer": dropped})
        expect(page.locator("[data-chosen]")).to_have_text("Chosen: dropped.csv")
        expect(refusal).to_be_hidden()
    assert not list((config.work_dir / "uploads").iterdir())


def test_a_new_file_is_matched_with_drop_downs_and_a_refused_save_keeps_every_input(
    tmp_path: Path, page: Any, sandbox: RunningSandbox
) -> None:
    data = tmp_path / "Deals Dec.csv"
    rows = [f"d{i}@example.com,Deal Person {i},98765{i:05d},Deal {i},{i}50000" for i in range(4)]
    header = "E-mail ID,Customer Name,Mobile No.,Deal Title,Ticket Size\n"
    data.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    with serve_page(page_config(tmp_path, sandbox)) as served:
        page.goto(served.url)
        page.get_by_test_id("upload-file").set_input_files(str(data))
        page.get_by_test_id("mapping").select_option(value="draft")
        page.get_by_test_id("validate").click()
        matches = page.get_by_test_id("matches")
        expect(matches).to_be_visible()
        email = matches.locator('tr[data-column="E-mail ID"]')
        expect(email.get_by_test_id("field")).to_have_value("lead.EmailAddress")  # drafted
        accessible(page, "matching")
        size = matches.locator('tr[data-column="Ticket Size"]')
        size.get_by_test_id("field").select_option(value="opportunity.*")
        size.get_by_test_id("type").select_option(value="number")
        page.get_by_test_id("event-code").fill("")
        page.get_by_test_id("mapping-name").fill("Deals by drop-downs")
        page.get_by_test_id("save-mapping").click()

        # Refused: the reasons stand beside their inputs, and nothing typed was lost.
        expect(page.get_by_text("Type the opportunity type code")).to_be_visible()
        expect(size.get_by_text("Type the field's Schema Name")).to_be_visible()
        expect(size.get_by_test_id("field")).to_have_value("opportunity.*")
        expect(size.get_by_test_id("type")).to_have_value("number")
        expect(page.get_by_test_id("mapping-name")).to_have_value("Deals by drop-downs")
        accessible(page, "matching, refused")

        page.get_by_test_id("event-code").fill("12000")
        size.get_by_test_id("schema-name").fill("mx_Custom_6")
        page.get_by_test_id("save-mapping").click()
        expect(page.get_by_test_id("summary")).to_contain_text("4 rows: 4 ready")
        assert (tmp_path / "mappings" / "Deals by drop-downs.yaml").is_file()
        assert not page.dialogs


def test_two_bad_cells_fixed_in_place_are_imported_with_the_fixed_values(
    tmp_path: Path, page: Any, sandbox: RunningSandbox
) -> None:
    data = tmp_path / "leads.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Email", "First Name", "Opportunity Name", "Loan Amount"])
    for i in range(4):
        sheet.append([f"p{i}@example.com", f"P{i}", f"Loan {i}", 1000 * (i + 1)])
    sheet["A3"] = "p1-at-example.com"  # two bad cells: an email, and an amount below 0
    sheet["D5"] = -5
    book.save(data)
    with serve_page(page_config(tmp_path, sandbox)) as served:
        check(page, served.url, data)
        expect(page.get_by_test_id("summary")).to_contain_text("2 need fixing")
        accessible(page, "check with cells to fix")
        errors = page.get_by_test_id("errors")
        errors.locator('tr[data-row="3"][data-column="Email"]').get_by_test_id("fix").fill(
            "p1@example.com"
        )
        errors.locator('tr[data-row="5"][data-column="Loan Amount"]').get_by_test_id("fix").fill(
            "4000"
        )
        page.get_by_test_id("recheck").scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, 200)")
        before = page.evaluate("window.scrollY")
        page.get_by_test_id("recheck").click()
        expect(page.get_by_test_id("summary")).to_contain_text("4 rows: 4 ready, 0 need fixing")
        page.wait_for_load_state("load")
        assert before > 0 and abs(page.evaluate("window.scrollY") - before) < 5  # kept its place
        with page.expect_download() as fixed:
            page.get_by_test_id("download-fixed").click()
        saved = tmp_path / "fixed.xlsx"
        fixed.value.save_as(saved)
        cells = openpyxl.load_workbook(saved).active
        assert cells["A3"].value == "p1@example.com" and cells["D5"].value == 4000  # a number
        assert cells["D2"].value == 1000

        page.get_by_test_id("start").click()
        expect(page.get_by_test_id("state")).to_have_text("finished")
        expect(page.get_by_test_id("counts")).to_contain_text("Success 4")
    stored = {o["Fields"]["mx_Custom_6"] for o in sandbox.sandbox.opportunities()}
    assert stored == {"1000", "2000", "3000", "4000"}
    # the validation report and the results both say which cells were fixed, and where
    named = 'Row 3, Email: "p1-at-example.com" → "p1@example.com" (fixed on the page)'
    books = [
        *(tmp_path / "work").glob("checks/*/report.xlsx"),
        *(tmp_path / "work").glob("imports/*/results.xlsx"),
    ]
    assert len(books) == 2
    for book_path in books:
        summary = dict(openpyxl.load_workbook(book_path)["Summary"].iter_rows(values_only=True))
        assert summary["Input"] == "leads.xlsx"
        assert summary["Fixed cell 1"] == named, book_path
        assert summary["Fixed cell 2"] == 'Row 5, Loan Amount: "-5" → "4000" (fixed on the page)'


def test_a_failure_is_shown_with_its_reason_in_the_users_words(
    tmp_path: Path, page: Any, sandbox: RunningSandbox
) -> None:
    data = tmp_path / "won deals.csv"
    lines = ["Email,Opportunity Name,Status,Status Comment"]
    lines += [f"p{i}@example.com,Deal {i},Open," for i in range(3)]
    lines += ["w@example.com,Big deal,Won,"]  # Won without a comment: LeadSquared refuses it
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = page_config(tmp_path, sandbox)
    (config.mappings_dir / "won.yaml").write_text(REFUSED_MAPPING, encoding="utf-8")
    with serve_page(config) as served:
        page.goto(served.url)
        page.get_by_test_id("upload-file").set_input_files(str(data))
        page.get_by_test_id("mapping").select_option(label="won.yaml")
        page.get_by_test_id("validate").click()
        expect(page.get_by_test_id("summary")).to_contain_text("4 rows: 4 ready")
        page.get_by_test_id("start").click()
        expect(page.get_by_test_id("state")).to_have_text("finished")
        expect(page.get_by_test_id("counts")).to_contain_text("Failure 1")
        failure = page.get_by_test_id("failures").locator('tr[data-row="5"]')
        expect(failure).to_contain_text("Status Comment")  # the user's header...
        expect(failure.locator("td").nth(2)).to_contain_text("Status Comment (mx_Custom_19)")
        expect(failure.locator("td").nth(3)).to_have_text(  # ...and what to do
            "Fill in Status Comment for this row, then retry"
        )
        expect(page.get_by_test_id("retry-preview")).to_contain_text(
            "leaves 1 row LeadSquared refused alone until their values are fixed"
        )
        accessible(page, "import with failures")

        # Fixed on the page, and sent again: the ops person never opens Excel.
        failure.get_by_test_id("fix").fill("Signed on 5 Dec")
        page.get_by_test_id("retry-fixed").click()
        expect(page.get_by_test_id("counts")).to_contain_text("Success 4")
        expect(page.get_by_test_id("failures")).to_have_count(0)
    won = [o for o in sandbox.sandbox.opportunities() if o["Fields"].get("Status") == "Won"]
    assert [o["Fields"].get("mx_Custom_19") for o in won] == ["Signed on 5 Dec"]
