"""Fixing bad cells in place: the page's edits written into a copy of the file, in its format.

The copy is what is checked again (by the same validation) and what is imported, and it
can be downloaded: a CSV stays a CSV (its encoding and delimiter kept), an XLSX an XLSX
with every other cell, format and sheet as it was; an edited cell keeps its kind (a
number stays a number, a date a date) when the new text reads as one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from importer.commands.followup import rewrite
from importer.core.errors import UserError
from importer.core.outcomes import RowStatus
from importer.core.progress import Counters
from importer.io.tables import normalize_header
from importer.io.tables.delimited import csv_dialect
from importer.io.tables.headers import build_header
from importer.io.workbooks.reader import CellValue, ResultRow, ResultsReader
from importer.io.workbooks.results import input_name

FIXABLE = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")


@dataclass(frozen=True)
class CellFix:
    """One edited cell: the spreadsheet row, the column header, the new text."""

    row_number: int
    column: str
    text: str


def fix_sentences(changed: list[dict[str, Any]]) -> list[str]:
    """`Row 5, Email: "x" → "x@y.in" (fixed on the page)`: the Summary line of each fix."""

    def shown(text: object) -> str:
        return f'"{text}"' if str(text) != "" else "(blank)"

    return [
        f"Row {fix['row']}, {fix['column']}: {shown(fix['old'])} → {shown(fix['new'])} "
        "(fixed on the page)"
        for fix in changed
    ]


def apply_fixes(
    source: Path, target: Path, fixes: list[CellFix], *, sheet: str | None, header_row: int
) -> Path:
    """Write `source` with `fixes` applied to `target` (same format); `target` is returned."""
    suffix = source.suffix.lower()
    if suffix not in FIXABLE:
        raise UserError(
            f"Cells of a {suffix} file cannot be fixed on the page: fix them in the file "
            "(or save it as .xlsx or .csv) and check it again"
        )
    if suffix in (".xlsx", ".xlsm"):
        _fix_workbook(source, target, fixes, sheet=sheet, header_row=header_row)
    else:
        _fix_delimited(source, target, fixes, header_row=header_row)
    return target


def _fix_delimited(source: Path, target: Path, fixes: list[CellFix], *, header_row: int) -> None:
    encoding, delimiter = csv_dialect(source, header_row)
    text = source.read_bytes().decode(encoding, errors="replace")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    for fix in fixes:
        where = fix.row_number - 1
        column = _position(rows[header_row - 1], fix.column)
        if column is None or not 0 <= where < len(rows):
            raise UserError(f"Row {fix.row_number}, {fix.column} is not a cell of the file")
        line = rows[where]
        line.extend([""] * (column + 1 - len(line)))
        line[column] = fix.text
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    try:
        target.write_bytes(out.getvalue().encode(encoding))
    except UnicodeEncodeError:  # a typed value the file's code page lacks (₹ in Windows-1252)
        target.write_bytes(out.getvalue().encode("utf-8-sig"))


def _fix_workbook(
    source: Path, target: Path, fixes: list[CellFix], *, sheet: str | None, header_row: int
) -> None:
    import openpyxl

    # data_only: a formula is kept as the value Excel last worked out. openpyxl cannot
    # compute formulas, and a copy saved with them would hold no values to check or send.
    book = openpyxl.load_workbook(source, data_only=True, keep_vba=source.suffix.lower() == ".xlsm")
    visible = [ws for ws in book.worksheets if ws.sheet_state == "visible"]
    page = book[sheet] if sheet else (visible or book.worksheets)[0]
    header = ["" if cell.value is None else str(cell.value) for cell in page[header_row]]
    for fix in fixes:
        column = _position(header, fix.column)
        if column is None:
            raise UserError(f"Row {fix.row_number}, {fix.column} is not a cell of the file")
        cell = page.cell(row=fix.row_number, column=column + 1)
        cell.value = _as_kind(fix.text, cell.value)
        if isinstance(cell.value, str):
            cell.data_type = "s"  # "=HYPERLINK(...)" typed on the page stays text, never a formula
    book.save(target)


def _position(header: list[str], column: str) -> int | None:
    """Where the column the check calls `column` sits in the header row: labelled as the
    reader labels it (a second "Email" is "Email (2)", a blank one "Column D")."""
    labelled = build_header(header, lambda blank: set(blank))
    wanted = normalize_header(column)
    for position, label in zip(labelled.indexes, labelled.labels, strict=True):
        if normalize_header(label) == wanted:
            return position
    return None


def _as_kind(text: str, old: object) -> str | int | float | datetime:
    """The new text as the kind of value the cell held, when it reads as one."""
    stripped = text.strip()
    if isinstance(old, bool) or not stripped:
        return text
    if isinstance(old, int | float):
        try:
            number = float(stripped.replace(",", ""))
        except ValueError:
            return text
        return int(number) if number.is_integer() and isinstance(old, int) else number
    if isinstance(old, datetime | date):
        try:
            return datetime.fromisoformat(stripped)
        except ValueError:
            return text
    return text


def fix_failed_rows(results_path: Path, fixes: list[CellFix], fixed: list[str]) -> int:
    """Write typed values into the input cells of Failure rows in a results workbook (the
    page's fixes of failed rows), so that `retry` sees them changed and sends them.

    `fixed` (a sentence each) goes into the Summary. Returns the number of cells written;
    the workbook is read and written once.
    """
    written = 0
    with ResultsReader(results_path) as reader:
        layout = reader.layout
        at = {input_name(layout.header[i]).strip().casefold(): i for i in layout.inputs}
        wanted: dict[int, dict[int, str]] = {}
        for fix in fixes:
            column = at.get(fix.column.strip().casefold())
            if column is None:
                raise UserError(
                    f"Row {fix.row_number}, {fix.column} is not a column of the results"
                )
            wanted.setdefault(fix.row_number, {})[column] = fix.text

        def cells_of(row: ResultRow) -> list[CellValue]:
            nonlocal written
            texts = wanted.get(row.outcome.row_number)
            if not texts or row.outcome.status != RowStatus.FAILURE:
                return row.cells
            cells = list(row.cells)
            cells.extend([None] * (max(texts) + 1 - len(cells)))  # a row cut short of blanks
            for i, text in texts.items():
                cells[i] = _as_kind(text, cells[i])  # a number stays a number
            written += len(texts)
            return cells

        if wanted:
            rewrite(
                reader,
                {},
                Counters(),
                datetime.now(),
                "Fixed on the page",
                cells_of=cells_of,
                fixed=fixed,
            )
    return written
