"""`map suggest`: draft a mapping from a file, or re-target one to a file whose headers changed.

One function serves the CLI, the Python API and the web page; it reads the file's
first rows and returns the YAML text with what it matched, and writes nothing.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from importer.core.conventions import DELIMITED_SUFFIXES
from importer.core.errors import InputFileError, MappingError, UserError
from importer.io.tables import Table, open_table
from importer.io.tables.peek import SheetPeek, peek_sheets
from importer.rules.mapping.header_names import closest, name_match
from importer.rules.mapping.mapping import Mapping
from importer.rules.mapping.mapping_file import load_mapping
from importer.rules.mapping.synonyms import FIELDS
from importer.rules.suggest.draft_yaml import percent, render_draft
from importer.rules.suggest.profile import ColumnProfile, profile_column
from importer.rules.suggest.retarget import PLACE as RETARGET_PLACE
from importer.rules.suggest.retarget import retarget_mapping
from importer.rules.suggest.suggest import PLACE, Match, draft_mapping, rules_of_type

PROFILE_ROWS = 5_000  # rows whose values are looked at; enough to see types and blanks
MAPPING_SUFFIX = ".mapping.yaml"


@dataclass
class Suggestion:
    """A drafted (or re-targeted) mapping: its YAML and why each column went where it did.

    `exit_code` is 1 when re-targeting left a column with rules unplaced (the mapping
    will not pass `validate` until someone decides), else 0.
    """

    yaml_text: str
    matches: list[Match]
    todo: list[str]
    exit_code: int
    input_path: Path
    sheet: str | None
    header_row: int
    rows_read: int
    from_mapping: Path | None = None
    unused: list[str] = field(default_factory=list)  # --from: headers the mapping skips
    dropped: list[str] = field(default_factory=list)  # --from: optional columns removed
    notes: list[str] = field(default_factory=list)  # how the file was read, for the user
    samples: dict[str, list[str]] = field(default_factory=dict)  # column -> a few values
    default_country: str | None = None  # the country most phones fit (the old one's, --from)
    # every column's type and format as its values read (a draft only): what a column the
    # draft left unplaced takes when someone chooses a field for it on the page
    column_rules: dict[str, dict[str, object]] = field(default_factory=dict)

    def table(self) -> list[tuple[str, str, str, str]]:
        """(column, field, confidence, why) rows: what the CLI prints and the page shows."""
        rows = []
        for match in self.matches:
            column = match.column
            if match.old_column is not None and match.old_column != match.column:
                column = f"{match.old_column} → {match.column}"
            target = match.target or "(not placed)"
            if self.from_mapping is not None and match.column in self.todo:
                target = f"{match.target} (TODO)"
            elif self.from_mapping is not None and match.column in self.dropped:
                target = "(dropped: it had no rules)"
            shown = percent(match.confidence) if match.confidence else "-"
            rows.append((column, target, shown, match.reason))
        return rows

    def summary_line(self, written: Path | None = None) -> str:
        placed = sum(1 for m in self.matches if m.target and m.confidence > 0)
        where = f"Wrote {written}: " if written else ""
        if self.from_mapping is not None:
            verdict = (
                f"{len(self.todo)} column(s) with rules found no header: fix the TODO lines"
                if self.todo
                else "every column with rules found its header"
            )
            return f"{where}{placed} column(s) placed; {verdict}."
        return (
            f"{where}{placed} column(s) placed, {len(self.todo)} left for you (TODO lines). "
            "Read the file, then check it with `lsq-import validate`."
        )

    def write(self, path: str | Path, *, force: bool = False) -> Path:
        """Write the YAML; an existing file is replaced only with `force`."""
        target = Path(path)
        if target.exists() and not force:
            raise UserError(
                f"{target} already exists; give --out another file, or --force to replace it"
            )
        target.write_text(self.yaml_text, encoding="utf-8")
        return target


SAMPLES = 3  # values shown beside each column when matching on the page


def default_mapping_path(input_path: str | Path) -> Path:
    """`leads.xlsx` → `leads.mapping.yaml` beside it."""
    path = Path(input_path)
    return path.with_name(f"{path.stem}{MAPPING_SUFFIX}")


def suggest_mapping(
    input_path: str | Path,
    *,
    event_code: int | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    from_mapping: str | Path | None = None,
    out: str | Path | None = None,
) -> Suggestion:
    """Draft a mapping from a file's headers and values, or (`from_mapping`) re-target one.

    `out` only names the mapping file in the comment that says how to check it.
    """
    path = Path(input_path)
    if event_code is not None and event_code < 1:
        raise UserError(f"--event-code must be a positive whole number, not {event_code}")
    old = load_mapping(from_mapping) if from_mapping is not None else None
    notes: list[str] = []
    if sheet is None and path.suffix.lower() not in DELIMITED_SUFFIXES and path.is_file():
        sheet = _pick_sheet(path, old, notes)
    table = open_table(path, sheet=sheet, header_row=header_row)
    profiles, rows_read = _profiles(table)
    duplicated = {label for labels in table.duplicate_headers.values() for label in labels}
    notes.extend(table.warnings)  # e.g. the row the headers were found on
    flags = _flags(table, sheet, header_row)
    if old is not None:
        return _retarget(table, old, profiles, rows_read, duplicated, notes)
    draft = draft_mapping(table.headers, profiles, duplicated)
    mapping_name = Path(out).name if out else default_mapping_path(path).name
    where = f"{_where(table)}; the first {rows_read} rows looked at"
    check = f"lsq-import validate {shlex.quote(path.name)} -m {shlex.quote(mapping_name)}{flags}"
    text = render_draft(
        draft,
        input_name=path.name,
        where=where,
        check_command=check,
        event_code=event_code,
    )
    return Suggestion(
        yaml_text=text,
        matches=draft.matches(),
        todo=draft.todo(),
        exit_code=0,
        input_path=path,
        sheet=table.sheet,
        header_row=table.header_row,
        rows_read=rows_read,
        notes=notes + draft.notes,
        samples={h: list(p.spellings.values())[:SAMPLES] for h, p in profiles.items()},
        default_country=draft.default_country,
        column_rules={
            h: {k: v for k, v in rules_of_type(p.type, p).items() if k != "required"}
            for h, p in profiles.items()
        },
    )


def _retarget(
    table: Table,
    old: Mapping,
    profiles: dict[str, ColumnProfile],
    rows_read: int,
    duplicated: set[str],
    notes: list[str],
) -> Suggestion:
    source = old.source
    if source is None:  # load_mapping always sets it
        raise MappingError("the mapping to re-target has no file")
    text = source.read_text(encoding="utf-8-sig")
    done = retarget_mapping(
        old, text, table.headers, profiles, input_name=table.path.name, duplicated=duplicated
    )
    return Suggestion(
        yaml_text=done.yaml_text,
        matches=done.matches,
        todo=done.todo,
        exit_code=done.exit_code,
        input_path=table.path,
        sheet=table.sheet,
        header_row=table.header_row,
        rows_read=rows_read,
        from_mapping=source,
        unused=done.unused,
        dropped=done.dropped,
        notes=notes,
        samples={h: list(p.spellings.values())[:SAMPLES] for h, p in profiles.items()},
        default_country=old.default_country,
    )


def _profiles(table: Table) -> tuple[dict[str, ColumnProfile], int]:
    """Each column's profile over the first PROFILE_ROWS non-blank rows."""
    frames: list[pd.DataFrame] = []
    count = 0
    for chunk in table.chunks():
        frames.append(chunk.head(PROFILE_ROWS - count))
        count += len(frames[-1])
        if count >= PROFILE_ROWS:
            break
    frame = pd.concat(frames) if frames else pd.DataFrame(columns=table.headers, dtype=str)
    profiles = {
        header: profile_column(header, [str(v) for v in frame[header].tolist()])
        for header in table.headers
    }
    return profiles, len(frame)


