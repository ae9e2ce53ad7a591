"""The shared store: PostgreSQL behind LSQ_STATE_URL, for every machine of an account.

This module is the one edge where psycopg's errors become ours: a store that cannot be
reached, refuses the credentials or lacks its database stops the command with one line
naming `host:port/db`; one that goes away mid-run raises `StateStoreError` from the
next transaction. No message, log line or repr carries the password.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from importer.core.errors import StateStoreError
from importer.core.state_url import StateUrl
from importer.io.state.migrations import PG_MIGRATION_LOCK, PG_SCHEMA, migrate_postgres

log = logging.getLogger("importer.state")

# Seconds to wait for a connection (first connect, or a free one from the pool). The
# transactions themselves last milliseconds, so a longer wait means the store is gone.
TIMEOUT_SECONDS = 10.0
POOL_SIZE = 4  # a process's budgets (two windows) and, later, its ledger
# A process frozen mid-transaction (SIGSTOP, a hung VM) would hold its window's lock for
# ever: the server ends such a session, and nobody waits for a lock longer than this.
# The ledger's SQL names its tables plainly: they are found in our schema.
SESSION_OPTIONS = (
    f"-c lock_timeout=10s -c idle_in_transaction_session_timeout=60s -c search_path={PG_SCHEMA}"
)

Cursor = psycopg.Cursor[tuple[Any, ...]]


class PostgresStore:
    """A pool of connections to the state database, connected and migrated when made.

    Made by `open_state`; `transaction()` lends a cursor for one short transaction.
    """

    def __init__(self, url: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = StateUrl.parse(url)
        self.timeout = timeout
        self.schema_version = self._connect_and_migrate()
        self._pool = ConnectionPool(
            self.url.url,
            min_size=1,
            max_size=POOL_SIZE,
            timeout=timeout,
            kwargs={"connect_timeout": _connect_timeout(timeout), "options": SESSION_OPTIONS},
            check=ConnectionPool.check_connection,  # a restarted server costs no error
            name="lsq-state",
            open=True,
        )

    def __repr__(self) -> str:
        return f"PostgresStore({self.where!r})"

    @property
    def where(self) -> str:
        return self.url.where

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """One transaction on a pooled connection: committed at the end, rolled back on error."""
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
                yield cursor
        except PoolTimeout:
            raise StateStoreError(
                f"The state database at {self.where} (LSQ_STATE_URL) stopped answering: no "
                f"connection within {self.timeout:g} s. Run the same command again once it "
                "is back"
            ) from None
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise StateStoreError(
                f"The state database at {self.where} (LSQ_STATE_URL) stopped answering "
                f"({_first_line(self.url.scrub(str(exc)))}). Run the same command again once "
                "it is back"
            ) from None

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connect_and_migrate(self) -> int:
        """Connect once outside the pool, whose retries would hide why it failed."""
        try:
            conn = psycopg.connect(
                self.url.url,
                connect_timeout=_connect_timeout(self.timeout),
                options=SESSION_OPTIONS,
            )
        except psycopg.Error as exc:
            raise StateStoreError(
                f"Cannot use the state database at {self.where} (LSQ_STATE_URL): "
                f"{_why(self.url, str(exc), self.timeout)}"
            ) from None
        try:
            with conn.transaction(), conn.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (PG_MIGRATION_LOCK,))

                def version() -> int | None:
                    row = cursor.execute(
                        f"SELECT max(version) FROM {PG_SCHEMA}.schema_version"
                    ).fetchone()
                    return None if row is None or row[0] is None else int(row[0])

                return migrate_postgres(cursor.execute, version, f"at {self.where}")
        except psycopg.errors.InsufficientPrivilege:
            raise StateStoreError(
                f"Cannot use the state database at {self.where} (LSQ_STATE_URL): user "
                f'"{self.url.user}" may not create the schema {PG_SCHEMA} there (grant it '
                "CREATE on the database, or create the schema for it)"
            ) from None
        except psycopg.Error as exc:
            raise StateStoreError(
                f"Cannot use the state database at {self.where} (LSQ_STATE_URL): "
                f"{_first_line(self.url.scrub(str(exc)))}"
            ) from None
        finally:
            conn.close()


def _connect_timeout(timeout: float) -> int:
    return max(2, round(timeout))  # libpq takes whole seconds, and treats 1 as 2


def _why(url: StateUrl, message: str, timeout: float) -> str:
    """libpq's reason for a failed connection, in the user's terms."""
    text = message.lower()
    if "password authentication failed" in text or "no password supplied" in text:
        return (
            f'the user name or password was refused (user "{url.user}"); check them in '
            "LSQ_STATE_URL"
        )
    if "database" in text and "does not exist" in text:
        return (
            f'the database "{url.database}" does not exist there (create it, or fix its name '
            "in LSQ_STATE_URL)"
        )
    if "role" in text and "does not exist" in text:
        return f'the user "{url.user}" does not exist there'
    if "connection refused" in text:
        return f"the connection to port {url.port} was refused: is PostgreSQL running there?"
    if "resolve host" in text or "translate host name" in text or "name or service" in text:
        return f'the host name "{url.host}" is unknown'
    if "timeout expired" in text or "timed out" in text:
        return f"no answer within {timeout:g} s"
    return _first_line(url.scrub(message))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no reason given"
