"""`verify`: imported opportunities read back from the sandbox and reconciled with the input."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from support import CAPTURE_HEAD

from importer.commands.run import ImportReport, run_import
from importer.commands.verify import verify_results
from importer.core.config import Settings, settings_from_env
from importer.core.errors import AuthError
from importer.core.outcomes import RowOutcome, RowStatus
from importer.io.workbooks.reconciliation import RECONCILIATION_COLUMNS
from importer.io.workbooks.results import write_results
from importer.io.workbooks.summary import Summary
from importer.rules.values.comparison import values_match
from importer.sandbox import RunningSandbox

RATE = "1000/5s"
LIST_PATH = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead"

MAPPING = (
    CAPTURE_HEAD
    + """\
lead:
  EmailAddress: {column: Email, type: email, required: true}
opportunity:
  mx_Custom_1: {column: Name, required: true}
  mx_Custom_6: {column: Amount, type: number}
  mx_Custom_8: {column: Close, type: date, format: "%d/%m/%Y"}
  mx_Custom_2: {column: Stage, allowed: [Prospecting, New]}
  Status: {column: Status, allowed: [Open, Won, Lost], default: Open}
"""
)
HEADER = ["Email", "Name", "Amount", "Close", "Stage", "Status"]


def settings_for(running: RunningSandbox, tmp_path: Path) -> Settings:
    return settings_from_env(running.env() | {"LSQ_RATE": RATE}, cwd=tmp_path)


def imported(
    running: RunningSandbox, tmp_path: Path, rows: list[list[str]]
) -> tuple[ImportReport, Path]:
    """Capture `rows` (sync, for speed) and return the run's report and the mapping path."""
    mapping = tmp_path / "loans.yaml"
    mapping.write_text(MAPPING)
    source = tmp_path / "loans.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    report = run_import(
        source, mapping, settings=settings_for(running, tmp_path), mode="sync", fresh=True
    )
    return report, mapping


def sheet_rows(path: Path, name: str) -> list[dict]:
    sheet = openpyxl.load_workbook(path)[name]
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], line, strict=True)) for line in values[1:]]


