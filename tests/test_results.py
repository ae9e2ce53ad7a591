"""The results workbook and the validation report: what a user opens, and what retry reads."""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from support import Book as ResultsBook
from support import read_results

from importer.core.conventions import PREVIEW_ROWS
from importer.core.errors import InputFileError, UserError
from importer.core.outcomes import RESULT_COLUMNS, STATUS_COLOURS, RowError, RowOutcome, RowStatus
from importer.io.workbooks.report import PreviewTable, write_validation_report
from importer.io.workbooks.results import write_results
from importer.io.workbooks.sheets import EXCEL_MAX_CELL_CHARS
from importer.io.workbooks.summary import Summary

HEADERS = ["Email", "First Name", "Mobile", "Loan Amount", "Notes"]
TRICKY = [
    '=HYPERLINK("http://x","y")',
    "+91 98765",
    "-5000",
    "@home",
    "=1+1",
]


def make_summary(**counts: int) -> Summary:
    started = datetime(2024, 5, 1, 9, 30, 0)
    return Summary(
        counts=dict(counts),
        input_name="leads.csv",
        input_sha256="ab" * 32,
        mapping="mapping.yaml",
        mode="async",
        started=started,
        finished=started + timedelta(minutes=5, seconds=12),
        api_calls=7,
        rate_limited=1,
        retries=2,
        extra={"Sheet": "Sheet1", "Rows read": 4},
    )


def sample_rows() -> list[tuple[list[str], RowOutcome]]:
    return [
        (
            ["a@x.com", "  Asha ", "+91 98765", "1,20,000", '=HYPERLINK("http://x","y")'],
            RowOutcome(
                2,
                RowStatus.SUCCESS,
                created_opportunity_id="opp-1",
                related_prospect_id="lead-1",
                request_id="req-1",
                extra={"SharedWith": "user-9", "ShareStatus": "Shared"},
            ),
        ),
        (
            ["b@x.com", "", "-5000", "007", "line one\nline two\r\nthree"],
            RowOutcome(
                3,
                RowStatus.SUCCESS,
                conflicted_opportunity_id="opp-0",
                related_prospect_id="lead-2",
                message="Duplicate: an opportunity with these values already exists",
            ),
        ),
        (
            ["not-an-email", "Ravi", "@home", "", "_x0041_ stays as typed, é 😀"],
            RowOutcome(
                5,
                RowStatus.INVALID,
                message="Email: not a valid email address",
            ),
        ),
        (
            ["c@x.com", "Meera", "", "5000", "=1+1"],
            RowOutcome(
                6,
                RowStatus.FAILURE,
                request_id="req-3",
                exception_type="MXInvalidActivityFieldsException",
                message="Field name : 'mx_Custom_19' of datatype : 'String' is mandatory.",
            ),
        ),
        (
            ["d@x.com", "Dev", "", "", ""],
            RowOutcome(7, RowStatus.PENDING, request_id="req-4"),
        ),
        (
            ["e@x.com", "Esha", "", "", ""],
            RowOutcome(8, RowStatus.PARTIAL_SUCCESS, message="lead saved, opportunity not"),
        ),
    ]


ERRORS = [
    RowError(5, "Email", "not-an-email", "not a valid email address"),
    RowError(5, "Loan Amount", "=2*3", "not a number"),
]


def write_sample(path: Path, **options: object) -> Path:
    return write_results(
        path,
        input_headers=HEADERS,
        rows=sample_rows(),
        errors=ERRORS,
        summary=make_summary(Success=2, Invalid=1, Failure=1, Pending=1, PartialSuccess=1),
        extra_columns=("SharedWith", "ShareStatus"),
        **options,  # type: ignore[arg-type]
    )


def sheet_xml(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        }


# ---------------------------------------------------------------- results


def test_round_trip_gives_back_inputs_and_outcomes(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "leads.results.xlsx")

    book = read_results(path)

    assert isinstance(book, ResultsBook)
    assert book.input_headers == HEADERS
    assert book.extra_columns == ["SharedWith", "ShareStatus"]
    assert book.rows == sample_rows()
    # Blank input cells come back as "", blank outcome fields as None.
    assert book.rows[1][0][1] == ""
    assert book.rows[1][1].created_opportunity_id is None
    assert book.rows[1][1].extra == {}
    assert book.errors == ERRORS
    assert book.summary["Success"] == "2"
    assert book.summary["Input SHA-256"] == "ab" * 32
    assert book.summary["Duration"] == "0:05:12"
    assert book.summary["Rows read"] == "4"


