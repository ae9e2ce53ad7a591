"""The loader reads every supported format into frames of text with true RowNumbers."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
import xlwt

from importer.core.errors import InputFileError, UserError
from importer.io.tables import Table, normalize_header, open_table


def rows_of(table: Table) -> dict[int, list[str]]:
    """RowNumber -> cell texts, over every chunk."""
    out: dict[int, list[str]] = {}
    for chunk in table.chunks():
        assert list(chunk.columns) == table.headers
        assert chunk.index.name == "RowNumber"
        assert chunk.index.dtype == "int64"
        for number, values in zip(chunk.index, chunk.itertuples(index=False), strict=True):
            assert all(type(v) is str for v in values)
            out[int(number)] = list(values)
    return out


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",", encoding="utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


# --- CSV -------------------------------------------------------------------

CUSTOMERS = [["Name", "City", "Amount"], ["Zoë", "Köln", "€ 1,200"], ["Ana", "Pune", "5"]]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"), ("utf-16", "utf-16")],
)
def test_csv_encodings(tmp_path: Path, encoding: str, expected: str) -> None:
    path = write_csv(tmp_path / "leads.csv", CUSTOMERS, encoding=encoding)
    table = open_table(path)
    assert table.encoding == expected
    assert table.headers == ["Name", "City", "Amount"]
    assert rows_of(table) == {2: CUSTOMERS[1], 3: CUSTOMERS[2]}
    assert table.warnings == []


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters(tmp_path: Path, delimiter: str) -> None:
    path = write_csv(tmp_path / "leads.txt", CUSTOMERS, delimiter=delimiter)
    table = open_table(path)
    assert table.delimiter == delimiter
    assert rows_of(table) == {2: CUSTOMERS[1], 3: CUSTOMERS[2]}


def test_csv_quoted_delimiters_and_newlines_count_records(tmp_path: Path) -> None:
    rows = [
        ["Name", "Notes", "Email"],
        ["Smith, John", "line one\nline two", "j@example.com"],
        ["Ana", 'said "hi"; left', "a@example.com"],
    ]
    table = open_table(write_csv(tmp_path / "quoted.csv", rows))
    assert table.delimiter == ","
    assert rows_of(table) == {2: rows[1], 3: rows[2]}


def test_csv_cells_are_not_altered(tmp_path: Path) -> None:
    rows = [["Phone", "Formula", "Pad"], ["00987", "=1+2", "  spaced  "], ["NA", "null", "NaN"]]
    table = open_table(write_csv(tmp_path / "raw.csv", rows))
    assert rows_of(table) == {2: rows[1], 3: rows[2]}


def test_csv_single_column_and_short_rows(tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("Email\na@x.com\n\nb@x.com\n")
    table = open_table(tmp_path / "one.csv")
    assert rows_of(table) == {2: ["a@x.com"], 4: ["b@x.com"]}
    assert table.blank_rows == 1
    (tmp_path / "short.csv").write_text("a,b,c\n1,2\n3\n")
    assert rows_of(open_table(tmp_path / "short.csv")) == {2: ["1", "2", ""], 3: ["3", "", ""]}


def test_csv_blank_and_whitespace_rows_are_skipped(tmp_path: Path) -> None:
    text = "Email,Name\na@x.com,A\n,\n  ,\t\n\nb@x.com,B\n"
    (tmp_path / "blank.csv").write_text(text)
    table = open_table(tmp_path / "blank.csv", chunk_rows=2)
    assert rows_of(table) == {2: ["a@x.com", "A"], 6: ["b@x.com", "B"]}
    assert table.blank_rows == 3


def test_csv_extra_cells_are_ignored_with_one_warning(tmp_path: Path) -> None:
    text = "a,b\n1,2\n3,4,5\n6,7,8,9,10\n11,12,,\n"
    (tmp_path / "wide.csv").write_text(text)
    for chunk_rows in (1, 2, 100):
        table = open_table(tmp_path / "wide.csv", chunk_rows=chunk_rows)
        expected = {2: ["1", "2"], 3: ["3", "4"], 4: ["6", "7"], 5: ["11", "12"]}
        assert rows_of(table) == expected
        assert len(table.warnings) == 1
        assert "more cells than the header" in table.warnings[0]
        assert "beyond column B" in table.warnings[0]
        assert rows_of(table) == expected  # a second pass after the switch agrees


def test_csv_trailing_delimiters_add_nothing(tmp_path: Path) -> None:
    (tmp_path / "trail.csv").write_text("a,b,,\n1,2,,\n3,4,,\n")
    table = open_table(tmp_path / "trail.csv")
    assert table.headers == ["a", "b"]
    assert table.warnings == []
    assert rows_of(table) == {2: ["1", "2"], 3: ["3", "4"]}


def test_csv_invalid_utf8_after_the_sample_is_replaced_with_a_warning(tmp_path: Path) -> None:
    body = "".join(f"lead{i}@example.com,Name {i}\n" for i in range(50_000))  # > 1 MB
    path = tmp_path / "late.csv"
    path.write_bytes(("Email,Name\n" + body).encode() + b"late@example.com,Zo\xeb\n")
    table = open_table(path)
    assert table.encoding == "utf-8" and table.warnings == []
    rows = rows_of(table)
    assert len(rows) == 50_001
    assert rows[50_002] == ["late@example.com", "Zo\ufffd"]
    assert len(table.warnings) == 1 and "not valid utf-8" in table.warnings[0]


def test_csv_sheet_argument_is_ignored_with_a_warning(tmp_path: Path) -> None:
    table = open_table(write_csv(tmp_path / "a.csv", CUSTOMERS), sheet="Leads")
    assert table.sheet is None
    assert any('"Leads" was ignored' in w for w in table.warnings)


# --- spreadsheets ----------------------------------------------------------

HEADER = ["Name", "Joined", "Called", "Mobile", "Score", "Active", "Midnight"]
DATA = [
    ["Zoë", dt.date(2024, 1, 5), dt.datetime(2024, 1, 5, 13, 4, 5), 9812345678, 0.1, True],
    ["Ana", dt.date(2023, 12, 31), dt.datetime(2024, 2, 29, 23, 59, 59), 9812345678.0, 1e-7, False],
]
MIDNIGHT = dt.datetime(2024, 3, 1, 0, 0)
EXPECTED = {
    2: ["Zoë", "2024-01-05", "2024-01-05 13:04:05", "9812345678", "0.1", "TRUE", "2024-03-01"],
    3: [
        "Ana",
        "2023-12-31",
        "2024-02-29 23:59:59",
        "9812345678",
        "0.0000001",
        "FALSE",
        "2024-03-01",
    ],
}


def write_openpyxl(path: Path, hidden_first: bool = False) -> Path:
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "Notes"
    first.append(["this sheet is not the data"])
    if hidden_first:
        first.sheet_state = "hidden"
    sheet = workbook.create_sheet("Leads") if hidden_first else first
    if not hidden_first:
        sheet.delete_rows(1)
        sheet.title = "Leads"
    sheet.append(HEADER)
    for row in DATA:
        sheet.append([*row, MIDNIGHT])
    workbook.save(path)
    return path


def write_xlsxwriter(path: Path) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Leads")
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    moment = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
    sheet.write_row(0, 0, HEADER)
    for r, row in enumerate(DATA, start=1):
        sheet.write(r, 0, row[0])
        sheet.write_datetime(r, 1, row[1], day)
        sheet.write_datetime(r, 2, row[2], moment)
        sheet.write_number(r, 3, row[3])
        sheet.write_number(r, 4, row[4])
        sheet.write_boolean(r, 5, row[5])
        sheet.write_datetime(r, 6, MIDNIGHT, moment)
    workbook.close()
    return path


def test_xlsx_from_openpyxl(tmp_path: Path) -> None:
    table = open_table(write_openpyxl(tmp_path / "leads.xlsx"))
    assert table.sheet == "Leads"
    assert table.encoding is None and table.delimiter is None
    assert rows_of(table) == EXPECTED


def test_xlsx_from_xlsxwriter(tmp_path: Path) -> None:
    table = open_table(write_xlsxwriter(tmp_path / "Leads.XLSX"))
    assert rows_of(table) == EXPECTED


def test_xls_from_xlwt(tmp_path: Path) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Leads")
    day = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    moment = xlwt.easyxf(num_format_str="DD/MM/YYYY HH:MM:SS")
    for c, name in enumerate(HEADER):
        sheet.write(0, c, name)
    for r, row in enumerate(DATA, start=1):
        sheet.write(r, 0, row[0])
        sheet.write(r, 1, row[1], day)
        sheet.write(r, 2, row[2], moment)
        sheet.write(r, 3, row[3])
        sheet.write(r, 4, row[4])
        sheet.write(r, 5, row[5])
        sheet.write(r, 6, MIDNIGHT, moment)
    book.save(str(tmp_path / "leads.xls"))
    assert rows_of(open_table(tmp_path / "leads.xls")) == EXPECTED


def test_ods_from_pandas(tmp_path: Path) -> None:
    frame = pd.DataFrame([[*row, MIDNIGHT] for row in DATA], columns=HEADER)
    frame.to_excel(tmp_path / "leads.ods", engine="odf", index=False, sheet_name="Leads")
    table = open_table(tmp_path / "leads.ods")
    assert table.sheet == "Leads"
    assert rows_of(table) == EXPECTED


def test_default_sheet_is_first_visible(tmp_path: Path) -> None:
    path = write_openpyxl(tmp_path / "hidden.xlsx", hidden_first=True)
    table = open_table(path)
    assert table.sheet == "Leads"
    assert table.headers == HEADER
    notes = open_table(path, sheet="Notes")  # a hidden sheet can still be asked for
    assert notes.headers == ["this sheet is not the data"]


def test_sheet_by_name_and_missing_sheet(tmp_path: Path) -> None:
    path = write_openpyxl(tmp_path / "hidden.xlsx", hidden_first=True)
    assert open_table(path, sheet=" leads ").sheet == "Leads"
    with pytest.raises(InputFileError) as caught:
        open_table(path, sheet="Deals")
    message = str(caught.value)
    assert '"Deals"' in message and '"Notes" (hidden)' in message and '"Leads"' in message


def test_spreadsheet_blank_rows_keep_row_numbers(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (["Email", "Name"], ["a@x.com", "A"], [None, None], ["  ", "\t"], ["b@x.com", 0]):
        sheet.append(row)
    sheet["A7"] = "c@x.com"
    workbook.save(tmp_path / "gaps.xlsx")
    table = open_table(tmp_path / "gaps.xlsx", chunk_rows=2)
    assert rows_of(table) == {2: ["a@x.com", "A"], 5: ["b@x.com", "0"], 7: ["c@x.com", ""]}
    assert table.blank_rows == 3


def test_empty_and_duplicate_headers(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Email", "Name", None, " email ", "Name", "EMAIL", None, None])
    sheet.append(["a@x.com", "A", "note", "b@x.com", "A2", "c@x.com", None, None])
    sheet["H5"] = "   "  # whitespace only: still no data
    workbook.save(tmp_path / "heads.xlsx")
    table = open_table(tmp_path / "heads.xlsx")
    assert table.headers == ["Email", "Name", "Column C", "email (2)", "Name (2)", "EMAIL (3)"]
    assert table.original_headers == ["Email", "Name", "", " email ", "Name", "EMAIL"]
    assert table.duplicate_headers == {
        "email": ["Email", "email (2)", "EMAIL (3)"],
        "name": ["Name", "Name (2)"],
    }
    assert 'Column C has data but no header; it is kept as "Column C"' in table.warnings
    assert (
        'Header "Name" appears in columns B and E; the second is kept as "Name (2)"'
        in table.warnings
    )
    assert any("columns A, D and F" in w for w in table.warnings)
    assert rows_of(table)[2] == ["a@x.com", "A", "note", "b@x.com", "A2", "c@x.com"]


def test_header_not_starting_in_column_a(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["B1"], sheet["C1"] = "Email", "Name"
    sheet["B2"], sheet["C2"], sheet["E2"] = "a@x.com", "A", "stray"
    workbook.save(tmp_path / "offset.xlsx")
    table = open_table(tmp_path / "offset.xlsx")
    assert table.headers == ["Email", "Name", "Column E"]
    assert rows_of(table) == {2: ["a@x.com", "A", "stray"]}


def test_misnamed_workbook_is_read_by_content(tmp_path: Path) -> None:
    path = write_xlsxwriter(tmp_path / "export.xls")
    table = open_table(path)
    assert rows_of(table) == EXPECTED
    assert "read by content" in table.warnings[0]


# --- chunks ----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_small_chunks_equal_one_chunk_and_reiterate(tmp_path: Path, suffix: str) -> None:
    rows = [["Email", "Amount"]] + [[f"l{i}@x.com", str(i)] for i in range(10)]
    rows[5] = ["", ""]
    path = tmp_path / f"ten{suffix}"
    if suffix == ".csv":
        write_csv(path, rows)
    else:
        frame = pd.DataFrame(rows[1:], columns=rows[0])
        frame.to_excel(path, index=False, engine="openpyxl")
    whole = pd.concat(list(open_table(path).chunks()))
    table = open_table(path, chunk_rows=3)
    first = list(table.chunks())
    assert all(len(chunk) <= 3 for chunk in first)
    pd.testing.assert_frame_equal(pd.concat(first), whole)
    assert table.blank_rows == 1
    second = list(table.chunks())
    assert table.blank_rows == 1  # reset at the start of each pass, not doubled
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert list(whole.index) == [2, 3, 4, 5, 7, 8, 9, 10, 11]


def test_header_only_yields_no_frames(tmp_path: Path) -> None:
    (tmp_path / "head.csv").write_text("Email,Name\n")
    table = open_table(tmp_path / "head.csv")
    assert table.headers == ["Email", "Name"]
    assert list(table.chunks()) == []


# --- errors ----------------------------------------------------------------


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="does not exist"):
        open_table(tmp_path / "nope.csv")
    with pytest.raises(InputFileError, match="is a folder"):
        open_table(tmp_path)


def test_unsupported_extension_names_the_supported_ones(tmp_path: Path) -> None:
    (tmp_path / "leads.pdf").write_bytes(b"%PDF")
    with pytest.raises(UserError) as caught:
        open_table(tmp_path / "leads.pdf")
    assert ".csv" in str(caught.value) and ".ods" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.xlsx", b"Email,Name\nx,y\n", "bad.xlsx is not a valid Excel workbook"),
        ("bad.xls", b"<html><table></table></html>", "not a valid Excel 97-2003 workbook"),
        ("bad.ods", b"PK\x03\x04broken", "not a valid OpenDocument spreadsheet"),
        ("empty.csv", b"", "empty.csv is empty"),
        ("bom.csv", b"\xef\xbb\xbf", "bom.csv is empty"),
        ("blank.csv", b" , \nx,y\n", "Row 1 of blank.csv is blank"),
        ("binary.csv", b"PK\x03\x04\x00\x00\x01", "not a text file"),
        ("quote.csv", b'a,b\n1,"open\n2,3\n', "cannot be read as CSV"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        table = open_table(tmp_path / name)
        list(table.chunks())


def test_empty_sheet_and_blank_first_row(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Empty"
    second = workbook.create_sheet("Late")
    second["A3"] = "Email"
    workbook.save(tmp_path / "odd.xlsx")
    with pytest.raises(InputFileError, match='Sheet "Empty" of odd.xlsx is empty'):
        open_table(tmp_path / "odd.xlsx")
    with pytest.raises(InputFileError, match='Row 1 of sheet "Late" of odd.xlsx is blank'):
        open_table(tmp_path / "odd.xlsx", sheet="Late")


def test_normalize_header() -> None:
    assert normalize_header("  E-mail Address\t") == "e-mail address"
    assert normalize_header("STRASSE") == normalize_header("straße")


def test_one_column_csv_keeps_commas_in_its_data(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("Notes\nhello, world\nbye\n")
    table = open_table(tmp_path / "notes.csv")
    assert table.headers == ["Notes"]
    assert rows_of(table) == {2: ["hello, world"], 3: ["bye"]}
    assert table.warnings == []


def test_stopping_early_then_reading_again(tmp_path: Path) -> None:
    rows = [["Email"]] + [[f"l{i}@x.com"] for i in range(10)]
    table = open_table(write_csv(tmp_path / "ten.csv", rows), chunk_rows=4)
    first = next(iter(table.chunks()))
    assert first.index[0] == 2 and len(first) <= 4
    assert len(rows_of(table)) == 10


# --- cells that read as empty but are not; totals rows ----------------------

ERROR_CODES = ["#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NULL!", "#NUM!"]


def test_xlsx_error_cells_read_as_the_error_they_show(tmp_path: Path) -> None:
    path = tmp_path / "errors.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Name", "Amount"])
    for row, code in enumerate(ERROR_CODES, start=1):
        sheet.write(row, 0, f"r{row}")
        sheet.write_formula(row, 1, "=NA()", None, code)
    sheet.write_formula(len(ERROR_CODES) + 1, 1, "=2+3", None, 5)
    book.close()
    table = open_table(path)
    rows = rows_of(table)
    assert [rows[n][1] for n in range(2, 2 + len(ERROR_CODES))] == ERROR_CODES
    assert rows[len(ERROR_CODES) + 2] == ["", "5"]
    assert table.cell_problems == {}


def test_xls_error_cells_read_as_the_error_they_show(tmp_path: Path) -> None:
    path = tmp_path / "errors.xls"
    book = xlwt.Workbook()
    sheet = book.add_sheet("Leads")
    sheet.write(0, 0, "Name")
    sheet.write(0, 1, "Amount")
    sheet.write(1, 0, "a")
    sheet.row(1).set_cell_error(1, 0x2A)  # #N/A
    sheet.write(2, 0, "b")
    sheet.write(2, 1, 7)
    book.save(str(path))
    assert rows_of(open_table(path)) == {2: ["a", "#N/A"], 3: ["b", "7"]}


def test_xlsx_formulas_without_values_are_cell_problems(tmp_path: Path) -> None:
    path = tmp_path / "unsaved.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Amount", "Note"])
    sheet.append(["a", "=SUM(1,2)", "x"])
    sheet.append([None, "=NA()", None])  # only a formula: not a blank row
    sheet.append(["c", 3, "=CONCAT(A1)"])
    book.save(path)
    table = open_table(path)
    rows = rows_of(table)
    assert sorted(rows) == [2, 3, 4]
    assert rows[3] == ["", "", ""]
    assert table.cell_problems == {
        (2, "Amount"): "formula",
        (3, "Amount"): "formula",
        (4, "Note"): "formula",
    }


def test_calculated_formulas_are_not_problems(tmp_path: Path) -> None:
    path = tmp_path / "calculated.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Name", "Amount", "Label"])
    sheet.write_row(1, 0, ["a", 1])
    sheet.write_formula(1, 1, "=1", None, 1)
    sheet.write_formula(1, 2, '=""', None, "")  # a formula whose value is empty text
    book.close()
    table = open_table(path)
    assert rows_of(table) == {2: ["a", "1", ""]}


@pytest.mark.parametrize("label", ["Total", "Grand Total", "TOTALS", "total:", " Grand total: "])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_trailing_totals_row_is_skipped_and_counted(
    tmp_path: Path, label: str, suffix: str
) -> None:
    rows = [["Name", "Amount", "Count"], ["a", "1,20,000", "1"], ["b", "5", "2"]]
    rows += [["", "", ""], [label, "1,20,005", ""], ["", "", ""]]
    path = tmp_path / f"totals{suffix}"
    if suffix == ".csv":
        write_csv(path, rows)
    else:
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append([cell or None for cell in row])
        book.save(path)
    table = open_table(path, chunk_rows=2)
    assert sorted(rows_of(table)) == [2, 3]
    assert table.total_rows == 1


@pytest.mark.parametrize(
    "rows",
    [
        [["a", "1"], ["Total", "1"], ["b", "2"]],  # not the last row
        [["a", "1"], ["Total", "many"]],  # a cell that is not a number
        [["a", "1"], ["Subtotals are below", "1"]],
    ],
)
def test_rows_that_only_look_like_totals_are_kept(tmp_path: Path, rows: list[list[str]]) -> None:
    path = write_csv(tmp_path / "data.csv", [["Name", "Amount"], *rows])
    table = open_table(path, chunk_rows=1)
    assert len(rows_of(table)) == len(rows)
    assert table.total_rows == 0


def test_error_cells_below_a_title_block_keep_their_rows(tmp_path: Path) -> None:
    path = tmp_path / "titled.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write(0, 0, "Loan export, January")
    sheet.write_row(2, 1, ["Name", "Amount"])
    sheet.write(3, 1, "a")
    sheet.write_formula(3, 2, "=NA()", None, "#N/A")
    sheet.write_row(4, 1, ["b", 5])
    book.close()
    table = open_table(path, header_row=3)
    assert rows_of(table) == {4: ["a", "#N/A"], 5: ["b", "5"]}


def test_merged_cells_are_reported_with_their_range_never_silently_blank(tmp_path: Path) -> None:
    from importer.io.tables import open_table

    path = tmp_path / "merged.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Email", "First Name", "City"])
    sheet.append(["a@example.com", "Asha", "Pune"])
    sheet.append(["b@example.com", "Ravi", None])
    sheet.append(["c@example.com", "Meena", None])
    sheet.merge_cells("C2:C4")  # one city typed once for three rows
    book.save(path)

    table = open_table(path, sheet=None)

    assert any(
        "Merged cells C2:C4" in warning and "only in the first cell" in warning
        for warning in table.warnings
    )
