"""Matching a file's columns to LeadSquared fields, one choice per column: no YAML typed.

The page shows one row per column of the file, preselected from `map suggest` (or from
an existing mapping when one is edited), and saves what the user chose as a normal
mapping file. A choice that cannot make a mapping (a custom field without its Schema
Name, two columns on one field, no field to find the lead by) is refused next to the
input it is about; every input is handed back as it was typed.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from importer.commands.suggest import Suggestion, suggest_mapping
from importer.core.errors import MappingError, UserError
from importer.rules.mapping.mapping import FieldSpec
from importer.rules.mapping.mapping_file import load_mapping
from importer.rules.mapping.synonyms import FIELDS
from importer.rules.suggest.suggest import Match

CUSTOM = "opportunity.*"  # "another opportunity field": its Schema Name is typed
CUSTOM_LEAD = "lead.*"  # "another lead field" (a custom lead field, mx_...), the same way
TYPES = ("string", "email", "phone", "number", "integer", "date", "datetime", "boolean")
# The lead attributes LeadSquared can find a lead by (the search_by of a capture), best first.
SEARCH_BY = ("lead.EmailAddress", "lead.Mobile", "lead.Phone")
_SCHEMA_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
SAMPLES = 3
# What the screen itself decides; an edited mapping's other keys are kept as they were.
_MATCHED_KEYS = frozenset(
    {"version", "operation", "opportunity_event_code", "search_by", "default_country"}
    | {"lead", "opportunity", "note", "datetime"}
)


@dataclass
class ColumnChoice:
    """One column of the file and what it goes to."""

    column: str
    field: str = ""  # lead.<Attribute>, opportunity.<SchemaName>, note, datetime, CUSTOM...
    schema_name: str = ""  # with CUSTOM or CUSTOM_LEAD: the field's Schema Name
    type: str = "string"
    required: bool = False
    samples: list[str] = dataclasses.field(default_factory=list)
    confidence: float = 0.0
    reason: str = ""
    drafted: str = ""  # the target and type the draft chose, its other rules (formats...)
    drafted_type: str = ""
    rules: dict[str, object] = dataclasses.field(default_factory=dict)

    @property
    def target(self) -> str:
        """Where the value goes, custom fields by their Schema Name."""
        if self.field in (CUSTOM, CUSTOM_LEAD):
            return self.field.replace("*", self.schema_name.strip())
        return self.field


@dataclass
class Matching:
    """The whole screen: every column, the opportunity type code, the mapping's name."""

    columns: list[ColumnChoice]
    event_code: str = ""
    name: str = ""
    default_country: str | None = None
    problems: dict[str, str] = dataclasses.field(default_factory=dict)  # input key -> what is wrong
    yaml_text: str = ""  # the mapping as it would be saved (or as drafted)
    sheet: str | None = None  # what the draft read: the check and the import read the same
    header_row: int | None = None
    # an edited mapping's other settings (unique, options, share...), written back as they were
    extra: dict[str, object] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)  # e.g. a mapping column not found
    replaces: str = ""  # the mapping file being changed: the one name a save may overwrite
    # the draft's `unique` (search_by and the opportunity name): kept while both are mapped
    drafted_unique: list[str] = dataclasses.field(default_factory=list)


def field_choices() -> list[tuple[str, str]]:
    """(value, label) of every field a column can go to, for the drop-down."""
    known = [(words.target, f"{words.label} ({_name_of(words.target)})") for words in FIELDS]
    return [
        *known,
        (CUSTOM_LEAD, "another lead field (type its Schema Name)"),
        (CUSTOM, "another opportunity field (type its Schema Name)"),
    ]


def _custom(target: str) -> str:
    """The "another ... field" choice a target not in the drop-down is shown under."""
    return CUSTOM_LEAD if target.startswith("lead.") else CUSTOM


