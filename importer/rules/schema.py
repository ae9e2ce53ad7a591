"""Validation: a mapping becomes a pandera schema that checks every row in one lazy pass.

The frame pandera checks holds each value in the form it will be sent (trimmed,
defaults filled, numbers/phones/dates normalised). Normalisation leaves a text it
cannot read unchanged, so the type check (is this a canonical number, date, ...)
catches it. `unique` runs after pandera because only otherwise valid rows count.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from importer.core.constants import DATE_FORMAT, DATETIME_FORMAT
from importer.core.errors import MappingError
from importer.core.outcomes import RowError
from importer.rules.codepoints import DIGITS, CodePoints
from importer.rules.mapping import FieldSpec, Mapping, plain_number


@dataclass
class ValidatedChunk:
    """One chunk after validation: the values to send for valid rows, and why others failed."""

    values: pd.DataFrame  # valid rows only; index RowNumber; one column per target; sent text
    invalid_rows: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# ---------------------------------------------------------------- sent forms
#
# pandas without pyarrow runs every `.str` method as a Python loop, so a chain of
# them costs one loop each. Instead each distinct cell text (spreadsheet columns
# repeat a lot) goes once through a small function below; dates lean on the
# vectorised `pd.to_datetime`. A text a function cannot read is kept as it is,
# and the type check (which looks for the canonical form) rejects it.

_NUMBER_IN = re.compile(
    r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{2,3})*,[0-9]{3}|[0-9]+)(?:\.[0-9]*)?|[+-]?\.[0-9]+"
)
_GROUPED_INTEGER = re.compile(r"[0-9]{1,3}(?:,[0-9]{2,3})*,[0-9]{3}")  # 1,20,000 / 120,000
_EXPONENT_IN = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]{1,2}")
_NUMBER_OUT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?")
_INTEGER_OUT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_PHONE_CELL = re.compile(r"(\+?[0-9]+)\.0+")  # a phone read from a number cell: 9876543210.0
_PHONE_NOISE = re.compile(r"[\s().]")
_PHONE_OUT = re.compile(r"\+?[0-9](?:-?[0-9]){6,14}")  # 7 to 15 digits, dashes between
_DATE_OUT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_OUT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
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
# goes through email-validator itself, cached.
_SIMPLE_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)(?=.{1,254}\Z)"
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?!(?i:" + "|".join(map(re.escape, SPECIAL_USE_DOMAIN_NAMES)) + r")\Z)[A-Za-z]{2,63}"
)
_EMAIL_CACHE_LIMIT = 500_000
_MESSAGE_VALUE_LIMIT = 60

# pandera registers its pandas backends (importing much of itself) on the first
# validation; doing it on import keeps that start-up cost out of the first file's time.
pa.DataFrameSchema.register_default_backends(pd.DataFrame)


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
        parsed = pd.to_datetime(_texts([texts[i] for i in todo]), format=fmt, errors="coerce")
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


# ---------------------------------------------------------------- tests of sent values
#
# The checked frame holds each column as a Categorical (its distinct sent texts plus
# one code per row), so a per-value test runs once per distinct text.

Test = Callable[[pd.Series], "np.ndarray | pd.Series"]


def _per_value(test: Test) -> Callable[[pd.Series], pd.Series]:
    """Run `test` on the distinct values of a column and spread the verdicts to its rows."""

    def check(values: pd.Series) -> pd.Series:
        if isinstance(values.dtype, pd.CategoricalDtype):
            distinct = _texts(values.cat.categories)
            verdict = np.asarray(test(distinct), dtype=bool)
            codes = values.cat.codes.to_numpy()
            return pd.Series(verdict[codes] if len(verdict) else False, index=values.index)
        return pd.Series(np.asarray(test(_texts(values)), dtype=bool), index=values.index)

    return check


def _matches(values: pd.Series, pattern: re.Pattern[str]) -> np.ndarray:
    """Full match of every value (map over a C method: no Python frame per value)."""
    return np.fromiter(map(bool, map(pattern.fullmatch, values.tolist())), bool, len(values))


def _lengths(values: pd.Series) -> np.ndarray:
    return np.fromiter(map(len, values.tolist()), np.int64, len(values))


def _canonical(pattern: re.Pattern[str], shape: Callable[[CodePoints], np.ndarray]) -> Test:
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


def _when(canonical: re.Pattern[str], fmt: str) -> Test:
    def test(values: pd.Series) -> pd.Series:
        shaped = pd.Series(_matches(values, canonical), index=values.index)
        real = pd.to_datetime(values.where(shaped), format=fmt, errors="coerce").notna()
        return (values == "") | (shaped & real)

    return test


class _EmailTest:
    """Email validity: a fast pattern for plain addresses, email-validator (cached) for the rest."""

    def __init__(self) -> None:
        self._cache: dict[str, bool] = {}

    def __call__(self, values: pd.Series) -> np.ndarray:
        verdict = (values == "").to_numpy() | _matches(values, _SIMPLE_EMAIL)
        for position in np.flatnonzero(~verdict):
            verdict[position] = self._full_check(values.iat[position])
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


def _numbers(values: pd.Series) -> np.ndarray:
    """Numeric view for min/max; unreadable text is NaN (its type check reports it)."""
    chars = CodePoints(values.tolist())
    plain = chars.only(DIGITS) & (chars.lengths > 0) & (chars.lengths <= 15)  # exact as floats
    out = np.full(len(values), np.nan)
    out[np.flatnonzero(chars.fits)[plain]] = chars.array[plain].astype(np.float64)
    rest = np.ones(len(values), dtype=bool)
    rest[np.flatnonzero(chars.fits)[plain]] = False
    if rest.any():
        others = pd.to_numeric(values[rest], errors="coerce")
        out[rest] = others.to_numpy(dtype=float, na_value=np.nan)
    return out


_TYPE_TESTS: dict[str, Test] = {
    "number": _canonical(_NUMBER_OUT, _number_shape),
    "integer": _canonical(_INTEGER_OUT, _number_shape),
    "phone": _canonical(_PHONE_OUT, _phone_shape),
    "date": _when(_DATE_OUT, DATE_FORMAT),
    "datetime": _when(_DATETIME_OUT, DATETIME_FORMAT),
    "boolean": lambda values: values.isin(["", "true", "false"]),
}

_TYPE_WORDS = {
    "email": "is not a valid email address",
    "phone": "is not a valid phone number (7 to 15 digits; + at the start, spaces, dashes "
    "and brackets allowed)",
    "number": "is not a number",
    "integer": "is not a whole number",
    "boolean": "is not a yes/no value (use true, false, yes, no, 1 or 0)",
}

_STRFTIME_WORDS = {
    "%Y": "YYYY",
    "%y": "YY",
    "%m": "MM",
    "%d": "DD",
    "%H": "hh",
    "%I": "hh",
    "%M": "mm",
    "%S": "ss",
    "%p": "AM/PM",
    "%b": "Mon",
    "%B": "Month",
}


def _human_format(fmt: str) -> str:
    for directive, word in _STRFTIME_WORDS.items():
        fmt = fmt.replace(directive, word)
    return fmt


def _type_message(spec: FieldSpec) -> str:
    if spec.type in ("date", "datetime"):
        forms = ["YYYY-MM-DD" if spec.type == "date" else "YYYY-MM-DD hh:mm:ss"]
        forms += [_human_format(fmt) for fmt in spec.format or []]
        noun = "date" if spec.type == "date" else "date and time"
        return f"is not a valid {noun} (use {' or '.join(forms)})"
    return _TYPE_WORDS[spec.type]


# ---------------------------------------------------------------- the validator

_RULE_ORDER = ("required", "type", "allowed", "max_length", "min", "max", "pattern", "required_if")
_CELL_STOPPERS = ("required", "type")  # once a cell fails these, its other messages are noise


@dataclass(frozen=True)
class _Target:
    """One mapped field as the validator sees it."""

    key: str
    spec: FieldSpec
    label: str  # what messages call it: the input header, or the target for a constant
    column: str | None  # frame column, None for a constant
    required: bool


class Validator:
    """Checks chunks of one input against one mapping; `unique` spans all chunks it sees."""

    def __init__(self, mapping: Mapping, columns: dict[str, str]) -> None:
        self._mapping = mapping
        self._email_test = _EmailTest()
        self._targets = self._collect(mapping, columns)
        self._schema = self._build_schema(self._read_targets())
        self._constants: dict[str, str] = {}
        for target in self._targets.values():
            self._check_formats(target)
            if target.spec.default is not None:
                self._check_single(target, target.spec.default, "default")
            if target.column is None:
                self._constants[target.key] = self._check_single(
                    target, target.spec.value or "", "value"
                )
        self._unique = [mapping.find_target(name) or name for name in mapping.unique]
        self._seen: dict[tuple[str, ...], int] = {}

    # ---- setup

    @staticmethod
    def _collect(mapping: Mapping, columns: dict[str, str]) -> dict[str, _Target]:
        # The lead SearchBy value and the share user are what the API needs to act at all.
        always = {f"lead.{mapping.search_by}", "share.user_id"}
        found: dict[str, _Target] = {}
        for key, spec in mapping.targets().items():
            column = columns.get(key) if spec.column is not None else None
            if spec.column is not None and column is None:
                raise MappingError(f"{mapping.where(key)}: no input column matched {spec.column!r}")
            found[key] = _Target(
                key=key,
                spec=spec,
                label=column if column is not None else key,
                column=column,
                required=spec.required or key in always,
            )
        return found

    def _read_targets(self) -> list[_Target]:
        return [target for target in self._targets.values() if target.column is not None]

    def _build_schema(self, targets: list[_Target]) -> pa.DataFrameSchema:
        """One pandera Column per read target, one Check per rule; wide checks for required_if."""
        columns = {target.key: _column(self._checks(target)) for target in targets}
        wide = [
            check
            for target in targets
            for check in self._required_if_checks(target, {t.key for t in targets})
        ]
        return pa.DataFrameSchema(columns, checks=wide, coerce=False)

    def _checks(self, target: _Target) -> list[pa.Check]:
        """One field's rules as pandera checks on its sent text ("" passes all but required)."""
        spec = target.spec
        tests: list[tuple[str, Test]] = []
        if target.required:
            tests.append(("required", lambda s: s != ""))
        if spec.type == "email":
            tests.append(("type", self._email_test))
        elif spec.type in _TYPE_TESTS:
            tests.append(("type", _TYPE_TESTS[spec.type]))
        if spec.allowed:
            allowed = [*spec.allowed, ""]
            tests.append(("allowed", lambda s: s.isin(allowed)))
        if spec.max_length is not None:
            limit = spec.max_length
            tests.append(("max_length", lambda s: _lengths(s) <= limit))
        if spec.min is not None:
            low = spec.min
            tests.append(("min", lambda s: ~(_numbers(s) < low)))
        if spec.max is not None:
            high = spec.max
            tests.append(("max", lambda s: ~(_numbers(s) > high)))
        if spec.pattern is not None:
            pattern = re.compile(spec.pattern)
            tests.append(("pattern", lambda s: (s == "").to_numpy() | _matches(s, pattern)))
        return [pa.Check(_per_value(test), name=name, ignore_na=False) for name, test in tests]

    def _required_if_checks(self, target: _Target, read: set[str]) -> list[pa.Check]:
        checks = []
        for other_name, values in (target.spec.required_if or {}).items():
            other = self._mapping.find_target(other_name) or other_name
            wanted = [value.strip().casefold() for value in values]
            if other not in read:
                continue  # a constant condition: handled in _constant_required_if

            def holds(
                frame: pd.DataFrame, key: str = target.key, other: str = other, wanted=wanted
            ) -> pd.Series:
                triggered = _per_value(lambda s: s.str.casefold().isin(wanted))(frame[other])
                return ~(triggered & (frame[key] == ""))

            checks.append(pa.Check(holds, name=f"required_if {target.key} {other}"))
        return checks

    def _check_formats(self, target: _Target) -> None:
        for fmt in target.spec.format or []:
            try:
                pd.to_datetime(pd.Series(["2024-12-31"], dtype="str"), format=fmt, errors="coerce")
            except ValueError as exc:
                raise MappingError(
                    f'{self._mapping.where(target.key)}: format "{fmt}" cannot be used ({exc})'
                ) from None

    def _check_single(self, target: _Target, text: str, what: str) -> str:
        """Validate a constant or default once, at mapping time; return its sent form."""
        sent = _texts(self._normalise([text.strip()], target.spec))
        schema = pa.DataFrameSchema({target.key: _column(self._checks(target))})
        try:
            schema.validate(pd.DataFrame({target.key: sent}), lazy=True)
        except pa_errors.SchemaErrors as exc:
            rule = str(exc.failure_cases["check"].iloc[0])
            reason = self._reason(rule, target, text.strip(), sent.iloc[0])
            raise MappingError(f"{self._mapping.where(target.key)}: {what} {reason}") from None
        return str(sent.iloc[0])

    # ---- per chunk

    def validate(self, frame: pd.DataFrame) -> ValidatedChunk:
        """Normalise, check every rule on every row (lazily), then apply `unique`."""
        sent = pd.DataFrame(
            {t.key: self._sent_column(frame[t.column], t) for t in self._read_targets()},
            index=frame.index,
        )
        failures = self._failures(sent)
        errors = self._messages(failures, frame, sent)
        invalid = set(failures["index"].tolist()) if len(failures) else set()
        errors += self._check_unique(sent, frame, invalid)
        invalid.update(error.row_number for error in errors)
        valid = sent[~sent.index.isin(list(invalid))]
        values = pd.DataFrame(
            {
                key: valid[key].astype(object)
                if key in valid
                else pd.Series(self._constants[key], index=valid.index, dtype=object)
                for key in self._targets
            },
            index=valid.index,
        )
        errors.sort(key=lambda error: error.row_number)
        return ValidatedChunk(values=values, invalid_rows=sorted(invalid), errors=errors)

    def _sent_column(self, cells: pd.Series, target: _Target) -> pd.Series:
        """The sent text of every row: each distinct cell text is normalised once.

        Columns that repeat (stages, cities, dates) become a Categorical, so the checks
        also run once per distinct value; near-unique ones (emails, names) stay plain.
        """
        cells = _as_text(cells)
        if _mostly_distinct(cells):
            sent = self._sent_texts(cells.to_numpy(dtype=object).tolist(), target.spec)
            return pd.Series(sent, index=cells.index, dtype=object)
        codes, uniques = pd.factorize(cells)
        categories = pd.Index(self._sent_texts(uniques.tolist(), target.spec), dtype=object)
        if not categories.is_unique:  # " a" and "a" both became "a": merge them
            merged, categories = pd.factorize(categories)
            codes = merged[codes]
        column = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))
        return pd.Series(column, index=cells.index)

    def _sent_texts(self, texts: list[str], spec: FieldSpec) -> list[str]:
        texts = list(map(str.strip, texts))
        if spec.default is not None:
            default = spec.default.strip()
            texts = [text or default for text in texts]
        return self._normalise(texts, spec)

    @staticmethod
    def _normalise(texts: list[str], spec: FieldSpec) -> list[str]:
        """Trimmed texts → the forms sent: canonical number/phone/date, listed spelling."""
        normaliser = _NORMALISERS.get(spec.type)
        if normaliser is not None:
            texts = normaliser(texts, spec)
        if spec.allowed:
            spelling = {item.strip().casefold(): item for item in spec.allowed}
            texts = [spelling.get(text.casefold(), text) for text in texts]
        return texts

    def _failures(self, sent: pd.DataFrame) -> pd.DataFrame:
        """pandera's failure table, one line per (row, target, rule), required_if folded in."""
        try:
            self._schema.validate(sent, lazy=True)
        except pa_errors.SchemaErrors as exc:
            cases = exc.failure_cases
        else:
            cases = pd.DataFrame(columns=["column", "check", "index"])
        cases = cases[["column", "check", "index"]].dropna(subset=["index"])
        wide = cases["check"].astype(str).str.startswith("required_if ")
        if wide.any():  # a frame-wide check lists every column; keep the one it is about
            owner = cases["check"].astype(str).str.split(" ").str[1]
            cases = cases[~wide | (cases["column"] == owner)]
        extra = self._constant_required_if(sent)
        if len(extra):
            cases = pd.concat([cases, extra], ignore_index=True)
        cases = cases.assign(
            index=cases["index"].astype("int64"),
            rule=cases["check"].astype(str).str.split(" ").str[0],
        )
        return self._drop_noise(cases)

    def _constant_required_if(self, sent: pd.DataFrame) -> pd.DataFrame:
        """required_if on a constant: the condition is the same for every row."""
        rows = []
        for target in self._read_targets():
            for other_name, values in (target.spec.required_if or {}).items():
                other = self._mapping.find_target(other_name) or other_name
                if other not in self._constants:
                    continue
                wanted = {value.strip().casefold() for value in values}
                if self._constants[other].casefold() in wanted:
                    empty = sent.index[sent[target.key] == ""]
                    check = f"required_if {target.key} {other}"
                    rows += [(target.key, check, index) for index in empty]
        return pd.DataFrame(rows, columns=["column", "check", "index"])

    def _drop_noise(self, cases: pd.DataFrame) -> pd.DataFrame:
        """A cell that is empty or unreadable gets that one message, not five; rows in order."""
        if not len(cases):
            return cases
        stopper = cases["rule"].isin(_CELL_STOPPERS)
        stopped = set(zip(cases["index"][stopper], cases["column"][stopper], strict=True))
        cells = zip(cases["index"], cases["column"], strict=True)
        noise = pd.Series([cell in stopped for cell in cells], index=cases.index) & ~stopper
        rule_rank = {rule: rank for rank, rule in enumerate(_RULE_ORDER)}
        target_rank = {key: rank for rank, key in enumerate(self._targets)}
        ranked = cases[~noise].assign(
            _target=lambda c: c["column"].map(target_rank), _rule=lambda c: c["rule"].map(rule_rank)
        )
        return ranked.sort_values(["index", "_target", "_rule"], kind="stable")

    def _messages(
        self, cases: pd.DataFrame, frame: pd.DataFrame, sent: pd.DataFrame
    ) -> list[RowError]:
        errors = []
        for row, key, check, rule in zip(
            cases["index"], cases["column"], cases["check"], cases["rule"], strict=True
        ):
            target = self._targets[key]
            raw = _cell(frame, row, target.column)
            reason = self._reason(
                rule, target, raw.strip(), sent.at[row, key], check=check, sent=sent, row=row
            )
            errors.append(
                RowError(int(row), target.label, raw, f"Row {row}, {target.label}: {reason}")
            )
        return errors

    def _reason(
        self,
        rule: str,
        target: _Target,
        text: str,
        value: str,
        *,
        check: str = "",
        sent: pd.DataFrame | None = None,
        row: int | None = None,
    ) -> str:
        """The part of the message after `Row N, Column:`."""
        spec = target.spec
        shown = _quote(text if text != "" else value)
        if rule == "required":
            return "required but empty"
        if rule == "type":
            return f"{shown} {_type_message(spec)}"
        if rule == "allowed":
            return f"{shown} is not one of {', '.join(spec.allowed or [])}"
        if rule == "max_length":
            return f"{shown} is longer than {spec.max_length} characters ({len(value)})"
        if rule == "min":
            return f"{shown} is below the minimum {plain_number(spec.min or 0)}"
        if rule == "max":
            return f"{shown} is above the maximum {plain_number(spec.max or 0)}"
        if rule == "pattern":
            return f"{shown} does not have the expected form (pattern {spec.pattern})"
        if rule == "required_if":
            other = check.split(" ")[2]
            other_label = self._targets[other].label
            if other in self._constants:
                other_value = self._constants[other]
            elif sent is not None:
                other_value = sent.at[row, other]
            else:
                other_value = ""
            return f"required when {other_label} is {other_value}"
        return f"{shown} failed the {rule} rule"

    def _check_unique(
        self, sent: pd.DataFrame, frame: pd.DataFrame, invalid: set[int]
    ) -> list[RowError]:
        """A later row repeating the `unique` values of an earlier valid row is invalid."""
        if not self._unique:
            return []
        parts = [self._folded(sent, key) for key in self._unique]
        candidate = ~sent.index.isin(list(invalid))
        for part in parts:
            candidate &= part != ""
        rows = sent.index.to_numpy()[candidate]
        keys = zip(*(part[candidate].tolist() for part in parts), strict=True)
        # setdefault records a key's first row and answers every later row with it
        first = np.fromiter(map(self._seen.setdefault, keys, rows.tolist()), np.int64, len(rows))
        return [
            self._repeat_error(sent, frame, int(rows[i]), int(first[i]))
            for i in np.flatnonzero(first != rows)
        ]

    def _repeat_error(
        self, sent: pd.DataFrame, frame: pd.DataFrame, row: int, first: int
    ) -> RowError:
        target = self._targets[self._unique[0]]
        raw = _cell(frame, row, target.column)
        shown = _quote(raw.strip() or self._value(sent, row, target.key))
        names = ", ".join(self._mapping.unique)
        message = f"Row {row}, {target.label}: {shown} repeats row {first} (unique: {names})"
        return RowError(int(row), target.label, raw, message)

    def _folded(self, sent: pd.DataFrame, key: str) -> np.ndarray:
        """One part of the unique key per row, compared ignoring case and surrounding space."""
        if key in sent:
            column = sent[key]
            if not isinstance(column.dtype, pd.CategoricalDtype):
                return np.asarray(list(map(str.casefold, column.tolist())), dtype=object)
            folded = list(map(str.casefold, column.cat.categories.tolist()))
            return np.asarray(folded, dtype=object)[column.cat.codes.to_numpy()]
        constant = self._constants.get(key, "").strip().casefold()
        return np.full(len(sent), constant, dtype=object)

    def _value(self, sent: pd.DataFrame, row: int, key: str) -> str:
        return self._constants[key] if key in self._constants else str(sent.at[row, key])


