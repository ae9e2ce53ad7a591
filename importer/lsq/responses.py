"""LeadSquared's answers as typed values (pure parsing, no HTTP).

The real API is loose about shape: `RequestId` and `RequestID` both occur,
booleans come as "true"/"false", numbers as strings, ids as the text "null", and
the Status API nests the original answer as a JSON string. Parsers here accept
all of that so the layers above see one spelling. A body that cannot be what
the endpoint promises raises `ValueError`; the client turns that into an ApiError.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from importer.core.constants import (
    CAPTURE_STATUS_FAILURE,
    CAPTURE_STATUS_PARTIAL,
    CAPTURE_STATUS_SUCCESS,
    TASK_FINAL_STATES,
)

_FINAL_STATES = frozenset(state.casefold() for state in TASK_FINAL_STATES)
# Capture "Status" sometimes arrives as a word instead of 0/1/2.
_CAPTURE_STATUS_WORDS = {
    "success": CAPTURE_STATUS_SUCCESS,
    "failure": CAPTURE_STATUS_FAILURE,
    "error": CAPTURE_STATUS_FAILURE,
    "partialsuccess": CAPTURE_STATUS_PARTIAL,
}
_NULL_TEXTS = frozenset({"", "null", "none"})


def pick(data: Mapping[str, Any], *names: str) -> Any:
    """The value of the first of `names` present in `data`, keys compared ignoring case."""
    for name in names:
        if name in data:
            return data[name]
    folded = {str(key).casefold(): value for key, value in data.items()}
    for name in names:
        if name.casefold() in folded:
            return folded[name.casefold()]
    return None


def as_text(value: Any) -> str | None:
    """A string id or message; None, "" and the text "null" become None."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text.casefold() in _NULL_TEXTS else text


def as_bool(value: Any) -> bool | None:
    """True/False from a bool, "true"/"false" (any case) or 1/0."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    return None


def as_float(value: Any, default: float = 0.0) -> float:
    """A number from a number or numeric string ("1,200" too); `default` when absent."""
    if value is None or isinstance(value, bool):
        return default
    try:
        return float(str(value).replace(",", "").strip())
    except ValueError:
        return default


def as_int(value: Any, default: int = 0) -> int:
    """A whole number as `as_float` reads it; `default` for an infinity or NaN too."""
    number = as_float(value, float(default))
    return int(number) if math.isfinite(number) else default


def load_json(data: Any) -> Any:
    """`data` decoded if it is JSON text, else unchanged."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    if isinstance(data, str):
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data


@dataclass(frozen=True)
class CaptureResult:
    """The Capture Opportunities response (sync body, or the Status API's Message)."""

    status: int | None
    created_opportunity_id: str | None
    conflicted_opportunity_id: str | None
    related_prospect_id: str | None
    request_id: str | None
    exception_type: str | None
    exception_message: str | None
    is_unique: bool | None
    raw: dict[str, Any]


def parse_capture_result(data: object) -> CaptureResult | None:
    """A CaptureResult from the body or its JSON text; None when there is nothing.

    Non-JSON text (a bare error sentence) is kept as `exception_message`.
    """
    data = load_json(data)
    if isinstance(data, list) and len(data) == 1:  # some answers wrap the object in a list
        data = data[0]
    if data is None or (isinstance(data, str) and as_text(data) is None):
        return None
    if not isinstance(data, dict):
        return CaptureResult(None, None, None, None, None, None, str(data), None, {"Message": data})
    return CaptureResult(
        status=_capture_status(pick(data, "Status")),
        created_opportunity_id=as_text(pick(data, "CreatedOpportunityId")),
        conflicted_opportunity_id=as_text(pick(data, "ConflictedOpportunityId")),
        related_prospect_id=as_text(pick(data, "RelatedProspectId", "ProspectId")),
        request_id=as_text(pick(data, "RequestId")),
        exception_type=as_text(pick(data, "ExceptionType")),
        exception_message=as_text(pick(data, "ExceptionMessage")),
        is_unique=as_bool(pick(data, "IsUnique")),
        raw=data,
    )


