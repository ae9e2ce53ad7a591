"""Never twice: the pool's view of the account ledger for one run.

Before a row is sent it is claimed in the ledger; a row the account already has
is answered from the ledger (Success, the earlier opportunity, where it came
from and which columns now differ) instead of being sent again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, auto

from importer.core.config import Settings
from importer.core.outcomes import Origin, RowOutcome, RowStatus
from importer.io.ledger import Ledger, LedgerEntry, LedgerState, ledger_path, process_alive

IMPORTED = (RowStatus.SUCCESS, RowStatus.PARTIAL_SUCCESS)


class Verdict(Enum):
    SEND = auto()  # the claim is ours: send it
    SEND_UNCERTAIN = auto()  # a dead run's claim taken over: it may have been sent
    WAIT = auto()  # another live run (or an earlier row of this file) is sending it now
    POLL = auto()  # LeadSquared accepted it already: collect its result
    KNOWN = auto()  # the account has it: not sent again


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    request_id: str | None = None
    outcome: RowOutcome | None = None


class PreviousImports:
    """Claims, acceptances and results of one run's rows in the account ledger."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        run: str,
        file: str,
        operation: str,
        labels: Mapping[str, str],
        fresh: bool = False,
    ) -> None:
        self.ledger = ledger
        self.fresh = fresh  # --fresh: send every row again (still remembered afterwards)
        self.run = run  # stable across resumes of the same input and mapping
        self.file = file
        self.operation = operation
        self.labels = labels  # target -> the user's column header

    def owner(self, row_number: int) -> str:
        return f"{self.run}#{row_number}"

    def decide(self, identity: str, row_number: int, values: Mapping[str, str]) -> Decision:
        """Claim the row for sending, or say why it must not be sent now."""
        if self.fresh:
            return Decision(Verdict.SEND)
        owner = self.owner(row_number)
        entry = self.ledger.claim(identity, owner, file=self.file, row_number=row_number)
        if entry is None:
            return Decision(Verdict.SEND)
        if entry.state == LedgerState.SENDING:
            if process_alive(entry.pid):
                return Decision(Verdict.WAIT)
            taken = self.ledger.claim(
                identity, owner, file=self.file, row_number=row_number, take_over=True
            )
            if taken is None:
                return Decision(Verdict.SEND_UNCERTAIN)
            entry = taken
        if entry.state == LedgerState.ACCEPTED:
            if entry.request_id:
                return Decision(Verdict.POLL, request_id=entry.request_id)
            return Decision(Verdict.SEND_UNCERTAIN)
        return Decision(Verdict.KNOWN, outcome=self._known(entry, owner, row_number, values))

    def unclaim(self, identity: str, row_number: int) -> None:
        """A claimed row that was not sent after all (the run stopped first)."""
        self.ledger.release_claim(identity, self.owner(row_number))

    def accepted(self, identity: str, request_id: str) -> None:
        self.ledger.accepted(identity, request_id)

    def finished(self, identity: str, outcome: RowOutcome, values: Mapping[str, str]) -> None:
        """Remember an imported row; forget a failed one so a fixed row can go later."""
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
        elif outcome.status == RowStatus.FAILURE:
            self.ledger.release(identity)

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
    """The ledger of the account these settings reach (host + access key)."""
    host = settings.host or settings.async_host
    with Ledger(ledger_path(settings.state_home, host, settings.access_key)) as ledger:
        yield ledger
