"""How the page says things: the dry run's verdict, how long an import takes, counts.

In the words of someone who knows Excel: rows, ready, need fixing; never payloads or codes.
"""

from __future__ import annotations

import math

from importer.core.config import Rate

# Calls LeadSquared needs per row: sync answers at once; async queues the row, then one
# status call (sometimes two) collects the verdict.
CALLS_PER_ROW = {"sync": 1.0, "async": 2.0}


def import_seconds(rows: int, rate: Rate, mode: str) -> float:
    """How long sending `rows` rows takes at the account's rate limit."""
    if rows <= 0:
        return 0.0
    calls = rows * CALLS_PER_ROW.get(mode, 2.0)
    return calls * rate.seconds / rate.calls


def duration(seconds: float) -> str:
    """`about 40 s`, `about 5 min`, `about 1 h 30 min`: rounded the way people say it."""
    if seconds < 1:
        return "less than a second"
    if seconds < 60:
        return f"about {max(1, round(seconds / 5) * 5 if seconds > 10 else round(seconds))} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"about {hours} h {rest} min" if rest else f"about {hours} h"


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def verdict(rows: int, ready: int, need_fixing: int, skipped: int, seconds: float) -> str:
    """The dry run in one line, e.g. `231 rows: 219 ready, 12 need fixing, 3 blank rows
    skipped. Importing takes about 1 h 30 min.`"""
    fixing = f"{need_fixing} {'needs' if need_fixing == 1 else 'need'} fixing"
    line = (
        f"{plural(rows, 'row')}: {ready} ready, {fixing}, {plural(skipped, 'blank row')} skipped."
    )
    if ready == 0:
        return f"{line} Nothing can be imported until the rows are fixed."
    return f"{line} Importing takes {duration(seconds)}."


def rows_done(done: int, total: int) -> str:
    return f"{done} of {plural(total, 'row')} done"
