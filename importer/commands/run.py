"""`run`: the import itself, as a Python API a scheduler can call."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

import httpx

from importer.commands.assemble import errors_by_row, final_outcome, status_counts
from importer.commands.engine import Delivery, deliver
from importer.commands.journals import journal_for
from importer.commands.notify import tells
from importer.commands.source import Source, Tally, open_source, tally
from importer.core.config import Mode, Settings
from importer.core.conventions import RESULTS_SUFFIX, SHARE_COLUMNS, STATE_DIR_NAME
from importer.core.errors import (
    ConfigError,
    DailyLimitReached,
    ImportCancelled,
    ImportStopped,
    UserError,
)
from importer.core.estimate import ImportEstimate, estimate_import
from importer.core.outcomes import Origin, RowError, RowOutcome, RowStatus
from importer.core.progress import Counters, Progress
from importer.io.journal import Journal, JournalRow
from importer.io.state import check_state
from importer.io.tables.table import TypedCell
from importer.io.workbooks.results import write_results
from importer.io.workbooks.summary import Summary, fixed_lines
from importer.rules.checks.payload import share_item
from importer.rules.mapping.identity import identity_fields, row_identity
from importer.rules.mapping.messages import headers_by_schema, outcome_in_user_words
from importer.send.budget import daily_usage
from importer.send.pool import Job


@dataclass
class ImportReport:
    """Everything a run did: the CLI formats it, a scheduler reads it."""

    input_path: Path
    mapping_path: Path
    results_path: Path
    journal_path: Path
    mode: str
    outcomes: list[RowOutcome]
    errors: list[RowError]
    started: datetime
    finished: datetime
    api_calls: int = 0
    rate_limited: int = 0
    retries: int = 0
    skipped: int = 0
    resumed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # odd headers, encoding fallbacks...
    stopped: str | None = None  # why the run ended before every row finished
    capped: bool = False  # ... because LSQ_DAILY_LIMIT was reached: a clean stop, exit 1
    operation: str = "capture"
    estimate: ImportEstimate | None = None  # what was said before sending: how long it takes
    shown_name: str = ""  # the input as its user knows it (the page stores uploads renamed)

    @property
    def input_name(self) -> str:
        return self.shown_name or self.input_path.name

    notices: str = ""  # notifications that could not be delivered, for the summary line

    @property
    def exit_code(self) -> int:
        if self.stopped and not self.capped:
            return 2
        ok = all(o.status == RowStatus.SUCCESS for o in self.outcomes)
        return 0 if ok else 1

    @property
    def origins(self) -> dict[Origin, int]:
        """Success rows by where they came from: new, already imported, LeadSquared duplicates."""
        success = (o for o in self.outcomes if o.status == RowStatus.SUCCESS)
        found = Counter(o.origin or Origin.CREATED for o in success)
        return {origin: found.get(origin, 0) for origin in Origin}

    def summary_line(self) -> str:
        parts = ", ".join(self._count_text(status, n) for status, n in self.counts.items() if n)
        seconds = (self.finished - self.started).total_seconds()
        resumed = f" ({self.resumed} already done by an earlier run)" if self.resumed else ""
        return (
            f"{self.input_name}: {len(self.outcomes)} rows: {parts or 'nothing to do'}"
            f"{resumed}; {self.skipped} blank skipped. {self.api_calls} API calls, "
            f"{self.rate_limited} answered 429, {self.retries} retries, {seconds:.1f} s. "
            f"Results: {self.results_path}"
            + (f". Stopped: {self.stopped}" if self.capped else "")
            + (f". {self.notices}" if self.notices else "")
        )

    def _count_text(self, status: str, n: int) -> str:
        if status != RowStatus.SUCCESS:
            return f"{n} {status}"
        origins = self.origins
        if self.operation == "update":
            return (
                f"{n} Success ({origins[Origin.CREATED]} updated, "
                f"{origins[Origin.ALREADY_IMPORTED]} already sent)"
            )
        return (
            f"{n} Success ({origins[Origin.CREATED]} new, "
            f"{origins[Origin.ALREADY_IMPORTED]} already imported, "
            f"{origins[Origin.DUPLICATE]} LeadSquared duplicates)"
        )


def default_results_path(input_path: Path) -> Path:
    return input_path.with_name(f"{input_path.stem}{RESULTS_SUFFIX}")


def default_state_dir(results_path: Path) -> Path:
    return results_path.parent / STATE_DIR_NAME


@tells  # the messages --notify asks for, once the results are written
def run_import(
    input_path: str | Path,
    mapping_path: str | Path,
    *,
    settings: Settings,
    mode: Mode | str = Mode.ASYNC,
    out: str | Path | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    state_dir: str | Path | None = None,
    fresh: bool = False,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    cancel: threading.Event | None = None,
    shown_name: str | None = None,
    fixed: Sequence[str] = (),
) -> ImportReport:
    """Import a spreadsheet; re-running the same call resumes where the last one stopped.

    `shown_name` is the file's name as its user knows it, when it is stored under another
    (the page's uploads): the results, messages and the ledger use it. `fixed` names,
    a sentence each, the cells fixed before the import: the Summary sheet lists them.

    A stop (Ctrl-C, SIGTERM turned into it, or `cancel` set) still writes the results
    workbook, then raises `ImportStopped` (`ImportCancelled` for `cancel`) with the report.
    """
    started = datetime.now()
    chosen = Mode.parse(str(mode))
    source = open_source(input_path, mapping_path, sheet, header_row=header_row)
    _check_can_run(source, settings, chosen)
    results_path = Path(out) if out else default_results_path(source.input_path)
    states = Path(state_dir) if state_dir else default_state_dir(results_path)
    journal_file = journal_for(
        settings, states, source.input_path, source.input_sha256, source.mapping_sha256
    )
    seen, _ = tally(source)
    run = _Run(source, settings, chosen, results_path, seen, started, progress or Progress())
    run.name = shown_name or source.input_path.name
    run.fixed = fixed
    delivery = Delivery(
        settings=settings,
        mode=chosen,
        operation=source.mapping.operation,
        journal_file=journal_file,
        busy_message=_busy_message(run.name),
        file_name=run.name,
        labels=source.columns,
        match_fields=identity_fields(source.mapping),
        fresh=fresh,
    )
    return _finished(run, delivery, transport, cancel)


def _finished(
    run: _Run,
    delivery: Delivery,
    transport: httpx.AsyncBaseTransport | None,
    cancel: threading.Event | None,
) -> ImportReport:
    """Send through the engine; a stop still returns (cap) or raises with the report."""
    source = run.source
    try:
        done = deliver(
            delivery,
            _jobs(source),
            prepare=run.prepare,
            finish=run.finish,
            counters=run.counters,
            progress=run.progress,
            transport=transport,
            cancel=cancel,
        )
    finally:
        run.progress.close()
    report, stopped = done.result, done.stopped
    if isinstance(stopped, DailyLimitReached):
        report.capped = True
        return report  # the rows not sent are NotSent: the same command after the reset goes on
    if stopped is not None:
        kind = ImportCancelled if isinstance(stopped, ImportCancelled) else ImportStopped
        raise kind(_stopped_message(report), report=report) from None
    return report


def _check_can_run(source: Source, settings: Settings, mode: Mode) -> None:
    if source.mapping.operation == "update" and mode == Mode.SYNC:
        raise ConfigError("Updates go through LeadSquared's async API only: drop --mode sync")
    settings.require(
        sync=mode == Mode.SYNC or source.mapping.share is not None,
        asynchronous=mode == Mode.ASYNC,
    )
    check_state(settings)  # an unusable LSQ_STATE_URL stops it before any call


@dataclass
class _Run:
    """One import under way: what it reads, where it writes, what it counts."""

    source: Source
    settings: Settings
    mode: Mode
    results_path: Path
    seen: Tally
    started: datetime
    progress: Progress
    counters: Counters = field(default_factory=Counters)
    resumed: int = 0  # rows an earlier run of this file finished
    name: str = ""  # the input's name as its user knows it
    estimate: ImportEstimate | None = None
    fixed: Sequence[str] = ()  # cells fixed before the import, a sentence each (the page)

    def record(self, journal: Journal) -> None:
        """What this run is, and its input rows, into the journal (a resumed run checks them)."""
        source = self.source
        meta = journal.meta()
        if meta.get("mode") and meta["mode"] != self.mode:
            raise UserError(
                f"{self.name} was started in {meta['mode']} mode; run it again with "
                f"--mode {meta['mode']} to resume, or add --fresh to start over"
            )
        journal.set_meta(
            input=str(source.input_path.resolve()),
            input_sha256=source.input_sha256,
            mapping=str(source.mapping_path.resolve()),
            mapping_sha256=source.mapping_sha256,
            mode=str(self.mode),
            operation=source.mapping.operation,
            results=str(self.results_path.resolve()),
            field_headers=json.dumps(headers_by_schema(source.columns), ensure_ascii=False),
        )
        if not journal.has_inputs():
            journal.save_inputs(
                source.table.original_headers, _input_cells(source), self.seen.errors
            )

    def prepare(self, journal: Journal) -> dict[int, JournalRow]:
        """Record the run in its journal, say how long the rest takes, and start the bar."""
        self.record(journal)
        resume = journal.snapshot()
        self.resumed = _done(resume)
        estimate = estimate_import(
            max(0, self.seen.valid - self.resumed),
            self.settings.rate,
            self.mode,
            shares=self.source.mapping.share is not None,
        )
        if self.settings.daily_limit:
            usage = daily_usage(self.settings)
            estimate = dataclasses.replace(estimate, daily=usage.sentence(estimate.total_calls))
        self.estimate = estimate
        self.progress.estimated(estimate)
        self.progress.start(self.seen.valid)
        return resume

    def finish(
        self, journal: Journal, outcomes: dict[int, RowOutcome], stop_reason: str | None
    ) -> ImportReport:
        """Write the results workbook: every non-blank input row (read back from the journal)."""
        source, seen, counters = self.source, self.seen, self.counters
        journal_rows = journal.snapshot()
        problems = errors_by_row(seen.errors)
        names = headers_by_schema(source.columns)  # LeadSquared's failures name Schema Names
        final = {
            n: outcome_in_user_words(
                final_outcome(n, outcomes, journal_rows, problems, stop_reason), names
            )
            for n in seen.row_numbers
        }
        summary = _run_summary(self, final.values(), journal.path, stop_reason)
        write_results(
            self.results_path,
            input_headers=source.table.original_headers,
            rows=((cells, final[n]) for n, cells in journal.inputs()),
            errors=seen.errors,
            summary=summary,
            extra_columns=list(SHARE_COLUMNS) if source.mapping.share else [],
        )
        return ImportReport(
            input_path=source.input_path,
            mapping_path=source.mapping_path,
            results_path=self.results_path,
            journal_path=journal.path,
            mode=str(self.mode),
            outcomes=list(final.values()),
            errors=seen.errors,
            started=self.started,
            finished=summary.finished,
            api_calls=counters.api_calls,
            rate_limited=counters.rate_limited,
            retries=counters.retries,
            skipped=seen.skipped,
            resumed=self.resumed,
            estimate=self.estimate,
            counts=summary.counts,
            warnings=list(source.table.warnings),
            stopped=stop_reason,
            operation=source.mapping.operation,
            shown_name=self.name,
        )


def _run_summary(
    run: _Run, final: Iterable[RowOutcome], journal: Path, stop_reason: str | None
) -> Summary:
    """The Summary sheet: counts, the input and mapping, times, calls, where it stopped."""
    source, seen, counters = run.source, run.seen, run.counters
    summary = Summary(
        counts=status_counts(final),
        input_name=run.name,
        input_sha256=source.input_sha256,
        mapping=str(source.mapping_path.resolve()),
        mode=str(run.mode),
        started=run.started,
        finished=datetime.now(),
        api_calls=counters.api_calls,
        rate_limited=counters.rate_limited,
        retries=counters.retries,
        extra={
            "Operation": source.mapping.operation,
            "Rows read": seen.rows_read,
            "Blank rows skipped": seen.skipped,
            "Totals rows skipped": seen.total_rows,
            "Journal": str(journal),
            **fixed_lines(run.fixed),
        },
    )
    if stop_reason:
        summary.extra["Stopped"] = stop_reason
    return summary


def _busy_message(name: str) -> str:
    return (
        f"Another lsq-import is already importing {name}; wait for it to finish "
        "(this one sent nothing)"
    )


def _done(resume: dict[int, JournalRow]) -> int:
    return sum(1 for r in resume.values() if r.outcome)


def _stopped_message(report: ImportReport) -> str:
    unsettled = (RowStatus.NOT_SENT, RowStatus.PENDING)
    finished = sum(n for status, n in report.counts.items() if status not in unsettled)
    parts = ", ".join(f"{n} {s}" for s, n in report.counts.items() if n)
    return (
        f"{report.input_name}: stopped before every row had its result; {finished} of "
        f"{len(report.outcomes)} rows have one ({parts}). Results so far: "
        f"{report.results_path}. Run the same command again to resume; nothing is sent twice."
    )


def _jobs(source: Source) -> Iterator[Job]:
    mapping = source.mapping
    for row_number, body, values in source.payloads():
        item = partial(share_item, values=values, mapping=mapping) if mapping.share else None
        yield Job(
            row_number=row_number,
            body=body,
            share_item=item,
            identity=row_identity(mapping, body, values),
            values=values,
        )


def _input_cells(source: Source) -> Iterator[tuple[int, list[TypedCell]]]:
    """The rows as the file has them (numbers, dates...), for the results workbook."""
    return source.table.typed_rows()
