"""Phone numbers in LeadSquared's `+CC-NATIONAL` form, judged by the `phonenumbers` library.

`phonenumbers` costs about 20 µs a number and phone columns hardly repeat, so the
common shapes (`+91 98765 43210`, and `98765 43210` with a default country) are
split into country code and national number in numpy, and validity is asked once
per (country code, leading digits, length): beyond `DecisionDepth` digits every
pattern of the country's metadata accepts any digit, so the rest cannot change
the verdict. Everything else goes through `phonenumbers.parse`, cached per text.
`tests/test_phones.py` proves both paths give the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import (
    NumberParseException,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberType,
    ValidationResult,
)
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from importer.rules.values.codepoints import DIGITS, CodePoints

_CACHE_LIMIT = 200_000
_NUMBER_CELL = re.compile(r"(\+?[0-9]+)\.0+")  # a phone read from a number cell: 9876543210.0
_PHONE_NOISE = re.compile(r"[\s().]")
_SEPARATORS = " -()"
_NSN_LENGTHS = (2, 17)  # phonenumbers refuses national numbers outside these lengths
_NON_GEOGRAPHIC = "001"


def known_region(code: str) -> bool:
    """True for a two-letter region `phonenumbers` has numbering rules for (`IN`, `US`...)."""
    return len(code) == 2 and phonenumbers.country_code_for_region(code) != 0


def legacy_phone(text: str) -> str:
    """Without a country: keep `+`, digits and dashes; `9876543210.0` (a number cell) → digits."""
    if text.isdigit():
        return text
    cell = _NUMBER_CELL.fullmatch(text) if "." in text else None
    if cell:
        return cell.group(1)
    compact = text.replace(" ", "").replace("(", "").replace(")", "").replace(".", "")
    if compact.isascii() and compact.isprintable():
        return compact
    return _PHONE_NOISE.sub("", compact)  # tabs, non-breaking and other Unicode spaces


# ---------------------------------------------------------------- exact, one text at a time


def _parse(text: str, region: str | None) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException:
        return None


def sent_phone(text: str, region: str | None) -> str | None:
    """`+CC-NATIONAL` for a valid number, None for one that cannot exist (the reference rule)."""
    cell = _NUMBER_CELL.fullmatch(text) if "." in text else None
    if cell:
        text = cell.group(1)
    number = _parse(text, region)
    if number is None or number.extension or not phonenumbers.is_valid_number(number):
        number = _trunk_prefixed(text, region)
        if number is None:
            return None
    return f"+{number.country_code}-{phonenumbers.national_significant_number(number)}"


def _trunk_prefixed(text: str, region: str | None) -> PhoneNumber | None:
    """`091 98765 43210`: the country code written after a trunk `0` (as `0091` is after
    the international prefix), a valid number of the default country once read so."""
    if not region:
        return None
    digits = "".join(char for char in text if char.isdigit())
    code = str(phonenumbers.country_code_for_region(region))
    if not digits.startswith("0" + code) or len(digits) - len(code) - 1 < 6:
        return None
    number = _parse("+" + digits[1:], None)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    return number if phonenumbers.region_code_for_number(number) == region else None


def phone_kind(text: str, region: str) -> str | None:
    """ "mobile" or "landline" when `text` reads as a valid number of `region` (a draft's
    clue that a column holds that country's phones), else None."""
    cell = _NUMBER_CELL.fullmatch(text) if "." in text else None
    number = _parse(cell.group(1) if cell else text, region)
    if number is None or number.extension or not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.region_code_for_number(number) != region:
        return None
    kind = phonenumbers.number_type(number)
    if kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return "mobile"
    return "landline"


def region_of(text: str) -> str | None:
    """The country a number written with its `+CC` belongs to, if it is a valid one."""
    number = _parse(text, None)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.region_code_for_number(number)


def country_name(region: str) -> str:
    """`GB` → "United Kingdom", in words for a draft (the geocoder loads on first use)."""
    from phonenumbers import geocoder  # a third of a second to load: only when asked

    number = phonenumbers.example_number(region)
    return (geocoder.country_name_for_number(number, "en") if number else "") or region


def sent_example(region: str) -> str:
    """How a mobile number of `region` is sent (`+91-9876543210`), for a draft's comment."""
    number = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    if number is None:
        return "+CC-NUMBER"
    return f"+{number.country_code}-{phonenumbers.national_significant_number(number)}"


def phone_problem(text: str, region: str | None) -> str:
    """Why `text` is not a phone number, in words for the Errors sheet."""
    cell = _NUMBER_CELL.fullmatch(text) if "." in text else None
    number = _parse(cell.group(1) if cell else text, region)
    if number is None:
        if text.lstrip().startswith("+") or region:
            return "it does not read as a phone number with a country code"
        return "it does not read as a phone number"
    if number.extension:
        return f"it has an extension ({number.extension}); give the number alone"
    where = _where(number)
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        return f"+{number.country_code} is not a country code"
    if reason == ValidationResult.TOO_SHORT:
        return f"too few digits for a number in {where}"
    if reason == ValidationResult.TOO_LONG:
        return f"too many digits for a number in {where}"
    if reason == ValidationResult.INVALID_LENGTH:
        return f"the wrong number of digits for a number in {where}"
    return f"no number in {where} starts like this; check the digits"


def _where(number: PhoneNumber) -> str:
    region = phonenumbers.region_code_for_number(number)
    if region and region != _NON_GEOGRAPHIC:
        return f"{region} (+{number.country_code})"
    return f"+{number.country_code}"


# ---------------------------------------------------------------- how deep a country's rules look
#
# libphonenumber's national number patterns use a small regular language: digits, classes
# of digits (`[2-9]`, `\\d`), non-capturing groups with alternatives, and bounded
# repeats (`{n}`, `{n,m}`, `?`). `_pattern_depth` reads that subset (anything else is
# "unknown", and the country then stays on the exact path) to find how many leading digits
# can change a verdict; the rest of a number is any digit.

_Span = tuple[int, int | None, int | None]  # min length, max length, decision depth
_UNKNOWN: _Span = (0, None, None)
_Item = tuple[_Span, int, int | None]  # an atom's span, how often it repeats (None: no limit)


class _Unknown(Exception):
    """A pattern outside the subset the metadata uses."""


def _pattern_depth(pattern: str) -> int | None:
    try:
        span, at = _alternatives(pattern, 0)
    except _Unknown:
        return None
    return span[2] if at == len(pattern) else None


def _alternatives(pattern: str, at: int) -> tuple[_Span, int]:
    """Sequences separated by `|`, up to a `)` (not taken) or the end."""
    branches: list[_Span] = []
    while True:
        items, at = _sequence(pattern, at)
        branches.append(_join(items))
        if at >= len(pattern) or pattern[at] == ")":
            return _either(branches), at
        at += 1  # "|"


def _sequence(pattern: str, at: int) -> tuple[list[_Item], int]:
    """Items up to a `|` or `)` (or the end)."""
    items: list[_Item] = []
    while at < len(pattern) and pattern[at] not in "|)":
        atom, at = _atom(pattern, at)
        least, most, at = _repeat(pattern, at)
        items.append((atom, least, most))
    return items, at


def _atom(pattern: str, at: int) -> tuple[_Span, int]:
    char = pattern[at]
    if char.isdigit():
        return (1, 1, 1), at + 1
    if pattern.startswith("\\d", at):
        return (1, 1, 0), at + 2
    if char == "[":
        end = pattern.index("]", at)
        body = pattern[at + 1 : end]
        if not re.fullmatch(r"(?:[0-9](?:-[0-9])?)+", body):
            raise _Unknown(body)
        return (1, 1, 0 if body == "0-9" else 1), end + 1
    if pattern.startswith("(?:", at):
        span, at = _alternatives(pattern, at + 3)
        if at >= len(pattern):
            raise _Unknown(pattern)  # a group never closed
        return span, at + 1
    raise _Unknown(char)


def _repeat(pattern: str, at: int) -> tuple[int, int | None, int]:
    """(least, most, where the next item starts) of the quantifier at `at`, if any."""
    quantifier = pattern[at] if at < len(pattern) else ""
    if quantifier in ("?", "*", "+"):
        return {"?": (0, 1), "*": (0, None), "+": (1, None)}[quantifier] + (at + 1,)
    if quantifier == "{":
        end = pattern.index("}", at)
        low, comma, high = pattern[at + 1 : end].partition(",")
        if not low.isdigit() or (high and not high.isdigit()):
            raise _Unknown(pattern[at : end + 1])
        most = int(high) if high else None if comma else int(low)
        return int(low), most, end + 1
    return 1, 1, at


def _either(branches: list[_Span]) -> _Span:
    highs = [span[1] for span in branches]
    depths = [span[2] for span in branches]
    return (
        min(span[0] for span in branches),
        None if None in highs else max(h or 0 for h in highs),
        None if None in depths else max(d or 0 for d in depths),
    )


def _repeated(atom: _Span, least: int, most: int | None) -> _Span:
    low, high, depth = atom
    total = most * high if most is not None and high is not None else None
    if depth == 0:
        return (least * low, total, 0)
    if total is None or most is None or depth is None or high is None:
        return _UNKNOWN
    return (least * low, total, (most - 1) * high + depth)


def _join(items: list[_Item]) -> _Span:
    """Lengths of a sequence and how many leading characters it can look at."""
    low, depth = 0, 0
    high: int | None = 0
    for atom, least, most in items:
        item_low, item_high, item_depth = _repeated(atom, least, most)
        if item_depth is None:
            return _UNKNOWN
        if item_depth:
            if high is None:
                return _UNKNOWN
            depth = max(depth, high + item_depth)
        low += item_low
        high = None if high is None or item_high is None else high + item_high
    return low, high, depth


_DESCS = (
    "general_desc",
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


@dataclass(frozen=True)
class _Country:
    """What the numpy path needs to know about one country calling code."""

    code: int
    depth: int  # leading digits that decide validity (with the length)
    national_prefix: str  # a literal prefix phonenumbers would strip ("" if none)
    international_prefix: str  # a literal prefix that starts an international number


@cache
def _country(code: int) -> _Country | None:
    """The code's rules, or None when they are too rich for the numpy path."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    if len(regions) != 1 or regions[0] == _NON_GEOGRAPHIC:
        return None  # +1, +7, +44...: the region depends on the digits
    metadata = PhoneMetadata.metadata_for_region(regions[0])
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing or ""
    international = metadata.international_prefix or ""
    if not re.fullmatch(r"[0-9]*", prefix) or not re.fullmatch(r"[0-9]*", international):
        return None
    if metadata.national_prefix_transform_rule:
        return None
    depth = 0
    for name in _DESCS:
        desc = getattr(metadata, name)
        if desc is None or desc.national_number_pattern is None:
            continue
        found = _pattern_depth(desc.national_number_pattern)
        if found is None:
            return None
        depth = max(depth, found)
    if depth > _DEPTH_LIMIT:
        return None
    return _Country(code, depth, prefix, international)


@cache
def _code_lengths() -> np.ndarray:
    """For every 1-3 digit prefix value v, the country code length ending there (0: none)."""
    table = np.zeros(1000 * 3, dtype=np.int8).reshape(3, 1000)
    for code in COUNTRY_CODE_TO_REGION_CODE:
        table[len(str(code)) - 1, code] = len(str(code))
    return table


# ---------------------------------------------------------------- the reader


@dataclass(frozen=True)
class WholeColumn:
    """The sent text of every text of a column, all read by the bulk path."""

    sent: list[str]


class PhoneReader:
    """Sent forms of one mapping's phone fields, remembering which texts it refused."""

    def __init__(self, default_country: str | None) -> None:
        self.region = default_country
        self._home = (
            _country(phonenumbers.country_code_for_region(default_country))
            if default_country
            else None
        )
        self._texts: dict[str, str | None] = {}
        # judged keys, sorted, and their verdicts
        self._verdicts = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))
        self.refused: set[str] = set()

    def sent(self, texts: list[str]) -> list[str]:
        """Each text's sent form; a number that cannot exist is kept as it is (and refused)."""
        bulk = self._fast(texts)
        if isinstance(bulk, WholeColumn):
            return bulk.sent  # every text read in bulk, every number valid
        out, left = bulk
        for position in left:
            text = texts[position]
            if not text:
                continue
            if self.region is None and "+" not in text:
                out[position] = legacy_phone(text)
                continue
            found = self._one(text)
            if found is not None:
                out[position] = found
            elif self.region is None and not text.startswith("+"):
                out[position] = legacy_phone(text)  # ".+44 …" reads as phonenumbers reads it
            else:
                self.refused.add(text)
        result: list[str] = out.tolist()
        return result

    def problem(self, text: str) -> str:
        return phone_problem(text, self.region)

    def _one(self, text: str) -> str | None:
        if text in self._texts:
            return self._texts[text]
        if len(self._texts) >= _CACHE_LIMIT:
            self._texts.clear()
        found = self._texts[text] = sent_phone(text, self.region)
        return found

    def _fast(self, texts: Sequence[str]) -> WholeColumn | tuple[np.ndarray, list[int]]:
        """Decide the common shapes in bulk: each text's sent form so far, and the
        positions left to `_one`; or, when the bulk path sent every text and every one
        is valid, just those sent texts.

        Works on the code-point matrix: the digits of each text are packed to the left,
        the country code read off the front, and the sent text assembled as a matrix.
        """
        chars = CodePoints(texts)
        kinds = np.take(_KINDS, chars.points, mode="clip")  # one pass; past 128 is _OTHER
        plus = kinds[:, 0] == _PLUS
        easy = kinds.all(axis=1) & (chars.lengths > 0)  # no _OTHER (zero) in the row
        easy &= ~(kinds[:, 1:] == _PLUS).any(axis=1)  # a `+` only in front
        if self._home is None:
            easy &= plus
        rows = np.flatnonzero(easy)
        positions = np.flatnonzero(chars.fits)[rows]
        if not len(rows):
            return _as_objects(texts), _others(len(texts), positions)
        every = len(rows) == len(kinds)  # the usual column: no row gathered out
        points = chars.points if every else chars.points[rows]
        packed, count = _pack_digits(points, (kinds if every else kinds[rows]) == _DIGIT)
        with_plus = plus[rows]
        if self._home is not None and not with_plus.all():
            packed, count = _prepend(packed, count, ~with_plus, str(self._home.code))
        codes, code_length = _split_codes(packed, count)
        nsn_length = count - code_length
        fine = (nsn_length >= _NSN_LENGTHS[0]) & (nsn_length <= _NSN_LENGTHS[1]) & (codes > 0)
        fine &= _digit_at(packed, code_length) != 0
        depth = self._depths(packed, codes, code_length, with_plus, fine)
        chosen = np.flatnonzero(fine)
        if len(chosen) < len(fine):
            packed, codes, depth = packed[chosen], codes[chosen], depth[chosen]
            code_length, nsn_length = code_length[chosen], nsn_length[chosen]
        verdict = self._verdicts_of(_keys(packed, code_length, nsn_length, codes, depth))
        sent = _sent_texts(packed, code_length, code_length + nsn_length)
        where = positions[chosen]
        if verdict.all() and len(where) == len(texts):
            return WholeColumn(sent.tolist())
        out = _as_objects(texts)
        if verdict.all():
            out[where] = sent.tolist()
        else:
            out[where[verdict]] = sent[verdict].tolist()
            self.refused.update(out[where[~verdict]].tolist())
        return out, _others(len(texts), where)

    def _depths(
        self,
        packed: np.ndarray,
        codes: np.ndarray,
        code_length: np.ndarray,
        with_plus: np.ndarray,
        fine: np.ndarray,
    ) -> np.ndarray:
        """How many leading digits decide each number; rows the bulk path cannot judge
        (rich rules, a national or international prefix to strip) are cleared from `fine`."""
        depth = np.zeros(len(codes), dtype=np.int64)
        for code in pd.unique(codes[fine]).tolist():  # a hash, not a sort
            country = _country(code)
            mine = codes == code
            if country is None:
                fine &= ~mine
                continue
            depth[mine] = country.depth
            if country.national_prefix:
                fine &= ~(mine & _starts(packed, code_length, country.national_prefix))
            if self._home is not None and code == self._home.code:
                # phonenumbers may read a bare number starting with these as international
                bare = mine & ~with_plus
                for prefix in (str(code), self._home.international_prefix):
                    if prefix and bare.any():
                        fine &= ~(bare & _starts(packed, code_length, prefix))
        return depth

    def _verdicts_of(self, keys: np.ndarray) -> np.ndarray:
        """Validity per (code, national length, leading digits) key, asked once per key.

        Keys already judged are kept sorted, with their verdicts, and looked up in bulk.
        """
        if not len(keys):
            return np.zeros(0, dtype=bool)
        inverse, uniques = pd.factorize(keys)  # a hash: no sort
        known, verdicts_known = self._verdicts
        at = np.minimum(np.searchsorted(known, uniques), max(len(known) - 1, 0))
        found = known[at] == uniques if len(known) else np.zeros(len(uniques), dtype=bool)
        verdicts = np.zeros(len(uniques), dtype=bool)
        verdicts[found] = verdicts_known[at[found]]
        new = uniques[~found]
        if len(new):
            listed = new.tolist()
            judged = _judge(listed)
            verdicts[~found] = np.fromiter(map(judged.__getitem__, listed), bool, len(listed))
            if len(known) > _CACHE_LIMIT:
                known, verdicts_known = known[:0], verdicts_known[:0]
            merged = np.concatenate([known, new])
            order = np.argsort(merged, kind="stable")
            self._verdicts = (
                merged[order],
                np.concatenate([verdicts_known, verdicts[~found]])[order],
            )
        result: np.ndarray = verdicts[inverse]
        return result


