"""One rate budget per LeadSquared account, shared by every lsq-import process on the machine.

LeadSquared counts calls per key, not per process: a manual `run` beside the nightly
`watch` must stay inside one limit together (CONTRACT 8). The shared budget is one
small SQLite database (WAL) under `settings.state_home`; each window is a list of
call times (wall clock: processes share no monotonic clock) keyed by a hash of
(window kind, host, key), so no key reaches the disk. Taking a slot is one short
write transaction and never spans an await or a network call; a process killed
with -9 loses its SQLite lock to the kernel, and its entries age out of the window.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from importer.core.config import Mode, Settings

log = logging.getLogger("importer.budget")

Clock = Callable[[], float]

BUDGET_FILE = "budget.sqlite"  # beside the ledger, under settings.state_home
# Call times are kept this long (or one window, if longer) so processes whose windows
# differ still see each other's calls; older ones are deleted as they are met.
KEEP_SECONDS = 60.0
# Waiting for another process's transaction: they last microseconds, so this only
# bites when something is badly wrong (then we fall back to a per-process window).
BUSY_TIMEOUT_SECONDS = 5.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (window TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS calls_by_window ON calls (window, at);
CREATE TABLE IF NOT EXISTS pauses (window TEXT PRIMARY KEY, until REAL NOT NULL);
"""


class Budget(Protocol):
    """Where a limiter's call times live: in this process only, or shared by every process."""

    def try_take(self, limit: int, window: float) -> float:
        """Take a slot and return 0, or take nothing and return the seconds to wait."""
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


class SharedBudget:
    """One account's window in the machine-wide budget database.

    The database is opened on first use, so a limiter that is never used (the sync
    window of an async run without shares) touches no file. If the database cannot
    be used, the budget logs a warning and falls back to a window of its own.
    """

    def __init__(
        self,
        path: Path,
        window_id: str,
        *,
        clock: Clock = time.time,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    ) -> None:
        self.path = path
        self.window_id = window_id
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
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            # Closed when this budget is collected, even if nobody calls close().
            self._close = weakref.finalize(self, db.close)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # a lost call time costs nothing lasting
            db.executescript(SCHEMA)
            # Windows nobody uses any more (a sandbox's port, an old key) are swept here.
            now = self._clock()
            db.execute("DELETE FROM calls WHERE at <= ?", (now - KEEP_SECONDS,))
            db.execute("DELETE FROM pauses WHERE until <= ?", (now,))
            self._db = db
        return self._db

    def _take(self, limit: int, window: float) -> float:
        db = self._connection()
        keep = max(window, KEEP_SECONDS)
        db.execute("BEGIN IMMEDIATE")
        try:
            now = self._clock()
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
            "only its own calls",
            self.path,
            exc,
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


def window_id(kind: Mode, host: str, key: str) -> str:
    """The name of one account's window: a hash, so neither host nor key is stored in clear."""
    text = "\0".join((Mode(kind).value, host.strip().rstrip("/").lower(), key))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def budget_for(
    settings: Settings, kind: Mode, *, shared: bool = True, clock: Clock = time.monotonic
) -> Budget:
    """The budget a limiter of this kind consults: the account's shared window when it can be.

    The sync window belongs to (host, access key), the async one to (async host, x-api-key),
    as LeadSquared counts them. Without a host or key there is no account to share.
    """
    if kind == Mode.SYNC:
        host, key = settings.host, settings.access_key
    else:
        host, key = settings.async_host, settings.api_key
    if not shared or not host or not key:
        return LocalBudget(clock)  # `clock` paces this process only (a test's fake clock)
    return SharedBudget(settings.state_home / BUDGET_FILE, window_id(kind, host, key))
