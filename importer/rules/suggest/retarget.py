"""Re-targeting a mapping to a file whose headers changed ("Notes" became "Remarks").

Each column of the old mapping is matched to a header by name (synonyms included)
and by how far the header's values obey the old rules; the mapping's own text is then
edited in place, only the column names changing, so every rule, key order and
comment stays. A ruled column that finds no header is left as a TODO (exit 1); an
optional one without rules is commented out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from importer.io.tables import normalize_header
from importer.rules.mapping.header_names import SYNONYM_SCORE, alike, name_match
from importer.rules.mapping.mapping import FieldSpec, Mapping
from importer.rules.mapping.synonyms import FIELDS
from importer.rules.suggest.draft_yaml import UNKNOWN_FIELD, percent, spec_line, yaml_scalar
from importer.rules.suggest.profile import AGREE, ColumnProfile, agreement
from importer.rules.suggest.suggest import Match, rules_of_type

PLACE = 0.7  # a header at least this likely is written into the mapping
TIE = 0.05  # two headers this close for one column: neither is chosen
ONLY_FIT = 0.75  # the one header whose values fit rules as specific as these
NEAREST = 0.4  # a header this alike is named in a TODO as the nearest one


@dataclass(frozen=True)
class _Candidate:
    score: float
    reason: str


@dataclass
class Retargeted:
    """The edited mapping text and what was decided for each of its columns."""

    yaml_text: str
    matches: list[Match]
    todo: list[str]  # the mapping's columns left unplaced although they carry rules
    dropped: list[str]  # optional columns without rules that were commented out
    unused: list[str]  # the file's headers the mapping does not read
    exit_code: int


@dataclass
class _Decision:
    target: str
    spec: FieldSpec
    header: str | None = None
    confidence: float = 0.0
    reason: str = ""
    options: list[str] = field(default_factory=list)
    fits: list[str] = field(default_factory=list)  # headers whose values obey its rules


def retarget_mapping(
    mapping: Mapping,
    text: str,
    headers: list[str],
    profiles: dict[str, ColumnProfile],
    *,
    input_name: str,
    duplicated: set[str] | None = None,
) -> Retargeted:
    """Match the mapping's columns to `headers` and rewrite `text` (the mapping file) to fit."""
    duplicated = duplicated or set()
    usable = [h for h in headers if h not in duplicated]
    decisions = _decide(mapping, usable, profiles)
    referenced = _referenced(mapping)
    todo, dropped, matches = [], [], []
    for decision in decisions:
        column = decision.spec.column or ""
        if decision.header is not None:
            matches.append(
                Match(
                    decision.header, decision.target, decision.confidence, decision.reason, column
                )
            )
        elif _has_rules(decision.spec) or decision.target in referenced:
            todo.append(column)
            matches.append(Match(column, decision.target, 0.0, decision.reason, column))
        else:
            dropped.append(column)
            matches.append(Match(column, None, 0.0, decision.reason, column))
    taken = {normalize_header(d.header) for d in decisions if d.header is not None}
    unused = [h for h in headers if normalize_header(h) not in taken]
    edited = _edit(text, mapping, decisions, set(todo), input_name)
    edited += _unused_block(unused, profiles, input_name)
    return Retargeted(edited, matches, todo, dropped, unused, 1 if todo else 0)


# ---------------------------------------------------------------- matching


def _decide(
    mapping: Mapping, headers: list[str], profiles: dict[str, ColumnProfile]
) -> list[_Decision]:
    decisions = [
        _Decision(target, spec)
        for target, spec in mapping.targets().items()
        if spec.column is not None
    ]
    scores = {
        (i, header): _score(d.target, d.spec, header, profiles[header])
        for i, d in enumerate(decisions)
        for header in headers
    }
    _only_fits(decisions, headers, profiles, scores)
    used: set[str] = set()
    ranked = sorted(scores.items(), key=lambda item: -item[1].score)
    for (i, header), found in ranked:
        decision = decisions[i]
        if decision.header is not None or decision.options or header in used:
            continue
        if found.score < PLACE:
            break
        rivals = [
            other
            for other in headers
            if other != header
            and other not in used
            and scores[(i, other)].score >= found.score - TIE
        ]
        if rivals:
            decision.options = [header, *rivals]
            decision.reason = "several headers fit equally well: " + ", ".join(
                f'"{h}"' for h in decision.options
            )
            continue
        decision.header, decision.confidence, decision.reason = header, found.score, found.reason
        used.add(header)
    _by_elimination(decisions, headers, used, profiles)
    for i, decision in enumerate(decisions):
        if decision.header is None and not decision.reason:
            best = max(headers, key=lambda h: scores[(i, h)].score, default=None)
            near = ""
            if best is not None and scores[(i, best)].score >= NEAREST:
                near = f'; the nearest is "{best}" ({percent(scores[(i, best)].score)})'

            decision.reason = f'no column like "{decision.spec.column}" in the file{near}'
            free = [h for h in decision.fits if h not in used]
            if len(free) > 1:
                decision.reason += "; the values of " + _quoted(free) + " fit its rules: choose one"
    return decisions