def test_blank_outcome_text_reads_back_as_none(tmp_path: Path) -> None:
    outcome = RowOutcome(2, RowStatus.FAILURE, message="", exception_type="")
    path = write_results(
        tmp_path / "r.xlsx",
        input_headers=["A"],
        rows=[([""], outcome)],
        errors=[],
        summary=make_summary(Failure=1),
    )

    (inputs, back), *_ = read_results(path).rows

    assert inputs == [""]
    assert back.message is None and back.exception_type is None


def test_sheets_and_columns_follow_the_contract(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "r.xlsx")

    workbook = openpyxl.load_workbook(path)

    assert workbook.sheetnames == ["Results", "Errors", "Summary"]
    results = workbook["Results"]
    header = [cell.value for cell in results[1]]
    assert header == [*HEADERS, *RESULT_COLUMNS, "SharedWith", "ShareStatus"]
    assert [cell.value for cell in workbook["Errors"][1]] == [
        "RowNumber",
        "Column",
        "Value",
        "Message",
    ]
    row_number = results.cell(row=2, column=len(HEADERS) + 1)
    assert row_number.value == 2 and row_number.data_type == "n"
    summary = {row[0].value: row[1] for row in workbook["Summary"].iter_rows(min_row=2)}
    assert summary["Success"].value == 2 and summary["Success"].data_type == "n"
    assert summary["Pending"].value == 1
    assert summary["Total rows"].value == 6
    assert summary["Rate limited (429)"].value == 1
    assert summary["Mode"].value == "async"
    assert summary["Started"].value == "2024-05-01 09:30:00"


def test_no_cell_is_ever_a_formula(tmp_path: Path) -> None:
    path = write_results(
        tmp_path / "r.xlsx",
        input_headers=["=Header", "+Other"],
        rows=[
            ([text, text], RowOutcome(2 + i, RowStatus.FAILURE, message=text))
            for i, text in enumerate(TRICKY)
        ],
        errors=[RowError(2, "=Header", text, text) for text in TRICKY],
        summary=make_summary(Failure=len(TRICKY)),
    )

    workbook = openpyxl.load_workbook(path)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
    results = workbook["Results"]
    for i, text in enumerate(TRICKY, start=2):
        assert results.cell(row=i, column=1).value == text
        assert results.cell(row=i, column=2 + len(RESULT_COLUMNS)).value == text
    assert results.cell(row=1, column=1).value == "=Header"
    for name, xml in sheet_xml(path).items():
        assert not re.search(r"<f[\s>/]", xml), f"{name} holds a formula element"


def test_workbook_is_readable(tmp_path: Path) -> None:
    long_note = "word " * 40
    rows = [(["a@x.com", "", "", "", long_note], RowOutcome(2, RowStatus.SUCCESS))]
    path = write_results(
        tmp_path / "r.xlsx",
        input_headers=HEADERS,
        rows=rows,
        errors=[],
        summary=make_summary(Success=1),
    )

    sheet = openpyxl.load_workbook(path)["Results"]

    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{_column_letter(len(HEADERS) + len(RESULT_COLUMNS))}2"
    header = sheet["A1"]
    assert header.font.b
    assert header.fill.fgColor.rgb.endswith("DDEBF7")
    widths = {key: dim.width for key, dim in sheet.column_dimensions.items()}
    assert widths["E"] == pytest.approx(60, abs=1)  # the long note, capped
    assert 8 <= widths["C"] < 15  # "Mobile", short
    status_column = _column_letter(len(HEADERS) + 2)
    rules = {
        rule.formula[0]: rule.dxf.fill.bgColor.rgb
        for cf in sheet.conditional_formatting
        if str(cf.sqref) == f"{status_column}2"
        for rule in cf.rules
    }
    assert set(rules) == {f'"{status}"' for status in RowStatus}
    # Success green, Pending amber, PartialSuccess orange, Failure red, Invalid grey (UI.md).
    for status, (fill, _text) in STATUS_COLOURS.items():
        assert rules[f'"{status}"'].endswith(fill.lstrip("#"))


