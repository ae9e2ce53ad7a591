"""`verify`: read the imported opportunities back and reconcile them with what was sent.

Each `Success` row of a results workbook names an opportunity (created, or the
existing one LeadSquared kept as a duplicate) and its lead. Opportunities are
read per lead through Get Opportunities by Lead Id, paging until the list ends;
what was sent is rebuilt from the workbook's own input columns with the mapping,
exactly as `run` built it.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from importer.commands.source import frame_from_rows, row_values
from importer.core.config import Settings
from importer.core.constants import OPPORTUNITIES_PAGE_SIZE
from importer.core.conventions import VERIFY_SUFFIX
from importer.core.errors import NotFound, UserError
from importer.core.outcomes import RowStatus
from importer.core.progress import Counters
from importer.io.state import check_state
from importer.io.workbooks.reader import Layout, ResultRow, ResultsReader
from importer.io.workbooks.reconciliation import write_reconciliation
from importer.rules.checks.validator import Validator
from importer.rules.mapping.mapping import FieldSpec, Mapping
from importer.rules.mapping.mapping_file import load_mapping
from importer.rules.values.comparison import stored_value, values_match
from importer.send.readback import LeadRead, LeadReader
from importer.send.session import Session

PRESENT = "Present"
MISSING = "Missing"
DIFFERS = "Differs"
NOT_CHECKED = "Not checked"

CHUNK_ROWS = 5_000  # Success rows planned and read back together
DUPLICATE_NOTE = (
    "duplicate: compared with the existing opportunity LeadSquared kept "
    "(the import did not create it)"
)


# ---------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class ReconciliationLine:
    """One line of the `Reconciliation` sheet."""

    row_number: int
    opportunity_id: str
    lead_id: str
    result: str  # PRESENT, MISSING, DIFFERS, NOT_CHECKED
    field: str = ""
    sent: str = ""
    stored: str = ""
    message: str = ""

    def as_cells(self) -> list[str | int]:
        return [
            self.row_number,
            self.opportunity_id,
            self.lead_id,
            self.result,
            self.field,
            self.sent,
            self.stored,
            self.message,
        ]


@dataclass
class VerifyReport:
    """What `verify` found; the CLI prints `summary_line()` and exits with `exit_code`."""

    results_path: Path
    report_path: Path
    checked: int  # Success rows looked up in LeadSquared
    present: int  # ... of which the opportunity was found (matching or not)
    missing: int
    differences: int  # differing fields, over all rows
    differing_rows: int
    not_checked: int  # Success rows that could not be looked up
    api_calls: int = 0
    rate_limited: int = 0
    retries: int = 0
    lines: list[ReconciliationLine] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 only when every Success row was found and every field matched."""
        clean = self.missing == 0 and self.differences == 0 and self.not_checked == 0
        return 0 if clean else 1

    def summary_line(self) -> str:
        found = f"{self.present} present"
        if self.differences:
            fields = "field" if self.differences == 1 else "fields"
            found += f" ({self.differing_rows} with {self.differences} differing {fields})"
        unchecked = f", {self.not_checked} not checked" if self.not_checked else ""
        return (
            f"{self.results_path.name}: {self.checked} opportunities checked: {found}, "
            f"{self.missing} missing{unchecked}. {self.api_calls} API calls. "
            f"Report: {self.report_path}"
        )


def default_report_path(results_path: Path) -> Path:
    return results_path.with_name(f"{results_path.stem}{VERIFY_SUFFIX}")


# ---------------------------------------------------------------- what each row expects


@dataclass
class _Check:
    """One Success row to look up: where its opportunity should be and what it should hold."""

    row_number: int
    opportunity_id: str
    lead_id: str
    duplicate: bool
    expected: dict[str, str]  # SchemaName -> sent value (non-empty only)
    note: str = ""  # why fields are not compared, when they are not


def _expected_values(
    layout: Layout, rows: list[ResultRow], mapping: Mapping
) -> tuple[dict[int, dict[str, str]], dict[int, str], dict[str, str]]:
    """Rebuild the sent `opportunity.*` values of these rows from the workbook's input cells.

    Returns (expected values by row, why a row's fields cannot be compared, target -> header).
    """
    expected: dict[int, dict[str, str]] = {}
    problems: dict[int, str] = {}
    if not rows:
        return expected, problems, {}
    frame, columns = frame_from_rows(layout, rows, mapping)
    checked = Validator(mapping, columns).validate(frame)
    for error in checked.errors:
        previous = problems.get(error.row_number)
        problems[error.row_number] = (
            error.message if previous is None else f"{previous}; {error.message}"
        )
    for row_number, values in row_values(checked.values).items():
        expected[row_number] = {
            name: str(values[f"opportunity.{name}"])
            for name in mapping.opportunity
            if str(values[f"opportunity.{name}"]) != ""
        }
    return expected, problems, columns


