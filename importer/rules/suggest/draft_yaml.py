"""A drafted mapping written as YAML a person can read: one commented line per column.

Written by hand rather than by a YAML dumper, so that every line carries its reason,
every field stays on one line as in mappings/loan.yaml, and what is left to decide
sits, commented out, where it would go.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import yaml

from importer.rules.mapping.mapping import Mapping
from importer.rules.suggest.suggest import Draft, Hold, Placement
from importer.rules.values.phones import country_name, sent_example

SECTIONS = ("lead", "opportunity")
TOP_LEVEL = ("note", "datetime")
UNKNOWN_FIELD = "mx_Custom_?"


def yaml_scalar(text: str) -> str:
    """`text` as a YAML value inside `{...}` or `[...]`: plain when that reads back the same."""
    try:
        if yaml.safe_load(f"k: {{v: {text}}}") == {"k": {"v": text}} and text == text.strip():
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def flow(rules: dict[str, object]) -> str:
    """`{column: E-mail ID, type: email, required: true}`."""
    return "{" + ", ".join(f"{key}: {_value(value)}" for key, value in rules.items()) + "}"


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return flow(value)
    return yaml_scalar(str(value))


def spec_line(name: str, column: str, rules: dict[str, object]) -> str:
    """`EmailAddress: {column: E-mail ID, type: email}` (the shorthand when there are no rules)."""
    if not rules:
        return f"{name}: {yaml_scalar(column)}"
    return f"{name}: {flow({'column': column, **rules})}"


def percent(confidence: float) -> str:
    return f"{round(confidence * 100)}%"


def render_draft(
    draft: Draft,
    *,
    input_name: str,
    where: str,
    check_command: str,
    event_code: int | None,
) -> str:
    """The whole mapping file: header comment, top-level keys, lead, opportunity, note."""
    lines = [
        f"# Mapping drafted by `lsq-import map suggest` from {input_name}",
        f"# ({where}).",
        "# Read every line marked TODO, then check the mapping without sending anything:",
        f"#   {check_command}",
        "# Each entry reads one column:  SchemaName: {column: Header, rules...}",
        "# (the rules are explained at the top of mappings/loan.yaml). The comment after each",
        "# line says how sure the draft is, and why.",
        "",
        "version: 1",
        "operation: capture",
    ]
    if event_code is None:
        lines.append(
            "opportunity_event_code: 0   # TODO: your opportunity type's code "
            "(Settings > Opportunities > Opportunity Types), e.g. 12000"
        )
    else:
        lines.append(f"opportunity_event_code: {event_code}")
    if draft.search_by:
        lines.append(f"search_by: {draft.search_by}   # LeadSquared finds the lead by this field")
    else:
        lines.append(
            "# search_by: EmailAddress   # TODO: no email, mobile or phone column was found; "
            "LeadSquared needs one of them to find the lead"
        )
    if draft.unique:
        lines.append(
            f"unique: [{', '.join(draft.unique)}]   # a later row repeating these is not sent"
        )
    if draft.default_country:
        lines.append(_country_line(draft.default_country))
    lines.extend(f"# Note: {note}" for note in draft.notes)
    for section in SECTIONS:
        body = _section(section, draft)
        if body:
            lines.extend(["", *body])
    top = [line for name in TOP_LEVEL for line in _top_level(name, draft)]
    if top:
        lines.append("")
        lines.extend(top)
    return "\n".join(lines) + "\n"


def _country_line(country: str) -> str:
    comment = (
        f"the phones look like numbers of {country_name(country)}: sent as {sent_example(country)}"
    )
    if "default_country" in Mapping.model_fields:
        return f"default_country: {country}   # {comment}"
    return f"# default_country: {country}   # {comment} (needs a newer lsq-import)"


def _section(section: str, draft: Draft) -> list[str]:
    prefix = section + "."
    placed = [p for p in draft.placed if p.target.startswith(prefix)]
    held = [h for h in draft.held if h.target and h.target.startswith(prefix)]
    unknown = [h for h in draft.held if h.target is None] if section == "opportunity" else []
    body = [f"  {_placed_line(p, p.target.removeprefix(prefix))}" for p in placed]
    for hold in held:
        body.extend(f"  {line}" for line in _held_lines(hold, hold.target or "", prefix))
    if unknown:
        body.extend(
            [
                "  # TODO: no LeadSquared field is known for these columns. To import one, write",
                "  # its opportunity field's Schema Name (Settings > Opportunities > Opportunity",
                "  # Types > Fields) in place of mx_Custom_?, then remove the #:",
            ]
        )
        body.extend(f"  {line}" for hold in unknown for line in _unknown_lines(hold))
    if placed:
        return [f"{section}:", *body]
    if not body:
        return []
    return [
        f"# {section}:   # TODO: remove this # too when you keep a line below",
        *body,
    ]


def _top_level(name: str, draft: Draft) -> list[str]:
    lines = [_placed_line(p, name) for p in draft.placed if p.target == name]
    for hold in draft.held:
        if hold.target == name:
            lines.extend(_held_lines(hold, name, ""))
    return lines


def _placed_line(placement: Placement, name: str) -> str:
    line = spec_line(name, placement.column, placement.rules)
    return f"{line}   # {percent(placement.confidence)}: {placement.reason}"


def _held_lines(hold: Hold, target: str, prefix: str) -> Iterable[str]:
    name = target.removeprefix(prefix)
    if len(hold.columns) > 1:
        yield f"# TODO not guessed: {hold.reason}:"
    else:
        yield f"# TODO {percent(hold.confidence)}, {hold.reason}; remove the # if it is right:"
    for column in hold.columns:
        yield f"# {spec_line(name, column, hold.rules)}"


def _unknown_lines(hold: Hold) -> Iterable[str]:
    for column in hold.columns:
        line = spec_line(UNKNOWN_FIELD, column, hold.rules)
        yield f"# {line}   # {hold.reason}"
