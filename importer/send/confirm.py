"""Read back before sending again: is this capture already in LeadSquared? (CONTRACT 4)

An account without a duplicate rule creates a second opportunity for a second
send, so a row whose earlier attempt may have been processed (a lost reply, a
gateway's 5xx, a run that died mid-call) is looked for first: its lead (known
from an earlier answer, else the lead look-up by the `search_by` value), then
that lead's opportunities of the row's type, newest first, for one whose
identity fields equal what the row sent and that was created after the first
attempt. Found: the row is done. Absent: it may be sent. Undecided: it is never
sent again, and ends Pending with the reason.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, auto
from itertools import pairwise
from typing import Any

from importer.core.config import Mode
from importer.core.constants import DATETIME_FORMAT, SEARCH_BY_ATTRIBUTE
from importer.core.errors import ApiError, AuthError, ConfigError, NotFound, RateLimited
from importer.core.outcomes import Origin, RowOutcome, RowStatus
from importer.lsq.responses import Lead, OpportunityPage
from importer.send.lead_pages import lead_pages
from importer.send.session import Session

QUEUE_BEHIND = "could not be confirmed yet: LeadSquared's queue had not reached its time"
log = logging.getLogger("importer.confirm")

PAGE_SIZE = 100
# Our clock and LeadSquared's differ a little: an opportunity created up to this long
# before our first attempt still counts as created after it.
CLOCK_SLACK_SECONDS = 300.0
QUEUE_CHECK_SECONDS = 2.0  # waiting for the async queue to pass a send: look this often
# Attributes LeadSquared's quick search covers (names, email, phone, mobile).
QUICK_SEARCH = frozenset({"firstname", "lastname", "phone", "mobile", "emailaddress"})
PROSPECT_ID = frozenset({"prospectid"})
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_NUMBER_NOISE = re.compile(r"[,\s₹]|^(?:rs\.?|inr)", re.I)

CONFIRMED = (
    "Confirmed by reading back: LeadSquared has this opportunity (created {created}); "
    "the answer to the send was lost, so it was not sent again"
)


class Found(Enum):
    YES = auto()  # the opportunity is there: the row is done
    NO = auto()  # it is not: the row may be sent (again)
    UNDECIDED = auto()  # nothing can tell: never send it again now


@dataclass(frozen=True, slots=True)
class ReadBack:
    found: Found
    outcome: RowOutcome | None = None  # YES: the row's Success
    reason: str = ""  # UNDECIDED: why, in words
    lead_id: str | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """What a capture sent, as the read-back compares it."""

    search_by: str
    search_value: str
    event_code: int
    fields: dict[str, str]  # SchemaName -> value sent
    opportunity_datetime: str | None

    @classmethod
    def of(cls, body: dict[str, Any]) -> Sent:
        lead = {
            str(pair.get("Attribute")): str(pair.get("Value", ""))
            for pair in body.get("LeadDetails", [])
        }
        search_by = lead.get(SEARCH_BY_ATTRIBUTE, "")
        opportunity = body.get("Opportunity", {})
        return cls(
            search_by=search_by,
            search_value=_value_of(lead, search_by),
            event_code=int(opportunity.get("OpportunityEventCode") or 0),
            fields={
                str(pair.get("SchemaName")): str(pair.get("Value", ""))
                for pair in opportunity.get("Fields", [])
            },
            opportunity_datetime=opportunity.get("OpportunityDateTime"),
        )


KnownLead = Callable[[str, str], Awaitable[str | None]]
RememberLead = Callable[[str, str, str], Awaitable[None]]


class Confirmer:
    """Reads captures back through the session's sync window (where LeadSquared counts them)."""

    def __init__(
        self,
        session: Session,
        *,
        match_fields: Sequence[str] | None = None,
        known_lead: KnownLead | None = None,
        remember_lead: RememberLead | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        # None: every field sent; else the mapping's `unique` opportunity fields (maybe none).
        self.match_fields = tuple(match_fields) if match_fields is not None else None
        self._known_lead = known_lead
        self._remember_lead = remember_lead
        self._wall = wall
        self.taken: set[str] = set()  # opportunities already matched to a row of this run
        self.calls = 0  # read-back calls made (the closing figures count them)

    async def read_back(
        self,
        row_number: int,
        body: dict[str, Any],
        sent_at: float | None,
        *,
        lead_id: str | None = None,
        queue_limit: float | None = None,
    ) -> ReadBack:
        """Whether this capture is in LeadSquared, created after `sent_at` (wall clock).

        With `queue_limit` (an async capture whose answer was lost) LeadSquared's queue
        must first pass `sent_at`, waited for at most that long: a capture still queued
        is not "absent", and must never be sent again.
        """
        sent = Sent.of(body)
        if not self.session.settings.host:
            return ReadBack(
                Found.UNDECIDED,
                reason="could not be confirmed: LSQ_HOST is not set, so it cannot be read back",
            )
        if queue_limit is not None and sent_at is not None:
            if not await self.wait_for_queue(sent_at, queue_limit):
                return ReadBack(Found.UNDECIDED, reason=QUEUE_BEHIND)
        try:
            leads = await self._leads(sent, lead_id)
            if leads is None:
                return ReadBack(
                    Found.UNDECIDED,
                    reason=(
                        f"could not be confirmed: LeadSquared has no look-up by {sent.search_by}; "
                        f"check lead {sent.search_value} in LeadSquared"
                    ),
                )
            # Without the first attempt's time (an old workbook), any creation time counts.
            since = sent_at - CLOCK_SLACK_SECONDS if sent_at is not None else float("-inf")
            for lead in leads:
                match = await self._find(lead, sent, since)
                if match is not None:
                    opportunity_id, created = match
                    self.taken.add(opportunity_id)
                    return ReadBack(
                        Found.YES,
                        outcome=RowOutcome(
                            row_number=row_number,
                            status=RowStatus.SUCCESS,
                            created_opportunity_id=opportunity_id,
                            related_prospect_id=lead,
                            message=CONFIRMED.format(created=created or "recently"),
                            origin=Origin.CREATED,
                        ),
                        lead_id=lead,
                    )
        except (AuthError, NotFound, ConfigError):
            raise
        except ApiError as exc:
            return ReadBack(
                Found.UNDECIDED,
                reason=f"could not be confirmed: reading it back failed ({exc.message})",
            )
        return ReadBack(Found.NO, lead_id=leads[0] if leads else None)

    async def wait_for_queue(self, sent_at: float, limit: float) -> bool:
        """An async capture whose RequestID was lost: wait until LeadSquared's queue has
        passed the time it was sent (its oldest waiting message is younger), at most `limit`."""
        deadline = self.session.clock() + limit
        client = self.session.client
        while True:
            await self.session.limiter(Mode.ASYNC).acquire()
            try:
                metrics = await client.capture_metrics()
            except RateLimited:
                self.session.note_429(Mode.ASYNC)
                metrics = None
            except (AuthError, NotFound, ConfigError):
                return False  # no metrics on this host: nothing can tell when it is done
            except ApiError:
                metrics = None
            if metrics is not None and metrics.max_delay_seconds < self._wall() - sent_at:
                return True
            if self.session.clock() >= deadline:
                return False
            await self.session.sleep(QUEUE_CHECK_SECONDS)

    # -- the lead --------------------------------------------------------------------

    async def _leads(self, sent: Sent, lead_id: str | None) -> list[str] | None:
        """The leads the capture would have gone to; None when no look-up fits."""
        attribute = sent.search_by.casefold()
        if attribute in PROSPECT_ID:
            return [sent.search_value]
        if lead_id:
            return [lead_id]
        if self._known_lead is not None:
            known = await self._known_lead(sent.search_by, sent.search_value)
            if known:
                return [known]
        if attribute not in QUICK_SEARCH or not sent.search_value:
            return None
        client = self.session.client
        if attribute == "emailaddress":
            found = await self._call(lambda: client.lead_by_email(sent.search_value))
        else:
            found = await self._call(lambda: client.leads_by_quick_search(sent.search_value))
        leads = [lead.prospect_id for lead in found if _same_lead(lead, sent)]
        if leads and self._remember_lead is not None:
            await self._remember_lead(sent.search_by, sent.search_value, leads[0])
        return leads

    # -- its opportunities -------------------------------------------------------------

    async def _find(self, lead_id: str, sent: Sent, since: float) -> tuple[str, str] | None:
        """(opportunity id, created on) of the newest match, or None."""
        names = tuple(sent.fields) if self.match_fields is None else self.match_fields
        compare = [name for name in names if name in sent.fields]
        columns = [*compare, "PACreatedOn", "PAModifiedOn"]
        client = self.session.client

        def fetch(index: int) -> Awaitable[OpportunityPage]:
            return self._call(
                lambda: client.opportunities_of_lead(
                    lead_id,
                    page_index=index,
                    page_size=PAGE_SIZE,
                    opportunity_type=sent.event_code or None,
                    columns=columns,
                    newest_first=True,
                )
            )

        async for page in lead_pages(fetch, PAGE_SIZE):
            older = 0
            for item in page.items:
                created = _created_at(item, sent)
                if created is not None and created < since:
                    older += 1
                    continue
                opportunity_id = str(item.get("OpportunityId") or "")
                if not opportunity_id or opportunity_id in self.taken:
                    continue
                if _event_of(item) not in (None, sent.event_code):
                    continue
                if all(_same(sent.fields[name], item, name) for name in compare):
                    return opportunity_id, str(item.get("PACreatedOn") or "")
            if page.items and older == len(page.items) and _newest_first(page.items):
                return None  # newest first: a page of only older opportunities ends the search
        return None

    async def _call(self, send: Callable[[], Awaitable[Any]]) -> Any:
        self.calls += 1
        return await self.session.call(send, window=Mode.SYNC)


def _value_of(values: dict[str, str], name: str) -> str:
    for key, value in values.items():
        if key.casefold() == name.casefold():
            return value
    return ""


def _same_lead(lead: Lead, sent: Sent) -> bool:
    """The look-up's answer filtered on the exact field (quick search matches loosely)."""
    stored = _value_of(lead.attributes, sent.search_by)
    if sent.search_by.casefold() in ("phone", "mobile"):
        return _digits(stored) != "" and (
            _digits(stored).endswith(_digits(sent.search_value)[-10:])
        )
    return stored.strip().casefold() == sent.search_value.strip().casefold()


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _event_of(item: dict[str, Any]) -> int | None:
    event = item.get("OpportunityEvent")
    try:
        return int(str(event)) if event not in (None, "") else None
    except ValueError:
        return None


def _created_at(item: dict[str, Any], sent: Sent) -> float | None:
    """When the opportunity was made, as UTC seconds; None when it does not say.

    LeadSquared dates an opportunity by the capture's OpportunityDateTime when one was
    sent: then its last change (the capture itself) is the better clue.
    """
    created = str(item.get("PACreatedOn") or "")
    if sent.opportunity_datetime and created.startswith(sent.opportunity_datetime[:16]):
        created = str(item.get("PAModifiedOn") or "")
    return _utc_seconds(created)


def _newest_first(items: list[dict[str, Any]]) -> bool:
    """The page really is sorted newest first (an account that ignores `Sorting` answers in
    its own order: then an old page does not mean that no newer one follows)."""
    times = [_utc_seconds(str(item.get("PACreatedOn") or "")) for item in items]
    known = [t for t in times if t is not None]
    return len(known) == len(times) and all(a >= b for a, b in pairwise(known))


def _utc_seconds(text: str) -> float | None:
    cleaned = text.strip().replace("T", " ").removesuffix("Z")[:19]
    try:
        return datetime.strptime(cleaned, DATETIME_FORMAT).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _same(sent: str, item: dict[str, Any], name: str) -> bool:
    """Whether the stored value is what was sent, as LeadSquared may have reshaped it."""
    present, stored = _stored(item, name)
    if not present:
        return True  # the answer does not carry this field: it cannot tell either way
    if stored is None:
        return False
    a, b = sent.strip().casefold(), stored.strip().casefold()
    if a == b:
        return True
    if _GUID.match(b) and not _GUID.match(a):
        return True  # an owner or user given by email or name comes back as its id
    number_a, number_b = _number(a), _number(b)
    if number_a is not None and number_b is not None:
        return number_a == number_b
    # A date sent as yyyy-mm-dd may come back with a time, or a time to the minute.
    return len(a) >= 10 and len(b) >= 10 and (b.startswith(a) or a.startswith(b))


def _stored(item: dict[str, Any], name: str) -> tuple[bool, str | None]:
    """(whether the answer has the field, its value)."""
    wanted = name.casefold()
    for key, value in item.items():
        if key.casefold() == wanted:
            return True, None if value is None else str(value)
    return False, None


def _number(text: str) -> float | None:
    try:
        return float(_NUMBER_NOISE.sub("", text))
    except ValueError:
        return None
