"""`watch`: nightly drops. Import each spreadsheet that lands in an inbox, one at a time,
then file it with its results workbook under `archive` (every row Success) or `failed`.

Safe under cron: one inbox lock, so overlapping runs never import the same file; the
per-file journal (see `run`) makes a file that a killed run left behind resume
without sending anything twice.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from importer.commands.history import remember_file
from importer.commands.notify import (
    Notice,
    NoticeEvent,
    Notifier,
    notice_of_error,
    notice_of_report,
    told_if_it_cannot_run,
)
from importer.commands.run import ImportReport, default_results_path, run_import
from importer.commands.signals import StopSignals
from importer.commands.source import file_sha256
from importer.core.config import Mode, Settings
from importer.core.conventions import STATE_DIR_NAME
from importer.core.errors import (
    ApiError,
    ConfigError,
    ImportStopped,
    InputFileError,
    LockedError,
    UserError,
)
from importer.io.inbox import append_log, file_away, scan_inbox, settle_wait
from importer.io.locks import FileLock
from importer.io.state import check_state
from importer.lsq.redaction import redact
from importer.rules.mapping.mapping_file import load_mapping
from importer.send.budget.daily import resets_at

LOCK_RETRY_SECONDS = 1.0  # how often a waiting watcher tries the inbox lock again
ONCE_WAIT_LIMIT_SECONDS = 600.0  # --once waits this long at most for files still being written
LOG_NAME = "watch.log.jsonl"
LOCK_NAME = "watch.lock"
NO_DATA_ROWS = (
    "no data rows: the file has a header but no rows (an empty drop usually means the "
    "export upstream failed)"
)

Echo = Callable[[str], None]


class FileOutcome(StrEnum):
    """What happened to one dropped file; the value is what the run log stores."""

    ARCHIVED = "archived"  # every row Success: moved to the archive
    FAILED = "failed"  # imported, some rows not Success: moved to the failed folder
    INTERRUPTED = "interrupted"  # stopped mid-file: left in the inbox, resumes next run
    CAPPED = "capped"  # LSQ_DAILY_LIMIT reached mid-file: left in the inbox, goes on after reset
    ERROR = "error"  # could not be imported at all (see `error`)


# What each outcome means, in the summary line a person reads.
OUTCOME_WORDS = {
    FileOutcome.ARCHIVED: "archived (every row Success)",
    FileOutcome.FAILED: "moved to failed (some rows need a look: see their results)",
    FileOutcome.INTERRUPTED: "interrupted (left in the inbox; the next run goes on)",
    FileOutcome.CAPPED: "left for tomorrow (the daily call limit was reached)",
    FileOutcome.ERROR: "could not be read (moved to failed, the reason in its .error.txt)",
}


@dataclass
class FileRecord:
    """One file handled: a line of the run log."""

    file: str
    outcome: FileOutcome
    time: datetime = field(default_factory=lambda: datetime.now().astimezone())
    sha256: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    duration_seconds: float = 0.0
    results: Path | None = None
    moved_to: Path | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "time": self.time.isoformat(timespec="seconds"),
            "file": self.file,
            "sha256": self.sha256,
            "rows": self.rows,
            "duration_seconds": round(self.duration_seconds, 3),
            "results": str(self.results) if self.results else None,
            "moved_to": str(self.moved_to) if self.moved_to else None,
            "outcome": str(self.outcome),
        }
        if self.error:
            line["error"] = self.error
        return line


@dataclass
class WatchReport:
    """What a watch run did; the CLI prints `summary_line()` and exits with `exit_code`."""

    inbox: Path
    log_path: Path
    files: list[FileRecord] = field(default_factory=list)
    not_ready: list[str] = field(default_factory=list)  # left in the inbox at the last scan
    skipped: list[str] = field(default_factory=list)  # another import held the file's journal
    locked_by: str | None = None  # set when another watcher held the inbox
    fatal: str | None = None  # why the whole run stopped (credentials, 401, API)
    capped: str | None = None  # the daily limit was reached: files wait for the next day
    notices: str = ""  # notifications that could not be delivered

    @property
    def exit_code(self) -> int:
        """Cron's view: 0 all archived, 1 some file went to failed, 2 could not run or finish."""
        outcomes = {record.outcome for record in self.files}
        if self.fatal:
            return 2
        if outcomes & {FileOutcome.FAILED, FileOutcome.ERROR, FileOutcome.CAPPED}:
            return 1
        if FileOutcome.INTERRUPTED in outcomes:
            return 2
        return 0

    def summary_line(self) -> str:
        if self.locked_by is not None:
            return (
                f"{self.inbox}: another lsq-import watch ({self.locked_by}) holds this inbox; "
                "this run imported nothing"
            )
        counts = Counter(record.outcome for record in self.files)
        done = ", ".join(f"{counts[o]} {OUTCOME_WORDS[o]}" for o in FileOutcome if counts[o])
        parts = [f"{self.inbox}: {len(self.files)} file(s)" + (f": {done}" if done else "")]
        if self.not_ready:
            parts.append(
                f"{len(self.not_ready)} not ready (still being written), left in the inbox: "
                + ", ".join(self.not_ready)
            )
        if self.skipped:
            parts.append(
                f"{len(self.skipped)} skipped (another run is importing them): "
                + ", ".join(self.skipped)
            )
        if self.fatal:
            parts.append(f"stopped: {self.fatal}")
        if self.notices:
            parts.append(self.notices)
        return "; ".join(parts) + f". Log: {self.log_path}"


