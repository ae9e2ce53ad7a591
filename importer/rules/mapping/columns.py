"""Matching a mapping's columns to an input's headers; what to do when some are missing."""

from __future__ import annotations

from dataclasses import dataclass

from importer.core.errors import MappingError, MissingColumns
from importer.io.tables import normalize_header
from importer.io.tables.peek import SheetPeek
from importer.rules.mapping.header_names import closest
from importer.rules.mapping.mapping import Mapping

DID_YOU_MEAN = 0.6  # a header at least this alike a missing column is offered in its place
LISTED_MISSING = 8  # missing columns named one by one; the rest are counted
LISTED_ELSEWHERE = 3  # ...when the whole table is elsewhere, a few make the point
LISTED_HEADERS = 20  # the input's columns named when no better place is known

# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Missing:
    """A column the mapping reads that the input lacks."""

    column: str
    target: str
    line: int | None

    def named(self) -> str:
        at = f"line {self.line}, " if self.line else ""
        return f'"{self.column}" ({at}{self.target})'


def resolve_columns(
    mapping: Mapping, headers: list[str], duplicate_headers: dict[str, list[str]] | None = None
) -> dict[str, str]:
    """Target → header label of the input, for every target read from a column.

    Headers match ignoring case and surrounding spaces. All missing columns are
    reported at once, each with the header it was probably renamed to, so a user
    fixes the file (or the mapping) in one go.
    """
    by_name: dict[str, list[str]] = {}
    for label in headers:
        by_name.setdefault(normalize_header(label), []).append(label)
    duplicated = dict(duplicate_headers or {})
    duplicated.update({name: labels for name, labels in by_name.items() if len(labels) > 1})
    found: dict[str, str] = {}
    missing: list[Missing] = []
    for target, spec in mapping.targets().items():
        if spec.column is None:
            continue
        name = normalize_header(spec.column)
        if name in duplicated:
            labels = ", ".join(f'"{label}"' for label in duplicated[name])
            raise MappingError(
                f'{mapping.where(target)}: column "{spec.column}" appears more than once in the '
                f"input ({labels}); rename or remove the extra one"
            )
        if name in by_name:
            found[target] = by_name[name][0]
        else:
            missing.append(Missing(spec.column, target, spec.line))
    if missing:
        unused = [label for label in headers if label not in found.values()]
        raise MissingColumns(
            missing_message(mapping, missing, unused, headers),
            columns=[item.column for item in missing],
        )
    return found


def missing_columns(mapping: Mapping, headers: list[str]) -> list[Missing]:
    """The mapping's columns the headers lack, in mapping order."""
    present = {normalize_header(label) for label in headers}
    return [
        Missing(spec.column, target, spec.line)
        for target, spec in mapping.targets().items()
        if spec.column is not None and normalize_header(spec.column) not in present
    ]


def missing_message(
    mapping: Mapping,
    missing: list[Missing],
    unused: list[str],
    headers: list[str],
    elsewhere: str | None = None,
) -> str:
    """One sentence: which columns are missing, what they were probably renamed to, or
    (`elsewhere`) where the table the mapping wants actually is."""
    name = mapping.source.name if mapping.source else "mapping"
    shown = missing[: LISTED_ELSEWHERE if elsewhere else LISTED_MISSING]
    more = len(missing) - len(shown)
    tail = f" and {more} more" if more else ""
    if elsewhere:
        listed = ", ".join(item.named() for item in shown)
        return f"{name}: the input has no column {listed}{tail}; {elsewhere}"
    parts: list[str] = []
    guessed_all = not more
    candidates = list(unused)
    for item in shown:
        header, score = closest(item.column, candidates, item.target)
        if score >= DID_YOU_MEAN:
            parts.append(f'{item.named()}: did you mean "{header}"?')
            candidates.remove(header)
        else:
            parts.append(item.named())
            guessed_all = False
    text = f"{name}: the input has no column " + "; no column ".join(parts) + tail
    if not guessed_all:
        listed = ", ".join(f'"{label}"' for label in headers[:LISTED_HEADERS]) or "none"
        if len(headers) > LISTED_HEADERS:
            listed += f" and {len(headers) - LISTED_HEADERS} more"
        text += f"; its columns are: {listed}"
    return text


# ---------------------------------------------------------------- elsewhere in the file


def better_layout(
    columns: list[str], sheet: str | None, header_row: int, peeks: list[SheetPeek]
) -> tuple[SheetPeek, int] | None:
    """The sheet and row whose headers hold more of `columns` than the ones read, if any."""
    wanted = {normalize_header(column) for column in columns}

    def held(peek: SheetPeek, row: int) -> int:
        return len(wanted & {normalize_header(cell) for cell in peek.headers_at(row)})

    current = next((peek for peek in peeks if peek.name == sheet), None)
    best_count = held(current, header_row) if current else 0
    best: tuple[SheetPeek, int] | None = None
    for peek in peeks:
        for row in range(1, len(peek.rows) + 1):
            count = held(peek, row)
            if count > best_count:
                best, best_count = (peek, row), count
    return best


def layout_advice(read_sheet: str | None, peek: SheetPeek, row: int) -> str:
    """`the headers look like row 2: use --header-row 2` or the sheet to read instead."""
    row_flag = f"--header-row {row}"
    if peek.name is None or peek.name == read_sheet:
        return f"the headers look like row {row}: use {row_flag}"
    name = f'"{peek.name}"' if " " in peek.name else peek.name
    flags = f"--sheet {name}" + ("" if row == peek.header_row else f" {row_flag}")
    return f'read sheet "{read_sheet}"; sheet "{peek.name}" has these columns: use {flags}'
