"""When to ask the Status API about each accepted request.

Polls are timed from the queue delay observed so far (and the Metrics API's
`MaxDelayInSeconds`): an `In-Queue` answer pushes every later poll back, so a row
costs close to two calls (capture + one status) instead of a poll every second.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

J = TypeVar("J")

MIN_POLL_DELAY = 0.5  # polls of one request are at least this far apart
INITIAL_POLL_DELAY = 2.0  # the first guess at the queue delay
MAX_POLL_DELAY = 60.0  # the estimate never grows past this


@dataclass(order=True, slots=True)
class PollItem(Generic[J]):
    """One accepted request waiting for its verdict."""

    due: float
    seq: int
    row_number: int = field(compare=False)
    request_id: str = field(compare=False)
    accepted: float = field(compare=False)
    uncertain: bool = field(compare=False)
    job: J | None = field(compare=False)
    errors: int = field(compare=False, default=0)


class PollSchedule(Generic[J]):
    """A heap of accepted requests ordered by when an answer is likely."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        poll_timeout: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.poll_timeout = poll_timeout
        self.delay_estimate = INITIAL_POLL_DELAY
        self._heap: list[PollItem[J]] = []
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()

    def __len__(self) -> int:
        return len(self._heap)

    def add(
        self, row_number: int, request_id: str, *, accepted: float, uncertain: bool, job: J | None
    ) -> None:
        due = accepted + self.delay_estimate
        item = PollItem(due, next(self._seq), row_number, request_id, accepted, uncertain, job)
        self._push(item)

    def again(self, item: PollItem[J], not_before: float) -> bool:
        """Put `item` back, due no sooner than `not_before`; False once its time is up."""
        now = self.clock()
        if now - item.accepted >= self.poll_timeout:
            return False
        item.due = max(not_before, now + MIN_POLL_DELAY)
        item.seq = next(self._seq)
        self._push(item)
        return True

    def still_queued(self, item: PollItem[J]) -> None:
        """An `In-Queue` answer: the queue is slower than we thought."""
        waited = self.clock() - item.accepted
        self.delay_estimate = min(MAX_POLL_DELAY, max(self.delay_estimate, waited) * 1.5)

    def queue_delay(self, seconds: float) -> None:
        """The Metrics API's `MaxDelayInSeconds`."""
        if seconds > 0:
            self.delay_estimate = min(MAX_POLL_DELAY, max(self.delay_estimate, seconds * 1.1))

    async def next_due(self) -> PollItem[J]:
        """Wait for the earliest poll whose time has come, and take it."""
        while True:
            wait: float | None = None
            if self._heap:
                head = self._heap[0]
                # Dues follow the current estimate: one slow answer pushes all later polls back.
                due = max(head.due, head.accepted + self.delay_estimate)
                due = min(due, head.accepted + self.poll_timeout)  # one last look
                wait = due - self.clock()
                if wait <= 0:
                    return heapq.heappop(self._heap)
            self._wakeup.clear()
            # Wait for the due time (on the injected clock) or for a new, earlier poll.
            waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(self._wakeup.wait())]
            if wait is not None:
                waiters.append(asyncio.ensure_future(self.sleep(wait)))
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    def _push(self, item: PollItem[J]) -> None:
        heapq.heappush(self._heap, item)
        self._wakeup.set()
