"""The per-account rate budget: shared by processes, pausing them all on a 429, never wedged."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pytest
from support import CAPTURE_HEAD, wait_for

from importer.core.config import Mode, Rate, Settings
from importer.core.errors import DailyLimitReached
from importer.io.state import PostgresStore
from importer.sandbox import SandboxConfig, serve_in_thread
from importer.send.budget import (
    BUDGET_FILE,
    Budget,
    DailyCap,
    LocalBudget,
    PostgresBudget,
    SharedBudget,
    budget_for,
    window_id,
)
from importer.send.limiter import SlidingWindowLimiter, limiter_for

KEY = "access-key-that-must-never-be-on-disk"


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def shared(tmp_path: Path, clock: FakeClock, name: str = "w") -> SharedBudget:
    """A budget on the common file, with its own connection, as another process would have."""
    return SharedBudget(tmp_path / BUDGET_FILE, name, clock=clock)


class Holder(Protocol):
    def __call__(self, clock: FakeClock, name: str = "w", daily: DailyCap | None = None) -> Budget:
        """A budget on the common store, with its own connection, as another process has."""
        ...


@pytest.fixture(params=["sqlite", "postgres"])
def holder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Holder]:
    """Makes budgets on one shared store: the SQLite file, or a PostgreSQL database."""
    made: list[Budget] = []
    make: Callable[[FakeClock, str, DailyCap | None], Budget]
    if request.param == "sqlite":

        def make(clock: FakeClock, name: str, daily: DailyCap | None) -> Budget:
            return SharedBudget(tmp_path / BUDGET_FILE, name, clock=clock, daily=daily)

    else:
        url = request.getfixturevalue("state_url")

        def make(clock: FakeClock, name: str, daily: DailyCap | None) -> Budget:
            return PostgresBudget(
                PostgresStore(url), name, clock=clock, daily=daily, owns_store=True
            )

    def holder(clock: FakeClock, name: str = "w", daily: DailyCap | None = None) -> Budget:
        made.append(make(clock, name, daily))
        return made[-1]

    yield holder
    for budget in made:
        budget.close()


# ---- one window, several holders ---------------------------------------------------------------
def test_local_budget_counts_a_window_and_pauses() -> None:
    clock = FakeClock()
    budget = LocalBudget(clock)
    assert [budget.try_take(2, 5.0) for _ in range(3)] == [0.0, 0.0, 5.0]
    clock.now += 5.0
    assert budget.try_take(2, 5.0) == 0.0
    budget.pause(3.0)
    assert budget.try_take(2, 5.0) == 3.0


def test_a_new_holder_counts_the_calls_the_others_made(holder: Holder) -> None:
    clock = FakeClock()
    first, second = holder(clock), holder(clock)
    for _ in range(3):
        assert first.try_take(5, 5.0) == 0.0
        clock.now += 1.0
    assert second.try_take(5, 5.0) == 0.0
    assert second.try_take(5, 5.0) == 0.0
    # Five calls lie in the window: the next slot opens when the oldest (4 s ago) leaves it.
    assert first.try_take(5, 5.0) == pytest.approx(2.0)
    assert second.try_take(5, 5.0) == pytest.approx(2.0)
    clock.now += 2.0
    assert second.try_take(5, 5.0) == 0.0
    assert first.try_take(5, 5.0) > 0  # the slot is taken
    other_account = holder(clock, name="another")
    assert other_account.try_take(5, 5.0) == 0.0  # windows of other accounts are apart


def test_a_429_in_one_holder_pauses_the_others(holder: Holder) -> None:
    clock = FakeClock()
    first, second = holder(clock), holder(clock)
    first.pause(5.2)
    assert second.try_take(25, 5.2) == pytest.approx(5.2)
    second.pause(1.0)  # a shorter pause never shortens a longer one
    clock.now += 5.0
    assert first.try_take(25, 5.2) == pytest.approx(0.2)
    clock.now += 0.2
    assert first.try_take(25, 5.2) == 0.0


def test_a_clock_set_back_does_not_wedge_the_window(holder: Holder) -> None:
    clock = FakeClock()
    budget = holder(clock)
    for _ in range(3):
        budget.try_take(3, 5.0)
    budget.pause(5.0)
    clock.now -= 3600.0  # the wall clock went back an hour: those times are in the future
    assert budget.try_take(3, 5.0) == 0.0
    assert budget.try_take(3, 5.0) == 0.0


def test_limiters_in_two_processes_never_overfill_a_window(holder: Holder) -> None:
    clock = FakeClock()
    rate = Rate(5, 1.0)
    limiters = [
        SlidingWindowLimiter(rate, budget=holder(clock), margin=0.0, clock=clock, sleep=clock.sleep)
        for _ in range(2)
    ]
    times: list[float] = []

    async def go() -> None:
        for i in range(30):
            await limiters[i % 2].acquire()
            times.append(clock.now)
            clock.now += 0.05 * (i % 3)

    asyncio.run(go())
    for t in times:
        assert len([u for u in times if t <= u < t + 1.0]) <= 5
    assert limiters[0].acquired == limiters[1].acquired == 15


def test_the_key_never_reaches_the_disk(tmp_path: Path) -> None:
    settings = Settings(
        host="https://api-in21.leadsquared.com", access_key=KEY, state_home=tmp_path
    )
    budget = budget_for(settings, Mode.SYNC)
    assert isinstance(budget, SharedBudget)
    budget.try_take(25, 5.2)
    budget.pause(5.2)
    assert KEY not in repr(budget)
    files = list(tmp_path.iterdir())
    assert tmp_path / BUDGET_FILE in files
    for path in files:
        data = path.read_bytes()
        assert KEY.encode() not in data and b"leadsquared" not in data


def test_windows_are_keyed_by_kind_host_and_key() -> None:
    same = window_id(Mode.SYNC, "https://h.example", "k")
    assert window_id(Mode.SYNC, " https://H.example/", "k") == same
    ids = {
        window_id(Mode.SYNC, "https://h.example", "k"),
        window_id(Mode.ASYNC, "https://h.example", "k"),
        window_id(Mode.SYNC, "https://other.example", "k"),
        window_id(Mode.SYNC, "https://h.example", "k2"),
    }
    assert len(ids) == 4


def test_limiter_for_picks_the_account_window(tmp_path: Path) -> None:
    settings = Settings(
        host="http://sync.test",
        async_host="http://async.test",
        access_key="a",
        api_key="x",
        rate=Rate(10, 5.0),
        state_home=tmp_path,
    )
    sync, asynchronous = limiter_for(settings, Mode.SYNC), limiter_for(settings, Mode.ASYNC)
    assert isinstance(sync.budget, SharedBudget) and isinstance(asynchronous.budget, SharedBudget)
    assert sync.budget.window_id == window_id(Mode.SYNC, "http://sync.test", "a")
    assert asynchronous.budget.window_id == window_id(Mode.ASYNC, "http://async.test", "x")
    assert sync.rate == Rate(10, 5.0)
    assert isinstance(limiter_for(settings, Mode.SYNC, shared=False).budget, LocalBudget)
    assert isinstance(limiter_for(settings.with_(api_key=""), Mode.ASYNC).budget, LocalBudget)
    assert not (tmp_path / BUDGET_FILE).exists()  # nothing is opened before the first call


def test_an_unusable_state_home_falls_back_to_a_window_of_our_own(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the state folder should be", encoding="utf-8")
    clock = FakeClock()
    budget = SharedBudget(blocker / BUDGET_FILE, "w", clock=clock)
    with caplog.at_level(logging.WARNING, logger="importer.budget"):
        assert [budget.try_take(2, 5.0) for _ in range(3)] == [0.0, 0.0, 5.0]
    assert not budget.shared
    assert "only its own calls" in caplog.text


# ---- a process killed with -9 ------------------------------------------------------------------
HOLDER = textwrap.dedent(
    """
    import sqlite3, sys, time
    from importer.send.budget import SharedBudget
    budget = SharedBudget(__import__("pathlib").Path(sys.argv[1]), "w")
    budget.try_take(1, 60.0)              # one committed call: it stays until it ages out
    db = budget._connection()
    db.execute("BEGIN IMMEDIATE")         # then die holding the write lock, mid-transaction
    db.execute("INSERT INTO calls VALUES ('w', ?)", (time.time(),))
    print("holding", flush=True)
    time.sleep(60)
    """
)


def test_a_process_killed_holding_the_lock_leaves_nothing_wedged(tmp_path: Path) -> None:
    path = tmp_path / BUDGET_FILE
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(sqlite3.OperationalError):  # the lock really is held
            sqlite3.connect(path, timeout=0.05).execute("BEGIN IMMEDIATE")
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    budget = SharedBudget(path, "w")
    wait = budget.try_take(1, 60.0)  # the lock is free; the dead one's committed call counts
    assert 0 < wait <= 60.0 and budget.shared
    assert budget.try_take(2, 60.0) == 0.0  # and its unfinished insert never happened


# ---- two real imports against one sandbox ------------------------------------------------------
MAPPING = (
    CAPTURE_HEAD
    + """\
