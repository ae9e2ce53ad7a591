"""The mapping model: which columns become which LeadSquared fields, and the rules they obey."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from importer.core.text import cell_text
from importer.rules.values.phones import known_region

FieldType = Literal["string", "email", "phone", "number", "integer", "date", "datetime", "boolean"]
Operation = Literal["capture", "update"]
DateOrder = Literal["DMY", "MDY", "YMD"]

# Capture Opportunities page: the flags the Opportunity object accepts besides Fields.
KNOWN_OPTIONS = (
    "UpdateEmptyFields",
    "DoNotPostDuplicateActivity",
    "DoNotChangeOwner",
    "OverwriteFields",
)
SHARE_ACCESS_WORDS = ("read", "edit")
_NUMERIC_TYPES = ("number", "integer")
_DATE_TYPES = ("date", "datetime")

Path_ = tuple[str | int, ...]


def _as_text(value: Any) -> Any:
    """YAML reads `value: 5` as an int and `yes` as a bool; every value we send is text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | list | dict) or value is None:
        return value
    return cell_text(value)


def plain_number(number: float) -> str:
    """1000000.0 → "1000000", 0.5 → "0.5": how a limit reads in a message."""
    number = float(number)
    return str(int(number)) if number.is_integer() else repr(number)


class FieldSpec(BaseModel):
    """Where one target's value comes from (a column or a constant) and the rules it must pass."""

    model_config = ConfigDict(extra="forbid")

    column: str | None = None
    value: str | None = None
    type: FieldType = "string"
    required: bool = False
    default: str | None = None
    allowed: list[str] | None = None
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    format: list[str] | None = None
    required_if: dict[str, list[str]] | None = None
    line: int | None = None  # set by load_mapping, for messages

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """`FirstName: First Name` means `{column: First Name}`."""
        if isinstance(data, str | int | float) and not isinstance(data, bool):
            return {"column": str(data)}
        if data is None:
            raise ValueError("is empty; give a column name or {column: ..., ...}")
        if isinstance(data, dict):
            return {
                key: _as_text(item) if key in ("column", "value", "default") else item
                for key, item in data.items()
            }
        return data

    @field_validator("allowed", mode="before")
    @classmethod
    def _allowed_as_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_as_text(item) for item in value]
        return value

    @field_validator("required_if", mode="before")
    @classmethod
    def _required_if_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: [_as_text(item) for item in (items if isinstance(items, list) else [items])]
                for key, items in value.items()
            }
        return value

    @field_validator("format", mode="before")
    @classmethod
    def _format_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("format")
    @classmethod
    def _format_parses(cls, value: list[str] | None) -> list[str] | None:
        for fmt in value or []:
            if "%" not in fmt:
                raise ValueError(f'format "{fmt}" has no date parts; write it like "%d/%m/%Y"')
            try:
                sample = datetime(2024, 12, 31, 23, 59, 58).strftime(fmt)
                datetime.strptime(sample, fmt)
            except ValueError as exc:
                raise ValueError(f'format "{fmt}" is not a usable date format ({exc})') from None
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(
                    f'pattern "{value}" is not a valid regular expression: {exc}'
                ) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if (self.column is None) == (self.value is None):
            raise ValueError("give exactly one of column (a header) or value (a constant)")
        if self.column is not None and not self.column.strip():
            raise ValueError("column is empty")
        if self.value is not None and self.default is not None:
            raise ValueError("default has no effect on a constant value; remove it")
        if (self.min is not None or self.max is not None) and self.type not in _NUMERIC_TYPES:
            raise ValueError(f"min/max apply only to number and integer fields, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(
                f"min {plain_number(self.min)} is greater than max {plain_number(self.max)}"
            )
        if self.format and self.type not in _DATE_TYPES:
            raise ValueError(f"format applies only to date and datetime fields, not {self.type}")
        if self.max_length is not None and self.max_length < 1:
            raise ValueError("max_length must be at least 1")
        if self.allowed is not None and not self.allowed:
            raise ValueError("allowed is an empty list")
        return self


