"""The workbooks lsq-import writes (results, validation report) and reads back.

CONTRACT section 6 is the spec. Writing streams through xlsxwriter in
constant-memory mode, so a million rows cost little RAM; every text is written
as a string, so nothing a user typed can become a formula. Reading back (for
`retry`, `status`, `verify`) goes through python-calamine, which is fast.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain, islice
from pathlib import Path
from typing import Any

import python_calamine
import xlsxwriter
from xlsxwriter.exceptions import XlsxFileError
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_range
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from importer.core.errors import InputFileError, UserError
from importer.core.outcomes import RESULT_COLUMNS, RowError, RowOutcome, RowStatus
from importer.core.text import cell_text

RESULTS_SHEET = "Results"
ERRORS_SHEET = "Errors"
SUMMARY_SHEET = "Summary"
PREVIEW_SHEET = "Preview"
ERROR_COLUMNS: tuple[str, ...] = ("RowNumber", "Column", "Value", "Message")
SUMMARY_COLUMNS: tuple[str, ...] = ("Item", "Value")
PREVIEW_COLUMNS: tuple[str, ...] = ("RowNumber", "SearchBy", "SearchValue", "Payload")
PREVIEW_ROWS = 50

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

Cell = str | int | float | None

# Status colours: Excel's own Good / Neutral / Bad styles.
_STATUS_STYLES: dict[str, dict[str, str]] = {
    "good": {"bg_color": "#C6EFCE", "font_color": "#006100"},
    "neutral": {"bg_color": "#FFEB9C", "font_color": "#9C5700"},
    "bad": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
}
_STATUS_STYLE_OF: dict[RowStatus, str] = {
    RowStatus.SUCCESS: "good",
    RowStatus.PARTIAL_SUCCESS: "neutral",
    RowStatus.PENDING: "neutral",
    RowStatus.FAILURE: "bad",
    RowStatus.INVALID: "bad",
}


@dataclass
class Summary:
    """What a run or a validation did, for the two-column `Summary` sheet.

    `counts` is keyed by RowStatus value; any other key (e.g. "Skipped (blank)")
    is listed after the statuses. `extra` holds further lines (rows read, sheet,
    rate, state dir...) shown last, in the order given.
    """

    counts: dict[str, int]
    input_name: str
    input_sha256: str
    mapping: str
    mode: str  # "async", "sync" or "validate"
    started: datetime
    finished: datetime
    api_calls: int = 0
    rate_limited: int = 0
    retries: int = 0
    extra: dict[str, str | int] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str | int]]:
        """The (Item, Value) lines: what ran, then counts per status, then API usage."""
        lines: list[tuple[str, str | int]] = [
            ("Input", self.input_name),
            ("Input SHA-256", self.input_sha256),
            ("Mapping", self.mapping),
            ("Mode", self.mode),
            ("Started", _timestamp(self.started)),
            ("Finished", _timestamp(self.finished)),
            ("Duration", _duration(self.finished - self.started)),
        ]
        if self.mode == "validate":  # a dry run: no API verdicts, no calls
            lines += [(str(key), int(n)) for key, n in self.counts.items()]
            lines += [(key, value) for key, value in self.extra.items() if value != ""]
            return lines
        statuses = [status.value for status in RowStatus]
        lines += [(status, int(self.counts.get(status, 0))) for status in statuses]
        lines.append(("Total rows", sum(int(self.counts.get(status, 0)) for status in statuses)))
        lines += [(str(key), int(n)) for key, n in self.counts.items() if key not in statuses]
        lines += [
            ("API calls", self.api_calls),
            ("Rate limited (429)", self.rate_limited),
            ("Retries", self.retries),
        ]
        lines += list(self.extra.items())
        return lines


@dataclass
class ResultsBook:
    """A results workbook read back: what retry, status and verify work from."""

    input_headers: list[str]
    rows: list[tuple[list[str], RowOutcome]]
    errors: list[RowError]
    summary: dict[str, str]
    extra_columns: list[str]


# ---------------------------------------------------------------- writing


def write_results(
    path: Path,
    *,
    input_headers: list[str],
    rows: Iterable[tuple[Sequence[str], RowOutcome]],
    errors: Iterable[RowError],
    summary: Summary,
    extra_columns: Sequence[str] = (),
    rows_per_sheet: int = EXCEL_MAX_ROWS - 1,
) -> Path:
    """Write the results workbook atomically and return its path.

    Sheet `Results`: the input columns exactly as given, then RESULT_COLUMNS, then
    `extra_columns` (values from RowOutcome.extra). Rows past `rows_per_sheet`
    continue on `Results (2)`, `Results (3)`... (the same for `Errors`). Blank
    outcome fields and "" are written alike: an empty cell.
    """
    if not 1 <= rows_per_sheet < EXCEL_MAX_ROWS:
        raise ValueError(f"rows_per_sheet must be 1 to {EXCEL_MAX_ROWS - 1}, not {rows_per_sheet}")
    headers = [*input_headers, *RESULT_COLUMNS, *extra_columns]
    status_column = len(input_headers) + RESULT_COLUMNS.index("Status")
    cells = (
        _result_cells(len(input_headers), inputs, outcome, extra_columns)
        for inputs, outcome in rows
    )

    def fill(workbook: Workbook, styles: _Styles) -> None:
        _write_table(workbook, styles, RESULTS_SHEET, headers, cells, rows_per_sheet, status_column)
        _write_errors(workbook, styles, errors, rows_per_sheet)
        _write_summary(workbook, styles, summary)

    return _write_workbook(Path(path), fill)


def write_validation_report(
    path: Path,
    *,
    errors: Iterable[RowError],
    summary: Summary,
    preview: Sequence[tuple[int, dict[str, Any]]],
) -> Path:
    """Write the dry-run report atomically and return its path.

    Sheets `Errors` and `Summary` as in the results workbook, and `Preview`: the
    first 50 payloads as they would be sent, one per line with the columns
    RowNumber, SearchBy (the lead attribute used to find the lead, or
    `ProspectOpportunityId` for an update), SearchValue (its value) and Payload
    (the JSON body on one line).
    """

    def fill(workbook: Workbook, styles: _Styles) -> None:
        _write_errors(workbook, styles, errors, EXCEL_MAX_ROWS - 1)
        _write_summary(workbook, styles, summary)
        lines = (_preview_cells(row_number, body) for row_number, body in preview[:PREVIEW_ROWS])
        _write_table(workbook, styles, PREVIEW_SHEET, list(PREVIEW_COLUMNS), lines, PREVIEW_ROWS)

    return _write_workbook(Path(path), fill)


@dataclass(frozen=True)
class _Styles:
    """The formats a workbook's sheets share (xlsxwriter formats belong to one workbook)."""

    header: Format
    status: dict[str, Format]

    @classmethod
    def add_to(cls, workbook: Workbook) -> _Styles:
        header = workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "bottom": 1, "text_wrap": False}
        )
        status = {name: workbook.add_format(props) for name, props in _STATUS_STYLES.items()}
        return cls(header=header, status=status)


