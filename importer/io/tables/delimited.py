"""CSV (and other delimited text) through pandas' C parser, chunk by chunk.

Encoding (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252) and
delimiter are decided from the first megabyte; RowNumber stays true to the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.errors import EmptyDataError, ParserError

from importer.core.errors import InputFileError
from importer.io.tables.cells import blank_mask
from importer.io.tables.headers import HEADER_SCAN_ROWS, Header, build_header, column_letter
from importer.io.tables.table import (
    HEADER_ROW,
    INDEX_NAME,
    Table,
    choose_header_row,
    make_table,
    require_header,
)

SNIFF_BYTES = 1 << 20  # encoding is decided from the first 1 MB, never a second full decode
SNIFF_DELIMITER_CHARS = 8 * 1024  # csv.Sniffer's regexes turn slow beyond a few KB
DELIMITERS = ",;\t|"
_TOO_MANY_FIELDS = re.compile(r"Expected \d+ fields")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass
class _Sample:
    """The first megabyte of a CSV file, decoded, and what was learned from it."""

    text: str
    encoding: str
    errors: str
    warnings: list[str]


def csv_dialect(path: Path, header_row: int | None = None) -> tuple[str, str]:
    """(encoding, delimiter) as the loader reads this file: what a rewrite of it keeps."""
    sample = _sniff_encoding(path)
    return sample.encoding, _sniff_delimiter(sample.text, header_row)


def _sniff_encoding(path: Path) -> _Sample:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    with path.open("rb") as handle:
        raw = handle.read(SNIFF_BYTES + 1)
    whole = len(raw) <= SNIFF_BYTES
    raw = raw[:SNIFF_BYTES]
    if raw.startswith(codecs.BOM_UTF8):
        return _decode_sample(path, raw, "utf-8-sig", whole)
    if raw.startswith(_UTF16_BOMS):
        return _decode_sample(path, raw, "utf-16", whole)
    if b"\x00" in raw:
        raise InputFileError(
            f"{path.name} is not a text file; if it is a workbook, give it its real extension"
        )
    for encoding in ("utf-8", "cp1252"):
        try:
            return _Sample(_decode(raw, encoding, "strict", whole), encoding, "strict", [])
        except UnicodeDecodeError:
            continue
    return _decode_sample(path, raw, "cp1252", whole)


def _decode(raw: bytes, encoding: str, errors: str, whole: bool) -> str:
    # incremental: a sample cut inside a multi-byte character is not an error
    return codecs.getincrementaldecoder(encoding)(errors).decode(raw, final=whole)


def _decode_sample(path: Path, raw: bytes, encoding: str, whole: bool) -> _Sample:
    try:
        return _Sample(_decode(raw, encoding, "strict", whole), encoding, "strict", [])
    except UnicodeDecodeError:
        return _Sample(
            _decode(raw, encoding, "replace", whole),
            encoding,
            "replace",
            [_replaced_warning(path, encoding)],
        )


def _replaced_warning(path: Path, encoding: str) -> str:
    return (
        f"{path.name} is not valid {encoding} throughout; "
        "characters that could not be read were replaced with \ufffd"
    )


def _sniff_delimiter(text: str, header_row: int | None = None) -> str:
    """csv.Sniffer among `,;\\t|`, checked against (or replaced by) counts in the header line."""
    first_line = _header_line(text.split("\n", HEADER_SCAN_ROWS + 1)[:HEADER_SCAN_ROWS], header_row)
    sample = text[:SNIFF_DELIMITER_CHARS]
    if len(text) > SNIFF_DELIMITER_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed and sniffed in first_line:
        return sniffed
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties keep the order of DELIMITERS
    if counts[best]:
        return best
    # a one-column file: split on the candidate that cuts its data the least
    return min(DELIMITERS, key=sample.count)


def _header_line(lines: list[str], header_row: int | None) -> str:
    """The line the delimiter is judged on: the header row's, or the first line.

    When the first line holds no delimiter (a title such as "Leads export"), the first
    line followed by one with the same count of some delimiter starts the table.
    """
    if header_row is not None:
        return lines[header_row - 1] if header_row <= len(lines) else ""
    if not lines or any(d in lines[0] for d in DELIMITERS):
        return lines[0] if lines else ""
    filled = [line for line in lines if line.strip()]
    for line, below in zip(filled, filled[1:], strict=False):
        if any(line.count(d) and line.count(d) == below.count(d) for d in DELIMITERS):
            return line
    return lines[0]


def _csv_head(path: Path, text: str, delimiter: str, rows: int) -> list[list[str]]:
    """The first `rows` records of the file, to find the header row in."""
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        return [record for record, _ in zip(reader, range(rows), strict=False)]
    except csv.Error as error:
        raise InputFileError(f"{path.name} cannot be read as CSV: {error}") from error


def _read_csv(
    path: Path,
    encoding: str,
    errors: str,
    delimiter: str,
    chunk_rows: int,
    lead_rows: int = 0,
    **options: Any,
) -> Iterator[pd.DataFrame]:
    """Raw chunks as pandas' C parser reads them, header record included (index 0).

    The first chunk holds `lead_rows` more records (the header and any title above
    it), so a file of N chunks of data is read as N chunks, not N and a straggler.
    """
    try:
        reader = pd.read_csv(
            path,
            sep=delimiter,
            header=None,
            dtype=object,  # every cell is text already: pandas' string array would check each
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,  # keeps RowNumber true to the file
            chunksize=chunk_rows,
            encoding=encoding,
            encoding_errors=errors,
            engine="c",
            **options,
        )
    except EmptyDataError:
        return
    with reader:  # closes the file when a caller stops early or an error escapes
        try:
            first = reader.get_chunk(chunk_rows + lead_rows)
        except StopIteration:
            return
        yield first
        yield from reader


def _csv_columns_with_data(
    path: Path, encoding: str, delimiter: str, chunk_rows: int, columns: list[int], header: int
) -> set[int]:
    """Which of `columns` hold a non-blank cell below the header (one pass over few columns)."""
    found: set[int] = set()
    # "replace": any byte there, readable or not, is data
    for raw in _read_csv(path, encoding, "replace", delimiter, chunk_rows, usecols=columns):
        raw = raw.iloc[max(0, header - int(raw.index[0])) :]  # records up to the header's
        for position, column in enumerate(columns):
            if column not in found and not blank_mask(raw.iloc[:, [position]]).all():
                found.add(column)
        if len(found) == len(columns):
            break
    return found


@dataclass
class _CsvSource:
    """Records of a CSV file read by pandas' C parser, `chunk_rows` at a time."""

    path: Path
    encoding: str
    errors: str
    delimiter: str
    width: int  # fields in the header record
    header: Header
    chunk_rows: int
    header_row: int = HEADER_ROW  # records above it (a title block) are neither data nor blank
    tolerant: bool = False  # a row wider than width+1 was met: stop looking at extra cells
    warned_extra: bool = False

    def frames(self, table: Table, *, typed: bool = False) -> Iterator[pd.DataFrame]:
        """A CSV file holds text only: its typed cells are the same text."""
        done = 0  # data records already yielded, so a re-read resumes after them
        while True:
            try:
                for frame, records in self._frames(table, skip=done):
                    done += records
                    if len(frame):
                        yield frame
                return
            except UnicodeDecodeError as error:
                if self.errors == "replace":
                    raise InputFileError(f"{self.path.name} cannot be decoded") from error
                self.errors = "replace"
                table.warn(_replaced_warning(self.path, self.encoding))
            except ParserError as error:
                if self.tolerant or not _TOO_MANY_FIELDS.search(str(error)):
                    raise InputFileError(_parser_message(self.path, error)) from error
                self.tolerant = True
                self._warn_extra(table, None)

    def _read(self) -> Iterator[pd.DataFrame]:
        if self.tolerant:
            options: dict[str, Any] = {"usecols": list(range(self.width))}
        else:
            # one spare column catches cells beyond the header; a wider row raises
            options = {"names": [str(i) for i in range(self.width + 1)]}
        return _read_csv(
            self.path,
            self.encoding,
            self.errors,
            self.delimiter,
            self.chunk_rows,
            self.header_row,
            **options,
        )

    def _frames(self, table: Table, skip: int) -> Iterator[tuple[pd.DataFrame, int]]:
        """(frame, data records it covers) for every chunk after the first `skip` records."""
        labels, indexes = self.header.labels, self.header.indexes
        # the usual header, columns side by side: a slice is a view, a list a copy
        start = indexes[0] if indexes else 0
        side_by_side = indexes == list(range(start, start + len(indexes)))
        columns = slice(start, start + len(indexes)) if side_by_side else indexes
        for raw in self._read():
            # pandas numbers records from 0 = row 1, so RowNumber = record + 1
            first = int(raw.index[0])
            raw = raw.iloc[max(0, skip + self.header_row - first) :]
            if raw.empty:
                continue
            if not self.tolerant:
                self._check_extra(table, raw.iloc[:, [self.width]])
            frame = raw.iloc[:, columns].set_axis(labels, axis=1)
            blank = blank_mask(frame)
            if blank.any():  # else the frame is kept as it is, not copied
                table.blank_rows += int(blank.sum())
                frame = frame[~blank]
            frame.index = pd.Index(frame.index + HEADER_ROW, dtype="int64", name=INDEX_NAME)
            yield frame, len(raw)

    def _check_extra(self, table: Table, spare: pd.DataFrame) -> None:
        filled = np.flatnonzero(~blank_mask(spare))
        if filled.size:
            self._warn_extra(table, int(spare.index[filled[0]]) + HEADER_ROW)

    def _warn_extra(self, table: Table, row_number: int | None) -> None:
        if self.warned_extra:
            return
        self.warned_extra = True
        where = f" (first at row {row_number})" if row_number else ""
        table.warn(
            f"Some rows have more cells than the header{where}; "
            f"cells beyond column {column_letter(self.width - 1)} are ignored"
        )


