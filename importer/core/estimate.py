"""How long an import will take, said before it starts (the dry run, `run`, the page).

The rate limit, not the network, sets the pace of a bulk import: a sync capture is one
call per row; an async one is queued, then collected through the Status API, about two
calls per row. A share is one more call, counted in the sync window (LeadSquared counts
the sync and async APIs apart, so in async mode it runs beside the captures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from importer.core.config import Mode, Rate

CALLS_PER_ROW = {Mode.SYNC: 1, Mode.ASYNC: 2}


@dataclass(frozen=True)
class ImportEstimate:
    """The time `rows` rows take at `rate` in `mode`: what the CLI and the page both say."""

    rows: int
    calls: int  # in the busiest rate window
    seconds: float
    rate: Rate
    mode: Mode
    total_calls: int  # in every window: what counts against LSQ_DAILY_LIMIT
    daily: str | None = None  # with LSQ_DAILY_LIMIT: the share of today's remaining calls

    def sentence(self) -> str:
        """`Importing the 219 ready rows takes about 1 min 30 s at 25 calls per 5 s (async mode)`"""
        rows = "the 1 ready row" if self.rows == 1 else f"the {self.rows} ready rows"
        return (
            f"Importing {rows} takes {duration(self.seconds)} at {self.rate.calls} calls per "
            f"{self.rate.seconds:g} s ({self.mode} mode)"
            + (f". {self.daily}" if self.daily else "")
        )


def estimate_import(
    rows: int, rate: Rate, mode: Mode | str, *, shares: bool = False
) -> ImportEstimate:
    """The estimate for sending `rows` rows; `shares` when each created opportunity is shared."""
    chosen = Mode.parse(str(mode))
    rows = max(0, rows)
    per_row = CALLS_PER_ROW[chosen]
    if shares and chosen == Mode.SYNC:
        per_row += 1  # capture and share share the sync window
    calls = rows * per_row
    total = rows * (CALLS_PER_ROW[chosen] + (1 if shares else 0))
    return ImportEstimate(rows, calls, calls * rate.seconds / rate.calls, rate, chosen, total)


def duration(seconds: float) -> str:
    """`about 40 s`, `about 1 min 30 s`, `about 2 h 5 min`: rounded the way people say it."""
    if seconds < 1:
        return "less than a second"
    if seconds <= 10:
        return f"about {round(seconds)} s"
    if round(seconds / 5) * 5 < 60:
        return f"about {round(seconds / 5) * 5} s"
    if round(seconds / 10) * 10 < 3600:
        minutes, rest = divmod(round(seconds / 10) * 10, 60)
        return f"about {minutes} min {rest} s" if rest else f"about {minutes} min"
    hours, minutes = divmod(math.floor(seconds / 60 + 0.5), 60)
    return f"about {hours} h {minutes} min" if minutes else f"about {hours} h"
