"""The account ledger: every row LeadSquared accepted, remembered per account (CONTRACT 6b).

Shared by every lsq-import process that imports into the account: a SQLite file
under the state home (one machine), or PostgreSQL (`LSQ_STATE_URL`, many).

A row's life here:
- `sending`: claimed by a holder (a run's lease) just before the call. Another run
  meeting a live lease waits; a dead or expired one is taken over, and if the
  call had gone out (`sent_at`) the row is uncertain: read back before sending.
- `uncertain`: an attempt may have been processed and nobody holds the row now
  (a lost reply, a stop mid-call): the next run reads back first.
- `accepted`: the async API queued it: polled, never sent again.
- `done`: its opportunity is known.
A row that ends in a certain Failure is forgotten, so a fixed row can be sent later.
Only a hash of the access key is stored, never the key.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum, auto
from pathlib import Path
from typing import Any

from importer.core.config import Settings
from importer.io.leases import ProcessId, new_holder_id, this_process
from importer.io.state.db import SqliteDB, StateDB, Tx
from importer.io.state.migrations import LEDGER_STEPS

LOOKUP_BATCH = 500  # identities per IN (...) when many rows are looked up at once
COLUMNS = (
    "identity, state, owner, holder, sent_at, request_id, opportunity_id, lead_id, status, "
    "file, row_number, operation, sent_values, origin, message, updated_at"
)


class LedgerState(StrEnum):
    SENDING = auto()
    UNCERTAIN = auto()
    ACCEPTED = auto()
    DONE = auto()


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the ledger knows of one row identity."""

    identity: str
    state: LedgerState
    owner: str | None
    holder: str | None
    sent_at: float | None  # the first attempt went out then (wall clock); None: never sent
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


class Claim(StrEnum):
    """The answer to "may I send this row?"."""

    OURS = auto()  # claimed: send it (read back first when `entry.sent_at` is set)
    HELD = auto()  # another live holder (or an earlier row of this run) has it now
    ACCEPTED = auto()  # queued by the async API: poll its RequestID
    DONE = auto()  # the account has it


@dataclass(frozen=True, slots=True)
class ClaimResult:
    claim: Claim
    entry: LedgerEntry  # as it was before this claim: `sent_at` set means read back first
    expires_at: float | None = None  # HELD: the holder's lease runs until then


def account_key(host: str, access_key: str) -> str:
    """The name of an account's state: a hash of its host and access key."""
    text = f"{host.strip().rstrip('/').lower()}\n{access_key.strip()}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def account_of_settings(settings: Settings) -> str:
    """The account these settings reach (the sync host, else the async one, and the key)."""
    return account_key(settings.host or settings.async_host, settings.access_key)


def ledger_path(settings: Settings) -> Path:
    return settings.state_home / "ledger" / f"{account_of_settings(settings)}.sqlite"


