"""The account ledger: every row LeadSquared accepted, remembered per account (CONTRACT 6b).

One SQLite database (WAL) per account under the state home, shared by every
lsq-import process, so a row already imported is never sent again, whatever the
file is called, wherever its results go, whatever comment its mapping gained.

A row's life here: `sending` (claimed by one run just before the call; another run
meeting the claim waits, or takes it over when its owner died), `accepted` (the
async API queued it; polled, never sent again), `done` (its opportunity is known).
A row that ends in Failure is forgotten, so a fixed row can be sent later.
Only a hash of the access key is stored, never the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    identity TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    owner TEXT,
    pid INTEGER,
    request_id TEXT,
    opportunity_id TEXT,
    lead_id TEXT,
    status TEXT,
    file TEXT,
    row_number INTEGER,
    operation TEXT,
    sent_values TEXT,
    origin TEXT,
    message TEXT,
    updated_at REAL NOT NULL
);
"""
BUSY_TIMEOUT_MS = 30_000  # another process writing: wait this long before giving up


class LedgerState(StrEnum):
    SENDING = "sending"
    ACCEPTED = "accepted"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the ledger knows of one row identity."""

    identity: str
    state: LedgerState
    owner: str | None
    pid: int | None
    request_id: str | None
    opportunity_id: str | None
    lead_id: str | None
    status: str | None
    file: str | None
    row_number: int | None
    operation: str | None
    sent_values: dict[str, str]
    origin: str | None
    message: str | None
    updated_at: float


def account_key(host: str, access_key: str) -> str:
    """The file name of an account's ledger: a hash of its host and access key."""
    text = f"{host.strip().rstrip('/').lower()}\n{access_key.strip()}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def ledger_path(state_home: Path, host: str, access_key: str) -> Path:
    return state_home / "ledger" / f"{account_key(host, access_key)}.sqlite"


class Ledger:
    """One account's ledger; every method is one short transaction."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def find(self, identity: str) -> LedgerEntry | None:
        row = self._db.execute(
            "SELECT identity, state, owner, pid, request_id, opportunity_id, lead_id, status, "
            "file, row_number, operation, sent_values, origin, message, updated_at FROM rows "
            "WHERE identity = ?",
            (identity,),
        ).fetchone()
        if row is None:
            return None
        return LedgerEntry(
            identity=row[0],
            state=LedgerState(row[1]),
            owner=row[2],
            pid=row[3],
            request_id=row[4],
            opportunity_id=row[5],
            lead_id=row[6],
            status=row[7],
            file=row[8],
            row_number=row[9],
            operation=row[10],
            sent_values=json.loads(row[11]) if row[11] else {},
            origin=row[12],
            message=row[13],
            updated_at=row[14],
        )

    def claim(
        self, identity: str, owner: str, *, file: str, row_number: int, take_over: bool = False
    ) -> LedgerEntry | None:
        """Mark `identity` as being sent by `owner`; None when the claim is ours.

        Returns the entry that stands in the way otherwise (someone else's claim, an
        accepted request, a done row). With `take_over`, another owner's `sending`
        claim is replaced (its process is gone).
        """
        now = self._clock()
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            current = self.find(identity)
            if current is not None and not (
                current.state == LedgerState.SENDING and (current.owner == owner or take_over)
            ):
                return current
            self._db.execute(
                "INSERT INTO rows(identity, state, owner, pid, file, row_number, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(identity) DO UPDATE SET "
                "state = excluded.state, owner = excluded.owner, pid = excluded.pid, "
                "file = excluded.file, row_number = excluded.row_number, "
                "updated_at = excluded.updated_at",
                (identity, LedgerState.SENDING, owner, os.getpid(), file, row_number, now),
            )
        return None

    def accepted(self, identity: str, request_id: str) -> None:
        """The async API queued the row: from now on it is polled, never sent again."""
        self._db.execute(
            "UPDATE rows SET state = ?, request_id = ?, updated_at = ? WHERE identity = ?",
            (LedgerState.ACCEPTED, request_id, self._clock(), identity),
        )

    def done(
        self,
        identity: str,
        *,
        opportunity_id: str | None,
        lead_id: str | None,
        status: str,
        file: str,
        row_number: int,
        operation: str,
        sent_values: dict[str, str],
        owner: str,
        origin: str | None = None,
        message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        """The row is in LeadSquared; remember where it came from and what was sent."""
        self._db.execute(
            "INSERT INTO rows(identity, state, owner, request_id, opportunity_id, lead_id, status, "
            "file, row_number, operation, sent_values, origin, message, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(identity) DO UPDATE SET "
            "state = excluded.state, owner = excluded.owner, pid = NULL, "
            "request_id = COALESCE(excluded.request_id, rows.request_id), "
            "opportunity_id = excluded.opportunity_id, lead_id = excluded.lead_id, "
            "status = excluded.status, file = excluded.file, row_number = excluded.row_number, "
            "operation = excluded.operation, sent_values = excluded.sent_values, "
            "origin = excluded.origin, message = excluded.message, "
            "updated_at = excluded.updated_at",
            (
                identity,
                LedgerState.DONE,
                owner,
                request_id,
                opportunity_id,
                lead_id,
                status,
                file,
                row_number,
                operation,
                json.dumps(sent_values, ensure_ascii=False, sort_keys=True),
                origin,
                message,
                self._clock(),
            ),
        )

    def release(self, identity: str) -> None:
        """The row was not imported (it failed): forget its claim, never a done row."""
        self._db.execute(
            "DELETE FROM rows WHERE identity = ? AND state != ?", (identity, LedgerState.DONE)
        )

    def release_claim(self, identity: str, owner: str) -> None:
        """Forget `owner`'s claim if it was never sent (still `sending`)."""
        self._db.execute(
            "DELETE FROM rows WHERE identity = ? AND state = ? AND owner = ?",
            (identity, LedgerState.SENDING, owner),
        )

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM rows").fetchone()[0])


def process_alive(pid: int | None) -> bool:
    """Whether a process with this pid still runs on this machine."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