def _plan(
    layout: Layout, successes: list[ResultRow], mapping: Mapping
) -> tuple[list[_Check], list[ReconciliationLine], dict[str, str]]:
    """The rows to look up, the lines of Success rows that cannot be, and target -> header."""
    checks: list[_Check] = []
    unchecked: list[ReconciliationLine] = []
    expected, problems, columns = _expected_values(layout, successes, mapping)
    for row in successes:
        outcome = row.outcome
        opportunity_id = outcome.created_opportunity_id or outcome.conflicted_opportunity_id or ""
        lead_id = outcome.related_prospect_id or ""
        why = ""
        if not opportunity_id:
            why = "no opportunity id in the results"
        elif not lead_id:
            why = "no lead id in the results"
            if mapping.operation == "update":
                why += " (an update's results carry none, and opportunities are read by lead)"
        if why:
            unchecked.append(
                ReconciliationLine(
                    outcome.row_number, opportunity_id, lead_id, NOT_CHECKED, message=why
                )
            )
            continue
        note = ""
        if outcome.row_number in problems:
            note = (
                "fields not compared: the row's input no longer passes validation ("
                + problems[outcome.row_number]
                + ")"
            )
        checks.append(
            _Check(
                row_number=outcome.row_number,
                opportunity_id=opportunity_id,
                lead_id=lead_id,
                duplicate=not outcome.created_opportunity_id,
                expected=expected.get(outcome.row_number, {}),
                note=note,
            )
        )
    return checks, unchecked, columns


# ---------------------------------------------------------------- reconciling


def _reconcile(
    check: _Check, read: LeadRead, mapping: Mapping, headers: dict[str, str]
) -> Iterator[ReconciliationLine]:
    """The lines of one row: one per differing field, else one for the whole row."""
    line = ReconciliationLine(check.row_number, check.opportunity_id, check.lead_id, PRESENT)
    notes = [DUPLICATE_NOTE] if check.duplicate else []
    if read.error is not None:
        yield _with(line, NOT_CHECKED, "; ".join([read.error, *notes]))
        return
    item = read.found.get(check.opportunity_id)
    if item is None:
        whose = "the existing opportunity it was a duplicate of" if check.duplicate else "it"
        yield _with(line, MISSING, f"LeadSquared no longer lists {whose} on this lead")
        return
    differing = list(_differences(check, item, mapping.opportunity))
    if not differing:
        if check.note:
            message = check.note
        else:
            count = len(check.expected)
            message = f"{count} mapped field{'s' if count != 1 else ''} match"
        yield _with(line, PRESENT, "; ".join([message, *notes]))
        return
    for name, sent, stored, why in differing:
        header = headers.get(f"opportunity.{name}")
        yield ReconciliationLine(
            check.row_number,
            check.opportunity_id,
            check.lead_id,
            DIFFERS,
            field=f"{header} ({name})" if header else name,
            sent=sent,
            stored=stored,
            message="; ".join([why, *notes]),
        )


def _differences(
    check: _Check, item: dict[str, Any], specs: dict[str, FieldSpec]
) -> Iterator[tuple[str, str, str, str]]:
    """(SchemaName, sent, stored, why) of every sent field LeadSquared holds otherwise."""
    for name, sent in check.expected.items():
        returned, stored = stored_value(item, name)
        if not returned:
            yield name, sent, "", "not returned by LeadSquared"
        elif not values_match(sent, stored, ignore_case=bool(specs[name].allowed)):
            yield name, sent, stored, "stored value differs from what was sent"


def _with(line: ReconciliationLine, result: str, message: str) -> ReconciliationLine:
    return ReconciliationLine(
        line.row_number, line.opportunity_id, line.lead_id, result, message=message
    )


# ---------------------------------------------------------------- the Python API


