"""How the page says things: the dry run's verdict, how long an import takes, counts.

In the words of someone who knows Excel: rows, ready, need fixing; never payloads or codes.
"""

from __future__ import annotations

import re

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


_NAME = r'(?:"([^"]+)"|\'([^\']+)\'|(\S+))'  # a sheet name as the CLI quotes it
_FLAGS = [  # the CLI's flags, said as the page's own choices (its "Check again" form)
    (
        re.compile(r"use --sheet " + _NAME + r"(?: --header-row (\d+))?"),
        lambda m: (
            f'choose sheet "{m[1] or m[2] or m[3]}"'
            + (f" and header row {m[4]}" if m[4] else "")
            + ' under "Check again" below'
        ),
    ),
    (
        re.compile(r"use --header-row (\d+)"),
        lambda m: f'type {m[1]} as the header row under "Check again" below',
    ),
    (
        re.compile(r"\(give --header-row to choose another row\)"),
        lambda m: '(type another header row under "Check again" to read another one)',
    ),
    (
        re.compile(r"give the row that holds the headers with --header-row"),
        lambda m: 'type the row that holds the headers under "Check again" below',
    ),
    (
        re.compile(r"give --sheet " + _NAME + r" to validate and run"),
        lambda m: "the check and the import read that sheet too",
    ),
    (re.compile(r"--header-row must be"), lambda m: "The header row must be"),
]


def page_words(message: str) -> str:
    """A message of the importer with its CLI flags (`--sheet`, `--header-row`) said as
    the page's choices: the page has no flags."""
    for pattern, words in _FLAGS:
        message = pattern.sub(words, message)
    return message
