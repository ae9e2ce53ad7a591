"""The page without a browser: its JSON, its forms, tokens, CSRF, uploads and the CLI command.

Driven through Starlette's TestClient (the app in-process, real HTTP semantics) against a
real sandbox served on 127.0.0.1.
"""

from __future__ import annotations

import html
import re
import socket
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import yaml
from support import CAPTURE_HEAD, REFUSED_MAPPING, queue_done, wait_for
from typer.testing import CliRunner
from web_setup import IMAGE, MAPPING, SCRIPT, captures, page_config, stored_names, write_leads

from importer.cli import app as cli_app
from importer.core.config import Rate
from importer.core.estimate import estimate_import
from importer.sandbox import RunningSandbox, SandboxConfig, serve_in_thread
from importer.web import WebConfig, create_app
from importer.web.words import duration, verdict

with warnings.catch_warnings():  # Starlette 1.x suggests httpx2 for its test client
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

BASE = "http://127.0.0.1"


@pytest.fixture
def slow_sandbox() -> Iterator[RunningSandbox]:
    """Slow enough that an import of 40 rows is still running when the test acts."""
    with serve_in_thread(SandboxConfig(async_delay=0.05, rate_limit=1000, latency=0.15)) as running:
        yield running


def client_for(config: WebConfig) -> TestClient:
    return TestClient(create_app(config), base_url=BASE, follow_redirects=False)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', html)
    assert found, "the page carries its CSRF token"
    return found.group(1)


