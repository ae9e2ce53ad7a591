"""`retry` and `status`: they start from a results workbook and update it in place."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from support import REFUSED_CSV, REFUSED_MAPPING, queue_done, read_results, wait_for
from typer.testing import CliRunner

from importer.cli import app
from importer.commands.status import refresh_status
from importer.commands.verify import verify_results
from importer.core.config import settings_from_env
from importer.core.errors import ImportCancelled
from importer.core.outcomes import RowStatus
from importer.sandbox import SandboxConfig, serve_in_thread

MAPPING, CSV = REFUSED_MAPPING, REFUSED_CSV


@pytest.fixture
def workspace(no_lsq_env: Path) -> Path:
    tmp_path = no_lsq_env
    (tmp_path / "leads.csv").write_text(CSV)
    (tmp_path / "map.yaml").write_text(MAPPING)
    return tmp_path


def invoke(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, list(args), env=env | {"LSQ_RATE": "1000/5s"})


def statuses(path: Path) -> dict[int, RowStatus]:
    return {o.row_number: o.status for _, o in read_results(path).rows}


def test_retry_sends_the_fixed_failure_again_and_only_it(workspace: Path) -> None:
    with serve_in_thread(SandboxConfig(async_delay=0.05, rate_limit=1000)) as running:
        env = running.env()
        first = invoke(env, "run", "leads.csv", "-m", "map.yaml", "--quiet")
        assert first.exit_code == 1, first.output
        results = workspace / "leads.results.xlsx"
        assert statuses(results) == {2: "Success", 3: "Failure", 4: "Success"}
        row = read_results(results).rows[1][1]
        assert row.exception_type == "MXInvalidActivityFieldsException"

        book = openpyxl.load_workbook(results)  # the user fixes the cell in the workbook
        sheet = book["Results"]
        sheet.cell(row=3, column=4, value="Signed today")
        book.save(results)

        captures_before = running.sandbox.snapshot()["counters"]["calls"]["/opportunity/capture"]
        again = invoke(env, "retry", str(results), "--quiet")
        assert again.exit_code == 0, again.output
        assert statuses(results) == {2: "Success", 3: "Success", 4: "Success"}
        captures = running.sandbox.snapshot()["counters"]["calls"]["/opportunity/capture"]
        assert captures == captures_before + 1
        assert len(running.sandbox.opportunities()) == 3
        summary = read_results(results).summary
        assert summary["Success"] == "3" and "Retried" in summary


def test_retry_works_on_the_shipped_sample_whose_input_has_a_status_column(
    workspace: Path,
) -> None:
    root = Path(__file__).resolve().parent.parent
    with serve_in_thread(SandboxConfig(async_delay=0.05, rate_limit=1000)) as running:
        env = running.env()
        sample = workspace / "loans.csv"
        sample.write_bytes((root / "samples" / "loans.csv").read_bytes())
        mapping = str(root / "mappings" / "loan.yaml")
        assert invoke(env, "run", str(sample), "-m", mapping, "--quiet").exit_code == 1
        again = invoke(env, "retry", str(workspace / "loans.results.xlsx"), "--quiet")
        assert again.exit_code == 1, again.output  # the Invalid rows stay Invalid
        assert "no Failure or Pending rows to retry" in again.output


def test_status_collects_rows_left_pending(workspace: Path) -> None:
    with serve_in_thread(SandboxConfig(async_delay=1.5, rate_limit=1000)) as running:
        env = running.env()
        first = invoke(
            env, "run", "leads.csv", "-m", "map.yaml", "--quiet", "--poll-timeout", "0.2"
        )
        assert first.exit_code == 1, first.output
        results = workspace / "leads.results.xlsx"
        book = read_results(results)
        assert {o.status for _, o in book.rows} == {RowStatus.PENDING}
        assert all(o.request_id for _, o in book.rows)
        wait_for(lambda: queue_done(running), 10, "the queue to finish")
        later = invoke(env, "status", str(results), "--quiet")
        assert later.exit_code == 1, later.output  # row 3 is a Failure (no comment on Won)
        assert statuses(results) == {2: "Success", 3: "Failure", 4: "Success"}
        rerun = invoke(env, "run", "leads.csv", "-m", "map.yaml", "--quiet")
        assert "0 API calls" in rerun.output
        assert statuses(results) == {2: "Success", 3: "Failure", 4: "Success"}


def test_retry_keeps_every_column_the_user_added(workspace: Path) -> None:
    with serve_in_thread(SandboxConfig(async_delay=0.05, rate_limit=1000)) as running:
        env = running.env()
        assert invoke(env, "run", "leads.csv", "-m", "map.yaml", "--quiet").exit_code == 1
        results = workspace / "leads.results.xlsx"
        book = openpyxl.load_workbook(results)
        sheet = book["Results"]
        sheet.insert_cols(2)  # a column of their own between the input columns
        sheet.cell(row=1, column=2, value="Owner")
        for row, owner in ((2, "Asha"), (3, "Ravi"), (4, "Meena")):
            sheet.cell(row=row, column=2, value=owner)
        last = sheet.max_column + 1
        sheet.cell(row=1, column=last, value="Called on")
        sheet.cell(row=3, column=last, value=datetime(2026, 12, 1))
        sheet.cell(row=3, column=5, value="Signed today")  # Status Comment, shifted by one
        book.save(results)

        again = invoke(env, "retry", str(results), "--quiet")

        assert again.exit_code == 0, again.output
        after = openpyxl.load_workbook(results)["Results"]
        header = [cell.value for cell in after[1]]
        assert header[:2] == ["Email", "Owner"] and header[-1] == "Called on"
        owners = [after.cell(row=r, column=2).value for r in (2, 3, 4)]
        assert owners == ["Asha", "Ravi", "Meena"]
        assert after.cell(row=3, column=last).value == datetime(2026, 12, 1)
        assert statuses(results) == {2: "Success", 3: "Success", 4: "Success"}


def test_status_says_when_everything_is_still_queued_and_a_wrong_path_is_fatal(
    workspace: Path,
) -> None:
    with serve_in_thread(SandboxConfig(async_delay=30, rate_limit=1000)) as running:
        env = running.env()
        first = invoke(env, "run", "leads.csv", "-m", "map.yaml", "--poll-timeout", "0.2")
        assert first.exit_code == 1, first.output
        results = workspace / "leads.results.xlsx"

        later = invoke(env, "status", str(results))
        assert later.exit_code == 1, later.output
        assert "all 3 Pending rows are still in LeadSquared's queue; try again later" in (
            later.output
        )

        wrong = invoke(env | {"LSQ_PATH_CAPTURE_STATUS": "/no/such/path"}, "status", str(results))
        assert wrong.exit_code == 2
        assert "404" in wrong.output and "LSQ_PATH_CAPTURE_STATUS" in wrong.output
        assert "Traceback" not in wrong.output


def test_status_and_verify_stop_when_asked(workspace: Path) -> None:
    with serve_in_thread(SandboxConfig(async_delay=30, rate_limit=1000)) as running:
        env = running.env()
        invoke(env, "run", "leads.csv", "-m", "map.yaml", "--quiet", "--poll-timeout", "0.2")
        results = workspace / "leads.results.xlsx"
        settings = settings_from_env(env, workspace)
        stop = threading.Event()
        stop.set()

        with pytest.raises(ImportCancelled) as stopped:
            refresh_status(results, settings=settings, cancel=stop)
        assert stopped.value.report is not None
        assert statuses(results) == {2: "Pending", 3: "Pending", 4: "Pending"}

        book = openpyxl.load_workbook(results)  # as if LeadSquared had answered row 2
        sheet = book["Results"]
        header = [cell.value for cell in sheet[1]]
        sheet.cell(row=2, column=header.index("Status") + 1, value="Success")
        sheet.cell(row=2, column=header.index("CreatedOpportunityId") + 1, value="opp-1")
        sheet.cell(row=2, column=header.index("RelatedProspectId") + 1, value="lead-1")
        book.save(results)
        with pytest.raises(ImportCancelled):
            verify_results(results, workspace / "map.yaml", settings=settings, cancel=stop)


def test_retry_does_not_send_a_refused_row_again_until_its_value_changes(workspace: Path) -> None:
    with serve_in_thread(SandboxConfig(async_delay=0.05, rate_limit=1000)) as running:
        env = running.env()
        assert invoke(env, "run", "leads.csv", "-m", "map.yaml", "--quiet").exit_code == 1
        results = workspace / "leads.results.xlsx"
        captures = running.sandbox.snapshot()["counters"]["calls"]["/opportunity/capture"]

        again = invoke(env, "retry", str(results), "--quiet")

        assert again.exit_code == 1
        assert "1 refused rows not sent again: their values are unchanged" in again.output
        keyless = invoke({}, "retry", str(results), "--quiet")  # nothing to send: no keys asked
        assert keyless.exit_code == 1, keyless.output
        assert "their values are unchanged" in keyless.output
        after = running.sandbox.snapshot()["counters"]["calls"]["/opportunity/capture"]
        assert after == captures  # nothing was sent unchanged
        row = read_results(results).rows[1][1]
        assert row.status == RowStatus.FAILURE and "fix them first" in (row.message or "")
