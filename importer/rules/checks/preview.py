"""The dry run's Preview sheet: the first payloads as a table, one column per LeadSquared field.

People who live in Excel read a table, not JSON: each column is titled with their own
header and the Schema Name it fills (`Loan Amount (mx_Custom_6)`), and each cell holds
the value exactly as it would be sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from importer.core.constants import SEARCH_BY_ATTRIBUTE
from importer.io.workbooks.report import PreviewTable
from importer.rules.checks.payload import Body
from importer.rules.mapping.mapping import Mapping
from importer.rules.mapping.messages import schema_name

ROW_NUMBER = "RowNumber"
CONSTANT = "same for every row"  # a `value:` in the mapping: no input column to name

# Where a field's value sits in a body: a function of the body, "" when it was left out.
Locate = Callable[[Body], str]


def column_title(schema: str, header: str | None) -> str:
    """`Loan Amount (mx_Custom_6)`; the Schema Name alone when the header is the same word."""
    if header is None:
        return f"{schema} ({CONSTANT})"
    if header.strip().casefold() == schema.casefold():
        return schema
    return f"{header} ({schema})"


def preview_heads(mapping: Mapping, columns: dict[str, str]) -> list[tuple[str | None, str]]:
    """Each column of the preview after RowNumber: (the user's header, or None for a constant,
    and the LeadSquared field it fills); the page shows the two apart."""
    return [
        (None if t == SEARCH_BY_ATTRIBUTE else columns.get(t), schema_name(t))
        for t, _ in _fields(mapping)
    ]


def preview_table(
    mapping: Mapping, columns: dict[str, str], payloads: Sequence[tuple[int, Body]]
) -> PreviewTable:
    """The payloads as a table: lead fields, opportunity fields, OpportunityNote,
    OpportunityDateTime and SearchBy (an update: ProspectOpportunityId, its fields, the note).

    `columns` maps targets to the input headers they are read from.
    """
    fields = _fields(mapping)
    titles = [ROW_NUMBER] + [
        t if t == SEARCH_BY_ATTRIBUTE else column_title(schema_name(t), columns.get(t))
        for t, _ in fields
    ]
    rows: list[list[str | int]] = [
        [row_number, *(locate(body) for _, locate in fields)] for row_number, body in payloads
    ]
    return PreviewTable(titles, rows)


def _fields(mapping: Mapping) -> list[tuple[str, Locate]]:
    """(target, where its value sits) for every field the payload can carry, in sheet order."""
    targets = mapping.targets()
    found: list[tuple[str, Locate]] = []
    if mapping.operation == "update":
        if "opportunity_id" in targets:
            found.append(("opportunity_id", _top("ProspectOpportunityId")))
        found += [(f"opportunity.{n}", _field(n, None)) for n in mapping.opportunity]
        if "note" in targets:
            found.append(("note", _top("OpportunityNote")))
        return found
    found += [(f"lead.{n}", _lead(n)) for n in mapping.lead]
    found += [(f"opportunity.{n}", _field(n, "Opportunity")) for n in mapping.opportunity]
    if "note" in targets:
        found.append(("note", _opportunity("OpportunityNote")))
    if "datetime" in targets:
        found.append(("datetime", _opportunity("OpportunityDateTime")))
    found.append((SEARCH_BY_ATTRIBUTE, _lead(SEARCH_BY_ATTRIBUTE)))
    return found


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _lead(attribute: str) -> Locate:
    def locate(body: Body) -> str:
        for item in body.get("LeadDetails") or []:
            if isinstance(item, dict) and item.get("Attribute") == attribute:
                return _text(item.get("Value"))
        return ""

    return locate


def _field(schema: str, within: str | None) -> Locate:
    def locate(body: Body) -> str:
        holder = body.get(within) if within else body
        for item in (holder or {}).get("Fields") or []:
            if isinstance(item, dict) and item.get("SchemaName") == schema:
                return _text(item.get("Value"))
        return ""

    return locate


def _opportunity(key: str) -> Locate:
    return lambda body: _text((body.get("Opportunity") or {}).get(key))


def _top(key: str) -> Locate:
    return lambda body: _text(body.get(key))
