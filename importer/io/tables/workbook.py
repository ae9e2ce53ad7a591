"""XLSX, XLSM, XLS and ODS sheets through python-calamine, streamed in chunks of text."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any

import pandas as pd
from python_calamine import (
    CalamineError,
    CalamineSheet,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from importer.core.errors import InputFileError
from importer.io.tables.cells import is_blank, row_texts
from importer.io.tables.formula_cells import HiddenCells, find_hidden_cells
from importer.io.tables.headers import (
    HEADER_SCAN_ROWS,
    Header,
    build_header,
    column_letter,
    normalize_header,
)
from importer.io.tables.table import (
    CellProblem,
    Table,
    choose_header_row,
    frame_of,
    make_table,
    require_header,
)

_FORMAT_NAMES = {
    ".xlsx": "Excel workbook",
    ".xlsm": "Excel workbook",
    ".xls": "Excel 97-2003 workbook",
    ".ods": "OpenDocument spreadsheet",
}


def _load_workbook(path: Path, by_content: bool) -> CalamineWorkbook:
    """Open with calamine, by extension or (for a misnamed file) by content."""
    if by_content:
        with path.open("rb") as handle:
            return CalamineWorkbook.from_filelike(handle)
    return CalamineWorkbook.from_path(path)


def _open_workbook_checked(path: Path) -> tuple[CalamineWorkbook, bool]:
    """Open a workbook; translate calamine's errors into one user sentence."""
    kind = _FORMAT_NAMES[path.suffix.lower()]
    try:
        return _load_workbook(path, by_content=False), False
    except PasswordError:
        raise InputFileError(
            f"{path.name} is password-protected; save it without a password"
        ) from None
    except (CalamineError, OSError, ValueError) as first:
        try:  # an .xlsx saved as .xls (or the reverse) is common in exports
            return _load_workbook(path, by_content=True), True
        except (CalamineError, OSError, ValueError):
            raise InputFileError(f"{path.name} is not a valid {kind}") from first


def _choose_sheet(path: Path, workbook: CalamineWorkbook, wanted: str | None) -> str:
    """The sheet named by the user, else the first visible worksheet."""
    metadata = workbook.sheets_metadata
    if wanted is not None:
        names = [m.name for m in metadata]
        if wanted in names:
            return wanted
        loose = [n for n in names if normalize_header(n) == normalize_header(wanted)]
        if len(loose) == 1:
            return loose[0]
        listing = ", ".join(
            f'"{m.name}"' + ("" if m.visible == SheetVisibleEnum.Visible else " (hidden)")
            for m in metadata
        )
        raise InputFileError(f'{path.name} has no sheet "{wanted}"; its sheets are: {listing}')
    worksheets = [m for m in metadata if m.typ == SheetTypeEnum.WorkSheet] or metadata
    visible = [m for m in worksheets if m.visible == SheetVisibleEnum.Visible] or worksheets
    if not visible:
        raise InputFileError(f"{path.name} has no sheets")
    return visible[0].name


def _read_sheet(path: Path, workbook: CalamineWorkbook, name: str) -> CalamineSheet:
    try:
        return workbook.get_sheet_by_name(name)
    except (CalamineError, ValueError) as error:
        raise InputFileError(f'Sheet "{name}" of {path.name} cannot be read') from error


@dataclass
class _SheetSource:
    """Rows of one worksheet, streamed from calamine and turned into text."""

    path: Path
    sheet: str
    by_content: bool
    header: Header
    width: int
    chunk_rows: int
    header_row: int  # calamine yields rows from row 1: this many rows precede the data
    # calamine parses a whole sheet even to read its header: the first pass
    # reuses what open_table parsed instead of parsing the file twice
    parsed: CalamineSheet | None = field(default=None, repr=False)
    # row number → (index in the row's texts, Excel error shown) for cells calamine reads as ""
    shown_errors: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    unusable_rows: set[int] = field(default_factory=set)  # rows holding an unsaved formula

    def frames(self, table: Table, *, typed: bool = False) -> Iterator[pd.DataFrame]:
        data, self.parsed = self.parsed, None
        if data is None:
            data = self._parse()
        rows = data.iter_rows()
        del data
        for _ in range(self.header_row):  # the header and any title block above it
            next(rows, None)
        yield from self._frames(table, rows, typed)

    def _parse(self) -> CalamineSheet:
        try:
            workbook = _load_workbook(self.path, self.by_content)
        except (CalamineError, OSError, ValueError) as error:
            raise InputFileError(f"{self.path.name} can no longer be read") from error
        with workbook:
            return _read_sheet(self.path, workbook, self.sheet)

    def _frames(
        self, table: Table, rows: Iterator[list[Any]], typed: bool
    ) -> Iterator[pd.DataFrame]:
        indexes = self.header.indexes
        pick = None if indexes == list(range(self.width)) else indexes
        batch: list[list[Any]] = []
        numbers: list[int] = []
        read = 0
        for row_number, row in enumerate(rows, start=self.header_row + 1):
            cells = row if pick is None else [row[i] for i in pick]
            texts = row_texts(cells)
            for index, code in self.shown_errors.get(row_number, ()):
                texts[index] = cells[index] = code  # calamine's row list is ours to change
            if is_blank(texts) and row_number not in self.unusable_rows:
                table.blank_rows += 1
            else:
                batch.append(cells if typed else texts)
                numbers.append(row_number)
            read += 1
            if read == self.chunk_rows:
                if batch:
                    yield frame_of(batch, numbers, self.header.labels, typed)
                batch, numbers, read = [], [], 0
        if batch:
            yield frame_of(batch, numbers, self.header.labels, typed)


