"""Helpers several test modules share (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from importer.core.outcomes import RowError, RowOutcome
from importer.core.text import cell_text
from importer.io.workbooks.reader import ResultsReader
from importer.sandbox import RunningSandbox


@dataclass
class Book:
    """A results workbook read back whole: small workbooks in tests only."""

    input_headers: list[str]
    rows: list[tuple[list[str], RowOutcome]]
    errors: list[RowError]
    summary: dict[str, str]
    extra_columns: list[str]


def read_results(path: Path) -> Book:
    with ResultsReader(path) as reader:
        layout = reader.layout
        rows = [
            (
                [
                    cell_text(row.cells[i]) if row.cells[i] is not None else ""
                    for i in layout.inputs
                ],
                row.outcome,
            )
            for row in reader.rows()
        ]
        return Book(
            input_headers=layout.input_headers,
            rows=rows,
            errors=list(reader.errors()),
            summary=reader.summary(),
            extra_columns=list(layout.share_at),
        )


# The top of every capture mapping the tests write.
CAPTURE_HEAD = """\
version: 1
operation: capture
opportunity_event_code: 12000
search_by: EmailAddress
"""
# A lead by its email and an opportunity by its name: the least a capture needs.
NAME_MAPPING = (
    CAPTURE_HEAD
    + """\
lead:
  EmailAddress: {column: Email, type: email, required: true}
opportunity:
  mx_Custom_1: {column: Opportunity Name, required: true}
"""
)
# Loans by email: the mapping most tests import with.
LOAN_MAPPING = (
    CAPTURE_HEAD
    + """\
lead:
  EmailAddress: {column: Email, type: email, required: true}
  FirstName: First Name
opportunity:
  mx_Custom_1: {column: Opportunity Name, required: true}
  mx_Custom_6: {column: Loan Amount, type: number, min: 0}
"""
)


def sandbox_env(running: RunningSandbox, **extra: str) -> dict[str, str]:
    """This process's environment without any LSQ_ setting, aimed at `running`, fast paced."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSQ_")}
    return env | running.env() | {"LSQ_RATE": "1000/5s"} | extra


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds (a test never sleeps a fixed time for a state)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def queue_done(running: RunningSandbox) -> bool:
    """Every async request the sandbox accepted has left its queue."""
    return all(r["Status"] != "In-Queue" for r in running.sandbox.snapshot()["requests"])


# No required_if on the comment: LeadSquared (the sandbox) is the one that refuses row 3.
REFUSED_MAPPING = (
    CAPTURE_HEAD
    + """\
lead:
  EmailAddress: {column: Email, type: email, required: true}
opportunity:
  mx_Custom_1: {column: Opportunity Name, required: true}
  Status: {column: Status, allowed: [Open, Won, Lost], default: Open}
  mx_Custom_19: {column: Status Comment}
"""
)
REFUSED_CSV = """\
Email,Opportunity Name,Status,Status Comment
a@example.com,Loan A,Open,
b@example.com,Loan B,Won,
c@example.com,Loan C,Lost,Too costly
"""
