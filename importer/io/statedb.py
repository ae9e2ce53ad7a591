"""The one SQL door of the per-account state, and its schema versions.

The ledger's SQL is written once, with `?` placeholders and plain types both
SQLite and PostgreSQL accept; a `StateDB` runs it in short transactions. The
embedded default is a SQLite file (WAL) on this machine; PostgreSQL, chosen by
`LSQ_STATE_URL`, is shared by many. Every stored state carries a version per
table family and migrates forward here, one function per step; a newer version
than this code knows is refused, never half-read.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from importer.core.errors import StateStoreError

Row = tuple[Any, ...]
BUSY_TIMEOUT_SECONDS = 30.0  # another process writing: wait this long before giving up


class Tx(Protocol):
    """One open transaction."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement; the rows it returns (none for a write)."""
        ...


class StateDB(Protocol):
    """Where the state lives; `transaction()` is serialised against every other writer."""

    dialect: str  # "sqlite" or "postgresql"
    where: str  # for messages: a path, or host:port/db (never a password)

    def transaction(self) -> Any:  # a context manager giving a Tx
        ...

    def close(self) -> None: ...


class SqliteTx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._db.execute(sql.replace(" FOR UPDATE", ""), tuple(params)).fetchall()


class SqliteDB:
    """A SQLite file in WAL mode; one connection, one transaction at a time per process.

    `BEGIN IMMEDIATE` takes the file's write lock, so a transaction here is as
    exclusive across processes as a row lock is in PostgreSQL.
    """

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_SECONDS
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise StateStoreError(f"The state file {path} cannot be opened: {exc}") from None
        self._lock = threading.RLock()  # the pool's threads share this connection

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StateStoreError(f"The state file {self.path} is unusable: {exc}") from None
            try:
                yield SqliteTx(self._db)
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()


Step = Callable[[Tx], None]


def migrate(db: StateDB, family: str, steps: Sequence[Step]) -> None:
    """Bring `family`'s tables to version len(steps), one step at a time, in one transaction.

    Step i (1-based) takes the tables from version i-1 to i; version 0 is "nothing yet".
    """
    with db.transaction() as tx:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (family TEXT PRIMARY KEY, "
            "version INTEGER NOT NULL)"
        )
        found = tx.execute("SELECT version FROM schema_versions WHERE family = ?", (family,))
        current = int(found[0][0]) if found else 0
        if current > len(steps):
            raise StateStoreError(
                f"The state at {db.where} was written by a newer lsq-import ({family} schema "
                f"{current}, this one knows {len(steps)}): upgrade lsq-import on this machine"
            )
        for version in range(current + 1, len(steps) + 1):
            steps[version - 1](tx)
        if current != len(steps):
            tx.execute(
                "INSERT INTO schema_versions (family, version) VALUES (?, ?) "
                "ON CONFLICT (family) DO UPDATE SET version = excluded.version",
                (family, len(steps)),
            )