def _score(target: str, spec: FieldSpec, header: str, profile: ColumnProfile) -> _Candidate:
    column = spec.column or ""
    name = alike(column, header, target)
    agrees = agreement(spec, profile)
    if normalize_header(column) == normalize_header(header):
        return _Candidate(1.0, "same header")
    if name >= 1.0:
        reason = f'"{header}" is "{column}" written differently'
    elif name >= 0.9:
        reason = f'"{header}" is another name for "{column}"'
    else:
        reason = f'"{header}" is like "{column}"'
    if agrees is None:
        return _Candidate(name, reason)
    if agrees >= 0.95:
        reason += "; its values fit the old rules"
    else:
        reason += f"; {percent(agrees)} of its values fit the old rules"
    return _Candidate(name * (0.6 + 0.4 * agrees), reason)


def _quoted(headers: list[str]) -> str:
    named = [f'"{header}"' for header in headers]
    return ", ".join(named[:-1]) + " and " + named[-1]


def _specific(spec: FieldSpec) -> bool:
    """Rules a text column cannot satisfy by chance (a type, a list, a pattern)."""
    return bool(spec.allowed or spec.pattern or spec.type != "string")


def _only_fits(
    decisions: list[_Decision],
    headers: list[str],
    profiles: dict[str, ColumnProfile],
    scores: dict[tuple[int, str], _Candidate],
) -> None:
    """A column with specific rules and one header whose values obey them: that header.

    A header whose name says it is another field ("Zip/Postal Code" for a number column)
    is not a candidate by its values alone.
    """
    named = {h: _fields_named(h) for h in headers}  # once per header, not per column
    for i, decision in enumerate(decisions):
        if not _specific(decision.spec):
            continue
        fits = [
            h
            for h in headers
            if (agreement(decision.spec, profiles[h]) or 0.0) >= AGREE
            and not named[h] - {decision.target}
        ]
        decision.fits = fits
        if len(fits) == 1 and scores[(i, fits[0])].score < ONLY_FIT:
            scores[(i, fits[0])] = _Candidate(
                ONLY_FIT, f'the only column whose values fit the rules of "{decision.spec.column}"'
            )


def _fields_named(header: str) -> set[str]:
    """The standard fields a header surely names ("PIN Code": lead.mx_Zip)."""
    return {words.target for words in FIELDS if name_match(header, words).score >= SYNONYM_SCORE}


def _by_elimination(
    decisions: list[_Decision],
    headers: list[str],
    used: set[str],
    profiles: dict[str, ColumnProfile],
) -> None:
    """One column of the mapping left and one header of the file left: name it, never place it."""
    left = [d for d in decisions if d.header is None and not d.options]
    free = [h for h in headers if h not in used]
    if len(left) != 1 or len(free) != 1:
        return
    decision, header = left[0], free[0]
    agrees = agreement(decision.spec, profiles[header])
    if agrees is not None and agrees < AGREE:
        return
    decision.reason = (
        f'no column like "{decision.spec.column}" in the file; "{header}" is the only header '
        "left, if it holds the same data"
    )


def _has_rules(spec: FieldSpec) -> bool:
    return bool(
        spec.type != "string"
        or spec.required
        or spec.default is not None
        or spec.allowed
        or spec.max_length is not None
        or spec.min is not None
        or spec.max is not None
        or spec.pattern
        or spec.format
        or spec.required_if
    )


