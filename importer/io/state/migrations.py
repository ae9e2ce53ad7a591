"""Every schema the state store has had, one function per step forward, in one place.

Both stores (the SQLite budget file and PostgreSQL) keep their version in a one-row
`schema_version` table. Opening a store runs the steps it lacks, in one transaction
that no other process can enter at the same time; a store written by a newer
lsq-import is refused, never half-read. To change a schema, append a step: never
edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from importer.core.errors import StateStoreError

# PostgreSQL: every table in its own schema, so a shared database needs no free names.
PG_SCHEMA = "lsq_import"
# pg_advisory_xact_lock key held while migrating ("lsqi" in ASCII).
PG_MIGRATION_LOCK = 0x6C737169

Execute: TypeAlias = Callable[[str], Any]
"""Runs one SQL statement (no parameters): what a step needs of either driver."""


# ---- the SQLite budget file (under LSQ_STATE_HOME) -----------------------------------------------
def _sqlite_1_windows(execute: Execute) -> None:
    """The sliding windows and their pauses (the unversioned file of before is adopted as is)."""
    execute("CREATE TABLE IF NOT EXISTS calls (window TEXT NOT NULL, at REAL NOT NULL)")
    execute("CREATE INDEX IF NOT EXISTS calls_by_window ON calls (window, at)")
    execute("CREATE TABLE IF NOT EXISTS pauses (window TEXT PRIMARY KEY, until REAL NOT NULL)")


def _sqlite_2_daily_calls(execute: Execute) -> None:
    """Calls per account per UTC day (LSQ_DAILY_LIMIT)."""
    execute(
        "CREATE TABLE daily_calls (account TEXT NOT NULL, day TEXT NOT NULL, "
        "calls INTEGER NOT NULL, PRIMARY KEY (account, day))"
    )


HISTORY_TABLE = (
    "CREATE TABLE {schema}history (account TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, "
    "source TEXT NOT NULL, host TEXT NOT NULL, record TEXT NOT NULL)"
)


def _sqlite_3_history(execute: Execute) -> None:
    """What `watch` did with each file (and where the results went), newest read first."""
    execute(HISTORY_TABLE.format(schema=""))
    execute("CREATE INDEX history_by_time ON history (account, at)")


SQLITE_STEPS: Sequence[Callable[[Execute], None]] = (
    _sqlite_1_windows,
    _sqlite_2_daily_calls,
    _sqlite_3_history,
)


# ---- the SQLite ledger files (one per account, under LSQ_STATE_HOME/ledger) ----------------------
LEDGER_TABLES = (
    "CREATE TABLE {schema}ledger_rows (account TEXT NOT NULL, identity TEXT NOT NULL, "
    "state TEXT NOT NULL, owner TEXT, holder TEXT, sent_at DOUBLE PRECISION, "
    "request_id TEXT, opportunity_id TEXT, lead_id TEXT, status TEXT, file TEXT, "
    "row_number INTEGER, operation TEXT, sent_values TEXT, origin TEXT, message TEXT, "
    "updated_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (account, identity))",
    "CREATE TABLE {schema}ledger_holders (id TEXT PRIMARY KEY, account TEXT NOT NULL, "
    "machine TEXT NOT NULL, boot TEXT NOT NULL, pid INTEGER NOT NULL, started TEXT NOT NULL, "
    "expires_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE {schema}ledger_leads (account TEXT NOT NULL, search_by TEXT NOT NULL, "
    "value TEXT NOT NULL, lead_id TEXT NOT NULL, PRIMARY KEY (account, search_by, value))",
)


def _ledger_1_leases(execute: Execute) -> None:
    """Rows keyed by account and identity, claims held by leases, the leads answered.

    A ledger written before versions (rows by identity, claims by pid) is adopted: a row it
    was sending may have gone out, so it becomes uncertain (read back before any resend).
    """
    legacy = execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rows'")
    adopt = bool(legacy.fetchall())
    for statement in LEDGER_TABLES:
        execute(statement.format(schema=""))
    if adopt:
        execute(
            "INSERT INTO ledger_rows (account, identity, state, owner, request_id, "
            "opportunity_id, lead_id, status, file, row_number, operation, sent_values, origin, "
            "message, updated_at, sent_at) SELECT '', identity, CASE state WHEN 'sending' THEN "
            "'uncertain' ELSE state END, owner, request_id, opportunity_id, lead_id, status, "
            "file, row_number, operation, sent_values, origin, message, updated_at, "
            "CASE state WHEN 'sending' THEN updated_at END FROM rows"
        )
        execute("DROP TABLE rows")


LEDGER_STEPS: Sequence[Callable[[Execute], None]] = (_ledger_1_leases,)


# ---- a run's journal (one SQLite file per input, mapping and account) --------------------------
def _journal_1_rows(execute: Execute) -> None:
    """Meta, the input rows, the validation problems, every row's state and outcome.

    A journal written before versions is adopted: the tables are there already, and one
    from before origins were recorded gains that column.
    """
    execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    execute(
        "CREATE TABLE IF NOT EXISTS inputs (row_number INTEGER PRIMARY KEY, cells TEXT NOT NULL)"
    )
    execute(
        "CREATE TABLE IF NOT EXISTS problems (row_number INTEGER NOT NULL, column_name TEXT, "
        "value TEXT, message TEXT NOT NULL)"
    )
    execute(
        "CREATE TABLE IF NOT EXISTS rows (row_number INTEGER PRIMARY KEY, state TEXT NOT NULL, "
        "uncertain INTEGER NOT NULL DEFAULT 0, request_id TEXT, accepted_at REAL, status TEXT, "
        "created_opportunity_id TEXT, conflicted_opportunity_id TEXT, related_prospect_id TEXT, "
        "exception_type TEXT, message TEXT, extra TEXT, origin TEXT, updated_at REAL NOT NULL)"
    )
    columns = {row[1] for row in execute("PRAGMA table_info(rows)").fetchall()}
    if "origin" not in columns:
        execute("ALTER TABLE rows ADD COLUMN origin TEXT")


JOURNAL_STEPS: Sequence[Callable[[Execute], None]] = (_journal_1_rows,)


# ---- PostgreSQL (LSQ_STATE_URL) ------------------------------------------------------------------
def _pg_1_windows(execute: Execute) -> None:
    """The sliding windows, their pauses, and calls per account per UTC day."""
    execute(
        f"CREATE TABLE {PG_SCHEMA}.budget_calls "
        "(window_id text NOT NULL, at double precision NOT NULL)"
    )
    execute(f"CREATE INDEX budget_calls_by_window ON {PG_SCHEMA}.budget_calls (window_id, at)")
    execute(
        f"CREATE TABLE {PG_SCHEMA}.budget_pauses "
        "(window_id text PRIMARY KEY, until double precision NOT NULL)"
    )
    execute(
        f"CREATE TABLE {PG_SCHEMA}.daily_calls (account text NOT NULL, day date NOT NULL, "
        "calls integer NOT NULL, PRIMARY KEY (account, day))"
    )


def _pg_2_ledger(execute: Execute) -> None:
    """The account ledger: rows of every account, the leases holding claims, known leads."""
    for statement in LEDGER_TABLES:
        execute(statement.format(schema=f"{PG_SCHEMA}."))


def _pg_3_history(execute: Execute) -> None:
    """What `watch` did with each file, seen from every machine (the page's too)."""
    execute(HISTORY_TABLE.format(schema=f"{PG_SCHEMA}."))
    execute(f"CREATE INDEX history_by_time ON {PG_SCHEMA}.history (account, at)")


POSTGRES_STEPS: Sequence[Callable[[Execute], None]] = (_pg_1_windows, _pg_2_ledger, _pg_3_history)


# ---- running them --------------------------------------------------------------------------------
def migrate_sqlite(
    db: sqlite3.Connection,
    where: str,
    steps: Sequence[Callable[[Execute], None]] = SQLITE_STEPS,
) -> int:
    """Bring the state file at `where` to the newest schema of its kind; its version.

    `db` is in autocommit mode (isolation_level=None); BEGIN IMMEDIATE keeps other
    processes out until the steps are committed. A file already at the newest schema is
    only read: opening it takes no write lock.
    """
    if _sqlite_version(db) == len(steps):
        return len(steps)
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        found = _sqlite_version(db)
        version = _run_steps(steps, found, db.execute, where)
        if found != version:
            db.execute("DELETE FROM schema_version")
            db.execute("INSERT INTO schema_version VALUES (?)", (version,))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return version


def _sqlite_version(db: sqlite3.Connection) -> int:
    """The file's schema version; 0 for a new file."""
    try:
        row = db.execute("SELECT max(version) FROM schema_version").fetchone()
    except sqlite3.OperationalError:  # no schema_version table yet
        return 0
    return int(row[0] or 0)


def migrate_postgres(execute: Execute, fetch_version: Callable[[], int | None], where: str) -> int:
    """Bring the PostgreSQL store to the newest schema, inside the caller's transaction.

    The caller holds `pg_advisory_xact_lock(PG_MIGRATION_LOCK)` so two machines starting
    at once do not both migrate; `fetch_version` reads the one row (None when empty).
    """
    execute(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}")
    execute(f"CREATE TABLE IF NOT EXISTS {PG_SCHEMA}.schema_version (version integer NOT NULL)")
    found = fetch_version()
    version = _run_steps(POSTGRES_STEPS, found or 0, execute, where)
    if found != version:
        execute(f"DELETE FROM {PG_SCHEMA}.schema_version")
        execute(f"INSERT INTO {PG_SCHEMA}.schema_version VALUES ({int(version)})")
    return version


def _run_steps(
    steps: Sequence[Callable[[Execute], None]], version: int, execute: Execute, where: str
) -> int:
    if version > len(steps):
        raise StateStoreError(
            f"The state database {where} was written by a newer lsq-import (schema {version}; "
            f"this one knows up to {len(steps)}): upgrade lsq-import on this machine"
        )
    for step in steps[version:]:
        step(execute)
    return len(steps)
