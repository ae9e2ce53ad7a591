"""`retry`: send again the rows of a results workbook whose Status is Failure.

Payloads are rebuilt from the workbook's own input columns, so a value fixed in the
workbook is what goes out. Pending rows are polled through the Status API, never
sent twice; every row goes through the account ledger like a `run`'s.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from importer.commands.engine import Delivery, deliver
from importer.commands.followup import (
    FollowupReport,
    RowPlan,
    WorkbookContext,
    plan_rows,
    rewrite,
)
from importer.core.config import Mode, Settings
from importer.core.errors import ImportStopped, MappingError
from importer.core.outcomes import RowOutcome, RowStatus
from importer.core.progress import Counters, Progress
from importer.core.text import cell_text
from importer.io.journal import Journal, JournalRow, RowState
from importer.io.state import check_state
from importer.io.workbooks.reader import ResultRow, ResultsReader
from importer.rules.mapping.identity import identity_fields
from importer.rules.mapping.mapping import Mapping
from importer.rules.mapping.mapping_file import load_mapping
from importer.rules.mapping.messages import headers_by_schema, outcome_in_user_words

RETRYABLE = (RowStatus.FAILURE, RowStatus.PENDING, RowStatus.NOT_SENT)
UNCHANGED = (
    "Not sent again: its values are as they were when LeadSquared refused it; fix them "
    "first (in this workbook), then retry. LeadSquared said:"
)
BUSY = "Another lsq-import is already working on {name}; wait for it to finish"
STOPPED = (
    "{name}: retry stopped before every row had its result; the workbook holds what "
    "finished. Run the same command again to go on; nothing is sent twice."
)


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
        journal_at = context.journal(path, Path(state_dir) if state_dir else None)
        kept = _unchanged_refusals(reader, targets, context.run_journal())
        targets = [row for row in targets if row.outcome.row_number not in kept]
        if not targets and not kept:  # nothing to send or ask about: the workbook stays
            counts = {str(s): statuses.get(str(s), 0) for s in RowStatus}
            return FollowupReport(results_path=path, action="retry", counts=counts)
        if not targets:  # only refusals left unchanged: say so in them, nothing is sent
            counts, changed = rewrite(reader, kept, Counters(), started, "Retried")
            report = FollowupReport(path, "retry", changed=changed, counts=counts)
            report.unchanged = len(kept)
            return report
        settings.require(
            sync=context.mode == Mode.SYNC or mapping.share is not None,
            asynchronous=context.mode == Mode.ASYNC,
        )
        check_state(settings)  # an unusable LSQ_STATE_URL stops it before any call
        plan = plan_rows(reader, targets, mapping)
        counters = Counters()
        names = headers_by_schema(plan.columns)  # LeadSquared's failures name Schema Names
        asked = {job.row_number for job in plan.jobs}
        written: dict[int, RowOutcome] = dict(kept)

        def finish(
            journal: Journal, outcomes: dict[int, RowOutcome], stop_reason: str | None
        ) -> tuple[dict[str, int], int]:
            """Rewrite the workbook with what this retry learnt (also after a stop)."""
            new = {n: outcome for n, outcome in outcomes.items() if n in asked}
            new.update(plan.invalid)
            written.update({n: outcome_in_user_words(o, names) for n, o in new.items()})
            return rewrite(reader, written, counters, started, "Retried", extra_errors=plan.errors)

        done = deliver(
            _delivery(settings, context, mapping, plan, journal_at, path),
            plan.jobs,
            prepare=lambda journal: _reopen(journal, targets),
            finish=finish,
            counters=counters,
            progress=progress,
            transport=transport,
            cancel=cancel,
        )
    (counts, changed), stopped = done.result, done.stopped
    report = _report(path, plan, written, counts, changed, counters)
    report.unchanged = len(kept)
    if stopped is not None:
        raise ImportStopped(STOPPED.format(name=path.name), report=report) from None
    return report


@dataclass(frozen=True)
class RetryPreview:
    """What `retry` would do with a workbook as it is now: said before it is done."""

    send: int  # Failure and NotSent rows it sends (changed, or not refused by LeadSquared)
    unchanged: int  # refused rows it leaves alone: their values are as they were
    pending: int  # Pending rows it asks about

    def sentence(self) -> str:
        parts = []
        if self.send:
            parts.append(f"sends {_rows(self.send)} again")
        if self.unchanged:
            parts.append(
                f"leaves {_rows(self.unchanged)} LeadSquared refused alone until their values "
                "are fixed"
            )
        if self.pending:
            parts.append(f"asks LeadSquared about {_rows(self.pending)} still pending")
        return "Retry failed " + (", ".join(parts) if parts else "has nothing to do") + "."


def retry_preview(results_path: str | Path) -> RetryPreview:
    """What `retry_results` would send, leave and ask about; nothing is sent."""
    with ResultsReader(Path(results_path)) as reader:
        context = WorkbookContext(reader.summary())
        targets, _ = _scan(reader)
        kept = _unchanged_refusals(reader, targets, context.run_journal())
    pending = sum(1 for row in targets if row.outcome.status == RowStatus.PENDING)
    return RetryPreview(len(targets) - pending - len(kept), len(kept), pending)


def _rows(count: int) -> str:
    return f"{count:,} row" + ("" if count == 1 else "s")


def _delivery(
    settings: Settings,
    context: WorkbookContext,
    mapping: Mapping,
    plan: RowPlan,
    journal_file: Path,
    path: Path,
) -> Delivery:
    return Delivery(
        settings=settings,
        mode=context.mode,
        operation=mapping.operation,
        journal_file=journal_file,
        busy_message=BUSY.format(name=path.name),
        file_name=context.input_name or path.name,
        labels=plan.columns,
        match_fields=identity_fields(mapping),
    )


def _report(
    path: Path,
    plan: RowPlan,
    new: dict[int, RowOutcome],
    counts: dict[str, int],
    changed: int,
    counters: Counters,
) -> FollowupReport:
    return FollowupReport(
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


def _unchanged_refusals(
    reader: ResultsReader, targets: list[ResultRow], journal_at: Path | None
) -> dict[int, RowOutcome]:
    """Failure rows LeadSquared itself refused whose values are as they were then: sending
    them unchanged would be refused again. Each keeps its Failure, saying so."""
    refused = {
        row.outcome.row_number: row
        for row in targets
        if row.outcome.status == RowStatus.FAILURE and _refused_by_leadsquared(row.outcome)
    }
    if not refused or journal_at is None:
        return {}
    with Journal(journal_at) as journal:
        if not journal.has_inputs():
            return {}
        sent = {n: cells for n, cells in journal.inputs() if n in refused}
    kept: dict[int, RowOutcome] = {}
    for number, row in refused.items():
        now = [_text(row.cells[i]) for i in reader.layout.inputs]
        then = [_text(cell) for cell in sent.get(number, [])]
        if number in sent and now == then:
            outcome = dataclasses.replace(row.outcome)
            if not (outcome.message or "").startswith(UNCHANGED):
                outcome.message = f"{UNCHANGED} {outcome.message or ''}".strip()
            kept[number] = outcome
    return kept


def _refused_by_leadsquared(outcome: RowOutcome) -> bool:
    kind = (outcome.exception_type or "").upper()
    return kind.startswith("MX") or kind.startswith("HTTP4")


def _text(value: object) -> str:
    return "" if value is None else cell_text(value).strip()


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
