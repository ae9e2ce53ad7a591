"""The validation report: the dry run's Rows, Errors, Summary and Preview sheets.

`Rows` is the sheet a person fixes the file from: every input row as the file has it,
whether it is valid, and each bad cell filled in the Failure colour with its message as
a cell note. It streams like the results workbook (constant memory), so a million rows
cost no more RAM than ten.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from xlsxwriter.workbook import Workbook

from importer.core.conventions import PREVIEW_ROWS
from importer.core.errors import UserError
from importer.core.outcomes import RowError, RowStatus
from importer.io.tables.table import TypedCell
from importer.io.workbooks.results import INPUT_MARK, write_errors
from importer.io.workbooks.sheets import (
    EXCEL_MAX_ROWS,
    Cell,
    Flagged,
    Styles,
    write_table,
    write_workbook,
)
from importer.io.workbooks.summary import Summary, write_summary

REPORT_SUFFIX = ".xlsx"
ROWS_SHEET = "Rows"
PREVIEW_SHEET = "Preview"
ROWS_COLUMNS: tuple[str, ...] = ("RowNumber", "Valid", "Message")
VALID, NOT_VALID = "Yes", "No"
_VALID_COLOURS = {VALID: RowStatus.SUCCESS, NOT_VALID: RowStatus.INVALID}


@dataclass(frozen=True)
class InputRows:
    """The input as the Rows sheet shows it: headers as the file has them, and its rows."""

    headers: list[str]  # as the file spells them
    labels: list[str]  # the loader's labels (duplicates numbered): what RowError.column holds
    rows: Iterable[tuple[int, Sequence[TypedCell]]]  # (RowNumber, cells in their kind)


@dataclass(frozen=True)
class PreviewTable:
    """The Preview sheet: column titles (RowNumber first) and one line per payload."""

    titles: list[str]
    rows: Sequence[Sequence[Cell]]


def check_report_path(path: Path) -> Path:
    """The report is an Excel workbook: any other suffix is refused before anything is read."""
    if path.suffix.lower() != REPORT_SUFFIX:
        raise UserError(
            f"The validation report is an Excel workbook: give it a name ending in .xlsx, "
            f"not {path.name}"
        )
    return path


def write_validation_report(
    path: Path,
    *,
    errors: Sequence[RowError],
    summary: Summary,
    preview: PreviewTable,
    inputs: InputRows | None = None,
) -> Path:
    """Write the dry-run report atomically and return its path.

    Sheets `Rows` (when `inputs` is given), `Errors` and `Summary` as in the results
    workbook, and `Preview`: the first 50 payloads, one column per LeadSquared field.
    """
    check_report_path(Path(path))

    def fill(workbook: Workbook, styles: Styles) -> None:
        if inputs is not None:
            write_rows(workbook, styles, inputs, errors)
        write_errors(workbook, styles, errors, EXCEL_MAX_ROWS - 1)
        write_summary(workbook, styles, summary)
        lines = list(preview.rows[:PREVIEW_ROWS])
        write_table(workbook, styles, PREVIEW_SHEET, list(preview.titles), lines, PREVIEW_ROWS)

    return write_workbook(Path(path), fill)


def write_rows(
    workbook: Workbook, styles: Styles, inputs: InputRows, errors: Iterable[RowError]
) -> None:
    """The `Rows` sheet: input cells, then RowNumber, Valid and the row's messages."""
    width = len(inputs.headers)
    headers = [*map(_shown_header, inputs.headers), *ROWS_COLUMNS]
    by_row: dict[int, list[RowError]] = defaultdict(list)
    for error in errors:
        by_row[error.row_number].append(error)
    place = _Placer(inputs.labels)
    lines = (
        _row_cells(row_number, cells, width, by_row.get(row_number, []), place)
        for row_number, cells in inputs.rows
    )
    write_table(
        workbook,
        styles,
        ROWS_SHEET,
        headers,
        lines,
        EXCEL_MAX_ROWS - 1,
        coloured=(width + ROWS_COLUMNS.index("Valid"), _VALID_COLOURS),
    )


def _shown_header(header: str) -> str:
    """An input header equal to one of the sheet's own columns is shown as `Valid (input)`."""
    return f"{header}{INPUT_MARK}" if header.strip() in ROWS_COLUMNS else header


def _row_cells(
    row_number: int,
    cells: Sequence[TypedCell],
    width: int,
    problems: list[RowError],
    place: _Placer,
) -> list[Cell]:
    if not problems and len(cells) == width:
        return [*cells, row_number, VALID, ""]
    values: list[TypedCell] = [*cells[:width], *[""] * (width - len(cells))]
    notes: dict[int, list[str]] = defaultdict(list)
    for error in problems:
        notes[place(error)].append(_note(error))
    line: list[Cell] = [
        Flagged(value, "\n".join(notes[i])) if i in notes else value
        for i, value in enumerate(values)
    ]
    message = "; ".join(error.message for error in problems)
    return [*line, row_number, NOT_VALID if problems else VALID, message]


def _note(error: RowError) -> str:
    """The message without its `Row 5, Email: ` start: the note sits on that very cell."""
    prefix = f"Row {error.row_number}, {error.column}: "
    return error.message[len(prefix) :] if error.message.startswith(prefix) else error.message


class _Placer:
    """Which input column a problem belongs to: its own, else the first one its message names
    (a `unique` repeat, a constant that failed), else the first column."""

    def __init__(self, labels: list[str]) -> None:
        self._index = {label: i for i, label in enumerate(labels)}
        names = sorted(self._index, key=len, reverse=True)
        self._named = (
            re.compile("|".join(re.escape(name) for name in names if name)) if names else None
        )

    def __call__(self, error: RowError) -> int:
        found = self._index.get(error.column)
        if found is not None:
            return found
        if self._named is not None:
            mentions = [
                self._index[match.group(0)] for match in self._named.finditer(error.message)
            ]
            if mentions:
                return mentions[0]
        return 0
