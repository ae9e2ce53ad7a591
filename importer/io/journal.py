"""The durable record of a run: what was about to be sent, what was accepted, how it ended.

SQLite in WAL mode, one small transaction per transition, so `kill -9` at any
instant loses at most the calls in flight. The journal is keyed by the input's
and the mapping's SHA-256: the same command run again finds it and resumes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from enum import StrEnum
from pathlib import Path
from typing import Any

from importer.core.outcomes import Origin, RowError, RowOutcome, RowStatus
from importer.io.state.migrations import JOURNAL_STEPS
from importer.io.state.sqlite import open_sqlite
from importer.io.tables.table import TypedCell

BUSY_TIMEOUT_SECONDS = 30.0  # one run per journal (a FileLock); readers may overlap


class RowState(StrEnum):
    """Where a row is in its life; the value is what the journal stores."""

    PLANNED = "planned"  # to be sent (again): `retry` reopens rows into this state
    SENDING = "sending"  # intent written; a reply may or may not have come back
    ACCEPTED = "accepted"  # async: LeadSquared queued it and gave a RequestID
    DONE = "done"  # final outcome known (status column holds it)


@dataclass(slots=True)
class JournalRow:
    row_number: int
    state: RowState
    uncertain: bool
    request_id: str | None
    accepted_at: float | None
    outcome: RowOutcome | None
    updated_at: float | None = None  # wall clock of the last transition

    @property
    def maybe_sent(self) -> bool:
        """A call for it went out and no answer settled it: it may be in LeadSquared."""
        return self.outcome is None and (self.uncertain or self.state == RowState.SENDING)


class Journal:
    """One run's rows, by RowNumber. One process at a time (the run holds a FileLock)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        # WAL with synchronous=NORMAL survives a killed process (not a power cut), at a
        # fraction of FULL's cost; the schema is versioned with every other state file.
        self._db = open_sqlite(path, busy_timeout=BUSY_TIMEOUT_SECONDS, steps=JOURNAL_STEPS)

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta ------------------------------------------------------------------

    def set_meta(self, **values: str) -> None:
        with self._db:
            self._db.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                list(values.items()),
            )

    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta"))

    # -- transitions -----------------------------------------------------------

    def mark_sending(self, row_number: int, *, uncertain: bool = False) -> None:
        """Write the intent before the call goes out; a crash after it makes the send uncertain."""
        self._db.execute(
            "INSERT INTO rows(row_number, state, uncertain, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(row_number) DO UPDATE SET "
            "state = excluded.state, "
            "uncertain = MAX(rows.uncertain, excluded.uncertain), updated_at = excluded.updated_at",
            (row_number, RowState.SENDING, int(uncertain), self._clock()),
        )

    def mark_unsent(self, row_number: int) -> None:
        """The call never went out after all (a stop came first): nothing to read back."""
        self._db.execute(
            "UPDATE rows SET state = ?, updated_at = ? WHERE row_number = ? AND state = ? "
            "AND uncertain = 0",
            (RowState.PLANNED, self._clock(), row_number, RowState.SENDING),
        )

    def mark_absent(self, row_number: int) -> None:
        """Read back and not in LeadSquared: the row is to be sent, with nothing to doubt."""
        self._db.execute(
            "UPDATE rows SET state = ?, uncertain = 0, updated_at = ? WHERE row_number = ?",
            (RowState.PLANNED, self._clock(), row_number),
        )

    def mark_uncertain(self, row_number: int) -> None:
        """A reply was lost after the request went out: it may have been processed."""
        self._db.execute(
            "UPDATE rows SET uncertain = 1, updated_at = ? WHERE row_number = ?",
            (self._clock(), row_number),
        )

    def mark_accepted(self, row_number: int, request_id: str) -> None:
        self._db.execute(
            "UPDATE rows SET state = ?, request_id = ?, accepted_at = ?, updated_at = ? "
            "WHERE row_number = ?",
            (RowState.ACCEPTED, request_id, self._clock(), self._clock(), row_number),
        )

    def mark_done(self, outcome: RowOutcome) -> None:
        self._db.execute(
            "INSERT INTO rows(row_number, state, status, request_id, created_opportunity_id, "
            "conflicted_opportunity_id, related_prospect_id, exception_type, message, extra, "
            "origin, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(row_number) DO UPDATE SET state = excluded.state, "
            "status = excluded.status, "
            "request_id = COALESCE(excluded.request_id, rows.request_id), "
            "created_opportunity_id = excluded.created_opportunity_id, "
            "conflicted_opportunity_id = excluded.conflicted_opportunity_id, "
            "related_prospect_id = excluded.related_prospect_id, "
            "exception_type = excluded.exception_type, message = excluded.message, "
            "extra = excluded.extra, origin = excluded.origin, updated_at = excluded.updated_at",
            (
                outcome.row_number,
                RowState.DONE,
                str(outcome.status),
                outcome.request_id,
                outcome.created_opportunity_id,
                outcome.conflicted_opportunity_id,
                outcome.related_prospect_id,
                outcome.exception_type,
                outcome.message,
                json.dumps(outcome.extra) if outcome.extra else None,
                str(outcome.origin) if outcome.origin else None,
                self._clock(),
            ),
        )

    def reopen(self, row_numbers: list[int]) -> None:
        """Let `retry` send these rows again: forget their final outcome, keep the history."""
        with self._db:
            self._db.executemany(
                "UPDATE rows SET state = ?, status = NULL, request_id = NULL, accepted_at = NULL, "
                "updated_at = ? WHERE row_number = ?",
                [(RowState.PLANNED, self._clock(), n) for n in row_numbers],
            )

    # -- the input, so the results can be rebuilt from the journal alone -------------

    def has_inputs(self) -> bool:
        return self._db.execute("SELECT 1 FROM inputs LIMIT 1").fetchone() is not None

    def save_inputs(
        self,
        headers: list[str],
        rows: Iterable[tuple[int, Sequence[TypedCell]]],
        errors: list[RowError],
    ) -> None:
        """Every non-blank input row (cells in their kind) and every validation problem,
        in one transaction."""
        with self._db:
            self._db.execute("DELETE FROM inputs")
            self._db.execute("DELETE FROM problems")
            self._db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('headers', ?)",
                (json.dumps(headers),),
            )
            self._db.executemany(
                "INSERT INTO inputs(row_number, cells) VALUES (?, ?)",
                ((n, encode_cells(cells)) for n, cells in rows),
            )
            self._db.executemany(
                "INSERT INTO problems(row_number, column_name, value, message) VALUES (?, ?, ?, ?)",
                [(e.row_number, e.column, e.value, e.message) for e in errors],
            )

    def inputs(self) -> Iterator[tuple[int, list[TypedCell]]]:
        """Each saved row's cells in their kind (a journal from before kinds were kept: text)."""
        for row_number, cells in self._db.execute(
            "SELECT row_number, cells FROM inputs ORDER BY row_number"
        ):
            yield row_number, decode_cells(cells)

    def problems(self) -> list[RowError]:
        return [
            RowError(n, column or "", value or "", message)
            for n, column, value, message in self._db.execute(
                "SELECT row_number, column_name, value, message FROM problems "
                "ORDER BY row_number, rowid"
            )
        ]

    # -- reading ---------------------------------------------------------------

    def rows(self) -> Iterator[JournalRow]:
        cursor = self._db.execute(
            "SELECT row_number, state, uncertain, request_id, accepted_at, status, "
            "created_opportunity_id, conflicted_opportunity_id, related_prospect_id, "
            "exception_type, message, extra, origin, updated_at FROM rows ORDER BY row_number"
        )
        for (
            row_number,
            state,
            uncertain,
            request_id,
            accepted_at,
            status,
            created,
            conflicted,
            prospect,
            exception_type,
            message,
            extra,
            origin,
            updated_at,
        ) in cursor:
            outcome = None
            if status:
                outcome = RowOutcome(
                    row_number=row_number,
                    status=RowStatus(status),
                    created_opportunity_id=created,
                    conflicted_opportunity_id=conflicted,
                    related_prospect_id=prospect,
                    request_id=request_id,
                    exception_type=exception_type,
                    message=message,
                    extra=json.loads(extra) if extra else {},
                    origin=Origin(origin) if origin else None,
                )
            yield JournalRow(
                row_number=row_number,
                state=RowState(state),
                uncertain=bool(uncertain),
                request_id=request_id,
                accepted_at=accepted_at,
                outcome=outcome,
                updated_at=updated_at,
            )

    def snapshot(self) -> dict[int, JournalRow]:
        return {row.row_number: row for row in self.rows()}


