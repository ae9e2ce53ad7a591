"""Reading opportunities back, lead by lead (Get Opportunities by Lead Id), for `verify`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from importer.core.config import Mode
from importer.core.errors import ApiError, AuthError, ImportCancelled, NotFound
from importer.lsq.responses import OpportunityPage
from importer.send.lead_pages import lead_pages
from importer.send.session import Session

T = TypeVar("T")
# A lead that keeps answering 429 is given up on (its rows "Not checked") after this many.
MAX_429_PER_LEAD = 50


@dataclass
class LeadRead:
    """A lead's opportunities we looked for, by id, or why they could not be read."""

    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None


class LeadReader:
    """Pages through each lead's opportunities, paced by one sync-window limiter."""

    def __init__(
        self,
        session: Session,
        *,
        page_size: int,
        opportunity_type: int | None,
        columns: list[str] | None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.session = session
        self.cancel = cancel
        self.settings = session.settings
        self.page_size = page_size
        self.opportunity_type = opportunity_type
        self.columns = columns

    async def read_all(self, wanted: dict[str, set[str]]) -> dict[str, LeadRead]:
        """Every lead's wanted opportunities; a few leads at a time, all through one limiter."""
        reads: dict[str, LeadRead] = {}
        leads = iter(wanted)
        # The first lead goes alone: wrong keys then cost one call, not one per worker.
        for lead_id in leads:
            reads[lead_id] = await self.read_lead(lead_id, wanted[lead_id])
            break

        async def worker() -> None:
            for lead_id in leads:  # one shared iterator: each lead is read once
                reads[lead_id] = await self.read_lead(lead_id, wanted[lead_id])

        tasks = [asyncio.create_task(worker()) for _ in range(max(1, self.settings.workers))]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return reads

    async def read_lead(self, lead_id: str, wanted: set[str]) -> LeadRead:
        """Page 1, 2, ... until a short page, all RecordCount items, or every wanted id is seen."""
        if self.cancel is not None and self.cancel.is_set():
            raise ImportCancelled("verify was stopped")
        read = LeadRead()

        def fetch(index: int) -> Awaitable[OpportunityPage]:
            return self._call(partial(self._page, lead_id, index))

        try:
            async for page in lead_pages(fetch, self.page_size):
                for item in page.items:
                    opportunity_id = str(item.get("OpportunityId") or "")
                    if opportunity_id in wanted:
                        read.found[opportunity_id] = item
                if wanted <= read.found.keys():
                    break
        except (AuthError, NotFound):
            raise
        except ApiError as exc:
            read.error = f"could not read the lead's opportunities: {exc.message}"
        return read

    def _page(self, lead_id: str, page_index: int) -> Awaitable[OpportunityPage]:
        return self.session.client.opportunities_of_lead(
            lead_id,
            page_index=page_index,
            page_size=self.page_size,
            opportunity_type=self.opportunity_type,
            columns=self.columns,
        )

    async def _call(self, send: Callable[[], Awaitable[T]]) -> T:
        return await self.session.call(send, window=Mode.SYNC, max_throttled=MAX_429_PER_LEAD)
