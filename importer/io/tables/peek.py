"""The first rows of every sheet of a file, as text: where the headers might be.

Used when a mapping's columns are missing (is the table on another sheet, or lower
down?) and when drafting a mapping (which sheet holds the data?). Never on the
path of an import that works.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from python_calamine import CalamineError, SheetTypeEnum, SheetVisibleEnum

from importer.core.conventions import DELIMITED_SUFFIXES
from importer.core.errors import InputFileError
from importer.io.tables.cells import row_texts
from importer.io.tables.delimited import _csv_head, _sniff_delimiter, _sniff_encoding
from importer.io.tables.headers import HEADER_SCAN_ROWS, find_header_row
from importer.io.tables.workbook import _open_workbook_checked


@dataclass(frozen=True)
class SheetPeek:
    """The first rows of one sheet (None: a CSV file's only table)."""

    name: str | None
    visible: bool
    rows: list[list[str]]  # from row 1, blank rows included

    @property
    def header_row(self) -> int:
        """The row `open_table` would take for the headers."""
        return find_header_row(self.rows)

    def headers_at(self, row: int) -> list[str]:
        """The non-blank cells of a row (1-based), trimmed."""
        if not 1 <= row <= len(self.rows):
            return []
        return [cell.strip() for cell in self.rows[row - 1] if cell.strip()]


def peek_sheets(path: str | Path, rows: int = HEADER_SCAN_ROWS) -> list[SheetPeek]:
    """Every worksheet's first `rows` rows; unreadable sheets are left out."""
    path = Path(path)
    if path.suffix.lower() in DELIMITED_SUFFIXES:
        sample = _sniff_encoding(path)
        delimiter = _sniff_delimiter(sample.text)
        return [SheetPeek(None, True, _csv_head(path, sample.text, delimiter, rows))]
    workbook, _by_content = _open_workbook_checked(path)
    peeks = []
    with workbook:
        for meta in workbook.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            try:
                sheet = workbook.get_sheet_by_name(meta.name)
            except (CalamineError, ValueError):
                continue
            head = [row_texts(row) for row in islice(sheet.iter_rows(), rows)]
            visible = meta.visible == SheetVisibleEnum.Visible
            peeks.append(SheetPeek(meta.name, visible, head))
    if not peeks:
        raise InputFileError(f"{path.name} has no sheets")
    return peeks
