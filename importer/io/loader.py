"""Stage one: read CSV, XLSX, XLS and ODS files into frames of text, chunk by chunk.

Every value comes out as the text a user sees in the file (numbers without a
trailing `.0`, dates as `yyyy-mm-dd`), indexed by the row number a spreadsheet
shows, so later stages and the results workbook can point at the exact row.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from pandas.errors import EmptyDataError, ParserError
from python_calamine import (
    CalamineError,
    CalamineSheet,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from importer.core.errors import InputFileError

__all__ = ["Table", "normalize_header", "open_table"]

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
XLS_SUFFIXES = (".xls",)
ODS_SUFFIXES = (".ods",)
SUPPORTED_SUFFIXES = CSV_SUFFIXES + EXCEL_SUFFIXES + XLS_SUFFIXES + ODS_SUFFIXES
_FORMAT_NAMES = {
    ".xlsx": "Excel workbook",
    ".xlsm": "Excel workbook",
    ".xls": "Excel 97-2003 workbook",
    ".ods": "OpenDocument spreadsheet",
}

SNIFF_BYTES = 1 << 20  # encoding is decided from the first 1 MB, never a second full decode
SNIFF_DELIMITER_CHARS = 8 * 1024  # csv.Sniffer's regexes turn slow beyond a few KB
DELIMITERS = ",;\t|"
INDEX_NAME = "RowNumber"
HEADER_ROW = 1  # the header is row 1, as every spreadsheet numbers it

_TOO_MANY_FIELDS = re.compile(r"Expected \d+ fields")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def normalize_header(text: str) -> str:
    """The form in which a mapping's `column:` and a header cell are compared."""
    return text.strip().casefold()


def column_letter(index: int) -> str:
    """Excel's name for the 0-based column `index` (0 -> A, 27 -> AB)."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


class _Source(Protocol):
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
    _source: _Source | None = field(default=None, repr=False, compare=False)

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


def open_table(path: str | Path, sheet: str | None = None, chunk_rows: int = 20_000) -> Table:
    """Open an input file and read its header; rows are read later by `Table.chunks()`."""
    path = Path(path)
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    if not path.exists():
        raise InputFileError(f'Input file "{path}" does not exist')
    if path.is_dir():
        raise InputFileError(f'Input "{path}" is a folder, not a file')
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _open_csv(path, sheet, chunk_rows)
    if suffix in SUPPORTED_SUFFIXES:
        return _open_workbook_table(path, sheet, chunk_rows)
    supported = ", ".join(SUPPORTED_SUFFIXES[:-1]) + " or " + SUPPORTED_SUFFIXES[-1]
    raise InputFileError(
        f"{path.name} is not a supported input file: use {supported} "
        f'(got "{path.suffix or "no extension"}")'
    )


# --- headers ---------------------------------------------------------------


@dataclass
class _Header:
    """The columns kept from a header row, with their unique labels."""

    indexes: list[int]  # positions in the row, after any leading offset
    labels: list[str]
    original: list[str]
    duplicates: dict[str, list[str]]
    warnings: list[str]


def _build_header(
    cells: list[str], has_data: Callable[[list[int]], set[int]], column_offset: int = 0
) -> _Header:
    """Label the header cells: name unnamed data columns, drop empty ones, number duplicates.

    `has_data` is asked only about columns whose header is blank, since finding
    out means reading every row.
    """
    blank = [i for i, text in enumerate(cells) if not text.strip()]
    with_data = has_data(blank) if blank else set()
    warnings: list[str] = []
    indexes: list[int] = []
    names: list[str] = []
    for i, text in enumerate(cells):
        if text.strip():
            names.append(text.strip())
        elif i in with_data:
            letter = column_letter(i + column_offset)
            names.append(f"Column {letter}")
            warnings.append(
                f'Column {letter} has data but no header; it is kept as "Column {letter}"'
            )
        else:
            continue  # no header and no data: a used range wider than the table
        indexes.append(i)
    labels, duplicates = _unique_labels(names)
    letters = [column_letter(i + column_offset) for i in indexes]
    warnings.extend(_duplicate_warnings(names, labels, letters, duplicates))
    return _Header(indexes, labels, [cells[i] for i in indexes], duplicates, warnings)


def _unique_labels(names: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Append ` (2)`, ` (3)` to later copies of a header (compared as mappings compare them)."""
    taken = {normalize_header(name) for name in names}
    seen: dict[str, int] = {}
    labels: list[str] = []
    duplicates: dict[str, list[str]] = {}
    for name in names:
        key = normalize_header(name)
        copy = seen.get(key, 0) + 1
        seen[key] = copy
        label = name
        if copy > 1:
            label = f"{name} ({copy})"
            while normalize_header(label) in taken:
                copy += 1
                label = f"{name} ({copy})"
            taken.add(normalize_header(label))
        duplicates.setdefault(key, []).append(label)
        labels.append(label)
    return labels, {key: group for key, group in duplicates.items() if len(group) > 1}


