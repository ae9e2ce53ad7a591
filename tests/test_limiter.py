"""The shared limiter, on a fake clock so pacing is tested in milliseconds."""

from __future__ import annotations

import asyncio

from importer.core.config import Rate
from importer.send.limiter import SlidingWindowLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def make(calls: int = 25, seconds: float = 5.0, margin: float = 0.2):
    clock = FakeClock()
    limiter = SlidingWindowLimiter(
        Rate(calls, seconds), margin=margin, clock=clock, sleep=clock.sleep
    )
    return clock, limiter


def test_window_allows_limit_then_waits_for_the_oldest_to_leave() -> None:
    clock, limiter = make()

    async def go() -> list[float]:
        times = []
        for _ in range(26):
            await limiter.acquire()
            times.append(clock.now)
        return times

    times = asyncio.run(go())
    assert times[:25] == [100.0] * 25
    assert times[25] == 100.0 + 5.2


def test_any_window_never_holds_more_than_the_limit() -> None:
    clock, limiter = make(calls=5, seconds=1.0, margin=0.0)

    async def go() -> list[float]:
        times = []
        for i in range(40):
            await limiter.acquire()
            times.append(clock.now)
            clock.now += 0.07 * (i % 3)
        return times

    times = asyncio.run(go())
    for i, t in enumerate(times):
        inside = [u for u in times if t <= u < t + 1.0]
        assert len(inside) <= 5, (i, inside)


def test_rate_limited_pauses_a_window_and_lowers_the_ceiling() -> None:
    clock, limiter = make(calls=10, seconds=5.0, margin=0.0)

    async def go() -> float:
        await limiter.acquire()
        limiter.on_rate_limited()
        await limiter.acquire()
        return clock.now

    assert asyncio.run(go()) == 105.0
    assert limiter.limit == 9
    assert limiter.rate_limited == 1


def test_ceiling_never_drops_below_its_floor_and_recovers() -> None:
    clock, limiter = make(calls=10, seconds=5.0, margin=0.0)
    for _ in range(20):
        limiter.on_rate_limited()
    assert limiter.limit == 6

    async def go() -> None:
        for _ in range(200):
            await limiter.acquire()

    asyncio.run(go())
    assert limiter.limit == 10


def test_rate_parsing_accepts_plans_and_forms() -> None:
    assert Rate.parse("25/5s") == Rate(25, 5.0)
    assert Rate.parse(" 10 / 5 ") == Rate(10, 5.0)
    assert Rate.parse("Pro") == Rate(5, 5.0)
    assert str(Rate.parse("enterprise")) == "25/5s"
