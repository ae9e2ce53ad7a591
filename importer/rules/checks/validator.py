"""Validation: a mapping becomes a pandera schema that checks every row in one lazy pass.

The frame pandera checks holds each value in the form it will be sent (trimmed,
defaults filled, numbers/phones/dates normalised). Normalisation leaves a text it
cannot read unchanged, so the type check (is this a canonical number, date, ...)
catches it. `unique` runs after pandera because only otherwise valid rows count.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping as Mapping_
from dataclasses import dataclass, field
from itertools import compress, filterfalse

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa

from importer.core.errors import MappingError
from importer.core.outcomes import RowError
from importer.io.tables import CellProblem
from importer.io.tables.cells import excel_error
from importer.io.tables.headers import join_words
from importer.rules.checks.checks import (
    REMEMBERED,
    TYPE_TESTS,
    EmailTest,
    Test,
    filled,
    lengths,
    matches,
    numbers,
    per_value,
    phone_test,
)
from importer.rules.checks.normalise import Readers, as_series, normalise
from importer.rules.checks.repeats import FirstRows
from importer.rules.mapping.mapping import FieldSpec, Mapping
from importer.rules.mapping.messages import reason
from importer.rules.values.dates import date_problem
from importer.rules.values.invisible import invisible_in, tidy

# pandera registers its pandas backends (importing much of itself) on the first
# validation; doing it on import keeps that start-up cost out of the first file's time.
pa.DataFrameSchema.register_default_backends(pd.DataFrame)


@dataclass
class ValidatedChunk:
    """One chunk after validation: the values to send for valid rows, and why others failed."""

    values: pd.DataFrame  # valid rows only; index RowNumber; one column per target; sent text
    invalid_rows: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# ---------------------------------------------------------------- the validator

REQUIRED_IF = "required_if"
# A failure case: the target, the rule, the row, and what a required_if depends on.
CASE_COLUMNS = ("column", "check", "index", "other")
_RULE_ORDER = (
    "formula",
    "excel_error",
    "required",
    "type",
    "allowed",
    "max_length",
    "min",
    "max",
    "pattern",
    "required_if",
)
_CELL_STOPPERS = ("required", "type")  # once a cell fails these, its other messages are noise
_CELL_PROBLEMS = ("formula", "excel_error")  # the cell holds no value at all: nothing else counts


@dataclass(frozen=True)
class _Target:
    """One mapped field as the validator sees it."""

    key: str
    spec: FieldSpec
    label: str  # what messages call it: the input header, or the target for a constant
    column: str | None  # frame column, None for a constant
    required: bool


class Validator:
    """Checks chunks of one input against one mapping; `unique` spans all chunks it sees.

    A repeating column's values are read and checked once per file: what a value is
    sent as, and each pure check's verdict on it, are kept for the chunks after.
    """

    def __init__(self, mapping: Mapping, columns: dict[str, str]) -> None:
        self._mapping = mapping
        self._email_test = EmailTest()
        self._readers = Readers.of(mapping)
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
        self._seen = FirstRows()
        self._known: dict[str, dict[str, str]] = {}  # per target: cell text -> sent text

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
            tests.append(("required", filled))
        if spec.type == "email":
            tests.append(("type", self._email_test))
        elif spec.type == "phone":
            with_country = self._mapping.default_country is not None
            tests.append(("type", phone_test(self._readers.phones.refused, with_country)))
        elif spec.type in TYPE_TESTS:
            tests.append(("type", TYPE_TESTS[spec.type]))
        if spec.allowed:
            allowed = [*spec.allowed, ""]
            tests.append(("allowed", lambda s: s.isin(allowed)))
        if spec.max_length is not None:
            limit = spec.max_length
            tests.append(("max_length", lambda s: lengths(s) <= limit))
        if spec.min is not None:
            low = spec.min
            tests.append(("min", lambda s: ~(numbers(s) < low)))
        if spec.max is not None:
            high = spec.max
            tests.append(("max", lambda s: ~(numbers(s) > high)))
        if spec.pattern is not None:
            pattern = re.compile(spec.pattern)
            tests.append(("pattern", lambda s: (s == "").to_numpy() | matches(s, pattern)))
        # every test but the phone one (it reads the reader's refusals) looks at the text alone
        pure = {name: name != "type" or spec.type != "phone" for name, _ in tests}
        return [
            pa.Check(per_value(test, remember=pure[name]), name=name, ignore_na=False)
            for name, test in tests
        ]

    def _required_if_checks(self, target: _Target, read: set[str]) -> list[pa.Check]:
        checks = []
        for other_name, values in (target.spec.required_if or {}).items():
            other = self._mapping.find_target(other_name) or other_name
            wanted = [value.strip().casefold() for value in values]
            if other not in read:
                continue  # a constant condition: handled in _constant_required_if

            def holds(
                frame: pd.DataFrame,
                key: str = target.key,
                other: str = other,
                wanted: list[str] = wanted,
            ) -> pd.Series:
                triggered = per_value(lambda s: s.str.casefold().isin(wanted))(frame[other])
                return ~(triggered & (frame[key] == ""))

            # The check says which field it is about and which one it depends on in its
            # statistics; ignore_na=False: sent text is never missing, no scan for it.
            check = pa.Check(
                holds,
                name=REQUIRED_IF,
                error=f"{target.key} is required when {other} holds one of {wanted}",
                statistics={"target": target.key, "other": other},
                ignore_na=False,
            )
            checks.append(check)
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
        sent = as_series(normalise(tidy([text], target.spec.type), target.spec, self._readers))
        schema = pa.DataFrameSchema({target.key: _column(self._checks(target))})
        try:
            schema.validate(pd.DataFrame({target.key: sent}), lazy=True)
        except pa_errors.SchemaErrors as exc:
            rule = str(exc.failure_cases["check"].iloc[0])
            reason = self._reason(rule, target, text.strip(), sent.iloc[0])
            raise MappingError(f"{self._mapping.where(target.key)}: {what} {reason}") from None
        return str(sent.iloc[0])

    # ---- per chunk

    def validate(
        self,
        frame: pd.DataFrame,
        cell_problems: Mapping_[tuple[int, str], CellProblem] | None = None,
    ) -> ValidatedChunk:
        """Normalise, check every rule on every row (lazily), then apply `unique`.

        `cell_problems` are cells the loader found unusable though they read as empty
        (a formula never calculated), by (RowNumber, column label): a mapped one makes
        its row invalid.
        """
        sent = pd.DataFrame(  # copy=False: the columns are ours, new; copying them is waste
            {t.key: self._sent_column(frame[t.column], t) for t in self._read_targets()},
            index=frame.index,
            copy=False,
        )
        failures = self._failures(sent, self._cell_failures(sent, cell_problems or {}))
        errors = self._messages(failures, frame, sent)
        invalid = set(failures["index"].tolist()) if len(failures) else set()
        errors += self._check_unique(sent, frame, invalid)
        invalid.update(error.row_number for error in errors)
        valid = sent[~sent.index.isin(list(invalid))] if invalid else sent
        values = pd.DataFrame(
            {
                key: valid[key].astype(object)
                if key in valid
                else pd.Series(self._constants[key], index=valid.index, dtype=object)
                for key in self._targets
            },
            index=valid.index,
            copy=False,
        )
        errors.sort(key=lambda error: error.row_number)
        return ValidatedChunk(values=values, invalid_rows=sorted(invalid), errors=errors)

    def _sent_column(self, cells: pd.Series, target: _Target) -> pd.Series:
        """The sent text of every row: each distinct cell text is normalised once.

        Columns that repeat (stages, cities, dates) become a Categorical, so the checks
        also run once per distinct value; near-unique ones (emails, names) stay plain.
        The loader gives text only; a missing value or a number (a frame built another
        way) makes tidying raise TypeError, and the column is then made text first.
        """
        try:
            return self._sent_of(cells.to_numpy(dtype=object), cells.index, target)
        except TypeError:
            texts = _as_text(cells).to_numpy(dtype=object)
            return self._sent_of(texts, cells.index, target)

    def _sent_of(self, cells: np.ndarray, index: pd.Index, target: _Target) -> pd.Series:
        spec = target.spec
        if _mostly_distinct(cells):
            return pd.Series(self._sent_texts(cells.tolist(), spec), index=index, dtype=object)
        codes, uniques = pd.factorize(cells)  # object: the fast hash
        if len(codes) and codes.min() < 0:
            raise TypeError("a missing value")  # factorize leaves NaN/None out: not text
        categories = pd.Index(self._remembered(uniques.tolist(), target), dtype=object)
        if not categories.is_unique:  # " a" and "a" both became "a": merge them
            merged, categories = pd.factorize(categories)
            codes = merged[codes]
        column = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))
        return pd.Series(column, index=index)

    def _remembered(self, texts: list[str], target: _Target) -> list[str]:
        """Sent texts of a repeating column's values; those met in earlier chunks are kept."""
        known = self._known.setdefault(target.key, {})
        if len(known) > REMEMBERED:
            known.clear()
        new = list(filterfalse(known.__contains__, texts))  # a C loop, no frame per text
        if new:  # raises TypeError, as _sent_texts does, before a non-text is kept
            known.update(zip(new, self._sent_texts(new, target.spec), strict=True))
        return list(map(known.__getitem__, texts))

    def _sent_texts(self, texts: list[str], spec: FieldSpec) -> list[str]:
        texts = tidy(texts, spec.type)
        if spec.default is not None:
            default = spec.default.strip()
            texts = [text or default for text in texts]
        return normalise(texts, spec, self._readers)

    def _cell_failures(
        self, sent: pd.DataFrame, cell_problems: Mapping_[tuple[int, str], CellProblem]
    ) -> pd.DataFrame:
        """Cells that hold no value: an Excel error shown, or a formula never calculated."""
        rows: list[tuple[str, str, int, str]] = []
        for target in self._read_targets():
            column = sent[target.key]
            if isinstance(column.dtype, pd.CategoricalDtype):
                categories = column.cat.categories.tolist()
                if "#" not in "".join(categories):
                    continue
                shown = [excel_error(text) is not None for text in categories]
                bad = np.flatnonzero(np.asarray(shown, dtype=bool)[column.cat.codes.to_numpy()])
            else:
                texts = column.tolist()
                if "#" not in "".join(texts):
                    continue
                bad = np.asarray(
                    [i for i, text in enumerate(texts) if text[:1] == "#" and excel_error(text)],
                    dtype=np.int64,
                )
            rows += [(target.key, "excel_error", int(row), "") for row in sent.index[bad]]
        if cell_problems:
            by_label = {t.column: t.key for t in self._read_targets()}
            present = set(sent.index.tolist())
            for (row, label), problem in cell_problems.items():
                if row in present and label in by_label:
                    rows.append((by_label[label], str(problem), row, ""))
        return pd.DataFrame(rows, columns=CASE_COLUMNS)

    def _failures(self, sent: pd.DataFrame, cell_failures: pd.DataFrame) -> pd.DataFrame:
        """pandera's failure table, one line per (row, target, rule), required_if folded in."""
        extra = [frame for frame in (self._constant_required_if(sent), cell_failures) if len(frame)]
        try:
            self._schema.validate(sent, lazy=True)
        except pa_errors.SchemaErrors as exc:
            cases = exc.failure_cases
        else:
            if not extra:  # the usual chunk: nothing failed, no table to shape
                return pd.DataFrame({name: [] for name in (*CASE_COLUMNS, "rule")})
            cases = pd.DataFrame(columns=["schema_context", "column", "check", "check_number"])
            cases["index"] = []
        cases = self._frame_wide(cases.dropna(subset=["index"]))
        if extra:
            cases = pd.concat([cases, *extra], ignore_index=True)
        cases = cases.assign(index=cases["index"].astype("int64"), rule=cases["check"].astype(str))
        return self._drop_noise(cases)

    def _frame_wide(self, cases: pd.DataFrame) -> pd.DataFrame:
        """pandera's cases as (column, check, index, other): a frame-wide check (required_if)
        names itself and, in its statistics, the field it is about and the one it depends on;
        pandera lists every column for it: the one it is about is kept."""
        if not (cases["schema_context"] == "DataFrameSchema").any():
            return cases[["column", "check", "index"]].assign(other="")
        owners: list[str | None] = []
        others: list[str] = []
        for context, number in zip(cases["schema_context"], cases["check_number"], strict=True):
            stats = (
                self._schema.checks[int(number)].statistics if context == "DataFrameSchema" else {}
            )
            owners.append(stats.get("target"))
            others.append(str(stats.get("other", "")))
        checks = [
            REQUIRED_IF if owner is not None else str(check)
            for owner, check in zip(owners, cases["check"], strict=True)
        ]
        keep = [
            owner is None or column == owner
            for owner, column in zip(owners, cases["column"], strict=True)
        ]
        cases = cases.assign(check=checks, other=others)
        return cases.loc[keep, list(CASE_COLUMNS)]

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
                    rows += [(target.key, REQUIRED_IF, index, other) for index in empty]
        return pd.DataFrame(rows, columns=CASE_COLUMNS)

    def _drop_noise(self, cases: pd.DataFrame) -> pd.DataFrame:
        """A cell that is empty or unreadable gets that one message, not five; rows in order."""
        if not len(cases):
            return cases
        problem = cases["rule"].isin(_CELL_PROBLEMS)
        if problem.any():
            empty = set(zip(cases["index"][problem], cases["column"][problem], strict=True))
            cells = zip(cases["index"], cases["column"], strict=True)
            hidden = pd.Series([cell in empty for cell in cells], index=cases.index) & ~problem
            cases = cases[~hidden]
        stopper = cases["rule"].isin(_CELL_STOPPERS + _CELL_PROBLEMS)
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
        for row, key, other, rule in zip(
            cases["index"], cases["column"], cases["other"], cases["rule"], strict=True
        ):
            target = self._targets[key]
            raw = _cell(frame, row, target.column)
            reason = self._reason(
                rule, target, raw.strip(), str(sent.at[row, key]), other=other, sent=sent, row=row
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
        other: str = "",
        sent: pd.DataFrame | None = None,
        row: int | None = None,
    ) -> str:
        """The part of the message after `Row N, Column:` (`other`: what a required_if
        depends on)."""
        condition: tuple[str, str] | None = None
        if rule == REQUIRED_IF:
            if other in self._constants:
                other_value = self._constants[other]
            elif sent is not None:
                other_value = str(sent.at[row, other])
            else:
                other_value = ""
            condition = (self._targets[other].label, other_value)
        detail = self._detail(target.spec, text) if rule == "type" else None
        return reason(rule, target.spec, text, value, condition, detail)

    def _detail(self, spec: FieldSpec, text: str) -> str | None:
        """Why a value failed its type, where more can be said than "is not a ..."."""
        phones = self._readers.phones
        if spec.type == "phone" and (phones.region or text[:1] == "+" or text in phones.refused):
            return self._readers.phones.problem(text)
        if spec.type in ("date", "datetime"):
            return date_problem(
                text, self._mapping.date_order, spec.type == "datetime", spec.format or []
            )
        if spec.type == "email":
            hidden = invisible_in(text)
            if hidden:
                return f"contains an invisible character ({hidden}); retype the address"
        return None

    def _check_unique(
        self, sent: pd.DataFrame, frame: pd.DataFrame, invalid: set[int]
    ) -> list[RowError]:
        """A later row repeating the `unique` values of an earlier valid row is invalid."""
        if not self._unique:
            return []
        # the first part folded here; the others only where the first repeats
        parts = [self._folded(sent, self._unique[0])]
        parts += [self._texts(sent, key) for key in self._unique[1:]]
        rows = sent.index.to_numpy(dtype=np.int64)
        keep = ~sent.index.isin(list(invalid)) if invalid else None
        for part in parts:
            if not all(part):  # an empty part: the row has no key (all() is one C pass)
                filled = np.fromiter(map(bool, part), bool, len(part))
                keep = filled if keep is None else keep & filled
        if keep is not None:
            parts = [list(compress(part, keep)) for part in parts]
            rows = rows[keep]
        first = self._seen.first_rows(parts, rows, str.casefold)
        return [
            self._repeat_error(sent, frame, int(rows[i]), int(first[i]))
            for i in np.flatnonzero(first != rows).tolist()
        ]

    def _repeat_error(
        self, sent: pd.DataFrame, frame: pd.DataFrame, row: int, first: int
    ) -> RowError:
        target = self._targets[self._unique[0]]
        raw = _cell(frame, row, target.column)
        labels = join_words([self._targets[key].label for key in self._unique])
        message = f"Row {row}, {target.label}: same {labels} as row {first}"
        return RowError(int(row), target.label, raw, message)

    def _texts(self, sent: pd.DataFrame, key: str) -> list[str]:
        """One part of the unique key per row, as sent (a constant's trimmed text)."""
        if key in sent:
            texts: list[str] = sent[key].tolist()
            return texts
        return [self._constants.get(key, "").strip()] * len(sent)

    def _folded(self, sent: pd.DataFrame, key: str) -> list[str]:
        """One part of the unique key per row, compared ignoring case and surrounding space."""
        if key in sent:
            column = sent[key]
            if not isinstance(column.dtype, pd.CategoricalDtype):
                texts: list[str] = column.tolist()
                joined = "".join(texts)
                if joined.isascii() and joined.lower() == joined:
                    return texts  # nothing to fold
                return list(map(str.casefold, texts))
            folded = list(map(str.casefold, column.cat.categories.tolist()))
            codes = column.cat.codes.to_numpy()
            spread: list[str] = np.asarray(folded, dtype=object)[codes].tolist()
            return spread
        constant = self._constants.get(key, "").strip().casefold()
        return [constant] * len(sent)


def _column(checks: list[pa.Check]) -> pa.Column:
    """A sent column holds text only, never a null: pandera need not scan it for nulls."""
    return pa.Column(checks=checks, nullable=True)


def _cell(frame: pd.DataFrame, row: int, column: str | None) -> str:
    if column is None:
        return ""
    value: object = frame.at[row, column]
    missing = value is None or (isinstance(value, float) and value != value)
    return "" if missing else str(value)


def _mostly_distinct(values: np.ndarray, sample: int = 2000) -> bool:
    """Judged on the first rows: factorizing a near-unique column only costs time.

    Repeats in the sample estimate how many values the column draws from (the
    birthday problem), hence how many distinct ones the whole chunk will hold.
    """
    head = values[:sample].tolist()
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
