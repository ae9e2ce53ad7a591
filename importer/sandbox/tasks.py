"""The async APIs' queue: requests wait `async_delay` seconds, then run in arrival order.

Nothing runs in the background: whoever calls the sandbox next first processes
every request that is due, so processing order (and so duplicate detection)
is the order of arrival, whatever the timing of the calls.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from importer.core.constants import TASK_FAILURE, TASK_IN_QUEUE, TASK_SUCCESS

from .shapes import CaptureRequest, UpdateRequest

CAPTURE = "capture"
UPDATE = "update"
TASK_TYPES = {CAPTURE: "OpportunityCapture", UPDATE: "OpportunityUpdate"}
METRICS_WINDOW_SECONDS = 600.0  # "ProcessingRatePerMinute" is over the last 10 minutes


@dataclass
class AsyncTask:
    """One accepted async request and, once processed, its outcome."""

    request_id: str
    kind: str  # CAPTURE or UPDATE
    arrived: float
    request: CaptureRequest | UpdateRequest
    raw_body: str
    status: str = TASK_IN_QUEUE
    reason: str | None = None
    message: str | None = None  # the original API's answer, as a JSON string
    finished: float | None = None

    def succeed(self, answer: dict[str, Any], now: float) -> None:
        self.status, self.message, self.finished = TASK_SUCCESS, json.dumps(answer), now

    def fail(self, error_body: dict[str, Any], now: float) -> None:
        self.status, self.message, self.finished = TASK_FAILURE, json.dumps(error_body), now
        self.reason = error_body.get("ExceptionMessage")

    def as_status(self) -> dict[str, Any]:
        """The Status API's answer."""
        done = self.status != TASK_IN_QUEUE
        return {
            "RequestId": self.request_id,
            "TaskStatus": {
                "TaskType": TASK_TYPES[self.kind],
                "Status": self.status,
                "StatusReason": self.reason,
                "TaskCurrentStep": "Completed" if done else "Queued",
                "TaskLastStep": "Processing" if done else "Accepted",
                "RequestBody": self.raw_body,
                "Message": self.message,
            },
        }

    def as_record(self) -> dict[str, Any]:
        """Short form for the snapshot."""
        return {
            "RequestId": self.request_id,
            "TaskType": TASK_TYPES[self.kind],
            "Status": self.status,
            "StatusReason": self.reason,
            "Message": self.message,
        }


class TaskQueue:
    """Every async request ever accepted, and the ones still waiting, in arrival order."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.tasks: dict[str, AsyncTask] = {}
        self._waiting: deque[AsyncTask] = deque()
        self._finished: dict[str, deque[float]] = {CAPTURE: deque(), UPDATE: deque()}

    def submit(self, task: AsyncTask) -> None:
        self.tasks[task.request_id] = task
        self._waiting.append(task)

    def due(self, now: float) -> Iterator[AsyncTask]:
        """Hand out the waiting tasks whose delay has passed, oldest first."""
        while self._waiting and now - self._waiting[0].arrived >= self.delay:
            task = self._waiting.popleft()
            yield task
            self._finished[task.kind].append(now)

    def find(self, kind: str, request_id: str) -> AsyncTask | None:
        task = self.tasks.get(request_id)
        return task if task is not None and task.kind == kind else None

    def metrics(self, kind: str, now: float) -> dict[str, Any]:
        """The Metrics API's answer for one async API."""
        waiting = [t for t in self._waiting if t.kind == kind]
        finished = self._finished[kind]
        while finished and finished[0] < now - METRICS_WINDOW_SECONDS:
            finished.popleft()
        return {
            "PendingMessages": len(waiting),
            "MaxDelayInSeconds": round(max((now - t.arrived for t in waiting), default=0.0), 3),
            "ProcessingRatePerMinute": round(len(finished) / (METRICS_WINDOW_SECONDS / 60), 3),
        }