def propose(
    input_path: Path, *, sheet: str | None, header_row: int | None, event_code: int | None
) -> Matching:
    """The drafted matching of a file: `map suggest`'s choices, with samples and sureness."""
    found = suggest_mapping(input_path, event_code=event_code, sheet=sheet, header_row=header_row)
    placed = _placed_specs(found.yaml_text)
    known = {value for value, _ in field_choices()}
    columns = []
    order = {header: i for i, header in enumerate(found.samples)}  # the file's own order
    for match in sorted(found.matches, key=lambda m: order.get(m.column, len(order))):
        chosen = match.target or ""
        # a column left unplaced keeps what its values say (a date's format) for whoever
        # chooses a field for it
        own = {"column": match.column, **found.column_rules.get(match.column, {})}
        spec = placed.get(chosen, {}) if chosen else own
        columns.append(
            ColumnChoice(
                column=match.column,
                field=chosen if chosen in known else (_custom(chosen) if chosen else ""),
                schema_name=_name_of(chosen) if chosen and chosen not in known else "",
                type=str(spec.get("type", "string")),
                required=bool(spec.get("required", False)),
                samples=found.samples.get(match.column, [])[:SAMPLES],
                confidence=match.confidence if chosen else 0.0,
                reason=match.reason,
                drafted=chosen,
                drafted_type=str(spec.get("type", "string")),
                rules={k: v for k, v in spec.items() if k not in ("column", "type", "required")},
            )
        )
    return Matching(
        columns=columns,
        event_code=str(event_code or ""),
        default_country=found.default_country,
        yaml_text=found.yaml_text,
        sheet=found.sheet,
        header_row=found.header_row,
        drafted_unique=_drafted_unique(found.yaml_text),
    )


def from_mapping(
    mapping_path: Path, input_path: Path, *, sheet: str | None, header_row: int | None
) -> Matching:
    """An existing mapping on the same screen, re-targeted to this file's headers.

    A column renamed since the mapping was written ("Expected Close" is now "Sanction
    By") is placed as `map suggest --from` places it: by name, or by values that fit
    the old rules (dates, numbers, `allowed` lists); what stays unplaced is said.
    """
    mapping = load_mapping(mapping_path)
    if mapping.operation != "capture":
        raise UserError(
            f"{mapping_path.name} is an update mapping: change it as text (the matching "
            "screen makes capture mappings)"
        )
    found = suggest_mapping(
        input_path, from_mapping=mapping_path, sheet=sheet, header_row=header_row
    )
    specs = {
        (spec.column or "").strip().casefold(): (target, spec)
        for target, spec in mapping.targets().items()
        if spec.column is not None
        and (target.startswith(("lead.", "opportunity.")) or target in ("note", "datetime"))
    }
    placed = {
        match.column: match
        for match in found.matches
        if match.target and match.confidence > 0 and match.old_column is not None
    }
    columns = []
    for header in _headers_of(found):
        match = placed.get(header)
        target, spec = ("", FieldSpec(column=header))
        if match is not None and match.old_column is not None:
            target, spec = specs.get(match.old_column.strip().casefold(), (target, spec))
        choice = _choice_of_spec(header, target, spec)
        choice.samples = found.samples.get(header, [])[:SAMPLES]
        if target and match is not None:
            choice.confidence, choice.reason = match.confidence, _edit_reason(match)
        columns.append(choice)
    code = mapping.opportunity_event_code
    document = yaml.safe_load(mapping_path.read_text(encoding="utf-8")) or {}
    return Matching(
        columns=columns,
        event_code=str(code) if code else "",
        name=mapping_path.stem,
        replaces=mapping_path.name,
        default_country=mapping.default_country,
        sheet=found.sheet,
        header_row=found.header_row,
        extra={k: v for k, v in document.items() if k not in _MATCHED_KEYS},
        notes=[f'"{column}" of the mapping is not in this file' for column in found.todo],
    )


