"""Reading a results workbook back (perhaps edited in Excel), for retry, status and verify."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import python_calamine

from importer.core.errors import InputFileError
from importer.core.outcomes import RESULT_COLUMNS, RowError, RowOutcome, RowStatus
from importer.core.text import cell_text
from importer.io.workbooks.results import ERROR_COLUMNS, ERRORS_SHEET, RESULTS_SHEET
from importer.io.workbooks.summary import SUMMARY_SHEET


@dataclass
class ResultsBook:
    """A results workbook read back: what retry, status and verify work from."""

    input_headers: list[str]
    rows: list[tuple[list[str], RowOutcome]]
    errors: list[RowError]
    summary: dict[str, str]
    extra_columns: list[str]


def read_results(path: Path) -> ResultsBook:
    """Read a results workbook written by `write_results` (and perhaps edited in Excel).

    Blank input cells come back as "", blank outcome fields as None, and blank
    extra columns are left out of RowOutcome.extra. Raises InputFileError with
    one line when the file is missing or is not such a workbook.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"results workbook not found: {path}")
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except (python_calamine.CalamineError, OSError) as exc:
        raise _not_results(path) from exc
    with workbook:
        names = set(workbook.sheet_names)
        if RESULTS_SHEET not in names:
            raise _not_results(path, f"it has no {RESULTS_SHEET!r} sheet")
        try:
            return _read_book(path, workbook, names)
        except python_calamine.CalamineError as exc:
            raise _not_results(path) from exc


def _read_book(
    path: Path, workbook: python_calamine.CalamineWorkbook, names: set[str]
) -> ResultsBook:
    header: list[str] | None = None
    start = 0
    rows: list[tuple[list[str], RowOutcome]] = []
    for name in _continued_sheets(RESULTS_SHEET, names):
        lines = _sheet_lines(workbook, name)
        sheet_header = _header(next(lines, []))
        if header is None:
            header, start = sheet_header, _result_columns_at(path, sheet_header)
        elif sheet_header != header:
            raise _not_results(path, f"sheet {name!r} has other columns than {RESULTS_SHEET!r}")
        for line_number, cells in enumerate(lines, start=2):
            if any(value != "" for value in cells):
                rows.append(_parse_result(path, name, line_number, header, start, cells))
    assert header is not None  # the Results sheet exists
    errors = [
        _parse_error(path, name, line_number, cells)
        for name in _continued_sheets(ERRORS_SHEET, names)
        for line_number, cells in enumerate(islice(_sheet_lines(workbook, name), 1, None), 2)
        if any(value != "" for value in cells)
    ]
    return ResultsBook(
        input_headers=header[:start],
        rows=rows,
        errors=errors,
        summary=_read_summary(workbook, names),
        extra_columns=header[start + len(RESULT_COLUMNS) :],
    )


def _header(cells: list[Any]) -> list[str]:
    """Header names, without the blank cells calamine pads a wider sheet with."""
    names = [cell_text(value) for value in cells]
    while names and names[-1] == "":
        names.pop()
    return names


def _not_results(path: Path, why: str = "") -> InputFileError:
    detail = f" ({why})" if why else ""
    return InputFileError(f"{path} is not a results workbook written by lsq-import{detail}")


def _continued_sheets(base: str, names: set[str]) -> Iterator[str]:
    """`Results`, then `Results (2)`, `Results (3)`... as long as they exist."""
    if base not in names:
        return
    yield base
    number = 2
    while f"{base} ({number})" in names:
        yield f"{base} ({number})"
        number += 1


def _sheet_lines(workbook: python_calamine.CalamineWorkbook, name: str) -> Iterator[list[Any]]:
    """Rows from A1 on: calamine starts at the first non-empty cell, so pad back to A1."""
    sheet = workbook.get_sheet_by_name(name)
    if sheet.start is None:
        return
    first_row, first_column = sheet.start
    for _ in range(first_row):
        yield []
    padding = [""] * first_column
    for cells in sheet.iter_rows():
        yield padding + cells if padding else cells


def _result_columns_at(path: Path, header: list[str]) -> int:
    """Where RESULT_COLUMNS start: the last match, in case an input column shares a name."""
    width = len(RESULT_COLUMNS)
    for start in range(len(header) - width, -1, -1):
        if tuple(header[start : start + width]) == RESULT_COLUMNS:
            return start
    raise _not_results(path, f"the {RESULTS_SHEET!r} sheet lacks the result columns")


def _parse_result(
    path: Path, sheet: str, line: int, header: list[str], start: int, cells: list[Any]
) -> tuple[list[str], RowOutcome]:
    """One `Results` line back into input texts and a RowOutcome."""
    cells = cells + [""] * (len(header) - len(cells))
    extra_start = start + len(RESULT_COLUMNS)
    status_text, *fields = (cell_text(value) or None for value in cells[start + 1 : extra_start])
    try:
        row_status = RowStatus(status_text or "")
    except ValueError:
        raise InputFileError(
            f"{path}: sheet {sheet!r} line {line}: unknown Status {status_text or ''!r}"
        ) from None
    created, conflicted, prospect, request_id, exception_type, message = fields
    outcome = RowOutcome(
        row_number=_row_number(path, sheet, line, cells[start]),
        status=row_status,
        created_opportunity_id=created,
        conflicted_opportunity_id=conflicted,
        related_prospect_id=prospect,
        request_id=request_id,
        exception_type=exception_type,
        message=message,
    )
    for name, value in zip(header[extra_start:], cells[extra_start:], strict=False):
        if (text := cell_text(value)) != "":
            outcome.extra[name] = text
    return [cell_text(value) for value in cells[:start]], outcome


def _parse_error(path: Path, sheet: str, line: int, cells: list[Any]) -> RowError:
    cells = cells + [""] * (len(ERROR_COLUMNS) - len(cells))
    return RowError(
        row_number=_row_number(path, sheet, line, cells[0]),
        column=cell_text(cells[1]),
        value=cell_text(cells[2]),
        message=cell_text(cells[3]),
    )


def _read_summary(workbook: python_calamine.CalamineWorkbook, names: set[str]) -> dict[str, str]:
    if SUMMARY_SHEET not in names:
        return {}
    lines = islice(_sheet_lines(workbook, SUMMARY_SHEET), 1, None)
    return {
        cell_text(cells[0]): cell_text(cells[1]) for cells in lines if len(cells) > 1 and cells[0]
    }


def _row_number(path: Path, sheet: str, line: int, value: Any) -> int:
    """RowNumber is written as a number; accept a whole number typed as text too."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer():
        raise InputFileError(
            f"{path}: sheet {sheet!r} line {line}: "
            f"RowNumber {cell_text(value)!r} is not a row number"
        )
    return int(number)