lead:
  EmailAddress: {column: Email, type: email, required: true}
opportunity:
  mx_Custom_1: {column: Name, required: true}
"""
)


def test_two_imports_at_once_share_the_account_budget(tmp_path: Path) -> None:
    """A long import, and a short one started once the long one is sending: the short one
    runs wholly inside the long one, whatever the machine's load, and neither meets a 429."""
    limit = 12
    config = SandboxConfig(rate_limit=limit, rate_window=1.0, latency=0.01)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    with serve_in_thread(config) as running:
        env = {
            **os.environ,
            **running.env(),
            "LSQ_RATE": f"{limit}/1s",
            "LSQ_STATE_HOME": str(tmp_path / "state"),
        }

        def start(p: int, rows: int) -> subprocess.Popen[str]:
            folder = tmp_path / f"import-{p}"
            folder.mkdir()
            csv = folder / "leads.csv"
            lines = ["Email,Name", *(f"p{p}r{i}@example.com,Loan {p}-{i}" for i in range(rows))]
            csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
            command = [sys.executable, "-m", "importer", "run", str(csv), "-m", str(mapping)]
            return subprocess.Popen(
                [*command, "--mode", "sync", "--quiet"],
                env=env,
                cwd=folder,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )

        long = start(0, 16 * limit)  # 16 s of calls at the limit, alone
        wait_for(lambda: len(running.sandbox.opportunities()) > 0, 60, "the long import to send")
        short = start(1, 3 * limit)
        short_out = short.communicate(timeout=120)[0]
        still_running = long.poll() is None
        long_out = long.communicate(timeout=120)[0]
        counters = running.sandbox.snapshot()["counters"]
        created = len(running.sandbox.opportunities())
    assert [long.returncode, short.returncode] == [0, 0], (long_out, short_out)
    assert still_running  # the short import ran wholly while the long one was sending
    assert created == 19 * limit
    assert counters["429s"] <= 1, counters


