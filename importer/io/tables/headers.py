"""Header rows: labels for every kept column, duplicates numbered, blank headers named."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


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


@dataclass
class Header:
    """The columns kept from a header row, with their unique labels."""

    indexes: list[int]  # positions in the row, after any leading offset
    labels: list[str]
    original: list[str]
    duplicates: dict[str, list[str]]
    warnings: list[str]


def build_header(
    cells: list[str], has_data: Callable[[list[int]], set[int]], column_offset: int = 0
) -> Header:
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
    return Header(indexes, labels, [cells[i] for i in indexes], duplicates, warnings)


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
        where = join_words([letters[p] for p in positions])
        renamed = join_words([f'"{label}"' for label in group[1:]])
        if len(group) == 2:
            tail = f"the second is kept as {renamed}"
        else:
            tail = f"later copies are kept as {renamed}"
        warnings.append(f'Header "{names[positions[0]]}" appears in columns {where}; {tail}')
    return warnings


def join_words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------- which row holds the headers

HEADER_SCAN_ROWS = 20  # a title block above the headers is a few rows, never a page
_VALUE_LIKE = re.compile(
    r"[\s\d.,:/+()₹$€£%-]*"  # numbers, amounts, phones, numeric dates and times
    r"|[^@\s]+@[^@\s]+"  # an email address
    r"|\d{1,2}[-/ ]?[A-Za-z]{3,9}[-/ ,]*\d{2,4}.*"  # 15-Jan-2026, 19 Jan 2026 10:30
    r"|[A-Za-z]{3,9} \d{1,2},? \d{4}.*"  # January 19, 2026
    r"|(?:Rs\.?|INR)\s*[\d,.]+(?:/-)?",  # Rs. 50,000
    re.IGNORECASE,
)


def _filled(row: list[str]) -> list[str]:
    return [cell.strip() for cell in row if cell.strip()]


def _label_like(cells: list[str]) -> bool:
    """Several words that name columns: text, not values, and (nearly) all different."""
    if len(cells) < 2 or any(len(cell) > 80 or _VALUE_LIKE.fullmatch(cell) for cell in cells):
        return False
    return len({normalize_header(cell) for cell in cells}) >= 0.8 * len(cells)


def find_header_row(rows: list[list[str]]) -> int:
    """The 1-based row of `rows` (the first rows of a sheet, as text) that holds the headers.

    The first row of several distinct labels about as wide as the widest row, with a
    non-blank row of similar width below it; row 1 in doubt.
    A title block above the headers ("Leads export 01-Dec-2026", a date, a filter)
    is narrower than the table, so it is passed over.
    """
    window = [_filled(row) for row in rows[:HEADER_SCAN_ROWS]]
    widest = max((len(cells) for cells in window), default=0)
    for index, cells in enumerate(window):
        if len(cells) < max(2, 0.6 * widest) or not _label_like(cells):
            continue
        below = next((other for other in window[index + 1 :] if other), None)
        if below is None and index == 0:
            return 1  # a file of headers only
        if below is not None and len(below) >= max(1, len(cells) / 4):
            return index + 1
    return 1
