"""Sent forms: each cell text becomes the text LeadSquared receives (CONTRACT section 5).

A text a normaliser cannot read is kept as it is, and the type check (which looks
for the canonical form) rejects it. pandas without pyarrow runs every `.str`
method as a Python loop, so each distinct cell text goes once through a small
function here; common shapes are rewritten in bulk through `CodePoints`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd

from importer.core.constants import DATE_FORMAT, DATETIME_FORMAT
from importer.rules.codepoints import DIGITS, CodePoints
from importer.rules.mapping import FieldSpec

_NUMBER_IN = re.compile(
    r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{2,3})*,[0-9]{3}|[0-9]+)(?:\.[0-9]*)?|[+-]?\.[0-9]+"
)
_GROUPED_INTEGER = re.compile(r"[0-9]{1,3}(?:,[0-9]{2,3})*,[0-9]{3}")  # 1,20,000 / 120,000
_EXPONENT_IN = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]{1,2}")
_PHONE_CELL = re.compile(r"(\+?[0-9]+)\.0+")  # a phone read from a number cell: 9876543210.0
_PHONE_NOISE = re.compile(r"[\s().]")
_ISO_IN = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?)?"
)
_BOOLEAN_IN = {"true": "true", "yes": "true", "y": "true", "1": "true"} | {
    "false": "false",
    "no": "false",
    "n": "false",
    "0": "false",
}
# Plain ASCII addresses this pattern accepts are always accepted by email-validator
# (lengths, labels and its special-use domains included); everything else (rare)


def sent_number(text: str) -> str:
    """`1,20,000` → `120000`, `1,200.50` → `1200.5`, `3.0` → `3`, `1.2E+5` → `120000`."""
    if text.isascii() and text.isdigit() and text[0] != "0":
        return text  # the common case, already in its sent form
    if _GROUPED_INTEGER.fullmatch(text):
        return text.replace(",", "").lstrip("0") or "0"
    if _NUMBER_IN.fullmatch(text):
        body = text.replace(",", "")
    elif _EXPONENT_IN.fullmatch(text):  # exponent capped at 2 digits: bounded output
        body = format(Decimal(text), "f")
    else:
        return text
    whole, _, fraction = body.lstrip("+-").partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    number = f"{whole}.{fraction}" if fraction else whole
    return f"-{number}" if body.startswith("-") and number != "0" else number


def sent_phone(text: str) -> str:
    """Keep `+`, digits and dashes; `9876543210.0` (a number cell) → `9876543210`."""
    if text.isdigit():
        return text
    cell = _PHONE_CELL.fullmatch(text) if "." in text else None
    if cell:
        return cell.group(1)
    compact = text.replace(" ", "").replace("(", "").replace(")", "").replace(".", "")
    if compact.isascii() and compact.isprintable():
        return compact
    return _PHONE_NOISE.sub("", compact)  # tabs, non-breaking and other Unicode spaces


def sent_boolean(text: str) -> str:
    return _BOOLEAN_IN.get(text.casefold(), text)


def _sent_when(texts: list[str], formats: list[str], with_time: bool) -> list[str]:
    """ISO text (any zero padding, optional time) or one of the mapping's formats."""
    out_format = DATETIME_FORMAT if with_time else DATE_FORMAT
    out = list(texts)
    todo: list[int] = []
    for position, text in enumerate(texts):
        match = _ISO_IN.fullmatch(text)
        if match is None:
            todo.append(position)
            continue
        year, month, day, hour, minute, second = match.groups(default="0")
        built = f"{year}-{month.zfill(2)}-{day.zfill(2)}"
        if with_time:
            built += f" {hour.zfill(2)}:{minute.zfill(2)}:{second.zfill(2)}"
        elif int(hour) or int(minute) or int(second):
            continue  # a date with a time of day is not a date: left for the check to reject
        out[position] = built
    for fmt in formats:
        if not todo:
            break
        parsed = pd.to_datetime(as_series([texts[i] for i in todo]), format=fmt, errors="coerce")
        if not with_time:
            parsed = parsed.where(parsed == parsed.dt.normalize())
        written = parsed.dt.strftime(out_format)
        still = []
        for position, when in zip(todo, written, strict=True):
            if isinstance(when, str):
                out[position] = when
            else:
                still.append(position)
        todo = still
    return out


def _sent_numbers(texts: list[str]) -> list[str]:
    """`sent_number` of every text; plain digits and `1,20,000` groupings in bulk."""
    chars = CodePoints(texts)
    digits = chars.only(DIGITS)
    first = chars.points[:, 0]
    plain = digits & ((first != ord("0")) | (chars.lengths == 0))
    grouped = ~digits & chars.only(DIGITS + ",") & _grouped(chars)
    sent = chars.array.astype(object)
    if grouped.any():
        bare = np.strings.lstrip(np.strings.replace(chars.array[grouped], ",", ""), "0")
        sent[grouped] = np.where(np.strings.str_len(bare) == 0, "0", bare).tolist()
    done = plain | grouped
    return chars.texts_out(done, sent[done], sent_number)


def _grouped(chars: CodePoints) -> np.ndarray:
    """Rows of digits and commas shaped as `_GROUPED_INTEGER`: 1-3, then 2-3, last 3 digits."""
    comma = chars.where(",")
    width = comma.shape[1]
    first = np.where(comma.any(axis=1), comma.argmax(axis=1), -1)
    last = width - 1 - comma[:, ::-1].argmax(axis=1)
    shaped = (first >= 1) & (first <= 3) & (chars.lengths - last == 4)
    rows, columns = np.nonzero(comma)
    same_row = rows[1:] == rows[:-1]
    gap = columns[1:] - columns[:-1]
    shaped[rows[1:][same_row & ((gap < 3) | (gap > 4))]] = False
    return shaped


def _sent_phones(texts: list[str]) -> list[str]:
    """`sent_phone` of every text; digits with `+ - ( )` and spaces in bulk."""
    chars = CodePoints(texts)
    easy = chars.only(DIGITS + "+-() ")
    compact = chars.array[easy]
    for noise in " ()" if len(compact) else "":  # numpy's replace fails on an empty array
        compact = np.strings.replace(compact, noise, "")
    return chars.texts_out(easy, compact, sent_phone)


Normaliser = Callable[[list[str], FieldSpec], list[str]]
_NORMALISERS: dict[str, Normaliser] = {
    "number": lambda texts, _spec: _sent_numbers(texts),
    "integer": lambda texts, _spec: _sent_numbers(texts),
    "phone": lambda texts, _spec: _sent_phones(texts),
    "boolean": lambda texts, _spec: [sent_boolean(text) for text in texts],
    "date": lambda texts, spec: _sent_when(texts, spec.format or [], with_time=False),
    "datetime": lambda texts, spec: _sent_when(texts, spec.format or [], with_time=True),
}


def normalise(texts: list[str], spec: FieldSpec) -> list[str]:
    """Trimmed texts → the forms sent: canonical number/phone/date, listed spelling."""
    normaliser = _NORMALISERS.get(spec.type)
    if normaliser is not None:
        texts = normaliser(texts, spec)
    if spec.allowed:
        spelling = {item.strip().casefold(): item for item in spec.allowed}
        texts = [spelling.get(text.casefold(), text) for text in texts]
    return texts


def as_series(items: object) -> pd.Series:
    """An object-dtype Series of str (pandas would otherwise re-check every string)."""
    return pd.Series(np.asarray(items, dtype=object), dtype=object)
