"""Cells as text: what a spreadsheet shows, and whether a row holds anything at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd


def _float_text(value: float) -> str:
    """Plain decimal text: `9812345678.0` -> `9812345678`, `1e-07` -> `0.0000001`."""
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def _datetime_text(value: datetime) -> str:
    """`yyyy-mm-dd hh:mm:ss`, or just the date when the time is exactly midnight."""
    if value.microsecond:
        if value.microsecond >= 500_000:  # an Excel serial may land on hh:mm:59.999
            value += timedelta(seconds=1)
        value = value.replace(microsecond=0)
    if value.hour or value.minute or value.second:
        return value.isoformat(" ")
    return value.date().isoformat()


def _time_text(value: time) -> str:
    return value.replace(microsecond=0).isoformat()


def _bool_text(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def _none_text(value: None) -> str:
    return ""


_CELL_TEXT: dict[type, Callable[[Any], str]] = {
    float: _float_text,
    int: str,
    bool: _bool_text,
    datetime: _datetime_text,
    date: date.isoformat,
    time: _time_text,
    timedelta: str,
    type(None): _none_text,
}


def row_texts(row: list[Any]) -> list[str]:
    """Cells as python-calamine returns them, as text; the hot loop of workbook loading."""
    text = _CELL_TEXT
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
    try:
        return np.fromiter(map(bool, map(str.strip, values)), dtype=bool, count=len(values))
    except TypeError:  # a cell that is not text (a missing value): judged one by one
        return np.fromiter(
            (isinstance(v, str) and bool(v.strip()) for v in values), dtype=bool, count=len(values)
        )