def cli(running: RunningSandbox, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **running.env(), "LSQ_RATE": RATE}
    return subprocess.run(
        [sys.executable, "-m", "importer", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


ROWS = [
    ["asha@example.com", "Home loan", "25,00,000", "31/03/2025", "prospecting", "Open"],
    ["ravi@example.com", "Car loan", "800000", "2025-02-15", "New", ""],
    ["meera@example.com", "Gold loan", "", "", "", "Lost"],  # Lost needs mx_Custom_19: Failure
]


def test_clean_import_verifies_with_exit_0(sandbox: RunningSandbox, tmp_path: Path):
    report, mapping = imported(sandbox, tmp_path, ROWS)
    assert [o.status for o in report.outcomes] == [
        RowStatus.SUCCESS,
        RowStatus.SUCCESS,
        RowStatus.FAILURE,
    ]

    done = cli(sandbox, tmp_path, "verify", str(report.results_path), "-m", str(mapping))

    assert done.returncode == 0, done.stderr
    assert "2 opportunities checked: 2 present, 0 missing" in done.stdout
    reconciliation = sheet_rows(tmp_path / "loans.results.verify.xlsx", "Reconciliation")
    assert [line["Result"] for line in reconciliation] == ["Present", "Present"]
    assert [line["RowNumber"] for line in reconciliation] == [2, 3]
    assert reconciliation[0]["Message"] == "5 mapped fields match"
    assert reconciliation[1]["Message"] == "5 mapped fields match"  # Status came from default
    summary = {
        line["Item"]: line["Value"]
        for line in sheet_rows(tmp_path / "loans.results.verify.xlsx", "Summary")
    }
    assert summary["Present"] == 2
    assert summary["Missing"] == 0
    assert sandbox.sandbox.snapshot()["counters"]["calls"][LIST_PATH] == 2


def test_changed_and_deleted_data_is_reported(sandbox: RunningSandbox, tmp_path: Path):
    report, mapping = imported(sandbox, tmp_path, ROWS[:2])
    first, second = (o.created_opportunity_id or "" for o in report.outcomes)
    sandbox.sandbox.set_opportunity_field(first, "mx_Custom_6", "=2500+1")
    sandbox.sandbox.set_opportunity_field(first, "mx_Custom_2", "Qualified")
    sandbox.sandbox.delete_opportunity(second)
    out = tmp_path / "check" / "reconciled.xlsx"

    result = verify_results(
        report.results_path, mapping, settings=settings_for(sandbox, tmp_path), report=out
    )

    assert result.exit_code == 1
    assert (result.checked, result.present, result.missing) == (2, 1, 1)
    assert (result.differences, result.differing_rows, result.not_checked) == (2, 1, 0)
    assert result.report_path == out
    assert "1 present (1 with 2 differing fields), 1 missing" in result.summary_line()
    lines = sheet_rows(out, "Reconciliation")
    assert list(lines[0]) == list(RECONCILIATION_COLUMNS)
    differs = [line for line in lines if line["Result"] == "Differs"]
    assert {(d["Field"], d["Sent"], d["Stored"]) for d in differs} == {
        ("Amount (mx_Custom_6)", "2500000", "=2500+1"),
        ("Stage (mx_Custom_2)", "Prospecting", "Qualified"),
    }
    assert {d["OpportunityId"] for d in differs} == {first}
    (missing,) = [line for line in lines if line["Result"] == "Missing"]
    assert (missing["RowNumber"], missing["OpportunityId"]) == (3, second)
    assert missing["LeadId"] == report.outcomes[1].related_prospect_id
    # What LeadSquared holds stays text in the workbook, never a formula.
    cell = next(
        c for c in openpyxl.load_workbook(out)["Reconciliation"]["G"] if c.value == "=2500+1"
    )
    assert cell.data_type == "s"

    done = cli(sandbox, tmp_path, "verify", str(report.results_path), "-m", str(mapping))
    assert done.returncode == 1
    assert "1 missing" in done.stdout


def test_values_stored_in_another_form_still_match(sandbox: RunningSandbox, tmp_path: Path):
    report, mapping = imported(sandbox, tmp_path, ROWS[:1])
    opportunity = report.outcomes[0].created_opportunity_id or ""
    sandbox.sandbox.set_opportunity_field(opportunity, "mx_Custom_6", "25,00,000.00")
    sandbox.sandbox.set_opportunity_field(opportunity, "mx_Custom_8", "2025-03-31 00:00:00")
    sandbox.sandbox.set_opportunity_field(opportunity, "mx_Custom_2", " PROSPECTING ")

    result = verify_results(report.results_path, mapping, settings=settings_for(sandbox, tmp_path))

    assert result.exit_code == 0
    assert [line.result for line in result.lines] == ["Present"]


def test_a_lead_with_several_pages_of_opportunities(sandbox: RunningSandbox, tmp_path: Path):
    rows = [["one@example.com", f"Loan {i}", str(i * 1000), "", "New", ""] for i in range(5)]
    report, mapping = imported(sandbox, tmp_path, rows)
    assert len({o.related_prospect_id for o in report.outcomes}) == 1
    oldest = report.outcomes[0].created_opportunity_id or ""
    sandbox.sandbox.set_opportunity_field(oldest, "mx_Custom_1", "Renamed")

    result = verify_results(
        report.results_path, mapping, settings=settings_for(sandbox, tmp_path), page_size=2
    )

    # Newest first: the oldest opportunity is on page 3 of 3.
    assert sandbox.sandbox.snapshot()["counters"]["calls"][LIST_PATH] == 3
    assert (result.checked, result.present, result.missing, result.differences) == (5, 5, 0, 1)
    (differs,) = [line for line in result.lines if line.result == "Differs"]
    found = (differs.row_number, differs.field, differs.stored)
    assert found == (2, "Name (mx_Custom_1)", "Renamed")


@pytest.fixture
def with_duplicate_rule(sandbox: RunningSandbox) -> Iterator[RunningSandbox]:
    """An account whose admin made a duplicate rule (opportunity name per lead and type)."""
    sandbox.sandbox.config.duplicate_detection = True
    sandbox.sandbox.reset()
    yield sandbox
    sandbox.sandbox.config.duplicate_detection = False
    sandbox.sandbox.reset()


def test_duplicate_is_compared_with_the_opportunity_leadsquared_kept(
    with_duplicate_rule: RunningSandbox, tmp_path: Path
):
    sandbox = with_duplicate_rule
    rows = [ROWS[1], ["ravi@example.com", "car loan", "900000", "", "New", ""]]
    report, mapping = imported(sandbox, tmp_path, rows)
    kept = report.outcomes[1].conflicted_opportunity_id
    assert kept == report.outcomes[0].created_opportunity_id

    result = verify_results(report.results_path, mapping, settings=settings_for(sandbox, tmp_path))

    by_row = {line.row_number: line for line in result.lines}
    assert by_row[2].result == "Present"
    # LeadSquared left the existing opportunity as it was, so what row 3 sent differs.
    differs = [line for line in result.lines if line.row_number == 3]
    assert {line.field for line in differs} == {"Name (mx_Custom_1)", "Amount (mx_Custom_6)"}
    assert all(line.opportunity_id == kept for line in differs)
    assert all("duplicate" in line.message for line in differs)
    assert result.exit_code == 1


def test_rows_without_a_lead_id_are_not_checked(sandbox: RunningSandbox, tmp_path: Path):
    mapping = tmp_path / "loans.yaml"
    mapping.write_text(MAPPING)
    results = tmp_path / "handmade.results.xlsx"
    now = datetime.now()
    write_results(
        results,
        input_headers=HEADER,
        rows=[
            (ROWS[0], RowOutcome(2, RowStatus.SUCCESS, created_opportunity_id="opp-1")),
            (ROWS[1], RowOutcome(3, RowStatus.FAILURE, message="refused")),
        ],
        errors=[],
        summary=Summary({}, "loans.csv", "", str(mapping), "sync", now, now),
    )

    result = verify_results(results, mapping, settings=settings_for(sandbox, tmp_path))

    assert result.exit_code == 1
    assert (result.checked, result.not_checked, result.api_calls) == (0, 1, 0)
    (line,) = result.lines
    assert (line.row_number, line.result, line.message) == (
        2,
        "Not checked",
        "no lead id in the results",
    )


def test_wrong_keys_stop_verify(sandbox: RunningSandbox, tmp_path: Path):
    report, mapping = imported(sandbox, tmp_path, ROWS[:2])
    bad = settings_for(sandbox, tmp_path).with_(secret_key="wrong")
    with pytest.raises(AuthError) as caught:
        verify_results(report.results_path, mapping, settings=bad)
    assert "wrong" not in str(caught.value)
    # Two leads to read, but the first 401 stops verify before any other call.
    assert sandbox.sandbox.snapshot()["counters"]["calls"][LIST_PATH] == 1


@pytest.mark.parametrize(
    ("sent", "stored", "ignore_case", "same"),
    [
        ("200000", "200,000", False, True),
        ("2500000", "25,00,000", False, True),
        ("12.5", "12.50", False, True),
        ("2025-03-31", "2025-03-31 00:00:00", False, True),
        ("2025-03-31 00:00:00", "2025-03-31", False, True),
        ("Loan", "  Loan ", False, True),
        ("New", "new", True, True),
        ("New", "new", False, False),
        ("2025-03-31", "2025-03-31 10:00:00", False, False),
        ("12", "1,2", False, False),
        ("200000", "", False, False),
    ],
)
def test_values_match(sent: str, stored: str, ignore_case: bool, same: bool) -> None:
    assert values_match(sent, stored, ignore_case=ignore_case) is same