def _column(checks: list[pa.Check]) -> pa.Column:
    """A sent column holds text only, never a null: pandera need not scan it for nulls."""
    return pa.Column(checks=checks, nullable=True)


def _texts(items: object) -> pd.Series:
    """An object-dtype Series of str (pandas would otherwise re-check every string)."""
    return pd.Series(np.asarray(items, dtype=object), dtype=object)


def _cell(frame: pd.DataFrame, row: int, column: str | None) -> str:
    if column is None:
        return ""
    value = frame.at[row, column]
    return "" if value is None or value != value else str(value)


def _mostly_distinct(values: pd.Series, sample: int = 2000) -> bool:
    """Judged on the first rows: factorizing a near-unique column only costs time.

    Repeats in the sample estimate how many values the column draws from (the
    birthday problem), hence how many distinct ones the whole chunk will hold.
    """
    head = values.iloc[:sample].tolist()
    if len(head) < 100:
        return False
    repeats = len(head) - len(set(head))
    if not repeats:
        return True
    kinds = len(head) ** 2 / (2 * repeats)
    expected = kinds * -math.expm1(-len(values) / kinds)
    return expected > 0.5 * len(values)


def _as_text(values: pd.Series) -> pd.Series:
    """The loader gives text already; anything else (NaN, numbers) is made text, NaN as ""."""
    if isinstance(values.dtype, pd.StringDtype) and not values.isna().any():
        return values
    return values.map(lambda item: "" if item is None or item != item else str(item)).astype("str")


def _quote(text: str) -> str:
    text = str(text)
    if len(text) > _MESSAGE_VALUE_LIMIT:
        text = text[: _MESSAGE_VALUE_LIMIT - 1] + "…"
    return f'"{text}"'
