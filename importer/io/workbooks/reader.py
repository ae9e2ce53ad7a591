"""Reading a results workbook back, row by row (perhaps edited and saved in Excel).

`retry`, `status` and `verify` start from a results workbook that may hold a million
rows, so its sheet XML is streamed (`iterparse`, one row in memory at a time) rather
than loaded whole. Cells keep their kind: text, numbers, dates, booleans.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, iterparse

from importer.core.conventions import SHARE_COLUMNS
from importer.core.errors import InputFileError
from importer.core.outcomes import RESULT_COLUMNS, RowError, RowOutcome, RowStatus
from importer.core.text import cell_text
from importer.io.workbooks.results import ERROR_COLUMNS, ERRORS_SHEET, RESULTS_SHEET, input_name
from importer.io.workbooks.summary import SUMMARY_SHEET

CellValue = str | float | bool | datetime | time_of_day | None

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_ROW, _CELL, _VALUE, _INLINE, _TEXT = (f"{_MAIN}{n}" for n in ("row", "c", "v", "is", "t"))
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)
# Built-in number formats that show a date or a time (ECMA-376, 18.8.30).
_BUILTIN_DATE_FORMATS = frozenset(range(14, 23)) | {45, 46, 47} | frozenset(range(27, 37))
_DATE_CODE = re.compile(r"[dmyhs]", re.IGNORECASE)
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_COLUMN = re.compile(r"[A-Z]+")
# Characters XML cannot carry are written `_x000D_` (ECMA-376, 22.9.2.19; `_x005F_` is `_`).
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One line of the Results sheet: every cell as it is, and the outcome it records."""

    cells: list[CellValue]
    outcome: RowOutcome


@dataclass(frozen=True)
class Layout:
    """Where things are in the Results header (a user may have added columns anywhere)."""

    header: list[str]
    result_at: dict[str, int]  # RESULT_COLUMNS name -> position
    share_at: dict[str, int]  # SharedWith/ShareStatus -> position, when present
    inputs: list[int] = field(default_factory=list)  # every other column, in order

    @property
    def input_headers(self) -> list[str]:
        """The other columns' headers as the input had them (`Status (input)` -> `Status`)."""
        return [input_name(self.header[i]) for i in self.inputs]

    @property
    def status_column(self) -> int:
        return self.result_at["Status"]


