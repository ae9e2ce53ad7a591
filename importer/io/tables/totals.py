"""A totals row at the bottom of a sheet (`Total`, `Grand Total:`) is not an opportunity.

Only the last non-blank row can be one, so the loader holds back a chunk's last row
while it looks like a totals row, and gives it back if more rows follow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pandas as pd

from importer.core.text import cell_text

if TYPE_CHECKING:
    from importer.io.tables.table import Table

_LABEL = re.compile(r"(?i:grand\s+total|totals?|sub\s*total)\s*:?")
# A number as a totals row shows it: `1,20,000`, `-5.5`, `₹ 50,000`, `12%`.
_NUMBER = re.compile(r"[-+]?\s*(?i:₹|rs\.?|inr|\$|€|£)?\s*[0-9][0-9,]*(?:\.[0-9]+)?\s*%?")


def is_totals_row(cells: list[str]) -> bool:
    """First filled cell `Total`/`Grand Total`/`Totals` (any case, colon or not), rest numbers."""
    filled = [cell.strip() for cell in cells if cell.strip()]
    if not filled or not _LABEL.fullmatch(filled[0]):
        return False
    return all(_NUMBER.fullmatch(cell) for cell in filled[1:])


def without_totals_row(frames: Iterator[pd.DataFrame], table: Table) -> Iterator[pd.DataFrame]:
    """`frames` minus a trailing totals row, counted in `table.total_rows`."""
    held: pd.DataFrame | None = None
    for frame in frames:
        if held is not None:
            frame = pd.concat([held, frame])
            held = None
        if len(frame) and is_totals_row([cell_text(cell) for cell in frame.iloc[-1].tolist()]):
            held, frame = frame.iloc[-1:], frame.iloc[:-1]
        if len(frame):
            yield frame
    if held is not None:
        table.total_rows += 1