def _parser_message(path: Path, error: ParserError) -> str:
    reason = str(error).strip().removeprefix("Error tokenizing data. C error: ")
    return f"{path.name} cannot be read as CSV: {reason}"


def open_delimited(
    path: Path, sheet: str | None, chunk_rows: int, header_row: int | None = None
) -> Table:
    sample = _sniff_encoding(path)
    if not sample.text:
        raise InputFileError(f"{path.name} is empty")
    delimiter = _sniff_delimiter(sample.text, header_row)
    head = _csv_head(path, sample.text, delimiter, max(HEADER_SCAN_ROWS, header_row or 0))
    row, detected = choose_header_row(head, header_row)
    cells = head[row - 1] if row <= len(head) else []
    require_header(cells, path.name, row)

    def has_data(columns: list[int]) -> set[int]:
        return _csv_columns_with_data(path, sample.encoding, delimiter, chunk_rows, columns, row)

    try:
        header = build_header(cells, has_data)
    except ParserError as error:
        raise InputFileError(_parser_message(path, error)) from error
    source = _CsvSource(
        path, sample.encoding, sample.errors, delimiter, len(cells), header, chunk_rows, row
    )
    warnings = [*sample.warnings, *header.warnings]
    if sheet is not None:
        warnings.append(f'{path.name} is a CSV file, which has no sheets; "{sheet}" was ignored')
    return make_table(
        path, None, header, warnings, sample.encoding, delimiter, source, (row, detected)
    )