def _choice_of_spec(header: str, target: str, spec: FieldSpec) -> ColumnChoice:
    """A column the mapping sends to `target` with `spec`'s rules ("" : not imported)."""
    custom = bool(target) and target not in {value for value, _ in field_choices()}
    return ColumnChoice(
        column=header,
        field=_custom(target) if custom else target,
        schema_name=_name_of(target) if custom else "",
        type=spec.type,
        required=spec.required,
        drafted=target,
        drafted_type=spec.type,
        rules=spec.model_dump(
            exclude={"column", "value", "type", "required", "line"}, exclude_none=True
        ),
    )


def _headers_of(found: Suggestion) -> list[str]:
    """The file's headers in their order: the placed ones and those the mapping skips."""
    placed = [m.column for m in found.matches if m.target and m.confidence > 0]
    order = {header: i for i, header in enumerate(found.samples)}
    return sorted({*placed, *found.unused}, key=lambda header: order.get(header, len(order)))


def _edit_reason(match: Match) -> str:
    if match.reason == "same header":
        return "as the mapping has it"
    return f'was "{match.old_column}" in the mapping: {match.reason}'


def save_matching(matching: Matching, folder: Path) -> Path:
    """Write the matching as `<name>.yaml` in `folder`, or raise `MatchingRefused` naming
    each input that is wrong (the page keeps every input and shows the reasons)."""
    problems, text = _mapping_text(matching)
    matching.yaml_text = text
    name = re.sub(r"[^A-Za-z0-9 _.-]+", "", matching.name).strip(" .")[:60] or "mapping"
    path = folder / f"{name}.yaml"
    if path.exists() and path.name != matching.replaces:  # another mapping (watch may use it)
        problems["mapping-name"] = (
            f"A mapping named {path.name} already exists: give this one another name"
        )
    if problems:
        raise MatchingRefused(problems)
    folder.mkdir(parents=True, exist_ok=True)
    candidate = path.with_suffix(".yaml.new")
    candidate.write_text(text, encoding="utf-8")
    try:
        load_mapping(candidate)
    except MappingError as exc:
        candidate.unlink()
        raise MatchingRefused({"": str(exc).replace(candidate.name, path.name)}) from None
    candidate.replace(path)
    return path