def _capture_status(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    return _CAPTURE_STATUS_WORDS.get(text.casefold())


@dataclass(frozen=True)
class TaskStatus:
    """One answer of a Status API: where an async request is, and its outcome."""

    request_id: str
    status: str
    status_reason: str | None
    message: dict[str, Any] | list[Any] | str | None
    raw: dict[str, Any]

    @property
    def final(self) -> bool:
        """True once LeadSquared will not change this task again ("FAILURE" or "Failure")."""
        return self.status.casefold() in _FINAL_STATES


def parse_task_status(data: object) -> TaskStatus:
    """A TaskStatus from `{"RequestId", "TaskStatus": {...}}`; Message decoded from JSON."""
    data = load_json(data)
    if not isinstance(data, dict):
        raise ValueError("status answer is not a JSON object")
    task = load_json(pick(data, "TaskStatus"))
    if not isinstance(task, dict):
        raise ValueError("status answer has no TaskStatus object")
    status = as_text(pick(task, "Status"))
    if status is None:
        raise ValueError("status answer has no TaskStatus.Status")
    request_id = as_text(pick(data, "RequestId")) or as_text(pick(task, "RequestId")) or ""
    return TaskStatus(
        request_id=request_id,
        status=status,
        status_reason=as_text(pick(task, "StatusReason")),
        message=_task_message(pick(task, "Message")),
        raw=data,
    )


def _task_message(value: Any) -> dict[str, Any] | list[Any] | str | None:
    value = load_json(value)
    if isinstance(value, str) and as_text(value) is None:
        return None
    if value is None or isinstance(value, dict | list | str):
        return value
    return str(value)


@dataclass(frozen=True)
class QueueMetrics:
    """A Metrics API answer: how far behind LeadSquared's async queue is."""

    pending_messages: int
    max_delay_seconds: float
    processing_rate_per_minute: float


def parse_metrics(data: object) -> QueueMetrics:
    """QueueMetrics from the answer, or from the one nested object that holds them."""
    data = load_json(data)
    if not isinstance(data, dict):
        raise ValueError("metrics answer is not a JSON object")
    if pick(data, "PendingMessages") is None:
        nested = [value for value in data.values() if isinstance(value, dict)]
        holder = next((n for n in nested if pick(n, "PendingMessages") is not None), None)
        if holder is None:
            raise ValueError("metrics answer has no PendingMessages")
        data = holder
    return QueueMetrics(
        pending_messages=as_int(pick(data, "PendingMessages")),
        max_delay_seconds=as_float(pick(data, "MaxDelayInSeconds", "MaxDelaySeconds")),
        processing_rate_per_minute=as_float(pick(data, "ProcessingRatePerMinute")),
    )


@dataclass(frozen=True)
class OpportunityPage:
    """One page of Get Opportunities by Lead Id."""

    record_count: int
    items: list[dict[str, Any]]


def parse_opportunity_page(data: Any) -> OpportunityPage:
    """An OpportunityPage from `{"RecordCount", "List"}` (a bare list is accepted too)."""
    data = load_json(data)
    if isinstance(data, list):
        items = data
        count = len(items)
    elif isinstance(data, dict):
        items = load_json(pick(data, "List")) or []
        if not isinstance(items, list):
            raise ValueError("opportunities answer has a List that is not a list")
        count = as_int(pick(data, "RecordCount"), len(items))
    else:
        raise ValueError("opportunities answer is not a JSON object")
    return OpportunityPage(record_count=count, items=[i for i in items if isinstance(i, dict)])


@dataclass(frozen=True)
class Lead:
    """One lead from a Get Lead API: its id, every field as text, and when it was created."""

    prospect_id: str
    attributes: dict[str, str]  # every field of the answer, null as ""
    created_on: str | None  # "yyyy-mm-dd hh:mm:ss" (UTC) as LeadSquared sends it

    def get(self, name: str) -> str | None:
        """A field by name, ignoring case (LeadSquared's field names are not case-sensitive)."""
        value = pick(self.attributes, name)
        return None if value is None else str(value)


def parse_leads(data: Any) -> list[Lead]:
    """Leads from a Get Lead API's JSON array (`[]` when none).

    A lead without a ProspectID, or an item that is not an object, is refused
    rather than skipped: a read-back that overlooked a lead would send the row again.
    """
    data = load_json(data)
    if not isinstance(data, list):
        raise ValueError("lead answer is not a JSON array")
    leads = []
    for item in data:
        if not isinstance(item, dict):
            raise ValueError("lead answer holds an item that is not a JSON object")
        prospect_id = as_text(pick(item, "ProspectID", "ProspectId"))
        if prospect_id is None:
            raise ValueError("lead answer holds a lead without a ProspectID")
        leads.append(
            Lead(
                prospect_id=prospect_id,
                attributes={str(name): _field_text(value) for name, value in item.items()},
                created_on=as_text(pick(item, "CreatedOn")),
            )
        )
    return leads


def _field_text(value: Any) -> str:
    """A lead field as text: null as "", booleans as "true"/"false", objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def parse_request_id(data: Any) -> str:
    """The RequestID an async API returns on acceptance."""
    data = load_json(data)
    request_id = as_text(pick(data, "RequestID", "RequestId")) if isinstance(data, dict) else None
    if request_id is None:
        raise ValueError("acceptance answer has no RequestID")
    return request_id


def error_fields(data: object) -> tuple[str | None, str | None]:
    """(ExceptionType, ExceptionMessage) from an error body of any shape; Nones when absent."""
    data = load_json(data)
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict):
        exception_type = as_text(pick(data, "ExceptionType"))
        message = pick(data, "ExceptionMessage", "Message", "error", "detail")
        if isinstance(message, dict | list):
            message = json.dumps(message, ensure_ascii=False)
        return exception_type, as_text(message)
    if isinstance(data, str):
        text = as_text(data)
        return None, text[:300] if text else None
    return None, None