# JSON has no dates: a date, date-time, time of day or duration is kept as a one-key
# object whose key says which ({"d": "2026-01-15"}); text, numbers and yes/no as themselves.
def _tagged(value: Any) -> dict[str, str | float]:
    if isinstance(value, datetime):  # before date: a datetime is a date too
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, time_of_day):
        return {"t": value.isoformat()}
    if isinstance(value, timedelta):
        return {"td": value.total_seconds()}
    raise TypeError(f"a {type(value).__name__} cell cannot be kept in the journal")


def _untagged(tagged: dict[str, Any]) -> Any:
    if len(tagged) == 1:
        tag, text = next(iter(tagged.items()))
        if tag == "dt":
            return datetime.fromisoformat(text)
        if tag == "d":
            return date.fromisoformat(text)
        if tag == "t":
            return time_of_day.fromisoformat(text)
        if tag == "td":
            return timedelta(seconds=text)
    return tagged


def encode_cells(cells: Sequence[TypedCell]) -> str:
    """One input row as the journal stores it: JSON, dates and times tagged."""
    return json.dumps(list(cells), ensure_ascii=False, default=_tagged)


def decode_cells(text: str) -> list[TypedCell]:
    """The row `encode_cells` stored; an older journal's plain strings come back as text."""
    cells: list[TypedCell] = json.loads(text, object_hook=_untagged)
    return cells


def journal_path(
    state_dir: Path, input_path: Path, input_sha256: str, mapping_sha256: str, account: str
) -> Path:
    """One journal per (input content, mapping content, account): the same command finds it.

    The account is part of the name: the same file sent to another LeadSquared account
    (or a fresh sandbox) is a new import there, not a finished one.
    """
    name = f"{input_path.stem}.{input_sha256[:16]}.{mapping_sha256[:8]}.{account[:8]}"
    return state_dir / f"{name}.journal.sqlite"
