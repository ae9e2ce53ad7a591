"""Runs owned by the server, not by a request: an import goes on when the browser closes.

Each import, retry, status check or verification runs in its own thread with a cancel
event; what it ends with is written to the import's record, so a restarted server shows
it. At most one task per import at a time, and at most one import per file (the library's
lock refuses a second run of the same file, even from another process).
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from importer.commands.journals import held_elsewhere, journal_for, journal_progress
from importer.commands.notify import Notifier, notice_of_error, notice_of_report
from importer.commands.source import file_sha256
from importer.core.config import Mode, Settings
from importer.core.errors import LockedError, UserError
from importer.core.outcomes import RowStatus
from importer.web import library
from importer.web.checks import plain
from importer.web.progress import LiveProgress, Snapshot
from importer.web.records import Activity, ActivityKind, CheckRecord, ImportRecord, State
from importer.web.status import ImportStatus, import_status
from importer.web.words import CANCELLED_TEXT, plural
from importer.web.workdir import WorkDir, new_id, now_text

log = logging.getLogger("importer.web")

STOPPED_BY_SERVER = "Stopped when the page's server stopped; resume it to carry on"
UNEXPECTED = "Something went wrong inside lsq-import ({error}); resume it to try again"


class Busy(UserError):
    """Something is already running on this import or this file (`import_id`: which)."""

    def __init__(self, message: str, import_id: str | None = None) -> None:
        super().__init__(message)
        self.import_id = import_id


@dataclass
class Running:
    """A task in progress: its kind, its thread, how to stop it and what it has done so far."""

    kind: ActivityKind
    stop: threading.Event = field(default_factory=threading.Event)
    progress: LiveProgress | None = None
    thread: threading.Thread | None = None
    journal: Path | None = None


class TaskBoard:
    """The server's runs, by import id."""

    def __init__(
        self, work: WorkDir, settings: Settings, mode: Mode, address: str | None = None
    ) -> None:
        self.work = work
        self.settings = settings
        self.mode = mode
        self.address = address  # the page's own address: messages link to the import
        self._lock = threading.Lock()
        self._running: dict[str, Running] = {}
        self._closing = False
        self._settle_left_over()

    # -- reading ------------------------------------------------------------------

    def status(self, record: ImportRecord) -> ImportStatus:
        task = self._running.get(record.id)
        live: Snapshot | None = None
        if task is not None and task.progress is not None:
            live = task.progress.snapshot()
        return import_status(
            record,
            live=live,
            live_kind=task.kind if task else None,
            can_cancel=task is not None,
            stopping=task is not None and task.stop.is_set(),
        )

    # -- starting -----------------------------------------------------------------

    def start_import(self, check: CheckRecord) -> ImportRecord:
        """A new import of a checked file; refused while the same file is being imported."""
        if self._closing:
            raise Busy("The page's server is stopping; start the import again once it is back")
        if check.result is None or check.mapping_file is None:
            raise UserError("Check the file before importing it")
        input_path = self.work.uploads / check.input
        checked_mapping = self.work.check_dir(check.id) / check.mapping_file
        input_sha = file_sha256(input_path)
        mapping_sha = file_sha256(checked_mapping)
        journal = journal_for(self.settings, self.work.state, input_path, input_sha, mapping_sha)
        self._refuse_if_busy(journal)
        import_id = new_id()
        folder = self.work.import_dir(import_id)
        folder.mkdir(parents=True, exist_ok=True)
        mapping = folder / check.mapping_file
        shutil.copyfile(checked_mapping, mapping)
        record = ImportRecord(
            id=import_id,
            check_id=check.id,
            original_name=check.original_name,
            input=str(input_path),
            input_sha256=input_sha,
            mapping_name=check.mapping_name or check.mapping_file,
            mapping=str(mapping),
            mapping_sha256=mapping_sha,
            sheet=check.sheet,
            header_row=check.header_row,
            mode=str(self.mode),
            results=str(folder / "results.xlsx"),
            state_dir=str(self.work.state),
            created=now_text(),
            total=check.result.valid,
            invalid=check.result.invalid,
            counts={str(RowStatus.INVALID): check.result.invalid},
            fixes=list(check.fixes),
        )
        self.work.save_import(record)
        self._launch(record, "import")
        return record

    def resume(self, import_id: str) -> None:
        record = self.work.load_import(import_id)
        self._refuse_if_busy(self.journal_of(record))
        self._launch(record, "import")

    def follow_up(self, import_id: str, kind: ActivityKind) -> None:
        """Retry failed rows, check pending ones, or verify: on a finished import's results."""
        record = self.work.load_import(import_id)
        if not Path(record.results).is_file():
            raise UserError("This import has no results workbook yet; resume it first")
        self._refuse_if_busy(self.journal_of(record))
        self._launch(record, kind)

    def cancel(self, import_id: str) -> bool:
        task = self._running.get(import_id)
        if task is None:
            return False
        task.stop.set()
        return True

    def stop_all(self) -> list[Running]:
        """Ask every run to stop cleanly (each keeps what it did and can be resumed)."""
        with self._lock:
            self._closing = True
            tasks = list(self._running.values())
        for task in tasks:
            task.stop.set()
        return tasks

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop every run, then wait for each to write down where it stopped."""
        for task in self.stop_all():
            if task.thread is not None:
                task.thread.join(timeout)

    # -- the runs ---------------------------------------------------------------------

    def journal_of(self, record: ImportRecord) -> Path:
        """Where the library keeps this import's rows (as `run_import` names it)."""
        return journal_for(
            self.settings,
            Path(record.state_dir),
            Path(record.input),
            record.input_sha256,
            record.mapping_sha256,
        )

    def _refuse_if_busy(self, journal: Path) -> None:
        with self._lock:
            for import_id, task in self._running.items():
                if task.journal == journal:
                    record = self.work.load_import(import_id)
                    raise Busy(
                        f"{record.original_name} is already being imported (started "
                        f"{record.created.replace('T', ' ')}); wait for it to finish",
                        import_id,
                    )

    def _launch(self, record: ImportRecord, kind: ActivityKind) -> None:
        seed = {str(RowStatus.INVALID): record.invalid}
        task = Running(kind=kind, journal=self.journal_of(record))
        if kind == "import":
            task.progress = LiveProgress(total=record.total, seed=seed)
        elif kind == "retry":
            wanted = record.counts.get(RowStatus.FAILURE, 0) + record.counts.get(
                RowStatus.PENDING, 0
            )
            task.progress = LiveProgress(total=wanted)
        with self._lock:
            if record.id in self._running:
                raise Busy("This import is already running; wait for it to finish")
            self._running[record.id] = task

        def begin(r: ImportRecord) -> None:
            r.activity = Activity(kind=kind, state="running", started=now_text())
            if kind == "import":
                r.state = "running"
                r.message = ""

        self.work.update_import(record.id, begin)
        body: Callable[[ImportRecord, Running], None] = {
            "import": self._import,
            "retry": self._retry,
            "status": self._status,
            "verify": self._verify,
        }[kind]
        task.thread = threading.Thread(
            target=self._guarded,
            args=(record, task, body),
            name=f"lsq-web-{kind}-{record.id}",
            daemon=True,
        )
        task.thread.start()

    def _guarded(
        self,
        record: ImportRecord,
        task: Running,
        body: Callable[[ImportRecord, Running], None],
    ) -> None:
        """Run one task; whatever happens, the record says how it ended."""
        try:
            body(record, task)
        except UserError as exc:
            if task.kind == "import" and not task.stop.is_set():  # not a cancel or a shutdown
                self._tell_failed(record, exc)
            text = self._plain(record, str(exc))
            if task.stop.is_set():
                text = STOPPED_BY_SERVER if self._closing else CANCELLED_TEXT
            elif isinstance(exc, LockedError):
                text = f"{record.original_name} is being imported by another lsq-import; " + (
                    "wait for it to finish (this one sent nothing)"
                )
            self._ended(record.id, task, "stopped", text)
        except Exception as exc:  # a bug of ours: keep the server up and say so plainly
            log.exception("%s of %s failed", task.kind, record.id)
            if task.kind == "import":
                self._tell_failed(record, exc)
            text = UNEXPECTED.format(error=f"{type(exc).__name__}: {exc}")
            self._ended(record.id, task, "stopped", self._plain(record, text))
        finally:
            with self._lock:
                self._running.pop(record.id, None)

    def _import(self, record: ImportRecord, task: Running) -> None:
        assert task.progress is not None
        report = library.import_file(
            Path(record.input),
            Path(record.mapping),
            settings=self.settings.with_(notify=()),  # told below, with the page's link
            mode=Mode.parse(record.mode),
            out=Path(record.results),
            sheet=record.sheet,
            header_row=record.header_row,
            state_dir=Path(record.state_dir),
            progress=task.progress,
            stop=task.stop,
            shown_name=record.original_name,
            fixed_cells=record.fixes,
        )
        snapshot = task.progress.snapshot()

        def finish(r: ImportRecord) -> None:
            r.state = "finished"
            r.counts = dict(report.counts)
            r.done = r.total
            r.calls, r.rate_limited = snapshot.calls, snapshot.rate_limited
            r.pace = snapshot.rows_per_second
            r.origins = {str(origin): n for origin, n in report.origins.items()}
            r.message = ""
            r.finished = now_text()
            r.activity = Activity("import", "finished", "", _started(r), now_text())

        self.work.update_import(record.id, finish)
        known = replace(report, input_path=Path(record.original_name))  # the name people know
        Notifier(self.settings).tell(notice_of_report(known, results=self._link(record)))

    def _link(self, record: ImportRecord) -> str:
        """Where a message sends its reader: the import's page, else its results workbook."""
        if self.address:
            return f"{self.address.rstrip('/')}/imports/{record.id}"
        return record.results

    def _tell_failed(self, record: ImportRecord, error: BaseException) -> None:
        """An import that could not run (401, a missing setting): one message, if wanted."""
        plain = self._plain(record, str(error))
        words = plain if isinstance(error, UserError) else UNEXPECTED.format(error=plain)
        notice = notice_of_error(
            words, file=record.original_name, started=datetime.now(), results=None
        )
        Notifier(self.settings).tell(replace(notice, results=self._link(record)))

    def _retry(self, record: ImportRecord, task: Running) -> None:
        assert task.progress is not None
        report = library.retry_failed(
            Path(record.results),
            Path(record.mapping),
            settings=self.settings,
            state_dir=Path(record.state_dir),
            progress=task.progress,
            stop=task.stop,
        )
        head = ", ".join(report.retried()) or "nothing to send"
        line = f"Retry: {head}. {report.changed} changed. Now {_counts_text(report.counts)}."
        self._followed(record.id, task, dict(report.counts), line)

    def _status(self, record: ImportRecord, task: Running) -> None:
        report = library.check_pending(Path(record.results), settings=self.settings, stop=task.stop)
        line = (
            f"Asked LeadSquared about {plural(report.considered, 'pending row')}: "
            f"{report.changed} changed. Now {_counts_text(report.counts)}."
        )
        self._followed(record.id, task, dict(report.counts), line)

    def _verify(self, record: ImportRecord, task: Running) -> None:
        target = self.work.import_dir(record.id) / "verify.xlsx"
        report = library.verify(
            Path(record.results),
            Path(record.mapping),
            settings=self.settings,
            report=target,
            stop=task.stop,
        )
        found = f"{report.present} found in LeadSquared"
        if report.differences:
            found += f" ({plural(report.differing_rows, 'row')} with fields that differ)"
        unchecked = f", {report.not_checked} could not be checked" if report.not_checked else ""
        line = (
            f"Checked {plural(report.checked, 'imported row')}: {found}, "
            f"{report.missing} missing{unchecked}."
        )

        def done(r: ImportRecord) -> None:
            r.verify_report = str(report.report_path)
            r.activity = Activity("verify", "finished", line, _started(r), now_text())

        self.work.update_import(record.id, done)

    def _followed(self, import_id: str, task: Running, counts: dict[str, int], line: str) -> None:
        def done(r: ImportRecord) -> None:
            r.counts = counts
            r.origins = {}  # a follow-up does not say which of its rows were new
            r.activity = Activity(task.kind, "finished", line, _started(r), now_text())

        self.work.update_import(import_id, done)

    def _ended(self, import_id: str, task: Running, state: State, message: str) -> None:
        """A task stopped early: record why, and what the journal says was done."""
        snapshot = task.progress.snapshot() if task.progress is not None else None

        def stop(r: ImportRecord) -> None:
            if task.kind == "import":
                r.state = state
                r.message = message
                done, counts = journal_progress(self.journal_of(r), r.invalid)
                if counts is not None:
                    r.done, r.counts = done, counts
                if snapshot is not None:
                    r.calls, r.rate_limited = snapshot.calls, snapshot.rate_limited
                r.finished = now_text()
            r.activity = Activity(task.kind, state, message, _started(r), now_text())

        self.work.update_import(import_id, stop)

    def _plain(self, record: ImportRecord, message: str) -> str:
        """Library messages name the stored file; the user knows it by its own name."""
        named = plain(message, Path(record.input), record.original_name)
        return named.replace(str(self.work.root), "the work folder")

    # -- a server that starts again ----------------------------------------------------

    def _settle_left_over(self) -> None:
        """Records a stopped server left `running`: settle them from their journals."""
        for record in self.work.all_imports():
            if record.state != "running" and (
                record.activity is None or record.activity.state != "running"
            ):
                continue
            journal = self.journal_of(record)
            if held_elsewhere(journal):
                continue

            def settle(r: ImportRecord) -> None:
                if r.state == "running":
                    r.state = "stopped"
                    r.message = r.message or STOPPED_BY_SERVER
                    done, counts = journal_progress(self.journal_of(r), r.invalid)
                    if counts is not None:
                        r.done, r.counts = done, counts
                if r.activity is not None and r.activity.state == "running":
                    r.activity.state = "stopped"
                    r.activity.line = STOPPED_BY_SERVER

            self.work.update_import(record.id, settle)


def _started(record: ImportRecord) -> str:
    return record.activity.started if record.activity else ""


def _counts_text(counts: dict[str, int]) -> str:
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    return ", ".join(parts) or "no rows"
