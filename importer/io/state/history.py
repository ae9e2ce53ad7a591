"""The imports' history kept with the state: what `watch` did with each file, per account.

With `LSQ_STATE_URL` every machine writes to one table, so the page on another host lists
what last night's drop did; on one machine it sits in the budget file beside the windows.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from importer.io.state.db import PostgresDB, SqliteDB, StateDB
from importer.io.state.migrations import SQLITE_STEPS
from importer.io.state.postgres import PostgresStore
from importer.io.state.sqlite import budget_path


@dataclass(frozen=True)
class HistoryLine:
    at: float  # wall clock
    source: str  # "watch"
    host: str  # the machine that did it
    record: dict[str, Any]  # what the source recorded (file, rows per status, outcome...)


class History:
    """One account's history in a state database."""

    def __init__(self, db: StateDB, account: str) -> None:
        self.db = db
        self.account = account

    def add(self, source: str, record: dict[str, Any]) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO history (account, at, source, host, record) VALUES (?, ?, ?, ?, ?)",
                (
                    self.account,
                    time.time(),
                    source,
                    socket.gethostname(),
                    json.dumps(record, ensure_ascii=False, default=str),
                ),
            )

    def recent(self, limit: int = 50) -> list[HistoryLine]:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT at, source, host, record FROM history WHERE account = ? "
                "ORDER BY at DESC LIMIT ?",
                (self.account, limit),
            )
        return [
            HistoryLine(float(at), source, host, json.loads(record))
            for at, source, host, record in rows
        ]


@contextmanager
def open_history(state_home: Any, store: PostgresStore | None, account: str) -> Iterator[History]:
    """The account's history: in PostgreSQL when `store` is given, else the budget file."""
    db: StateDB = (
        PostgresDB(store) if store is not None else SqliteDB(budget_path(state_home), SQLITE_STEPS)
    )
    try:
        yield History(db, account)
    finally:
        db.close()