def _referenced(mapping: Mapping) -> set[str]:
    """Targets other keys name (search_by, unique, required_if): never dropped."""
    names = set(mapping.unique)
    if mapping.search_by:
        names.add(mapping.search_by)
    for spec in mapping.targets().values():
        names.update(spec.required_if or {})
    found = {mapping.find_target(name) for name in names}
    return {target for target in found if target}


# ---------------------------------------------------------------- editing the text


@dataclass(frozen=True)
class _Spot:
    """Where a target's column name sits in the text, and the lines its entry spans."""

    start: int  # character offsets of the column name's scalar
    end: int
    key_line: int  # 0-based line of the target's key
    last_line: int  # 0-based last line of its entry
    indent: int


def _spots(text: str) -> dict[str, _Spot]:
    """Target (`lead.EmailAddress`, `note`, `share.user_id`) → where its column is written."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    found: dict[str, _Spot] = {}
    if not isinstance(root, yaml.MappingNode):
        return found
    for key, value in root.value:
        name = str(key.value)
        if name in ("lead", "opportunity", "share") and isinstance(value, yaml.MappingNode):
            for inner_key, inner_value in value.value:
                _spot_of(f"{name}.{inner_key.value}", inner_key, inner_value, found)
        elif name in ("note", "datetime", "opportunity_id"):
            _spot_of(name, key, value, found)
    return found


def _spot_of(target: str, key: yaml.Node, value: yaml.Node, found: dict[str, _Spot]) -> None:
    scalar: yaml.Node | None = None
    if isinstance(value, yaml.ScalarNode):
        scalar = value
    elif isinstance(value, yaml.MappingNode):
        scalar = next((v for k, v in value.value if k.value == "column"), None)
    if not isinstance(scalar, yaml.ScalarNode):
        return
    last = value.end_mark.line
    if value.end_mark.column == 0 and last > key.start_mark.line:
        last -= 1  # a block mapping ends at the start of the next line
    found[target] = _Spot(
        scalar.start_mark.index,
        scalar.end_mark.index,
        key.start_mark.line,
        last,
        key.start_mark.column,
    )


def _edit(
    text: str, mapping: Mapping, decisions: list[_Decision], todo: set[str], input_name: str
) -> str:
    spots = _spots(text)
    renames: list[tuple[int, int, str]] = []
    notes: dict[int, list[str]] = {}  # comment lines to insert above a line
    drops: list[tuple[int, int]] = []
    for decision in decisions:
        spot = spots.get(decision.target)
        if spot is None:
            continue
        pad = " " * spot.indent
        column = decision.spec.column or ""
        if decision.header is not None:
            if normalize_header(decision.header) != normalize_header(column):
                renames.append((spot.start, spot.end, yaml_scalar(decision.header)))
                notes.setdefault(spot.key_line, []).append(
                    f'{pad}# was "{column}"; {percent(decision.confidence)}: {decision.reason}'
                )
        elif column in todo:
            notes.setdefault(spot.key_line, []).append(
                f"{pad}# TODO: {decision.reason}; write the right header here, or remove the field"
            )
        else:
            notes.setdefault(spot.key_line, []).append(
                f"{pad}# Dropped: {decision.reason}; it had no rules"
            )
            drops.append((spot.key_line, spot.last_line))
    for start, end, new in sorted(renames, reverse=True):
        text = text[:start] + new + text[end:]
    lines = text.split("\n")
    for first, last in drops:
        for number in range(first, last + 1):
            stripped = lines[number].lstrip()
            lines[number] = lines[number][: len(lines[number]) - len(stripped)] + "# " + stripped
    for number in sorted(notes, reverse=True):
        lines[number:number] = notes[number]
    name = mapping.source.name if mapping.source else "the mapping"
    stamp = f"# Re-targeted to {input_name} by `lsq-import map suggest --from {name}`."
    return stamp + "\n" + "\n".join(lines)


def _unused_block(unused: list[str], profiles: dict[str, ColumnProfile], input_name: str) -> str:
    if not unused:
        return ""
    lines = [
        "",
        f"# Columns of {input_name} this mapping does not read. To import one, add it under",
        "# opportunity: (or lead:) with its field's Schema Name in place of mx_Custom_?:",
    ]
    for header in unused:
        profile = profiles[header]
        rules = rules_of_type(profile.type, profile)
        line = spec_line(UNKNOWN_FIELD, header, rules)
        lines.append(f"#   {line}   # {profile.describe()}")
    text = "\n".join(lines) + "\n"
    return text
