"""Dates as people type them: `15-Jan-2026`, `19 Jan 2026`, `15/01/2026 02:30 PM`, `2026/01/15`.

A date whose order is plain (a month name, a four-digit year first, or a day above
12) needs no `format` in the mapping; `03/04/2026` follows the mapping's
`date_order`. Each distinct text is read once (dates repeat a lot), and a text that
cannot be a date gets a reason a person can act on.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime

from importer.core.constants import DATE_FORMAT, DATETIME_FORMAT

_MONTHS = {name.casefold(): index for index, name in enumerate(calendar.month_name) if name} | {
    name.casefold(): index for index, name in enumerate(calendar.month_abbr) if name
}
_MONTHS["sept"] = 9
_TIME = (
    r"(?:[ T,]+(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.[0-9]+)?)?"
    r"\s*(?P<half>[AaPp]\.?[Mm]\.?)?)?"
)
_NUMERIC = re.compile(
    r"(?P<a>[0-9]{1,4})(?P<sep>[/.-])(?P<b>[0-9]{1,2})(?P=sep)(?P<c>[0-9]{1,4})" + _TIME
)
_DAY_NAME = re.compile(
    r"(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?[ ./-]*(?P<month>[A-Za-z]{3,9})\.?[ ,./-]*"
    r"(?P<year>[0-9]{4})" + _TIME
)
_NAME_DAY = re.compile(
    r"(?P<month>[A-Za-z]{3,9})\.?[ ./-]*(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?,?[ ./-]*"
    r"(?P<year>[0-9]{4})" + _TIME
)
_YEAR_NAME = re.compile(
    r"(?P<year>[0-9]{4})[ ./-]*(?P<month>[A-Za-z]{3,9})\.?[ ./-]*(?P<day>[0-9]{1,2})" + _TIME
)
_ORDINAL = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}


class NotADate(ValueError):
    """The text reads as a date, but no such date or time exists (`31/02/2026`)."""


@dataclass(frozen=True)
class Reading:
    """Numbers of a date or time read from text; checked by `when`."""

    year: int
    month: int
    day: int
    hour: int = 0
    minute: int = 0
    second: int = 0


def read_date(text: str, order: str) -> Reading | None:
    """The parts of a plain-order date (with or without a time); None if it is not one."""
    match = _NUMERIC.fullmatch(text)
    if match is not None:
        a, b, c = match["a"], match["b"], match["c"]
        if len(a) == 4:
            year, month, day = int(a), int(b), int(c)
        elif len(c) == 4 and len(a) <= 2:
            first, second = int(a), int(b)
            if first > 12 >= second:
                day, month = first, second  # plain: only the second can be a month
            elif second > 12 >= first:
                month, day = first, second
            elif order == "MDY":
                month, day = first, second
            else:
                day, month = first, second
            year = int(c)
        else:
            return None  # two-digit years are a guess: they need a format
        return _with_time(year, month, day, match)
    for pattern in (_DAY_NAME, _NAME_DAY, _YEAR_NAME):
        match = pattern.fullmatch(text)
        if match is not None:
            named = _MONTHS.get(match["month"].casefold())
            if named is None:
                return None
            return _with_time(int(match["year"]), named, int(match["day"]), match)
    return None


def _with_time(year: int, month: int, day: int, match: re.Match[str]) -> Reading:
    hour = int(match["hour"] or 0)
    half = (match["half"] or "").replace(".", "").casefold()
    if half:
        if not 1 <= hour <= 12:
            raise NotADate(f"{hour} is not an hour on a 12-hour clock with {half.upper()}")
        hour = hour % 12 + (12 if half == "pm" else 0)
    return Reading(year, month, day, hour, int(match["minute"] or 0), int(match["second"] or 0))


def when(reading: Reading) -> datetime:
    """The datetime of a reading, or `NotADate` saying which part cannot be."""
    if not 1 <= reading.month <= 12:
        raise NotADate(f"there is no month {reading.month}")
    last = calendar.monthrange(reading.year, reading.month)[1] if reading.year >= 1 else 31
    if reading.year < 1:
        raise NotADate("there is no year 0")
    if not 1 <= reading.day <= last:
        if reading.day > 31 or reading.day < 1:
            raise NotADate(f"there is no day {reading.day} in a month")
        name = calendar.month_name[reading.month]
        suffix = _ORDINAL.get(reading.day, "th")
        extra = "" if reading.month != 2 or reading.day != 29 else f" in {reading.year}"
        raise NotADate(f"{name} has no {reading.day}{suffix}{extra}")
    if reading.hour > 23:
        raise NotADate(f"there is no hour {reading.hour}")
    if reading.minute > 59:
        raise NotADate(f"there is no minute {reading.minute}")
    if reading.second > 59:
        raise NotADate(f"there is no second {reading.second}")
    return datetime(
        reading.year, reading.month, reading.day, reading.hour, reading.minute, reading.second
    )


def sent_date(text: str, order: str, with_time: bool) -> str | None:
    """`yyyy-mm-dd` (or with `hh:mm:ss`) of a plain-order date; None if unreadable or impossible."""
    try:
        reading = read_date(text, order)
        if reading is None:
            return None
        moment = when(reading)
    except NotADate:
        return None
    if not with_time and (moment.hour or moment.minute or moment.second):
        return None
    return moment.strftime(DATETIME_FORMAT if with_time else DATE_FORMAT)


def date_problem(text: str, order: str, with_time: bool, formats: list[str]) -> str:
    """Why `text` is not a date, and what to do about it."""
    try:
        reading = read_date(text, order)
        if reading is not None:
            moment = when(reading)
            if not with_time and (moment.hour or moment.minute or moment.second):
                return "has a time of day, but this field takes a date only"
    except NotADate as exc:
        return str(exc)
    for fmt in formats:
        try:
            datetime.strptime(text, fmt)
        except ValueError as exc:
            if "unconverted data" not in str(exc) and "does not match" not in str(exc):
                return str(exc)
    guess = guess_format(text)
    noun = "date and time" if with_time else "date"
    if guess:
        return (
            f"is not a {noun} lsq-import can read on its own; "
            f'add format: "{guess}" to this field in the mapping'
        )
    example = "2026-01-15 14:30:00" if with_time else "2026-01-15"
    return f"is not a {noun}; write it like {example}, 15/01/2026 or 15-Jan-2026"


_GUESS_PARTS = re.compile(r"[0-9]+|[A-Za-z]+|[^0-9A-Za-z]+")


def guess_format(text: str) -> str | None:
    """A strftime format that would read `text` (day before month), or None."""
    parts = _GUESS_PARTS.findall(text.strip())
    numbers = [p for p in parts if p.isdigit()]
    if not 2 <= len(numbers) <= 6:
        return None
    if len(parts) == 1 and len(text) == 8 and text.isdigit():
        return "%Y%m%d" if text[:2] in ("19", "20") else "%d%m%Y"
    out: list[str] = []
    dates = ["%d", "%m", "%Y"]
    if numbers and len(numbers[0]) == 4:
        dates = ["%Y", "%m", "%d"]
    times = ["%H", "%M", "%S"]
    for part in parts:
        if part.isdigit():
            if dates:
                code = dates.pop(0)
                if code == "%Y" and len(part) == 2:
                    code = "%y"
                out.append(code)
            elif times:
                out.append(times.pop(0))
            else:
                return None
        elif part.isalpha():
            if part.casefold() in ("am", "pm"):
                out.append("%p")
                out = ["%I" if code == "%H" else code for code in out]
            elif part.casefold() in _MONTHS and "%m" in dates:
                dates.remove("%m")
                out.append("%B" if len(part) > 3 else "%b")
            else:
                return None
        else:
            out.append(part.replace("%", "%%"))
    fmt = "".join(out)
    try:
        datetime.strptime(text.strip(), fmt)
    except ValueError:
        return None
    return fmt
