"""Telling someone: after a file is imported (or could not be), one message to each
`--notify` target, in words a person reads in a chat channel or a mailbox.

One message per file and one for a run that could not start, never one per row. Sending
comes after the results are written and never changes an exit code or where a file goes:
a message that could not be delivered is logged and counted in the summary, nothing more.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar, cast

import httpx

from importer.core.config import Settings
from importer.core.errors import ApiError, ImportStopped, UserError
from importer.core.outcomes import RowStatus
from importer.core.recipients import MailTarget, NotifyOn, NotifyTarget, WebhookTarget
from importer.io.inbox import ERROR_SUFFIX
from importer.io.outbox import Delivery, Sleep, post_webhook, send_mail
from importer.lsq.redaction import redact

log = logging.getLogger("importer.notify")

ATTACH_LIMIT_BYTES = 10 * 1024 * 1024  # a bigger workbook is named, not attached
# What a person does about rows of each status, in a sentence.
NEXT_STEP = {
    str(RowStatus.INVALID): "Invalid rows failed the mapping's checks and were not sent: fix "
    "them and import the file again (rows already imported are not sent twice)",
    str(RowStatus.FAILURE): "Failure rows were refused by LeadSquared or given up on: the "
    "Message column says why, and lsq-import retry sends them again",
    str(RowStatus.PENDING): "Pending rows are still in LeadSquared's queue: lsq-import status "
    "settles them",
    str(RowStatus.PARTIAL_SUCCESS): "PartialSuccess rows were imported but not shared: the "
    "Message column says why",
    str(RowStatus.NOT_SENT): "NotSent rows were never sent: run the same command again to "
    "send them",
}


class NoticeEvent(StrEnum):
    """What a message is about; the value is the JSON `event` field."""

    IMPORTED = "imported"  # every row Success
    ROWS_NEED_FIXING = "rows_need_fixing"  # the file was imported; some rows are not Success
    FILE_FAILED = "file_failed"  # the file could not be imported at all (watch: in failed/)
    STOPPED = "stopped"  # stopped before every row had its result (a signal, a cancel)
    COULD_NOT_RUN = "could_not_run"  # 401, a bad mapping, missing settings, state store down


@dataclass(frozen=True)
class Notice:
    """One message: about one file, or about a run that could not start."""

    event: NoticeEvent
    file: str | None
    started: datetime
    ended: datetime
    exit_code: int
    counts: dict[str, int] = field(default_factory=dict)
    results: str | None = None  # the results workbook's path, or the page's address
    moved_to: Path | None = None  # watch: where the input was filed
    reason: str = ""  # why it could not run, or stopped
    attachment: Path | None = None  # the workbook an email carries

    @property
    def problem(self) -> bool:
        """Whether `--notify-on problems` sends it: anything but a clean import."""
        return self.exit_code != 0 or self.event != NoticeEvent.IMPORTED

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def not_success(self) -> int:
        return self.rows - self.counts.get(str(RowStatus.SUCCESS), 0)

    def subject(self) -> str:
        name = self.file or "the import"
        if self.event == NoticeEvent.IMPORTED:
            headline = f"{_rows(self.rows)} imported"
        elif self.event == NoticeEvent.ROWS_NEED_FIXING:
            verb = "needs" if self.not_success == 1 else "need"
            headline = f"{_rows(self.not_success)} {verb} fixing"
        elif self.event == NoticeEvent.FILE_FAILED:
            headline = "could not be imported"
        elif self.event == NoticeEvent.STOPPED:
            headline = "stopped before every row had its result"
        else:
            headline = "could not run"
        return f"lsq-import: {name} — {headline}"

    def text(self) -> str:
        """One paragraph: what happened, the counts, what to do, where the results are."""
        name = self.file or "the import"
        counts = ", ".join(f"{n} {status}" for status, n in self.counts.items() if n)
        if self.event == NoticeEvent.IMPORTED:
            sentences = [f"lsq-import imported {name}: {_rows(self.rows)}, all Success"]
        elif self.event == NoticeEvent.ROWS_NEED_FIXING:
            sentences = [
                f"lsq-import imported {name}, and {self.not_success} of its "
                f"{_rows(self.rows)} did not end Success: {counts}",
                *(NEXT_STEP[s] for s, n in self.counts.items() if n and s in NEXT_STEP),
            ]
        elif self.event == NoticeEvent.FILE_FAILED:
            sentences = [f"lsq-import could not import {name}: {self.reason}"]
        elif self.event == NoticeEvent.STOPPED:
            sentences = [
                f"lsq-import stopped importing {name} before every row had its result "
                f"({self.reason})" + (f": {counts}" if counts else ""),
                "Run the same command again to resume; nothing is sent twice",
            ]
        else:
            target = f" for {self.file}" if self.file else ""
            sentences = [
                f"lsq-import could not run{target}: {self.reason}",
                "Fix this and run it again; rows already imported are not sent twice",
            ]
        if self.moved_to is not None:
            moved = f"The file was moved to {self.moved_to.parent.name}/ as {self.moved_to.name}"
            if self.event == NoticeEvent.FILE_FAILED:
                moved += f", the reason beside it in {self.moved_to.stem}{ERROR_SUFFIX}"
            sentences.append(moved)
        if self.results:
            sentences.append(f"Results: {self.results}")
        sentences.append(
            f"Started {self.started:%Y-%m-%d %H:%M:%S}, ended {self.ended:%Y-%m-%d %H:%M:%S}, "
            f"exit code {self.exit_code}"
        )
        return ". ".join(s.rstrip(".") for s in sentences) + "."

    def as_json(self) -> dict[str, Any]:
        """The webhook's body: `text` for chat apps, the fields for scripts."""
        return {
            "text": self.text(),
            "event": str(self.event),
            "file": self.file,
            "counts": dict(self.counts),
            "results": self.results,
            "moved_to": str(self.moved_to) if self.moved_to else None,
            "started": self.started.astimezone().isoformat(timespec="seconds"),
            "ended": self.ended.astimezone().isoformat(timespec="seconds"),
            "exit_code": self.exit_code,
        }


