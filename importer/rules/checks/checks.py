"""Tests of sent values: is this text a canonical number, phone, date, email...

The checked frame holds each column as a Categorical (its distinct sent texts plus
one code per row), so a per-value test runs once per distinct text.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from itertools import filterfalse

import numpy as np
import pandas as pd
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from importer.core.constants import DATE_FORMAT, DATETIME_FORMAT
from importer.rules.checks.normalise import as_series
from importer.rules.values.codepoints import DIGITS, CodePoints

_NUMBER_OUT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?")
_INTEGER_OUT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_PHONE_OUT = re.compile(r"\+?[0-9](?:-?[0-9]){6,14}")  # 7 to 15 digits, dashes between
_DATE_OUT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_OUT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_SPECIAL_DOMAINS = "|".join(map(re.escape, SPECIAL_USE_DOMAIN_NAMES))
_SPECIAL_STARTS = "".join(sorted({name[0] for name in SPECIAL_USE_DOMAIN_NAMES}))
_SPECIAL_STARTS += _SPECIAL_STARTS.upper()  # first letters, for a cheap look before the names
# Plain ASCII addresses this pattern accepts are always accepted by email-validator
# (lengths, labels and its special-use domains included); everything else (rare)
# goes through email-validator itself, cached.
_SIMPLE_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)(?=.{1,254}\Z)"
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?!(?i:" + _SPECIAL_DOMAINS + r")\Z)[A-Za-z]{2,63}"
)
# _SIMPLE_EMAIL again, one address a line, for a column joined by newlines: possessive
# runs (nothing to backtrack into) and no length rules, which cannot fail on a line of
# at most 64 characters (the lookahead keeps longer lines out). One C call per column
# instead of one per value: about half the time.
_EMAIL_LINES = re.compile(
    r"^(?=.{1,64}$)[A-Za-z0-9_%+-]++(?:\.[A-Za-z0-9_%+-]++)*+"
    r"@(?:[A-Za-z0-9]++(?:-++[A-Za-z0-9]++)*+\.)++"
    # (?=[first letters]) lets the common top-level domains skip the special-use names
    r"(?!(?=[" + _SPECIAL_STARTS + r"])(?i:" + _SPECIAL_DOMAINS + r")$)[A-Za-z]{2,63}+$",
    re.MULTILINE,
)
_EMAIL_CACHE_LIMIT = 500_000
REMEMBERED = 100_000  # distinct texts of one column whose verdicts are kept between chunks

Test = Callable[[pd.Series], "np.ndarray | pd.Series"]


def per_value(test: Test, remember: bool = False) -> Callable[[pd.Series], pd.Series]:
    """Run `test` on the distinct values of a column and spread the verdicts to its rows.

    With `remember` (for a test that looks at the text alone), the verdicts on a
    repeating column's values are kept from chunk to chunk: a later chunk tests only
    the values it is the first to hold.
    """
    known: dict[str, bool] = {}

    def verdicts(distinct: list[str]) -> np.ndarray:
        if not remember:
            return np.asarray(test(as_series(distinct)), dtype=bool)
        if len(known) > REMEMBERED:
            known.clear()
        new = list(filterfalse(known.__contains__, distinct))  # a C loop, no frame per text
        if new:
            found: list[bool] = np.asarray(test(as_series(new)), dtype=bool).tolist()
            known.update(zip(new, found, strict=True))
        return np.fromiter(map(known.__getitem__, distinct), dtype=bool, count=len(distinct))

    def check(values: pd.Series) -> pd.Series:
        if isinstance(values.dtype, pd.CategoricalDtype):
            verdict = verdicts(values.cat.categories.tolist())
            codes = values.cat.codes.to_numpy()
            return pd.Series(verdict[codes] if len(verdict) else False, index=values.index)
        return pd.Series(np.asarray(test(as_series(values)), dtype=bool), index=values.index)

    return check


def filled(values: pd.Series) -> np.ndarray:
    """Not empty; a column with no gap is known from one C pass (`all`)."""
    texts = values.tolist()
    if all(texts):
        return np.ones(len(texts), dtype=bool)
    return np.fromiter(map(bool, texts), dtype=bool, count=len(texts))


def matches(values: pd.Series, pattern: re.Pattern[str]) -> np.ndarray:
    """Full match of every value (map over a C method: no Python frame per value)."""
    return np.fromiter(map(bool, map(pattern.fullmatch, values.tolist())), bool, len(values))


def lengths(values: pd.Series) -> np.ndarray:
    return np.fromiter(map(len, values.tolist()), np.int64, len(values))


def _canonical(
    pattern: re.Pattern[str], shape: Callable[[CodePoints], tuple[np.ndarray, np.ndarray]]
) -> Test:
    """`pattern` decides; the common shapes (`shape` marks them) are judged in bulk first."""

    def test(values: pd.Series) -> np.ndarray:
        chars = CodePoints(values.tolist())
        done, verdict = shape(chars)
        return chars.verdicts(done, verdict, lambda text: text == "" or _full(pattern, text))

    return test


def _full(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.fullmatch(text) is not None


def _number_shape(chars: CodePoints) -> tuple[np.ndarray, np.ndarray]:
    """Plain digits (or nothing): canonical unless a leading zero starts a longer number."""
    done = chars.only(DIGITS)
    canonical = (chars.points[:, 0] != ord("0")) | (chars.lengths <= 1)
    return done, canonical[done]


def _phone_shape(chars: CodePoints) -> tuple[np.ndarray, np.ndarray]:
    """`+`, digits and dashes: `+` first if at all, single dashes between digits, 7-15 digits."""
    done = chars.only(DIGITS + "+-")
    digit, plus, dash = chars.where(DIGITS), chars.where("+"), chars.where("-")
    leading_plus = plus[:, 0]
    count = digit.sum(axis=1)
    canonical = (
        (plus.sum(axis=1) == leading_plus)
        & (chars.at(leading_plus.astype(np.int64)) != ord("-"))
        & (chars.at(chars.lengths - 1) != ord("-"))
        & ~(dash[:, 1:] & dash[:, :-1]).any(axis=1)
        & (count >= 7)
        & (count <= 15)
    )
    return done, (canonical | (chars.lengths == 0))[done]


def phone_test(refused: set[str], with_country: bool) -> Test:
    """Sent phones: not a number the phone reader refused, and canonical if read the old way.

    The reader turns every number it reads through phonenumbers (all of them with a
    default country, those starting with `+` without one) into `+CC-NATIONAL` and
    keeps the text of each number it refuses; only the rest (no country, no `+`) is
    judged by its shape.
    """

    def test(values: pd.Series) -> np.ndarray:
        texts = values.tolist()
        if with_country:
            verdict = np.ones(len(texts), dtype=bool)
        else:
            verdict = np.asarray(np.array(texts, dtype="U1") == "+")  # the first characters
            others = np.flatnonzero(~verdict)
            if len(others):
                rest = as_series([texts[i] for i in others.tolist()])
                verdict[others] = np.asarray(_LEGACY(rest), dtype=bool)
        if refused:
            verdict &= ~values.isin(refused).to_numpy()
        return verdict

    return test


def _when(canonical: re.Pattern[str], fmt: str) -> Test:
    def test(values: pd.Series) -> pd.Series:
        shaped = pd.Series(matches(values, canonical), index=values.index)
        real = pd.to_datetime(values.where(shaped), format=fmt, errors="coerce").notna()
        return (values == "") | (shaped & real)

    return test


class EmailTest:
    """Email validity: a fast pattern for plain addresses, email-validator (cached) for the rest."""

    def __init__(self) -> None:
        self._cache: dict[str, bool] = {}

    def __call__(self, values: pd.Series) -> np.ndarray:
        texts = values.tolist()
        verdict = plain_emails(texts)
        for position in np.flatnonzero(~verdict).tolist():
            text = str(texts[position])
            verdict[position] = text == "" or _full(_SIMPLE_EMAIL, text) or self._full_check(text)
        return verdict

    def _full_check(self, text: str) -> bool:
        known = self._cache.get(text)
        if known is None:
            try:
                validate_email(text, check_deliverability=False)
                known = True
            except (EmailNotValidError, UnicodeError, ValueError):
                known = False
            if len(self._cache) >= _EMAIL_CACHE_LIMIT:
                self._cache.clear()
            self._cache[text] = known
        return known


def plain_emails(texts: list[str]) -> np.ndarray:
    """True where a text is empty or `_SIMPLE_EMAIL` accepts it; False: not decided here.

    The column is matched as one text, a line per value: matched lines vanish, so a
    column of good addresses leaves nothing but its newlines.
    """
    joined = "\n".join(texts)
    if not texts or joined.count("\n") != len(texts) - 1:  # a value holds a line break
        return np.zeros(len(texts), dtype=bool)
    left = _EMAIL_LINES.sub("", joined)
    if len(left) == len(texts) - 1:
        return np.ones(len(texts), dtype=bool)
    return np.fromiter(map(operator.not_, left.split("\n")), dtype=bool, count=len(texts))


def numbers(values: pd.Series) -> np.ndarray:
    """Numeric view for min/max; unreadable text is NaN (its type check reports it)."""
    chars = CodePoints(values.tolist())
    plain = chars.only(DIGITS) & (chars.lengths > 0) & (chars.lengths <= 15)  # exact as floats
    out = np.full(len(values), np.nan)
    out[np.flatnonzero(chars.fits)[plain]] = chars.integers(plain)
    rest = np.ones(len(values), dtype=bool)
    rest[np.flatnonzero(chars.fits)[plain]] = False
    if rest.any():
        others = pd.to_numeric(values[rest], errors="coerce")
        out[rest] = others.to_numpy(dtype=float, na_value=np.nan)
    return out


_LEGACY = _canonical(_PHONE_OUT, _phone_shape)
TYPE_TESTS: dict[str, Test] = {
    "number": _canonical(_NUMBER_OUT, _number_shape),
    "integer": _canonical(_INTEGER_OUT, _number_shape),
    "phone": _LEGACY,
    "date": _when(_DATE_OUT, DATE_FORMAT),
    "datetime": _when(_DATETIME_OUT, DATETIME_FORMAT),
    "boolean": lambda values: values.isin(["", "true", "false"]),
}