_KEY_SCALE = 10**14  # leading digits fit below it; code and length above it
_DEPTH_LIMIT = 14


def _keys(
    packed: np.ndarray, start: np.ndarray, size: np.ndarray, codes: np.ndarray, depth: np.ndarray
) -> np.ndarray:
    """One int64 per number: code, national length and the digits that decide validity."""
    taken = np.minimum(depth, size)
    lead = np.zeros(len(packed), dtype=np.int64)
    # rows sharing where the national number starts and how many digits count are read
    # as one slice of columns (a column is usually one country: one group)
    group = start * 64 + taken
    if len(group) and group.min() == group.max():
        kinds, which = group[:1], np.zeros(len(group), dtype=np.intp)
    else:
        kinds, which = np.unique(group, return_inverse=True)
    for index, kind in enumerate(kinds.tolist()):
        begin, width = divmod(kind, 64)
        if not width:
            continue
        powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        if len(kinds) == 1:
            lead = packed[:, begin : begin + width].astype(np.int64) @ powers
        else:
            rows = np.flatnonzero(which == index)
            lead[rows] = packed[rows, begin : begin + width].astype(np.int64) @ powers
    keys: np.ndarray = (codes * 32 + size) * _KEY_SCALE + lead
    return keys


def _judge(keys: list[int]) -> dict[int, bool]:
    """Validity of each key's representative number (its leading digits, zeros after them)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for key in keys:
        head = key // _KEY_SCALE
        groups.setdefault(divmod(head, 32), []).append(key)
    found: dict[int, bool] = {}
    for (code, size), members in groups.items():
        country = _country(code)
        taken = min(country.depth, size) if country is not None else 0
        # the deciding digits, their leading zeros restored, then zeros to the full length
        numbers = [str(key % _KEY_SCALE).zfill(taken).ljust(size, "0") for key in members]
        pattern = _validity_pattern(code, size)
        valid = set(pattern.findall("\n".join(numbers))) if pattern is not None else set()
        found.update((key, number in valid) for key, number in zip(members, numbers, strict=True))
    return found


@cache
def _validity_pattern(code: int, size: int) -> re.Pattern[str] | None:
    """One pattern, one line per national number, equal to `phonenumbers.is_valid_number`.

    phonenumbers calls a number valid when it matches the general description and at
    least one number type (each a pattern plus allowed lengths); the union is checked in
    one pass over all lines instead of a dozen calls per number.
    """
    regions = COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    metadata = PhoneMetadata.metadata_for_region(regions[0]) if len(regions) == 1 else None
    if metadata is None:
        return None

    def fits(desc: object) -> str | None:
        pattern = getattr(desc, "national_number_pattern", None)
        lengths = getattr(desc, "possible_length", ())
        if not pattern or (lengths and size not in lengths):
            return None
        return str(pattern)

    general = fits(metadata.general_desc)
    kinds = [fits(getattr(metadata, name)) for name in _DESCS[1:]]
    kinds = [kind for kind in kinds if kind is not None]
    if general is None or not kinds:
        return None
    either = "|".join(f"(?:{kind})" for kind in kinds)
    return re.compile(f"^(?=(?:{general})$)(?:{either})$", re.MULTILINE)


_LAYOUTS_LIMIT = 32  # distinct digit layouts handled column-wise; more: a scatter
# What each code point is to the bulk path (past the end of a text counts as a separator).
_OTHER, _DIGIT, _PLUS, _SEPARATOR = 0, 1, 2, 3
_KINDS = np.zeros(129, dtype=np.uint8)  # code points above 127 are all `_OTHER`
_KINDS[[ord(char) for char in DIGITS]] = _DIGIT
_KINDS[ord("+")] = _PLUS
_KINDS[[0, *map(ord, _SEPARATORS)]] = _SEPARATOR


def _pack_digits(points: np.ndarray, digit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, width) digit values packed to the left (-1 beyond each row's count), and counts.

    A column is usually written one way (`+91 98765 43210`): rows sharing a layout of
    digits and separators are packed by picking the same columns for all of them.
    """
    packed = np.full(points.shape, -1, dtype=np.int8)
    width = points.shape[1]  # at most WIDTH_LIMIT: a layout fits 64 bits
    if len(digit) and (digit == digit[:1]).all():  # one layout: columns, not rows, picked
        shared = np.flatnonzero(digit[0])
        if len(shared):
            packed[:, : len(shared)] = (points[:, shared] - 48).astype(np.int8)
        return packed, np.full(len(digit), len(shared), dtype=np.int64)
    bits = np.zeros((len(points), 8), dtype=np.uint8)
    bits[:, : (width + 7) // 8] = np.packbits(digit, axis=1, bitorder="little")
    layout = bits.view("<u8")[:, 0].astype(np.int64)
    count = np.bitwise_count(layout).astype(np.int64)
    kinds, which = np.unique(layout, return_inverse=True)
    if len(kinds) <= _LAYOUTS_LIMIT:
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(len(kinds) + 1))
        for index, kind in enumerate(kinds.tolist()):
            rows = order[bounds[index] : bounds[index + 1]]
            columns = [bit for bit in range(width) if kind >> bit & 1]
            if columns:
                picked = points[rows][:, columns].astype(np.int16) - 48
                packed[rows, : len(columns)] = picked.astype(np.int8)
    else:
        _scatter_digits(points, digit, packed)
    return packed, count


