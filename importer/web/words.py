"""How the page says things: the dry run's verdict, how long an import takes, counts.

In the words of someone who knows Excel: rows, ready, need fixing; never payloads or codes.
"""

from __future__ import annotations

from importer.core import estimate

CANCELLED_TEXT = "Cancelled. The import can be resumed: rows already sent will not be sent again"


def duration(seconds: float) -> str:
    """`about 40 s`, `about 1 min 30 s`, `about 1 h 30 min`: the words `validate` uses too."""
    return estimate.duration(seconds)


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def verdict(rows: int, ready: int, need_fixing: int, skipped: int, seconds: float) -> str:
    """The dry run in one line, e.g. `231 rows: 219 ready, 12 need fixing, 3 blank rows
    skipped. Importing takes about 1 h 30 min.`"""
    fixing = f"{need_fixing:,} {'needs' if need_fixing == 1 else 'need'} fixing"
    line = (
        f"{plural(rows, 'row')}: {ready:,} ready, {fixing}, {plural(skipped, 'blank row')} skipped."
    )
    if ready == 0:
        return f"{line} Nothing can be imported until the rows are fixed."
    return f"{line} Importing takes {duration(seconds)}."


def rows_done(done: int, total: int) -> str:
    return f"{done:,} of {plural(total, 'row')} done"