class ResultsReader:
    """A results workbook, opened; `rows()` streams the Results sheets in order."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputFileError(f"results workbook not found: {self.path}")
        try:
            self._zip = zipfile.ZipFile(self.path)
            self._sheets = self._sheet_parts()
            self._shared = self._shared_strings()
            self._dates, self._epoch = self._date_styles()
        except (zipfile.BadZipFile, KeyError, SyntaxError, OSError, ValueError) as exc:
            raise self._not_results("it is not an .xlsx workbook") from exc
        if RESULTS_SHEET not in self._sheets:
            raise self._not_results(f"it has no {RESULTS_SHEET!r} sheet")
        header = self._header(RESULTS_SHEET)
        self.layout = self._layout(header)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> ResultsReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what retry, status and verify read -------------------------------------------

    def rows(self) -> Iterator[ResultRow]:
        """Every non-blank line of `Results`, `Results (2)`, ... in order."""
        width = len(self.layout.header)
        for name in self._continued(RESULTS_SHEET):
            lines = self._lines(name)
            header = _trimmed(next(lines, (0, []))[1])
            if [cell_text(c) for c in header] != self.layout.header:
                raise self._not_results(f"sheet {name!r} has other columns than {RESULTS_SHEET!r}")
            for number, cells in lines:
                if all(c is None or c == "" for c in cells):
                    continue
                cells = (cells + [None] * width)[:width]
                yield ResultRow(cells, self._outcome(name, number, cells))

    def errors(self) -> Iterator[RowError]:
        for name in self._continued(ERRORS_SHEET):
            lines = self._lines(name)
            next(lines, None)
            for number, cells in lines:
                if all(c is None or c == "" for c in cells):
                    continue
                cells = cells + [None] * (len(ERROR_COLUMNS) - len(cells))
                yield RowError(
                    row_number=self._row_number(name, number, cells[0]),
                    column=_text(cells[1]),
                    value=_text(cells[2]),
                    message=_text(cells[3]),
                )

    def summary(self) -> dict[str, str]:
        if SUMMARY_SHEET not in self._sheets:
            return {}
        lines = self._lines(SUMMARY_SHEET)
        next(lines, None)
        return {_text(c[0]): _text(c[1]) for _, c in lines if len(c) > 1 and c[0]}

    # -- the outcome of a line ------------------------------------------------------------

    def _outcome(self, sheet: str, number: int, cells: list[CellValue]) -> RowOutcome:
        at = self.layout.result_at
        fields = {name: _text(cells[i]) or None for name, i in at.items()}
        try:
            status = RowStatus(fields["Status"] or "")
        except ValueError:
            raise InputFileError(
                f"{self.path}: sheet {sheet!r} line {number}: unknown Status "
                f"{fields['Status'] or ''!r}; use one of {', '.join(RowStatus)}"
            ) from None
        outcome = RowOutcome(
            row_number=self._row_number(sheet, number, cells[at["RowNumber"]]),
            status=status,
            created_opportunity_id=fields["CreatedOpportunityId"],
            conflicted_opportunity_id=fields["ConflictedOpportunityId"],
            related_prospect_id=fields["RelatedProspectId"],
            request_id=fields["RequestID"],
            exception_type=fields["ExceptionType"],
            message=fields["Message"],
        )
        for name, i in self.layout.share_at.items():
            if text := _text(cells[i]):
                outcome.extra[name] = text
        return outcome

    def _row_number(self, sheet: str, number: int, value: CellValue) -> int:
        """RowNumber is written as a number; a whole number typed as text is accepted too."""
        try:
            row = float(_text(value))
        except ValueError:
            row = float("nan")
        if not row.is_integer():
            raise InputFileError(
                f"{self.path}: sheet {sheet!r} line {number}: RowNumber {_text(value)!r} "
                "is not a row number"
            )
        return int(row)

    def _layout(self, header: list[str]) -> Layout:
        result_at = {name: i for i, name in enumerate(header) if name in RESULT_COLUMNS}
        missing = [name for name in RESULT_COLUMNS if name not in result_at]
        if missing:
            raise self._not_results(f"the {RESULTS_SHEET!r} sheet lacks {', '.join(missing)}")
        share_at = {name: i for i, name in enumerate(header) if name in SHARE_COLUMNS}
        taken = set(result_at.values()) | set(share_at.values())
        inputs = [i for i in range(len(header)) if i not in taken]
        return Layout(header, result_at, share_at, inputs)

    # -- the xlsx package -------------------------------------------------------------------

    def _not_results(self, why: str) -> InputFileError:
        return InputFileError(
            f"{self.path} is not a results workbook written by lsq-import ({why})"
        )

    def _sheet_parts(self) -> dict[str, str]:
        """Sheet name -> its part in the zip, from workbook.xml and its relationships."""
        targets = {}
        rels = _parse(self._zip.open("xl/_rels/workbook.xml.rels"))
        for rel in rels.iter(f"{_PKG_REL}Relationship"):
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            targets[rel.get("Id")] = posixpath.normpath(part)
        book = _parse(self._zip.open("xl/workbook.xml"))
        return {
            sheet.get("name", ""): targets.get(sheet.get(f"{_REL}id"), "")
            for sheet in book.iter(f"{_MAIN}sheet")
        }

    def _shared_strings(self) -> list[str]:
        if "xl/sharedStrings.xml" not in self._zip.namelist():
            return []
        strings = []
        for _, element in iterparse(self._zip.open("xl/sharedStrings.xml")):
            if element.tag == f"{_MAIN}si":
                strings.append(_unescape("".join(t.text or "" for t in element.iter(_TEXT))))
                element.clear()
        return strings

    def _date_styles(self) -> tuple[frozenset[int], datetime]:
        """Which cell styles show dates, and the workbook's date epoch."""
        book = _parse(self._zip.open("xl/workbook.xml"))
        properties = book.find(f"{_MAIN}workbookPr")
        epoch = _EXCEL_EPOCH
        if properties is not None and properties.get("date1904") in ("1", "true"):
            epoch = _EPOCH_1904
        if "xl/styles.xml" not in self._zip.namelist():
            return frozenset(), epoch
        styles = _parse(self._zip.open("xl/styles.xml"))
        dated = set(_BUILTIN_DATE_FORMATS)
        for fmt in styles.iter(f"{_MAIN}numFmt"):
            code = _QUOTED.sub("", fmt.get("formatCode", ""))
            if _DATE_CODE.search(code) and "general" not in code.lower():
                dated.add(int(fmt.get("numFmtId", "0")))
        xfs = styles.find(f"{_MAIN}cellXfs")
        found = set()
        for index, xf in enumerate(xfs if xfs is not None else []):
            if int(xf.get("numFmtId", "0")) in dated:
                found.add(index)
        return frozenset(found), epoch

    def _continued(self, base: str) -> Iterator[str]:
        """`Results`, then `Results (2)`, `Results (3)`... as long as they exist."""
        if base not in self._sheets:
            return
        yield base
        number = 2
        while f"{base} ({number})" in self._sheets:
            yield f"{base} ({number})"
            number += 1

    def _header(self, sheet: str) -> list[str]:
        first = next(self._lines(sheet), None)
        if first is None:
            raise self._not_results(f"the {sheet!r} sheet is empty")
        return [cell_text(c) for c in _trimmed(first[1])]

    def _lines(self, sheet: str) -> Iterator[tuple[int, list[CellValue]]]:
        """(spreadsheet line number, cells from column A) for each row element, streamed."""
        with self._zip.open(self._sheets[sheet]) as part:
            for _, element in iterparse(part):
                if element.tag != _ROW:
                    continue
                number = int(element.get("r", "0"))
                cells: list[CellValue] = []
                for cell in element.iter(_CELL):
                    position = _column_index(cell.get("r", ""), len(cells))
                    cells.extend([None] * (position - len(cells)))
                    cells.append(self._value(cell))
                element.clear()
                yield number, cells

    def _value(self, cell: Element) -> CellValue:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(_INLINE)
            return (
                ""
                if inline is None
                else _unescape("".join(t.text or "" for t in inline.iter(_TEXT)))
            )
        node = cell.find(_VALUE)
        text = node.text if node is not None else None
        if text is None:
            return None
        if kind == "s":
            return self._shared[int(text)]
        if kind in ("str", "e"):
            return _unescape(text)
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "d":
            return datetime.fromisoformat(text)
        number = float(text)
        if int(cell.get("s", "0")) in self._dates:
            return _as_date(self._epoch, number)
        return number


def _parse(stream: IO[bytes]) -> Element:
    with stream:
        root: Element | None = None
        for _, element in iterparse(stream, events=("end",)):
            root = element
    if root is None:
        raise ValueError("empty part")
    return root


def _column_index(reference: str, default: int) -> int:
    match = _COLUMN.match(reference)
    if match is None:
        return default
    index = 0
    for letter in match.group():
        index = index * 26 + ord(letter) - 64
    return index - 1


def _as_date(epoch: datetime, serial: float) -> datetime | time_of_day:
    """A date (and time); under 1, a time of day alone, as the input had it."""
    moment = epoch + timedelta(seconds=round(serial * 86_400))
    return moment.time() if 0 <= serial < 1 else moment


def _unescape(text: str) -> str:
    if "_x" not in text:
        return text
    return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), text)


def _trimmed(cells: list[CellValue]) -> list[CellValue]:
    """A header without the blank cells a wider sheet pads it with."""
    end = len(cells)
    while end and (cells[end - 1] is None or cells[end - 1] == ""):
        end -= 1
    return cells[:end]


def _text(value: CellValue) -> str:
    return "" if value is None else cell_text(value)
