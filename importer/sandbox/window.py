"""LeadSquared's rate limit: at most N calls in any sliding window of W seconds."""

from __future__ import annotations

from collections import deque


class SlidingWindow:
    """Admits a call when fewer than `limit` admitted calls lie in (now - seconds, now].

    A refused call is not recorded: it does not push the window further out
    (our reading; the docs only say calls past the limit get 429). A call made
    exactly `seconds` after the oldest one is admitted.
    """

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._calls: deque[float] = deque()

    def has_room(self, now: float) -> bool:
        while self._calls and self._calls[0] <= now - self.seconds:
            self._calls.popleft()
        return len(self._calls) < self.limit

    def record(self, now: float) -> None:
        self._calls.append(now)
