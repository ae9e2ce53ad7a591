"""`watch`: nightly drops. Import each spreadsheet that lands in an inbox, one at a time,
then file it with its results workbook under `archive` (every row Success) or `failed`.

Safe under cron: one inbox lock, so overlapping runs never import the same file; the
per-file journal (see `runner`) makes a file that a killed run left behind resume
without sending anything twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Any, cast

from importer.commands.run import Mode, default_results_path, run_import
from importer.commands.source import file_sha256
from importer.core.config import Settings
from importer.core.errors import ApiError, ConfigError, InputFileError, LockedError, UserError
from importer.lsq.redaction import redact
from importer.rules.mapping_file import load_mapping

INPUT_SUFFIXES = (".csv", ".xlsx", ".xls", ".ods")
NOT_READY_SUFFIXES = (".part", ".tmp", ".crdownload")  # browsers' and copy tools' temp names
RESULTS_SUFFIX = ".results.xlsx"
ERROR_SUFFIX = ".error.txt"
OWN_OUTPUT_SUFFIXES = (RESULTS_SUFFIX, ".validation.xlsx")
STAMP_FORMAT = "%Y%m%d-%H%M%S"
SECOND_LOOK_SECONDS = 1.0  # longest pause between the two looks at a file's size
LOCK_RETRY_SECONDS = 1.0  # how often a waiting watcher tries the inbox lock again
INTERRUPT_GRACE_SECONDS = 10.0  # after SIGTERM, how long the sending may take to wind down
STATE_DIR_NAME = ".lsq-state"
LOG_NAME = "watch.log.jsonl"
LOCK_NAME = "watch.lock"

Echo = Callable[[str], None]


class FileOutcome(StrEnum):
    """What happened to one dropped file; the value is what the run log stores."""

    ARCHIVED = "archived"  # every row Success: moved to the archive
    FAILED = "failed"  # imported, some rows not Success: moved to the failed folder
    INTERRUPTED = "interrupted"  # stopped mid-file: left in the inbox, resumes next run
    ERROR = "error"  # could not be imported at all (see `error`)


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

    @property
    def exit_code(self) -> int:
        """Cron's view: 0 all archived, 1 some file went to failed, 2 could not run or finish."""
        outcomes = {record.outcome for record in self.files}
        if self.fatal:
            return 2
        if outcomes & {FileOutcome.FAILED, FileOutcome.ERROR}:
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
        done = ", ".join(f"{counts[o]} {o}" for o in FileOutcome if counts[o])
        parts = [f"{self.inbox}: {len(self.files)} file(s)" + (f": {done}" if done else "")]
        if self.not_ready:
            parts.append(f"{len(self.not_ready)} not ready, left in the inbox")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped (being imported by another run)")
        if self.fatal:
            parts.append(f"stopped: {self.fatal}")
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
    mode: str = "async",
    state_dir: Path | None = None,
    log_file: Path | None = None,
    echo: Echo | None = None,
    stop: threading.Event | None = None,
) -> WatchReport:
    """Import every ready file in `inbox`, oldest first; with `once=False`, keep watching.

    `stop` ends the watch between files; SIGTERM/SIGINT (when called from the main
    thread) also interrupt the file being imported, leaving it to resume next run.
    """
    say = echo or (lambda _message: None)
    stop = stop or threading.Event()
    folders = Folders.resolve(Path(inbox), archive, failed, state_dir, log_file)
    _check_arguments(folders, Path(mapping), settings, mode, interval, settle)
    report = WatchReport(inbox=folders.inbox, log_path=folders.log_path)
    secrets = (settings.access_key, settings.secret_key, settings.api_key)
    watcher = _Watcher(folders, Path(mapping), settings, cast(Mode, mode), report, say, secrets)
    with StopSignals(stop) as signals:
        with inbox_lock(folders.state_dir / LOCK_NAME, wait=not once, stop=stop, echo=say) as held:
            if held is not None:
                report.locked_by = held
                return report
            if not once:
                say(f"lsq-import: watching {folders.inbox} every {interval:g} s; stop with SIGTERM")
            seen_waiting: set[str] = set()
            while not signals.requested:
                ready, waiting = scan_inbox(folders.inbox, settle, stop)
                report.not_ready = [path.name for path in waiting]
                for path in waiting:
                    if path.name not in seen_waiting:
                        say(f"lsq-import: {path.name} is not ready yet (still being written)")
                seen_waiting = set(report.not_ready)
                for path in ready:
                    if signals.requested or report.fatal:
                        break
                    watcher.handle(path, signals)
                if once or report.fatal or signals.requested:
                    break
                stop.wait(interval)
    return report