class MatchingRefused(UserError):
    """The choices cannot make a mapping; `problems` says which input is wrong and why."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def _mapping_text(matching: Matching) -> tuple[dict[str, str], str]:
    """(problems by input key, the mapping's YAML)."""
    problems: dict[str, str] = {}
    code = matching.event_code.strip()
    if not code.isdigit() or int(code) < 1:
        problems["event-code"] = (
            "Type the opportunity type code, a whole number (LeadSquared: Settings › "
            "Opportunities › Opportunity Types)"
        )
    if not matching.name.strip():
        problems["mapping-name"] = "Give the mapping a name"
    sections, seen = _sections(matching.columns, problems)
    lead, opportunity, top = sections["lead"], sections["opportunity"], sections[""]
    _unique_is_mapped(matching, seen, problems)
    search_by = next((t.partition(".")[2] for t in SEARCH_BY if t in seen), None)
    if search_by is None and not problems:
        # beside the column that looks like it (emails or phones), else above the table
        likely = [
            i
            for i, c in enumerate(matching.columns)
            if c.type in ("email", "phone") or c.drafted_type in ("email", "phone")
        ]
        problems[f"field-{likely[0]}" if likely else ""] = (
            "Choose the column LeadSquared finds the lead by: an email address, mobile or phone"
        )
    document: dict[str, object] = {
        "version": 1,
        "operation": "capture",
        "opportunity_event_code": int(code) if code.isdigit() else 0,
        "search_by": search_by or "EmailAddress",
    }
    if matching.default_country:
        document["default_country"] = matching.default_country
    mapped = {_name_of(target) for target in seen}
    if matching.drafted_unique and set(matching.drafted_unique) <= mapped:
        document["unique"] = matching.drafted_unique  # as `map suggest` drafts it
    document |= matching.extra
    document |= {"lead": lead, "opportunity": opportunity, **top}
    text = "# Saved from the page's column matching; you can edit it as any mapping.\n"
    return problems, text + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _unique_is_mapped(matching: Matching, seen: dict[str, str], problems: dict[str, str]) -> None:
    """An edited mapping's `unique` names fields: each must still come from a column.

    The reason stands beside the column that brought the field (it was set to "don't
    import" or moved), else above the table.
    """
    unique = matching.extra.get("unique")
    names = [unique] if isinstance(unique, str) else unique if isinstance(unique, list) else []
    mapped = {_name_of(target) for target in seen}
    labels = {_name_of(value): label for value, label in field_choices()}
    for name in (str(n) for n in names):
        if name in mapped:
            continue
        why = (
            f"The mapping tells rows apart by {labels.get(name, name)}, in its `unique`: "
            "keep a column on this field, or change `unique` in the mapping file"
        )
        was = [
            i
            for i, c in enumerate(matching.columns)
            if c.drafted.partition(".")[2] == name and f"field-{i}" not in problems
        ]
        problems[f"field-{was[0]}" if was else ""] = why


def _sections(
    columns: list[ColumnChoice], problems: dict[str, str]
) -> tuple[dict[str, dict[str, dict[str, object]]], dict[str, str]]:
    """Each chosen column's spec by section ("lead", "opportunity", "" for note and date),
    and which column each target came from; a wrong choice is put in `problems`."""
    sections: dict[str, dict[str, dict[str, object]]] = {"lead": {}, "opportunity": {}, "": {}}
    seen: dict[str, str] = {}
    for index, choice in enumerate(columns):
        if not choice.field:
            continue
        custom = choice.field in (CUSTOM, CUSTOM_LEAD)
        if custom and not _SCHEMA_NAME.fullmatch(choice.schema_name.strip()):
            problems[f"schema-name-{index}"] = (
                "Type the field's Schema Name as LeadSquared shows it (e.g. mx_Custom_7)"
            )
            continue
        if choice.type not in TYPES:
            problems[f"type-{index}"] = f"Choose one of: {', '.join(TYPES)}"
            continue
        target = choice.target
        if target in seen:
            problems[f"field-{index}"] = (
                f"{seen[target]} already goes to this field: choose another"
            )
            continue
        seen[target] = choice.column
        spec: dict[str, object] = {"column": choice.column}
        if choice.type != "string":
            spec["type"] = choice.type
        if choice.required:
            spec["required"] = True
        as_drafted = (target, choice.type) == (choice.drafted, choice.drafted_type)
        unplaced = not choice.drafted and choice.type == choice.drafted_type
        if as_drafted or unplaced:  # the draft's rules, or the column's own (its format)
            spec |= choice.rules
        section, _, name = target.partition(".")
        if section in ("lead", "opportunity"):
            sections[section][name] = spec
        else:
            sections[""][target] = spec
    return sections, seen


def _drafted_unique(yaml_text: str) -> list[str]:
    try:
        unique = (yaml.safe_load(yaml_text) or {}).get("unique")
    except yaml.YAMLError:
        return []
    return [str(name) for name in unique] if isinstance(unique, list) else []


def _placed_specs(yaml_text: str) -> dict[str, dict[str, object]]:
    """target -> its spec, from a drafted mapping's YAML (comments and TODOs aside)."""
    try:
        document = yaml.safe_load(yaml_text) or {}
    except yaml.YAMLError:
        return {}
    found: dict[str, dict[str, object]] = {}
    for section in ("lead", "opportunity"):
        for name, spec in (document.get(section) or {}).items():
            found[f"{section}.{name}"] = spec if isinstance(spec, dict) else {"column": spec}
    for name in ("note", "datetime"):
        spec = document.get(name)
        if isinstance(spec, dict):
            found[name] = spec
    return found


def _name_of(target: str) -> str:
    return target.partition(".")[2] or target
