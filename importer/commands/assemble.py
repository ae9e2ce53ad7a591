"""Every input row's final line, from this run, the journal or validation.

Shared by `run` (at the end, even after a crash or a stop) and `rebuild`
(from the journal alone), so both write the same results workbook.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from importer.core.outcomes import RowError, RowOutcome, RowStatus
from importer.io.journal import JournalRow

NOT_SENT = "Not sent: the run stopped before this row's turn ({reason}); run the same command again"
NOT_COLLECTED = "Accepted by LeadSquared; its result was not collected before the run stopped"
MAYBE_SENT = (
    "Sent, but no answer came back before the run stopped ({reason}): it may be in "
    "LeadSquared. Running the same command again (or `lsq-import status` on this workbook) "
    "reads it back first and never sends it twice"
)


def invalid_outcome(row_number: int, errors: list[RowError]) -> RowOutcome:
    """The results line of a row that failed validation and was never sent."""
    return RowOutcome(
        row_number=row_number,
        status=RowStatus.INVALID,
        exception_type="ValidationError",
        message="; ".join(error.message for error in errors) or "Failed validation",
    )


def errors_by_row(errors: Iterable[RowError]) -> dict[int, list[RowError]]:
    grouped: dict[int, list[RowError]] = defaultdict(list)
    for error in errors:
        grouped[error.row_number].append(error)
    return grouped


def status_counts(outcomes: Iterable[RowOutcome]) -> dict[str, int]:
    """Rows per status, every status listed (the Summary sheet's counts)."""
    counts = Counter(str(o.status) for o in outcomes)
    return {str(status): counts.get(str(status), 0) for status in RowStatus}


def final_outcome(
    row_number: int,
    outcomes: dict[int, RowOutcome],
    journal_rows: dict[int, JournalRow],
    problems: dict[int, list[RowError]],
    stop_reason: str | None,
) -> RowOutcome:
    """Validation first, then this run's outcome, then the journal's, then "not sent"."""
    if row_number in problems:
        return invalid_outcome(row_number, problems[row_number])
    if row_number in outcomes:
        return outcomes[row_number]
    previous = journal_rows.get(row_number)
    if previous is not None and previous.outcome is not None:
        return previous.outcome
    if previous is not None and previous.request_id:
        return RowOutcome(
            row_number=row_number,
            status=RowStatus.PENDING,
            request_id=previous.request_id,
            message=NOT_COLLECTED,
        )
    reason = stop_reason or "unknown"
    if previous is not None and previous.maybe_sent:
        return RowOutcome(
            row_number=row_number,
            status=RowStatus.PENDING,
            message=MAYBE_SENT.format(reason=reason),
        )
    return RowOutcome(
        row_number=row_number, status=RowStatus.NOT_SENT, message=NOT_SENT.format(reason=reason)
    )