def _check_arguments(
    folders: Folders, mapping: Path, settings: Settings, mode: str, interval: float, settle: float
) -> None:
    """Fail before touching any file when no file could be imported anyway."""
    if not folders.inbox.is_dir():
        raise InputFileError(f"Inbox {folders.inbox} is not a folder")
    if interval <= 0:
        raise ConfigError("--interval must be a positive number of seconds")
    if settle < 0:
        raise ConfigError("--settle cannot be negative")
    if mode not in ("async", "sync"):
        raise ConfigError(f'--mode must be "async" or "sync", not "{mode}"')
    model = load_mapping(mapping)
    settings.require(sync=mode == "sync" or model.share is not None, asynchronous=mode == "async")


# ---------------------------------------------------------------- one file


class _Watcher:
    """Imports one file and files it away; writes its run-log line."""

    def __init__(
        self,
        folders: Folders,
        mapping: Path,
        settings: Settings,
        mode: Mode,
        report: WatchReport,
        say: Echo,
        secrets: tuple[str, ...],
    ) -> None:
        self.folders = folders
        self.mapping = mapping
        self.settings = settings
        self.mode = mode
        self.report = report
        self.say = say
        self.secrets = secrets

    def handle(self, path: Path, signals: StopSignals) -> None:
        if not path.is_file():
            return  # taken away since the scan
        started = time.monotonic()
        results = default_results_path(path)
        record = FileRecord(file=path.name, outcome=FileOutcome.ERROR)
        try:
            record.sha256 = file_sha256(path)
            with signals.importing():
                imported = run_import(
                    path,
                    self.mapping,
                    settings=self.settings,
                    mode=self.mode,
                    out=results,
                    state_dir=self.folders.state_dir,
                )
            if signals.interrupted:
                raise KeyboardInterrupt  # a signal came while the last rows were finishing
        except KeyboardInterrupt:
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
            record.rows = dict(imported.counts)
            archived = imported.exit_code == 0
            record.outcome = FileOutcome.ARCHIVED if archived else FileOutcome.FAILED
            folder = self.folders.archive if archived else self.folders.failed
            record.moved_to, record.results = file_away(path, results, folder)
            self.say(f"{imported.summary_line()}; filed as {record.moved_to}")
        record.duration_seconds = time.monotonic() - started
        self.report.files.append(record)
        append_log(self.folders.log_path, record)

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


def _written_since(path: Path, monotonic_start: float) -> bool:
    """Whether `path` was written by this attempt (not left over from an earlier one)."""
    if not path.exists():
        return False
    age = time.monotonic() - monotonic_start
    return path.stat().st_mtime >= time.time() - age - 1.0


# ---------------------------------------------------------------- the inbox


def is_candidate(path: Path) -> bool:
    """A spreadsheet someone dropped: not a lock, hidden, temporary or our own output."""
    name = path.name.lower()
    if name.startswith(("~$", ".")):
        return False
    if name.endswith(NOT_READY_SUFFIXES) or name.endswith(OWN_OUTPUT_SUFFIXES):
        return False
    return name.endswith(INPUT_SUFFIXES)


def _look(path: Path) -> tuple[int, int] | None:
    """(size, mtime in ns), or None when the file is gone or not a regular file."""
    try:
        info = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    return info.st_size, info.st_mtime_ns


def scan_inbox(
    inbox: Path, settle: float, stop: threading.Event | None = None
) -> tuple[list[Path], list[Path]]:
    """(ready files oldest first, files still being written) directly in `inbox`.

    Ready: modified at least `settle` seconds ago, and the same size and mtime at
    two looks taken up to SECOND_LOOK_SECONDS apart.
    """
    first = {p: look for p in inbox.iterdir() if is_candidate(p) and (look := _look(p))}
    if first:
        pause = min(SECOND_LOOK_SECONDS, settle)
        if stop is not None:
            stop.wait(pause)
        else:
            time.sleep(pause)
    now_ns = time.time_ns()
    ready: list[Path] = []
    waiting: list[Path] = []
    for path, look in first.items():
        again = _look(path)
        if again is None:
            continue
        settled = now_ns - again[1] >= settle * 1e9
        (ready if again == look and settled else waiting).append(path)
    ready.sort(key=lambda p: (first[p][1], p.name))
    waiting.sort(key=lambda p: p.name)
    return ready, waiting