class ShareSpec(BaseModel):
    """Share each created opportunity with a user (Share an Opportunity API)."""

    model_config = ConfigDict(extra="forbid")

    user_id: FieldSpec
    access: FieldSpec
    duration_minutes: int | None = None

    @field_validator("access", mode="before")
    @classmethod
    def _access_word(cls, value: Any) -> Any:
        """`access: read` is a constant, not a column name; a column must hold read or edit."""
        if isinstance(value, str):
            value = {"value": value}
        if isinstance(value, dict) and "allowed" not in value:
            value = {**value, "allowed": list(SHARE_ACCESS_WORDS)}
        return value

    @field_validator("access")
    @classmethod
    def _access_constant(cls, value: FieldSpec) -> FieldSpec:
        if value.value is not None and value.value.strip().casefold() not in SHARE_ACCESS_WORDS:
            raise ValueError(f'access "{value.value}" is not one of read, edit')
        return value

    @field_validator("duration_minutes")
    @classmethod
    def _positive(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("duration_minutes must be at least 1")
        return value


class Mapping(BaseModel):
    """A whole mapping file: which columns become which LeadSquared fields, and how."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    operation: Operation = "capture"
    opportunity_event_code: int | None = None
    search_by: str | None = None
    unique: list[str] = []
    options: dict[str, bool] = {}
    default_country: str | None = None
    date_order: DateOrder = "DMY"
    lead: dict[str, FieldSpec] = {}
    opportunity: dict[str, FieldSpec] = {}
    note: FieldSpec | None = None
    datetime: FieldSpec | None = None
    opportunity_id: FieldSpec | None = None
    share: ShareSpec | None = None
    source: Path | None = None

    @field_validator("unique", mode="before")
    @classmethod
    def _unique_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("default_country", mode="before")
    @classmethod
    def _country_code(cls, value: Any) -> Any:
        """`IN`, `in` or ` In `: phone numbers without a `+` are read as this country's."""
        if not isinstance(value, str):
            return value
        code = value.strip().upper()
        if not known_region(code):
            raise ValueError(
                f'default_country "{value}" is not a country code LeadSquared phones use; '
                "give the two-letter ISO code, like IN, US or GB"
            )
        return code

    @field_validator("date_order", mode="before")
    @classmethod
    def _order_upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    def targets(self) -> dict[str, FieldSpec]:
        """Every field by target (`lead.EmailAddress`, `note`, `share.access`), in file order."""
        found: dict[str, FieldSpec] = {}
        if self.opportunity_id is not None:
            found["opportunity_id"] = self.opportunity_id
        for name, spec in self.lead.items():
            found[f"lead.{name}"] = spec
        for name, spec in self.opportunity.items():
            found[f"opportunity.{name}"] = spec
        if self.note is not None:
            found["note"] = self.note
        if self.datetime is not None:
            found["datetime"] = self.datetime
        if self.share is not None:
            found["share.user_id"] = self.share.user_id
            found["share.access"] = self.share.access
        return found

    def find_target(self, name: str) -> str | None:
        """A bare name (`Status`) as used by unique/required_if: opportunity first, then lead."""
        known = self.targets()
        for candidate in (name, f"opportunity.{name}", f"lead.{name}"):
            if candidate in known:
                return candidate
        return None

    def where(self, target: str) -> str:
        """`loan.yaml line 12 (opportunity.mx_Custom_6)`: how messages point at a field."""
        spec = self.targets().get(target)
        return location(self.source, spec.line if spec else None, target)


def location(source: Path | None, line: int | None, key_path: str) -> str:
    name = source.name if source else "mapping"
    at = f" line {line}" if line else ""
    return f"{name}{at} ({key_path})" if key_path else f"{name}{at}"
