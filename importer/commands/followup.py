"""What `retry` and `status` share: the workbook's own context, and rewriting it in place.

Both stream the results workbook: only the rows they work on are kept in memory,
and the workbook is written again (atomically, in its own layout, every column a
user added kept with its values) with those rows' new outcomes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from importer.commands.assemble import errors_by_row, invalid_outcome
from importer.commands.source import frame_from_rows, row_values
from importer.core.config import Mode
from importer.core.conventions import SHARE_COLUMNS, STATE_DIR_NAME
from importer.core.errors import ConfigError, UserError
from importer.core.outcomes import RESULT_COLUMNS, RowError, RowOutcome, RowStatus
from importer.core.progress import Counters
from importer.core.text import cell_text
from importer.io.workbooks.reader import CellValue, Layout, ResultRow, ResultsReader
from importer.io.workbooks.results import write_results_sheet
from importer.io.workbooks.summary import FIXED_CELL, Summary, fixed_lines
from importer.rules.checks.payload import build_payloads, share_item
from importer.rules.checks.validator import Validator
from importer.rules.mapping.columns import resolve_columns
from importer.rules.mapping.identity import row_identity
from importer.rules.mapping.mapping import Mapping
from importer.rules.mapping.mapping_file import load_mapping
from importer.rules.mapping.messages import headers_by_schema
from importer.send.pool import Job

_KEPT_EXTRA = ("Operation", "Rows read", "Blank rows skipped", "Journal", "Stopped")
_ACTIONS = ("Retried", "Status checked", FIXED_CELL)  # lines every rewrite keeps


@dataclass
class FollowupReport:
    """What `retry` or `status` did to a results workbook; the CLI prints `summary_line()`."""

    results_path: Path
    action: str  # "retry" or "status"
    sent: int = 0  # Failure and NotSent rows sent (retry)
    polled: int = 0  # Pending rows asked about
    still_pending: int = 0  # ... of which LeadSquared had not finished
    invalid: int = 0  # rows that no longer pass validation (retry)
    unchanged: int = 0  # refused rows not sent again: nothing changed since (retry)
    changed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0

    @property
    def considered(self) -> int:
        return self.sent + self.polled + self.invalid

    @property
    def exit_code(self) -> int:
        others = sum(n for status, n in self.counts.items() if status != RowStatus.SUCCESS)
        return 0 if others == 0 else 1

    def retried(self) -> list[str]:
        """What a retry did, in parts: what the CLI's line and the page's both say."""
        bits = [f"{self.sent} Failure or NotSent rows sent again"] if self.sent else []
        if self.polled:
            bits.append(f"{self.polled} Pending rows checked")
        if self.invalid:
            bits.append(f"{self.invalid} no longer valid")
        if self.unchanged:
            bits.append(
                f"{self.unchanged} refused rows not sent again: their values are unchanged "
                "since LeadSquared refused them (fix them first)"
            )
        return bits

    def summary_line(self) -> str:
        now = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n) or "no rows"
        name = self.results_path.name
        if self.action == "status":
            if not self.polled:
                head = "no Pending rows to check"
            elif self.still_pending == self.polled:
                head = (
                    f"all {self.polled} Pending rows are still in LeadSquared's queue; "
                    "try again later"
                )
            else:
                done = self.polled - self.still_pending
                head = f"{done} of {self.polled} Pending rows have their result now"
                if self.still_pending:
                    head += f" ({self.still_pending} still in LeadSquared's queue; try later)"
        elif not self.considered and not self.unchanged:
            head = "no Failure or Pending rows to retry"
        else:
            head = ", ".join(self.retried())
        return f"{name}: {head}. Now {now}. {self.api_calls} API calls."


@dataclass(frozen=True)
class WorkbookContext:
    """What the Summary sheet says about the run that wrote the workbook."""

    summary: dict[str, str]

    @property
    def mode(self) -> Mode:
        try:
            return Mode.parse(self.summary.get("Mode") or "async")
        except ConfigError:
            return Mode.ASYNC

    @property
    def operation(self) -> str:
        return "update" if self.summary.get("Operation") == "update" else "capture"

    @property
    def mapping(self) -> Path | None:
        text = self.summary.get("Mapping", "")
        return Path(text) if text else None

    @property
    def input_name(self) -> str:
        return self.summary.get("Input", "")

    def field_headers(self, layout: Layout) -> dict[str, str]:
        """{Schema Name: the user's header} from the recorded mapping; {} if it is gone."""
        path = self.mapping
        if path is None or not path.is_file():
            return {}
        try:
            columns = resolve_columns(load_mapping(path), layout.input_headers)
        except UserError:
            return {}
        return headers_by_schema(columns)

    def run_journal(self) -> Path | None:
        """The journal of the run that wrote the workbook (its input rows), while it is there."""
        recorded = self.summary.get("Journal")
        return Path(recorded) if recorded and Path(recorded).is_file() else None

    def journal(self, results_path: Path, state_dir: Path | None) -> Path:
        """The run's own journal when it is still there, else one kept for this workbook."""
        recorded = self.summary.get("Journal")
        if recorded and Path(recorded).exists() and state_dir is None:
            return Path(recorded)
        base = state_dir or results_path.parent / STATE_DIR_NAME
        return base / f"{results_path.stem}.followup.journal.sqlite"


def with_outcome(layout: Layout, cells: list[CellValue], outcome: RowOutcome) -> list[CellValue]:
    """A Results line with its result (and share) cells replaced by `outcome`'s."""
    line = list(cells)
    for name, value in zip(RESULT_COLUMNS, outcome.as_cells(), strict=True):
        line[layout.result_at[name]] = value if value != "" else None
    for name in SHARE_COLUMNS:
        if name in layout.share_at:
            line[layout.share_at[name]] = outcome.extra.get(name)
    return line


def rewrite(
    reader: ResultsReader,
    updated: dict[int, RowOutcome],
    counters: Counters,
    started: datetime,
    action: str,
    extra_errors: Iterable[RowError] = (),
    cells_of: Callable[[ResultRow], list[CellValue]] | None = None,
    fixed: Sequence[str] = (),
) -> tuple[dict[str, int], int]:
    """Write the workbook again with the updated rows; returns (counts, rows changed).

    `cells_of` gives a row's cells as they are to be written (the page's fixes of failed
    rows), which `fixed` says in words for the Summary.
    """
    layout = reader.layout
    counts: Counter[str] = Counter()
    changed = 0

    def lines() -> Iterator[list[CellValue]]:
        nonlocal changed
        for row in reader.rows():
            cells = row.cells if cells_of is None else cells_of(row)
            outcome = updated.get(row.outcome.row_number, row.outcome)
            counts[str(outcome.status)] += 1
            if outcome is not row.outcome:
                changed += outcome != row.outcome
                yield with_outcome(layout, cells, outcome)
            else:
                yield cells

    def errors() -> Iterator[RowError]:
        yield from reader.errors()
        yield from extra_errors

    old = reader.summary()
    summary = Summary(
        counts=counts,  # filled while the rows stream; read when the Summary sheet is written
        input_name=old.get("Input", ""),
        input_sha256=old.get("Input SHA-256", ""),
        mapping=old.get("Mapping", ""),
        mode=old.get("Mode", ""),
        started=_parse_time(old.get("Started")) or started,
        finished=datetime.now(),
        api_calls=_as_int(old.get("API calls")) + counters.api_calls,
        rate_limited=_as_int(old.get("Rate limited (429)")) + counters.rate_limited,
        retries=_as_int(old.get("Retries")) + counters.retries,
        extra={k: v for k, v in old.items() if k in _KEPT_EXTRA or k.startswith(_ACTIONS)},
    )
    stamp = f"{datetime.now():%Y-%m-%d %H:%M:%S}"
    key = action
    number = 2
    while key in summary.extra:
        key = f"{action} ({number})"
        number += 1
    summary.extra[key] = f"{stamp}: {len(updated)} row(s) updated"
    earlier = sum(1 for name in summary.extra if name.startswith(FIXED_CELL))
    summary.extra.update(fixed_lines(fixed, start=earlier + 1))
    write_results_sheet(
        reader.path,
        headers=layout.header,
        lines=lines(),
        status_column=layout.status_column,
        errors=errors(),
        summary=summary,
    )
    return {str(s): counts.get(str(s), 0) for s in RowStatus}, changed


def _as_int(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass
class RowPlan:
    """What retry sends, polls and refuses, from the workbook's own input cells."""

    jobs: list[Job]
    bodies: dict[int, dict[str, Any]]
    pending: set[int]
    invalid: dict[int, RowOutcome]
    errors: list[RowError]
    columns: dict[str, str]


def plan_rows(reader: ResultsReader, targets: list[ResultRow], mapping: Mapping) -> RowPlan:
    frame, columns = frame_from_rows(reader.layout, targets, mapping)
    checked = Validator(mapping, columns).validate(frame)
    pending = {r.outcome.row_number for r in targets if r.outcome.status == RowStatus.PENDING}
    # A Pending row was accepted already: it is polled, never judged again.
    problems = {n: e for n, e in errors_by_row(checked.errors).items() if n not in pending}
    values = row_values(checked.values)
    bodies = dict(build_payloads(checked, mapping))
    jobs = [
        Job(
            row_number=n,
            body=bodies.get(n, {}),
            share_item=partial(share_item, values=values[n], mapping=mapping)
            if mapping.share and n in values
            else None,
            identity=row_identity(mapping, bodies[n], values[n]) if n in bodies else None,
            values=values.get(n, {}),
        )
        for n in sorted(set(bodies) | pending)
    ]
    return RowPlan(
        jobs=jobs,
        bodies=bodies,
        pending=pending,
        invalid={n: invalid_outcome(n, errors) for n, errors in problems.items()},
        errors=[e for e in checked.errors if e.row_number in problems],
        columns=columns,
    )


@dataclass(frozen=True)
class FailureLine:
    """A row LeadSquared refused, as the page lists it: where, and why in the user's words."""

    row_number: int
    column: str  # the user's header the message is about, "" when it names none
    message: str
    advice: str = ""  # what to do about it, in a few words
    value: str = ""  # the cell of `column` as it is now (the page offers it to fix)


# LeadSquared's refusals by what they say, and what to do about each ({column}: the header).
_ADVICE = (
    (re.compile(r"is mandatory|required|cannot be (?:empty|blank)", re.I),
     "Fill in {column} for this row, then retry"),
    (re.compile(r"email", re.I),
     "Correct the email address, then retry"),
    (re.compile(r"date ?time|date", re.I),
     "Write the date as LeadSquared reads it (2026-01-31 10:30:00), then retry"),
    (re.compile(r"does not exist|not found", re.I),
     "LeadSquared has no such record: check the id in {column}, or import it as new"),
    (re.compile(r"duplicate|already exists", re.I),
     "LeadSquared already has it: nothing to send, or change the account's duplicate rule"),
    (re.compile(r"max(?:imum)? ?length|too long|exceeds", re.I),
     "Shorten {column}, then retry"),
    (re.compile(r"invalid|not valid|not allowed|dropdown|option", re.I),
     "Use a value LeadSquared's field accepts in {column}, then retry"),
    (re.compile(r"permission|not authori[sz]ed|access", re.I),
     "Ask your LeadSquared admin for access to this field or record; retrying will not help"),
)  # fmt: skip


def failure_advice(message: str, column: str) -> str:
    """What to do about one refusal, from what LeadSquared said (a general step otherwise)."""
    where = column or "the field it names"
    for pattern, words in _ADVICE:
        if pattern.search(message):
            return words.format(column=where)
    return "Fix the value it names, then retry"


def failures_of(results_path: Path, *, limit: int = 500) -> list[FailureLine]:
    """The Failure rows of a results workbook (the first `limit`), read as it streams."""
    found: list[FailureLine] = []
    with ResultsReader(results_path) as reader:
        layout = reader.layout
        at = {h: i for h, i in zip(layout.input_headers, layout.inputs, strict=True) if h}
        for row in reader.rows():
            outcome = row.outcome
            if outcome.status != RowStatus.FAILURE:
                continue
            message = outcome.message or "LeadSquared did not say why"
            named = [h for h in at if h.casefold() in message.casefold()]
            column = max(named, key=len) if named else ""
            value = row.cells[at[column]] if column else None  # rows come padded to width
            found.append(
                FailureLine(
                    outcome.row_number,
                    column,
                    message,
                    failure_advice(message, column),
                    "" if value is None else cell_text(value),
                )
            )
            if len(found) >= limit:
                break
    return found