# ---------------------------------------------------------------- filing away


def stamped_base(folder: Path, stem: str, suffix: str, when: datetime | None = None) -> str:
    """`<stem>.<YYYYmmdd-HHMMSS>[-N]`, free in `folder` for the input, results and error."""
    stamp = (when or datetime.now()).strftime(STAMP_FORMAT)
    for n in itertools.count():
        base = f"{stem}.{stamp}" if n == 0 else f"{stem}.{stamp}-{n}"
        names = (f"{base}{suffix}", f"{base}{RESULTS_SUFFIX}", f"{base}{ERROR_SUFFIX}")
        if not any((folder / name).exists() for name in names):
            return base
    raise AssertionError("unreachable")


def file_away(
    path: Path, results: Path | None, folder: Path, *, error: str | None = None
) -> tuple[Path, Path | None]:
    """Move the input (and its results, and an error note) into `folder` under unique names.

    Results go first: if we die in between, the input is still in the inbox and the
    next run resumes it (nothing sent twice) and writes its results again.
    """
    folder.mkdir(parents=True, exist_ok=True)
    base = stamped_base(folder, path.stem, path.suffix)
    moved_results = None
    if results is not None and results.exists():
        moved_results = folder / f"{base}{RESULTS_SUFFIX}"
        shutil.move(results, moved_results)
    if error is not None:
        (folder / f"{base}{ERROR_SUFFIX}").write_text(error + "\n", encoding="utf-8")
    destination = folder / f"{base}{path.suffix}"
    shutil.move(path, destination)
    return destination, moved_results


def append_log(log_path: Path, record: FileRecord) -> None:
    """One JSON line per file, appended, so a crash never corrupts earlier lines."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record.as_json(), ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- lock and signals


@contextlib.contextmanager
def inbox_lock(
    lock_path: Path, *, wait: bool, stop: threading.Event, echo: Echo
) -> Iterator[str | None]:
    """Hold the inbox lock; yields None when held, else who holds it (we did not wait)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(fd)
                if not wait or stop.is_set():
                    yield holder
                    return
                if not told:
                    echo(f"lsq-import: another watch ({holder}) holds this inbox; waiting for it")
                    told = True
                stop.wait(LOCK_RETRY_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}\n".encode(), 0)
        try:
            yield None
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    text = os.pread(fd, 64, 0).decode(errors="replace").strip()
    return text or "pid unknown"


class StopSignals:
    """SIGTERM/SIGINT: stop after the current step; during an import, interrupt it once.

    During an import SIGINT keeps Python's default handler, so `asyncio.run` cancels
    the sending cleanly and raises KeyboardInterrupt; SIGTERM is turned into that SIGINT,
    and into a second one (asyncio's hard stop) if the first has not ended it in time.
    """

    WATCHED = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.signalled = False
        self.interrupted = False
        self._previous: dict[int, Any] = {}
        self._escalation: threading.Timer | None = None
        self._active = threading.current_thread() is threading.main_thread()

    @property
    def requested(self) -> bool:
        return self.signalled or self.stop.is_set()

    def __enter__(self) -> StopSignals:
        if self._active:
            for signum in self.WATCHED:
                self._previous[signum] = signal.signal(signum, self._between_files)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    @contextlib.contextmanager
    def importing(self) -> Iterator[None]:
        if not self._active:
            yield
            return
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, self._during_import)
        try:
            yield
        finally:
            if self._escalation is not None:
                self._escalation.cancel()
            signal.signal(signal.SIGINT, self._between_files)
            signal.signal(signal.SIGTERM, self._between_files)

    def _between_files(self, signum: int, frame: FrameType | None) -> None:
        self._request_stop()

    def _during_import(self, signum: int, frame: FrameType | None) -> None:
        self._request_stop()
        if not self.interrupted:
            self.interrupted = True
            signal.raise_signal(signal.SIGINT)
            # A task that swallows its cancellation would keep us running until SIGKILL.
            self._escalation = threading.Timer(
                INTERRUPT_GRACE_SECONDS, os.kill, (os.getpid(), signal.SIGINT)
            )
            self._escalation.daemon = True
            self._escalation.start()

    def _request_stop(self) -> None:
        self.signalled = True
        # Event.set takes a lock the interrupted main thread may hold: set it from a thread.
        threading.Thread(target=self.stop.set, daemon=True).start()