def _column_letter(number: int) -> str:
    return openpyxl.utils.get_column_letter(number)


def test_rows_past_a_sheet_continue_on_the_next(tmp_path: Path) -> None:
    rows = [([f"r{n}"], RowOutcome(n, RowStatus.SUCCESS)) for n in range(2, 10)]
    errors = [RowError(n, "A", "", "bad") for n in range(2, 9)]
    path = write_results(
        tmp_path / "r.xlsx",
        input_headers=["A"],
        rows=iter(rows),
        errors=iter(errors),
        summary=make_summary(Success=8),
        rows_per_sheet=3,
    )

    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    book = read_results(path)

    assert names == [
        "Results",
        "Results (2)",
        "Results (3)",
        "Errors",
        "Errors (2)",
        "Errors (3)",
        "Summary",
    ]
    assert book.rows == rows
    assert book.errors == errors


def test_long_text_is_truncated_and_illegal_characters_removed(tmp_path: Path) -> None:
    huge = "x" * (EXCEL_MAX_CELL_CHARS + 10)
    emoji = "😀" * EXCEL_MAX_CELL_CHARS  # two UTF-16 units each
    rows = [
        (["bell\x07 and nul\x00 gone", huge], RowOutcome(2, RowStatus.FAILURE, message=emoji)),
    ]
    path = write_results(
        tmp_path / "r.xlsx",
        input_headers=["A", "B"],
        rows=rows,
        errors=[],
        summary=make_summary(Failure=1),
    )

    (inputs, outcome), *_ = read_results(path).rows

    assert inputs[0] == "bell and nul gone"
    assert inputs[1] == "x" * (EXCEL_MAX_CELL_CHARS - 1) + "…"
    assert outcome.message is not None and outcome.message.endswith("😀…")
    assert len(outcome.message.encode("utf-16-le")) <= 2 * EXCEL_MAX_CELL_CHARS


def test_input_column_named_like_a_result_column(tmp_path: Path) -> None:
    headers = ["Status", "RowNumber", "Message"]
    rows = [(["Open", "17", "hello"], RowOutcome(2, RowStatus.SUCCESS, message="done"))]
    path = write_results(
        tmp_path / "r.xlsx",
        input_headers=headers,
        rows=rows,
        errors=[],
        summary=make_summary(Success=1),
    )

    book = read_results(path)

    assert book.input_headers == headers
    assert book.rows == rows


def test_a_workbook_saved_again_by_a_spreadsheet_app_still_reads(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "r.xlsx")
    workbook = openpyxl.load_workbook(path)
    workbook["Results"].cell(row=2, column=len(HEADERS) + 1).value = "2"  # typed as text
    resaved = tmp_path / "resaved.xlsx"
    workbook.save(resaved)

    rows = read_results(resaved).rows

    assert [outcome for _, outcome in rows] == [outcome for _, outcome in sample_rows()]
    assert rows[0][0] == sample_rows()[0][0]


def test_empty_run_still_has_headers(tmp_path: Path) -> None:
    path = write_results(
        tmp_path / "r.xlsx", input_headers=HEADERS, rows=[], errors=[], summary=make_summary()
    )

    book = read_results(path)

    assert book.input_headers == HEADERS
    assert book.rows == [] and book.errors == []
    assert book.summary["Total rows"] == "0"


# ---------------------------------------------------------------- atomic writes


def test_parent_folder_is_created(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "out" / "nested" / "r.xlsx")

    assert path.is_file()


def test_a_failed_write_leaves_the_previous_workbook_untouched(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "r.xlsx")
    before = path.read_bytes()

    def rows_then_crash() -> Iterator[tuple[list[str], RowOutcome]]:
        yield from sample_rows()
        raise RuntimeError("journal went away")

    with pytest.raises(RuntimeError, match="journal went away"):
        write_results(
            path,
            input_headers=HEADERS,
            rows=rows_then_crash(),
            errors=[],
            summary=make_summary(),
            extra_columns=("SharedWith", "ShareStatus"),
        )

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.xlsx"]


