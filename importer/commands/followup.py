"""`retry` and `status`: work that starts from a results workbook and updates it in place."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import httpx

from importer.commands.source import frame_from_results, row_values
from importer.core.config import Mode, Settings, settings_from_env
from importer.core.errors import ApiError, AuthError, MappingError
from importer.core.outcomes import RowOutcome, RowStatus
from importer.io.journal import Journal, RowState
from importer.io.locks import FileLock
from importer.io.workbooks.reader import ResultsBook, read_results
from importer.io.workbooks.results import write_results
from importer.io.workbooks.summary import Summary
from importer.lsq import verdicts as verdict
from importer.rules.mapping_file import load_mapping
from importer.rules.payload import build_payloads, share_item
from importer.rules.validator import Validator
from importer.send.pool import Job, send_rows
from importer.send.progress import Counters, Progress
from importer.send.session import Session

RETRYABLE = (RowStatus.FAILURE, RowStatus.PENDING)


@dataclass
class FollowupReport:
    """What `retry` or `status` changed in a results workbook."""

    results_path: Path
    considered: int
    changed: int
    counts: dict[str, int]
    api_calls: int

    @property
    def exit_code(self) -> int:
        others = sum(n for status, n in self.counts.items() if status != RowStatus.SUCCESS)
        return 0 if others == 0 else 1

    def summary_line(self, verb: str) -> str:
        parts = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n)
        return (
            f"{self.results_path.name}: {verb} {self.considered} row(s), {self.changed} changed; "
            f"now {parts}. {self.api_calls} API calls."
        )


def _book_context(book: ResultsBook, results_path: Path) -> tuple[str, str, Path | None]:
    mode = book.summary.get("Mode", "async")
    operation = book.summary.get("Operation", "capture")
    journal = book.summary.get("Journal")
    return mode, operation, Path(journal) if journal else None


def _journal_file(path: Path | None, results_path: Path, state_dir: Path | None) -> Path:
    """The run's own journal when it is still there, else one kept for this workbook."""
    if path is not None and path.exists() and state_dir is None:
        return path
    base = state_dir or results_path.parent / ".lsq-state"
    return base / f"{results_path.stem}.followup.journal.sqlite"