def open_workbook_table(
    path: Path, sheet: str | None, chunk_rows: int, header_row: int | None = None
) -> Table:
    workbook, by_content = _open_workbook_checked(path)
    with workbook:
        name = _choose_sheet(path, workbook, sheet)
        data = _read_sheet(path, workbook, name)
        start = data.start
        if start is None:
            raise InputFileError(f'Sheet "{name}" of {path.name} is empty: there is no header row')
        rows = data.iter_rows()  # from row 1, even when the first rows are empty
        head = [row_texts(row) for row in islice(rows, max(HEADER_SCAN_ROWS, header_row or 0))]
        row, detected = choose_header_row(head, header_row)
        cells = head[row - 1] if row <= len(head) else []
        require_header(cells, f'sheet "{name}" of {path.name}', row)
        below: Iterator[list[Any]] = chain(head[row:], rows)  # only blankness is asked

        def has_data(columns: list[int]) -> set[int]:
            return _sheet_columns_with_data(below, columns)

        # calamine starts every row at the first used column, not at column A
        header = build_header(cells, has_data, column_offset=start[1])
    warnings = list(header.warnings) + _merged_cells(data, row)
    if by_content:
        warnings.insert(0, f"{path.name} does not match its extension; it was read by content")
    source = _SheetSource(path, name, by_content, header, len(cells), chunk_rows, row, data)
    table = make_table(path, name, header, warnings, None, None, source, (row, detected))
    _place_hidden_cells(find_hidden_cells(path, name, by_content), start[1], source, table)
    return table


MERGED_SHOWN = 10  # merged ranges named one by one; more are counted


def _merged_cells(sheet: Any, header_row: int) -> list[str]:
    """Merged cells below the headers: Excel keeps the value in the first cell only, so the
    others read as empty. Say so, naming each range, rather than leave them silently blank."""
    ranges = getattr(sheet, "merged_cell_ranges", None) or []
    named = []
    for (top, left), (bottom, right) in ranges:
        if bottom + 1 <= header_row or (top, left) == (bottom, right):
            continue
        first = f"{column_letter(left)}{top + 1}"
        named.append(f"{first}:{column_letter(right)}{bottom + 1}")
    if not named:
        return []
    shown = ", ".join(named[:MERGED_SHOWN]) + (
        f" and {len(named) - MERGED_SHOWN} more" if len(named) > MERGED_SHOWN else ""
    )
    return [
        f"Merged cells {shown}: the value stands only in the first cell of each range, so the "
        "other cells read as empty; unmerge them and fill each cell (Excel: Merge & Center › "
        "Unmerge Cells)"
    ]


def _place_hidden_cells(
    hidden: HiddenCells, first_column: int, source: _SheetSource, table: Table
) -> None:
    """Error cells become the text they show; unsaved formulas become the table's cell problems."""
    index_of = {position: index for index, position in enumerate(source.header.indexes)}
    for (row_number, column), code in hidden.errors.items():
        index = index_of.get(column - first_column)
        if index is not None and row_number > table.header_row:
            source.shown_errors.setdefault(row_number, []).append((index, code))
    for row_number, column in hidden.uncalculated:
        index = index_of.get(column - first_column)
        if index is not None and row_number > table.header_row:
            source.unusable_rows.add(row_number)
            label = source.header.labels[index]
            table.cell_problems[(row_number, label)] = CellProblem.UNCALCULATED


def _sheet_columns_with_data(rows: Iterator[list[Any]], columns: list[int]) -> set[int]:
    """Which of `columns` hold a non-blank cell below the header."""
    found: set[int] = set()
    wanted = set(columns)
    for row in rows:
        for i in wanted - found:
            value = row[i]
            if value.__class__ is not str or value.strip():
                found.add(i)
        if found == wanted:
            break
    return found