def _where(table: Table) -> str:
    sheet = f'sheet "{table.sheet}", ' if table.sheet else ""
    return f"{sheet}headers on row {table.header_row}"


def _flags(table: Table, chosen_sheet: str | None, header_row: int | None) -> str:
    """The --sheet/--header-row a later `validate` needs to read the same table."""
    flags = ""
    if chosen_sheet is not None and table.sheet is not None:
        flags += f" --sheet {shlex.quote(table.sheet)}"
    if header_row is not None:
        flags += f" --header-row {table.header_row}"
    return flags


def _pick_sheet(path: Path, old: Mapping | None, notes: list[str]) -> str | None:
    """The sheet that holds the table: the mapping's columns, or the most field-like headers."""
    try:
        peeks = [peek for peek in peek_sheets(path) if peek.visible] or peek_sheets(path)
    except InputFileError:
        return None  # open_table explains what is wrong with the file
    if len(peeks) < 2:
        return None
    scored = [(_sheet_score(peek, old), index, peek) for index, peek in enumerate(peeks)]
    best_score, _, best = max(scored, key=lambda item: (item[0], -item[1]))
    if best is peeks[0] or best_score <= 0:
        return None
    notes.append(
        f'read sheet "{best.name}": the first sheet "{peeks[0].name}" does not hold the table; '
        f"give --sheet {shlex.quote(best.name or '')} to validate and run"
    )
    return best.name


def _sheet_score(peek: SheetPeek, old: Mapping | None) -> float:
    """How much a sheet looks like the table: headers that name fields, data below them."""
    row = peek.header_row
    headers = peek.headers_at(row)
    data = sum(1 for cells in peek.rows[row:] if any(cell.strip() for cell in cells))
    if not headers or not data:
        return 0.0
    if old is not None:
        wanted = [(t, s.column) for t, s in old.targets().items() if s.column is not None]
        return sum(
            1 for target, column in wanted if closest(column, headers, target)[1] >= RETARGET_PLACE
        ) + 0.01 * len(headers)
    named = sum(
        1 for header in headers if max(name_match(header, words).score for words in FIELDS) >= PLACE
    )
    return named + 0.01 * len(headers)
