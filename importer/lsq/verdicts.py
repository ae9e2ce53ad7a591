"""Turns LeadSquared's answers into the outcome a user reads in the results workbook."""

from __future__ import annotations

from importer.core.constants import (
    CAPTURE_STATUS_FAILURE,
    CAPTURE_STATUS_PARTIAL,
    TASK_IN_QUEUE,
    TASK_SUCCESS,
)
from importer.core.outcomes import Origin, RowOutcome, RowStatus
from importer.lsq.responses import CaptureResult, TaskStatus, error_fields, parse_capture_result

EARLIER_ATTEMPT = (
    "Created by an earlier attempt whose reply was lost; LeadSquared's duplicate check "
    "found it when the row was sent again"
)


def from_capture(
    row_number: int, result: CaptureResult, *, uncertain: bool, request_id: str | None = None
) -> RowOutcome:
    """A Capture Opportunities response (sync body, or the Status API's Message)."""
    outcome = RowOutcome(
        row_number=row_number,
        status=RowStatus.SUCCESS,
        created_opportunity_id=result.created_opportunity_id,
        conflicted_opportunity_id=result.conflicted_opportunity_id,
        related_prospect_id=result.related_prospect_id,
        request_id=request_id or result.request_id,
        exception_type=result.exception_type,
        message=result.exception_message,
    )
    refused = result.exception_type is not None and not (
        result.created_opportunity_id or result.conflicted_opportunity_id
    )
    if result.status == CAPTURE_STATUS_FAILURE or (result.status is None and refused):
        outcome.status = RowStatus.FAILURE
        outcome.message = result.exception_message or "LeadSquared did not create the opportunity"
    elif result.status == CAPTURE_STATUS_PARTIAL:
        outcome.status = RowStatus.PARTIAL_SUCCESS
        outcome.origin = Origin.CREATED
        outcome.message = result.exception_message or (
            "The opportunity was captured but LeadSquared's secondary action failed"
        )
    elif result.conflicted_opportunity_id and not result.created_opportunity_id:
        if uncertain:
            outcome.created_opportunity_id = result.conflicted_opportunity_id
            outcome.conflicted_opportunity_id = None
            outcome.message = EARLIER_ATTEMPT
            outcome.origin = Origin.CREATED
        else:
            outcome.origin = Origin.DUPLICATE
            outcome.message = (
                "Duplicate: LeadSquared already has this opportunity "
                f"({result.conflicted_opportunity_id}); no new one was created"
            )
    elif result.created_opportunity_id:
        outcome.message = outcome.message or "Opportunity created"
        outcome.origin = Origin.CREATED
    else:
        outcome.message = outcome.message or "Captured"
        outcome.origin = Origin.CREATED
    return outcome


def from_task(
    row_number: int, task: TaskStatus, *, uncertain: bool, operation: str
) -> RowOutcome | None:
    """A Status API answer; None while the request is still queued."""
    if task.status.casefold() == TASK_IN_QUEUE.casefold():
        return None
    if task.status.casefold() == TASK_SUCCESS.casefold():
        if operation == "capture":
            result = parse_capture_result(task.message)
            if result is not None:
                return from_capture(
                    row_number, result, uncertain=uncertain, request_id=task.request_id
                )
        return RowOutcome(
            row_number=row_number,
            status=RowStatus.SUCCESS,
            request_id=task.request_id,
            message="Opportunity updated" if operation == "update" else "Captured",
            origin=Origin.CREATED,
        )
    exception_type, exception_message = error_fields(task.message)
    if operation == "capture" and exception_type is None:
        result = parse_capture_result(task.message)
        if result is not None and result.exception_type:
            exception_type, exception_message = result.exception_type, result.exception_message
    reason = exception_message or task.status_reason or f"LeadSquared reported {task.status}"
    return RowOutcome(
        row_number=row_number,
        status=RowStatus.FAILURE,
        request_id=task.request_id,
        exception_type=exception_type,
        message=reason,
    )


def failure(
    row_number: int,
    message: str,
    *,
    exception_type: str | None = None,
    request_id: str | None = None,
) -> RowOutcome:
    return RowOutcome(
        row_number=row_number,
        status=RowStatus.FAILURE,
        exception_type=exception_type,
        message=message,
        request_id=request_id,
    )


def pending(row_number: int, request_id: str, waited: float) -> RowOutcome:
    return RowOutcome(
        row_number=row_number,
        status=RowStatus.PENDING,
        request_id=request_id,
        message=(
            f"Accepted by LeadSquared but still in its queue after {waited:.0f} s; "
            "run `lsq-import status` on this workbook later to collect the result"
        ),
    )


def unconfirmed(row_number: int, reason: str) -> RowOutcome:
    """Sent, its answer lost, and nothing could tell whether LeadSquared has it (`reason`
    says why, e.g. "could not be confirmed: ...")."""
    return RowOutcome(
        row_number=row_number,
        status=RowStatus.PENDING,
        message=(
            f"Sent, but its answer was lost and it {reason}. It is not sent again until it "
            "is read back (`lsq-import status` on this workbook)"
        ),
    )


def not_sent(row_number: int, message: str) -> RowOutcome:
    return RowOutcome(row_number=row_number, status=RowStatus.NOT_SENT, message=message)