def upload(client: TestClient, path: Path, mapping: str = "m:loan.yaml", **fields: str) -> str:
    """Post the home page's form; return where it leads (the check page)."""
    token = csrf_of(client.get("/").text)
    response = client.post(
        "/check",
        data={"csrf": token, "mapping": mapping, **fields},
        files={"file": (path.name, path.read_bytes(), "text/csv")},
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def start(client: TestClient, check_url: str) -> str:
    token = csrf_of(client.get(check_url).text)
    response = client.post(f"{check_url}/start", data={"csrf": token})
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def wait_state(client: TestClient, import_url: str, *states: str, timeout: float = 30) -> dict:
    import_id = import_url.rsplit("/", 1)[-1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = client.get(f"/api/imports/{import_id}").json()
        if data["state"] in states:
            return dict(data)
        time.sleep(0.05)
    raise AssertionError(f"import never reached {states}: {data}")


def test_upload_check_import_and_download_through_the_json_api(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    data = write_leads(tmp_path / "leads.csv", 6, bad=2)
    with client_for(page_config(tmp_path, sandbox)) as client:
        check_url = upload(client, data)
        page = client.get(check_url).text
        assert "8 rows: 6 ready, 2 need fixing, 0 blank rows skipped." in page
        assert 'data-testid="summary"' in page and "Import the 6 ready rows" in page
        report = client.get(f"{check_url}/report")
        assert report.status_code == 200
        assert 'filename="leads.validation.xlsx"' in report.headers["content-disposition"]
        (tmp_path / "report.xlsx").write_bytes(report.content)
        said = dict(openpyxl.load_workbook(tmp_path / "report.xlsx")["Summary"].values)
        took = re.search(r"Importing takes ([^.]+)\.", html.unescape(page))
        assert took is not None and f"takes {took.group(1)} at 1000 calls per 5 s" in str(
            said["Import time"]
        )  # one estimate for one file: the page and the report say the same
        assert said["Input"] == "leads.csv"

        import_url = start(client, check_url)
        status = wait_state(client, import_url, "finished")
        assert status["input"] == "leads.csv"
        assert (status["total"], status["done"]) == (6, 6)
        assert status["counts"]["Success"] == 6 and status["counts"]["Invalid"] == 2
        assert status["results_url"] == f"{import_url}/results"
        chart = client.get(import_url).text  # bars out of the file's 8 rows, not the largest
        assert re.search(r'data-status="Success">(?:(?!</g>).)*width="330.0"', chart, re.S)
        assert re.search(r'data-status="Invalid">(?:(?!</g>).)*width="110.0"', chart, re.S)

        listing = client.get("/api/imports").json()
        assert [item["id"] for item in listing] == [status["id"]]
        assert set(listing[0]) >= {"id", "input", "state", "total", "done", "counts", "results_url"}

        results = client.get(status["results_url"])
        assert 'filename="leads.results.xlsx"' in results.headers["content-disposition"]
        saved = tmp_path / "downloaded.xlsx"
        saved.write_bytes(results.content)
        sheet = openpyxl.load_workbook(saved)["Results"]
        header = [c.value for c in sheet[1]]
        statuses = [
            row[header.index("Status")] for row in sheet.iter_rows(min_row=2, values_only=True)
        ]
        assert sorted(statuses) == ["Invalid"] * 2 + ["Success"] * 6
        summary = dict(
            openpyxl.load_workbook(saved)["Summary"].iter_rows(min_row=1, values_only=True)
        )
        assert summary["Input"] == "leads.csv"  # the file as uploaded, not its stored name
    assert captures(sandbox) == 6


def test_the_same_file_twice_at_once_is_refused_plainly(
    tmp_path: Path, slow_sandbox: RunningSandbox
) -> None:
    data = write_leads(tmp_path / "leads.csv", 40)
    with client_for(page_config(tmp_path, slow_sandbox)) as client:
        first = upload(client, data)
        second = upload(client, data)  # the same content: stored once, one import at a time
        import_url = start(client, first)
        token = csrf_of(client.get(second).text)
        refused = client.post(f"{second}/start", data={"csrf": token})
        assert refused.status_code == 409
        assert "leads.csv is already being imported" in refused.text
        assert "See that import</a>" in refused.text  # a link to it, not a dead end
        client.post(f"{import_url}/cancel", data={"csrf": token})
        wait_state(client, import_url, "stopped", "finished")


def wait_captures(running: RunningSandbox, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while captures(running) < count:
        assert time.monotonic() < deadline, "the import did not start sending"
        time.sleep(0.01)


def test_cancel_then_resume_sends_nothing_twice(
    tmp_path: Path, slow_sandbox: RunningSandbox
) -> None:
    data = write_leads(tmp_path / "leads.csv", 40)
    with client_for(page_config(tmp_path, slow_sandbox)) as client:
        import_url = start(client, upload(client, data))
        token = csrf_of(client.get(import_url).text)
        wait_captures(slow_sandbox, 5)
        assert client.post(f"{import_url}/cancel", data={"csrf": token}).status_code == 303
        stopped = wait_state(client, import_url, "stopped")
        assert captures(slow_sandbox) < 40, "it stopped half way through sending"
        assert stopped["done"] < 40
        assert "can be resumed" in stopped["message"]
        assert "Resume" in client.get(import_url).text

        client.post(f"{import_url}/resume", data={"csrf": token})
        finished = wait_state(client, import_url, "finished")
        assert finished["counts"]["Success"] == 40
    assert captures(slow_sandbox) == 40, "the rows in flight at the cancel were not sent again"
    assert sorted(stored_names(slow_sandbox)) == sorted(f"Loan {i}" for i in range(40))


def test_a_restarted_page_lists_the_import_and_resumes_it(
    tmp_path: Path, slow_sandbox: RunningSandbox
) -> None:
    data = write_leads(tmp_path / "leads.csv", 40)
    config = page_config(tmp_path, slow_sandbox)
    with client_for(config) as client:
        import_url = start(client, upload(client, data))
        import_id = import_url.rsplit("/", 1)[-1]
        wait_captures(slow_sandbox, 5)
    # leaving the client stops the app: its runs stop cleanly, as when the server is stopped
    assert captures(slow_sandbox) < 40
    with client_for(config) as client:
        listed = client.get("/api/imports").json()
        assert [(i["id"], i["state"]) for i in listed] == [(import_id, "stopped")]
        home = client.get("/").text
        assert home.count('data-testid="import-row"') == 1
        client.post(f"{import_url}/resume", data={"csrf": csrf_of(home)})
        assert wait_state(client, import_url, "finished")["counts"]["Success"] == 40
    assert captures(slow_sandbox) == 40


def test_posts_need_the_csrf_token_and_the_same_origin(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    data = write_leads(tmp_path / "leads.csv", 2)
    config = page_config(tmp_path, sandbox)
    with client_for(config) as client:
        token = csrf_of(client.get("/").text)
        files = {"file": ("leads.csv", data.read_bytes(), "text/csv")}
        refused = client.post(
            "/check", data={"csrf": "0" * 40, "mapping": "m:loan.yaml"}, files=files
        )
        assert refused.status_code == 403
        assert not list((config.work_dir / "uploads").iterdir()), "a refused upload is not kept"
        foreign = client.post(
            "/check",
            data={"csrf": token, "mapping": "m:loan.yaml"},
            files=files,
            headers={"origin": "http://evil.example"},
        )
        assert foreign.status_code == 403
        check_url = upload(client, data)
        assert client.post(f"{check_url}/start", data={}).status_code == 403
        assert client.post(f"{check_url}/start", headers={"x-csrf-token": token}).status_code == 303


def test_only_loopback_host_names_are_answered(tmp_path: Path, sandbox: RunningSandbox) -> None:
    with client_for(page_config(tmp_path, sandbox)) as client:
        assert client.get("/").status_code == 200
        assert client.get("/", headers={"host": "evil.example"}).status_code == 400


def test_a_token_is_asked_once_and_kept_in_a_strict_cookie(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox, token="open-sesame", allowed_hosts=("*",))
    with client_for(config) as client:
        first = client.get("/")
        assert first.status_code == 303 and first.headers["location"].startswith("/login")
        assert client.get("/api/imports").status_code == 401
        login = client.get(first.headers["location"])
        token = csrf_of(login.text)
        wrong = client.post("/login", data={"csrf": token, "token": "nope", "next": "/"})
        assert wrong.status_code == 401 and "not right" in wrong.text
        right = client.post("/login", data={"csrf": token, "token": "open-sesame", "next": "/"})
        assert right.status_code == 303
        cookie = right.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert "open-sesame" not in cookie, "the cookie holds a derived value, not the token"
        assert client.get("/").status_code == 200
        assert client.get("/api/imports").status_code == 200
    with client_for(config) as script:
        bearer = {"authorization": "Bearer open-sesame"}
        assert script.get("/api/imports", headers=bearer).json() == []


def _chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_an_oversized_upload_is_refused_while_it_streams(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox, max_upload_bytes=1024 * 1024)
    big = tmp_path / "big.csv"
    with big.open("w") as handle:
        handle.write("Email,First Name,Opportunity Name,Loan Amount\n")
        while handle.tell() < 3 * 1024 * 1024:
            handle.write("someone@example.com,Some One,A loan,1000\n")
    with client_for(config) as client:
        token = csrf_of(client.get("/").text)
        boundary = "----lsq-test-boundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        response = client.post(
            "/check",
            content=_chunks(head + big.read_bytes() + tail),  # chunked: no Content-Length
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
        assert response.status_code == 413
        assert "big.csv is larger than 1.0 MB, the most this page takes" in response.text
    assert not [p for p in (config.work_dir / "uploads").iterdir()], "nothing of it is kept"


def test_a_file_that_is_not_a_spreadsheet_is_refused(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    with client_for(page_config(tmp_path, sandbox)) as client:
        token = csrf_of(client.get("/").text)
        response = client.post(
            "/check",
            data={"csrf": token, "mapping": "m:loan.yaml"},
            files={"file": ("../../etc/passwd.exe", b"MZ...", "application/octet-stream")},
        )
        assert response.status_code == 400
        assert "passwd.exe is not a spreadsheet this page reads" in response.text


def test_hostile_cells_are_shown_as_text_and_keys_never_reach_the_browser(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    data = write_leads(tmp_path / "leads.csv", 4, bad=1, hostile=True)
    with client_for(page_config(tmp_path, sandbox)) as client:
        check_url = upload(client, data)
        page = client.get(check_url).text
        assert SCRIPT not in page and IMAGE not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        import_url = start(client, check_url)
        wait_state(client, import_url, "finished")
        bodies = [
            client.get(url).text
            for url in ("/", check_url, import_url, "/api/imports", f"{import_url}/events")
        ]
        assert "script-src 'self'" in client.get("/").headers["content-security-policy"]
    for secret in (sandbox.config.access_key, sandbox.config.secret_key, sandbox.config.api_key):
        assert all(secret not in body for body in bodies)


def test_a_missing_column_is_shown_on_the_check_page_with_a_way_on(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    data = tmp_path / "other.csv"
    data.write_text("Name,Phone\nA,1\n", encoding="utf-8")
    with client_for(page_config(tmp_path, sandbox)) as client:
        page = client.get(upload(client, data)).text
        assert 'role="alert"' in page and "Email" in page
        assert "Check again" in page and 'data-testid="start"' not in page


def test_the_verdict_says_rows_ready_and_time() -> None:
    seconds = estimate_import(219, Rate(25, 5.0), "async").seconds
    assert seconds == pytest.approx(87.6)
    assert verdict(231, 219, 12, 3, seconds) == (
        "231 rows: 219 ready, 12 need fixing, 3 blank rows skipped. "
        "Importing takes about 1 min 30 s."
    )
    assert estimate_import(100, Rate(25, 5.0), "sync").seconds == pytest.approx(20)
    assert duration(5400) == "about 1 h 30 min"
    assert duration(42) == "about 40 s"
    assert verdict(1, 0, 1, 1, 0).startswith("1 row: 0 ready, 1 needs fixing, 1 blank row skipped.")


def test_serve_refuses_another_host_without_a_token(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LSQ_UI_TOKEN", raising=False)
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "set a token with --token or LSQ_UI_TOKEN" in result.output
    assert "Traceback" not in result.output


def test_serve_on_a_busy_port_is_one_plain_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli_app, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"Port {port} on 127.0.0.1 is already in use" in result.output


STATUS_MAPPING = (
    CAPTURE_HEAD
    + """\
lead:
  EmailAddress: {column: Email, type: email, required: true}
opportunity:
  mx_Custom_1: {column: Opportunity Name, required: true}
  Status: {column: Status, allowed: [Open, Won, Lost], default: Open}
"""
)


def import_page_after(client: TestClient, import_url: str, action: str) -> str:
    """Press a next-step button on the import page; return the page once it is done."""
    token = csrf_of(client.get(import_url).text)
    assert client.post(f"{import_url}/{action}", data={"csrf": token}).status_code == 303
    wait_state(client, import_url, "finished", "stopped")
    return client.get(import_url).text


def test_retry_and_verify_from_the_import_page(tmp_path: Path, sandbox: RunningSandbox) -> None:
    config = page_config(tmp_path, sandbox)
    (config.mappings_dir / "status.yaml").write_text(STATUS_MAPPING, encoding="utf-8")
    data = tmp_path / "deals.csv"
    lines = ["Email,Opportunity Name,Status"]
    lines += [f"p{i}@example.com,Deal {i},Open" for i in range(4)]
    lines += [f"w{i}@example.com,Won {i},Won" for i in range(2)]  # no comment: LeadSquared refuses
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with client_for(config) as client:
        import_url = start(client, upload(client, data, mapping="m:status.yaml"))
        finished = wait_state(client, import_url, "finished")
        assert (finished["counts"]["Success"], finished["counts"]["Failure"]) == (4, 2)
        page = client.get(import_url).text
        assert 'data-action="retry"' in page and "Retry failed" in page
        # Why they failed: one line per Failure row, LeadSquared's reason naming the column.
        failures = page.split('data-testid="failures"', 1)[1].split("</table>", 1)[0]
        assert failures.count("<tr data-row=") == 2
        assert '<tr data-row="6"><td>6</td>' in failures and "mx_Custom_19" in failures

        page = import_page_after(client, import_url, "retry")
        # Nothing changed in them: they are not sent unchanged, and the page says so.
        assert "2 refused rows not sent again: their values are unchanged" in page
        page = import_page_after(client, import_url, "verify")
        assert "Checked 4 imported rows: 4 found in LeadSquared, 0 missing." in page
        report = client.get(f"{import_url}/verify-report")
        assert 'filename="deals.verify.xlsx"' in report.headers["content-disposition"]


def test_check_pending_collects_rows_the_import_left_pending(tmp_path: Path) -> None:
    with serve_in_thread(SandboxConfig(async_delay=1.0, rate_limit=1000)) as slow_queue:
        config = page_config(tmp_path, slow_queue)
        config = WebConfig(
            **{**config.__dict__, "settings": config.settings.with_(poll_timeout=0.2)}
        )
        data = write_leads(tmp_path / "leads.csv", 3)
        with client_for(config) as client:
            import_url = start(client, upload(client, data))
            assert wait_state(client, import_url, "finished")["counts"]["Pending"] == 3
            assert 'data-action="status"' in client.get(import_url).text
            wait_for(lambda: queue_done(slow_queue), 10, "LeadSquared to finish them")
            page = import_page_after(client, import_url, "status")
            assert "Asked LeadSquared about 3 pending rows: 3 changed" in page
            assert client.get(f"/api/{import_url.lstrip('/')}").json()["counts"]["Success"] == 3


def test_a_mapping_drafted_on_the_page_is_saved_and_used(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    data = write_leads(tmp_path / "Leads Dec.csv", 3)
    config = page_config(tmp_path, sandbox)
    with client_for(config) as client:
        match_url = upload(client, data, mapping="draft")
        assert match_url.endswith("/match")  # the columns are matched with drop-downs first
        draft_url = match_url.removesuffix("/match") + "/draft"  # the YAML stays one click away
        page = client.get(draft_url).text
        assert "<textarea" in page and "What was matched" in page
        assert "lead.EmailAddress" in page and "Loan Amount" in page
        assert "from Leads Dec.csv" in page, "the draft names the file as the user knows it"
        drafted = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
        assert drafted is not None
        token = csrf_of(page)
        # As drafted, the opportunity type code is a TODO: saving says so, keeping the text.
        text = html.unescape(drafted.group(1))
        refused = client.post(draft_url, data={"csrf": token, "yaml_text": text, "name": "x"})
        assert refused.status_code == 400
        assert "opportunity_event_code" in refused.text and "12000" in refused.text
        fixed = text.replace("opportunity_event_code: 0", "opportunity_event_code: 12000")
        saved = client.post(
            draft_url, data={"csrf": token, "yaml_text": fixed, "name": "../../My Leads!"}
        )
        assert saved.status_code == 303
        assert (config.work_dir / "mappings" / "My-Leads.yaml").read_text() == fixed
        assert "3 rows: 3 ready" in client.get(saved.headers["location"]).text
        assert "Drafted on this page" in client.get("/").text


def test_a_workbook_with_several_sheets_can_be_checked_on_another_sheet(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Read me"
    notes.append(["This export has the leads on the next sheet"])
    leads = book.create_sheet("Leads")
    leads.append(["Email", "First Name", "Opportunity Name", "Loan Amount"])
    leads.append(["a@example.com", "A", "Loan A", 1000])
    data = tmp_path / "export.xlsx"
    book.save(data)
    with client_for(page_config(tmp_path, sandbox)) as client:
        check_url = upload(client, data)
        page = client.get(check_url).text
        assert 'role="alert"' in page  # the first sheet has none of the mapped columns
        assert '<option value="Leads"' in page
        token = csrf_of(page)
        again = client.post(
            check_url, data={"csrf": token, "mapping": "m:loan.yaml", "sheet": "Leads"}
        )
        assert again.status_code == 303
        assert "1 row: 1 ready, 0 need fixing" in client.get(check_url).text


def test_importing_the_same_file_again_sends_nothing_twice(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    data = write_leads(tmp_path / "leads.csv", 5)
    with client_for(page_config(tmp_path, sandbox)) as client:
        first = start(client, upload(client, data))
        wait_state(client, first, "finished")
        again = start(client, upload(client, data))
        status = wait_state(client, again, "finished")
        assert status["counts"]["Success"] == 5 and again != first
        assert len(client.get("/api/imports").json()) == 2
    assert captures(sandbox) == 5


def test_rows_already_in_leadsquared_are_not_sent_again_and_said_so(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    first = write_leads(tmp_path / "monday.csv", 5)
    second = write_leads(tmp_path / "tuesday.csv", 6)  # Monday's 5 rows and one new
    with client_for(page_config(tmp_path, sandbox)) as client:
        wait_state(client, start(client, upload(client, first)), "finished")
        again = start(client, upload(client, second))
        assert wait_state(client, again, "finished")["counts"]["Success"] == 6
        page = client.get(again).text
        assert "1 new, 5 already in LeadSquared from an earlier import (not sent again)" in page
    assert captures(sandbox) == 6


NEW_HEADERS = "E-mail ID,Customer Name,Mobile No.,Deal Title,Ticket Size\n"


HIDDEN = re.compile(r'<input type="hidden" name="(column-\d+)" value="([^"]*)"')
SELECT = re.compile(r'<select name="((?:field|type)-\d+)"[^>]*>(.*?)</select>', re.S)
TEXT = re.compile(r'<input type="text" name="(schema-name-\d+)" value="([^"]*)"')
TICKED = re.compile(r'<input type="checkbox" name="(required-\d+)"[^>]* checked')
NAMED = re.compile(r'id="(name|event_code)" name="(?:name|event_code)"[^>]*value="([^"]*)"')


def matching_form(page: str) -> dict[str, str]:
    """Every input of the matching screen as the browser would post it."""
    form = {name: html.unescape(value) for name, value in HIDDEN.findall(page)}
    for name, body in SELECT.findall(page):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        form[name] = html.unescape(chosen.group(1)) if chosen else ""
    form |= {name: html.unescape(value) for name, value in TEXT.findall(page)}
    form |= {name: "on" for name in TICKED.findall(page)}
    form |= {name: html.unescape(value) for name, value in NAMED.findall(page)}
    return form


def edit_mapping_url(check_page: str) -> str:
    """The check page's "change its columns" link: the matching screen for its mapping."""
    found = re.search(r'href="([^"]+)" data-testid="edit-mapping"', check_page)
    assert found is not None, "the check page links to changing the mapping's columns"
    return html.unescape(found.group(1))


def test_a_new_file_is_matched_with_choices_and_saved_without_yaml(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox)
    data = tmp_path / "Deals Dec.csv"
    rows = [f"d{i}@example.com,Deal Person {i},98765{i:05d},Deal {i},{i}50000" for i in range(5)]
    data.write_text(NEW_HEADERS + "\n".join(rows) + "\n", encoding="utf-8")
    with client_for(config) as client:
        match_url = upload(client, data, mapping="draft")
        page = client.get(match_url).text
        assert 'data-testid="matches"' in page and '<tr data-column="E-mail ID">' in page
        form = matching_form(page)
        assert form["field-0"] == "lead.EmailAddress"  # preselected from the draft
        form["field-4"], form["schema-name-4"], form["type-4"] = "opportunity.*", "", "number"
        form["event_code"], form["name"] = "", "Deals from the page"
        token = csrf_of(page)

        refused = client.post(match_url, data={"csrf": token, **form})
        assert refused.status_code == 400
        again = matching_form(refused.text)
        assert again == form, "a refused save keeps every input as typed"
        assert "Type the opportunity type code" in refused.text
        assert "Type the field&#39;s Schema Name" in refused.text

        form["event_code"], form["schema-name-4"] = "12000", "mx_Custom_6"
        saved = client.post(match_url, data={"csrf": token, **form})
        assert saved.status_code == 303 and saved.headers["location"].endswith(
            match_url[-40:].split("/match")[0][-10:]
        )
        written = config.mappings_dir / "Deals from the page.yaml"
        assert written.is_file()
        text = written.read_text(encoding="utf-8")
        assert (
            "mx_Custom_6:" in text and "Ticket Size" in text and "search_by: EmailAddress" in text
        )
        assert yaml.safe_load(text)["unique"] == ["EmailAddress", "mx_Custom_1"]  # as drafted
        check = client.get(saved.headers["location"]).text
        assert "5 rows: 5 ready" in check


def test_a_bad_csv_cell_fixed_on_the_page_is_checked_again_and_downloaded_as_csv(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox)
    data = write_leads(tmp_path / "leads.csv", 3, bad=1)
    with client_for(config) as client:
        check_url = upload(client, data)
        page = client.get(check_url).text
        row = re.search(r'<tr data-row="(\d+)" data-column="([^"]+)">', page)
        assert row is not None, "each problem row says its row and column"
        was = re.search(r'name="was-0" value="([^"]*)"', page)
        assert was is not None
        form = {
            "csrf": csrf_of(page),
            "cell-0": f"{row.group(1)}|{html.unescape(row.group(2))}",
            "was-0": html.unescape(was.group(1)),
            "fix-0": "fixed@example.com",
        }
        assert client.post(f"{check_url}/fix", data=form).status_code == 303
        page = client.get(check_url).text
        assert "4 rows: 4 ready, 0 need fixing" in html.unescape(page)
        fixed = client.get(f"{check_url}/fixed")
        assert fixed.status_code == 200 and "text/csv" in fixed.headers["content-type"]
        assert (
            "fixed@example.com" in fixed.text
            and 'filename="leads.fixed.csv"' in (fixed.headers["content-disposition"])
        )


def test_the_sheet_the_draft_read_is_the_sheet_checked_and_imported(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox)
    data = tmp_path / "admissions.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active.append(["This workbook holds the enquiries of December."])
    enquiries = book.create_sheet("Enquiries")
    enquiries.append(["E-mail ID", "Student Name", "Course"])
    for i in range(3):
        enquiries.append([f"s{i}@example.com", f"Student {i}", f"Course {i}"])
    book.save(data)
    with client_for(config) as client:
        match_url = upload(client, data, mapping="draft")
        page = client.get(match_url).text
        assert '<tr data-column="E-mail ID">' in page  # drafted from the Enquiries sheet
        form = matching_form(page)
        form |= {"event_code": "12000", "name": "enquiries", "csrf": csrf_of(page)}
        saved = client.post(match_url, data=form)
        assert saved.status_code == 303, saved.text
        check = html.unescape(client.get(saved.headers["location"]).text)
        assert "sheet <b>Enquiries</b>" in check and "3 rows: 3 ready" in check


def test_an_existing_mapping_is_edited_on_the_same_matching_screen(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox)
    data = write_leads(tmp_path / "leads.csv", 2)
    with client_for(config) as client:
        check_url = upload(client, data)
        check = client.get(check_url).text
        url = edit_mapping_url(check)
        page = client.get(url).text
        form = matching_form(page)
        assert form["field-0"] == "lead.EmailAddress" and form["event_code"] == "12000"
        assert form["name"] == "loan"
        form |= {"name": "loan edited", "field-1": "", "csrf": csrf_of(page)}  # drop First Name
        saved = client.post(url.split("?")[0], data=form)
        assert saved.status_code == 303, saved.text
        text = (config.mappings_dir / "loan edited.yaml").read_text(encoding="utf-8")
        assert "FirstName" not in text and "min: 0" in text  # its other rules are kept


def test_counts_on_the_page_have_thousands_separators() -> None:
    from importer.web.words import rows_done

    assert verdict(134_950, 134_900, 50, 2, 30.0).startswith("134,950 rows: 134,900 ready")
    assert rows_done(12_345, 134_950) == "12,345 of 134,950 rows done"


def test_editing_a_mapping_for_a_renamed_file_places_columns_by_name_and_values(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox)
    data = tmp_path / "december.csv"
    data.write_text(
        "E-mail ID,First Name,Deal Title,Ticket Size,Branch\n"
        + "".join(f"p{i}@example.com,P{i},Loan {i},{(i + 1) * 5000},Pune\n" for i in range(6)),
        encoding="utf-8",
    )
    with client_for(config) as client:
        check = html.unescape(client.get(upload(client, data)).text)
        url = edit_mapping_url(check)
        page = html.unescape(client.get(url).text)
        form = matching_form(page)
        chosen = {form[f"column-{i}"]: form[f"field-{i}"] for i in range(5)}
        assert chosen == {
            "E-mail ID": "lead.EmailAddress",
            "First Name": "lead.FirstName",
            "Deal Title": "opportunity.mx_Custom_1",
            "Ticket Size": "opportunity.*",  # by its values: numbers, at least 0
            "Branch": "",
        }
        assert form["schema-name-3"] == "mx_Custom_6"
        assert 'was "Loan Amount" in the mapping' in page
        form |= {"name": "loan december", "csrf": csrf_of(page)}
        saved = client.post(url.split("?")[0], data=form)
        assert saved.status_code == 303, saved.text
        text = (config.mappings_dir / "loan december.yaml").read_text(encoding="utf-8")
        assert "column: Ticket Size" in text and "min: 0" in text
        check = html.unescape(client.get(saved.headers["location"]).text)
        assert "6 rows: 6 ready" in check


def test_editing_says_which_mapping_columns_the_file_lacks(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox)
    data = tmp_path / "short.csv"
    data.write_text("Email,First Name\np@example.com,P\n", encoding="utf-8")
    with client_for(config) as client:
        check = html.unescape(client.get(upload(client, data)).text)
        url = edit_mapping_url(check)
        page = html.unescape(client.get(url).text)
        assert '"Opportunity Name" of the mapping is not in this file' in page


def test_a_custom_lead_field_and_a_unique_field_dropped_on_the_matching_screen(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox)
    (config.mappings_dir / "loan.yaml").write_text(
        MAPPING + "unique: [EmailAddress, mx_Custom_1]\n", encoding="utf-8"
    )
    data = tmp_path / "leads.csv"
    data.write_text(
        "Email,First Name,Opportunity Name,Loan Amount,PAN\n"
        "p@example.com,P,Loan 1,5000,ABCDE1234F\n",
        encoding="utf-8",
    )
    with client_for(config) as client:
        check = client.get(upload(client, data)).text
        url = edit_mapping_url(check)
        page = client.get(url).text
        form = matching_form(page) | {"csrf": csrf_of(page), "name": "loan with pan"}
        assert form["column-2"] == "Opportunity Name" and form["column-4"] == "PAN"
        form |= {"field-2": "", "field-4": "lead.*", "schema-name-4": "mx_PAN"}
        refused = client.post(url.split("?")[0], data=form)
        assert refused.status_code == 400
        beside = refused.text.split('name="field-2"', 1)[1].split("</td>", 1)[0]
        assert "tells rows apart by opportunity name (mx_Custom_1)" in html.unescape(beside)
        assert matching_form(refused.text)["schema-name-4"] == "mx_PAN"  # kept as typed

        form["field-2"] = "opportunity.mx_Custom_1"
        saved = client.post(url.split("?")[0], data=form)
        assert saved.status_code == 303, saved.text
        written = yaml.safe_load(
            (config.mappings_dir / "loan with pan.yaml").read_text(encoding="utf-8")
        )
        assert written["lead"]["mx_PAN"] == {"column": "PAN"}
        assert written["unique"] == ["EmailAddress", "mx_Custom_1"]


def test_the_page_names_its_own_choices_never_cli_flags(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    from importer.web.words import page_words

    assert page_words(
        'sheet "My Leads" has these columns: use --sheet "My Leads" --header-row 3'
    ) == (
        'sheet "My Leads" has these columns: choose sheet "My Leads" and header row 3 under '
        '"Check again" below'
    )
    config = page_config(tmp_path, sandbox)
    data = tmp_path / "titled.csv"
    data.write_text(
        "Loans of December,,,\nEmail,First Name,Opportunity Name,Loan Amount\n"
        "p@example.com,P,Loan 1,5000\nq@example.com,Q,Loan 2,6000\n",
        encoding="utf-8",
    )
    with client_for(config) as client:
        page = html.unescape(client.get(upload(client, data)).text)
        assert "The headers are on row 2" in page
        assert "--header-row" not in page and "--sheet" not in page
        assert 'type another header row under "Check again"' in page


def test_a_fix_that_looks_like_a_formula_stays_text_in_the_fixed_workbook(tmp_path: Path) -> None:
    from importer.commands.fixes import CellFix, apply_fixes

    source = tmp_path / "leads.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Email", "Loan Amount"])
    book.active.append(["bad", 5])
    book.save(source)
    typed = '=HYPERLINK("http://x.example","click")'
    fixed = apply_fixes(
        source,
        tmp_path / "leads.fixed.xlsx",
        [CellFix(2, "Email", typed), CellFix(2, "Loan Amount", "7")],
        sheet=None,
        header_row=1,
    )
    cells = openpyxl.load_workbook(fixed).active
    assert (cells["A2"].value, cells["A2"].data_type) == (typed, "s")
    assert cells["B2"].value == 7  # a number stays a number


def test_the_matching_screen_lists_the_columns_in_the_files_order(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    data = tmp_path / "odd.csv"
    data.write_text("Ref,Email,Branch Code,First Name\nR1,p@example.com,B7,P\n", encoding="utf-8")
    with client_for(page_config(tmp_path, sandbox)) as client:
        form = matching_form(client.get(upload(client, data, mapping="draft")).text)
        assert [form[f"column-{i}"] for i in range(4)] == [
            "Ref",
            "Email",
            "Branch Code",
            "First Name",
        ]
        assert (form["field-0"], form["field-1"]) == ("", "lead.EmailAddress")


def test_a_save_without_a_field_to_find_the_lead_by_is_refused_beside_that_column(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    data = tmp_path / "deals.csv"
    data.write_text("Deal,E-mail ID\nDeal 1,p@example.com\n", encoding="utf-8")
    with client_for(page_config(tmp_path, sandbox)) as client:
        url = upload(client, data, mapping="draft")
        page = client.get(url).text
        form = matching_form(page) | {"csrf": csrf_of(page), "event_code": "12000", "name": "x"}
        assert form["field-1"] == "lead.EmailAddress"
        form["field-1"] = ""  # "don't import" the only email column
        refused = client.post(url, data=form)
        assert refused.status_code == 400
        beside = html.unescape(refused.text.split('name="field-1"', 1)[1].split("</td>", 1)[0])
        assert "Choose the column LeadSquared finds the lead by" in beside
        assert matching_form(refused.text)["field-1"] == ""  # kept as chosen


def test_hostile_headers_stay_text_on_the_matching_screen_and_in_the_saved_mapping(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox)
    data = tmp_path / "hostile.csv"
    data.write_text(f'Email,"{SCRIPT}","{IMAGE}"\np@example.com,{SCRIPT},x\n', encoding="utf-8")
    with client_for(config) as client:
        url = upload(client, data, mapping="draft")
        page = client.get(url).text
        assert SCRIPT not in page and IMAGE not in page
        assert 'data-column="&lt;script&gt;alert(1)&lt;/script&gt;"' in page
        form = matching_form(page) | {"csrf": csrf_of(page), "event_code": "12000", "name": "h"}
        form |= {"field-1": "opportunity.*", "schema-name-1": "mx_Custom_3"}
        saved = client.post(url, data=form)
        assert saved.status_code == 303, saved.text
        written = yaml.safe_load((config.mappings_dir / "h.yaml").read_text(encoding="utf-8"))
        assert written["opportunity"]["mx_Custom_3"]["column"] == SCRIPT  # as text
        check = client.get(saved.headers["location"]).text
        assert SCRIPT not in check and "1 row: 1 ready" in html.unescape(check)


def test_a_failed_row_fixed_on_the_import_page_is_sent_again_with_the_fix(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox)
    (config.mappings_dir / "won.yaml").write_text(REFUSED_MAPPING, encoding="utf-8")
    data = tmp_path / "won.csv"
    data.write_text(
        "Email,Opportunity Name,Status,Status Comment\n"
        "p@example.com,Deal,Open,\nw@example.com,Big deal,Won,\nv@example.com,Other,Won,\n",
        encoding="utf-8",
    )
    with client_for(config) as client:
        import_url = start(client, upload(client, data, mapping="m:won.yaml"))
        assert wait_state(client, import_url, "finished")["counts"]["Failure"] == 2
        page = client.get(import_url).text
        said = "As it stands, Retry failed leaves 2 rows LeadSquared refused alone until"
        assert said in html.unescape(page)  # what Retry would do, said before it is pressed
        inputs = re.findall(r'<input type="\w+" name="([\w-]+)" value="([^"]*)"', page)
        form = {name: html.unescape(value) for name, value in inputs}
        assert form["cell-0"] == "3|Status Comment" and form["was-0"] == ""
        form["fix-0"] = "Signed"  # row 4 stays as it was
        answer = client.post(f"{import_url}/fix", data=form)
        assert answer.status_code == 303
        status = wait_state(client, import_url, "finished")
        assert (status["counts"]["Success"], status["counts"]["Failure"]) == (2, 1)
        results = tmp_path / "results.xlsx"
        results.write_bytes(client.get(f"{import_url}/results").content)
        summary = dict(openpyxl.load_workbook(results)["Summary"].values)
        assert (
            summary["Fixed cell 1"]
            == 'Row 3, Status Comment: (blank) → "Signed" (fixed on the page)'
        )
        page = html.unescape(client.get(import_url).text)
        assert 'data-row="4"' in page and 'data-row="3"' not in page
    won = [o["Fields"].get("mx_Custom_19") for o in sandbox.sandbox.opportunities()]
    assert "Signed" in won and len(sandbox.sandbox.opportunities()) == 2


def test_a_column_the_draft_left_keeps_its_type_and_date_format_when_given_a_field(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox)
    data = tmp_path / "walk-ins.csv"
    data.write_text(
        "Email,Walk-in Date,Ticket Size\n"
        + "".join(f"p{i}@example.com,{i + 13:02d}/01/2026,{(i + 1) * 1000}\n" for i in range(5)),
        encoding="utf-8",
    )
    with client_for(config) as client:
        url = upload(client, data, mapping="draft")
        page = client.get(url).text
        form = matching_form(page) | {"csrf": csrf_of(page), "event_code": "12000", "name": "w"}
        assert (form["field-1"], form["type-1"]) == ("", "date")  # unplaced, typed by its values
        assert (form["field-2"], form["type-2"]) == ("", "integer")
        form |= {"field-1": "opportunity.*", "schema-name-1": "mx_Custom_8"}
        form |= {"field-2": "opportunity.*", "schema-name-2": "mx_Custom_6"}
        saved = client.post(url, data=form)
        assert saved.status_code == 303, saved.text
        written = yaml.safe_load((config.mappings_dir / "w.yaml").read_text(encoding="utf-8"))
        assert written["opportunity"]["mx_Custom_8"] == {
            "column": "Walk-in Date",
            "type": "date",
            "format": "%d/%m/%Y",
        }
        check = html.unescape(client.get(saved.headers["location"]).text)
        assert "5 rows: 5 ready, 0 need fixing" in check


def test_a_fixed_workbook_keeps_formula_values_and_fixes_the_column_the_check_named(
    tmp_path: Path,
) -> None:
    import xlsxwriter

    from importer.commands.fixes import CellFix, apply_fixes

    source = tmp_path / "dupes.xlsx"
    book = xlsxwriter.Workbook(str(source))
    sheet = book.add_worksheet("Leads")
    sheet.write_row(0, 0, ["Email", "Name", "Email", "Total"])
    sheet.write_row(1, 0, ["a@example.com", "A", "bad"])
    sheet.write_formula(1, 3, "=1+1", None, 2)  # Excel's last worked-out value: 2
    book.close()
    fixed = apply_fixes(
        source,
        tmp_path / "dupes.fixed.xlsx",
        [CellFix(2, "Email (2)", "b@example.com")],  # the reader's label for the second Email
        sheet="Leads",
        header_row=1,
    )
    cells = openpyxl.load_workbook(fixed)["Leads"]
    assert [c.value for c in cells[2]] == ["a@example.com", "A", "b@example.com", 2]


def test_a_drafted_mapping_never_replaces_another_mapping_of_the_same_name(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    config = page_config(tmp_path, sandbox)
    before = (config.mappings_dir / "loan.yaml").read_text(encoding="utf-8")
    data = write_leads(tmp_path / "leads.csv", 2)
    with client_for(config) as client:
        url = upload(client, data, mapping="draft")
        page = client.get(url).text
        form = matching_form(page) | {"csrf": csrf_of(page), "event_code": "12000"}
        refused = client.post(url, data=form | {"name": "loan"})  # watch may be using loan.yaml
        assert refused.status_code == 400
        assert "A mapping named loan.yaml already exists" in html.unescape(refused.text)
        assert (config.mappings_dir / "loan.yaml").read_text(encoding="utf-8") == before
        check = html.unescape(client.get(upload(client, data)).text)  # editing loan.yaml itself
        url = edit_mapping_url(check)
        page = client.get(url).text
        form = matching_form(page) | {"csrf": csrf_of(page)}
        assert client.post(url.split("?")[0], data=form).status_code == 303  # may replace it
