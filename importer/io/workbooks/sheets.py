"""Writing xlsx sheets safely: streamed, atomic, no formulas, status colours.

Writing streams through xlsxwriter in constant-memory mode, so a million rows cost
little RAM; every text is written as a string, so nothing a user typed can become
a formula; the file is built beside its target and renamed only once complete.
A cell can be flagged (`Flagged`): filled in the Failure colour, with a note saying why.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from itertools import chain, islice
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import XlsxFileError
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_range
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from importer.core.errors import UserError
from importer.core.outcomes import STATUS_COLOURS, RowStatus

# Excel's hard limits: rows per sheet (the header takes one) and UTF-16 units per cell.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL_CHARS = 32_767
TRUNCATION_MARK = "…"

# Column widths are estimated from the header and this many leading rows.
WIDTH_SAMPLE_ROWS = 200
MIN_COLUMN_WIDTH = 8
MAX_COLUMN_WIDTH = 60

_WORKBOOK_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "constant_memory": True,
    # zipfile only emits ZIP64 records for a part over 4 GB, so this costs nothing
    # for ordinary files and keeps a huge Results sheet writable.
    "use_zip64": True,
}

# Characters XML 1.0 cannot hold (tab, newline and carriage return are allowed),
# lone surrogates (e.g. from a surrogateescape decode) and the two non-characters.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Notes (cell comments) are kept in memory until the workbook closes, and Excel grows slow
# to open with tens of thousands: past this many in one workbook, cells are flagged by
# colour alone (their messages are in the Errors sheet and the row's Message).
MAX_NOTES = 10_000
NOTE_OPTIONS: dict[str, Any] = {"author": "lsq-import", "x_scale": 2.0, "y_scale": 1.5}

Value = str | int | float | bool | datetime | date | time_of_day | timedelta | None


@dataclass(frozen=True, slots=True)
class Flagged:
    """A cell to be seen: filled in the Failure colour, with `note` as its cell note."""

    value: Value
    note: str | None = None


Cell = Value | Flagged
# (column, {cell text: the status whose colour it gets}): how a sheet colours a column.
Colouring = tuple[int, Mapping[str, RowStatus]]
STATUS_WORDS: dict[str, RowStatus] = {str(status): status for status in RowStatus}


@dataclass(frozen=True)
class Looks:
    """One look (a fill, or none) in each number format a cell may need."""

    plain: Format | None
    date: Format
    moment: Format  # a date with a time
    clock: Format  # a time of day

    @classmethod
    def add_to(cls, workbook: Workbook, properties: dict[str, Any] | None = None) -> Looks:
        shown = properties or {}

        def look(number_format: str) -> Format:
            return workbook.add_format({**shown, "num_format": number_format})

        return cls(
            plain=workbook.add_format(shown) if shown else None,
            date=look("yyyy-mm-dd"),
            moment=look("yyyy-mm-dd hh:mm:ss"),
            clock=look("hh:mm:ss"),
        )


@dataclass
class Styles:
    """The formats a workbook's sheets share (xlsxwriter formats belong to one workbook)."""

    header: Format
    status: dict[RowStatus, Format]
    cells: Looks
    flagged: Looks  # a bad cell: the Failure colours
    notes_left: int = MAX_NOTES

    @property
    def date(self) -> Format:
        return self.cells.date

    @property
    def moment(self) -> Format:
        return self.cells.moment

    @classmethod
    def add_to(cls, workbook: Workbook) -> Styles:
        header = workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "bottom": 1, "text_wrap": False}
        )
        status = {
            name: workbook.add_format({"bg_color": fill, "font_color": text})
            for name, (fill, text) in STATUS_COLOURS.items()
        }
        fill, text = STATUS_COLOURS[RowStatus.FAILURE]
        flagged = Looks.add_to(workbook, {"bg_color": fill, "font_color": text})
        return cls(header=header, status=status, cells=Looks.add_to(workbook), flagged=flagged)


def write_workbook(path: Path, fill: Callable[[Workbook, Styles], None]) -> Path:
    """Build a workbook beside `path` and move it into place only once it is complete."""
    with (
        _atomic_target(path) as partial,
        tempfile.TemporaryDirectory(prefix="lsq-import-", ignore_cleanup_errors=True) as scratch,
    ):
        workbook = xlsxwriter.Workbook(str(partial), {**_WORKBOOK_OPTIONS, "tmpdir": scratch})
        fill(workbook, Styles.add_to(workbook))
        try:
            workbook.close()
        except XlsxFileError as exc:
            raise _cannot_write(path, exc) from exc
    return path


@contextmanager
def _atomic_target(path: Path) -> Iterator[Path]:
    """Yield a temporary name in the target's folder; replace the target only on success.

    A crash or error never leaves a half-written workbook where a good one was.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    partial = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    try:
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise _cannot_write(path, exc) from exc


def _cannot_write(path: Path, exc: Exception) -> UserError:
    """One line for the user (folder missing rights, file open elsewhere, disk full)."""
    return UserError(f"cannot write {path}: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    """The OS's words for a write failure, without a traceback."""
    cause = exc.args[0] if isinstance(exc, XlsxFileError) and exc.args else exc
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(cause)