def test_windows_nobody_uses_any_more_are_swept(tmp_path: Path) -> None:
    clock = FakeClock()
    old = shared(tmp_path, clock, name="a sandbox long gone")
    for _ in range(5):
        old.try_take(25, 5.2)
    old.pause(5.2)
    old.close()
    clock.now += 3600.0
    shared(tmp_path, clock, name="today's").try_take(25, 5.2)
    with closing(sqlite3.connect(tmp_path / BUDGET_FILE)) as db:
        assert db.execute("SELECT count(*) FROM calls").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM pauses").fetchone() == (0,)


# ---- the daily cap (LSQ_DAILY_LIMIT) -----------------------------------------------------------
def test_a_daily_cap_of_n_allows_exactly_n_calls_then_says_when_it_resets(holder: Holder) -> None:
    clock = FakeClock(1_767_225_600.0 + 3600 * 22)  # 2026-01-01 22:00 UTC
    cap = DailyCap("account", 3)
    sync, asynchronous = holder(clock, "sync", cap), holder(clock, "async", cap)
    # The account's two windows count together; the window itself has room to spare.
    assert [sync.try_take(25, 5.0), asynchronous.try_take(25, 5.0), sync.try_take(25, 5.0)] == [
        0.0,
        0.0,
        0.0,
    ]
    for budget in (sync, asynchronous):
        with pytest.raises(DailyLimitReached) as reached:
            budget.try_take(25, 5.0)
        assert (reached.value.limit, reached.value.used) == (3, 3)
        assert reached.value.resets_at == datetime(2026, 1, 2, tzinfo=UTC)
        assert "resets at 2026-01-02 00:00 UTC" in str(reached.value)
    other = holder(clock, "other account", DailyCap("another account", 3))
    assert other.try_take(25, 5.0) == 0.0  # caps are per account
    clock.now += 2 * 3600  # past midnight UTC: a new day, a new count
    assert sync.try_take(25, 5.0) == 0.0
    assert holder(clock, "sync", cap).try_take(25, 5.0) == 0.0


def test_calls_are_counted_before_a_daily_limit_is_set(holder: Holder) -> None:
    clock = FakeClock()
    uncapped = holder(clock, "w", DailyCap("account", 0))  # no LSQ_DAILY_LIMIT yet
    assert [uncapped.try_take(25, 5.0) for _ in range(4)] == [0.0] * 4  # never capped
    capped = holder(clock, "w", DailyCap("account", 5))  # set later the same day
    assert capped.try_take(25, 5.0) == 0.0
    with pytest.raises(DailyLimitReached) as reached:
        capped.try_take(25, 5.0)
    assert reached.value.used == 5  # the four made before the limit count too


def test_a_full_window_is_not_counted_against_the_day(holder: Holder) -> None:
    clock = FakeClock()
    cap = DailyCap("account", 3)
    budget = holder(clock, "w", cap)
    assert budget.try_take(1, 5.0) == 0.0
    assert budget.try_take(1, 5.0) == pytest.approx(5.0)  # waits: no call, so not counted
    clock.now += 5.0
    assert [budget.try_take(1, 5.0), budget.try_take(5, 5.0)] == [0.0, 0.0]
    with pytest.raises(DailyLimitReached):
        budget.try_take(5, 5.0)
