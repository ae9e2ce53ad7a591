"""`status`: ask LeadSquared again about the Pending rows of a results workbook."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import datetime
from functools import partial
from pathlib import Path

import httpx

from importer.commands.followup import FollowupReport, WorkbookContext, plan_rows, rewrite
from importer.core.config import Mode, Settings
from importer.core.errors import (
    ApiError,
    AuthError,
    ImportCancelled,
    MappingError,
    NotFound,
    UserError,
)
from importer.core.outcomes import RowOutcome, RowStatus
from importer.core.progress import Counters
from importer.io.journal import Journal
from importer.io.state import check_state
from importer.io.workbooks.reader import ResultRow, ResultsReader
from importer.lsq import verdicts
from importer.rules.mapping.identity import identity_fields
from importer.rules.mapping.mapping import Mapping
from importer.rules.mapping.mapping_file import load_mapping
from importer.rules.mapping.messages import outcome_in_user_words
from importer.send.confirm import Confirmer, Found
from importer.send.pool import Job
from importer.send.previous import Decision, PreviousImports, Verdict, open_ledger
from importer.send.session import Session

NOT_THERE = (
    "Read back: LeadSquared does not have it, so the send whose answer was lost did not "
    "create it; run the import again (or `lsq-import retry` on this workbook) to send it"
)


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
        pending, unconfirmed, statuses = _scan(reader, context.operation)
        counters = Counters()
        updated: dict[int, RowOutcome] = {}
        if pending:
            settings.require(sync=False, asynchronous=True)
            check_state(settings)  # an unusable LSQ_STATE_URL stops it before any call
            asyncio.run(
                _poll(settings, transport, counters, context.operation, pending, updated, cancel)
            )
        if unconfirmed:
            settings.require(sync=True, asynchronous=False)
            mapping = load_mapping(_mapping_file(context))
            plan = plan_rows(reader, unconfirmed, mapping)
            run = context.run_journal()
            asyncio.run(
                _read_back(
                    settings,
                    transport,
                    counters,
                    plan.jobs,
                    mapping,
                    updated,
                    cancel,
                    run=run.stem if run else path.stem,
                    file=context.input_name or path.name,
                    mode=context.mode,
                )
            )
            pending += [(row.outcome.row_number, "") for row in unconfirmed]
        if pending:
            names = context.field_headers(reader.layout)
            updated = {n: outcome_in_user_words(o, names) for n, o in updated.items()}
            _tell_the_journal(context.journal(path, None), updated)
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


def _scan(
    reader: ResultsReader, operation: str
) -> tuple[list[tuple[int, str]], list[ResultRow], Counter[str]]:
    """Pending rows with a RequestID (polled), Pending captures without one (read back:
    their answer was lost), and every row's status counted."""
    pending: list[tuple[int, str]] = []
    unconfirmed: list[ResultRow] = []
    statuses: Counter[str] = Counter()
    for row in reader.rows():
        statuses[str(row.outcome.status)] += 1
        if row.outcome.status == RowStatus.PENDING and row.outcome.request_id:
            pending.append((row.outcome.row_number, row.outcome.request_id))
        elif row.outcome.status == RowStatus.PENDING and operation == "capture":
            unconfirmed.append(row)
    return pending, unconfirmed, statuses


def _tell_the_journal(journal_file: Path, updated: dict[int, RowOutcome]) -> None:
    """The run's journal learns what was settled, so running it again sends only the rest."""
    if not journal_file.exists():
        return
    with Journal(journal_file) as journal:
        for outcome in updated.values():
            if outcome.status == RowStatus.NOT_SENT:
                journal.mark_absent(outcome.row_number)
            else:
                journal.mark_done(outcome)


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


async def _read_back(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None,
    counters: Counters,
    jobs: list[Job],
    mapping: Mapping,
    updated: dict[int, RowOutcome],
    cancel: threading.Event | None,
    *,
    run: str,
    file: str,
    mode: Mode,
) -> None:
    """Settle rows whose answer was lost by looking for them in LeadSquared (CONTRACT 4).

    Each row is claimed first, as a run claims it: one another run is sending now is left
    Pending, one the account has is answered from the ledger, and the ledger learns what
    the read-back found (found: imported; not there: free to send).
    """
    queue_limit = settings.poll_timeout if mode == Mode.ASYNC else None
    with open_ledger(settings) as ledger, PreviousImports(
        ledger, run=run, file=file, operation=mapping.operation, labels={},
        lease_seconds=settings.lease_seconds,
    ) as previous:  # fmt: skip
        async with Session(settings, transport=transport, counters=counters) as session:
            confirmer = Confirmer(session, match_fields=identity_fields(mapping))
            for job in jobs:
                if cancel is not None and cancel.is_set():
                    return
                decision = Decision(Verdict.SEND_UNCERTAIN)
                if job.identity:
                    decision = await asyncio.to_thread(
                        previous.decide, job.identity, job.row_number, job.values
                    )
                if decision.verdict == Verdict.KNOWN and decision.outcome is not None:
                    updated[job.row_number] = decision.outcome
                    continue
                if decision.verdict in (Verdict.WAIT, Verdict.POLL):
                    continue  # another run has it in hand: it stays Pending
                read = await confirmer.read_back(
                    job.row_number,
                    job.body,
                    decision.sent_at,
                    lead_id=decision.lead_id,
                    queue_limit=queue_limit,
                )
                if read.found == Found.YES and read.outcome is not None:
                    outcome = read.outcome
                elif read.found == Found.NO:
                    outcome = verdicts.not_sent(job.row_number, NOT_THERE)
                else:
                    continue  # still undecided: it stays Pending (and uncertain)
                updated[job.row_number] = outcome
                if job.identity:
                    await asyncio.to_thread(previous.finished, job.identity, outcome, job.values)


def _mapping_file(context: WorkbookContext) -> Path:
    if context.mapping is None or not context.mapping.is_file():
        raise MappingError(
            f"The mapping this workbook was made with ({context.mapping or 'not recorded'}) "
            "is not there: the Pending rows whose answer was lost need it to be read back"
        )
    return context.mapping


def _counts(statuses: Counter[str]) -> dict[str, int]:
    return {str(s): statuses.get(str(s), 0) for s in RowStatus}
