"""LSQ_DAILY_LIMIT: calls per account per calendar day (UTC), counted where the budget lives.

Every slot a shared budget hands out counts one call for its account, whatever the
window (sync and async count together); the count sits beside the windows, in the
SQLite budget file or in PostgreSQL, so every process and machine sees one number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from importer.core.errors import DailyLimitReached


def utc_day(now: float) -> date:
    """The calendar day (UTC) of a wall-clock time."""
    return datetime.fromtimestamp(now, UTC).date()


def resets_at(now: float) -> datetime:
    """The next UTC midnight: when today's count starts again from zero."""
    return datetime.combine(utc_day(now) + timedelta(days=1), datetime.min.time(), UTC)


@dataclass(frozen=True)
class DailyCap:
    """The cap a budget enforces: `limit` calls a day for `account` (a hash of host + key).

    `limit` 0 counts without capping: a limit set later in the day knows the calls made
    before it was set.
    """

    account: str
    limit: int

    @property
    def caps(self) -> bool:
        return self.limit > 0

    @property
    def ceiling(self) -> int:
        """The count an increment may not pass (no ceiling without a limit)."""
        return self.limit if self.caps else 2**62

    def reached(self, used: int, now: float) -> DailyLimitReached:
        return DailyLimitReached(limit=self.limit, used=used, resets_at=resets_at(now))


@dataclass(frozen=True)
class DailyUsage:
    """Today's calls for one account, and what the cap (if any) leaves of them."""

    limit: int | None
    used: int
    day: date
    resets_at: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    def sentence(self, calls: int) -> str:
        """What an import of `calls` calls takes of today's remaining calls, in one line."""
        remaining = self.remaining
        if remaining is None:
            return f"This import needs about {calls:,} calls; no daily limit is set"
        cap = f"LSQ_DAILY_LIMIT {self.limit:,}"
        reset = f"{self.resets_at:%Y-%m-%d %H:%M} UTC"
        if remaining == 0:
            return (
                f"Today's calls are used up ({cap}): an import started now sends nothing "
                f"until {reset}"
            )
        if calls > remaining:
            return (
                f"This import needs about {calls:,} calls, more than today's remaining "
                f"{remaining:,} ({cap}): the run will stop at the cap, and the same command "
                f"after {reset} continues"
            )
        share = calls / remaining * 100
        shown = f"{share:.0f}%" if share >= 1 or calls == 0 else "less than 1%"
        return (
            f"This import needs about {calls:,} calls, {shown} of today's remaining "
            f"{remaining:,} ({cap})"
        )
