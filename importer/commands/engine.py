"""The one engine `run` and `retry` send through: lock, journal, ledger, stops, results.

Whatever the command, sending rows is the same: one process per journal (a lock), the
account's ledger claimed under a lease, the pool, and a stop (a signal, a cancel, the
daily cap) or a fatal error that still leaves the results written from what the journal
holds. The command says what to send and how to write its results; nothing else differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import httpx

from importer.core.config import Mode, Settings
from importer.core.errors import DailyLimitReached, ImportCancelled, ImportStopped, UserError
from importer.core.outcomes import RowOutcome
from importer.core.progress import Counters, Progress
from importer.io.journal import Journal, JournalRow
from importer.io.locks import FileLock
from importer.send.pool import Job, send_rows
from importer.send.previous import PreviousImports, open_ledger

R = TypeVar("R")
# What ends a run early but cleanly: the results are written and the same command goes on.
STOPS = (KeyboardInterrupt, asyncio.CancelledError, ImportStopped, DailyLimitReached)


@dataclass(frozen=True)
class Delivery:
    """Where and how a command's rows go out."""

    settings: Settings
    mode: Mode
    operation: str
    journal_file: Path
    busy_message: str  # said when another process holds this journal
    file_name: str  # the input as the ledger names where a row came from
    labels: dict[str, str]  # target -> the user's header
    match_fields: Sequence[str] | None  # what a read-back compares (None: every field)
    fresh: bool = False


@dataclass
class Delivered(Generic[R]):
    """What the command's `finish` made of the outcomes, and what stopped it early."""

    result: R
    stopped: BaseException | None


Prepare = Callable[[Journal], dict[int, JournalRow]]
Finish = Callable[[Journal, dict[int, RowOutcome], str | None], R]


def deliver(
    delivery: Delivery,
    jobs: Iterable[Job],
    *,
    prepare: Prepare,
    finish: Finish[R],
    counters: Counters,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    cancel: threading.Event | None = None,
) -> Delivered[R]:
    """Send `jobs` and write the results with `finish`, even after a stop or a fatal error.

    `prepare` readies the journal (what the run is, rows to reopen) and returns what it
    knows of each row; `finish(journal, outcomes, stop_reason)` writes the results.
    """
    with FileLock(delivery.journal_file.with_suffix(".lock"), delivery.busy_message):
        if delivery.fresh:
            _forget(delivery.journal_file)  # --fresh: the old journal goes (its lock is ours)
        return _deliver(delivery, jobs, prepare, finish, counters, progress, transport, cancel)


def _deliver(
    delivery: Delivery,
    jobs: Iterable[Job],
    prepare: Prepare,
    finish: Finish[R],
    counters: Counters,
    progress: Progress | None,
    transport: httpx.AsyncBaseTransport | None,
    cancel: threading.Event | None,
) -> Delivered[R]:
    settings = delivery.settings
    with (
        Journal(delivery.journal_file) as journal,
        open_ledger(settings) as ledger,
        PreviousImports(
            ledger,
            run=delivery.journal_file.stem,
            file=delivery.file_name,
            operation=delivery.operation,
            labels=delivery.labels,
            fresh=delivery.fresh,
            lease_seconds=settings.lease_seconds,
        ) as previous,
    ):
        resume = prepare(journal)
        try:
            outcomes = send_rows(
                jobs,
                resume,
                settings=settings,
                journal=journal,
                mode=delivery.mode,
                operation="update" if delivery.operation == "update" else "capture",
                counters=counters,
                progress=progress,
                transport=transport,
                cancel=cancel,
                previous=previous,
                match_fields=delivery.match_fields,
            )
        except STOPS as exc:
            # What finished is in the journal: the results say so; the rest goes next time.
            return Delivered(finish(journal, _done(journal), stop_reason(exc)), exc)
        except BaseException as exc:
            finish(journal, _done(journal), stop_reason(exc))  # a 401, a lost database, a bug
            raise
        return Delivered(finish(journal, outcomes, None), None)


def _forget(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(path) + suffix).unlink()


def _done(journal: Journal) -> dict[int, RowOutcome]:
    return {row.row_number: row.outcome for row in journal.rows() if row.outcome}


def stop_reason(exc: BaseException) -> str:
    """Why a run ended early, in the words the results' Summary and NotSent rows use."""
    if isinstance(exc, DailyLimitReached):
        return str(exc)
    if isinstance(exc, ImportCancelled):
        return "cancelled"
    if isinstance(exc, STOPS):
        return "interrupted"
    if isinstance(exc, UserError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
