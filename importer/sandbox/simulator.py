"""`Sandbox`: one simulated LeadSquared account, its data, queue, rate windows and faults.

HTTP lives in `app.py`; this class is what the endpoints do, and what tests
and the inspection endpoints look at. One lock guards it, so a test thread may
read it while the server thread changes it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from importer.core.constants import ACCEPTED_STATUS_TEXT, RATE_LIMIT_MESSAGE

from .config import SandboxConfig
from .errors import InjectedFailure, InjectedUntypedFailure, NotFound, Rejected, TooManyRequests
from .faults import NO_FAULT, FaultDice, FaultPlan
from .shapes import CaptureRequest, ListQuery, ShareItem, UpdateRequest
from .store import Store
from .tasks import CAPTURE, UPDATE, AsyncTask, TaskQueue
from .window import SlidingWindow

SYNC = "sync"
ASYNC = "async"
# What LeadSquared says, with MXUnknownException, when its database is out of reach.
UNREACHABLE_DB_MESSAGE = "Unable to connect to DB"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Sandbox:
    """In-memory state and behaviour of the simulated account."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        utc_now: Callable[[], datetime] | None = None,
    ) -> None:
        """`clock` paces windows and the queue; `utc_now` stamps the data (CreatedOn, PA...On)."""
        self.config = config or SandboxConfig()
        self._clock = clock
        self._utc_now = utc_now or _utc_now
        self._lock = threading.RLock()
        self.reset()

    # ---- the fixed public surface --------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Everything, JSON-able: leads, opportunities, shares, async requests, counters."""
        with self._lock:
            self._process_due()
            return {
                **self._store.as_snapshot(),
                "requests": [task.as_record() for task in self._queue.tasks.values()],
                "counters": self._counters_view(),
            }

    def opportunities(self) -> list[dict[str, Any]]:
        """Stored opportunities: OpportunityId, ProspectId, event code, note, dates, Fields."""
        with self._lock:
            self._process_due()
            return [o.as_record() for o in self._store.opportunities.values()]

    def set_opportunity_field(self, opportunity_id: str, schema_name: str, value: str) -> None:
        """Change stored data behind the importer's back. KeyError if there is no such id."""
        with self._lock:
            self._process_due()
            try:
                self._store.set_field(opportunity_id, schema_name, value)
            except NotFound as error:
                raise KeyError(error.message) from None

    def delete_opportunity(self, opportunity_id: str) -> None:
        """Remove an opportunity (and its shares). KeyError if there is no such id."""
        with self._lock:
            self._process_due()
            try:
                self._store.delete(opportunity_id)
            except NotFound as error:
                raise KeyError(error.message) from None

    def reset(self) -> None:
        """Back to an empty account: data, queue, windows, counters and the fault dice."""
        with self._lock:
            c = self.config
            self._store = Store(
                require_status_comment=c.require_status_comment,
                duplicate_detection=c.duplicate_detection,
                now=self._utc_now,
            )
            self._queue = TaskQueue(c.async_delay)
            self._windows: dict[tuple[str, str], SlidingWindow] = {}
            self._dice = FaultDice(c)
            self._calls: Counter[str] = Counter()
            self._responses: Counter[str] = Counter()
            self._events: Counter[str] = Counter()

    # ---- gates every API call passes ---------------------------------------------------
    def admit(self, family: str, key: str, *, faulty: bool) -> FaultPlan:
        """Rate window first, then the injected faults; raises the 429/500 to answer."""
        with self._lock:
            self._process_due()
            window = self._windows.get((family, key))
            if window is None:
                window = SlidingWindow(self.config.rate_limit, self.config.rate_window)
                self._windows[(family, key)] = window
            now = self._clock()
            if not window.has_room(now):
                self._events["rate_limited"] += 1
                raise TooManyRequests(self._limit_message())
            plan = self._dice.roll() if faulty else NO_FAULT
            if plan.burst_429:  # refused, so not counted, like a real 429
                self._events["burst_429"] += 1
                raise TooManyRequests(self._limit_message())
            window.record(now)
            if plan.error_500:  # received and counted, but nothing is done
                self._events["injected_500"] += 1
                if plan.error_untyped:
                    raise InjectedUntypedFailure("An error occurred while processing the request")
                raise InjectedFailure(UNREACHABLE_DB_MESSAGE)
            return plan

    def _limit_message(self) -> str:
        return RATE_LIMIT_MESSAGE.format(
            limit=self.config.rate_limit, seconds=f"{self.config.rate_window:g}"
        )

    # ---- what the endpoints do ------------------------------------------------------
    def capture(self, request: CaptureRequest) -> dict[str, Any]:
        """Capture Opportunities (sync): the response, or `Rejected` (HTTP 500, MX...)."""
        with self._lock:
            self._process_due()
            return self._store.capture(request, str(uuid.uuid4()))

    def submit(
        self, kind: str, request: CaptureRequest | UpdateRequest, raw_body: str
    ) -> dict[str, Any]:
        """Queue an async capture or update; processed once `async_delay` has passed."""
        with self._lock:
            self._process_due()
            task = AsyncTask(str(uuid.uuid4()), kind, self._clock(), request, raw_body)
            self._queue.submit(task)
            self._process_due()  # with async_delay 0 it is done before the answer
            return {"Status": ACCEPTED_STATUS_TEXT, "RequestID": task.request_id}

    def task_status(self, kind: str, request_id: str) -> dict[str, Any]:
        with self._lock:
            self._process_due()
            task = self._queue.find(kind, request_id)
            if task is None:
                raise NotFound(f"No request found with RequestID '{request_id}'")
            return task.as_status()

    def metrics(self, kind: str) -> dict[str, Any]:
        with self._lock:
            self._process_due()
            return self._queue.metrics(kind, self._clock())

    def share(self, items: list[ShareItem]) -> dict[str, Any]:
        with self._lock:
            self._process_due()
            return self._store.share(items)

    def opportunities_of_lead(self, query: ListQuery) -> dict[str, Any]:
        with self._lock:
            self._process_due()
            return self._store.opportunities_of_lead(query)

    def leads_by_email(self, email: str) -> list[dict[str, Any]]:
        with self._lock:
            self._process_due()
            return self._store.leads_by_email(email)

    def leads_by_quick_search(self, key: str) -> list[dict[str, Any]]:
        with self._lock:
            self._process_due()
            return self._store.leads_by_quick_search(key)

    def lead_by_id(self, prospect_id: str) -> list[dict[str, Any]]:
        with self._lock:
            self._process_due()
            return self._store.lead_by_id(prospect_id)

    # ---- counters ----------------------------------------------------------------------
    def count_call(self, path: str) -> None:
        with self._lock:
            self._calls[path] += 1

    def count_answer(self, status_code: int) -> None:
        with self._lock:
            self._responses[str(status_code)] += 1

    def count_drop(self) -> None:
        with self._lock:
            self._events["drops"] += 1

    def count_gateway_504(self) -> None:
        with self._lock:
            self._events["gateway_504"] += 1

    def _counters_view(self) -> dict[str, Any]:
        return {
            "calls": dict(self._calls),
            "responses": dict(self._responses),
            "429s": self._events["rate_limited"] + self._events["burst_429"],
            "rate_limited": self._events["rate_limited"],
            "burst_429": self._events["burst_429"],
            "500s": self._responses.get("500", 0),
            "injected_500": self._events["injected_500"],
            "drops": self._events["drops"],
            "gateway_504": self._events["gateway_504"],
        }

    # ---- the async queue ----------------------------------------------------------------
    def _process_due(self) -> None:
        now = self._clock()
        for task in self._queue.due(now):
            try:
                if task.kind == CAPTURE:
                    assert isinstance(task.request, CaptureRequest)
                    answer = self._store.capture(task.request, task.request_id)
                else:
                    assert task.kind == UPDATE and isinstance(task.request, UpdateRequest)
                    answer = self._store.update(task.request)
            except Rejected as error:
                task.fail(error.body(), now)
            else:
                task.succeed(answer, now)
