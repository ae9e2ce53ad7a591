"""The words of validation messages: what a user reads about a bad cell."""

from __future__ import annotations

import re
from dataclasses import replace

from importer.core.outcomes import RowOutcome, RowStatus
from importer.io.tables.cells import excel_error
from importer.rules.mapping.mapping import FieldSpec, plain_number

MESSAGE_VALUE_LIMIT = 60
_WORDED = (RowStatus.FAILURE, RowStatus.PARTIAL_SUCCESS)  # LeadSquared's words, not ours

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


def type_message(spec: FieldSpec) -> str:
    if spec.type in ("date", "datetime"):
        forms = ["YYYY-MM-DD" if spec.type == "date" else "YYYY-MM-DD hh:mm:ss"]
        forms += [_human_format(fmt) for fmt in spec.format or []]
        noun = "date" if spec.type == "date" else "date and time"
        return f"is not a valid {noun} (use {' or '.join(forms)})"
    return _TYPE_WORDS[spec.type]


def quote(text: str) -> str:
    text = str(text)
    if len(text) > MESSAGE_VALUE_LIMIT:
        text = text[: MESSAGE_VALUE_LIMIT - 1] + "…"
    return f'"{text}"'


def reason(
    rule: str,
    spec: FieldSpec,
    text: str,
    value: str,
    condition: tuple[str, str] | None = None,
    detail: str | None = None,
) -> str:
    """The part of a message after `Row N, Column:`.

    `condition` is required_if's (label, value); `detail` says why a value failed
    its type when more can be said (`February has no 31st`).
    """
    shown = quote(text if text != "" else value)
    if rule == "formula":
        return (
            "the cell holds a formula that was never calculated; "
            "open and save the file in Excel, or paste values"
        )
    if rule == "excel_error":
        code = excel_error(text) or excel_error(value) or text
        return f"the cell shows the Excel error {code}; fix the formula or type the value"
    if rule == "required":
        return "required but empty"
    if rule == "type" and detail:
        if spec.type == "phone":
            return f"{shown} is not a valid phone number: {detail}"
        if detail.startswith(("is ", "has ", "contains ")):
            return f"{shown} {detail}"
        return f"{shown}: {detail}"
    if rule == "type":
        return f"{shown} {type_message(spec)}"
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
    if rule == "required_if" and condition is not None:
        return f"required when {condition[0]} is {condition[1]}"
    return f"{shown} failed the {rule} rule"


def in_user_words(message: str, headers_by_schema: dict[str, str]) -> str:
    """LeadSquared's own failure text with the user's header before each Schema Name it names.

    `mx_Custom_19 is mandatory` → `Status Comment (mx_Custom_19) is mandatory`, for
    `headers_by_schema = {"mx_Custom_19": "Status Comment"}`. A name already written
    with its header is left alone.
    """
    names = [name for name in headers_by_schema if name and headers_by_schema[name] != name]
    if not names:
        return message
    pattern = re.compile(
        r"(?<![\w(])(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")(?!\w)"
    )

    def named(match: re.Match[str]) -> str:
        name = match.group(1)
        header = headers_by_schema[name]
        before = message[: match.start()]
        if before.endswith(f"{header} ("):
            return name
        return f"{header} ({name})"

    return pattern.sub(named, message)


# Targets whose LeadSquared name is not the part after the dot.
_FIXED_NAMES = {
    "note": "OpportunityNote",
    "datetime": "OpportunityDateTime",
    "opportunity_id": "ProspectOpportunityId",
}


def schema_name(target: str) -> str:
    """LeadSquared's name for a mapping target (`opportunity.mx_Custom_6` → `mx_Custom_6`)."""
    return _FIXED_NAMES.get(target, target.partition(".")[2] or target)


def headers_by_schema(columns: dict[str, str]) -> dict[str, str]:
    """{Schema Name: the user's header} for the lead and opportunity fields read from a column.

    `columns` maps targets (`opportunity.mx_Custom_19`) to input headers, as
    `resolve_columns` gives them; share settings are not fields and are left out.
    """
    return {
        schema_name(target): header
        for target, header in columns.items()
        if not target.startswith("share.")
    }


def outcome_in_user_words(outcome: RowOutcome, names: dict[str, str]) -> RowOutcome:
    """A Failure's (or PartialSuccess's) Message with the user's header beside each Schema Name."""
    if outcome.status not in _WORDED or not outcome.message or not names:
        return outcome
    message = in_user_words(outcome.message, names)
    return outcome if message == outcome.message else replace(outcome, message=message)
