"""The simulated account's data (leads, opportunities, shares) and LeadSquared's rules for it.

Every rule that refuses data raises `Rejected` (an `MX...Exception`) *before*
anything is changed, so a refused capture leaves no half-made lead behind.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email

from importer.core.constants import (
    ACTION_CAPTURED_ACTIVITY,
    ACTION_CREATE_OPPORTUNITY,
    ACTION_DUPLICATE_DETECTED,
    CAPTURE_STATUS_SUCCESS,
    DATETIME_FORMAT,
    DEDUP_CREATED,
    DEDUP_DUPLICATE,
    DUPLICATE_KEY_FIELD,
    SHARE_DEFAULT_MINUTES,
    STATUS_COMMENT_FIELD,
    STATUS_COMMENT_STATES,
)

from .errors import NotFound, Rejected
from .shapes import CaptureRequest, ListQuery, ShareItem, UpdateRequest

# The sandbox's one sales user: owner of every opportunity it creates.
OWNER_ID = "00000000-5a4d-b0c5-0000-000000000001"
OWNER_NAME = "Sandbox Owner"
PROSPECT_ID_ATTRIBUTE = "prospectid"  # compared casefolded: ProspectId / ProspectID
USER_DEFINED_GUID = "__useuserdefinedguid__"
EMAIL_ATTRIBUTE = "emailaddress"
STATUS_FIELD = "Status"
DEFAULT_STATUS = "Open"
# GetOpportunitiesOfLead always answers these, whatever Include_CSV asks for.
IDENTITY_COLUMNS = ("ProspectId", "OpportunityId", "OpportunityEvent", "Total")
# Every Get Lead APIs item carries these, null when the lead has no value.
LEAD_OBJECT_FIELDS = ("FirstName", "LastName", "EmailAddress", "Phone", "Mobile")
# What Leads.GetByQuickSearch looks in: names, email, phones, company, city, country
# (LeadSquared's address fields are mx_City and mx_Country; plain names are taken too).
QUICK_SEARCH_FIELDS = frozenset(
    name.casefold()
    for name in (
        "FirstName",
        "LastName",
        "EmailAddress",
        "Phone",
        "Mobile",
        "Company",
        "mx_City",
        "City",
        "mx_Country",
        "Country",
    )
)
_DATETIME_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Lead:
    prospect_id: str
    created_on: str  # yyyy-mm-dd hh:mm:ss UTC, when the capture that made it was processed
    attributes: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        """An attribute by name, ignoring case as LeadSquared does."""
        wanted = name.casefold()
        for key, value in self.attributes.items():
            if key.casefold() == wanted:
                return value
        return None

    def as_lead_object(self) -> dict[str, Any]:
        """A Get Lead APIs item: the usual fields (null when unset), the others, CreatedOn."""
        item: dict[str, Any] = {"ProspectID": self.prospect_id}
        for name in LEAD_OBJECT_FIELDS:
            item[name] = self.get(name)
        shown = {name.casefold() for name in item}
        for name, value in self.attributes.items():
            if name.casefold() not in shown:
                item[name] = value
        item["CreatedOn"] = self.created_on
        return item


@dataclass
class Opportunity:
    opportunity_id: str
    prospect_id: str
    event_code: int
    created_on: str
    modified_on: str
    sequence: int  # creation order: breaks ties between equal timestamps
    note: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    def field_value(self, name: str) -> str | None:
        wanted = name.casefold()
        for key, value in self.fields.items():
            if key.casefold() == wanted:
                return value
        return None

    def as_record(self) -> dict[str, Any]:
        """The stored opportunity, as tests and the inspection endpoint see it."""
        return {
            "OpportunityId": self.opportunity_id,
            "ProspectId": self.prospect_id,
            "OpportunityEventCode": self.event_code,
            "OpportunityEvent": str(self.event_code),
            "OpportunityNote": self.note,
            "PACreatedOn": self.created_on,
            "PAModifiedOn": self.modified_on,
            "Fields": dict(self.fields),
        }


@dataclass
class ShareRecord:
    share_id: str
    user_id: str
    opportunity_id: str
    access_type: int
    duration_minutes: int
    shared_on: str

    def as_record(self) -> dict[str, Any]:
        return {
            "Id": self.share_id,
            "UserId": self.user_id,
            "EntityId": self.opportunity_id,
            "AccessType": self.access_type,
            "DurationInMinutes": self.duration_minutes,
            "SharedOn": self.shared_on,
        }


class Store:
    """Leads, opportunities and shares of one account, changed only through its rules."""

    def __init__(
        self,
        *,
        require_status_comment: bool = True,
        duplicate_detection: bool = True,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.require_status_comment = require_status_comment
        self.duplicate_detection = duplicate_detection
        self._now = now
        self.leads: dict[str, Lead] = {}
        self.opportunities: dict[str, Opportunity] = {}
        self.shares: list[ShareRecord] = []
        # (attribute casefolded, normalised value) -> ProspectId, so a lookup stays O(1)
        self._lead_index: dict[tuple[str, str], str] = {}
        self._by_lead: dict[str, list[str]] = {}  # ProspectId -> its OpportunityIds
        self._sequence = 0

    # ---- Capture Opportunities -------------------------------------------------
    def capture(self, request: CaptureRequest, request_id: str) -> dict[str, Any]:
        """Find or create the lead, then create the opportunity or detect its duplicate."""
        self._check_emails(request.lead)
        self._check_datetime(request.opportunity_datetime)
        self._check_status_comment(request.fields)
        lead = self._upsert_lead(request)
        duplicate = self._find_duplicate(lead.prospect_id, request)
        activity = {"ActivityId": str(uuid.uuid4())}
        if duplicate is not None:
            return _capture_response(
                request_id,
                lead.prospect_id,
                created=None,
                conflicted=duplicate.opportunity_id,
                activity=activity | {"PostDeDupActionPerformed": DEDUP_DUPLICATE},
            )
        opportunity = self._create_opportunity(lead.prospect_id, request)
        return _capture_response(
            request_id,
            lead.prospect_id,
            created=opportunity.opportunity_id,
            conflicted=None,
            activity=activity | {"PostDeDupActionPerformed": DEDUP_CREATED},
        )

    def _check_emails(self, lead: dict[str, str]) -> None:
        for name, value in lead.items():
            if name.casefold() == EMAIL_ATTRIBUTE and value.strip():
                try:
                    validate_email(value.strip(), check_deliverability=False)
                except EmailNotValidError:
                    raise Rejected(
                        f"Email Address '{value}' is invalid",
                        exception_type="MXInvalidEmailAddressException",
                    ) from None

    def _check_datetime(self, value: str | None) -> None:
        if value is None:
            return
        try:
            if not _DATETIME_SHAPE.match(value):
                raise ValueError(value)
            datetime.strptime(value, DATETIME_FORMAT)
        except ValueError:
            raise Rejected(
                f"OpportunityDateTime '{value}' is not in the format yyyy-mm-dd hh:mm:ss",
                exception_type="MXInvalidDateTimeFormatException",
            ) from None

    def _check_status_comment(self, fields: dict[str, str]) -> None:
        """Comments on status change: Won/Lost needs mx_Custom_19 (Capture page)."""
        if not self.require_status_comment:
            return
        status = _find(fields, STATUS_FIELD)
        if status is None or status.strip().casefold() not in _CLOSED_STATES:
            return
        comment = _find(fields, STATUS_COMMENT_FIELD)
        if comment is None or not comment.strip():
            raise Rejected(
                f"Field name : '{STATUS_COMMENT_FIELD}' of datatype : 'String' is mandatory.",
                exception_type="MXInvalidActivityFieldsException",
            )

    def _upsert_lead(self, request: CaptureRequest) -> Lead:
        lead = self._find_lead(request.search_by, request.search_value)
        if lead is None:
            lead = Lead(self._new_prospect_id(request), created_on=self._timestamp())
            self.leads[lead.prospect_id] = lead
        keep_empty = request.options.get("UpdateEmptyFields", False)
        for name, value in request.lead.items():
            folded = name.casefold()
            if folded in (PROSPECT_ID_ATTRIBUTE, USER_DEFINED_GUID):
                continue
            if not value.strip() and not keep_empty:
                continue
            self._set_lead_attribute(lead, name, value.strip())
        return lead

    def _find_lead(self, attribute: str, value: str) -> Lead | None:
        if attribute.casefold() == PROSPECT_ID_ATTRIBUTE:
            return self.leads.get(value)
        prospect_id = self._lead_index.get(_lead_key(attribute, value))
        return self.leads.get(prospect_id) if prospect_id else None

    def _new_prospect_id(self, request: CaptureRequest) -> str:
        """A new uuid, or the caller's own with __UseUserDefinedGuid__ (Capture page example)."""
        wants_own = _find(request.lead, USER_DEFINED_GUID)
        own = _find(request.lead, PROSPECT_ID_ATTRIBUTE)
        if wants_own and wants_own.strip().casefold() == "true" and own and own.strip():
            if own.strip() not in self.leads:
                return own.strip()
        return str(uuid.uuid4())

    def _set_lead_attribute(self, lead: Lead, name: str, value: str) -> None:
        for existing in list(lead.attributes):
            if existing.casefold() == name.casefold():
                old_key = _lead_key(existing, lead.attributes.pop(existing))
                if self._lead_index.get(old_key) == lead.prospect_id:
                    del self._lead_index[old_key]
        lead.attributes[name] = value
        if value:
            self._lead_index.setdefault(_lead_key(name, value), lead.prospect_id)

    def _find_duplicate(self, prospect_id: str, request: CaptureRequest) -> Opportunity | None:
        """Same lead, same event code, same mx_Custom_1 (ignoring case) = a duplicate."""
        if not self.duplicate_detection:
            return None
        key = _find(request.fields, DUPLICATE_KEY_FIELD)
        if key is None or not key.strip():
            return None
        wanted = key.strip().casefold()
        for opportunity in self._of_lead(prospect_id):
            if opportunity.event_code != request.event_code:
                continue
            existing = opportunity.field_value(DUPLICATE_KEY_FIELD)
            if existing is not None and existing.strip().casefold() == wanted:
                return opportunity
        return None

    def _create_opportunity(self, prospect_id: str, request: CaptureRequest) -> Opportunity:
        now = self._timestamp()
        fields = dict(request.fields)
        if _find(fields, STATUS_FIELD) is None:
            fields[STATUS_FIELD] = DEFAULT_STATUS
        if _find(fields, "Owner") is None or not (_find(fields, "Owner") or "").strip():
            fields["Owner"] = OWNER_ID
        self._sequence += 1
        opportunity = Opportunity(
            opportunity_id=str(uuid.uuid4()),
            prospect_id=prospect_id,
            event_code=request.event_code,
            # The opportunity's date is the captured activity's date when given.
            created_on=request.opportunity_datetime or now,
            modified_on=now,
            sequence=self._sequence,
            note=request.note or "",
            fields=fields,
        )
        self.opportunities[opportunity.opportunity_id] = opportunity
        self._by_lead.setdefault(prospect_id, []).append(opportunity.opportunity_id)
        return opportunity

    def _of_lead(self, prospect_id: str) -> list[Opportunity]:
        ids = self._by_lead.get(prospect_id, [])
        return [self.opportunities[i] for i in ids if i in self.opportunities]

    # ---- Update an Opportunity ---------------------------------------------------
    def update(self, request: UpdateRequest) -> dict[str, Any]:
        """Apply the fields to an existing opportunity (sync Update's answer)."""
        opportunity = self.opportunities.get(request.opportunity_id)
        if opportunity is None:
            raise Rejected(
                "Opportunity does not exist",
                exception_type="MXInvalidEntityReferenceException",
            )
        self._check_status_comment(request.fields)
        for name, value in request.fields.items():
            self._set_field(opportunity, name, value)
        if request.note is not None:
            opportunity.note = request.note
        opportunity.modified_on = self._timestamp()
        return {"Status": "Success", "Message": {"Id": opportunity.opportunity_id}}

    def set_field(self, opportunity_id: str, schema_name: str, value: str) -> None:
        """Change a stored value behind the importer's back (tests of `verify`)."""
        opportunity = self._get(opportunity_id)
        self._set_field(opportunity, schema_name, value)
        opportunity.modified_on = self._timestamp()

    def delete(self, opportunity_id: str) -> None:
        opportunity = self._get(opportunity_id)
        del self.opportunities[opportunity_id]
        self._by_lead[opportunity.prospect_id].remove(opportunity_id)
        self.shares = [s for s in self.shares if s.opportunity_id != opportunity_id]

    def _get(self, opportunity_id: str) -> Opportunity:
        opportunity = self.opportunities.get(opportunity_id)
        if opportunity is None:
            raise NotFound(f"Opportunity '{opportunity_id}' does not exist")
        return opportunity

    @staticmethod
    def _set_field(opportunity: Opportunity, name: str, value: str) -> None:
        for existing in list(opportunity.fields):
            if existing.casefold() == name.casefold():
                del opportunity.fields[existing]
        opportunity.fields[name] = value

    # ---- Share an Opportunity ----------------------------------------------------
    def share(self, items: list[ShareItem]) -> dict[str, Any]:
        """Record every share, or none when one names an unknown opportunity."""
        for item in items:
            if item.opportunity_id not in self.opportunities:
                raise Rejected(
                    f"Opportunity '{item.opportunity_id}' does not exist",
                    exception_type="MXInvalidEntityReferenceException",
                )
        share_id = uuid.uuid4().hex
        now = self._timestamp()
        for item in items:
            minutes = item.duration_minutes or SHARE_DEFAULT_MINUTES
            self.shares.append(
                ShareRecord(
                    share_id, item.user_id, item.opportunity_id, item.access_type, minutes, now
                )
            )
        return {"Status": "Success", "Message": {"Id": share_id}}

    # ---- Get Lead APIs ----------------------------------------------------------------
    def leads_by_email(self, email: str) -> list[dict[str, Any]]:
        """Leads.GetByEmailaddress: the leads whose EmailAddress equals it, ignoring case."""
        wanted = email.strip().casefold()
        return [
            lead.as_lead_object()
            for lead in self.leads.values()
            if (lead.get("EmailAddress") or "").strip().casefold() == wanted
        ]

    def leads_by_quick_search(self, key: str) -> list[dict[str, Any]]:
        """Leads.GetByQuickSearch: leads with the key inside a searched field, ignoring case."""
        wanted = key.strip().casefold()
        return [
            lead.as_lead_object()
            for lead in self.leads.values()
            if any(
                name.casefold() in QUICK_SEARCH_FIELDS and wanted in value.casefold()
                for name, value in lead.attributes.items()
            )
        ]

    def lead_by_id(self, prospect_id: str) -> list[dict[str, Any]]:
        """Leads.GetById: the one lead in a list, or an empty list."""
        lead = self.leads.get(prospect_id.strip())
        return [] if lead is None else [lead.as_lead_object()]

    # ---- Get Opportunities by Lead Id ---------------------------------------------
    def opportunities_of_lead(self, query: ListQuery) -> dict[str, Any]:
        """One page of a lead's opportunities; an unknown lead simply has none.

        RecordCount and every item's "Total" are the number of matching
        opportunities (all pages), not the length of this page.
        """
        lead = self.leads.get(query.lead_id)
        found = [
            o
            for o in self._of_lead(query.lead_id)
            if query.event_code is None or o.event_code == query.event_code
        ]
        total = len(found)
        rows = [self._list_row(o, lead, total) for o in found]
        rows = _sorted_rows(rows, found, query)
        start = (query.page_index - 1) * query.page_size
        page = rows[start : start + query.page_size]
        if query.columns is not None:
            keep = IDENTITY_COLUMNS + tuple(c for c in query.columns if c not in IDENTITY_COLUMNS)
            page = [{name: row.get(name) for name in keep} for row in page]
        return {"RecordCount": total, "List": page}

    @staticmethod
    def _list_row(opportunity: Opportunity, lead: Lead | None, total: int) -> dict[str, Any]:
        """The flat item of the doc page's example: lead columns, then opportunity fields."""
        first = lead.get("FirstName") if lead else None
        last = lead.get("LastName") if lead else None
        row: dict[str, Any] = {
            "ProspectId": opportunity.prospect_id,
            "FirstName": first,
            "LastName": last,
            "EmailAddress": lead.get("EmailAddress") if lead else None,
            "Phone": lead.get("Phone") if lead else None,
            "DoNotCall": "0",
            "DoNotEmail": "0",
            "LeadName": " ".join(p for p in (first, last) if p) or None,
            "LeadOwner": OWNER_NAME,
            "OpportunityEventType": "2",
            "OpportunityEvent": str(opportunity.event_code),
            "OpportunityNote": opportunity.note,
            "Score": "0",
            "PACreatedOn": opportunity.created_on,
            "PAModifiedOn": opportunity.modified_on,
            "IP_Latitude": None,
            "IP_Longitude": None,
            "PACreatedByName": OWNER_NAME,
        }
        row.update(opportunity.fields)
        row["OwnerName"] = OWNER_NAME if row.get("Owner") == OWNER_ID else None
        row["OpportunityId"] = opportunity.opportunity_id
        row["Total"] = str(total)
        return row

    # ---- whole-store views ----------------------------------------------------------
    def as_snapshot(self) -> dict[str, Any]:
        return {
            "leads": [
                {"ProspectId": lead.prospect_id, **lead.attributes, "CreatedOn": lead.created_on}
                for lead in self.leads.values()
            ],
            "opportunities": [o.as_record() for o in self.opportunities.values()],
            "shares": [s.as_record() for s in self.shares],
        }

    def _timestamp(self) -> str:
        return self._now().strftime(DATETIME_FORMAT)