def notice_of_report(
    report: _Report,
    *,
    results: str | None = None,
    moved_to: Path | None = None,
) -> Notice:
    """The message for a finished (or stopped) import, from its `ImportReport`."""
    if report.stopped:
        event = NoticeEvent.STOPPED
    elif report.exit_code == 0:
        event = NoticeEvent.IMPORTED
    else:
        event = NoticeEvent.ROWS_NEED_FIXING
    path = Path(report.results_path)
    return Notice(
        event=event,
        file=Path(report.input_path).name,
        started=report.started,
        ended=report.finished,
        exit_code=report.exit_code,
        counts=dict(report.counts),
        results=results or str(path),
        moved_to=moved_to,
        reason=report.stopped or "",
        attachment=path,
    )


def notice_of_error(
    error: BaseException | str,
    *,
    file: str | None,
    started: datetime,
    event: NoticeEvent = NoticeEvent.COULD_NOT_RUN,
    exit_code: int = 2,
    results: Path | None = None,
    moved_to: Path | None = None,
) -> Notice:
    """The message for a file or a run that could not be imported."""
    reason = str(error) if isinstance(error, str) else _error_words(error)
    return Notice(
        event=event,
        file=file,
        started=started,
        ended=datetime.now(),
        exit_code=exit_code,
        results=str(results) if results else None,
        moved_to=moved_to,
        reason=reason,
        attachment=results,
    )


