"""What a budget is, and the one that lives in this process's memory."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from importer.core.config import Mode

Clock = Callable[[], float]

# Call times are kept this long (or one window, if longer) so processes whose windows
# differ still see each other's calls; older ones are deleted as they are met.
KEEP_SECONDS = 60.0


class Budget(Protocol):
    """Where a limiter's call times live: in this process only, or shared by every process."""

    def try_take(self, limit: int, window: float) -> float:
        """Take a slot and return 0, or take nothing and return the seconds to wait.

        A shared budget with a daily cap raises `DailyLimitReached` instead of taking
        the call that would pass it.
        """
        ...

    def pause(self, seconds: float) -> None:
        """Refuse every slot for `seconds` from now (a 429 proved the server's count is ahead)."""
        ...

    def close(self) -> None:
        """Let go of what the budget holds open (a database connection)."""
        ...


class LocalBudget:
    """A sliding window in this process's memory: unit tests, and when nothing is shared."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._sent: deque[float] = deque()
        self._paused_until = float("-inf")

    def try_take(self, limit: int, window: float) -> float:
        now = self._clock()
        if self._paused_until > now:
            return self._paused_until - now
        while self._sent and self._sent[0] <= now - window:
            self._sent.popleft()
        if len(self._sent) < limit:
            self._sent.append(now)
            return 0.0
        return self._sent[len(self._sent) - limit] + window - now

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def close(self) -> None:
        pass


def window_id(kind: Mode, host: str, key: str) -> str:
    """The name of one account's window: a hash, so neither host nor key is stored in clear."""
    text = "\0".join((Mode(kind).value, host.strip().rstrip("/").lower(), key))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