def test_an_unwritable_target_is_a_user_error(tmp_path: Path) -> None:
    target = tmp_path / "taken.xlsx"
    target.mkdir()  # a folder where the workbook should go

    with pytest.raises(UserError, match="cannot write .*taken.xlsx"):
        write_sample(target)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.xlsx"]


def test_a_row_of_the_wrong_width_is_a_bug_not_a_workbook(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="row 2 has 1 input cells for 5"):
        write_results(
            tmp_path / "r.xlsx",
            input_headers=HEADERS,
            rows=[(["only one"], RowOutcome(2, RowStatus.SUCCESS))],
            errors=[],
            summary=make_summary(),
        )
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- reading other files


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not found"):
        read_results(tmp_path / "nope.xlsx")


def test_a_csv_is_not_a_results_workbook(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([["Email"], ["a@x.com"]])

    with pytest.raises(InputFileError, match="is not a results workbook written by lsq-import"):
        read_results(path)


def test_an_xlsx_without_a_results_sheet(tmp_path: Path) -> None:
    path = tmp_path / "leads.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Sheet1"
    workbook.active.append(["Email"])
    workbook.save(path)

    with pytest.raises(InputFileError, match="no 'Results' sheet"):
        read_results(path)


def test_a_results_sheet_without_result_columns(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Results"
    workbook.active.append(["Email", "Status"])
    workbook.active.append(["a@x.com", "Success"])
    workbook.save(path)

    with pytest.raises(InputFileError, match="lacks RowNumber"):
        read_results(path)


def test_an_unknown_status_names_the_line(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "r.xlsx")
    workbook = openpyxl.load_workbook(path)
    workbook["Results"].cell(row=3, column=len(HEADERS) + 2).value = "Done"
    workbook.save(path)

    with pytest.raises(InputFileError, match="line 3: unknown Status 'Done'"):
        read_results(path)


# ---------------------------------------------------------------- validation report


def test_validation_report(tmp_path: Path) -> None:
    titles = ["RowNumber", "Email (EmailAddress)", "Deal (mx_Custom_1)", "SearchBy"]
    lines = [[n, f"u{n}@x.com", f"=Deal {n}", "EmailAddress"] for n in range(2, 80)]
    path = write_validation_report(
        tmp_path / "leads.validation.xlsx",
        errors=ERRORS,
        summary=make_summary(Success=70, Invalid=1),
        preview=PreviewTable(titles, lines),
    )

    workbook = openpyxl.load_workbook(path)

    assert workbook.sheetnames == ["Errors", "Summary", "Preview"]  # no rows given: no Rows
    errors = [[cell.value for cell in row] for row in workbook["Errors"].iter_rows(min_row=2)]
    assert errors == [[e.row_number, e.column, e.value, e.message] for e in ERRORS]
    sheet = workbook["Preview"]
    shown = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert shown[0] == titles
    assert len(shown) == 1 + PREVIEW_ROWS
    assert shown[1] == [2, "u2@x.com", "=Deal 2", "EmailAddress"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert sheet.freeze_panes == "A2"


def test_validation_report_is_an_xlsx(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"name ending in \.xlsx, not v\.csv"):
        write_validation_report(
            tmp_path / "v.csv", errors=[], summary=make_summary(), preview=PreviewTable([], [])
        )
    assert not (tmp_path / "v.csv").exists()


def test_summary_rows_order() -> None:
    summary = make_summary(Success=3, **{"Skipped (blank)": 2})

    items = [item for item, _ in summary.rows()]

    assert items[:7] == [
        "Input",
        "Input SHA-256",
        "Mapping",
        "Mode",
        "Started",
        "Finished",
        "Duration",
    ]
    statuses = [status.value for status in RowStatus]
    end = 7 + len(statuses)
    assert items[7:end] == statuses
    assert items[end : end + 2] == ["Total rows", "Skipped (blank)"]
    assert items[end + 2 :] == ["API calls", "Rate limited (429)", "Retries", "Sheet", "Rows read"]
    assert dict(summary.rows())["Total rows"] == 3