class Ledger:
    """One account's rows in a state database; every method is one short transaction."""

    def __init__(
        self,
        db: StateDB,
        account: str,
        *,
        clock: Callable[[], float] = time.time,
        owns_db: bool = True,
    ) -> None:
        self.db = db
        # A SQLite file holds one account already; its rows say so with "".
        self.account = "" if db.dialect == "sqlite" else account
        self._clock = clock
        self._owns_db = owns_db

    @classmethod
    def at(cls, path: Path, *, clock: Callable[[], float] = time.time) -> Ledger:
        """The embedded SQLite ledger in this file."""
        return cls(SqliteDB(path, LEDGER_STEPS), "", clock=clock)

    def close(self) -> None:
        if self._owns_db:
            self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- holders (leases) -----------------------------------------------------------

    def open_holder(self, lease_seconds: float) -> str:
        """Register this process as a holder of claims until renewed; returns its id."""
        me = this_process()
        holder = new_holder_id()
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO ledger_holders (id, account, machine, boot, pid, started, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    holder,
                    self.account,
                    me.machine,
                    me.boot,
                    me.pid,
                    me.started,
                    self._clock() + lease_seconds,
                ),
            )
        return holder

    def renew(self, holder: str, lease_seconds: float) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE ledger_holders SET expires_at = ? WHERE id = ?",
                (self._clock() + lease_seconds, holder),
            )

    def close_holder(self, holder: str) -> None:
        """The holder is done: rows it claimed but never sent are free again; rows it
        sent without an answer stay, uncertain, for the next run to read back."""
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM ledger_rows WHERE account = ? AND holder = ? AND state = ? "
                "AND sent_at IS NULL",
                (self.account, holder, LedgerState.SENDING),
            )
            tx.execute(
                "UPDATE ledger_rows SET state = ?, holder = NULL, updated_at = ? "
                "WHERE account = ? AND holder = ? AND state = ?",
                (
                    LedgerState.UNCERTAIN,
                    self._clock(),
                    self.account,
                    holder,
                    LedgerState.SENDING,
                ),
            )
            tx.execute("DELETE FROM ledger_holders WHERE id = ?", (holder,))

    def _holder_lives(self, tx: Tx, holder: str | None, now: float) -> float | None:
        """The holder's lease expiry while it lives; None when it is dead or gone."""
        if holder is None:
            return None
        found = tx.execute(
            "SELECT machine, boot, pid, started, expires_at FROM ledger_holders WHERE id = ?",
            (holder,),
        )
        if not found:
            return None
        machine, boot, pid, started, expires_at = found[0]
        if float(expires_at) <= now:
            return None
        if ProcessId(machine, boot, int(pid), started).alive_here() is False:
            return None  # on this machine, and its process is gone: no need to wait out the lease
        return float(expires_at)

    # -- rows ---------------------------------------------------------------------------

    def find(self, identity: str) -> LedgerEntry | None:
        with self.db.transaction() as tx:
            return self._find(tx, identity)

    def _find(self, tx: Tx, identity: str, *, lock: bool = False) -> LedgerEntry | None:
        rows = tx.execute(
            f"SELECT {COLUMNS} FROM ledger_rows WHERE account = ? AND identity = ?"
            + (" FOR UPDATE" if lock else ""),
            (self.account, identity),
        )
        return _entry(rows[0]) if rows else None

    def find_done(self, identities: Sequence[str]) -> dict[str, LedgerEntry]:
        """The rows among `identities` the account already has, in one read.

        A done row never goes back to another state, so a re-drop's rows are answered from
        this without a claim each.
        """
        found: dict[str, LedgerEntry] = {}
        with self.db.transaction() as tx:
            for start in range(0, len(identities), LOOKUP_BATCH):
                part = identities[start : start + LOOKUP_BATCH]
                marks = ", ".join("?" * len(part))
                for row in tx.execute(
                    f"SELECT {COLUMNS} FROM ledger_rows WHERE account = ? AND state = ? "
                    f"AND identity IN ({marks})",
                    (self.account, LedgerState.DONE, *part),
                ):
                    entry = _entry(row)
                    found[entry.identity] = entry
        return found

    def claim(
        self, identity: str, owner: str, holder: str, *, file: str, row_number: int
    ) -> ClaimResult:
        """Take `identity` for sending by `owner` (a run's row) under `holder`'s lease."""
        now = self._clock()
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO ledger_rows (account, identity, state, owner, holder, file, "
                "row_number, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (account, identity) DO NOTHING",
                (self.account, identity, LedgerState.SENDING, owner, holder, file, row_number, now),
            )
            current = self._find(tx, identity, lock=True)
            assert current is not None
            if current.state == LedgerState.DONE:
                return ClaimResult(Claim.DONE, current)
            if current.state == LedgerState.ACCEPTED and current.request_id:
                return ClaimResult(Claim.ACCEPTED, current)
            if current.state == LedgerState.SENDING:
                if current.holder == holder:
                    if current.owner != owner:  # an earlier row of this run, with the same identity
                        return ClaimResult(Claim.HELD, current)
                else:
                    expires = self._holder_lives(tx, current.holder, now)
                    if expires is not None:
                        return ClaimResult(Claim.HELD, current, expires)
            tx.execute(
                "UPDATE ledger_rows SET state = ?, owner = ?, holder = ?, file = ?, "
                "row_number = ?, updated_at = ? WHERE account = ? AND identity = ?",
                (LedgerState.SENDING, owner, holder, file, row_number, now, self.account, identity),
            )
        return ClaimResult(Claim.OURS, current)

    def sent(self, identity: str) -> float:
        """The call is about to go out: from now on the row may be in LeadSquared.

        Returns the first attempt's time (kept across attempts and takeovers).
        """
        now = self._clock()
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE ledger_rows SET sent_at = COALESCE(sent_at, ?), updated_at = ? "
                "WHERE account = ? AND identity = ?",
                (now, now, self.account, identity),
            )
            found = tx.execute(
                "SELECT sent_at FROM ledger_rows WHERE account = ? AND identity = ?",
                (self.account, identity),
            )
        return float(found[0][0]) if found and found[0][0] is not None else now

    def accepted(self, identity: str, request_id: str) -> None:
        """The async API queued the row: from now on it is polled, never sent again."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE ledger_rows SET state = ?, request_id = ?, holder = NULL, updated_at = ? "
                "WHERE account = ? AND identity = ?",
                (LedgerState.ACCEPTED, request_id, self._clock(), self.account, identity),
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
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO ledger_rows (account, identity, state, owner, request_id, "
                "opportunity_id, lead_id, status, file, row_number, operation, sent_values, "
                "origin, message, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (account, identity) DO UPDATE SET state = excluded.state, "
                "owner = excluded.owner, holder = NULL, "
                "request_id = COALESCE(excluded.request_id, ledger_rows.request_id), "
                "opportunity_id = excluded.opportunity_id, lead_id = excluded.lead_id, "
                "status = excluded.status, file = excluded.file, "
                "row_number = excluded.row_number, operation = excluded.operation, "
                "sent_values = excluded.sent_values, origin = excluded.origin, "
                "message = excluded.message, updated_at = excluded.updated_at",
                (
                    self.account,
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

    def uncertain(self, identity: str) -> None:
        """Nobody holds the row now, and it may be in LeadSquared: read back before sending."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE ledger_rows SET state = ?, holder = NULL, updated_at = ? "
                "WHERE account = ? AND identity = ? AND state != ?",
                (
                    LedgerState.UNCERTAIN,
                    self._clock(),
                    self.account,
                    identity,
                    LedgerState.DONE,
                ),
            )

    def release(self, identity: str) -> None:
        """The row was certainly not imported (refused, or read back and absent): forget it."""
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM ledger_rows WHERE account = ? AND identity = ? AND state != ?",
                (self.account, identity, LedgerState.DONE),
            )

    def release_claim(self, identity: str, owner: str) -> None:
        """Forget `owner`'s claim if its call never went out."""
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM ledger_rows WHERE account = ? AND identity = ? AND state = ? "
                "AND owner = ? AND sent_at IS NULL",
                (self.account, identity, LedgerState.SENDING, owner),
            )

    # -- leads ----------------------------------------------------------------------------

    def remember_lead(self, search_by: str, value: str, lead_id: str) -> None:
        """The lead LeadSquared answered for a `search_by` value: read-backs start there."""
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO ledger_leads (account, search_by, value, lead_id) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (account, search_by, value) DO UPDATE SET lead_id = excluded.lead_id",
                (self.account, search_by.casefold(), value.strip().casefold(), lead_id),
            )

    def known_lead(self, search_by: str, value: str) -> str | None:
        with self.db.transaction() as tx:
            found = tx.execute(
                "SELECT lead_id FROM ledger_leads WHERE account = ? AND search_by = ? "
                "AND value = ?",
                (self.account, search_by.casefold(), value.strip().casefold()),
            )
        return str(found[0][0]) if found else None


def _entry(row: tuple[Any, ...]) -> LedgerEntry:
    return LedgerEntry(
        identity=row[0],
        state=LedgerState(row[1]),
        owner=row[2],
        holder=row[3],
        sent_at=None if row[4] is None else float(row[4]),
        request_id=row[5],
        opportunity_id=row[6],
        lead_id=row[7],
        status=row[8],
        file=row[9],
        row_number=row[10],
        operation=row[11],
        sent_values=json.loads(row[12]) if row[12] else {},
        origin=row[13],
        message=row[14],
        updated_at=float(row[15]),
    )
