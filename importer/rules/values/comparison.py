"""Comparing what was sent with what LeadSquared stores (for `verify`).

The docs show a number sent as "200000" listed as "200,000", and a date field
answering `yyyy-mm-dd 00:00:00` for a `yyyy-mm-dd` sent: such pairs are equal.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_GROUPED_NUMBER = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{2,3})*(?:\.[0-9]+)?")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DAY = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?: 00:00:00)?")


def values_match(sent: str, stored: str, *, ignore_case: bool = False) -> bool:
    """Equal as LeadSquared may store them: trimmed, as numbers, or as the same day.

    The docs show a number sent as "200000" listed as "200,000", and a date field
    answers `yyyy-mm-dd 00:00:00` for a `yyyy-mm-dd` sent.
    """
    a, b = sent.strip(), stored.strip()
    if ignore_case:
        a, b = a.casefold(), b.casefold()
    if a == b:
        return True
    number = _as_number(a)
    if number is not None and number == _as_number(b):
        return True
    day = _as_day(a)
    return day is not None and day == _as_day(b)


def _as_number(text: str) -> Decimal | None:
    if not (_PLAIN_NUMBER.fullmatch(text) or _GROUPED_NUMBER.fullmatch(text)):
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def _as_day(text: str) -> str | None:
    match = _DAY.fullmatch(text)
    return match.group(1) if match else None


def stored_value(item: dict[str, Any], schema_name: str) -> tuple[bool, str]:
    """(returned?, value as text) of a field in a listed opportunity, name ignoring case."""
    if schema_name in item:
        value = item[schema_name]
    else:
        wanted = schema_name.casefold()
        keys = [key for key in item if str(key).casefold() == wanted]
        if not keys:
            return False, ""
        value = item[keys[0]]
    return True, "" if value is None else str(value)
