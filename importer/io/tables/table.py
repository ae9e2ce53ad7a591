"""A Table: one sheet (or CSV file) with its header read and its rows still on disk.

Every value comes out as the text a user sees in the file (numbers without a
trailing `.0`, dates as `yyyy-mm-dd`), indexed by the row number a spreadsheet
shows, so later stages and the results workbook can point at the exact row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from importer.core.errors import InputFileError
from importer.io.tables.headers import Header

INDEX_NAME = "RowNumber"
HEADER_ROW = 1  # the header is row 1, as every spreadsheet numbers it


class TableSource(Protocol):
    """Where a Table's rows come from; one per file format."""

    def frames(self, table: Table) -> Iterator[pd.DataFrame]: ...


@dataclass
class Table:
    """One sheet (or CSV file) with its header read and its rows still on disk."""

    path: Path
    sheet: str | None
    headers: list[str]
    original_headers: list[str]
    duplicate_headers: dict[str, list[str]]
    warnings: list[str]
    blank_rows: int
    encoding: str | None
    delimiter: str | None
    _source: TableSource | None = field(default=None, repr=False, compare=False)

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Frames of text indexed by RowNumber; each call reads the file again from the top."""
        if self._source is None:
            return iter(())
        self.blank_rows = 0
        return self._source.frames(self)

    def warn(self, message: str) -> None:
        """Record a warning once, however many chunks or passes run into it."""
        if message not in self.warnings:
            self.warnings.append(message)


def frame_of(rows: list[list[str]], numbers: list[int], labels: list[str]) -> pd.DataFrame:
    index = pd.Index(numbers, dtype="int64", name=INDEX_NAME)
    return pd.DataFrame(rows, columns=labels, index=index, dtype=str)


def require_header(cells: list[str], where: str) -> None:
    """The header is row 1; a blank row 1 means the table does not start where it must."""
    if not any(cell.strip() for cell in cells):
        raise InputFileError(f"Row 1 of {where} is blank; the header must be on row 1")


def make_table(
    path: Path,
    sheet: str | None,
    header: Header,
    warnings: list[str],
    encoding: str | None,
    delimiter: str | None,
    source: TableSource,
) -> Table:
    return Table(
        path=path,
        sheet=sheet,
        headers=header.labels,
        original_headers=header.original,
        duplicate_headers=header.duplicates,
        warnings=warnings,
        blank_rows=0,
        encoding=encoding,
        delimiter=delimiter,
        _source=source,
    )
