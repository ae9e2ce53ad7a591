"""Mapping files: YAML → a checked `Mapping`, every problem named by file, key and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from importer.core.errors import MappingError
from importer.rules.mapping.mapping import (
    KNOWN_OPTIONS,
    DateOrder,
    FieldSpec,
    FieldType,
    Mapping,
    Operation,
    ShareSpec,
    location,
)

Path_ = tuple[str | int, ...]

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
        raise MappingError(location(source, lines.get(("source",)), "source") + ": unknown key")
    try:
        mapping = Mapping.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise MappingError(_explain(exc, lines, source)) from None
    for target, spec in mapping.targets().items():
        spec.line = lines.get(tuple(target.split(".", 1)))
    _check_whole(mapping, lines)
    return mapping


# libyaml's parser when PyYAML was built with it (ten times faster); the same nodes and
# values, but its error texts differ: a file it refuses is read again by PyYAML's own.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_yaml(text: str, source: Path) -> tuple[Any, dict[Path_, int]]:
    """Parse once, keeping each key's line; duplicate keys are an error, not a silent overwrite."""
    fast = _FAST_LOADER(text)
    try:
        node = fast.get_single_node()
        data = fast.construct_document(node) if node is not None else None
    except yaml.YAMLError:
        return _parse_yaml_slowly(text, source)
    finally:
        fast.dispose()
    lines: dict[Path_, int] = {}
    if node is not None:
        _record_lines(node, (), lines, source)
    return data, lines


def _parse_yaml_slowly(text: str, source: Path) -> tuple[Any, dict[Path_, int]]:
    """PyYAML's own parser: its error texts are the ones `yaml_problem` words for users."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise MappingError(yaml_problem(exc, text, source.name)) from None
    except yaml.YAMLError as exc:
        raise MappingError(f"{source.name}: YAML syntax error: {exc}") from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    if node is not None:
        _record_lines(node, (), lines, source)
    return data, lines


def yaml_problem(exc: yaml.MarkedYAMLError, text: str, name: str) -> str:
    """PyYAML's complaint as one plain sentence naming the line to fix."""
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip())]
        if "\t" in indent:
            return f"{name} line {number} is indented with a Tab; use spaces"
    problem = exc.problem or ""
    context = exc.context or ""
    at = (exc.problem_mark.line + 1) if exc.problem_mark else None
    began = (exc.context_mark.line + 1) if exc.context_mark else at
    if "quoted scalar" in context:
        return (
            f"{name} line {began} opens a quote that is never closed; "
            "add the closing quote at the end of the value"
        )
    if "flow mapping" in context or "flow sequence" in context:
        opener, closer = ("{", "}") if "mapping" in context else ("[", "]")
        return (
            f"{name} line {began} opens {opener} but does not close it with {closer} "
            "(or a comma is missing between its items)"
        )
    if "could not find expected ':'" in problem:
        return f"{name} line {began} is missing the colon after its key; write it as `key: value`"
    if "mapping values are not allowed" in problem and at:
        return (
            f"{name} line {at} has a key where none can be: check that line {at - 1} has "
            f"its colon (`key: value`) and that line {at} is indented like the keys around it"
        )
    if "expected <block end>" in problem or "did not find expected key" in problem:
        return (
            f"{name} line {at} is not indented like the lines above it; keys of the same "
            "block need the same number of spaces"
        )
    if "expected the node content" in problem:
        return (
            f"{name} line {at} has a bracket or comma where a value should be; "
            "check that every [ and { there is closed and holds values"
        )
    if "found character" in problem and "cannot start any token" in problem:
        return f"{name} line {at} has a character YAML cannot read there; put the value in quotes"
    where = f" line {at}" if at else ""
    return f"{name}{where} is not valid YAML ({problem or context or 'unreadable'})"


def _record_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int], source: Path) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if child in lines:
                where = location(source, key_node.start_mark.line + 1, ".".join(map(str, child)))
                raise MappingError(f"{where}: key repeated (first at line {lines[child]})")
            lines[child] = key_node.start_mark.line + 1
            _record_lines(value_node, child, lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _record_lines(item, (*path, index), lines, source)


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
_CHOICES = {
    "type": get_args(FieldType),
    "operation": get_args(Operation),
    "date_order": get_args(DateOrder),
}


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
    text = f"{location(source, line or None, key_path)}: {message}"
    if len(problems) > 1:
        more = []
        for other_line, other_loc, other_error in problems[1:]:
            other_path, other_message = _describe(other_loc, other_error)
            at = f"line {other_line} " if other_line else ""
            more.append(f"{at}({other_path}): {other_message}")
        count = len(more)
        text += f"; and {count} more problem{'s' if count > 1 else ''}: " + "; ".join(more)
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
        return MappingError(f"{location(source, line, '.'.join(map(str, key)))}: {message}")

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
        raise fail(
            ("opportunity_event_code",),
            f"is {mapping.opportunity_event_code}; write your opportunity type's code "
            "(Settings > Opportunities > Opportunity Types), a positive whole number like 12000",
        )
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
