"""Request bodies checked against the API pages, strictly, before any work is done.

A body that breaks the documented shape is a 400 at once (also on the async
APIs, where it is never queued). What is wrong only in the data (an invalid
email, a missing status comment) is checked later, as LeadSquared does, and
becomes an `MX...Exception`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from importer.core.constants import (
    OPPORTUNITIES_PAGE_SIZE,
    SEARCH_BY_ATTRIBUTE,
    SHARE_ACCESS_EDIT,
    SHARE_ACCESS_READ,
    SHARE_ENTITY_OPPORTUNITY,
    SHARE_ENTITY_TYPE_USER,
)

from .errors import BadRequest, MissingAttribute

# Capture Opportunities: boolean switches allowed in the Opportunity object.
OPPORTUNITY_OPTIONS = (
    "UpdateEmptyFields",
    "DoNotPostDuplicateActivity",
    "DoNotChangeOwner",
    "OverwriteFields",
)
# Our own ceiling for GetOpportunitiesOfLead's PageSize (the page names none).
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class CaptureRequest:
    """A Capture Opportunities body (sync and async share it)."""

    lead: dict[str, str]  # LeadDetails without the SearchBy entry, in the sent spelling
    search_by: str  # the attribute name as spelled in LeadDetails
    search_value: str
    event_code: int
    note: str | None = None
    opportunity_datetime: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    options: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateRequest:
    """An Update an Opportunity (Async) body."""

    opportunity_id: str
    note: str | None
    fields: dict[str, str]


@dataclass(frozen=True)
class ShareItem:
    """One element of the Share an Opportunity array."""

    user_id: str
    opportunity_id: str
    access_type: int
    duration_minutes: int | None


@dataclass(frozen=True)
class ListQuery:
    """What GetOpportunitiesOfLead was asked for."""

    lead_id: str
    event_code: int | None = None
    page_index: int = 1
    page_size: int = OPPORTUNITIES_PAGE_SIZE
    columns: tuple[str, ...] | None = None
    sort_column: str | None = None
    descending: bool = True


def parse_capture(body: object) -> CaptureRequest:
    """Check a Capture Opportunities body; 400 on the first shape error."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    pairs = _lead_details(body)
    search_by, search_value = _search_by(pairs)
    lead = {name: value for name, value in pairs if name != SEARCH_BY_ATTRIBUTE}
    opportunity = body.get("Opportunity")
    if opportunity is None:
        raise MissingAttribute("'Opportunity' is mandatory")
    if not isinstance(opportunity, dict):
        raise BadRequest("'Opportunity' must be a JSON object")
    return CaptureRequest(
        lead=lead,
        search_by=search_by,
        search_value=search_value,
        event_code=_event_code(opportunity),
        note=_optional_text(opportunity, "OpportunityNote"),
        opportunity_datetime=_optional_text(opportunity, "OpportunityDateTime"),
        fields=_fields(opportunity.get("Fields"), required=False),
        options=_options(opportunity),
    )


def parse_update(body: object) -> UpdateRequest:
    """Check an Update an Opportunity (Async) body."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    opportunity_id = body.get("ProspectOpportunityId")
    if opportunity_id is None:
        raise MissingAttribute("'ProspectOpportunityId' is mandatory")
    if not isinstance(opportunity_id, str) or not opportunity_id.strip():
        raise BadRequest("'ProspectOpportunityId' must be a non-empty string")
    return UpdateRequest(
        opportunity_id=opportunity_id.strip(),
        note=_optional_text(body, "OpportunityNote"),
        fields=_fields(body.get("Fields"), required=True),
    )


def parse_share(body: object) -> list[ShareItem]:
    """Check a Share an Opportunity body: a non-empty JSON array of share objects."""
    if not isinstance(body, list):
        raise BadRequest("The request body must be a JSON array of share objects")
    if not body:
        raise BadRequest("The request body must hold at least one share object")
    return [_share_item(item, index) for index, item in enumerate(body)]


def parse_list_query(
    lead_id: str | None, opportunity_type: str | None, body: object | None
) -> ListQuery:
    """Check GetOpportunitiesOfLead's query parameters and optional body."""
    if lead_id is None or not lead_id.strip():
        raise MissingAttribute("'leadId' is mandatory")
    event_code = None
    if opportunity_type is not None:
        if not opportunity_type.strip().isdigit():
            raise BadRequest("'opportunityType' must be an opportunity type code (an integer)")
        event_code = int(opportunity_type)
    if body is None:
        return ListQuery(lead_id=lead_id.strip(), event_code=event_code)
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    page_index, page_size = _paging(body.get("Paging"))
    sort_column, descending = _sorting(body.get("Sorting"))
    return ListQuery(
        lead_id=lead_id.strip(),
        event_code=event_code,
        page_index=page_index,
        page_size=page_size,
        columns=_columns(body.get("Columns")),
        sort_column=sort_column,
        descending=descending,
    )


