"""Stage one: read CSV, XLSX, XLS and ODS files into frames of text, chunk by chunk."""

from __future__ import annotations

from pathlib import Path

from importer.core.conventions import DELIMITED_SUFFIXES, INPUT_SUFFIXES
from importer.core.errors import InputFileError
from importer.io.tables.delimited import open_delimited
from importer.io.tables.headers import column_letter, find_header_row, normalize_header
from importer.io.tables.table import CellProblem, Table
from importer.io.tables.workbook import open_workbook_table

__all__ = [
    "CellProblem",
    "Table",
    "column_letter",
    "find_header_row",
    "normalize_header",
    "open_table",
]


def open_table(
    path: str | Path,
    sheet: str | None = None,
    chunk_rows: int = 20_000,
    header_row: int | None = None,
) -> Table:
    """Open an input file and read its header; rows are read later by `Table.chunks()`.

    `header_row` is the 1-based row holding the headers; None finds it (row 1 in doubt).
    """
    path = Path(path)
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    if not path.exists():
        raise InputFileError(f'Input file "{path}" does not exist')
    if path.is_dir():
        raise InputFileError(f'Input "{path}" is a folder, not a file')
    suffix = path.suffix.lower()
    if suffix in DELIMITED_SUFFIXES:
        return open_delimited(path, sheet, chunk_rows, header_row)
    if suffix in INPUT_SUFFIXES:
        return open_workbook_table(path, sheet, chunk_rows, header_row)
    supported = ", ".join(INPUT_SUFFIXES[:-1]) + " or " + INPUT_SUFFIXES[-1]
    raise InputFileError(
        f"{path.name} is not a supported input file: use {supported} "
        f'(got "{path.suffix or "no extension"}")'
    )
