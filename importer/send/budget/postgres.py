"""One account's window in PostgreSQL (LSQ_STATE_URL), shared by every machine.

The same sliding window as the SQLite budget, in tables of the `lsq_import` schema.
Each take is one short transaction holding `pg_advisory_xact_lock` on the window, so
two machines never both take its last slot; the daily count is raised by a
conditional upsert, so the sync and async windows of one account (two locks) never
both take the day's last call. Unlike the SQLite budget there is no fallback: if the
database goes away the take raises `StateStoreError` and the run stops, rather than
each machine pacing itself alone against a limit they share.

Times are each machine's wall clock: keep the machines' clocks synchronised (NTP);
the limiter's margin absorbs a skew of a fraction of a second.
"""

from __future__ import annotations

import hashlib
import threading
import time

from importer.io.state import PostgresStore
from importer.io.state.migrations import PG_SCHEMA
from importer.io.state.postgres import Cursor
from importer.send.budget.daily import DailyCap, utc_day
from importer.send.budget.window import KEEP_SECONDS, Clock

CALLS = f"{PG_SCHEMA}.budget_calls"
PAUSES = f"{PG_SCHEMA}.budget_pauses"
DAILY = f"{PG_SCHEMA}.daily_calls"


class PostgresBudget:
    """One window in the shared database; `owns_store` closes the store with the budget."""

    def __init__(
        self,
        store: PostgresStore,
        window_id: str,
        *,
        clock: Clock = time.time,
        daily: DailyCap | None = None,
        owns_store: bool = False,
    ) -> None:
        self.store = store
        self.window_id = window_id
        self.daily = daily
        self._clock = clock
        self._owns_store = owns_store
        self._lock_key = _lock_key(window_id)
        self._swept = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PostgresBudget({self.store.where!r}, {self.window_id[:12]}…)"

    def try_take(self, limit: int, window: float) -> float:
        keep = max(window, KEEP_SECONDS)
        with self._lock, self.store.transaction() as cur:
            if not self._swept:
                self._sweep(cur)
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            now = self._clock()
            day = utc_day(now)
            if self.daily is not None and self.daily.caps:
                used = _used_today(cur, self.daily.account, day)
                if used >= self.daily.limit:
                    raise self.daily.reached(used, now)
            wait = self._paused_for(cur, now, keep)
            if wait > 0:
                return wait
            # A time ahead of now means the wall clock was set back: forget it.
            cur.execute(
                f"DELETE FROM {CALLS} WHERE window_id = %s AND (at <= %s OR at > %s)",
                (self.window_id, now - keep, now + window),
            )
            since = (self.window_id, now - window)
            row = cur.execute(
                f"SELECT count(*) FROM {CALLS} WHERE window_id = %s AND at > %s", since
            ).fetchone()
            count = int(row[0]) if row else 0
            if count >= limit:  # the slot frees when the call `limit` places from the newest leaves
                row = cur.execute(
                    f"SELECT at FROM {CALLS} WHERE window_id = %s AND at > %s "
                    "ORDER BY at LIMIT 1 OFFSET %s",
                    (*since, count - limit),
                ).fetchone()
                return max(0.0, float(row[0]) + window - now) if row else 0.0
            if self.daily is not None:
                counted = cur.execute(
                    f"INSERT INTO {DAILY} AS d (account, day, calls) VALUES (%s, %s, 1) "
                    "ON CONFLICT (account, day) DO UPDATE SET calls = d.calls + 1 "
                    "WHERE d.calls < %s RETURNING calls",
                    (self.daily.account, day, self.daily.ceiling),
                ).fetchone()
                if counted is None:  # the other window of this account took the last one
                    raise self.daily.reached(self.daily.limit, now)
            cur.execute(f"INSERT INTO {CALLS} VALUES (%s, %s)", (self.window_id, now))
            return 0.0

    def pause(self, seconds: float) -> None:
        with self._lock, self.store.transaction() as cur:
            cur.execute(
                f"INSERT INTO {PAUSES} AS p VALUES (%s, %s) ON CONFLICT (window_id) "
                "DO UPDATE SET until = greatest(p.until, excluded.until)",
                (self.window_id, self._clock() + seconds),
            )

    def close(self) -> None:
        if self._owns_store:
            self.store.close()

    def _paused_for(self, cur: Cursor, now: float, keep: float) -> float:
        """Seconds left of the window's pause; one further out than `keep` is a clock jump."""
        row = cur.execute(
            f"SELECT until FROM {PAUSES} WHERE window_id = %s", (self.window_id,)
        ).fetchone()
        if row is None:
            return 0.0
        left = float(row[0]) - now
        if left <= 0 or left > keep:
            cur.execute(f"DELETE FROM {PAUSES} WHERE window_id = %s", (self.window_id,))
            return 0.0
        return left

    def _sweep(self, cur: Cursor) -> None:
        """Windows nobody uses any more, and the counts of days gone by (once per budget)."""
        now = self._clock()
        cur.execute(f"DELETE FROM {CALLS} WHERE at <= %s", (now - KEEP_SECONDS,))
        cur.execute(f"DELETE FROM {PAUSES} WHERE until <= %s", (now,))
        cur.execute(f"DELETE FROM {DAILY} WHERE day < %s", (utc_day(now),))
        self._swept = True


def _lock_key(window_id: str) -> int:
    """The window's pg_advisory_xact_lock key: 64 bits of its hash (a bigint)."""
    digest = hashlib.sha256(window_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _used_today(cur: Cursor, account: str, day: object) -> int:
    row = cur.execute(
        f"SELECT calls FROM {DAILY} WHERE account = %s AND day = %s", (account, day)
    ).fetchone()
    return 0 if row is None else int(row[0])


def read_used_today(store: PostgresStore, account: str, now: float) -> int:
    """Calls counted today for `account` in the shared database."""
    with store.transaction() as cur:
        return _used_today(cur, account, utc_day(now))
