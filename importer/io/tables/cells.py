"""Cells as text: what a spreadsheet shows, and whether a row holds anything at all."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from importer.core.text import CELL_TEXT

# What a cell shows when its formula failed; never a value to send.
EXCEL_ERRORS = frozenset(
    {
        "#N/A",
        "#REF!",
        "#DIV/0!",
        "#VALUE!",
        "#NAME?",
        "#NULL!",
        "#NUM!",
        "#SPILL!",
        "#CALC!",
        "#GETTING_DATA",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
    }
)


def excel_error(text: str) -> str | None:
    """The Excel error a cell text shows (`#N/A`, `#ref!` as `#REF!`), or None."""
    if not text.startswith("#"):
        return None
    code = text.upper()
    return code if code in EXCEL_ERRORS else None


def row_texts(row: list[Any]) -> list[str]:
    """Cells as python-calamine returns them, as text; the hot loop of workbook loading."""
    text = CELL_TEXT
    return [c if c.__class__ is str else text.get(c.__class__, str)(c) for c in row]


def is_blank(texts: list[str]) -> bool:
    """True when every cell is empty or only whitespace."""
    if not any(texts):
        return True
    return "".join(texts).isspace()


def blank_mask(frame: pd.DataFrame) -> np.ndarray:
    """True for rows whose every cell is empty or whitespace.

    Columns are looked at left to right and only for rows still undecided, so a
    typical frame costs about one column of Python string checks.
    """
    blank = np.ones(len(frame), dtype=bool)
    for position in range(frame.shape[1]):
        undecided = np.flatnonzero(blank)
        if not undecided.size:
            break
        values = frame.iloc[undecided, position].to_numpy(dtype=object).tolist()
        blank[undecided[_filled(values)]] = False
    return blank


def _filled(values: list[Any]) -> np.ndarray:
    """True for a cell with something besides whitespace (strip is C: no Python frame each)."""
    if not any(values):  # every cell empty (a spare column): one C pass, nothing to strip
        return np.zeros(len(values), dtype=bool)
    try:
        return np.fromiter(map(bool, map(str.strip, values)), dtype=bool, count=len(values))
    except TypeError:  # a cell that is not text (a missing value): judged one by one
        return np.fromiter(
            (isinstance(v, str) and bool(v.strip()) for v in values), dtype=bool, count=len(values)
        )
