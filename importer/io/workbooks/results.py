"""The results workbook (CONTRACT section 6): every input row with its outcome."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from xlsxwriter.workbook import Workbook

from importer.core.conventions import SHARE_COLUMNS
from importer.core.outcomes import RESULT_COLUMNS, RowError, RowOutcome
from importer.io.workbooks.sheets import (
    EXCEL_MAX_ROWS,
    STATUS_WORDS,
    Cell,
    Styles,
    write_table,
    write_workbook,
)
from importer.io.workbooks.summary import Summary, write_summary

RESULTS_SHEET = "Results"
ERRORS_SHEET = "Errors"
ERROR_COLUMNS: tuple[str, ...] = ("RowNumber", "Column", "Value", "Message")
# An input header equal to a column of ours is shown as `Status (input)` (CONTRACT 6).
INPUT_MARK = " (input)"
_OURS = frozenset(RESULT_COLUMNS) | frozenset(SHARE_COLUMNS)


def shown_header(header: str) -> str:
    """An input header as the Results sheet shows it: renamed if it is one of our columns."""
    return f"{header}{INPUT_MARK}" if header.strip() in _OURS else header


def input_name(header: str) -> str:
    """The input's own header for a Results header (`Status (input)` -> `Status`)."""
    if header.endswith(INPUT_MARK) and header[: -len(INPUT_MARK)].strip() in _OURS:
        return header[: -len(INPUT_MARK)]
    return header


def write_results(
    path: Path,
    *,
    input_headers: list[str],
    rows: Iterable[tuple[Sequence[Cell], RowOutcome]],
    errors: Iterable[RowError],
    summary: Summary,
    extra_columns: Sequence[str] = (),
    rows_per_sheet: int = EXCEL_MAX_ROWS - 1,
) -> Path:
    """Write the results workbook atomically and return its path.

    Sheet `Results`: the input columns as given (cells in their kind; a header equal to
    one of ours is shown as `Status (input)`), then RESULT_COLUMNS, then `extra_columns`
    (values from RowOutcome.extra). Rows past `rows_per_sheet`
    continue on `Results (2)`, `Results (3)`... (the same for `Errors`). Blank
    outcome fields and "" are written alike: an empty cell.
    """
    if not 1 <= rows_per_sheet < EXCEL_MAX_ROWS:
        raise ValueError(f"rows_per_sheet must be 1 to {EXCEL_MAX_ROWS - 1}, not {rows_per_sheet}")
    headers = [*map(shown_header, input_headers), *RESULT_COLUMNS, *extra_columns]
    status_column = len(input_headers) + RESULT_COLUMNS.index("Status")
    cells = (
        _result_cells(len(input_headers), inputs, outcome, extra_columns)
        for inputs, outcome in rows
    )
    return write_results_sheet(
        path,
        headers=headers,
        lines=cells,
        status_column=status_column,
        errors=errors,
        summary=summary,
        rows_per_sheet=rows_per_sheet,
    )


def write_results_sheet(
    path: Path,
    *,
    headers: list[str],
    lines: Iterable[Sequence[Cell]],
    status_column: int,
    errors: Iterable[RowError],
    summary: Summary,
    rows_per_sheet: int = EXCEL_MAX_ROWS - 1,
) -> Path:
    """A results workbook with these headers and whole lines: `retry` and `status` rewrite
    a workbook in its own layout, keeping every column a user added."""

    def fill(workbook: Workbook, styles: Styles) -> None:
        coloured = (status_column, STATUS_WORDS)
        write_table(workbook, styles, RESULTS_SHEET, headers, lines, rows_per_sheet, coloured)
        write_errors(workbook, styles, errors, rows_per_sheet)
        write_summary(workbook, styles, summary)

    return write_workbook(Path(path), fill)


def _result_cells(
    width: int, inputs: Sequence[Cell], outcome: RowOutcome, extra_columns: Sequence[str]
) -> list[Cell]:
    """One `Results` line: the input cells, the outcome, the extra columns."""
    if len(inputs) != width:
        raise ValueError(
            f"row {outcome.row_number} has {len(inputs)} input cells for {width} input headers"
        )
    return [*inputs, *outcome.as_cells(), *(outcome.extra.get(name) for name in extra_columns)]


def write_errors(
    workbook: Workbook, styles: Styles, errors: Iterable[RowError], rows_per_sheet: int
) -> None:
    lines = ((e.row_number, e.column, e.value, e.message) for e in errors)
    write_table(workbook, styles, ERRORS_SHEET, list(ERROR_COLUMNS), lines, rows_per_sheet)
