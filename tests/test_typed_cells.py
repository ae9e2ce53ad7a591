"""Input cells keep their kind from the file to the results workbook (CONTRACT 6):
numbers stay numbers, dates stay dates, through the loader, the journal and `rebuild`."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from support import CAPTURE_HEAD
from typer.testing import CliRunner

from importer.cli import app
from importer.core.outcomes import RowOutcome, RowStatus
from importer.io.journal import Journal, decode_cells, encode_cells
from importer.io.tables import open_table
from importer.io.workbooks.reader import ResultsReader
from importer.io.workbooks.results import write_results
from importer.io.workbooks.summary import Summary

MAPPING = (
    CAPTURE_HEAD
    + """\
lead:
  EmailAddress: {column: Email, type: email, required: true}
opportunity:
  mx_Custom_1: {column: Opportunity Name, required: true}
  mx_Custom_6: {column: Loan Amount, type: number}
  mx_Custom_8: {column: Expected Close, type: date}
  mx_Custom_9: {column: Verified, type: boolean}
datetime: {column: Opportunity Date, type: datetime}
"""
)
HEADERS = [
    "Email",
    "Opportunity Name",
    "Loan Amount",
    "Expected Close",
    "Opportunity Date",
    "Verified",
    "Branch Code",
]
FIRST = [
    "a@example.com",
    "Home loan",
    120000,
    date(2026, 3, 31),
    datetime(2026, 1, 15, 10, 30),
    True,
    "007",
]
SECOND = [
    "b@example.com",
    "Car loan",
    2.5,
    date(2026, 4, 1),
    datetime(2026, 1, 16, 9, 0),
    False,
    "x",
]


@pytest.fixture
def workspace(no_lsq_env: Path) -> Path:
    (no_lsq_env / "loan.yaml").write_text(MAPPING)
    return no_lsq_env


def write_xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(FIRST)
    sheet.append([None] * len(HEADERS))  # blank: skipped, numbering kept
    sheet.append(SECOND)
    book.save(path)
    return path


def results_of(path: Path) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(path)["Results"]


def assert_kinds_kept(sheet: openpyxl.worksheet.worksheet.Worksheet) -> None:
    rows = [[cell.value for cell in row[: len(HEADERS)]] for row in sheet.iter_rows(min_row=2)]
    expected = [
        ["a@example.com", "Home loan", 120000, datetime(2026, 3, 31), *FIRST[4:]],
        ["b@example.com", "Car loan", 2.5, datetime(2026, 4, 1), *SECOND[4:]],
    ]
    assert rows == expected
    assert [sheet.cell(row=2, column=c).data_type for c in range(1, 8)] == [
        "s",
        "s",
        "n",
        "d",
        "d",
        "b",
        "s",
    ]
    assert sheet["D2"].number_format == "yyyy-mm-dd"
    assert sheet["E2"].number_format == "yyyy-mm-dd hh:mm:ss"


# ---------------------------------------------------------------- the loader


def test_typed_rows_are_the_rows_chunks_gives_with_their_kinds(tmp_path: Path) -> None:
    path = tmp_path / "kinds.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write(0, 0, "Export of January")  # a title block above the headers
    sheet.write_row(2, 0, ["Name", "Amount", "When", "At", "Done", "Check"])
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    clock = book.add_format({"num_format": "hh:mm"})
    sheet.write_row(3, 0, ["a", 5])
    sheet.write_datetime(3, 2, datetime(2026, 1, 15, 10, 30), moment)
    sheet.write_datetime(3, 3, time(10, 30), clock)
    sheet.write_boolean(3, 4, True)
    sheet.write_formula(3, 5, "=NA()", None, "#N/A")
    sheet.write_row(5, 0, ["b", 7.5, "soon"])  # row 5 left blank
    sheet.write_row(6, 0, ["Total", 12.5])  # a totals row: held back from both
    book.close()

    table = open_table(path, chunk_rows=2)
    texts = {int(n): list(row) for f in table.chunks() for n, row in f.iterrows()}
    typed = dict(table.typed_rows())

    assert sorted(typed) == sorted(texts) == [4, 6]
    assert typed[4] == ["a", 5, datetime(2026, 1, 15, 10, 30), time(10, 30), True, "#N/A"]
    assert typed[6] == ["b", 7.5, "soon", "", "", ""]
    assert texts[4] == ["a", "5", "2026-01-15 10:30:00", "10:30:00", "TRUE", "#N/A"]
    assert table.total_rows == 1 and table.blank_rows == 1


def test_a_csv_s_typed_rows_are_its_text(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Name,Amount,When\na,007,2026-01-15\n\nb,1e3,TRUE\n")

    assert list(open_table(path).typed_rows()) == [
        (2, ["a", "007", "2026-01-15"]),
        (4, ["b", "1e3", "TRUE"]),
    ]


# ---------------------------------------------------------------- the journal


def test_the_journal_keeps_kinds_and_reads_old_text_journals(tmp_path: Path) -> None:
    cells = ["a", 1, 2.5, True, date(2026, 1, 15), datetime(2026, 1, 15, 10, 30, 5)]
    cells += [time(10, 30), timedelta(hours=1, minutes=30), ""]
    assert json.loads(encode_cells(cells))[4:6] == [
        {"d": "2026-01-15"},
        {"dt": "2026-01-15T10:30:05"},
    ]
    assert decode_cells(encode_cells(cells)) == cells

    path = tmp_path / "old.journal.sqlite"
    with Journal(path) as journal:
        journal.save_inputs(["Name", "When"], [(2, ["a", date(2026, 1, 15)])], [])
    with sqlite3.connect(path) as db:  # a journal written before kinds were kept
        db.execute("INSERT INTO inputs VALUES (3, ?)", (json.dumps(["b", "2026-01-16"]),))
    with Journal(path) as journal:
        assert list(journal.inputs()) == [
            (2, ["a", date(2026, 1, 15)]),
            (3, ["b", "2026-01-16"]),
        ]


# ---------------------------------------------------------------- run and rebuild


def test_run_and_rebuild_keep_the_kinds_of_an_xlsx(workspace: Path) -> None:
    write_xlsx(workspace / "loans.xlsx")

    result = CliRunner().invoke(app, ["run", "loans.xlsx", "-m", "loan.yaml", "--sandbox"])

    assert result.exit_code == 0, result.output
    assert_kinds_kept(results_of(workspace / "loans.results.xlsx"))
    journal = next((workspace / ".lsq-state").glob("*.journal.sqlite"))
    rebuilt = CliRunner().invoke(app, ["rebuild", str(journal), "--out", "again.xlsx"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert_kinds_kept(results_of(workspace / "again.xlsx"))


def test_run_of_a_csv_keeps_its_text(workspace: Path) -> None:
    with (workspace / "loans.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerow(["a@example.com", "Home loan", "1,20,000", "31/03/2026", "", "yes", "007"])

    result = CliRunner().invoke(app, ["run", "loans.csv", "-m", "loan.yaml", "--sandbox"])

    assert result.exit_code == 0, result.output
    sheet = results_of(workspace / "loans.results.xlsx")
    values = [cell.value for cell in sheet[2][: len(HEADERS)]]
    assert values == ["a@example.com", "Home loan", "1,20,000", "31/03/2026", None, "yes", "007"]
    assert {sheet.cell(row=2, column=c).data_type for c in (1, 2, 3, 4, 6, 7)} == {"s"}


def test_a_time_of_day_goes_out_and_comes_back_a_time(tmp_path: Path) -> None:
    now = datetime(2026, 1, 15, 10, 0)
    summary = Summary(
        counts={},
        input_name="x.xlsx",
        input_sha256="0" * 64,
        mapping="m.yaml",
        mode="async",
        started=now,
        finished=now,
    )
    cells = [time(10, 30), datetime(2026, 1, 15, 9, 5), 7.5]
    path = write_results(
        tmp_path / "r.xlsx",
        input_headers=["At", "When", "Amount"],
        rows=[(cells, RowOutcome(2, RowStatus.SUCCESS))],
        errors=[],
        summary=summary,
    )

    with ResultsReader(path) as reader:  # what retry and status write back
        assert next(reader.rows()).cells[:3] == cells
    assert openpyxl.load_workbook(path)["Results"]["A2"].number_format == "hh:mm:ss"
