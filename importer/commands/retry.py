"""`retry`: send again the rows of a results workbook whose Status is Failure.

Payloads are rebuilt from the workbook's own input columns, so a value fixed in the
workbook is what goes out. Pending rows are polled through the Status API, never
sent twice; every row goes through the account ledger like a `run`'s.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx

from importer.commands.followup import FollowupReport, WorkbookContext, plan_rows, rewrite
from importer.core.config import Mode, Settings
from importer.core.errors import ImportStopped, MappingError
from importer.core.outcomes import RowOutcome, RowStatus
from importer.core.progress import Counters, Progress
from importer.io.journal import Journal, JournalRow, RowState
from importer.io.locks import FileLock
from importer.io.state import check_state
from importer.io.workbooks.reader import ResultRow, ResultsReader
from importer.rules.mapping.identity import identity_fields
from importer.rules.mapping.mapping_file import load_mapping
from importer.rules.mapping.messages import headers_by_schema, outcome_in_user_words
from importer.send.pool import send_rows
from importer.send.previous import PreviousImports, open_ledger

RETRYABLE = (RowStatus.FAILURE, RowStatus.PENDING, RowStatus.NOT_SENT)


def retry_results(
    results_path: str | Path,
    *,
    mapping_path: str | Path | None = None,
    settings: Settings,
    state_dir: str | Path | None = None,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    cancel: threading.Event | None = None,
) -> FollowupReport:
    """Send the Failure rows again, collect the Pending ones, and rewrite the workbook.

    A stop (a signal, `cancel`) still rewrites the workbook with what finished, then raises.
    """
    started = datetime.now()
    path = Path(results_path)
    with ResultsReader(path) as reader:
        context = WorkbookContext(reader.summary())
        mapping = load_mapping(_mapping_file(context, mapping_path))
        targets, statuses = _scan(reader)
        if not targets:  # nothing to send or ask about: the workbook stays as it is
            counts = {str(s): statuses.get(str(s), 0) for s in RowStatus}
            return FollowupReport(results_path=path, action="retry", counts=counts)
        settings.require(
            sync=context.mode == Mode.SYNC or mapping.share is not None,
            asynchronous=context.mode == Mode.ASYNC,
        )
        check_state(settings)  # an unusable LSQ_STATE_URL stops it before any call
        plan = plan_rows(reader, targets, mapping)
        counters = Counters()
        journal_at = context.journal(path, Path(state_dir) if state_dir else None)
        busy = f"Another lsq-import is already working on {path.name}; wait for it to finish"
        stopped: BaseException | None = None
        with (
            FileLock(journal_at.with_suffix(".lock"), busy),
            Journal(journal_at) as journal,
            open_ledger(settings) as ledger,
            PreviousImports(
                ledger,
                run=journal_at.stem,
                file=context.input_name or path.name,
                operation=mapping.operation,
                labels=plan.columns,
                lease_seconds=settings.lease_seconds,
            ) as previous,
        ):
            resume = _reopen(journal, targets)
            new: dict[int, RowOutcome] = {}
            try:
                if plan.jobs:
                    new = send_rows(
                        plan.jobs,
                        resume,
                        settings=settings,
                        journal=journal,
                        mode=context.mode,
                        operation=mapping.operation,
                        counters=counters,
                        progress=progress,
                        transport=transport,
                        cancel=cancel,
                        previous=previous,
                        match_fields=identity_fields(mapping),
                    )
            except (KeyboardInterrupt, ImportStopped) as exc:
                stopped = exc  # keep what finished: the next retry does the rest
                asked = {job.row_number for job in plan.jobs}
                new = {r.row_number: r.outcome for r in journal.rows() if r.outcome}
                new = {n: outcome for n, outcome in new.items() if n in asked}
        new.update(plan.invalid)
        names = headers_by_schema(plan.columns)  # LeadSquared's failures name Schema Names
        new = {n: outcome_in_user_words(outcome, names) for n, outcome in new.items()}
        counts, changed = rewrite(
            reader, new, counters, started, "Retried", extra_errors=plan.errors
        )
    report = FollowupReport(
        results_path=path,
        action="retry",
        sent=len(plan.bodies) - len(plan.pending & set(plan.bodies)),
        polled=len(plan.pending),
        still_pending=sum(
            1 for n in plan.pending if n not in new or new[n].status == RowStatus.PENDING
        ),
        invalid=len(plan.invalid),
        changed=changed,
        counts=counts,
        api_calls=counters.api_calls,
    )
    if stopped is not None:
        raise ImportStopped(
            f"{path.name}: retry stopped before every row had its result; the workbook holds "
            "what finished. Run the same command again to go on; nothing is sent twice.",
            report=report,
        ) from None
    return report


def _mapping_file(context: WorkbookContext, given: str | Path | None) -> Path:
    mapping_file = Path(given) if given else context.mapping
    if mapping_file is None or not mapping_file.is_file():
        raise MappingError(
            f"The mapping this workbook was made with ({mapping_file or 'not recorded'}) "
            "is not there: pass it with -m MAPPING"
        )
    return mapping_file


def _scan(reader: ResultsReader) -> tuple[list[ResultRow], Counter[str]]:
    """The rows to work on (Failure, Pending), and every row's status counted."""
    statuses: Counter[str] = Counter()
    targets = []
    for row in reader.rows():
        statuses[str(row.outcome.status)] += 1
        if row.outcome.status in RETRYABLE:
            targets.append(row)
    return targets, statuses


def _reopen(journal: Journal, targets: list[ResultRow]) -> dict[int, JournalRow]:
    """Failure rows may be sent again; Pending rows are polled by their RequestID."""
    known = journal.snapshot()
    failed = [r.outcome.row_number for r in targets if r.outcome.status == RowStatus.FAILURE]
    journal.reopen([n for n in failed if n in known])
    for row in targets:
        outcome = row.outcome
        entry = known.get(outcome.row_number)
        if (
            outcome.status == RowStatus.PENDING
            and outcome.request_id
            and (entry is None or entry.state != RowState.ACCEPTED)
        ):
            journal.mark_sending(outcome.row_number)
            journal.mark_accepted(outcome.row_number, outcome.request_id)
    return journal.snapshot()