def write_table(
    workbook: Workbook,
    styles: Styles,
    name: str,
    headers: list[str],
    rows: Iterable[Sequence[Cell]],
    rows_per_sheet: int,
    coloured: Colouring | None = None,
) -> None:
    """Stream rows under one header, opening `Name (2)`, `Name (3)`... when a sheet is full.

    constant_memory needs column widths before any data: the first rows are
    buffered to size the columns, then the rest are streamed.
    """
    stream = iter(rows)
    sample = list(islice(stream, WIDTH_SAMPLE_ROWS))
    widths = _column_widths(headers, sample)
    sheet = _start_sheet(workbook, styles, name, headers, widths)
    sheets, row = 1, 0
    for cells in chain(sample, stream):
        if row == rows_per_sheet:
            _finish_sheet(sheet, styles, len(headers), row, coloured)
            sheets += 1
            sheet = _start_sheet(workbook, styles, f"{name} ({sheets})", headers, widths)
            row = 0
        row += 1
        _write_row(sheet, styles, row, cells)
    _finish_sheet(sheet, styles, len(headers), row, coloured)


def _start_sheet(
    workbook: Workbook, styles: Styles, name: str, headers: list[str], widths: list[float]
) -> Worksheet:
    """A new sheet with its column widths, a bold frozen header row."""
    sheet = workbook.add_worksheet(name)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    for column, header in enumerate(headers):
        sheet.write_string(0, column, _cell_text(header), styles.header)
    return sheet


def _finish_sheet(
    sheet: Worksheet, styles: Styles, width: int, last_row: int, coloured: Colouring | None
) -> None:
    """Filter over the used range, status colours, and no "number stored as text" flags."""
    last_column = max(width - 1, 0)
    sheet.autofilter(0, 0, last_row, last_column)
    sheet.ignore_errors({"number_stored_as_text": xl_range(0, 0, max(last_row, 1), last_column)})
    if coloured is None or last_row < 1:
        return
    status_column, words = coloured
    for word, status in words.items():
        sheet.conditional_format(
            1,
            status_column,
            last_row,
            status_column,
            {
                "type": "cell",
                "criteria": "==",
                "value": f'"{word}"',
                "format": styles.status[status],
            },
        )


def _write_row(sheet: Worksheet, styles: Styles, row: int, cells: Sequence[Cell]) -> None:
    """Each cell in its kind (number, date, yes/no), text always as a string; blanks left out
    unless flagged."""
    for column, value in enumerate(cells):
        if value.__class__ is str:  # the common case first: a million rows of text
            if value:
                sheet.write_string(row, column, _cell_text(value))
        elif isinstance(value, Flagged):
            _write_cell(sheet, row, column, value.value, styles.flagged)
            if value.note and styles.notes_left > 0:
                styles.notes_left -= 1
                sheet.write_comment(row, column, _cell_text(value.note), NOTE_OPTIONS)
        elif value is not None and value != "":
            _write_cell(sheet, row, column, value, styles.cells)


def _write_cell(sheet: Worksheet, row: int, column: int, value: Value, looks: Looks) -> None:
    if value is None or value == "":
        sheet.write_blank(row, column, None, looks.plain)
    elif isinstance(value, str):
        sheet.write_string(row, column, _cell_text(value), looks.plain)
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value, looks.plain)
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value, looks.plain)
    elif isinstance(value, datetime):
        timed = value.hour or value.minute or value.second
        sheet.write_datetime(row, column, value, looks.moment if timed else looks.date)
    elif isinstance(value, date):
        sheet.write_datetime(row, column, value, looks.date)
    elif isinstance(value, time_of_day):
        sheet.write_datetime(row, column, value, looks.clock)
    else:
        sheet.write_string(row, column, _cell_text(str(value)), looks.plain)


def _cell_text(text: str) -> str:
    """Text a cell can hold: no XML-illegal characters, at most 32,767 UTF-16 units."""
    if _XML_ILLEGAL.search(text):
        text = _XML_ILLEGAL.sub("", text)
    # Excel counts UTF-16 units; a text under half the limit cannot exceed it.
    if len(text) <= EXCEL_MAX_CELL_CHARS // 2:
        return text
    units = text.encode("utf-16-le")
    if len(units) <= 2 * EXCEL_MAX_CELL_CHARS:
        return text
    # Keep room for the mark; a surrogate pair cut in half is dropped.
    kept = units[: 2 * (EXCEL_MAX_CELL_CHARS - len(TRUNCATION_MARK))]
    return kept.decode("utf-16-le", errors="ignore") + TRUNCATION_MARK


def _column_widths(headers: list[str], sample: list[Sequence[Cell]]) -> list[float]:
    """Widths fitted to the header and the sampled rows, within sensible bounds."""
    widths = [len(header) + 3.0 for header in headers]  # bold header plus the filter button
    for cells in sample:
        for column, value in enumerate(cells[: len(widths)]):
            if isinstance(value, Flagged):
                value = value.value
            if value is None or value == "":
                continue
            longest_line = max(len(line) for line in str(value).split("\n"))
            widths[column] = max(widths[column], longest_line + 1.0)
    return [min(max(width, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH) for width in widths]
