"""The one retry-with-backoff loop: every call to LeadSquared goes through it.

A 429 waits out the window and tries again (up to `max_throttled`); a transient
error backs off with jitter and tries again (up to `max_attempts`); the last
failure, and every other error, is raised to the caller, which decides by class.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from importer.core.errors import RateLimited, TransientError
from importer.core.progress import Counters
from importer.send.limiter import SlidingWindowLimiter

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

MAX_429_PER_CALL = 50  # a call still refused after this many 429s is given up on


def backoff(attempt: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter, between 0.25 s and 30 s."""
    return max(0.25, rng.uniform(0, min(30.0, 0.5 * 2**attempt)))


def _nothing() -> None:
    pass


@dataclass(frozen=True, slots=True)
class RetryHooks:
    """What the caller wants to know between attempts (the pool journals each of them)."""

    before_attempt: Callable[[], None] = _nothing
    reply_lost: Callable[[], None] = _nothing  # the request may have been processed
    throttled: Callable[[], None] = _nothing  # a 429: slow down, count it


NO_HOOKS = RetryHooks()


async def call_with_retries(
    send: Callable[[], Awaitable[T]],
    limiter: SlidingWindowLimiter,
    counters: Counters,
    *,
    max_attempts: int,
    rng: random.Random,
    sleep: Sleep = asyncio.sleep,
    hooks: RetryHooks = NO_HOOKS,
    max_throttled: int = MAX_429_PER_CALL,
    retry_uncertain: bool = True,
) -> T:
    """`send()` through the limiter until it answers, or until retrying cannot help.

    With `retry_uncertain=False` an answer that may hide a processed request is raised at
    once: a capture must be read back before it is sent again (CONTRACT 4).
    """
    attempts = throttled = 0
    while True:
        hooks.before_attempt()
        await limiter.acquire()
        try:
            return await send()
        except RateLimited:
            hooks.throttled()  # the caller slows its limiter down and counts the 429
            throttled += 1
            if throttled > max_throttled:
                raise
            counters.retries += 1
        except TransientError as exc:
            if exc.uncertain:
                hooks.reply_lost()
                if not retry_uncertain:
                    raise
            attempts += 1
            if attempts >= max_attempts:
                raise
            counters.retries += 1
            await sleep(backoff(attempts, rng))