def _scatter_digits(points: np.ndarray, digit: np.ndarray, packed: np.ndarray) -> None:
    """Pack many different layouts: each digit goes to its rank among its row's digits."""
    target = np.cumsum(digit, axis=1, dtype=np.int16) - 1
    rows, places = np.nonzero(digit)
    packed[rows, target[rows, places]] = (points[rows, places] - 48).astype(np.int8)


def _prepend(
    packed: np.ndarray, count: np.ndarray, rows: np.ndarray, code: str
) -> tuple[np.ndarray, np.ndarray]:
    """Put the default country's code in front of the numbers written without one."""
    width = len(code)
    grown = np.full((len(packed), packed.shape[1] + width), -1, dtype=np.int8)
    grown[~rows, : packed.shape[1]] = packed[~rows]
    grown[rows, :width] = [int(char) for char in code]
    grown[rows, width:] = packed[rows]
    return grown, count + np.where(rows, width, 0)


def _digit_at(packed: np.ndarray, offset: np.ndarray) -> np.ndarray:
    if len(offset) and offset.min() == offset.max():  # one offset (one code size): a column
        at = int(offset[0])
        if at >= packed.shape[1]:
            return np.full(len(offset), -1, dtype=packed.dtype)
        column: np.ndarray = packed[:, max(at, 0)]
        return column
    safe = np.clip(offset, 0, packed.shape[1] - 1)
    found = np.take_along_axis(packed, safe[:, None], axis=1)[:, 0]
    return np.where(offset < packed.shape[1], found, -1)