def _lead_details(body: dict[str, Any]) -> list[tuple[str, str]]:
    details = body.get("LeadDetails")
    if details is None:
        raise MissingAttribute("'LeadDetails' is mandatory")
    if not isinstance(details, list) or not details:
        raise BadRequest("'LeadDetails' must be a non-empty array of Attribute/Value pairs")
    pairs = []
    for index, item in enumerate(details):
        where = f"LeadDetails[{index}]"
        if not isinstance(item, dict):
            raise BadRequest(f"{where} must be an object with Attribute and Value")
        name = item.get("Attribute")
        if not isinstance(name, str) or not name.strip():
            raise MissingAttribute(f"{where}: 'Attribute' is mandatory and must be a string")
        pairs.append((name.strip(), _text_value(item, f"{where} ({name.strip()})")))
    return pairs


def _search_by(pairs: list[tuple[str, str]]) -> tuple[str, str]:
    """The attribute SearchBy names, and its value ("at least 1 unique field")."""
    named = [value for name, value in pairs if name == SEARCH_BY_ATTRIBUTE]
    if not named:
        raise MissingAttribute("The 'SearchBy' attribute is mandatory in LeadDetails")
    if len(named) > 1:
        raise BadRequest("'SearchBy' is given more than once in LeadDetails")
    wanted = named[0].strip()
    if not wanted:
        raise BadRequest("The value of 'SearchBy' is empty: name a unique lead attribute")
    # Attribute names are matched ignoring case: the Capture page's own example
    # sends "ProspectID" with SearchBy "ProspectId".
    for name, value in pairs:
        if name != SEARCH_BY_ATTRIBUTE and name.casefold() == wanted.casefold():
            if not value.strip():
                raise BadRequest(f"'SearchBy' names '{name}', whose value is empty")
            return name, value.strip()
    raise BadRequest(f"'SearchBy' names '{wanted}', which is not in LeadDetails")


def _event_code(opportunity: dict[str, Any]) -> int:
    code = opportunity.get("OpportunityEventCode")
    if code is None:
        raise MissingAttribute("'OpportunityEventCode' is mandatory")
    # The page says integer: "12000" (a string), 12000.0 and true are refused.
    if isinstance(code, bool) or not isinstance(code, int) or code <= 0:
        raise BadRequest("'OpportunityEventCode' must be a positive integer")
    return code


def _fields(raw: object, *, required: bool) -> dict[str, str]:
    if raw is None:
        if required:
            raise MissingAttribute("'Fields' is mandatory")
        return {}
    if not isinstance(raw, list):
        raise BadRequest("'Fields' must be an array of SchemaName/Value pairs")
    values: dict[str, str] = {}
    for index, item in enumerate(raw):
        where = f"Fields[{index}]"
        if not isinstance(item, dict):
            raise BadRequest(f"{where} must be an object with SchemaName and Value")
        name = item.get("SchemaName")
        if not isinstance(name, str) or not name.strip():
            raise MissingAttribute(f"{where}: 'SchemaName' is mandatory and must be a string")
        values[name.strip()] = _text_value(item, f"{where} ({name.strip()})")
    return values


