"""The two-column `Summary` sheet every workbook ends with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from xlsxwriter.workbook import Workbook

from importer.core.outcomes import RowStatus
from importer.io.workbooks.sheets import EXCEL_MAX_ROWS, Styles, write_table

SUMMARY_SHEET = "Summary"
SUMMARY_COLUMNS: tuple[str, ...] = ("Item", "Value")


@dataclass
class Summary:
    """What a run or a validation did, for the two-column `Summary` sheet.

    `counts` is keyed by RowStatus value; any other key (e.g. "Skipped (blank)")
    is listed after the statuses. `extra` holds further lines (rows read, sheet,
    rate, state dir...) shown last, in the order given.
    """

    counts: dict[str, int]
    input_name: str
    input_sha256: str
    mapping: str
    mode: str  # "async", "sync" or "validate"
    started: datetime
    finished: datetime
    api_calls: int = 0
    rate_limited: int = 0
    retries: int = 0
    extra: dict[str, str | int] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str | int]]:
        """The (Item, Value) lines: what ran, then counts per status, then API usage."""
        lines: list[tuple[str, str | int]] = [
            ("Input", self.input_name),
            ("Input SHA-256", self.input_sha256),
            ("Mapping", self.mapping),
            ("Mode", self.mode),
            ("Started", _timestamp(self.started)),
            ("Finished", _timestamp(self.finished)),
            ("Duration", _duration(self.finished - self.started)),
        ]
        if self.mode == "validate":  # a dry run: no API verdicts, no calls
            lines += [(str(key), int(n)) for key, n in self.counts.items()]
            lines += [(key, value) for key, value in self.extra.items() if value != ""]
            return lines
        statuses = [status.value for status in RowStatus]
        lines += [(status, int(self.counts.get(status, 0))) for status in statuses]
        lines.append(("Total rows", sum(int(self.counts.get(status, 0)) for status in statuses)))
        lines += [(str(key), int(n)) for key, n in self.counts.items() if key not in statuses]
        lines += [
            ("API calls", self.api_calls),
            ("Rate limited (429)", self.rate_limited),
            ("Retries", self.retries),
        ]
        lines += list(self.extra.items())
        return lines


FIXED_CELL = "Fixed cell"  # a Summary line per cell fixed before the run (the page's fix in place)


def fixed_lines(fixed: Sequence[str], start: int = 1) -> dict[str, str | int]:
    """`Fixed cell 1`, `Fixed cell 2`...: each cell fixed on the page, in the Summary
    (numbered on from `start` when a workbook already lists some)."""
    return {f"{FIXED_CELL} {i}": sentence for i, sentence in enumerate(fixed, start)}


def write_summary(workbook: Workbook, styles: Styles, summary: Summary) -> None:
    lines = summary.rows()
    write_table(workbook, styles, SUMMARY_SHEET, list(SUMMARY_COLUMNS), lines, EXCEL_MAX_ROWS - 1)


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds")


def _duration(span: timedelta) -> str:
    return str(timedelta(seconds=round(span.total_seconds())))
