"""The CLI as a user meets it: exit codes, one-line errors, the workbooks it writes."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import httpx
import openpyxl
import pytest
from support import LOAN_MAPPING
from typer.testing import CliRunner

from importer.cli import app
from importer.cli.boundary import sandbox_settings
from importer.core.config import Settings
from importer.core.constants import DEFAULT_PATHS
from importer.sandbox import SandboxConfig, serve_in_thread

MAPPING = LOAN_MAPPING + "note: {column: Notes}\n"
ROWS = [
    ["a@example.com", "Asha", "Loan A", "1,20,000", '=HYPERLINK("http://x","y")'],
    ["b@example.com", "+Bob", "-Loan B", "5000", "@home"],
    ["bad@", "Carl", "Loan C", "10", ""],
    ["d@example.com", "Dina", "Loan D", "-5", "+91 98"],
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "leads.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email", "First Name", "Opportunity Name", "Loan Amount", "Notes"])
        writer.writerows(ROWS)
    mapping = tmp_path / "loan.yaml"
    mapping.write_text(MAPPING)
    return data, mapping


@pytest.fixture
def clean_env(no_lsq_env: Path) -> Path:
    return no_lsq_env


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def assert_one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    text = result.output.strip()
    assert text.count("\n") == 0, text
    for needle in needles:
        assert needle in text


def no_formulas(path: Path) -> None:
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name


def test_validate_reports_invalid_rows_and_exits_1(files, clean_env) -> None:
    data, mapping = files
    result = invoke("validate", str(data), "-m", str(mapping))
    assert result.exit_code == 1, result.output
    assert "4 rows read, 2 valid, 2 invalid" in result.output
    report = data.with_name("leads.validation.xlsx")
    book = openpyxl.load_workbook(report)
    assert book.sheetnames == ["Rows", "Errors", "Summary", "Preview"]
    messages = [row[3] for row in book["Errors"].iter_rows(min_row=2, values_only=True)]
    assert 'Row 4, Email: "bad@" is not a valid email address' in messages
    assert 'Row 5, Loan Amount: "-5" is below the minimum 0' in messages
    no_formulas(report)


def test_missing_input_bad_mapping_missing_column_are_one_line_exit_2(
    files, clean_env, tmp_path: Path
) -> None:
    data, mapping = files
    assert_one_line_error(
        invoke("validate", str(tmp_path / "nope.csv"), "-m", str(mapping)), "nope.csv"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(MAPPING.replace("type: number", "type: money"))
    assert_one_line_error(invoke("validate", str(data), "-m", str(bad)), "money", "line 10")
    missing = tmp_path / "missing.yaml"
    missing.write_text(MAPPING + "datetime: {column: Opportunity Date, type: datetime}\n")
    assert_one_line_error(invoke("validate", str(data), "-m", str(missing)), "Opportunity Date")
    assert_one_line_error(invoke("run", str(data), "-m", str(mapping)), "LSQ_ACCESS_KEY")


def test_run_against_the_sandbox_writes_results_without_formulas(files, clean_env) -> None:
    data, mapping = files
    result = invoke("run", str(data), "-m", str(mapping), "--sandbox", "--quiet")
    assert result.exit_code == 1, result.output
    assert "2 Success (2 new, 0 already imported, 0 LeadSquared duplicates), 2 Invalid" in (
        result.output
    )
    results = data.with_name("leads.results.xlsx")
    no_formulas(results)
    sheet = openpyxl.load_workbook(results)["Results"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:5] == ("Email", "First Name", "Opportunity Name", "Loan Amount", "Notes")
    assert header[5:] == (
        "RowNumber",
        "Status",
        "CreatedOpportunityId",
        "ConflictedOpportunityId",
        "RelatedProspectId",
        "RequestID",
        "ExceptionType",
        "Message",
    )
    by_row = {row[5]: row for row in rows[1:]}
    assert by_row[2][4] == '=HYPERLINK("http://x","y")' and by_row[2][6] == "Success"
    assert by_row[3][1] == "+Bob" and by_row[3][2] == "-Loan B" and by_row[3][4] == "@home"
    assert by_row[4][6] == "Invalid" and by_row[5][6] == "Invalid"
    assert by_row[2][7] and by_row[2][8] is None


def test_wrong_keys_exit_2_with_one_line(files, clean_env) -> None:
    data, mapping = files
    with serve_in_thread(SandboxConfig()) as running:
        env = running.env() | {"LSQ_SECRET_KEY": "not-the-secret"}
        result = invoke("run", str(data), "-m", str(mapping), "--quiet", env=env)
    assert result.exit_code == 2, result.output
    assert "not-the-secret" not in result.output
    assert "LSQ_SECRET_KEY" in result.output
    assert "Traceback" not in result.output


def test_all_success_exits_0_and_sync_mode_works(tmp_path: Path, clean_env) -> None:
    data = tmp_path / "good.csv"
    data.write_text(
        "Email,First Name,Opportunity Name,Loan Amount,Notes\n"
        "x@example.com,X,Loan X,100,\ny@example.com,Y,Loan Y,200,hello\n"
    )
    mapping = tmp_path / "loan.yaml"
    mapping.write_text(MAPPING)
    result = invoke("run", str(data), "-m", str(mapping), "--sandbox", "--mode", "sync", "--quiet")
    assert result.exit_code == 0, result.output
    assert "2 Success" in result.output
    bad_mode = invoke("run", str(data), "-m", str(mapping), "--sandbox", "--mode", "bulk")
    assert_one_line_error(bad_mode, "--mode")


def test_a_totals_row_at_the_bottom_is_skipped_and_counted(tmp_path: Path, clean_env) -> None:
    data = tmp_path / "nightly.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Email", "First Name", "Opportunity Name", "Loan Amount", "Notes"])
    sheet.append(["x@example.com", "X", "Loan X", 100, None])
    sheet.append(["y@example.com", "Y", "Loan Y", 200, None])
    sheet.append(["Grand Total", None, None, 300, None])
    book.save(data)
    mapping = tmp_path / "loan.yaml"
    mapping.write_text(MAPPING)

    result = invoke("run", str(data), "-m", str(mapping), "--sandbox", "--quiet")

    assert result.exit_code == 0, result.output
    workbook = openpyxl.load_workbook(data.with_name("nightly.results.xlsx"))
    statuses = [row[6] for row in workbook["Results"].iter_rows(min_row=2, values_only=True)]
    assert statuses == ["Success", "Success"]
    summary = dict(workbook["Summary"].iter_rows(values_only=True))
    assert summary["Totals rows skipped"] == 1


@pytest.mark.parametrize("rule", [False, True])
def test_the_in_process_sandbox_is_a_new_account_unless_given_the_rule(rule: bool) -> None:
    """`run --sandbox` and `serve --sandbox`: no duplicate rule; `--duplicate-rule` adds it."""
    body = {
        "LeadDetails": [
            {"Attribute": "EmailAddress", "Value": "a@example.com"},
            {"Attribute": "SearchBy", "Value": "EmailAddress"},
        ],
        "Opportunity": {
            "OpportunityEventCode": 12000,
            "Fields": [{"SchemaName": "mx_Custom_1", "Value": "Loan A"}],
        },
    }
    with sandbox_settings(Settings(), True, quiet=True, duplicate_rule=rule) as settings:
        keys = {"accessKey": settings.access_key, "secretKey": settings.secret_key}
        url = settings.host + DEFAULT_PATHS["capture_sync"]
        answers = [httpx.post(url, params=keys, json=body, timeout=5).json() for _ in range(2)]
    assert [a["IsUnique"] for a in answers] == [True, not rule]
    assert (answers[1]["CreatedOpportunityId"] is None) is rule


def test_serve_duplicate_rule_needs_the_sandbox(clean_env) -> None:
    result = invoke("serve", "--duplicate-rule", "--port", "0")
    assert_one_line_error(result, "--duplicate-rule", "--sandbox")