def verify_results(
    results_path: str | Path,
    mapping_path: str | Path,
    *,
    settings: Settings,
    report: str | Path | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    page_size: int = OPPORTUNITIES_PAGE_SIZE,
    cancel: threading.Event | None = None,
) -> VerifyReport:
    """Read back every Success row's opportunity and write the reconciliation workbook.

    The results workbook is streamed and checked CHUNK_ROWS Success rows at a time. With
    `cancel` set it stops between leads and raises `ImportCancelled` (it wrote nothing).
    """
    started = datetime.now()
    path = Path(results_path)
    mapping = load_mapping(mapping_path)
    settings.require(sync=True, asynchronous=False)
    check_state(settings)  # an unusable LSQ_STATE_URL stops it before any call
    counters = Counters()
    tally = _Tally()
    with ResultsReader(path) as reader:
        lines = asyncio.run(
            _verify_all(reader, mapping, settings, transport, counters, page_size, tally, cancel)
        )
    return _report(path, report, tally, mapping_path, lines, counters, started)


@dataclass
class _Tally:
    rows: int = 0
    leads: int = 0


async def _verify_all(
    reader: ResultsReader,
    mapping: Mapping,
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None,
    counters: Counters,
    page_size: int,
    tally: _Tally,
    cancel: threading.Event | None,
) -> list[ReconciliationLine]:
    lines: list[ReconciliationLine] = []
    async with Session(settings, transport=transport, counters=counters) as session:
        lead_reader = LeadReader(
            session,
            page_size=page_size,
            opportunity_type=mapping.opportunity_event_code,
            # Without Include_CSV the API lists only its default fields, not custom ones.
            columns=list(mapping.opportunity) or None,
            cancel=cancel,
        )
        for chunk in _success_chunks(reader, tally):
            checks, unchecked, headers = _plan(reader.layout, chunk, mapping)
            wanted: dict[str, set[str]] = defaultdict(set)
            for check in checks:
                wanted[check.lead_id].add(check.opportunity_id)
            tally.leads += len(wanted)
            try:
                reads = await lead_reader.read_all(wanted) if wanted else {}
            except NotFound as exc:
                raise UserError(
                    f"LeadSquared answered 404 Not Found ({exc.message}): check LSQ_HOST and "
                    "LSQ_PATH_OPPORTUNITIES_OF_LEAD"
                ) from None
            found = list(unchecked)
            for check in checks:
                found.extend(_reconcile(check, reads[check.lead_id], mapping, headers))
            found.sort(key=lambda line: line.row_number)
            lines.extend(found)
    return lines


def _success_chunks(reader: ResultsReader, tally: _Tally) -> Iterator[list[ResultRow]]:
    chunk: list[ResultRow] = []
    for row in reader.rows():
        tally.rows += 1
        if row.outcome.status == RowStatus.SUCCESS:
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _report(
    path: Path,
    report: str | Path | None,
    tally: _Tally,
    mapping_path: str | Path,
    lines: list[ReconciliationLine],
    counters: Counters,
    started: datetime,
) -> VerifyReport:
    by_row: dict[int, set[str]] = defaultdict(set)
    for line in lines:
        by_row[line.row_number].add(line.result)
    not_checked = sum(1 for results in by_row.values() if NOT_CHECKED in results)
    missing = sum(1 for results in by_row.values() if MISSING in results)
    differing_rows = sum(1 for results in by_row.values() if DIFFERS in results)
    present = sum(1 for results in by_row.values() if results & {PRESENT, DIFFERS})
    result = VerifyReport(
        results_path=path,
        report_path=Path(report) if report else default_report_path(path),
        checked=present + missing,
        present=present,
        missing=missing,
        differences=sum(1 for line in lines if line.result == DIFFERS),
        differing_rows=differing_rows,
        not_checked=not_checked,
        api_calls=counters.api_calls,
        rate_limited=counters.rate_limited,
        retries=counters.retries,
        lines=lines,
    )
    summary: list[tuple[str, str | int]] = [
        ("Results", str(path.resolve())),
        ("Mapping", str(Path(mapping_path).resolve())),
        ("Started", f"{started:%Y-%m-%d %H:%M:%S}"),
        ("Finished", f"{datetime.now():%Y-%m-%d %H:%M:%S}"),
        ("Rows in results", tally.rows),
        ("Success rows", len(by_row)),
        ("Checked", result.checked),
        ("Present", result.present),
        ("Present, all fields match", result.present - differing_rows),
        ("Present, fields differ", differing_rows),
        ("Differing fields", result.differences),
        ("Missing", result.missing),
        ("Not checked", result.not_checked),
        ("Leads read", tally.leads),
        ("API calls", counters.api_calls),
        ("Rate limited (429)", counters.rate_limited),
        ("Retries", counters.retries),
    ]
    write_reconciliation(
        result.report_path, lines=(line.as_cells() for line in lines), summary=summary
    )
    return result
