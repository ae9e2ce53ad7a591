"""A Table: one sheet (or CSV file) with its header read and its rows still on disk.

Every value comes out as the text a user sees in the file (numbers without a
trailing `.0`, dates as `yyyy-mm-dd`), indexed by the row number a spreadsheet
shows, so later stages and the results workbook can point at the exact row.
The same rows can also be read as typed cells (numbers, dates, yes/no as the file
has them), for the workbooks that show the input back to the user.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import pandas as pd

from importer.core.errors import InputFileError
from importer.io.tables.ahead import read_ahead
from importer.io.tables.headers import Header, find_header_row
from importer.io.tables.totals import without_totals_row

INDEX_NAME = "RowNumber"
HEADER_ROW = 1  # the header row unless a title block sits above it (see find_header_row)


class CellProblem(StrEnum):
    """Why a cell that reads as empty holds no usable value (the validator's rule name)."""

    UNCALCULATED = "formula"  # a formula saved without its value (files written by scripts)


# A cell as the file holds it: text, a number, a yes/no, a date, a date-time, a time of
# day or a duration (python-calamine's kinds); a CSV file's cells are all text.
TypedCell = str | int | float | bool | datetime | date | time | timedelta


class TableSource(Protocol):
    """Where a Table's rows come from; one per file format."""

    def frames(self, table: Table, *, typed: bool = False) -> Iterator[pd.DataFrame]:
        """Frames of the non-blank rows: text, or with `typed` the cells in their kind."""
        ...


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
    header_row: int = 1  # the spreadsheet row the headers were read from
    header_detected: bool = False  # True when found by looking, not given by the caller
    _source: TableSource | None = field(default=None, repr=False, compare=False)
    # (RowNumber, column label) of the few cells that read as empty but are not
    cell_problems: dict[tuple[int, str], CellProblem] = field(default_factory=dict)
    total_rows: int = 0  # trailing totals rows skipped (the Summary's "Totals rows skipped")

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Frames of text indexed by RowNumber; each call reads the file again from the top."""
        if self._source is None:
            return iter(())
        self.blank_rows = 0
        self.total_rows = 0
        return read_ahead(without_totals_row(self._source.frames(self), self))

    def typed_chunks(self) -> Iterator[pd.DataFrame]:
        """The same rows as `chunks()` (same RowNumbers), each cell in its kind (`TypedCell`).

        Excel error cells hold the error they show (`#N/A`); an uncalculated formula is "".
        """
        if self._source is None:
            return iter(())
        self.blank_rows = 0
        self.total_rows = 0
        return without_totals_row(self._source.frames(self, typed=True), self)

    def typed_rows(self) -> Iterator[tuple[int, list[TypedCell]]]:
        """(RowNumber, cells in their kind) of every row `chunks()` yields, in file order."""
        for frame in self.typed_chunks():
            columns = [frame[label].tolist() for label in frame.columns]  # not named tuples
            rows = zip(*columns, strict=True) if columns else ((),) * len(frame)
            for row_number, cells in zip(frame.index.tolist(), rows, strict=True):
                yield row_number, list(cells)

    def warn(self, message: str) -> None:
        """Record a warning once, however many chunks or passes run into it."""
        if message not in self.warnings:
            self.warnings.append(message)


def frame_of(
    rows: list[list[str]] | list[list[TypedCell]],
    numbers: list[int],
    labels: list[str],
    typed: bool = False,
) -> pd.DataFrame:
    """A chunk of rows indexed by RowNumber: text, or (`typed`) Python objects left as they are."""
    index = pd.Index(numbers, dtype="int64", name=INDEX_NAME)
    return pd.DataFrame(rows, columns=labels, index=index, dtype=object if typed else str)


def require_header(cells: list[str], where: str, row: int = HEADER_ROW) -> None:
    """A blank header row means the table does not start where it was looked for."""
    if not any(cell.strip() for cell in cells):
        raise InputFileError(
            f"Row {row} of {where} is blank; give the row that holds the headers with --header-row"
        )


def choose_header_row(rows: list[list[str]], wanted: int | None) -> tuple[int, bool]:
    """(header row, detected?): the caller's row, else the one `find_header_row` picks."""
    if wanted is None:
        return find_header_row(rows), True
    if wanted < 1:
        raise InputFileError(f"--header-row must be 1 or more, not {wanted}")
    return wanted, False


def header_row_warning(table: Table) -> None:
    """Say so when the headers were found below row 1: the rows above are not read."""
    if table.header_detected and table.header_row > HEADER_ROW:
        above = "row 1" if table.header_row == 2 else f"rows 1-{table.header_row - 1}"
        table.warn(
            f"The headers are on row {table.header_row}; {above} above them are not read "
            "(give --header-row to choose another row)"
        )


def make_table(
    path: Path,
    sheet: str | None,
    header: Header,
    warnings: list[str],
    encoding: str | None,
    delimiter: str | None,
    source: TableSource,
    header_row: tuple[int, bool] = (HEADER_ROW, False),
) -> Table:
    table = Table(
        path=path,
        sheet=sheet,
        headers=header.labels,
        original_headers=header.original,
        duplicate_headers=header.duplicates,
        warnings=warnings,
        blank_rows=0,
        encoding=encoding,
        delimiter=delimiter,
        header_row=header_row[0],
        header_detected=header_row[1],
        _source=source,
    )
    header_row_warning(table)
    return table
