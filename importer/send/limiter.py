"""One pacing gate per LeadSquared rate window, shared by every worker of a run.

LeadSquared allows N calls in any sliding 5-second window per key and answers
the next with 429 and no Retry-After, so we keep our own sliding window of
send times, a little wider than theirs (the server counts arrival times, which
trail our send times by a jittery network delay).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from importer.core.config import Rate

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SlidingWindowLimiter:
    """At most `rate.calls` acquisitions in any window of `rate.seconds + margin`.

    A 429 is taken as proof that the server's count is ahead of ours (another
    client on the same key, or clock skew): we pause until a whole window has
    passed and drop our own limit by one call, earning it back after a run of
    clean windows.
    """

    def __init__(
        self,
        rate: Rate,
        *,
        margin: float = 0.2,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.window = rate.seconds + margin
        self.limit = rate.calls
        self._floor = max(1, int(rate.calls * 0.6))
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()
        self._paused_until = 0.0
        self._clean_since = clock()
        self.acquired = 0
        self.rate_limited = 0

    def _prune(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()

    def delay(self) -> float:
        """Seconds until the next call may go out (0 when it may go now)."""
        now = self._clock()
        self._prune(now)
        waits = [self._paused_until - now]
        if len(self._sent) >= self.limit:
            waits.append(self._sent[len(self._sent) - self.limit] + self.window - now)
        return max(0.0, *waits)

    async def acquire(self) -> None:
        """Wait for a free slot in the window, then take it. FIFO across callers."""
        async with self._lock:
            while (wait := self.delay()) > 0:
                await self._sleep(wait)
            now = self._clock()
            self._sent.append(now)
            self.acquired += 1
            if self.limit < self.rate.calls and now - self._clean_since > 3 * self.window:
                self.limit += 1
                self._clean_since = now

    def on_rate_limited(self) -> None:
        """Back off after a 429: wait out a full window and lower our own ceiling."""
        now = self._clock()
        self.rate_limited += 1
        self._paused_until = max(self._paused_until, now + self.window)
        self.limit = max(self._floor, self.limit - 1)
        self._clean_since = now
