"""The header row: found below a title block, or given; RowNumber stays the row Excel shows."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlwt

from importer.core.errors import InputFileError
from importer.io.tables import Table, find_header_row, open_table

HEADER = ["Email", "First Name", "Mobile", "City", "Loan Amount"]
DATA = [
    ["asha@example.com", "Asha", "9876543210", "Pune", "25,00,000"],
    ["ravi@example.com", "Ravi", "9845012345", "Chennai", "8,00,000"],
]
TITLED = [["Leads export 01-Dec-2026"], [], HEADER, *DATA]


def rows_of(table: Table) -> dict[int, list[str]]:
    return {
        int(number): list(values)
        for chunk in table.chunks()
        for number, values in zip(chunk.index, chunk.itertuples(index=False), strict=True)
    }


# --- find_header_row: a pure function of the first rows ----------------------


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([HEADER, *DATA], 1),
        (TITLED, 3),
        ([[], HEADER, *DATA], 2),
        # a key/value block above the table is narrower than it
        ([["Report", "Leads"], ["Generated", "01-Dec-2026"], [], HEADER, *DATA], 4),
        # a title with a date beside it
        ([["Leads export", "01/12/2026"], HEADER, *DATA], 2),
        # headers only: row 1
        ([HEADER], 1),
        # nothing looks like headers (years as headers, numbers): row 1 in doubt
        ([["Name", "2024", "2025"], ["Asha", "10", "12"]], 1),
        ([], 1),
        ([[], []], 1),
        # a header over sparse data is still row 1 when no other row qualifies
        ([HEADER, ["a@x.com", "", "", "", ""], ["b@x.com", "", "", "", ""]], 1),
        # a data row of plain words below a title does not win over the headers above it
        ([["Leads"], HEADER, ["Asha", "Rao", "Pune", "New", "Open"]], 2),
        # a title row as wide as a narrow table is taken as the headers: row 1 in doubt
        ([["Leads export", "December"], ["Email", "Name"], ["a@x.com", "A"]], 1),
    ],
)
def test_find_header_row(rows: list[list[str]], expected: int) -> None:
    assert find_header_row(rows) == expected


def test_find_header_row_ignores_whitespace_and_padding() -> None:
    padded = [["  Leads export  ", "", "", ""], ["", "", "", ""], [" Email ", "Name", "", ""]]
    assert find_header_row([*padded, ["a@x.com", "A", "", ""]]) == 3


def test_find_header_row_looks_at_the_first_twenty_rows_only() -> None:
    rows = [["x"]] * 25 + [HEADER, *DATA]
    assert find_header_row(rows) == 1


# --- the loader -----------------------------------------------------------------


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[str]], sheet: str = "Leads") -> Path:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            ws.cell(number, column, value)
    workbook.save(path)
    return path


def write_xls(path: Path, rows: list[list[str]]) -> Path:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Leads")
    for number, row in enumerate(rows):
        for column, value in enumerate(row):
            sheet.write(number, column, value)
    book.save(str(path))
    return path


def write_ods(path: Path, rows: list[list[str]]) -> Path:
    width = max(len(row) for row in rows)
    frame = pd.DataFrame([row + [""] * (width - len(row)) for row in rows])
    frame.to_excel(path, engine="odf", index=False, header=False, sheet_name="Leads")
    return path


WRITERS = {".csv": write_csv, ".xlsx": write_xlsx, ".xls": write_xls, ".ods": write_ods}


@pytest.mark.parametrize("suffix", list(WRITERS))
def test_title_row_above_the_header_is_detected(tmp_path: Path, suffix: str) -> None:
    path = WRITERS[suffix](tmp_path / f"export{suffix}", TITLED)
    table = open_table(path)
    assert table.headers == HEADER
    assert (table.header_row, table.header_detected) == (3, True)
    assert rows_of(table) == {4: DATA[0], 5: DATA[1]}
    assert table.blank_rows == 0  # the blank row 2 is above the table: not counted
    assert any("headers are on row 3" in warning for warning in table.warnings)


@pytest.mark.parametrize("suffix", list(WRITERS))
def test_header_row_given(tmp_path: Path, suffix: str) -> None:
    path = WRITERS[suffix](tmp_path / f"export{suffix}", TITLED)
    table = open_table(path, header_row=3, chunk_rows=1)
    assert (table.header_row, table.header_detected) == (3, False)
    assert rows_of(table) == {4: DATA[0], 5: DATA[1]}
    assert not any("headers are on row" in warning for warning in table.warnings)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_header_on_row_one_is_unchanged(tmp_path: Path, suffix: str) -> None:
    path = WRITERS[suffix](tmp_path / f"plain{suffix}", [HEADER, *DATA])
    table = open_table(path)
    assert (table.header_row, table.header_detected) == (1, True)
    assert rows_of(table) == {2: DATA[0], 3: DATA[1]}
    assert table.warnings == []


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_given_header_row_that_is_blank_or_past_the_end(tmp_path: Path, suffix: str) -> None:
    path = WRITERS[suffix](tmp_path / f"export{suffix}", TITLED)
    with pytest.raises(InputFileError, match="Row 2 of .* is blank; give the row"):
        open_table(path, header_row=2)
    with pytest.raises(InputFileError, match="Row 40 of .* is blank"):
        open_table(path, header_row=40)
    with pytest.raises(InputFileError, match="--header-row must be 1 or more"):
        open_table(path, header_row=0)


def test_header_row_given_far_down(tmp_path: Path) -> None:
    rows = [[f"note {i}"] for i in range(30)] + [HEADER, *DATA]
    path = write_xlsx(tmp_path / "deep.xlsx", rows)
    table = open_table(path, header_row=31)
    assert table.headers == HEADER
    assert rows_of(table) == {32: DATA[0], 33: DATA[1]}


def test_csv_title_without_delimiters_keeps_the_delimiter(tmp_path: Path) -> None:
    text = "Leads export 01-Dec-2026\n\nEmail;Name;City\na@x.com;A;Pune\nb@x.com;B;Goa\n"
    (tmp_path / "semi.csv").write_text(text)
    table = open_table(tmp_path / "semi.csv")
    assert table.delimiter == ";"
    assert table.headers == ["Email", "Name", "City"]
    assert rows_of(table) == {4: ["a@x.com", "A", "Pune"], 5: ["b@x.com", "B", "Goa"]}


def test_csv_blank_data_rows_below_a_title_keep_their_numbers(tmp_path: Path) -> None:
    rows = [["Leads export"], [], HEADER, DATA[0], [], DATA[1]]
    table = open_table(write_csv(tmp_path / "gaps.csv", rows), chunk_rows=2)
    assert rows_of(table) == {4: DATA[0], 6: DATA[1]}
    assert table.blank_rows == 1


def test_blank_header_columns_below_a_title(tmp_path: Path) -> None:
    rows = [["Leads export"], ["Email", "", "City"], ["a@x.com", "note", "Pune"]]
    table = open_table(write_xlsx(tmp_path / "gap.xlsx", rows))
    assert table.header_row == 2
    assert table.headers == ["Email", "Column B", "City"]
    assert rows_of(table) == {3: ["a@x.com", "note", "Pune"]}


def test_run_keeps_the_row_numbers_excel_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import of a file with a title block: results point at rows 4 and 5, not 2 and 3."""
    import os

    from typer.testing import CliRunner

    from importer.cli import app

    for key in list(os.environ):
        if key.startswith("LSQ_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    mapping = tmp_path / "loan.yaml"
    mapping.write_text(
        "version: 1\nopportunity_event_code: 12000\nsearch_by: EmailAddress\n"
        "lead:\n  EmailAddress: {column: Email, type: email, required: true}\n"
        "  FirstName: First Name\n"
        "opportunity:\n  mx_Custom_1: {column: City, required: true}\n"
    )
    rows = [["Leads export 01-Dec-2026"], [], HEADER, DATA[0], ["bad@", "Bob", "", "", ""]]
    data = write_xlsx(tmp_path / "export.xlsx", rows)
    done = CliRunner().invoke(app, ["run", str(data), "-m", str(mapping), "--sandbox", "--quiet"])
    assert done.exit_code == 1, done.output
    sheet = openpyxl.load_workbook(tmp_path / "export.results.xlsx")["Results"]
    header, *lines = list(sheet.iter_rows(values_only=True))
    assert header[: len(HEADER)] == tuple(HEADER)
    status = {row[header.index("RowNumber")]: row[header.index("Status")] for row in lines}
    assert status == {4: "Success", 5: "Invalid"}