def _duplicate_warnings(
    names: list[str], labels: list[str], letters: list[str], duplicates: dict[str, list[str]]
) -> list[str]:
    """One sentence per header that appears more than once."""
    warnings = []
    for group in duplicates.values():
        positions = [labels.index(label) for label in group]
        where = _join([letters[p] for p in positions])
        renamed = _join([f'"{label}"' for label in group[1:]])
        if len(group) == 2:
            tail = f"the second is kept as {renamed}"
        else:
            tail = f"later copies are kept as {renamed}"
        warnings.append(f'Header "{names[positions[0]]}" appears in columns {where}; {tail}')
    return warnings


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --- spreadsheet cells -----------------------------------------------------


def _float_text(value: float) -> str:
    """Plain decimal text: `9812345678.0` -> `9812345678`, `1e-07` -> `0.0000001`."""
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def _datetime_text(value: datetime) -> str:
    """`yyyy-mm-dd hh:mm:ss`, or just the date when the time is exactly midnight."""
    if value.microsecond:
        if value.microsecond >= 500_000:  # an Excel serial may land on hh:mm:59.999
            value += timedelta(seconds=1)
        value = value.replace(microsecond=0)
    if value.hour or value.minute or value.second:
        return value.isoformat(" ")
    return value.date().isoformat()


def _time_text(value: time) -> str:
    return value.replace(microsecond=0).isoformat()


