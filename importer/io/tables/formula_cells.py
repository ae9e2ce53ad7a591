"""Cells python-calamine reads as empty though they are not: Excel errors and unsaved formulas.

calamine turns an error cell (`#N/A`, `#REF!`...) and a formula saved without its
value (files written by scripts, e.g. openpyxl) into "". An `.xlsx` sheet's XML
says which cells those are: `t="e"` marks an error, an `<f>` without a `<v>`
a formula never calculated. Most sheets have neither, and finding that out is a
plain byte search of the decompressed XML; only sheets with formulas are parsed,
and then only around each formula. An `.xls` file is searched for the BIFF records
of error cells and, when it has some, read again with xlrd to place them.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

_BLOCK = 4 << 20
_WINDOW = 64 << 10
# A formula element, an error-typed cell; the prefixed and single-quoted spellings are
# looked for only in sheets that use them (each search of the XML costs a pass).
_MARKERS = (b"<f", b'"e"')
_RARE_MARKERS = (b":f>", b":f ", b":f/", b"'e'")
_CELL_CLOSE = re.compile(rb"</(?:\w+:)?c>")
_ATTR_REF = re.compile(rb"""\sr=["']([A-Z]+)([0-9]+)["']""")
_ATTR_TYPE = re.compile(rb"""\st=["'](\w+)["']""")
_VALUE = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>([^<]*)</(?:\w+:)?v>")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_ROW_END = re.compile(rb"</(?:\w+:)?row>")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# BIFF8: a BOOLERR record holding an error, or a FORMULA record whose cached result is one
_XLS_ERROR = re.compile(rb"\x05\x02\x08\x00.{7}\x01|\x06\x00..(?:.){6}\x02.{5}\xff\xff", re.DOTALL)


@dataclass
class HiddenCells:
    """Cells of one sheet that read as empty: (row number, 0-based column) → what they hold."""

    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # the error shown
    uncalculated: set[tuple[int, int]] = field(default_factory=set)


def find_hidden_cells(path: Path, sheet: str, by_content: bool) -> HiddenCells:
    """Error cells and uncalculated formulas of `sheet`, for the formats that can have them."""
    try:
        if zipfile.is_zipfile(path):
            return _xlsx_cells(path, sheet)
        if path.suffix.lower() == ".xls" or by_content:
            return _xls_cells(path, sheet)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
        pass  # the sheet was read by calamine already; this scan only adds detail
    return HiddenCells()


def column_index(letters: str) -> int:
    """`A` → 0, `AB` → 27."""
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number - 1


# ---------------------------------------------------------------- xlsx


def _sheet_member(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding `sheet`'s XML, through workbook.xml and its relationships."""
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names:
        return None
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    wanted = None
    for element in book.iter():
        if element.tag.endswith("}sheet") and element.get("name") == sheet:
            wanted = element.get(f"{{{_REL_NS}}}id")
    rels_name = "xl/_rels/workbook.xml.rels"
    if wanted is None or rels_name not in names:
        return None
    for rel in ElementTree.fromstring(archive.read(rels_name)).iter():
        if rel.get("Id") == wanted:
            target = rel.get("Target", "")
            if target.startswith("/"):
                member = target.lstrip("/")
            else:
                member = str(PurePosixPath("xl") / target)
            parts: list[str] = []
            for part in member.split("/"):
                if part == "..":
                    parts = parts[:-1]
                elif part and part != ".":
                    parts.append(part)
            member = "/".join(parts)
            return member if member in names else None
    return None


def _xlsx_cells(path: Path, sheet: str) -> HiddenCells:
    found = HiddenCells()
    with zipfile.ZipFile(path) as archive:
        member = _sheet_member(archive, sheet)
        if member is None:
            return found
        with archive.open(member) as stream:
            carry = b""
            markers: tuple[bytes, ...] = _MARKERS
            while True:
                block = stream.read(_BLOCK)
                if not carry and block:
                    head = block[:_WINDOW]
                    if b":sheetData" in head or b"='" in head:
                        markers = _MARKERS + _RARE_MARKERS
                buffer = carry + block
                if not block:
                    _scan_rows(buffer, found, markers)
                    break
                cut = _last_row_end(buffer)
                if not any(marker in buffer for marker in markers):
                    carry = buffer[cut:]  # the common case: no formula, no error
                    continue
                _scan_rows(buffer[:cut], found, markers)
                carry = buffer[cut:]
    return found


def _last_row_end(buffer: bytes) -> int:
    """Where the last complete `</row>` of `buffer` ends (0 if none): rows are never split."""
    for start in (max(0, len(buffer) - _WINDOW), 0):
        ends = [match.end() for match in _ROW_END.finditer(buffer, start)]
        if ends:
            return ends[-1]
    return 0


def _scan_rows(xml: bytes, found: HiddenCells, markers: tuple[bytes, ...]) -> None:
    """Look at the cells around each formula or error marker in whole rows of sheet XML."""
    seen: set[int] = set()
    for marker in markers:
        start = xml.find(marker)
        while start != -1:
            cell_start = _cell_start(xml, start)
            if cell_start is not None and cell_start not in seen:
                seen.add(cell_start)
                _judge_cell(xml, cell_start, found)
            start = xml.find(marker, start + 1)


def _cell_start(xml: bytes, position: int) -> int | None:
    """Where the `<c ...>` (or `<x:c ...>`) element around `position` begins, if any."""
    window = max(0, position - _WINDOW)  # a cell is short: never search the whole sheet back
    begin = position
    while True:
        begin = xml.rfind(b"c", window, begin)
        if begin < 1:
            return None
        before = xml[begin - 1 : begin]
        if xml[begin + 1 : begin + 2] in (b" ", b">", b"/") and before in (b"<", b":"):
            break
    if before == b":":
        begin = xml.rfind(b"<", window, begin)
        if begin == -1:
            return None
    else:
        begin -= 1
    cell_end = _cell_end(xml, begin)
    if cell_end is None or cell_end < position:
        return None
    return begin


def _cell_end(xml: bytes, begin: int) -> int | None:
    tag_end = xml.find(b">", begin)
    if tag_end == -1:
        return None
    if xml[tag_end - 1 : tag_end] == b"/":
        return tag_end + 1
    close = _CELL_CLOSE.search(xml, tag_end)
    return close.end() if close else None


def _judge_cell(xml: bytes, begin: int, found: HiddenCells) -> None:
    end = _cell_end(xml, begin)
    if end is None:
        return
    cell = xml[begin:end]
    tag = cell[: cell.find(b">") + 1]
    error = b'"e"' in tag or b"'e'" in tag
    if not error and b"</v>" in cell and b"></v>" not in cell:
        return  # a formula with its calculated value: the common case, decided cheaply
    ref = _ATTR_REF.search(tag)
    if ref is None:
        return  # a writer that leaves out cell references: cannot place it
    place = (int(ref.group(2)), column_index(ref.group(1).decode("ascii")))
    kind = _ATTR_TYPE.search(tag)
    kind_name = kind.group(1) if kind else b"n"
    value = _VALUE.search(cell)
    if kind_name == b"e":
        code = value.group(1).decode("utf-8", "replace").strip() if value else ""
        found.errors[place] = code or "#VALUE!"
    elif _FORMULA.search(cell) and value is None and kind_name != b"inlineStr":
        found.uncalculated.add(place)
    elif _FORMULA.search(cell) and value is not None and not value.group(1):
        if kind_name not in (b"str", b"s", b"inlineStr"):
            found.uncalculated.add(place)  # `<v></v>` on a number: nothing was calculated


# ---------------------------------------------------------------- xls


def _xls_cells(path: Path, sheet: str) -> HiddenCells:
    found = HiddenCells()
    if not _XLS_ERROR.search(path.read_bytes()):
        return found
    import xlrd  # type: ignore[import-untyped]  # only for the rare .xls file with error cells

    book = xlrd.open_workbook(str(path), on_demand=True)
    try:
        data = book.sheet_by_name(sheet)
        for row in range(data.nrows):
            for column, kind in enumerate(data.row_types(row)):
                if kind == xlrd.XL_CELL_ERROR:
                    code = xlrd.error_text_from_code.get(data.cell_value(row, column), "#VALUE!")
                    found.errors[(row + 1, column)] = code
    finally:
        book.release_resources()
    return found