def _write_workbook(path: Path, fill: Callable[[Workbook, _Styles], None]) -> Path:
    """Build a workbook beside `path` and move it into place only once it is complete."""
    with (
        _atomic_target(path) as partial,
        tempfile.TemporaryDirectory(prefix="lsq-import-", ignore_cleanup_errors=True) as scratch,
    ):
        workbook = xlsxwriter.Workbook(str(partial), {**_WORKBOOK_OPTIONS, "tmpdir": scratch})
        fill(workbook, _Styles.add_to(workbook))
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


def _write_table(
    workbook: Workbook,
    styles: _Styles,
    name: str,
    headers: list[str],
    rows: Iterable[Sequence[Cell]],
    rows_per_sheet: int,
    status_column: int | None = None,
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
            _finish_sheet(sheet, styles, len(headers), row, status_column)
            sheets += 1
            sheet = _start_sheet(workbook, styles, f"{name} ({sheets})", headers, widths)
            row = 0
        row += 1
        _write_row(sheet, row, cells)
    _finish_sheet(sheet, styles, len(headers), row, status_column)


def _start_sheet(
    workbook: Workbook, styles: _Styles, name: str, headers: list[str], widths: list[float]
) -> Worksheet:
    """A new sheet with its column widths, a bold frozen header row."""
    sheet = workbook.add_worksheet(name)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    for column, header in enumerate(headers):
        sheet.write_string(0, column, _cellcell_text(header), styles.header)
    return sheet


def _finish_sheet(
    sheet: Worksheet, styles: _Styles, width: int, last_row: int, status_column: int | None
) -> None:
    """Filter over the used range, status colours, and no "number stored as text" flags."""
    last_column = max(width - 1, 0)
    sheet.autofilter(0, 0, last_row, last_column)
    sheet.ignore_errors({"number_stored_as_text": xl_range(0, 0, max(last_row, 1), last_column)})
    if status_column is None or last_row < 1:
        return
    for status, style in _STATUS_STYLE_OF.items():
        sheet.conditional_format(
            1,
            status_column,
            last_row,
            status_column,
            {
                "type": "cell",
                "criteria": "==",
                "value": f'"{status.value}"',
                "format": styles.status[style],
            },
        )


def _write_row(sheet: Worksheet, row: int, cells: Sequence[Cell]) -> None:
    """Numbers as numbers, text always as a string; empty cells are left out."""
    for column, value in enumerate(cells):
        if value is None or value == "":
            continue
        if isinstance(value, str):
            sheet.write_string(row, column, _cellcell_text(value))
        elif isinstance(value, bool):
            sheet.write_string(row, column, str(value))
        elif isinstance(value, int | float):
            sheet.write_number(row, column, value)
        else:
            sheet.write_string(row, column, _cellcell_text(str(value)))


def _cellcell_text(text: str) -> str:
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
            if value is None or value == "":
                continue
            longest_line = max(len(line) for line in str(value).split("\n"))
            widths[column] = max(widths[column], longest_line + 1.0)
    return [min(max(width, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH) for width in widths]


def _result_cells(
    width: int, inputs: Sequence[str], outcome: RowOutcome, extra_columns: Sequence[str]
) -> list[Cell]:
    """One `Results` line: the input texts, the outcome, the extra columns."""
    if len(inputs) != width:
        raise ValueError(
            f"row {outcome.row_number} has {len(inputs)} input cells for {width} input headers"
        )
    texts: list[Cell] = [value if value is None else str(value) for value in inputs]
    return [*texts, *outcome.as_cells(), *(outcome.extra.get(name) for name in extra_columns)]


def _write_errors(
    workbook: Workbook, styles: _Styles, errors: Iterable[RowError], rows_per_sheet: int
) -> None:
    lines = ((e.row_number, e.column, e.value, e.message) for e in errors)
    _write_table(workbook, styles, ERRORS_SHEET, list(ERROR_COLUMNS), lines, rows_per_sheet)


def _write_summary(workbook: Workbook, styles: _Styles, summary: Summary) -> None:
    lines = summary.rows()
    _write_table(workbook, styles, SUMMARY_SHEET, list(SUMMARY_COLUMNS), lines, EXCEL_MAX_ROWS - 1)


def _preview_cells(row_number: int, body: Any) -> list[Cell]:
    """RowNumber, SearchBy, SearchValue and the body as one line of JSON."""
    search_by, search_value = _search_key(body)
    payload = json.dumps(body, ensure_ascii=False, separators=(", ", ": "), default=str)
    return [row_number, search_by, search_value, payload]


def _search_key(body: Any) -> tuple[str, str]:
    """What finds the record: the capture's SearchBy attribute, or an update's opportunity id."""
    if not isinstance(body, dict):
        return "", ""
    if "ProspectOpportunityId" in body:
        return "ProspectOpportunityId", str(body["ProspectOpportunityId"] or "")
    details = body.get("LeadDetails")
    if not isinstance(details, list):
        return "", ""
    attributes = {
        str(item.get("Attribute")): item.get("Value") for item in details if isinstance(item, dict)
    }
    search_by = str(attributes.get("SearchBy") or "")
    return search_by, str(attributes.get(search_by) or "")


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds")


def _duration(span: timedelta) -> str:
    return str(timedelta(seconds=round(span.total_seconds())))


# ---------------------------------------------------------------- reading


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
    status, *fields = (cell_text(value) or None for value in cells[start + 1 : extra_start])
    try:
        row_status = RowStatus(status)
    except ValueError:
        raise InputFileError(
            f"{path}: sheet {sheet!r} line {line}: unknown Status {status or ''!r}"
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


# ---------------------------------------------------------------- reconciliation (verify)

RECONCILIATION_SHEET = "Reconciliation"
RECONCILIATION_COLUMNS: tuple[str, ...] = (
    "RowNumber",
    "OpportunityId",
    "LeadId",
    "Result",
    "Field",
    "Sent",
    "Stored",
    "Message",
)
# Result words of the Reconciliation sheet, with the colour each is shown in.
RECONCILIATION_STYLES: dict[str, str] = {
    "Present": "good",
    "Differs": "neutral",
    "Not checked": "neutral",
    "Missing": "bad",
}


def write_reconciliation(
    path: Path,
    *,
    lines: Iterable[Sequence[Cell]],
    summary: Sequence[tuple[str, str | int]],
) -> Path:
    """Write `verify`'s workbook atomically: a `Reconciliation` line per finding, a `Summary`.

    `lines` hold the values of RECONCILIATION_COLUMNS in order; texts stay texts (no formulas).
    """
    result_column = RECONCILIATION_COLUMNS.index("Result")

    def fill(workbook: Workbook, styles: _Styles) -> None:
        counted = _CountingLines(lines)
        _write_table(
            workbook,
            styles,
            RECONCILIATION_SHEET,
            list(RECONCILIATION_COLUMNS),
            counted,
            EXCEL_MAX_ROWS - 1,
        )
        sheet = workbook.get_worksheet_by_name(RECONCILIATION_SHEET)
        if sheet is not None and counted.count:
            for word, style in RECONCILIATION_STYLES.items():
                sheet.conditional_format(
                    1,
                    result_column,
                    min(counted.count, EXCEL_MAX_ROWS - 1),
                    result_column,
                    {
                        "type": "cell",
                        "criteria": "==",
                        "value": f'"{word}"',
                        "format": styles.status[style],
                    },
                )
        rows = list(summary)
        _write_table(
            workbook, styles, SUMMARY_SHEET, list(SUMMARY_COLUMNS), rows, EXCEL_MAX_ROWS - 1
        )

    return _write_workbook(Path(path), fill)


class _CountingLines:
    """Passes lines through to the sheet writer, counting them for the colour ranges."""

    def __init__(self, lines: Iterable[Sequence[Cell]]) -> None:
        self._lines = iter(lines)
        self.count = 0

    def __iter__(self) -> Iterator[Sequence[Cell]]:
        for line in self._lines:
            self.count += 1
            yield line