def _text_value(item: dict[str, Any], where: str) -> str:
    """Every Value is a string on the wire; numbers, booleans and null are refused."""
    value = item.get("Value")
    if not isinstance(value, str):
        shown = "missing" if "Value" not in item else f"a JSON {_json_kind(value)}"
        raise BadRequest(f"{where}: 'Value' must be a string, got {shown}")
    return value


def _optional_text(container: dict[str, Any], name: str) -> str | None:
    if name not in container:
        return None
    value = container[name]
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string, got a JSON {_json_kind(value)}")
    return value


def _options(opportunity: dict[str, Any]) -> dict[str, bool]:
    options = {}
    for name in OPPORTUNITY_OPTIONS:
        if name in opportunity:
            if not isinstance(opportunity[name], bool):
                raise BadRequest(f"'{name}' must be true or false")
            options[name] = opportunity[name]
    return options


def _share_item(item: object, index: int) -> ShareItem:
    where = f"Share item {index}"
    if not isinstance(item, dict):
        raise BadRequest(f"{where} must be a JSON object")
    for name in ("UserId", "Entity", "EntityType", "EntityId", "AccessType"):
        if item.get(name) is None:
            raise MissingAttribute(f"{where}: '{name}' is mandatory")
    user_id, opportunity_id = item["UserId"], item["EntityId"]
    for name, value in (("UserId", user_id), ("EntityId", opportunity_id)):
        if not isinstance(value, str) or not value.strip():
            raise BadRequest(f"{where}: '{name}' must be a non-empty string")
    if not _is_int(item["Entity"]) or item["Entity"] != SHARE_ENTITY_OPPORTUNITY:
        raise BadRequest(f"{where}: 'Entity' must be {SHARE_ENTITY_OPPORTUNITY} (opportunity)")
    if not _is_int(item["EntityType"]) or item["EntityType"] != SHARE_ENTITY_TYPE_USER:
        raise BadRequest(f"{where}: 'EntityType' must be {SHARE_ENTITY_TYPE_USER} (user)")
    access = item["AccessType"]
    if not _is_int(access) or access not in (SHARE_ACCESS_READ, SHARE_ACCESS_EDIT):
        raise BadRequest(f"{where}: 'AccessType' must be 1 (read) or 2 (read and write)")
    duration = item.get("DurationInMinutes")
    if duration is not None and (not _is_int(duration) or duration <= 0):
        raise BadRequest(f"{where}: 'DurationInMinutes' must be a positive integer")
    return ShareItem(user_id.strip(), opportunity_id.strip(), access, duration)


def _paging(raw: object) -> tuple[int, int]:
    if raw is None:
        return 1, OPPORTUNITIES_PAGE_SIZE
    if not isinstance(raw, dict):
        raise BadRequest("'Paging' must be an object with PageIndex and PageSize")
    index = raw.get("PageIndex", 1)
    size = raw.get("PageSize", OPPORTUNITIES_PAGE_SIZE)
    if not _is_int(index) or index < 1:
        raise BadRequest("'Paging.PageIndex' must be an integer from 1")
    if not _is_int(size) or not 1 <= size <= MAX_PAGE_SIZE:
        raise BadRequest(f"'Paging.PageSize' must be an integer from 1 to {MAX_PAGE_SIZE}")
    return index, size


def _sorting(raw: object) -> tuple[str | None, bool]:
    if raw is None:
        return None, True
    if not isinstance(raw, dict):
        raise BadRequest("'Sorting' must be an object with ColumnName and Direction")
    column = raw.get("ColumnName")
    if column is not None and (not isinstance(column, str) or not column.strip()):
        raise BadRequest("'Sorting.ColumnName' must be a column name")
    direction = raw.get("Direction", "1")
    if direction not in ("0", "1"):
        raise BadRequest('\'Sorting.Direction\' must be "1" (most recent first) or "0"')
    return (column.strip() if column else None), direction == "1"


def _columns(raw: object) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadRequest("'Columns' must be an object with Include_CSV")
    csv = raw.get("Include_CSV")
    if csv is None:
        return None
    if not isinstance(csv, str):
        raise BadRequest("'Columns.Include_CSV' must be a comma-separated string")
    names = tuple(name.strip() for name in csv.split(",") if name.strip())
    return names or None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"