def retry_results(
    results_path: str | Path,
    *,
    mapping_path: str | Path | None = None,
    settings: Settings | None = None,
    state_dir: str | Path | None = None,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FollowupReport:
    """Send again the rows whose Status is Failure; collect Pending ones; rewrite the workbook.

    Payloads are rebuilt from the workbook's own input columns, so a value fixed in the
    workbook is what goes out. A Pending row is polled first (never sent twice).
    """
    started = datetime.now()
    path = Path(results_path)
    book = read_results(path)
    settings = settings or settings_from_env()
    mode, operation, journal_file = _book_context(book, path)
    mapping_file = Path(mapping_path or book.summary.get("Mapping", ""))
    if not mapping_file.is_file():
        raise MappingError(
            f"The mapping this workbook was made with ({mapping_file}) is not there: "
            "pass it with -m MAPPING"
        )
    mapping = load_mapping(mapping_file)
    targets = {o.row_number: o for _, o in book.rows if o.status in RETRYABLE}
    settings.require(sync=mode == "sync" or mapping.share is not None, asynchronous=mode == "async")
    frame, columns = frame_from_results(book, mapping, set(targets))
    checked = Validator(mapping, columns).validate(frame)
    records = row_values(checked.values)
    invalid: dict[int, RowOutcome] = {}
    for error in checked.errors:
        previous = invalid.get(error.row_number)
        text = error.message if previous is None else f"{previous.message}; {error.message}"
        invalid[error.row_number] = RowOutcome(
            error.row_number, RowStatus.INVALID, exception_type="ValidationError", message=text
        )
    jobs = [
        Job(
            row_number=row_number,
            body=body,
            share_item=partial(share_item, values=records.get(row_number, {}), mapping=mapping)
            if mapping.share
            else None,
        )
        for row_number, body in build_payloads(checked, mapping)
    ]
    counters = Counters()
    journal_at = _journal_file(journal_file, path, Path(state_dir) if state_dir else None)
    busy = f"Another lsq-import is already working on {path.name}; wait for it to finish"
    with FileLock(journal_at.with_suffix(".lock"), busy), Journal(journal_at) as journal:
        known = journal.snapshot()
        failures = [n for n, o in targets.items() if o.status == RowStatus.FAILURE]
        journal.reopen([n for n in failures if n in known])
        for n, outcome in targets.items():
            entry = known.get(n)
            if (
                outcome.status == RowStatus.PENDING
                and outcome.request_id
                and (entry is None or entry.state != RowState.ACCEPTED)
            ):
                journal.mark_sending(n)
                journal.mark_accepted(n, outcome.request_id)
        resume = journal.snapshot()

        new = (
            send_rows(
                jobs,
                resume,
                settings=settings,
                journal=journal,
                mode=Mode.parse(mode),
                operation="update" if operation == "update" else "capture",
                counters=counters,
                progress=progress,
                transport=transport,
            )
            if jobs
            else {}
        )
    new.update(invalid)
    return _rewrite(path, book, new, counters, started, "Retried")


def refresh_status(
    results_path: str | Path,
    *,
    settings: Settings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FollowupReport:
    """Ask the Status API once about every Pending row and record what it says now."""
    started = datetime.now()
    path = Path(results_path)
    book = read_results(path)
    settings = settings or settings_from_env()
    _mode, operation, journal_file = _book_context(book, path)
    pending = [o for _, o in book.rows if o.status == RowStatus.PENDING and o.request_id]
    if not pending:
        return _rewrite(path, book, {}, Counters(), started, None)
    settings.require(sync=False, asynchronous=True)
    counters = Counters()
    updated: dict[int, RowOutcome] = {}

    async def poll() -> None:
        async with Session(settings, transport=transport, counters=counters) as session:
            client = session.client
            check = client.update_status if operation == "update" else client.capture_status
            for outcome in pending:
                request_id = outcome.request_id or ""
                try:
                    task = await session.call(partial(check, request_id), window=Mode.ASYNC)
                except AuthError:
                    raise
                except ApiError:
                    continue  # still unknown: the row stays Pending
                fresh = verdict.from_task(
                    outcome.row_number, task, uncertain=False, operation=operation
                )
                if fresh is not None:
                    fresh.request_id = fresh.request_id or request_id
                    updated[outcome.row_number] = fresh

    asyncio.run(poll())
    if journal_file and journal_file.exists():
        with Journal(journal_file) as journal:
            for outcome in updated.values():
                journal.mark_done(outcome)
    return _rewrite(path, book, updated, counters, started, "Status checked")


def _rewrite(
    path: Path,
    book: ResultsBook,
    updated: dict[int, RowOutcome],
    counters: Counters,
    started: datetime,
    action: str | None,
) -> FollowupReport:
    """Write the workbook again (atomically) with the updated rows, everything else as it was."""
    rows = [(cells, updated.get(o.row_number, o)) for cells, o in book.rows]
    counts = Counter(str(o.status) for _, o in rows)
    old = book.summary
    summary = Summary(
        counts={str(s): counts.get(str(s), 0) for s in RowStatus},
        input_name=old.get("Input", ""),
        input_sha256=old.get("Input SHA-256", ""),
        mapping=old.get("Mapping", ""),
        mode=old.get("Mode", ""),
        started=_parse_time(old.get("Started")) or started,
        finished=datetime.now(),
        api_calls=_as_int(old.get("API calls")) + counters.api_calls,
        rate_limited=_as_int(old.get("Rate limited (429)")) + counters.rate_limited,
        retries=_as_int(old.get("Retries")) + counters.retries,
        extra={k: v for k, v in old.items() if k in _KEPT_EXTRA},
    )
    if action:
        summary.extra[action] = f"{datetime.now():%Y-%m-%d %H:%M:%S}: {len(updated)} row(s) updated"
    for key, value in old.items():
        if key.startswith(("Retried", "Status checked")) and key not in summary.extra:
            summary.extra[key] = value
    changed = sum(1 for _, o in book.rows if o.row_number in updated and updated[o.row_number] != o)
    write_results(
        path,
        input_headers=book.input_headers,
        rows=rows,
        errors=book.errors,
        summary=summary,
        extra_columns=book.extra_columns,
    )
    return FollowupReport(
        results_path=path,
        considered=len(updated) if action else 0,
        changed=changed,
        counts=summary.counts,
        api_calls=counters.api_calls,
    )


_KEPT_EXTRA = ("Operation", "Rows read", "Blank rows skipped", "Journal", "Stopped")


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
