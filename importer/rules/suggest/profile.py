"""What a column's values look like: emails, phones, amounts, dates (and their format)...

Drafting a mapping reads the first rows of a file and asks, per column, which type
fits nearly every value, whether any value is blank, and how few distinct values
there are; re-targeting asks how far a column's values agree with the old rules.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from importer.rules.mapping.mapping import FieldSpec, FieldType
from importer.rules.values.phones import country_name, phone_kind, region_of

AGREE = 0.95  # values obey a rule when this share of them do
MOSTLY = 0.8  # a column is of a type when this share of its values are (the rest: typos)
ALLOWED_MAX_VALUES = 10  # a column of at most this many distinct values...
ALLOWED_MIN_ROWS = 20  # ...over at least this many filled rows reads as a list of choices
COUNTRY_SHARE = 0.8  # phones are one country's when this share of them are valid there
# Countries tried when a file's phones are not Indian: those its `+CC` numbers name come
# first, then where LeadSquared's customers mostly are (a few hundred values each).
LIKELY_COUNTRIES = (
    "US", "GB", "AE", "SA", "QA", "KW", "OM", "BH", "SG", "MY", "ID", "PH", "TH", "VN",
    "AU", "NZ", "CA", "ZA", "NG", "KE", "EG", "BD", "PK", "LK", "NP", "DE", "FR", "NL",
    "IE", "ES", "IT", "BR", "MX",
)  # fmt: skip
SURELY_INDIAN = 0.98  # Indian phones this surely: no other country is tried
TIE_SHARE = 0.02  # another country must fit this much better to be chosen over an earlier one
COUNTRY_SAMPLE = 300  # distinct phone values tried against each country

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?[0-9(][0-9 ()-]{5,20}[0-9](?:\.0+)?")
_AMOUNT = re.compile(
    r"(?:(?:₹|rs\.?|inr|\$|€|£|usd)\s*)?"
    r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{2,3})+|[0-9]+)(?:\.[0-9]+)?"
    r"(?:\s*(?:/-|₹|inr|rs\.?|usd))?",
    re.IGNORECASE,
)
_PLAIN_INTEGER = re.compile(r"[+-]?[0-9]{1,6}")
_DATE_SHAPE = re.compile(
    r"[0-9]{1,4}[-/. ][0-9A-Za-z]{1,9}[-/. ,]+[0-9]{2,4}(?:[ T][0-9:]+(?: ?[AaPp][Mm])?)?"
    r"|[A-Za-z]{3,9} [0-9]{1,2}, [0-9]{4}(?: [0-9:]+(?: ?[AaPp][Mm])?)?"
)
DATE_SAMPLE = 200  # distinct values tried against every format
_ISO = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?")
BOOLEAN_WORDS = frozenset({"yes", "no", "y", "n", "true", "false", "1", "0"})

# Date formats tried, day-first before month-first: India writes 03/04/2026 for 3 April.
_DAYS = (
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d-%B-%Y",
    "%d %B %Y",
    "%d-%b-%y",
    "%d/%m/%y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%m-%d-%Y",
)
_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
DATE_FORMATS = tuple(day + time for day in _DAYS for time in _TIMES)
_MONTH_FIRST = frozenset(fmt for fmt in DATE_FORMATS if fmt.startswith("%m"))


@dataclass
class ColumnProfile:
    """A column as its values show it."""

    header: str
    rows: int  # rows looked at
    filled: int  # of which not blank
    type: FieldType = "string"
    formats: list[str] = field(default_factory=list)  # for dates not already yyyy-mm-dd
    day_first_guess: bool = False  # every date read either way: day first was assumed
    values: Counter[str] = field(default_factory=Counter)  # by casefold, counts
    spellings: dict[str, str] = field(default_factory=dict)  # casefold -> first spelling
    phone_country: str | None = None  # the country nearly all its phones are valid in
    country_share: float = 0.0  # share of the phones valid in `phone_country` (or in India)
    mobile_like: float = 0.0  # share that are mobiles of that country

    @property
    def blank(self) -> int:
        return self.rows - self.filled

    @property
    def distinct(self) -> int:
        return len(self.values)

    @property
    def all_different(self) -> bool:
        return self.filled > 1 and self.distinct == self.filled

    def choices(self) -> list[str] | None:
        """The values as an `allowed` list, when the column reads as a list of choices."""
        if self.type != "string" or self.filled < ALLOWED_MIN_ROWS:
            return None
        if not 1 < self.distinct <= ALLOWED_MAX_VALUES:
            return None
        return [self.spellings[key] for key, _count in self.values.most_common()]

    def describe(self) -> str:
        """A few words for the table and the YAML comments."""
        if not self.filled:
            return "empty"
        kind = {
            "email": "email addresses",
            "phone": (
                f"phone numbers of {country_name(self.phone_country)}"
                if self.phone_country
                else "phones"
            ),
            "number": "amounts",
            "integer": "whole numbers",
            "date": "dates",
            "datetime": "dates with times",
            "boolean": "yes/no",
        }.get(self.type)
        if kind is None:
            shown = ", ".join(self.spellings[key] for key, _ in self.values.most_common(3))
            more = "" if self.distinct <= 3 else f" ({self.distinct} different)"
            kind = f"text like {shown}{more}"
        if self.type in ("date", "datetime", "number", "phone"):
            kind += " like " + next(iter(self.spellings.values()))
        if self.day_first_guess:
            kind += (
                " (each reads either way: day first assumed; if months come first, swap %d and %m)"
            )
        if self.blank:
            kind += f"; {self.blank} of {self.rows} blank"
        return kind


def profile_column(header: str, texts: list[str]) -> ColumnProfile:
    """Look at a column's values (as the loader gives them: text, dates as yyyy-mm-dd)."""
    filled = [text.strip() for text in texts if text.strip()]
    profile = ColumnProfile(header, rows=len(texts), filled=len(filled))
    for text in filled:
        key = text.casefold()
        profile.values[key] += 1
        profile.spellings.setdefault(key, text)
    if filled:
        _settle_type(profile, list(profile.spellings.values()), filled)
    return profile


