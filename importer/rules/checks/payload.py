"""Valid rows → the JSON bodies LeadSquared expects (Capture, Update (Async), Share)."""

from __future__ import annotations

from collections import abc
from typing import Any

import pandas as pd

from importer.core.constants import (
    SEARCH_BY_ATTRIBUTE,
    SHARE_ACCESS_EDIT,
    SHARE_ACCESS_READ,
    SHARE_ENTITY_OPPORTUNITY,
    SHARE_ENTITY_TYPE_USER,
)
from importer.rules.checks.validator import ValidatedChunk
from importer.rules.mapping.mapping import Mapping

Body = dict[str, Any]  # a JSON object as LeadSquared receives it
_ACCESS_TYPES = {"read": SHARE_ACCESS_READ, "edit": SHARE_ACCESS_EDIT}


def build_payloads(
    chunk: ValidatedChunk | pd.DataFrame, mapping: Mapping
) -> list[tuple[int, Body]]:
    """(RowNumber, body) for every valid row, in row order.

    Empty values are left out: sending "" could blank a field already in the CRM.
    """
    values = chunk.values if isinstance(chunk, ValidatedChunk) else chunk
    _require_columns(values, mapping)
    build = _capture_body if mapping.operation == "capture" else _update_body
    rows = values.to_dict("records")
    return [
        (int(str(row_number)), build({str(k): str(v) for k, v in row.items()}, mapping))
        for row_number, row in zip(values.index, rows, strict=True)
    ]


def _require_columns(values: pd.DataFrame, mapping: Mapping) -> None:
    missing = [target for target in mapping.targets() if target not in values.columns]
    if missing:
        raise ValueError(f"values frame lacks target columns: {', '.join(missing)}")


def _fields(
    row: abc.Mapping[str, str], prefix: str, names: abc.Iterable[str], key: str
) -> list[dict[str, str]]:
    pairs = []
    for name in names:
        value = row[f"{prefix}.{name}"]
        if value != "":
            pairs.append({key: name, "Value": str(value)})
    return pairs


def _capture_body(row: abc.Mapping[str, str], mapping: Mapping) -> Body:
    """Capture Opportunities: LeadDetails (+ SearchBy) and the Opportunity object."""
    lead = _fields(row, "lead", mapping.lead, "Attribute")
    lead.append({"Attribute": SEARCH_BY_ATTRIBUTE, "Value": mapping.search_by or ""})
    opportunity: Body = {"OpportunityEventCode": int(mapping.opportunity_event_code or 0)}
    if row.get("note", ""):
        opportunity["OpportunityNote"] = str(row["note"])
    if row.get("datetime", ""):
        opportunity["OpportunityDateTime"] = str(row["datetime"])
    opportunity.update(mapping.options)
    opportunity["Fields"] = _fields(row, "opportunity", mapping.opportunity, "SchemaName")
    return {"LeadDetails": lead, "Opportunity": opportunity}


def _update_body(row: abc.Mapping[str, str], mapping: Mapping) -> Body:
    """Update an Opportunity (Async): the opportunity id, an optional note, the fields."""
    body: Body = {"ProspectOpportunityId": str(row["opportunity_id"])}
    if row.get("note", ""):
        body["OpportunityNote"] = str(row["note"])
    body["Fields"] = _fields(row, "opportunity", mapping.opportunity, "SchemaName")
    return body


def share_item(opportunity_id: str, values: abc.Mapping[str, str], mapping: Mapping) -> Body:
    """One element of the Share API's array: give the row's user access to the new opportunity."""
    if mapping.share is None:
        raise ValueError("the mapping has no share section")
    access = str(values["share.access"]).strip().casefold()
    item: Body = {
        "UserId": str(values["share.user_id"]),
        "Entity": SHARE_ENTITY_OPPORTUNITY,
        "EntityType": SHARE_ENTITY_TYPE_USER,
        "EntityId": opportunity_id,
        "AccessType": _ACCESS_TYPES[access],
    }
    if mapping.share.duration_minutes is not None:
        item["DurationInMinutes"] = mapping.share.duration_minutes
    return item
