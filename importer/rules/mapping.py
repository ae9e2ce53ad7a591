"""Mapping files: YAML → a checked `Mapping` model, every problem named by file, key and line."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from importer.core.errors import MappingError
from importer.io.loader import normalize_header

FieldType = Literal["string", "email", "phone", "number", "integer", "date", "datetime", "boolean"]
Operation = Literal["capture", "update"]

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
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()  # a bare YAML date
    return value


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
        return _where(self.source, spec.line if spec else None, target)


# ---------------------------------------------------------------- loading


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; any problem is one `MappingError` line."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MappingError(f"Mapping file {source} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"Mapping file {source} cannot be read: {exc}") from None
    data, lines = _parse_yaml(text, source)
    if not isinstance(data, dict):
        raise MappingError(f"{source.name}: a mapping file must be a set of `key: value` lines")
    if "source" in data:
        raise MappingError(_where(source, lines.get(("source",)), "source") + ": unknown key")
    try:
        mapping = Mapping.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise MappingError(_explain(exc, lines, source)) from None
    for target, spec in mapping.targets().items():
        spec.line = lines.get(tuple(target.split(".", 1)))
    _check_whole(mapping, lines)
    return mapping


def _parse_yaml(text: str, source: Path) -> tuple[Any, dict[Path_, int]]:
    """Parse once, keeping each key's line; duplicate keys are an error, not a silent overwrite."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise MappingError(f"{source.name}{where}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"{source.name}: YAML syntax error: {exc}") from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    if node is not None:
        _record_lines(node, (), lines, source)
    return data, lines


