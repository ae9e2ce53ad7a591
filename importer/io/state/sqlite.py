"""The embedded store: SQLite files under LSQ_STATE_HOME, for one machine.

Opened in WAL mode (readers never wait for the writer) and migrated on open, so a
file written by a newer lsq-import is refused before anything is read from it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from importer.io.state.migrations import SQLITE_STEPS, Execute, migrate_sqlite

BUDGET_FILE = "budget.sqlite"  # the rate windows and daily counts, beside the ledger


def budget_path(state_home: Path) -> Path:
    """Where the machine's budget file lives."""
    return state_home / BUDGET_FILE


def open_sqlite(
    path: Path,
    *,
    busy_timeout: float,
    steps: Sequence[Callable[[Execute], None]] = SQLITE_STEPS,
) -> sqlite3.Connection:
    """A connection to the state file at `path` (created if need be), at the newest schema.

    Autocommit mode: callers open their own short transactions (BEGIN IMMEDIATE).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # a lost call time costs nothing lasting
        migrate_sqlite(db, f"file {path}", steps)
    except BaseException:
        db.close()
        raise
    return db