@dataclass
class Notifier:
    """Sends each notice to every target the settings name; remembers what failed.

    A target that failed is not tried again for the rest of the round (one pass of a
    watched inbox), so a receiver that is down costs the timeout once, not once per file.
    """

    settings: Settings
    transport: httpx.BaseTransport | None = None  # tests and schedulers may inject one
    sleep: Sleep = time.sleep
    failed: int = 0
    problems: dict[str, str] = field(default_factory=dict)  # target -> why, first time only
    _down: set[str] = field(default_factory=set)

    @property
    def enabled(self) -> bool:
        return bool(self.settings.notify)

    def wanted(self, notice: Notice) -> bool:
        return self.enabled and (self.settings.notify_on == NotifyOn.ALWAYS or notice.problem)

    def new_round(self) -> None:
        """A new pass over the inbox: try every target again."""
        self._down.clear()

    def tell(self, notice: Notice) -> list[Delivery]:
        """Send `notice` to every target (in parallel) when `--notify-on` wants it."""
        if not self.wanted(notice):
            return []
        notice = self._redacted(notice)
        targets = [t for t in self.settings.notify if str(t) not in self._down]
        skipped = len(self.settings.notify) - len(targets)
        self.failed += skipped
        if not targets:
            return []
        with ThreadPoolExecutor(len(targets), thread_name_prefix="lsq-notify") as pool:
            deliveries = list(pool.map(lambda t: self._send(t, notice), targets))
        for delivery in deliveries:
            if delivery.ok:
                log.debug("notified %s (%s)", delivery.target, notice.event)
                continue
            self.failed += 1
            self._down.add(delivery.target)
            if delivery.target not in self.problems:
                self.problems[delivery.target] = delivery.error
                log.warning(
                    "notification to %s not delivered: %s (attempts: %d)",
                    delivery.target,
                    delivery.error,
                    delivery.attempts,
                )
        return deliveries

    def summary(self) -> str:
        """For the command's summary line: '' when every message went out."""
        if not self.failed:
            return ""
        why = "; ".join(f"{target} {error}" for target, error in self.problems.items())
        noun = "notification" if self.failed == 1 else "notifications"
        return f"{self.failed} {noun} not delivered ({why})"

    def _send(self, target: NotifyTarget, notice: Notice) -> Delivery:
        timeout = self.settings.notify_timeout
        if isinstance(target, WebhookTarget):
            return post_webhook(
                target,
                notice.as_json(),
                timeout=timeout,
                transport=self.transport,
                sleep=self.sleep,
            )
        assert isinstance(target, MailTarget) and self.settings.smtp is not None
        return send_mail(
            self.settings.smtp,
            target,
            subject=notice.subject(),
            text=notice.text(),
            attachment=_attachable(notice.attachment),
            timeout=timeout,
            sleep=self.sleep,
        )

    def _redacted(self, notice: Notice) -> Notice:
        """No key, password or webhook path in what leaves, whatever an error message held."""
        secrets = self.settings.secrets
        return Notice(
            event=notice.event,
            file=redact(notice.file, secrets) if notice.file else None,
            started=notice.started,
            ended=notice.ended,
            exit_code=notice.exit_code,
            counts=notice.counts,
            results=redact(notice.results, secrets) if notice.results else None,
            moved_to=notice.moved_to,
            reason=redact(notice.reason, secrets),
            attachment=notice.attachment,
        )


class _Report(Protocol):
    """What `notice_of_report` reads of an `ImportReport` (commands.run imports us)."""

    input_path: Path
    results_path: Path
    counts: dict[str, int]
    started: datetime
    finished: datetime
    stopped: str | None
    notices: str

    @property
    def exit_code(self) -> int: ...


P = ParamSpec("P")
R = TypeVar("R", bound=_Report)


def tells(run: Callable[P, R]) -> Callable[P, R]:
    """`run_import` with its notifications: one message when the results are written (or
    when it could not run), to the targets its `settings` name; none when they name none.

    A caller that reports files its own way (watch, the page) passes settings without
    targets and tells with its own `Notifier`.
    """

    @functools.wraps(run)
    def run_and_tell(*args: P.args, **kwargs: P.kwargs) -> R:
        settings = kwargs.get("settings")
        if not isinstance(settings, Settings) or not settings.notify:
            return run(*args, **kwargs)
        given = args[0] if args else kwargs.get("input_path")
        notifier = Notifier(settings)
        with told_if_it_cannot_run(notifier, Path(str(given)).name, datetime.now()):
            report = run(*args, **kwargs)
        notifier.tell(notice_of_report(report))
        report.notices = notifier.summary()
        return report

    return run_and_tell


@contextmanager
def told_if_it_cannot_run(
    notifier: Notifier, file: str | None, started: datetime
) -> Iterator[None]:
    """A run that stops with an error before it has a report still tells someone, then
    lets the error go on (the exit code stays the command's)."""
    try:
        yield
    except ImportStopped as exc:
        report = exc.report
        if report is not None and hasattr(report, "results_path"):
            notifier.tell(notice_of_report(cast(_Report, report)))
        else:
            notifier.tell(notice_of_error(exc, file=file, started=started))
        raise
    except Exception as exc:
        notifier.tell(notice_of_error(exc, file=file, started=started))
        raise


def _attachable(path: Path | None) -> Path | None:
    try:
        if path is not None and path.suffix == ".xlsx" and path.is_file():
            return path if path.stat().st_size < ATTACH_LIMIT_BYTES else None
    except OSError:
        return None
    return None


def _error_words(error: BaseException) -> str:
    if isinstance(error, UserError | ApiError):
        return str(error)
    return f"unexpected error ({type(error).__name__}: {error})"


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"