def _starts(packed: np.ndarray, offset: np.ndarray, prefix: str) -> np.ndarray:
    hit = np.ones(len(packed), dtype=bool)
    for index, char in enumerate(prefix):
        hit &= _digit_at(packed, offset + index) == int(char)
    return hit


def _split_codes(packed: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The country calling code at the front of each number (codes are prefix-free)."""
    table = _code_lengths()
    if len(packed) and packed.shape[1] >= 3 and count.min() >= 3:  # every number: 3+ digits
        front = packed[:, :3].astype(np.int64)
        one = front[:, 0]
        two = one * 10 + front[:, 1]
        three = two * 10 + front[:, 2]
        hit1 = table[0, one] == 1
        hit2 = ~hit1 & (table[1, two] == 2)
        hit3 = ~hit1 & ~hit2 & (table[2, three] == 3)
        found = np.where(hit1, one, np.where(hit2, two, np.where(hit3, three, 0)))
        return found, hit1 * 1 + hit2 * 2 + hit3 * 3
    codes = np.zeros(len(packed), dtype=np.int64)
    length = np.zeros(len(packed), dtype=np.int64)
    value = np.zeros(len(packed), dtype=np.int64)
    for size in (1, 2, 3):
        if packed.shape[1] < size:
            break
        digit = packed[:, size - 1]
        ok = (count >= size) & (digit >= 0) & (value >= 0)
        value = np.where(ok, value * 10 + np.maximum(digit, 0), -1)
        hit = (length == 0) & ok & (table[size - 1, np.clip(value, 0, 999)] == size)
        codes[hit] = value[hit]
        length[hit] = size
    return codes, length


def _sent_texts(packed: np.ndarray, code_length: np.ndarray, count: np.ndarray) -> np.ndarray:
    """`+CC-NATIONAL` of every row, assembled as code points (`+`, code, `-`, national)."""
    width = packed.shape[1] + 2
    if len(count) and count.min() == count.max() and code_length.min() == code_length.max():
        # one code size, one number length (the usual column): whole columns copied
        length, digits = int(code_length[0]), int(count[0])
        points = np.empty((len(packed), width), dtype=np.uint32)
        points[:, 0] = ord("+")
        points[:, 1 : 1 + length] = packed[:, :length] + 48
        points[:, 1 + length] = ord("-")
        points[:, 2 + length : 2 + digits] = packed[:, length:digits] + 48
        points[:, 2 + digits :] = 0
        return points.view(f"<U{width}")[:, 0]
    digits_of = np.where(packed >= 0, packed.astype(np.uint32) + 48, 0).astype(np.uint32)
    points = np.zeros((len(packed), width), dtype=np.uint32)
    points[:, 0] = ord("+")
    for length in np.unique(code_length).tolist():
        rows = np.flatnonzero(code_length == length)
        part = points[rows]
        part[:, 1 : 1 + length] = digits_of[rows, :length]
        part[:, 1 + length] = ord("-")
        part[:, 2 + length :] = digits_of[rows, length:]
        points[rows] = part
    return np.ascontiguousarray(points).view(f"<U{width}")[:, 0]


def _as_objects(texts: Sequence[str]) -> np.ndarray:
    return np.array(texts, dtype=object) if len(texts) else np.array([], dtype=object)


def _others(count: int, done: np.ndarray) -> list[int]:
    rest = np.ones(count, dtype=bool)
    rest[done] = False
    result: list[int] = np.flatnonzero(rest).tolist()
    return result
