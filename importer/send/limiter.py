"""One pacing gate per LeadSquared rate window, shared by every worker of a run.

LeadSquared allows N calls in any sliding 5-second window per key and answers
the next with 429 and no Retry-After, so we keep our own sliding window of
send times, a little wider than theirs (the server counts arrival times, which
trail our send times by a jittery network delay). The window itself lives in a
`Budget`: the account's, shared by every process on the machine (`limiter_for`),
or one in memory (tests, and callers that share nothing).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from importer.core.config import Mode, Rate, Settings
from importer.io.state import PostgresStore
from importer.send.budget import Budget, LocalBudget, budget_for

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SlidingWindowLimiter:
    """At most `rate.calls` acquisitions in any window of `rate.seconds + margin`.

    A 429 is taken as proof that the server's count is ahead of ours (another
    client on the same key, or clock skew): we pause until a whole window has
    passed (every process sharing the budget pauses too) and drop our own limit
    by one call, earning it back after a run of clean windows.
    """

    def __init__(
        self,
        rate: Rate,
        *,
        budget: Budget | None = None,
        margin: float = 0.2,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.window = rate.seconds + margin
        self.limit = rate.calls
        self.budget: Budget = budget if budget is not None else LocalBudget(clock)
        self._floor = max(1, int(rate.calls * 0.6))
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._clean_since = clock()
        self.acquired = 0
        self.rate_limited = 0

    async def acquire(self) -> None:
        """Wait for a free slot in the window, then take it. FIFO across this process's callers."""
        async with self._lock:
            # The budget answers at once; only the sleep between tries awaits.
            while (wait := self.budget.try_take(self.limit, self.window)) > 0:
                await self._sleep(wait)
            now = self._clock()
            self.acquired += 1
            if self.limit < self.rate.calls and now - self._clean_since > 3 * self.window:
                self.limit += 1
                self._clean_since = now

    def on_rate_limited(self) -> None:
        """Back off after a 429: wait out a full window and lower our own ceiling."""
        self.rate_limited += 1
        self.budget.pause(self.window)
        self.limit = max(self._floor, self.limit - 1)
        self._clean_since = self._clock()


def limiter_for(
    settings: Settings,
    kind: Mode,
    *,
    shared: bool = True,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    store: PostgresStore | None = None,
) -> SlidingWindowLimiter:
    """The one way to make a limiter: paced by the account's budget, shared across processes.

    `kind` is the window the calls count in: `Mode.SYNC` (host + access key) or
    `Mode.ASYNC` (async host + x-api-key). `shared=False` keeps the window in this process only.
    `store` is the LSQ_STATE_URL database to keep the window in (see `budget_for`).
    """
    budget = budget_for(settings, kind, shared=shared, clock=clock, store=store)
    return SlidingWindowLimiter(settings.rate, budget=budget, clock=clock, sleep=sleep)
