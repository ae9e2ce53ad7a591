"""`status`: ask LeadSquared again about the Pending rows of a results workbook."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import datetime
from functools import partial
from pathlib import Path

import httpx

from importer.commands.followup import FollowupReport, WorkbookContext, rewrite
from importer.core.config import Mode, Settings
from importer.core.errors import ApiError, AuthError, ImportCancelled, NotFound, UserError
from importer.core.outcomes import RowOutcome, RowStatus
from importer.io.journal import Journal
from importer.io.state import check_state
from importer.io.workbooks.reader import ResultsReader
from importer.lsq import verdicts
from importer.rules.messages import outcome_in_user_words
from importer.send.progress import Counters
from importer.send.session import Session


def refresh_status(
    results_path: str | Path,
    *,
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
    cancel: threading.Event | None = None,
) -> FollowupReport:
    """Ask the Status API once about every Pending row and record what it says now.

    With `cancel` set it stops between rows, records what it learnt, then raises
    `ImportCancelled` with the report.
    """
    started = datetime.now()
    path = Path(results_path)
    with ResultsReader(path) as reader:
        context = WorkbookContext(reader.summary())
        pending: list[tuple[int, str]] = []
        statuses: Counter[str] = Counter()
        for row in reader.rows():
            statuses[str(row.outcome.status)] += 1
            if row.outcome.status == RowStatus.PENDING and row.outcome.request_id:
                pending.append((row.outcome.row_number, row.outcome.request_id))
        counters = Counters()
        updated: dict[int, RowOutcome] = {}
        if pending:
            settings.require(sync=False, asynchronous=True)
            check_state(settings)  # an unusable LSQ_STATE_URL stops it before any call
            asyncio.run(
                _poll(settings, transport, counters, context.operation, pending, updated, cancel)
            )
            names = context.field_headers(reader.layout)
            updated = {n: outcome_in_user_words(o, names) for n, o in updated.items()}
            journal_file = context.journal(path, None)
            if journal_file.exists():
                with Journal(journal_file) as journal:
                    for outcome in updated.values():
                        journal.mark_done(outcome)
        counts = _counts(statuses)
        changed = 0
        if pending:  # nothing to ask about: the workbook stays as it is
            counts, changed = rewrite(reader, updated, counters, started, "Status checked")
    report = FollowupReport(
        results_path=path,
        action="status",
        polled=len(pending),
        still_pending=len(pending) - len(updated),
        changed=changed,
        counts=counts,
        api_calls=counters.api_calls,
    )
    if cancel is not None and cancel.is_set() and pending:
        raise ImportCancelled(
            f"{path.name}: stopped; the workbook holds what LeadSquared answered so far",
            report=report,
        )
    return report


async def _poll(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None,
    counters: Counters,
    operation: str,
    pending: list[tuple[int, str]],
    updated: dict[int, RowOutcome],
    cancel: threading.Event | None,
) -> None:
    async with Session(settings, transport=transport, counters=counters) as session:
        client = session.client
        check = client.update_status if operation == "update" else client.capture_status
        for row_number, request_id in pending:
            if cancel is not None and cancel.is_set():
                return
            try:
                task = await session.call(partial(check, request_id), window=Mode.ASYNC)
            except AuthError:
                raise
            except NotFound as exc:
                raise UserError(
                    f"LeadSquared answered 404 Not Found ({exc.message}): check LSQ_ASYNC_HOST "
                    "and LSQ_PATH_CAPTURE_STATUS / LSQ_PATH_UPDATE_STATUS"
                ) from None
            except ApiError:
                continue  # still unknown: the row stays Pending
            outcome = verdicts.from_task(row_number, task, uncertain=False, operation=operation)
            if outcome is not None and outcome.status != RowStatus.PENDING:
                outcome.request_id = outcome.request_id or request_id
                updated[row_number] = outcome


def _counts(statuses: Counter[str]) -> dict[str, int]:
    return {str(s): statuses.get(str(s), 0) for s in RowStatus}
