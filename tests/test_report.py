"""The validation report as the person fixing the file meets it: Rows, Preview, the estimate."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from support import CAPTURE_HEAD
from typer.testing import CliRunner

from importer.cli import app
from importer.commands.validate import validate_file
from importer.core.config import Rate
from importer.core.estimate import duration, estimate_import
from importer.core.outcomes import STATUS_COLOURS, RowError, RowStatus
from importer.io.workbooks.report import InputRows, PreviewTable, write_validation_report
from importer.io.workbooks.sheets import Flagged, write_table, write_workbook
from importer.io.workbooks.summary import Summary

MAPPING = (
    CAPTURE_HEAD
    + """\
unique: [EmailAddress, mx_Custom_1]
lead:
  EmailAddress: {column: Email, type: email, required: true}
  FirstName: First Name
opportunity:
  mx_Custom_1: {column: Opportunity Name, required: true}
  mx_Custom_6: {column: Loan Amount, type: number, min: 0}
  mx_Custom_8: {column: Expected Close, type: date}
  mx_Custom_3: {value: Website}
  Status: {column: Status, allowed: [Open, Won, Lost], default: Open}
note: {column: Notes}
datetime: {column: Opportunity Date, type: datetime}
"""
)
HEADERS = [
    "Email",
    "First Name",
    "Opportunity Name",
    "Loan Amount",
    "Expected Close",
    "Status",
    "Notes",
    "Opportunity Date",
]
FAILURE_FILL = "FF" + STATUS_COLOURS[RowStatus.FAILURE][0].lstrip("#")


@pytest.fixture
def workspace(no_lsq_env: Path) -> Path:
    (no_lsq_env / "loan.yaml").write_text(MAPPING)
    return no_lsq_env


def write_xlsx(path: Path, rows: list[list[object]], headers: list[str] = HEADERS) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def loans(workspace: Path) -> Path:
    return write_xlsx(
        workspace / "loans.xlsx",
        [
            # row 2: valid, every kind of cell
            [
                "asha@example.com",
                "Asha",
                "Home loan",
                120000,
                date(2026, 3, 31),
                "Open",
                "@home visit",
                datetime(2026, 1, 15, 10, 30),
            ],
            # row 3: a bad email and a negative amount
            ["bob@", "Bob", "Car loan", -5, date(2026, 4, 1), "Open", None, None],
            [None] * 8,  # row 4: blank, skipped
            # row 5: repeats row 2's Email and Opportunity Name
            ["asha@example.com", "Asha", "Home loan", 5, None, "Won", None, None],
            # row 6: Status not allowed
            ["c@example.com", "Cy", "Gold loan", 7.5, None, "Maybe", None, None],
        ],
    )


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def sheet_lines(path: Path, name: str) -> list[list[object]]:
    return [list(row) for row in openpyxl.load_workbook(path)[name].iter_rows(values_only=True)]


# ---------------------------------------------------------------- the Rows sheet


def test_rows_sheet_shows_the_file_as_it_is_with_bad_cells_marked(workspace: Path) -> None:
    result = invoke("validate", str(loans(workspace)), "-m", "loan.yaml")

    assert result.exit_code == 1, result.output
    assert "Fix the 3 invalid row(s) marked in the report's Rows sheet" in result.output
    report = workspace / "loans.validation.xlsx"
    book = openpyxl.load_workbook(report)
    assert book.sheetnames == ["Rows", "Errors", "Summary", "Preview"]
    sheet = book["Rows"]
    lines = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert lines[0] == [*HEADERS, "RowNumber", "Valid", "Message"]
    assert [line[len(HEADERS) : len(HEADERS) + 2] for line in lines[1:]] == [
        [2, "Yes"],
        [3, "No"],
        [5, "No"],
        [6, "No"],
    ]
    first = lines[1]
    assert first[:8] == [
        "asha@example.com",
        "Asha",
        "Home loan",
        120000,
        datetime(2026, 3, 31),
        "Open",
        "@home visit",
        datetime(2026, 1, 15, 10, 30),
    ]
    assert sheet["D2"].data_type == "n" and sheet["E2"].is_date and sheet["G2"].data_type == "s"
    assert first[-1] is None  # a valid row has no message

    def marked(cell: str) -> tuple[bool, str | None]:
        found = sheet[cell]
        note = found.comment.text if found.comment else None
        return found.fill.fgColor.rgb == FAILURE_FILL, note

    assert marked("A3") == (True, '"bob@" is not a valid email address')
    assert marked("D3") == (True, '"-5" is below the minimum 0')
    assert sheet["D3"].value == -5 and sheet["D3"].data_type == "n"  # still a number
    assert marked("B3") == (False, None)
    # a repeat spans Email and Opportunity Name: the first of them carries it
    assert marked("A4") == (True, "same Email and Opportunity Name as row 2")
    assert marked("F5") == (True, '"Maybe" is not one of Open, Won, Lost')
    assert lines[2][-1] == (
        'Row 3, Email: "bob@" is not a valid email address; '
        'Row 3, Loan Amount: "-5" is below the minimum 0'
    )
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_rows_sheet_of_a_csv_keeps_its_text_and_renames_a_clashing_header(
    workspace: Path,
) -> None:
    (workspace / "leads.csv").write_text(
        "Email,Opportunity Name,Valid\na@example.com,Loan A,007\nbad@,Loan B,yes\n"
    )
    (workspace / "plain.yaml").write_text(
        CAPTURE_HEAD + "lead:\n  EmailAddress: {column: Email, type: email}\n"
        "opportunity:\n  mx_Custom_1: Opportunity Name\n"
    )

    report = validate_file(workspace / "leads.csv", workspace / "plain.yaml").report_path

    assert report is not None
    lines = sheet_lines(report, "Rows")
    assert lines[0] == [
        "Email",
        "Opportunity Name",
        "Valid (input)",
        "RowNumber",
        "Valid",
        "Message",
    ]
    assert lines[1][:5] == ["a@example.com", "Loan A", "007", 2, "Yes"]  # text stays text
    assert lines[2][3:5] == [3, "No"]


def test_a_big_file_s_rows_sheet_holds_the_rows_that_need_fixing(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("importer.commands.validate.ROWS_SHEET_ALL_UP_TO", 5)
    lines = ["Email,Opportunity Name"] + [f"p{i}@example.com,Loan {i}" for i in range(10)]
    lines[4] = "broken,Loan 3"
    (workspace / "leads.csv").write_text("\n".join(lines) + "\n")
    (workspace / "plain.yaml").write_text(
        CAPTURE_HEAD + "lead:\n  EmailAddress: {column: Email, type: email}\n"
        "opportunity:\n  mx_Custom_1: Opportunity Name\n"
    )

    report = validate_file(workspace / "leads.csv", workspace / "plain.yaml").report_path

    assert report is not None
    rows = sheet_lines(report, "Rows")
    assert [line[:2] for line in rows[1:]] == [["broken", "Loan 3"]]
    summary = dict((line[0], line[1]) for line in sheet_lines(report, "Summary"))
    assert summary["Rows sheet"] == "the 1 rows that need fixing (the file has more than 5 rows)"


def test_a_problem_without_a_column_marks_the_first_column_its_message_names(
    tmp_path: Path,
) -> None:
    errors = [
        RowError(2, "opportunity.mx_Custom_3", "", "Row 2: the value set for Stage is too long"),
        RowError(3, "opportunity.mx_Custom_3", "", "Row 3: the mapping's value is refused"),
    ]
    rows = InputRows(
        ["Email", "Stage"], ["Email", "Stage"], [(2, ["a@x.com", "New"]), (3, ["b", "x"])]
    )
    path = write_validation_report(
        tmp_path / "v.xlsx",
        errors=errors,
        summary=_summary(),
        preview=PreviewTable(["RowNumber"], []),
        inputs=rows,
    )

    sheet = openpyxl.load_workbook(path)["Rows"]
    assert sheet["B2"].comment is not None and sheet["A2"].comment is None
    assert sheet["A3"].comment is not None  # names no column: the first one


def test_notes_stop_at_the_cap_but_cells_stay_marked(tmp_path: Path) -> None:
    def fill(workbook, styles) -> None:  # type: ignore[no-untyped-def]
        styles.notes_left = 2
        rows = [[Flagged(f"v{n}", f"note {n}")] for n in range(5)]
        write_table(workbook, styles, "Rows", ["Value"], rows, 100)

    path = write_workbook(tmp_path / "capped.xlsx", fill)

    sheet = openpyxl.load_workbook(path)["Rows"]
    cells = [sheet.cell(row=n, column=1) for n in range(2, 7)]
    assert [c.comment.text if c.comment else None for c in cells] == [
        "note 0",
        "note 1",
        None,
        None,
        None,
    ]
    assert all(c.fill.fgColor.rgb == FAILURE_FILL for c in cells)


def test_rows_continue_on_a_second_sheet_past_excel_s_limit(tmp_path: Path) -> None:
    def fill(workbook, styles) -> None:  # type: ignore[no-untyped-def]
        rows = [[n, Flagged(n, "bad")] for n in range(5)]
        write_table(workbook, styles, "Rows", ["A", "B"], rows, 3)

    book = openpyxl.load_workbook(write_workbook(tmp_path / "split.xlsx", fill))

    assert book.sheetnames == ["Rows", "Rows (2)"]
    assert book["Rows (2)"]["B3"].comment.text == "bad"


# ---------------------------------------------------------------- the Preview sheet


def test_preview_is_a_table_of_the_values_as_they_would_be_sent(workspace: Path) -> None:
    validate_file(loans(workspace), workspace / "loan.yaml")

    lines = sheet_lines(workspace / "loans.validation.xlsx", "Preview")
    assert lines[0] == [
        "RowNumber",
        "Email (EmailAddress)",
        "First Name (FirstName)",
        "Opportunity Name (mx_Custom_1)",
        "Loan Amount (mx_Custom_6)",
        "Expected Close (mx_Custom_8)",
        "mx_Custom_3 (same for every row)",
        "Status",
        "Notes (OpportunityNote)",
        "Opportunity Date (OpportunityDateTime)",
        "SearchBy",
    ]
    assert lines[1:] == [
        [
            2,
            "asha@example.com",
            "Asha",
            "Home loan",
            "120000",
            "2026-03-31",
            "Website",
            "Open",
            "@home visit",
            "2026-01-15 10:30:00",
            "EmailAddress",
        ]
    ]


def test_preview_of_an_update(workspace: Path) -> None:
    (workspace / "update.yaml").write_text(
        "version: 1\noperation: update\nopportunity_id: {column: Opportunity Id}\n"
        "opportunity:\n  Status: {column: Status}\n  mx_Custom_6: {column: Amount, type: number}\n"
        "note: {column: Notes}\n"
    )
    (workspace / "changes.csv").write_text(
        'Opportunity Id,Status,Amount,Notes\nopp-1,Won,"1,20,000",Signed\n'
    )

    validate_file(workspace / "changes.csv", workspace / "update.yaml")

    lines = sheet_lines(workspace / "changes.validation.xlsx", "Preview")
    assert lines == [
        [
            "RowNumber",
            "Opportunity Id (ProspectOpportunityId)",
            "Status",
            "Amount (mx_Custom_6)",
            "Notes (OpportunityNote)",
        ],
        [2, "opp-1", "Won", "120000", "Signed"],
    ]


# ---------------------------------------------------------------- what validate says


def test_a_report_that_is_not_an_xlsx_is_refused_in_one_line(workspace: Path) -> None:
    result = invoke(
        "validate", str(loans(workspace)), "-m", "loan.yaml", "--report", "out/report.csv"
    )

    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        "lsq-import: The validation report is an Excel workbook: give it a name ending in "
        ".xlsx, not report.csv"
    )
    assert not (workspace / "out").exists()


def test_a_file_of_headers_only_is_said_and_exits_as_the_contract_says(workspace: Path) -> None:
    write_xlsx(workspace / "empty.xlsx", [])

    checked = invoke("validate", "empty.xlsx", "-m", "loan.yaml")
    imported = invoke("run", "empty.xlsx", "-m", "loan.yaml", "--sandbox")

    for result in (checked, imported):
        assert result.exit_code == 0, result.output
        assert "warning: the file has headers but no data rows" in result.output
        assert "Traceback" not in result.output
    assert "0 rows read" in checked.output and "There is nothing to import." in checked.output
    assert "Importing" not in checked.output  # no estimate for nothing
    assert openpyxl.load_workbook(workspace / "empty.results.xlsx")["Results"].max_row == 1


def test_validate_says_how_long_the_import_takes(workspace: Path) -> None:
    loans(workspace)

    default = invoke("validate", "loans.xlsx", "-m", "loan.yaml")
    slower = invoke("validate", "loans.xlsx", "-m", "loan.yaml", "--rate", "pro", "--mode", "sync")
    from_env = invoke("validate", "loans.xlsx", "-m", "loan.yaml", env={"LSQ_RATE": "2/5s"})
    quiet = invoke("validate", "loans.xlsx", "-m", "loan.yaml", "--quiet")

    assert (
        "Importing the 1 ready row takes less than a second at 25 calls per 5 s (async mode)."
        in default.output
    )
    assert "Importing the 1 ready row takes about 1 s at 5 calls per 5 s (sync mode)." in (
        slower.output
    )
    assert "Importing the 1 ready row takes about 5 s at 2 calls per 5 s (async mode)." in (
        from_env.output
    )
    assert "Importing" not in quiet.output
    summary = dict(row[:2] for row in sheet_lines(workspace / "loans.validation.xlsx", "Summary"))
    assert summary["Import time"] == (
        "Importing the 1 ready row takes less than a second at 25 calls per 5 s (async mode)"
    )


def test_a_bad_mode_for_validate_is_one_line(workspace: Path) -> None:
    result = invoke("validate", str(loans(workspace)), "-m", "loan.yaml", "--mode", "fast")

    assert result.exit_code == 2
    assert result.output.strip() == 'lsq-import: --mode must be "async" or "sync", not "fast"'


def test_the_estimate_of_the_library() -> None:
    rate = Rate(25, 5.0)

    estimate = estimate_import(219, rate, "async")

    assert estimate.calls == 438 and estimate.seconds == pytest.approx(87.6)
    assert estimate.sentence() == (
        "Importing the 219 ready rows takes about 1 min 30 s at 25 calls per 5 s (async mode)"
    )
    assert estimate_import(100, rate, "sync").seconds == pytest.approx(20)
    assert estimate_import(100, rate, "sync", shares=True).seconds == pytest.approx(40)
    assert estimate_import(100, rate, "async", shares=True).seconds == pytest.approx(40)
    assert estimate_import(-3, rate, "sync").calls == 0
    assert (
        estimate_import(1, Rate(10, 5.0), "sync")
        .sentence()
        .endswith("at 10 calls per 5 s (sync mode)")
    )
    assert [duration(s) for s in (0.2, 7, 42, 58, 87.6, 3590, 5400, 7500)] == [
        "less than a second",
        "about 7 s",
        "about 40 s",
        "about 1 min",
        "about 1 min 30 s",
        "about 59 min 50 s",
        "about 1 h 30 min",
        "about 2 h 5 min",
    ]


def _summary() -> Summary:
    now = datetime(2026, 1, 15, 10, 0)
    return Summary(
        counts={},
        input_name="x.csv",
        input_sha256="0" * 64,
        mapping="m.yaml",
        mode="validate",
        started=now,
        finished=now,
    )
