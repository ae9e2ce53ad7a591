"""Never twice: the pool's view of the account ledger for one run.

Before a row is sent it is claimed in the ledger; a row the account already has
is answered from the ledger (Success, the earlier opportunity, where it came
from and which columns now differ) instead of being sent again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, auto

from importer.core.config import Settings
from importer.core.errors import StateStoreError
from importer.core.outcomes import Origin, RowOutcome, RowStatus
from importer.io.ledger import Claim, Ledger, LedgerEntry, account_of_settings, ledger_path
from importer.io.state import open_state
from importer.io.state.db import PostgresDB

log = logging.getLogger("importer.ledger")
IMPORTED = (RowStatus.SUCCESS, RowStatus.PARTIAL_SUCCESS)


class Verdict(Enum):
    SEND = auto()  # the claim is ours: send it
    SEND_UNCERTAIN = auto()  # ours, but an earlier attempt may have been processed: read back
    WAIT = auto()  # another live run (or an earlier row of this file) is sending it now
    POLL = auto()  # LeadSquared accepted it already: collect its result
    KNOWN = auto()  # the account has it: not sent again


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    request_id: str | None = None
    outcome: RowOutcome | None = None
    sent_at: float | None = None  # SEND_UNCERTAIN: when the first attempt went out
    lead_id: str | None = None  # SEND_UNCERTAIN: the lead, when an earlier attempt learnt it
    expires_at: float | None = None  # WAIT: the holder's lease runs until then (None: this run)


class PreviousImports:
    """Claims, acceptances and results of one run's rows in the account ledger.

    Open it with `with`: the run holds one lease for all its claims, renewed by a
    thread while the process lives, and given up at the end (claims never sent are
    freed; rows sent without an answer stay uncertain for the next run to read back).
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        run: str,
        file: str,
        operation: str,
        labels: Mapping[str, str],
        fresh: bool = False,
        lease_seconds: float = 60.0,
    ) -> None:
        self.ledger = ledger
        self.fresh = fresh  # --fresh: send every row again (still remembered afterwards)
        self.run = run  # stable across resumes of the same input and mapping
        self.file = file
        self.operation = operation
        self.labels = labels  # target -> the user's column header
        self.lease_seconds = lease_seconds
        self.holder = ""
        self._stop_renewing = threading.Event()
        self._renewer: threading.Thread | None = None

    def __enter__(self) -> PreviousImports:
        self.holder = self.ledger.open_holder(self.lease_seconds)
        self._renewer = threading.Thread(target=self._renew, name="lease", daemon=True)
        self._renewer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_renewing.set()
        if self._renewer is not None:
            self._renewer.join()
        try:
            self.ledger.close_holder(self.holder)
        except StateStoreError as error:  # the lease expires by itself; the rows stay claimed
            log.warning("could not give up the run's claims: %s", error)

    def _renew(self) -> None:
        while not self._stop_renewing.wait(self.lease_seconds / 4):
            try:
                self.ledger.renew(self.holder, self.lease_seconds)
            except Exception as error:  # noqa: BLE001 - keep trying: the lease is still ours
                log.warning("could not renew the run's lease: %s", error)

    def owner(self, row_number: int) -> str:
        return f"{self.run}#{row_number}"

    def decide(self, identity: str, row_number: int, values: Mapping[str, str]) -> Decision:
        """Claim the row for sending, or say why it must not be sent now."""
        if self.fresh:
            return Decision(Verdict.SEND)
        owner = self.owner(row_number)
        result = self.ledger.claim(
            identity, owner, self.holder, file=self.file, row_number=row_number
        )
        entry = result.entry
        if result.claim == Claim.HELD:
            return Decision(Verdict.WAIT, expires_at=result.expires_at)
        if result.claim == Claim.ACCEPTED:
            return Decision(Verdict.POLL, request_id=entry.request_id)
        if result.claim == Claim.DONE:
            return Decision(Verdict.KNOWN, outcome=self._known(entry, owner, row_number, values))
        if entry.sent_at is not None:
            return Decision(Verdict.SEND_UNCERTAIN, sent_at=entry.sent_at, lead_id=entry.lead_id)
        return Decision(Verdict.SEND)

    def already_done(self, identities: Sequence[str]) -> dict[str, LedgerEntry]:
        """The rows of this batch the account has already: answered without a claim each."""
        if self.fresh or not identities:
            return {}
        return self.ledger.find_done(identities)

    def known(self, entry: LedgerEntry, row_number: int, values: Mapping[str, str]) -> RowOutcome:
        """The outcome of a row the account has (see `already_done`)."""
        return self._known(entry, self.owner(row_number), row_number, values)

    def sending(self, identity: str) -> float:
        """Written before the call goes out; returns when the first attempt went out."""
        return self.ledger.sent(identity)

    def unclaim(self, identity: str, row_number: int) -> None:
        """A claimed row that was not sent after all (the run stopped first)."""
        self.ledger.release_claim(identity, self.owner(row_number))

    def accepted(self, identity: str, request_id: str) -> None:
        self.ledger.accepted(identity, request_id)

    def still_uncertain(self, identity: str) -> None:
        """It may be in LeadSquared and nothing could tell: the next run reads back first."""
        self.ledger.uncertain(identity)

    def finished(self, identity: str, outcome: RowOutcome, values: Mapping[str, str]) -> None:
        """Remember an imported row; forget one certainly not in LeadSquared (refused, or read
        back and absent) so it can go later."""
        if outcome.status in IMPORTED:
            self.ledger.done(
                identity,
                opportunity_id=outcome.created_opportunity_id or outcome.conflicted_opportunity_id,
                lead_id=outcome.related_prospect_id,
                status=str(outcome.status),
                file=self.file,
                row_number=outcome.row_number,
                operation=self.operation,
                sent_values=dict(values),
                owner=self.owner(outcome.row_number),
                origin=str(outcome.origin) if outcome.origin else None,
                message=outcome.message,
                request_id=outcome.request_id,
            )
        elif outcome.status in (RowStatus.FAILURE, RowStatus.NOT_SENT):
            self.ledger.release(identity)

    def remember_lead(self, search_by: str, value: str, lead_id: str) -> None:
        self.ledger.remember_lead(search_by, value, lead_id)

    def known_lead(self, search_by: str, value: str) -> str | None:
        return self.ledger.known_lead(search_by, value)

    def _known(
        self, entry: LedgerEntry, owner: str, row_number: int, values: Mapping[str, str]
    ) -> RowOutcome:
        status = RowStatus(entry.status) if entry.status else RowStatus.SUCCESS
        if entry.owner == owner:
            # This very row, recorded by a run of this file that died before its journal did.
            return RowOutcome(
                row_number=row_number,
                status=status,
                created_opportunity_id=entry.opportunity_id,
                related_prospect_id=entry.lead_id,
                request_id=entry.request_id,
                message=entry.message,
                origin=Origin(entry.origin) if entry.origin else Origin.CREATED,
            )
        when = datetime.fromtimestamp(entry.updated_at).strftime("%Y-%m-%d %H:%M")
        verb = "Already updated" if entry.operation == "update" else "Already imported"
        what = f" (opportunity {entry.opportunity_id})" if entry.opportunity_id else ""
        message = (
            f"{verb} from {entry.file}, row {entry.row_number}, on {when}{what}; not sent again"
        )
        changed = [
            self.labels.get(target, target)
            for target, value in values.items()
            if target in entry.sent_values and entry.sent_values[target] != value
        ]
        if changed:
            message += (
                f". These columns now differ: {', '.join(changed)}; change them in "
                "LeadSquared with an update mapping"
            )
        return RowOutcome(
            row_number=row_number,
            status=status,
            created_opportunity_id=entry.opportunity_id,
            related_prospect_id=entry.lead_id,
            message=message,
            origin=Origin.ALREADY_IMPORTED,
        )


@contextmanager
def open_ledger(settings: Settings) -> Iterator[Ledger]:
    """The ledger of the account these settings reach (host + access key): in the shared
    PostgreSQL store of LSQ_STATE_URL, else in this machine's file for the account."""
    store = open_state(settings)
    if store is not None:
        with Ledger(PostgresDB(store), account_of_settings(settings)) as ledger:
            yield ledger
        return
    with Ledger.at(ledger_path(settings)) as ledger:
        yield ledger