@dataclass(frozen=True)
class Folders:
    """Where a watch run reads, files away and keeps its state."""

    inbox: Path
    archive: Path
    failed: Path
    state_dir: Path
    log_path: Path

    @classmethod
    def resolve(
        cls,
        inbox: Path,
        archive: Path | None,
        failed: Path | None,
        state_dir: Path | None,
        log_file: Path | None,
    ) -> Folders:
        states = state_dir or inbox / STATE_DIR_NAME
        return cls(
            inbox=inbox,
            archive=archive or inbox / "archive",
            failed=failed or inbox / "failed",
            state_dir=states,
            log_path=log_file or states / LOG_NAME,
        )


def watch_inbox(
    inbox: Path,
    mapping: Path,
    *,
    archive: Path | None = None,
    failed: Path | None = None,
    once: bool = False,
    interval: float = 30.0,
    settle: float = 5.0,
    settings: Settings,
    mode: Mode | str = Mode.ASYNC,
    sheet: str | None = None,
    state_dir: Path | None = None,
    log_file: Path | None = None,
    echo: Echo | None = None,
    stop: threading.Event | None = None,
    header_row: int | None = None,
) -> WatchReport:
    """Import every ready file in `inbox`, oldest first; with `once=False`, keep watching.

    With `once`, a file still being written when the run starts is waited for (until it
    has been unchanged for `settle` seconds), not left for the next night. `stop` ends
    the watch between files; SIGTERM/SIGINT (when called from the main thread) also
    interrupt the file being imported, leaving it to resume next run.
    """
    say = echo or (lambda _message: None)
    stop = stop or threading.Event()
    folders = Folders.resolve(Path(inbox), archive, failed, state_dir, log_file)
    notifier = Notifier(settings)
    with told_if_it_cannot_run(notifier, None, datetime.now()):
        chosen = _check_arguments(folders, Path(mapping), settings, mode, interval, settle)
    report = WatchReport(inbox=folders.inbox, log_path=folders.log_path)
    watcher = _Watcher(folders, Path(mapping), settings, chosen, sheet, report, say, notifier)
    watcher.header_row = header_row
    try:
        _watch(folders, watcher, report, once=once, interval=interval, settle=settle, stop=stop)
    finally:
        report.notices = notifier.summary()
    return report


