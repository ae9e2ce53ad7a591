"""Where the per-account state lives: SQLite files under LSQ_STATE_HOME, or PostgreSQL.

`open_state(settings)` gives the PostgreSQL store named by LSQ_STATE_URL (connected,
migrated) or None for the files; `check_state(settings)` is what a command calls first,
so a store it cannot use stops it before any row is sent.
"""

from __future__ import annotations

import sqlite3

from importer.core.config import Settings
from importer.io.state.postgres import TIMEOUT_SECONDS, PostgresStore
from importer.io.state.sqlite import BUDGET_FILE, budget_path, open_sqlite

__all__ = [
    "BUDGET_FILE",
    "PostgresStore",
    "budget_path",
    "check_state",
    "open_sqlite",
    "open_state",
]


def open_state(settings: Settings, *, timeout: float = TIMEOUT_SECONDS) -> PostgresStore | None:
    """The shared store of LSQ_STATE_URL, ready to use; None when the state is in files.

    Raises `StateStoreError` (one line, no password) when it cannot be reached or used.
    The caller closes it.
    """
    if not settings.state_url:
        return None
    return PostgresStore(settings.state_url, timeout=timeout)


def check_state(settings: Settings, *, timeout: float = TIMEOUT_SECONDS) -> None:
    """Fail now, with one line, if the state store cannot be used; hold nothing open.

    With LSQ_STATE_URL: connect and migrate. Without: a budget file written by a newer
    lsq-import is refused; one that cannot be opened is left to the budget, which
    falls back to pacing its own process and says so.
    """
    store = open_state(settings, timeout=timeout)
    if store is not None:
        store.close()
        return
    path = budget_path(settings.state_home)
    if path.exists():
        try:
            open_sqlite(path, busy_timeout=timeout).close()
        except (sqlite3.Error, OSError):
            pass