def _record_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int], source: Path) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if child in lines:
                where = _where(source, key_node.start_mark.line + 1, ".".join(map(str, child)))
                raise MappingError(f"{where}: key repeated (first at line {lines[child]})")
            lines[child] = key_node.start_mark.line + 1
            _record_lines(value_node, child, lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _record_lines(item, (*path, index), lines, source)


def _where(source: Path | None, line: int | None, key_path: str) -> str:
    name = source.name if source else "mapping"
    at = f" line {line}" if line else ""
    return f"{name}{at} ({key_path})" if key_path else f"{name}{at}"


def _line_of(loc: Path_, lines: dict[Path_, int]) -> int | None:
    """The line of the deepest key of `loc` the file spells out."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


# ---------------------------------------------------------------- pydantic → one line

_FIELD_KEYS = tuple(name for name in FieldSpec.model_fields if name != "line")
_SHARE_KEYS = tuple(ShareSpec.model_fields)
_TOP_KEYS = tuple(name for name in Mapping.model_fields if name != "source")
_CHOICES = {"type": get_args(FieldType), "operation": get_args(Operation)}


def _keys_at(loc: Path_) -> tuple[str, ...]:
    """The keys allowed in the block that holds the last element of `loc`."""
    if len(loc) == 1:
        return _TOP_KEYS
    if loc[0] == "share" and len(loc) == 2:
        return _SHARE_KEYS
    return _FIELD_KEYS


def _explain(exc: ValidationError, lines: dict[Path_, int], source: Path) -> str:
    """The first problem (by line) as one sentence a non-programmer can act on."""
    problems = []
    for error in exc.errors():
        loc: Path_ = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
        problems.append((_line_of(loc, lines) or 0, loc, error))
    problems.sort(key=lambda item: item[0])
    line, loc, error = problems[0]
    key_path, message = _describe(loc, error)
    text = f"{_where(source, line or None, key_path)}: {message}"
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return text


def _describe(loc: Path_, error: Any) -> tuple[str, str]:
    kind = error["type"]
    shown = loc
    while shown and isinstance(shown[-1], int):
        shown = shown[:-1]  # list positions: name the list
    attr = str(shown[-1]) if shown else ""
    # Errors about one key of a field spec are shown at the spec, naming the key.
    owner = shown
    if len(shown) > 1 and (attr in _FIELD_KEYS or kind == "extra_forbidden"):
        owner = shown[:-1]
    key_path = ".".join(map(str, owner))
    given = error.get("input")
    if kind == "literal_error":
        choices = ", ".join(_CHOICES.get(attr, ()))
        return key_path, f'unknown {attr} "{given}"; use one of {choices}'
    if kind == "extra_forbidden":
        allowed = ", ".join(_keys_at(shown))
        where = "top-level key" if len(shown) == 1 else "key"
        return key_path, f'unknown {where} "{attr}"; use one of {allowed}'
    if kind == "missing":
        return key_path, f'"{attr}" is missing'
    if kind.startswith("int_"):
        return key_path, f'{attr} must be a whole number, not "{given}"'
    if kind.startswith("float_"):
        return key_path, f'{attr} must be a number, not "{given}"'
    if kind.startswith("bool_"):
        return key_path, f'{attr} must be true or false, not "{given}"'
    if kind == "string_type":
        return key_path, f'{attr} must be text, not "{given}"'
    if kind == "list_type":
        return key_path, f"{attr} must be a list, like [A, B]"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return key_path, f"{attr or 'this'} must be a block of `key: value` lines, not {given!r}"
    message = str(error.get("msg", "is not valid"))
    return key_path, message.removeprefix("Value error, ")


# ---------------------------------------------------------------- whole-file rules


def _check_whole(mapping: Mapping, lines: dict[Path_, int]) -> None:
    """Rules that look at several keys at once."""
    source = mapping.source

    def fail(key: Path_, message: str, at: Path_ | None = None) -> MappingError:
        line = _line_of(at or key, lines) or _line_of(("operation",), lines) or 1
        return MappingError(f"{_where(source, line, '.'.join(map(str, key)))}: {message}")

    if mapping.version != 1:
        raise fail(("version",), f"version {mapping.version} is not supported; use version: 1")
    for name in mapping.options:
        if name not in KNOWN_OPTIONS:
            raise fail(
                ("options", name), f'unknown option "{name}"; use one of {", ".join(KNOWN_OPTIONS)}'
            )
    if mapping.operation == "capture":
        _check_capture(mapping, fail)
    else:
        _check_update(mapping, fail)
    for index, name in enumerate(mapping.unique):
        if mapping.find_target(name) is None:
            raise fail(("unique",), f'"{name}" is not a mapped field', at=("unique", index))
    _check_required_if(mapping, fail)


def _check_capture(mapping: Mapping, fail: Any) -> None:
    if mapping.opportunity_event_code is None:
        raise fail(
            ("opportunity_event_code",),
            "missing; a capture mapping needs the opportunity type's event code, e.g. 12000",
        )
    if mapping.opportunity_event_code < 1:
        raise fail(("opportunity_event_code",), "must be a positive whole number")
    if not mapping.lead:
        raise fail(("lead",), "missing; a capture mapping needs at least the lead's search field")
    if mapping.search_by is None:
        raise fail(("search_by",), "missing; name the lead field LeadSquared finds the lead by")
    if mapping.search_by not in mapping.lead:
        raise fail(
            ("search_by",),
            f'"{mapping.search_by}" is not mapped under lead; add it there or pick one of '
            + ", ".join(mapping.lead),
        )
    if mapping.opportunity_id is not None:
        raise fail(("opportunity_id",), "only used with operation: update; remove it")


def _check_update(mapping: Mapping, fail: Any) -> None:
    if mapping.opportunity_id is None:
        raise fail(
            ("opportunity_id",), "missing; an update mapping needs opportunity_id: {column: ...}"
        )
    for key in ("lead", "search_by", "opportunity_event_code", "options", "datetime", "share"):
        if getattr(mapping, key):
            raise fail((key,), f"not used by operation: update; remove {key}")
    if not mapping.opportunity and mapping.note is None:
        raise fail(("opportunity",), "an update mapping needs opportunity fields or a note")
    # Without the id LeadSquared cannot tell which opportunity to update: a blank one is Invalid.
    mapping.opportunity_id.required = True


def _check_required_if(mapping: Mapping, fail: Any) -> None:
    targets = mapping.targets()
    for target, spec in targets.items():
        for other, values in (spec.required_if or {}).items():
            path = (*target.split(".", 1), "required_if", other)
            found = mapping.find_target(other)
            if found is None:
                raise fail(
                    tuple(target.split(".", 1)),
                    f'required_if names "{other}", which is not mapped',
                    at=path,
                )
            if found == target:
                raise fail(
                    tuple(target.split(".", 1)), "required_if cannot name the field itself", at=path
                )
            allowed = targets[found].allowed
            if allowed:
                known = {item.strip().casefold() for item in allowed}
                for value in values:
                    if value.strip().casefold() not in known:
                        raise fail(
                            tuple(target.split(".", 1)),
                            f'required_if value "{value}" is not one of {other}\'s allowed values '
                            + ", ".join(allowed),
                            at=path,
                        )


# ---------------------------------------------------------------- columns


def resolve_columns(
    mapping: Mapping, headers: list[str], duplicate_headers: dict[str, list[str]] | None = None
) -> dict[str, str]:
    """Target → header label of the input, for every target read from a column.

    Headers match ignoring case and surrounding spaces. All missing columns are
    reported at once, so a user fixes the file in one go.
    """
    by_name: dict[str, list[str]] = {}
    for label in headers:
        by_name.setdefault(normalize_header(label), []).append(label)
    duplicated = dict(duplicate_headers or {})
    duplicated.update({name: labels for name, labels in by_name.items() if len(labels) > 1})
    found: dict[str, str] = {}
    missing: list[str] = []
    for target, spec in mapping.targets().items():
        if spec.column is None:
            continue
        name = normalize_header(spec.column)
        if name in duplicated:
            labels = ", ".join(f'"{label}"' for label in duplicated[name])
            raise MappingError(
                f'{mapping.where(target)}: column "{spec.column}" appears more than once in the '
                f"input ({labels}); rename or remove the extra one"
            )
        if name in by_name:
            found[target] = by_name[name][0]
        else:
            at = f"line {spec.line}, " if spec.line else ""
            missing.append(f'"{spec.column}" ({at}{target})')
    if missing:
        name = mapping.source.name if mapping.source else "mapping"
        have = ", ".join(f'"{label}"' for label in headers) or "none"
        raise MappingError(
            f"{name}: the input has no column {', '.join(missing)}; its columns are: {have}"
        )
    return found