def _bool_text(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def _none_text(value: None) -> str:
    return ""


_CELL_TEXT: dict[type, Callable[[Any], str]] = {
    float: _float_text,
    int: str,
    bool: _bool_text,
    datetime: _datetime_text,
    date: date.isoformat,
    time: _time_text,
    timedelta: str,
    type(None): _none_text,
}


def _row_texts(row: list[Any]) -> list[str]:
    """Cells as python-calamine returns them, as text; the hot loop of workbook loading."""
    text = _CELL_TEXT
    return [c if c.__class__ is str else text.get(c.__class__, str)(c) for c in row]


def _is_blank(texts: list[str]) -> bool:
    """True when every cell is empty or only whitespace."""
    if not any(texts):
        return True
    return "".join(texts).isspace()


# --- workbooks (xlsx, xlsm, xls, ods) ---------------------------------------


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
    header: _Header
    width: int
    chunk_rows: int
    # calamine parses a whole sheet even to read its header: the first pass
    # reuses what open_table parsed instead of parsing the file twice
    parsed: CalamineSheet | None = field(default=None, repr=False)

    def frames(self, table: Table) -> Iterator[pd.DataFrame]:
        data, self.parsed = self.parsed, None
        if data is None:
            data = self._parse()
        rows = data.iter_rows()
        del data
        next(rows, None)  # the header
        yield from self._frames(table, rows)

    def _parse(self) -> CalamineSheet:
        try:
            workbook = _load_workbook(self.path, self.by_content)
        except (CalamineError, OSError, ValueError) as error:
            raise InputFileError(f"{self.path.name} can no longer be read") from error
        with workbook:
            return _read_sheet(self.path, workbook, self.sheet)

    def _frames(self, table: Table, rows: Iterator[list[Any]]) -> Iterator[pd.DataFrame]:
        indexes = self.header.indexes
        pick = None if indexes == list(range(self.width)) else indexes
        batch: list[list[str]] = []
        numbers: list[int] = []
        read = 0
        for row_number, row in enumerate(rows, start=HEADER_ROW + 1):
            texts = _row_texts(row if pick is None else [row[i] for i in pick])
            if _is_blank(texts):
                table.blank_rows += 1
            else:
                batch.append(texts)
                numbers.append(row_number)
            read += 1
            if read == self.chunk_rows:
                if batch:
                    yield _frame(batch, numbers, self.header.labels)
                batch, numbers, read = [], [], 0
        if batch:
            yield _frame(batch, numbers, self.header.labels)


def _frame(rows: list[list[str]], numbers: list[int], labels: list[str]) -> pd.DataFrame:
    index = pd.Index(numbers, dtype="int64", name=INDEX_NAME)
    return pd.DataFrame(rows, columns=labels, index=index, dtype=str)


def _open_workbook_table(path: Path, sheet: str | None, chunk_rows: int) -> Table:
    workbook, by_content = _open_workbook_checked(path)
    with workbook:
        name = _choose_sheet(path, workbook, sheet)
        data = _read_sheet(path, workbook, name)
        start = data.start
        if start is None:
            raise InputFileError(f'Sheet "{name}" of {path.name} is empty: there is no header row')
        rows = data.iter_rows()
        cells = _row_texts(next(rows)) if start[0] == 0 else []
        _require_header(cells, f'sheet "{name}" of {path.name}')

        def has_data(columns: list[int]) -> set[int]:
            return _sheet_columns_with_data(rows, columns)

        # calamine starts every row at the first used column, not at column A
        header = _build_header(cells, has_data, column_offset=start[1])
    warnings = list(header.warnings)
    if by_content:
        warnings.insert(0, f"{path.name} does not match its extension; it was read by content")
    source = _SheetSource(path, name, by_content, header, len(cells), chunk_rows, data)
    return _table(path, name, header, warnings, None, None, source)


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


def _require_header(cells: list[str], where: str) -> None:
    """The header is row 1; a blank row 1 means the table does not start where it must."""
    if not any(cell.strip() for cell in cells):
        raise InputFileError(f"Row 1 of {where} is blank; the header must be on row 1")


def _table(
    path: Path,
    sheet: str | None,
    header: _Header,
    warnings: list[str],
    encoding: str | None,
    delimiter: str | None,
    source: _Source,
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


# --- CSV -------------------------------------------------------------------


@dataclass
class _Sample:
    """The first megabyte of a CSV file, decoded, and what was learned from it."""

    text: str
    encoding: str
    errors: str
    warnings: list[str]


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


def _sniff_delimiter(text: str) -> str:
    """csv.Sniffer among `,;\\t|`, checked against (or replaced by) counts in the header line."""
    first_line = text.split("\n", 1)[0]
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


def _csv_header(path: Path, text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error as error:
        raise InputFileError(f"{path.name} cannot be read as CSV: {error}") from error


def _read_csv(
    path: Path,
    encoding: str,
    errors: str,
    delimiter: str,
    chunk_rows: int,
    **options: Any,
) -> Iterator[pd.DataFrame]:
    """Raw chunks as pandas' C parser reads them, header record included (index 0)."""
    try:
        reader = pd.read_csv(
            path,
            sep=delimiter,
            header=None,
            dtype=str,
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
        yield from reader


def _csv_columns_with_data(
    path: Path, encoding: str, delimiter: str, chunk_rows: int, columns: list[int]
) -> set[int]:
    """Which of `columns` hold a non-blank cell below the header (one pass over few columns)."""
    found: set[int] = set()
    # "replace": any byte there, readable or not, is data
    for raw in _read_csv(path, encoding, "replace", delimiter, chunk_rows, usecols=columns):
        if raw.index[0] == 0:
            raw = raw.iloc[1:]
        for position, column in enumerate(columns):
            if column not in found and not _blank_mask(raw.iloc[:, [position]]).all():
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
    header: _Header
    chunk_rows: int
    tolerant: bool = False  # a row wider than width+1 was met: stop looking at extra cells
    warned_extra: bool = False

    def frames(self, table: Table) -> Iterator[pd.DataFrame]:
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
            self.path, self.encoding, self.errors, self.delimiter, self.chunk_rows, **options
        )

    def _frames(self, table: Table, skip: int) -> Iterator[tuple[pd.DataFrame, int]]:
        """(frame, data records it covers) for every chunk after the first `skip` records."""
        labels, indexes = self.header.labels, self.header.indexes
        for raw in self._read():
            # pandas numbers records from 0 = the header, so RowNumber = record + 1
            first = int(raw.index[0])
            raw = raw.iloc[max(0, skip + 1 - first) :]
            if raw.empty:
                continue
            if not self.tolerant:
                self._check_extra(table, raw.iloc[:, [self.width]])
            frame = raw.iloc[:, indexes].set_axis(labels, axis=1)
            blank = _blank_mask(frame)
            table.blank_rows += int(blank.sum())
            frame = frame[~blank]
            frame.index = pd.Index(frame.index + HEADER_ROW, dtype="int64", name=INDEX_NAME)
            yield frame, len(raw)

    def _check_extra(self, table: Table, spare: pd.DataFrame) -> None:
        filled = np.flatnonzero(~_blank_mask(spare))
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


def _blank_mask(frame: pd.DataFrame) -> np.ndarray:
    """True for rows whose every cell is empty or whitespace.

    Columns are looked at left to right and only for rows still undecided, so a
    typical frame costs about one column of Python string checks.
    """
    blank = np.ones(len(frame), dtype=bool)
    for position in range(frame.shape[1]):
        undecided = np.flatnonzero(blank)
        if not undecided.size:
            break
        values = frame.iloc[undecided, position].to_numpy(dtype=object).tolist()
        blank[undecided[_filled(values)]] = False
    return blank


def _filled(values: list[Any]) -> np.ndarray:
    """True for a cell with something besides whitespace (strip is C: no Python frame each)."""
    try:
        return np.fromiter(map(bool, map(str.strip, values)), dtype=bool, count=len(values))
    except TypeError:  # a cell that is not text (a missing value): judged one by one
        return np.fromiter(
            (isinstance(v, str) and bool(v.strip()) for v in values), dtype=bool, count=len(values)
        )


def _open_csv(path: Path, sheet: str | None, chunk_rows: int) -> Table:
    sample = _sniff_encoding(path)
    if not sample.text:
        raise InputFileError(f"{path.name} is empty")
    delimiter = _sniff_delimiter(sample.text)
    cells = _csv_header(path, sample.text, delimiter)
    _require_header(cells, path.name)

    def has_data(columns: list[int]) -> set[int]:
        return _csv_columns_with_data(path, sample.encoding, delimiter, chunk_rows, columns)

    try:
        header = _build_header(cells, has_data)
    except ParserError as error:
        raise InputFileError(_parser_message(path, error)) from error
    source = _CsvSource(
        path, sample.encoding, sample.errors, delimiter, len(cells), header, chunk_rows
    )
    warnings = [*sample.warnings, *header.warnings]
    if sheet is not None:
        warnings.append(f'{path.name} is a CSV file, which has no sheets; "{sheet}" was ignored')
    return _table(path, None, header, warnings, sample.encoding, delimiter, source)
