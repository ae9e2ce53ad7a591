"""A lead's opportunities page after page (Get Opportunities by Lead Id): one loop for all.

Read-back before a resend (`confirm`) and `verify` (`readback`) both page this way; each
stops early on its own terms by leaving the loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from importer.lsq.responses import OpportunityPage


async def lead_pages(
    fetch: Callable[[int], Awaitable[OpportunityPage]], page_size: int
) -> AsyncIterator[OpportunityPage]:
    """Page 1, 2, ... until a short page or all of the lead's RecordCount items."""
    page_index = 1
    seen = 0
    while True:
        page = await fetch(page_index)
        yield page
        seen += len(page.items)
        if len(page.items) < page_size or seen >= page.record_count:
            return
        page_index += 1
