"""The one rule for turning a cell value into the text a user sees in the spreadsheet.

Used by the loader (input cells), the results reader (cells read back) and the
mapping (YAML scalars): a number without a trailing `.0`, a date as `yyyy-mm-dd`,
a date-time as `yyyy-mm-dd hh:mm:ss` (the date alone at midnight).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any


def _float_text(value: float) -> str:
    """Plain decimal text: `9812345678.0` -> `9812345678`, `1e-07` -> `0.0000001`."""
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def _datetime_text(value: datetime) -> str:
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
    return "TRUE" if value else "FALSE"  # as Excel shows a logical cell


def _none_text(value: None) -> str:
    return ""


CELL_TEXT: dict[type, Callable[[Any], str]] = {
    str: str,
    float: _float_text,
    int: str,
    bool: _bool_text,
    datetime: _datetime_text,
    date: date.isoformat,
    time: _time_text,
    timedelta: str,
    type(None): _none_text,
}


def cell_text(value: Any) -> str:
    """`value` as the text a spreadsheet shows."""
    return CELL_TEXT.get(value.__class__, str)(value)
