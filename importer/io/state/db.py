"""One SQL door for the ledger, whichever store holds it.

The ledger's SQL is written once, with `?` placeholders and types both SQLite and
PostgreSQL accept; a `StateDB` runs it in short transactions. The embedded default
is a SQLite file (WAL) on this machine, migrated when opened; PostgreSQL, chosen by
`LSQ_STATE_URL`, is shared by many (its `PostgresStore` migrates when it connects).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from importer.core.errors import StateStoreError
from importer.io.state.migrations import Execute
from importer.io.state.postgres import Cursor, PostgresStore
from importer.io.state.sqlite import open_sqlite

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

    def __init__(self, path: Path, steps: Sequence[Callable[[Execute], None]]) -> None:
        self.path = path
        self.where = str(path)
        try:
            self._db = open_sqlite(path, busy_timeout=BUSY_TIMEOUT_SECONDS, steps=steps)
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


class PostgresTx:
    def __init__(self, cursor: Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cursor.execute(sql.replace("?", "%s"), tuple(params))
        return self._cursor.fetchall() if self._cursor.description is not None else []


class PostgresDB:
    """The shared PostgreSQL store, as the ledger uses it (row locks: `FOR UPDATE`)."""

    dialect = "postgresql"

    def __init__(self, store: PostgresStore, *, owns_store: bool = True) -> None:
        self.store = store
        self.where = store.where
        self._owns_store = owns_store

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.store.transaction() as cursor:
            yield PostgresTx(cursor)

    def close(self) -> None:
        if self._owns_store:
            self.store.close()