def _watch(
    folders: Folders,
    watcher: _Watcher,
    report: WatchReport,
    *,
    once: bool,
    interval: float,
    settle: float,
    stop: threading.Event,
) -> None:
    """The watch loop: scan, import what is ready, wait; until `once` is done or a stop."""
    say = watcher.say
    with StopSignals(stop) as signals:
        with _inbox_lock(folders.state_dir / LOCK_NAME, wait=not once, stop=stop, echo=say) as held:
            if held is not None:
                report.locked_by = held
                return
            if not once:
                say(f"lsq-import: watching {folders.inbox} every {interval:g} s; stop with SIGTERM")
            deadline = time.monotonic() + ONCE_WAIT_LIMIT_SECONDS
            told: set[str] = set()
            while not signals.requested:
                watcher.notifier.new_round()
                ready, waiting = scan_inbox(folders.inbox, settle, stop)
                report.not_ready = [path.name for path in waiting]
                for path in waiting:
                    if path.name not in told:
                        say(f"lsq-import: {path.name} is still being written; waiting for it")
                told = set(report.not_ready)
                for path in ready:
                    if signals.requested or report.fatal or report.capped:
                        break
                    watcher.handle(path, signals)
                if report.fatal or signals.requested:
                    break
                if report.capped:
                    if once:
                        break  # cron's next night carries on
                    stop.wait(max(1.0, resets_at(time.time()).timestamp() - time.time()))
                    report.capped = None
                    continue
                if once:
                    left = deadline - time.monotonic()
                    if not waiting or left <= 0:
                        break
                    stop.wait(min(left, settle_wait(waiting, settle) + 0.1))
                    continue
                stop.wait(interval)


def _check_arguments(
    folders: Folders,
    mapping: Path,
    settings: Settings,
    mode: Mode | str,
    interval: float,
    settle: float,
) -> Mode:
    """Fail before touching any file when no file could be imported anyway."""
    if not folders.inbox.is_dir():
        raise InputFileError(f"Inbox {folders.inbox} is not a folder")
    if interval <= 0:
        raise ConfigError("--interval must be a positive number of seconds")
    if settle < 0:
        raise ConfigError("--settle cannot be negative")
    chosen = Mode.parse(str(mode))
    model = load_mapping(mapping)
    settings.require(
        sync=chosen == Mode.SYNC or model.share is not None, asynchronous=chosen == Mode.ASYNC
    )
    check_state(settings)  # an unusable LSQ_STATE_URL stops it before any call
    return chosen


@contextmanager
def _inbox_lock(
    lock_path: Path, *, wait: bool, stop: threading.Event, echo: Echo
) -> Iterator[str | None]:
    """Hold the inbox lock; yields None when held, else who holds it (we did not wait)."""
    lock = FileLock(lock_path)
    told = False
    while not lock.try_acquire():
        holder = lock.holder()
        if not wait or stop.is_set():
            yield holder
            return
        if not told:
            echo(f"lsq-import: another watch ({holder}) holds this inbox; waiting for it")
            told = True
        stop.wait(LOCK_RETRY_SECONDS)
    try:
        yield None
    finally:
        lock.release()


# ---------------------------------------------------------------- one file