def _share(values: list[str], test: re.Pattern[str]) -> float:
    return sum(1 for value in values if test.fullmatch(value)) / len(values)


def _settle_type(profile: ColumnProfile, distinct: list[str], filled: list[str]) -> None:
    if _share(filled, EMAIL) >= MOSTLY:
        profile.type = "email"
        return
    words = sum(count for key, count in profile.values.items() if key in BOOLEAN_WORDS)
    if words >= MOSTLY * len(filled) and not set(profile.values) <= {"0", "1"}:
        profile.type = "boolean"
        return
    dates = _date_formats(distinct)
    if dates is not None:
        profile.type, profile.formats, profile.day_first_guess = dates
        return
    if _share(filled, _PHONE) >= MOSTLY and _looks_like_phones(filled):
        profile.type = "phone"
        _settle_country(profile, filled)
        return
    if _share(filled, _AMOUNT) >= MOSTLY:
        plain = all(_PLAIN_INTEGER.fullmatch(value) for value in distinct)
        profile.type = "integer" if plain else "number"


def _settle_country(profile: ColumnProfile, filled: list[str]) -> None:
    """The one country nearly every phone is valid in: India first, then the likely ones."""
    tried = list(dict.fromkeys(filled))[:COUNTRY_SAMPLE]
    counts = Counter(filled)
    total = sum(counts[value] for value in tried)
    named = Counter(region_of(value) for value in tried if value.lstrip().startswith("+"))
    best: tuple[float, float, str] = (0.0, 0.0, "IN")
    written = [region for region, _ in named.most_common() if region]
    for region in dict.fromkeys(["IN", *written, *LIKELY_COUNTRIES]):
        kinds = {value: phone_kind(value, region) for value in tried}
        share = sum(counts[v] for v, kind in kinds.items() if kind) / total
        mobile = sum(counts[v] for v, kind in kinds.items() if kind == "mobile") / total
        if share > best[0] + TIE_SHARE:  # a tie keeps the earlier country (India first)
            best = (share, mobile, region)
        if best[0] >= SURELY_INDIAN and best[2] == "IN":
            break  # most files: Indian phones, nothing else to try
    profile.country_share, profile.mobile_like, country = best
    profile.phone_country = country if profile.country_share >= COUNTRY_SHARE else None


