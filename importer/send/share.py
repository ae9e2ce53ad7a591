"""The share step: after a capture, give the row's user access to the new opportunity."""

from __future__ import annotations

from typing import Any

from importer.core.config import Mode
from importer.core.constants import SHARE_ACCESS_EDIT
from importer.core.conventions import SHARE_STATUS, SHARED_WITH
from importer.core.errors import ApiError, AuthError, NotFound
from importer.core.outcomes import RowOutcome, RowStatus
from importer.send.session import Session

# ShareStatus while the share has not been done: a run that crashed here repeats only the share.
SHARE_PENDING = "Pending"
NOT_SHARED_DUPLICATE = "Not shared: LeadSquared kept an existing opportunity (duplicate)"


def share_due(outcome: RowOutcome) -> bool:
    """A Success whose share has not been done (or was cut short by a crash)."""
    return outcome.status == RowStatus.SUCCESS and outcome.extra.get(SHARE_STATUS) in (
        None,
        SHARE_PENDING,
    )


async def share_created(session: Session, outcome: RowOutcome, item: dict[str, Any]) -> None:
    """Share through the sync window; a failed share makes the row PartialSuccess.

    AuthError and NotFound are raised: they stop the whole run.
    """
    outcome.extra[SHARED_WITH] = str(item.get("UserId", ""))
    try:
        await session.call(lambda: session.client.share([item]), window=Mode.SYNC)
    except (AuthError, NotFound):
        raise
    except ApiError as exc:
        outcome.extra[SHARE_STATUS] = f"Failure: {exc.message}"
        outcome.status = RowStatus.PARTIAL_SUCCESS
        outcome.message = f"{outcome.message}; but sharing failed: {exc.message}"
        return
    access = "edit" if item.get("AccessType") == SHARE_ACCESS_EDIT else "read"
    outcome.extra[SHARE_STATUS] = f"Shared ({access})"
