"""What happens to a row: the statuses users see and the records that carry them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class RowStatus(StrEnum):
    """The `Status` column of the results workbook (CONTRACT section 6)."""

    SUCCESS = "Success"
    PARTIAL_SUCCESS = "PartialSuccess"
    FAILURE = "Failure"
    INVALID = "Invalid"
    PENDING = "Pending"
    NOT_SENT = "NotSent"  # ready, but the run stopped (or hit the daily cap) before sending it


class Origin(StrEnum):
    """Where a Success came from: what the summary line counts apart (CONTRACT 6b)."""

    CREATED = "created"  # this run created (or updated) it
    ALREADY_IMPORTED = "already imported"  # the account ledger knew the row: not sent again
    DUPLICATE = "duplicate"  # LeadSquared's own duplicate detection found an existing one


# Status colours as (background, text), the same in every workbook and on the page:
# Success green, Pending amber, PartialSuccess orange, Failure red, Invalid grey,
# NotSent blue (nothing happened to it yet: running the same command again sends it).
STATUS_COLOURS: dict[RowStatus, tuple[str, str]] = {
    RowStatus.SUCCESS: ("#C6EFCE", "#006100"),
    RowStatus.PENDING: ("#FFEB9C", "#7F6000"),
    RowStatus.PARTIAL_SUCCESS: ("#F8CBAD", "#843C0C"),
    RowStatus.FAILURE: ("#FFC7CE", "#9C0006"),
    RowStatus.INVALID: ("#E7E6E6", "#3B3838"),
    RowStatus.NOT_SENT: ("#DDEBF7", "#1F4E78"),
}

RESULT_COLUMNS: tuple[str, ...] = (
    "RowNumber",
    "Status",
    "CreatedOpportunityId",
    "ConflictedOpportunityId",
    "RelatedProspectId",
    "RequestID",
    "ExceptionType",
    "Message",
)


@dataclass(frozen=True, slots=True)
class RowError:
    """One validation problem: a line of the `Errors` sheet."""

    row_number: int
    column: str
    value: str
    message: str


@dataclass(slots=True)
class RowOutcome:
    """The result columns of one row."""

    row_number: int
    status: RowStatus
    created_opportunity_id: str | None = None
    conflicted_opportunity_id: str | None = None
    related_prospect_id: str | None = None
    request_id: str | None = None
    exception_type: str | None = None
    message: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # e.g. SharedWith, ShareStatus
    origin: Origin | None = None  # for Success and PartialSuccess rows

    def as_cells(self) -> list[str | int]:
        """The values of RESULT_COLUMNS, in order, blanks as ""."""
        return [
            self.row_number,
            str(self.status),
            self.created_opportunity_id or "",
            self.conflicted_opportunity_id or "",
            self.related_prospect_id or "",
            self.request_id or "",
            self.exception_type or "",
            self.message or "",
        ]
