"""One account's window in the machine's budget file (SQLite, under LSQ_STATE_HOME).

Each window is a list of call times (wall clock: processes share no monotonic clock)
keyed by a hash of (window kind, host, key), so no key reaches the disk. Taking a slot
is one short write transaction and never spans an await or a network call; a process
killed with -9 loses its SQLite lock to the kernel, and its entries age out of the window.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from importer.core.errors import StateStoreError
from importer.io.state import open_sqlite
from importer.send.budget.daily import DailyCap, utc_day
from importer.send.budget.window import KEEP_SECONDS, Clock, LocalBudget

log = logging.getLogger("importer.budget")

# Waiting for another process's transaction: they last microseconds, so this only
# bites when something is badly wrong (then we fall back to a per-process window).
BUSY_TIMEOUT_SECONDS = 5.0


class SharedBudget:
    """One account's window in the machine-wide budget database.

    The database is opened on first use, so a limiter that is never used (the sync
    window of an async run without shares) touches no file. If the database cannot
    be used, the budget logs a warning and falls back to a window of its own (and
    no daily cap). A file written by a newer lsq-import is refused (`StateStoreError`).
    """

    def __init__(
        self,
        path: Path,
        window_id: str,
        *,
        clock: Clock = time.time,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
        daily: DailyCap | None = None,
    ) -> None:
        self.path = path
        self.window_id = window_id
        self.daily = daily
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._db: sqlite3.Connection | None = None
        self._fallback: LocalBudget | None = None
        self._lock = threading.Lock()  # one connection, possibly reached from two threads
        self._close: Callable[[], None] = lambda: None

    def __repr__(self) -> str:
        return f"SharedBudget({str(self.path)!r}, {self.window_id[:12]}…)"

    @property
    def shared(self) -> bool:
        """False once the database failed and this budget counts only its own calls."""
        return self._fallback is None

    def try_take(self, limit: int, window: float) -> float:
        with self._lock:
            if self._fallback is None:
                try:
                    return self._take(limit, window)
                except (sqlite3.Error, OSError) as exc:
                    self._give_up(exc)
            assert self._fallback is not None
            return self._fallback.try_take(limit, window)

    def pause(self, seconds: float) -> None:
        with self._lock:
            if self._fallback is None:
                try:
                    self._pause(seconds)
                    return
                except (sqlite3.Error, OSError) as exc:
                    self._give_up(exc)
            assert self._fallback is not None
            self._fallback.pause(seconds)

    def close(self) -> None:
        with self._lock:
            self._close()
            self._db = None

    # -- the database ---------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            db = open_sqlite(self.path, busy_timeout=self._busy_timeout)
            # Closed when this budget is collected, even if nobody calls close().
            self._close = weakref.finalize(self, db.close)
            # Windows nobody uses any more (a sandbox's port, an old key) and the counts
            # of days gone by are swept here.
            now = self._clock()
            db.execute("DELETE FROM calls WHERE at <= ?", (now - KEEP_SECONDS,))
            db.execute("DELETE FROM pauses WHERE until <= ?", (now,))
            db.execute("DELETE FROM daily_calls WHERE day < ?", (utc_day(now).isoformat(),))
            self._db = db
        return self._db

    def _take(self, limit: int, window: float) -> float:
        db = self._connection()
        keep = max(window, KEEP_SECONDS)
        db.execute("BEGIN IMMEDIATE")
        try:
            now = self._clock()
            day = utc_day(now).isoformat()
            if self.daily is not None and self.daily.caps:
                used = _used_today(db, self.daily.account, day)
                if used >= self.daily.limit:
                    raise self.daily.reached(used, now)
            wait = _paused_for(db, self.window_id, now, keep)
            if wait <= 0:
                # A time ahead of now means the wall clock was set back: forget it.
                db.execute(
                    "DELETE FROM calls WHERE window = ? AND (at <= ? OR at > ?)",
                    (self.window_id, now - keep, now + window),
                )
                since = (self.window_id, now - window)
                (count,) = db.execute(
                    "SELECT count(*) FROM calls WHERE window = ? AND at > ?", since
                ).fetchone()
                if count < limit:
                    db.execute("INSERT INTO calls VALUES (?, ?)", (self.window_id, now))
                    if self.daily is not None:  # BEGIN IMMEDIATE: nobody counted in between
                        db.execute(
                            "INSERT INTO daily_calls VALUES (?, ?, 1) ON CONFLICT (account, day) "
                            "DO UPDATE SET calls = calls + 1",
                            (self.daily.account, day),
                        )
                else:  # the slot frees when the call `limit` places from the newest leaves
                    (freed,) = db.execute(
                        "SELECT at FROM calls WHERE window = ? AND at > ? "
                        "ORDER BY at LIMIT 1 OFFSET ?",
                        (*since, count - limit),
                    ).fetchone()
                    wait = freed + window - now
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return max(0.0, wait)

    def _pause(self, seconds: float) -> None:
        db = self._connection()
        until = self._clock() + seconds
        db.execute(
            "INSERT INTO pauses VALUES (?, ?) "
            "ON CONFLICT (window) DO UPDATE SET until = max(until, excluded.until)",
            (self.window_id, until),
        )

    def _give_up(self, exc: Exception) -> None:
        log.warning(
            "The shared rate budget at %s cannot be used (%s): this process now paces "
            "only its own calls%s",
            self.path,
            exc,
            ", and LSQ_DAILY_LIMIT is not counted" if self.daily is not None else "",
        )
        self._fallback = LocalBudget(self._clock)
        self._close()
        self._db = None


def _paused_for(db: sqlite3.Connection, window_id: str, now: float, keep: float) -> float:
    """Seconds left of the window's pause; a pause further out than `keep` is a clock jump."""
    row = db.execute("SELECT until FROM pauses WHERE window = ?", (window_id,)).fetchone()
    if row is None:
        return 0.0
    left = float(row[0]) - now
    if left <= 0 or left > keep:
        db.execute("DELETE FROM pauses WHERE window = ?", (window_id,))
        return 0.0
    return left


def _used_today(db: sqlite3.Connection, account: str, day: str) -> int:
    row = db.execute(
        "SELECT calls FROM daily_calls WHERE account = ? AND day = ?", (account, day)
    ).fetchone()
    return 0 if row is None else int(row[0])


def read_used_today(path: Path, account: str, now: float) -> int:
    """Calls counted today for `account` in the budget file at `path` (0 if there is none)."""
    if not path.exists():
        return 0
    try:
        with closing(open_sqlite(path, busy_timeout=BUSY_TIMEOUT_SECONDS)) as db:
            return _used_today(db, account, utc_day(now).isoformat())
    except (sqlite3.Error, OSError) as exc:
        raise StateStoreError(f"The budget file {path} cannot be read ({exc})") from None
