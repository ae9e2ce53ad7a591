"""One command's link to LeadSquared: a client, a limiter per rate window, counters.

`run`, `retry`, `status`, `verify` and the share step all call through a session,
so every call is paced by the same limiter, retried by the same loop and counted once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

import httpx

from importer.core.config import Mode, Settings
from importer.core.progress import CallRecord, Counters, Progress
from importer.io.state import open_state
from importer.lsq.client import LeadSquaredClient
from importer.send.limiter import Clock, SlidingWindowLimiter, limiter_for
from importer.send.retry import MAX_429_PER_CALL, NO_HOOKS, RetryHooks, Sleep, call_with_retries

T = TypeVar("T")


class Session:
    """Open with `async with`; the client closes with the block."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        progress: Progress | None = None,
        counters: Counters | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        shared_budget: bool = True,
    ) -> None:
        self.settings = settings
        self.progress = progress or Progress()
        self.counters = counters or Counters()
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        # LeadSquared counts the sync and the async APIs in separate windows, per account:
        # every process using the same account shares each one (CONTRACT 8): on this
        # machine, or on every machine with LSQ_STATE_URL (connected now: a database that
        # cannot be used stops the command before any call).
        self._store = open_state(settings) if shared_budget else None
        try:
            self._limiters = {
                window: limiter_for(
                    settings,
                    window,
                    shared=shared_budget,
                    clock=clock,
                    sleep=sleep,
                    store=self._store,
                )
                for window in Mode
            }
            self.client = LeadSquaredClient(settings, transport=transport, on_call=self._count)
        except BaseException:
            if self._store is not None:
                self._store.close()
            raise

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.client.aclose()
        for limiter in self._limiters.values():
            limiter.budget.close()
        if self._store is not None:
            self._store.close()

    def limiter(self, window: Mode) -> SlidingWindowLimiter:
        return self._limiters[window]

    async def call(
        self,
        send: Callable[[], Awaitable[T]],
        *,
        window: Mode,
        hooks: RetryHooks = NO_HOOKS,
        max_throttled: int = MAX_429_PER_CALL,
        retry_uncertain: bool = True,
    ) -> T:
        """`send()` paced by `window`'s limiter, retried while retrying can help."""
        throttled = hooks.throttled

        def on_429() -> None:
            self._throttled(window)
            throttled()

        return await call_with_retries(
            send,
            self._limiters[window],
            self.counters,
            max_attempts=self.settings.max_attempts,
            rng=self.rng,
            sleep=self.sleep,
            hooks=RetryHooks(hooks.before_attempt, hooks.reply_lost, on_429),
            max_throttled=max_throttled,
            retry_uncertain=retry_uncertain,
        )

    def note_429(self, window: Mode) -> None:
        """A 429 met outside `call` (the poller reschedules instead of retrying at once)."""
        self._throttled(window)
        self.counters.retries += 1

    def _throttled(self, window: Mode) -> None:
        """Every 429: the window's limiter pauses and slows down, and it is counted."""
        self._limiters[window].on_rate_limited()
        self.counters.rate_limited += 1
        self.progress.rate_limited()

    def _count(self, record: CallRecord) -> None:
        self.counters.api_calls += 1
        self.progress.call(record)