class _Watcher:
    """Imports one file and files it away; writes its run-log line."""

    def __init__(
        self,
        folders: Folders,
        mapping: Path,
        settings: Settings,
        mode: Mode,
        sheet: str | None,
        report: WatchReport,
        say: Echo,
        notifier: Notifier,
    ) -> None:
        self.folders = folders
        self.mapping = mapping
        self.settings = settings
        self.mode = mode
        self.sheet = sheet
        self.report = report
        self.say = say
        self.notifier = notifier
        self.secrets = settings.secrets
        # Each file is told about once it is filed away, under its new name: not by run_import.
        self.run_settings = settings.with_(notify=())
        self.header_row: int | None = None  # every file's headers are on this row

    def handle(self, path: Path, signals: StopSignals) -> None:
        if not path.is_file():
            return  # taken away since the scan
        started = time.monotonic()
        results = default_results_path(path)
        record = FileRecord(file=path.name, outcome=FileOutcome.ERROR)
        filed: ImportReport | None = None
        try:
            record.sha256 = file_sha256(path)
            imported = run_import(
                path,
                self.mapping,
                settings=self.run_settings,
                mode=self.mode,
                sheet=self.sheet,
                out=results,
                state_dir=self.folders.state_dir,
                cancel=signals.stop,
                header_row=self.header_row,
            )
            if signals.requested:
                raise KeyboardInterrupt  # a signal came while the last rows were finishing
        except (KeyboardInterrupt, ImportStopped):
            signals.stop.set()
            record.outcome = FileOutcome.INTERRUPTED
            record.error = "interrupted; the next run resumes this file from its journal"
            record.results = results if results.exists() else None
            self.say(f"lsq-import: {path.name}: {record.error}")
        except LockedError as exc:
            self.report.skipped.append(path.name)
            self.say(f"lsq-import: skipping {path.name}: {self._clean(exc)}")
            return
        except (ConfigError, ApiError) as exc:  # AuthError is an ApiError: nothing can work
            record.error = self._clean(exc)
            record.results = results if _written_since(results, started) else None
            self.report.fatal = record.error
            self.say(f"lsq-import: {path.name}: {record.error}; left in the inbox")
        except UserError as exc:
            self._file_error(path, record, self._clean(exc), results, started)
        except Exception as exc:  # noqa: BLE001 - a nightly run files it away and goes on
            reason = f"unexpected error ({type(exc).__name__}: {exc})"
            self._file_error(path, record, self._clean(reason), results, started)
        else:
            filed = self._imported(path, record, imported, results, started)
        record.duration_seconds = time.monotonic() - started
        self.report.files.append(record)
        append_log(self.folders.log_path, record.as_json())
        remember_file(self.run_settings, record.as_json())  # the page lists it, on any machine
        self.notifier.tell(_notice(record, filed))

    def _imported(
        self, path: Path, record: FileRecord, imported: ImportReport, results: Path, started: float
    ) -> ImportReport | None:
        """File an imported file away (archive or failed), or leave it for tomorrow at the
        daily cap; the report as filed (its results where they now are), if it moved."""
        filed: ImportReport | None = None
        record.rows = dict(imported.counts)
        if imported.capped:
            record.outcome = FileOutcome.CAPPED
            record.error = f"{imported.stopped}; left in the inbox, it goes on after that"
            record.results = imported.results_path
            self.report.capped = imported.stopped
            self.say(f"lsq-import: {path.name}: {record.error}")
            filed = imported  # told as stopped, with its counts: it is not a failed file
        elif not imported.outcomes:
            self._file_error(path, record, NO_DATA_ROWS, results, started)
        else:
            archived = imported.exit_code == 0
            record.outcome = FileOutcome.ARCHIVED if archived else FileOutcome.FAILED
            folder = self.folders.archive if archived else self.folders.failed
            record.moved_to, record.results = file_away(path, results, folder)
            filed = dataclasses.replace(imported, results_path=record.results or results)
            self.say(f"{filed.summary_line()}; input filed as {record.moved_to}")
        return filed

    def _file_error(
        self, path: Path, record: FileRecord, reason: str, results: Path, started: float
    ) -> None:
        """The file itself cannot be imported: to `failed`, with the reason beside it."""
        record.error = reason
        written = results if _written_since(results, started) else None
        record.moved_to, record.results = file_away(
            path, written, self.folders.failed, error=reason
        )
        self.say(f"lsq-import: {path.name}: {reason}; moved to {record.moved_to}")

    def _clean(self, exc: BaseException | str) -> str:
        return redact(str(exc), self.secrets)


def _notice(record: FileRecord, filed: ImportReport | None) -> Notice:
    """The message for one handled file: its counts, where it and its results went."""
    if filed is not None:  # archived, failed, or left for tomorrow at the daily cap
        results = str(record.results) if record.results else None
        return notice_of_report(filed, results=results, moved_to=record.moved_to)
    event, code = NoticeEvent.FILE_FAILED, 1
    if record.outcome == FileOutcome.INTERRUPTED:
        event, code = NoticeEvent.STOPPED, 2
    if record.moved_to is None and record.outcome == FileOutcome.ERROR:
        event, code = NoticeEvent.COULD_NOT_RUN, 2  # credentials, a 401: left in the inbox
    notice = notice_of_error(
        record.error or str(record.outcome),
        file=record.file,
        started=record.time,
        event=event,
        exit_code=code,
        results=record.results,
        moved_to=record.moved_to,
    )
    return dataclasses.replace(notice, counts=dict(record.rows))


def _written_since(path: Path, monotonic_start: float) -> bool:
    """Whether `path` was written by this attempt (not left over from an earlier one)."""
    if not path.exists():
        return False
    age = time.monotonic() - monotonic_start
    return path.stat().st_mtime >= time.time() - age - 1.0