def _looks_like_phones(values: list[str]) -> bool:
    """Phone-shaped and phone-long: 10+ digits, or written with `+`, a leading 0 or gaps."""
    long = 0
    for value in values:
        digits = sum(char.isdigit() for char in value.removesuffix(".0"))
        if 7 <= digits <= 15 and (
            digits >= 10 or value[0] in "+0(" or " " in value or "-" in value
        ):
            long += 1
    return long >= MOSTLY * len(values)


def _date_formats(values: list[str]) -> tuple[FieldType, list[str], bool] | None:
    """(date or datetime, the formats that read the values, day-first assumed?) or None.

    Formats are chosen greedily, the one reading most values first, at most three.
    """
    sample = values[:DATE_SAMPLE]
    if _share(sample, _DATE_SHAPE) < MOSTLY:
        return None  # cheap: most columns are not dates at all
    iso = [value for value in sample if _ISO.fullmatch(value)]
    todo = [value for value in sample if not _ISO.fullmatch(value)]
    chosen: list[str] = []
    parsed: list[datetime] = []
    while todo and len(chosen) < 3:
        best, reads = "", list[datetime]()
        for fmt in DATE_FORMATS:
            read = [when for when in (_parse(value, fmt) for value in todo) if when is not None]
            if len(read) > len(reads):
                best, reads = fmt, read
        if not reads:
            break
        chosen.append(best)
        parsed.extend(reads)
        todo = [value for value in todo if _parse(value, best) is None]
    if len(todo) > (1 - MOSTLY) * len(sample):
        return None
    midnight = datetime.min.time()
    timed = any(when.time() != midnight for when in parsed) or any(len(v) > 10 for v in iso)
    read_by = {fmt: [v for v in sample if _parse(v, fmt) is not None] for fmt in chosen}
    guessed = any(
        fmt not in _MONTH_FIRST
        and _swap_day_month(fmt) in DATE_FORMATS
        and all(_parse(value, _swap_day_month(fmt)) is not None for value in read_by[fmt])
        for fmt in chosen
        if "%d" in fmt and "%m" in fmt
    )
    return ("datetime" if timed else "date"), chosen, guessed


def _swap_day_month(fmt: str) -> str:
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _parse(value: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(value, fmt)
    except ValueError:
        return None


# ---------------------------------------------------------------- agreement with old rules


def agreement(spec: FieldSpec, profile: ColumnProfile) -> float | None:
    """0..1: how far a column's values obey a field's rules; None when nothing is checked.

    Re-targeting a mapping asks this of each candidate header: an email column stays
    an email column, a column with `allowed` values still holds them.
    """
    values = list(profile.spellings.values())
    if not values:
        return 0.0 if spec.required else None
    checks: list[float] = []
    if spec.type != "string":
        checks.append(_type_agreement(spec, profile))
    if spec.allowed:
        known = {item.strip().casefold() for item in spec.allowed}
        inside = sum(count for key, count in profile.values.items() if key in known)
        checks.append(inside / profile.filled)
    if spec.pattern:
        pattern = re.compile(spec.pattern)
        checks.append(sum(1 for value in values if pattern.fullmatch(value)) / len(values))
    if spec.max_length:
        limit = spec.max_length
        checks.append(sum(1 for value in values if len(value) <= limit) / len(values))
    if spec.required:
        checks.append(profile.filled / profile.rows if profile.rows else 0.0)
    return min(checks) if checks else None


def _type_agreement(spec: FieldSpec, profile: ColumnProfile) -> float:
    if spec.type == profile.type:
        return 1.0
    if {spec.type, profile.type} <= {"number", "integer"}:
        return 1.0 if profile.type == "integer" else 0.8
    if spec.type == "phone" and profile.type in ("integer", "number"):
        return 0.6  # plain digits: could be a phone column written as numbers
    if spec.type in ("date", "datetime") and profile.type in ("date", "datetime"):
        return 0.9
    if spec.type == "string":
        return 1.0
    return 0.0
