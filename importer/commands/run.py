"""`run`: the import itself, as a Python API a scheduler can call."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

import httpx

from importer.commands.source import Source, Tally, invalid_outcome, open_source, tally
from importer.core.config import Settings, settings_from_env
from importer.core.errors import ConfigError, UserError
from importer.core.outcomes import RowError, RowOutcome, RowStatus
from importer.io.journal import Journal, JournalRow, RunLock, journal_path
from importer.io.results import Summary, write_results
from importer.lsq.client import CallRecord, LeadSquaredClient
from importer.rules.payload import share_item
from importer.send.pool import Counters, ImportPool, Job

Mode = Literal["async", "sync"]
NOT_SENT = "Not sent: the run stopped before this row's turn ({reason}); run the same command again"


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

    @property
    def exit_code(self) -> int:
        ok = all(o.status == RowStatus.SUCCESS for o in self.outcomes)
        return 0 if ok else 1

    def summary_line(self) -> str:
        parts = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n)
        seconds = (self.finished - self.started).total_seconds()
        resumed = f" ({self.resumed} already done by an earlier run)" if self.resumed else ""
        return (
            f"{self.input_path.name}: {len(self.outcomes)} rows: {parts or 'nothing to do'}"
            f"{resumed}; {self.skipped} blank skipped. {self.api_calls} API calls, "
            f"{self.rate_limited} answered 429, {self.retries} retries, {seconds:.1f} s. "
            f"Results: {self.results_path}"
        )


def default_results_path(input_path: Path) -> Path:
    return input_path.with_name(f"{input_path.stem}.results.xlsx")


def default_state_dir(results_path: Path) -> Path:
    return results_path.parent / ".lsq-state"


def run_import(
    input_path: str | Path,
    mapping_path: str | Path,
    *,
    settings: Settings | None = None,
    mode: Mode = "async",
    out: str | Path | None = None,
    sheet: str | None = None,
    state_dir: str | Path | None = None,
    fresh: bool = False,
    progress: Any = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ImportReport:
    """Import a spreadsheet; re-running the same call resumes where the last one stopped."""
    started = datetime.now()
    settings = settings or settings_from_env()
    source = open_source(input_path, mapping_path, sheet)
    operation = source.mapping.operation
    if operation == "update" and mode == "sync":
        raise ConfigError("Updates go through LeadSquared's async API only: drop --mode sync")
    settings.require(
        sync=mode == "sync" or source.mapping.share is not None,
        asynchronous=mode == "async",
    )
    results_path = Path(out) if out else default_results_path(source.input_path)
    states = Path(state_dir) if state_dir else default_state_dir(results_path)
    journal_file = journal_path(
        states, source.input_path, source.input_sha256, source.mapping_sha256
    )
    seen, _ = tally(source)
    with (
        RunLock(journal_file, source.input_path.name),
        Journal(_fresh(journal_file) if fresh else journal_file) as journal,
    ):
        meta = journal.meta()
        if meta.get("mode") and meta["mode"] != mode:
            raise UserError(
                f"{source.input_path.name} was started in {meta['mode']} mode; run it again with "
                f"--mode {meta['mode']} to resume, or add --fresh to start over"
            )
        journal.set_meta(
            input=str(source.input_path.resolve()),
            input_sha256=source.input_sha256,
            mapping=str(source.mapping_path.resolve()),
            mapping_sha256=source.mapping_sha256,
            mode=mode,
            operation=operation,
            results=str(results_path.resolve()),
        )
        if not journal.has_inputs():
            journal.save_inputs(source.table.original_headers, _input_cells(source), seen.errors)
        resume = journal.snapshot()
        counters = Counters()
        outcomes: dict[int, RowOutcome] = {}
        stop_reason: str | None = None
        if progress is not None and hasattr(progress, "start"):
            progress.start(seen.valid)
        try:
            outcomes = asyncio.run(
                send_jobs(
                    _jobs(source),
                    journal,
                    resume,
                    settings,
                    mode,
                    operation,
                    counters,
                    progress,
                    transport,
                )
            )
        except BaseException as exc:  # noqa: BLE001 - we write what we have, then re-raise
            stop_reason = _stop_reason(exc)
            outcomes = {r.row_number: r.outcome for r in journal.rows() if r.outcome}
            raise
        finally:
            if progress is not None and hasattr(progress, "close"):
                progress.close()
            report = _finish(
                source,
                results_path,
                journal,
                mode,
                seen,
                outcomes,
                counters,
                started,
                stop_reason,
                resumed=sum(1 for r in resume.values() if r.outcome),
            )
    return report


async def send_jobs(
    jobs: Iterable[Job],
    journal: Journal,
    resume: dict[int, JournalRow],
    settings: Settings,
    mode: Mode,
    operation: Any,
    counters: Counters,
    progress: Any,
    transport: httpx.AsyncBaseTransport | None,
) -> dict[int, RowOutcome]:
    """Run the pool over these jobs with one client; every outcome also lands in the journal."""

    def count(record: CallRecord) -> None:
        counters.api_calls += 1
        if progress is not None and hasattr(progress, "call"):
            progress.call(record)

    async with LeadSquaredClient(settings, transport=transport, on_call=count) as client:
        pool = ImportPool(
            client,
            journal,
            settings,
            mode=mode,
            operation=operation,
            progress=progress,
            counters=counters,
        )
        return await pool.run(jobs, resume)


def _jobs(source: Source) -> Iterator[Job]:
    share = source.mapping.share
    for row_number, body, values in source.payloads():
        item = partial(share_item, values=values, mapping=source.mapping) if share else None
        yield Job(row_number=row_number, body=body, share_item=item)


def _input_cells(source: Source) -> Iterator[tuple[int, list[str]]]:
    for frame in source.table.chunks():
        for row_number, cells in zip(frame.index, frame.itertuples(index=False), strict=True):
            yield int(row_number), list(cells)


def _stop_reason(exc: BaseException) -> str:
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
        return "interrupted"
    return f"{type(exc).__name__}: {exc}"


def _finish(
    source: Source,
    results_path: Path,
    journal: Journal,
    mode: str,
    seen: Tally,
    outcomes: dict[int, RowOutcome],
    counters: Counters,
    started: datetime,
    stop_reason: str | None,
    *,
    resumed: int,
) -> ImportReport:
    """Write the results workbook: every non-blank input row (read back from the journal)."""
    journal_rows = journal.snapshot()
    errors_by_row = _by_row(seen.errors)
    final = {
        n: _outcome_for(n, outcomes, journal_rows, seen.invalid_rows, errors_by_row, stop_reason)
        for n in seen.row_numbers
    }
    summary = Summary(
        counts=_counts(final.values()),
        input_name=source.input_path.name,
        input_sha256=source.input_sha256,
        mapping=str(source.mapping_path.resolve()),
        mode=mode,
        started=started,
        finished=datetime.now(),
        api_calls=counters.api_calls,
        rate_limited=counters.rate_limited,
        retries=counters.retries,
        extra={
            "Operation": source.mapping.operation,
            "Rows read": seen.rows_read,
            "Blank rows skipped": source.table.blank_rows,
            "Journal": str(journal.path),
        },
    )
    if stop_reason:
        summary.extra["Stopped"] = stop_reason
    write_results(
        results_path,
        input_headers=source.table.original_headers,
        rows=((cells, final[n]) for n, cells in journal.inputs()),
        errors=seen.errors,
        summary=summary,
        extra_columns=["SharedWith", "ShareStatus"] if source.mapping.share else [],
    )
    return ImportReport(
        input_path=source.input_path,
        mapping_path=source.mapping_path,
        results_path=results_path,
        journal_path=journal.path,
        mode=mode,
        outcomes=list(final.values()),
        errors=seen.errors,
        started=started,
        finished=summary.finished,
        api_calls=counters.api_calls,
        rate_limited=counters.rate_limited,
        retries=counters.retries,
        skipped=source.table.blank_rows,
        resumed=resumed,
        counts=summary.counts,
        warnings=list(source.table.warnings),
    )


def _by_row(errors: Iterable[RowError]) -> dict[int, list[RowError]]:
    grouped: dict[int, list[RowError]] = defaultdict(list)
    for error in errors:
        grouped[error.row_number].append(error)
    return grouped


def _counts(outcomes: Iterable[RowOutcome]) -> dict[str, int]:
    """Rows per status, every status listed (the Summary sheet's counts)."""
    counts = Counter(str(o.status) for o in outcomes)
    return {str(status): counts.get(str(status), 0) for status in RowStatus}


def _outcome_for(
    row_number: int,
    outcomes: dict[int, RowOutcome],
    journal_rows: dict[int, JournalRow],
    invalid_rows: set[int],
    errors_by_row: dict[int, list[RowError]],
    stop_reason: str | None,
) -> RowOutcome:
    if row_number in invalid_rows:
        return invalid_outcome(row_number, errors_by_row.get(row_number, []))
    if row_number in outcomes:
        return outcomes[row_number]
    previous = journal_rows.get(row_number)
    if previous is not None and previous.outcome is not None:
        return previous.outcome
    if previous is not None and previous.request_id:
        return RowOutcome(
            row_number=row_number,
            status=RowStatus.PENDING,
            request_id=previous.request_id,
            message="Accepted by LeadSquared; its result was not collected before the run stopped",
        )
    return RowOutcome(
        row_number=row_number,
        status=RowStatus.FAILURE,
        message=NOT_SENT.format(reason=stop_reason or "unknown"),
    )


def rebuild_results(journal_file: str | Path, out: str | Path | None = None) -> Path:
    """Write a run's results workbook again from its journal alone: no input file, no network.

    For a workbook lost or left stale by a crash; rows the crash caught mid-flight show as
    Pending (accepted) or Failure ("not sent"), and the same `run` command then resumes them.
    """
    path = Path(journal_file)
    if not path.is_file():
        raise UserError(f"Journal {path} does not exist")
    with Journal(path) as journal:
        meta = journal.meta()
        if not journal.has_inputs():
            raise UserError(f"{path} holds no input rows (it was made by an older lsq-import)")
        rows = journal.snapshot()
        errors = journal.problems()
        by_row = _by_row(errors)
        stop = "the run stopped; run the same command again"
        cells = [
            (cells, _outcome_for(n, {}, rows, set(by_row), by_row, stop))
            for n, cells in journal.inputs()
        ]
    now = datetime.now()
    summary = Summary(
        counts=_counts(o for _, o in cells),
        input_name=Path(meta.get("input", "")).name,
        input_sha256=meta.get("input_sha256", ""),
        mapping=meta.get("mapping", ""),
        mode=meta.get("mode", ""),
        started=now,
        finished=now,
        extra={
            "Operation": meta.get("operation", ""),
            "Journal": str(path.resolve()),
            "Rebuilt": f"{now:%Y-%m-%d %H:%M:%S} from the journal",
        },
    )
    target = Path(out or meta.get("results") or path.with_suffix(".results.xlsx"))
    headers = json.loads(meta.get("headers", "[]"))
    extra = ["SharedWith", "ShareStatus"] if any(o.extra for _, o in cells) else []
    write_results(
        target,
        input_headers=headers,
        rows=cells,
        errors=errors,
        summary=summary,
        extra_columns=extra,
    )
    return target


def _fresh(path: Path) -> Path:
    """--fresh: forget the old journal (called with its lock held)."""
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(path) + suffix).unlink()
    return path