_CLOSED_STATES = frozenset(state.casefold() for state in STATUS_COMMENT_STATES)


def _find(values: dict[str, str], name: str) -> str | None:
    """A value by key ignoring case: schema and attribute names are not case-sensitive."""
    wanted = name.casefold()
    for key, value in values.items():
        if key.casefold() == wanted:
            return value
    return None


def _lead_key(attribute: str, value: str) -> tuple[str, str]:
    """Lead lookup key: EmailAddress matches ignoring case, other attributes exactly."""
    folded = attribute.casefold()
    cleaned = value.strip()
    return folded, cleaned.casefold() if folded == EMAIL_ATTRIBUTE else cleaned


def _sorted_rows(
    rows: list[dict[str, Any]], found: list[Opportunity], query: ListQuery
) -> list[dict[str, Any]]:
    """Most recent first by default (as the page's example); ColumnName/Direction otherwise."""
    column = query.sort_column or "PACreatedOn"
    keyed = list(zip(rows, found, strict=True))

    def sort_key(pair: tuple[dict[str, Any], Opportunity]) -> tuple[bool, str, int]:
        row, opportunity = pair
        value = row.get(column)
        # Missing values sort last whichever the direction.
        missing = value is None
        return (missing != query.descending, "" if missing else str(value), opportunity.sequence)

    keyed.sort(key=sort_key, reverse=query.descending)
    return [row for row, _ in keyed]


def _capture_response(
    request_id: str,
    prospect_id: str,
    *,
    created: str | None,
    conflicted: str | None,
    activity: dict[str, Any],
) -> dict[str, Any]:
    """Every field of the Capture Opportunities response, as on the page."""
    duplicate = conflicted is not None
    return {
        "AdditionalDetails": [activity],
        "ConflictedOpportunityId": conflicted,
        "CreatedOpportunityId": created,
        "ExceptionMessage": None,
        "ExceptionType": None,
        "IsUnique": not duplicate,
        "PrimaryAction": ACTION_DUPLICATE_DETECTED if duplicate else ACTION_CREATE_OPPORTUNITY,
        "RelatedProspectId": prospect_id,
        "RequestId": request_id,
        "SecondaryAction": ACTION_CAPTURED_ACTIVITY,
        "Status": CAPTURE_STATUS_SUCCESS,
    }
