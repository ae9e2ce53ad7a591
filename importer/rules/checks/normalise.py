"""Sent forms: each cell text becomes the text LeadSquared receives (CONTRACT section 5).

A text a normaliser cannot read is kept as it is, and the type check (which looks
for the canonical form) rejects it. pandas without pyarrow runs every `.str`
method as a Python loop, so each distinct cell text goes once through a small
function here; common shapes are rewritten in bulk through `CodePoints`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from importer.core.constants import DATE_FORMAT, DATETIME_FORMAT
from importer.rules.mapping.mapping import FieldSpec, Mapping
from importer.rules.values.codepoints import DIGITS, CodePoints
from importer.rules.values.dates import sent_date
from importer.rules.values.phones import PhoneReader, legacy_phone

_NUMBER_IN = re.compile(
    r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{2,3})*,[0-9]{3}|[0-9]+)(?:\.[0-9]*)?|[+-]?\.[0-9]+"
)
_GROUPED_INTEGER = re.compile(r"[0-9]{1,3}(?:,[0-9]{2,3})*,[0-9]{3}")  # 1,20,000 / 120,000
_EXPONENT_IN = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]{1,2}")
# An amount as exports write it: `₹ 1,20,000`, `Rs. 50,000/-`, `50,000.00 INR`, `$1,200.50`.
_CURRENCY_WORDS = r"(?:₹|rs\.?|inr|\$|usd|us\$|€|eur|£|gbp|aed|sgd)"
_AMOUNT = re.compile(
    rf"(?i:{_CURRENCY_WORDS})?\s*(?P<number>[+-]?[0-9.,]+(?:[eE][+-]?[0-9]+)?)\s*(?:/-)?\s*"
    rf"(?i:{_CURRENCY_WORDS})?"
)
_SENT_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?")
# Amounts in lakh and crore, as Indian sales teams write them: `2.5L`, `2.5 lakh`, `1.5 Cr`.
_INDIAN_UNITS = {"l": 5, "lac": 5, "lacs": 5, "lakh": 5, "lakhs": 5}
_INDIAN_UNITS |= {"cr": 7, "crs": 7, "crore": 7, "crores": 7}
_IN_UNITS = re.compile(
    rf"(?i:{_CURRENCY_WORDS})?\s*(?P<number>[0-9]+(?:\.[0-9]+)?)\s*"
    r"(?P<unit>(?i:lakhs?|lacs?|l|crores?|crs?))\.?(?:\s*/-)?"
)
_SIGNED_AMOUNT = re.compile(rf"(?P<sign>[+-])\s*(?i:{_CURRENCY_WORDS})\s*(?P<rest>.*)")
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
    """`1,20,000` → `120000`, `1,200.50` → `1200.5`, `3.0` → `3`, `1.2E+5` → `120000`.

    A currency sign or word (`₹`, `Rs.`, `INR`, `$`...) before or after, and the
    Indian `/-` after, are dropped: `Rs. 50,000/-` → `50000`; lakh and crore are read:
    `2.5L`, `2.5 lakh` → `250000`, `1.5 Cr`, `1.5 crore` → `15000000`.
    """
    if text.isascii() and text.isdigit() and text[0] != "0":
        return text  # the common case, already in its sent form
    in_units = _IN_UNITS.fullmatch(text)
    if in_units is not None:  # 2.5 lakh → 250000, 1.5 Cr → 15000000
        power = _INDIAN_UNITS[in_units["unit"].casefold()]
        return sent_number(format(Decimal(in_units["number"]).scaleb(power), "f"))
    bare = _plain_amount(text)
    if bare != text:
        sent = sent_number(bare)
        return sent if _SENT_NUMBER.fullmatch(sent) else text
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


def _plain_amount(text: str) -> str:
    """The number inside an amount with a currency (`₹ 1,20,000` → `1,20,000`), else `text`."""
    signed = _SIGNED_AMOUNT.fullmatch(text)
    if signed is not None:  # -₹500
        text = signed["sign"] + signed["rest"]
    match = _AMOUNT.fullmatch(text)
    if match is None or match["number"] == text:
        return text
    return match["number"]


def sent_phone(text: str) -> str:
    """Without a default country: keep `+`, digits and dashes; `9876543210.0` → `9876543210`."""
    return legacy_phone(text)


def sent_boolean(text: str) -> str:
    return _BOOLEAN_IN.get(text.casefold(), text)


def _sent_when(texts: list[str], formats: list[str], with_time: bool, order: str) -> list[str]:
    """ISO text (any zero padding, optional time), one of the mapping's formats, or a plain date."""
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
        still: list[int] = []
        for position, when in zip(todo, written, strict=True):
            if isinstance(when, str):
                out[position] = when
            else:
                still.append(position)
        todo = still
    for position in todo:
        found = sent_date(texts[position], order, with_time)
        if found is not None:
            out[position] = found
    return out


def _sent_numbers(texts: list[str]) -> list[str]:
    """`sent_number` of every text; plain digits and `1,20,000` groupings in bulk."""
    chars = CodePoints(texts)
    digits = chars.only(DIGITS)
    first = chars.points[:, 0]
    plain = digits & ((first != ord("0")) | (chars.lengths == 0))
    grouped = ~digits & chars.only(DIGITS + ",") & _grouped(chars)
    sent = np.asarray(texts, dtype=object)[chars.fits]
    if grouped.any():  # str methods beat numpy's string functions on a few thousand texts
        bare = [text.replace(",", "").lstrip("0") or "0" for text in sent[grouped].tolist()]
        sent[grouped] = bare
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
    result: np.ndarray = shaped
    return result


@dataclass
class Readers:
    """What reading values needs beyond one field: the mapping's country and date order.

    The phone reader remembers the numbers it refused, so the type check can reject
    them even when they look like a sent phone (`+91-12345`).
    """

    date_order: str = "DMY"
    phones: PhoneReader = field(default_factory=lambda: PhoneReader(None))

    @classmethod
    def of(cls, mapping: Mapping) -> Readers:
        return cls(mapping.date_order, PhoneReader(mapping.default_country))


Normaliser = Callable[[list[str], FieldSpec, Readers], list[str]]
_NORMALISERS: dict[str, Normaliser] = {
    "number": lambda texts, _spec, _readers: _sent_numbers(texts),
    "integer": lambda texts, _spec, _readers: _sent_numbers(texts),
    "phone": lambda texts, _spec, readers: readers.phones.sent(texts),
    "boolean": lambda texts, _spec, _readers: [sent_boolean(text) for text in texts],
    "date": lambda texts, spec, readers: _sent_when(
        texts, spec.format or [], False, readers.date_order
    ),
    "datetime": lambda texts, spec, readers: _sent_when(
        texts, spec.format or [], True, readers.date_order
    ),
}


def normalise(texts: list[str], spec: FieldSpec, readers: Readers | None = None) -> list[str]:
    """Trimmed texts → the forms sent: canonical number/phone/date, listed spelling."""
    normaliser = _NORMALISERS.get(spec.type)
    if normaliser is not None:
        texts = normaliser(texts, spec, readers or Readers())
    if spec.allowed:
        spelling = {item.strip().casefold(): item for item in spec.allowed}
        texts = [spelling.get(text.casefold(), text) for text in texts]
    return texts


def as_series(items: object) -> pd.Series:
    """An object-dtype Series of str (pandas would otherwise re-check every string)."""
    return pd.Series(np.asarray(items, dtype=object), dtype=object, copy=False)
