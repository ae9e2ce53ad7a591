"""The sandbox against the LeadSquared pages: shapes, codes, limits, queue, faults, serving."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from importer.cli import app as cli_app
from importer.core.constants import (
    ACCEPTED_STATUS_TEXT,
    DEFAULT_PATHS,
    SHARE_DEFAULT_MINUTES,
    TASK_FAILURE,
    TASK_IN_QUEUE,
    TASK_SUCCESS,
)
from importer.sandbox import Sandbox, SandboxConfig, create_app, serve_in_thread

ROOT = Path(__file__).resolve().parents[1]
CAPTURE_FIELDS = {
    "AdditionalDetails",
    "ConflictedOpportunityId",
    "CreatedOpportunityId",
    "ExceptionMessage",
    "ExceptionType",
    "IsUnique",
    "PrimaryAction",
    "RelatedProspectId",
    "RequestId",
    "SecondaryAction",
    "Status",
}

# Request bodies exactly as on the doc pages.
DOC_SYNC_CAPTURE = {
    "LeadDetails": [
        {"Attribute": "EmailAddress", "Value": "johndoe4633@example.com"},
        {"Attribute": "ProspectID", "Value": "4d03f397-49e7-4e4e-8168-5f51d591c592"},
        {"Attribute": "SearchBy", "Value": "ProspectId"},
        {"Attribute": "__UseUserDefinedGuid__", "Value": "true"},
    ],
    "Opportunity": {
        "OpportunityEventCode": 12000,
        "OpportunityNote": "Opportunity capture api overwrite",
        "UpdateEmptyFields": True,
        "DoNotPostDuplicateActivity": True,
        "DoNotChangeOwner": True,
        "Fields": [
            {"SchemaName": "mx_Custom_1", "Value": "Opportunity-Test"},
            {"SchemaName": "mx_Custom_2", "Value": "Prospecting"},
            {"SchemaName": "mx_Custom_5", "Value": "Prospecting"},
            {"SchemaName": "Status", "Value": "Open"},
        ],
    },
}
DOC_ASYNC_CAPTURE = {
    "LeadDetails": [
        {"Attribute": "EmailAddress", "Value": "johndoe@example.com"},
        {"Attribute": "mx_City", "Value": "Bangalore"},
        {"Attribute": "SearchBy", "Value": "EmailAddress"},
    ],
    "Opportunity": {
        "OpportunityEventCode": 12231,
        "OpportunityNote": "Opportunity capture api",
        "OpportunityDateTime": "2020-12-05 12:13:44",
        "Fields": [
            {"SchemaName": "mx_Custom_1", "Value": "1"},
            {"SchemaName": "mx_Custom_2", "Value": "1"},
        ],
    },
}
DOC_UPDATE_FIELDS = [
    {"SchemaName": "mx_Custom_6", "Value": "200,000"},
    {"SchemaName": "mx_Custom_7", "Value": "180,000"},
    {"SchemaName": "mx_Custom_8", "Value": "2020-09-16 12:13:44"},
]
DOC_LIST_BODY = {
    "Columns": {"Include_CSV": "mx_Custom_3,Owner,Status,mx_Custom_6,mx_Custom_8"},
    "Paging": {"PageIndex": 1, "PageSize": 100},
    "Sorting": {"ColumnName": "Owner", "Direction": "1"},
}


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeWallClock:
    """The UTC time the sandbox stamps data with (CreatedOn, PACreatedOn, PAModifiedOn)."""

    def __init__(self, text: str = "2026-01-15 09:00:00") -> None:
        self.set(text)

    def set(self, text: str) -> None:
        self.now = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Api:
    """Calls the sandbox's ASGI app the way the importer's client would."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        clock: FakeClock | None = None,
        wall: FakeWallClock | None = None,
    ):
        self.config = config or SandboxConfig(async_delay=0)
        self.clock = clock or FakeClock()
        self.sandbox = Sandbox(self.config, clock=self.clock, utc_now=wall)
        self.app = create_app(sandbox=self.sandbox)

    @property
    def keys(self) -> dict[str, str]:
        return {"accessKey": self.config.access_key, "secretKey": self.config.secret_key}

    @property
    def api_header(self) -> dict[str, str]:
        return {"x-api-key": self.config.api_key}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://lsq") as client:
                return await client.request(method, path, **kwargs)

        return asyncio.run(send())

    def capture_sync(self, body: Any, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("params", self.keys)
        return self.request("POST", DEFAULT_PATHS["capture_sync"], json=body, **kwargs)

    def capture_async(self, body: Any, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("params", self.keys)
        kwargs.setdefault("headers", self.api_header)
        return self.request("POST", DEFAULT_PATHS["capture_async"], json=body, **kwargs)

    def update_async(self, body: Any) -> httpx.Response:
        return self.request(
            "POST",
            DEFAULT_PATHS["update_async"],
            json=body,
            params=self.keys,
            headers=self.api_header,
        )

    def status(self, request_id: str, kind: str = "capture") -> httpx.Response:
        return self.request(
            "GET",
            DEFAULT_PATHS[f"{kind}_status"],
            params={"RequestID": request_id},
            headers=self.api_header,
        )

    def metrics(self, kind: str = "capture") -> httpx.Response:
        return self.request("GET", DEFAULT_PATHS[f"{kind}_metrics"], headers=self.api_header)

    def share(self, body: Any) -> httpx.Response:
        return self.request("POST", DEFAULT_PATHS["share"], json=body, params=self.keys)

    def list_of_lead(self, lead_id: str | None, body: Any = None, **params: str) -> httpx.Response:
        query = dict(self.keys, **params)
        if lead_id is not None:
            query["leadId"] = lead_id
        kwargs: dict[str, Any] = {"params": query}
        if body is not None:
            kwargs["json"] = body
        return self.request("POST", DEFAULT_PATHS["opportunities_of_lead"], **kwargs)

    def lookup(
        self, name: str, keys: dict[str, str] | None = None, **params: str
    ) -> httpx.Response:
        """A Get Lead API by its DEFAULT_PATHS name, with the query parameters given."""
        query = dict(self.keys if keys is None else keys, **params)
        return self.request("GET", DEFAULT_PATHS[name], params=query)


def capture_body(
    email: str = "asha@example.com", name: str = "Home Loan", code: int = 12000, **fields: str
) -> dict[str, Any]:
    values = {"mx_Custom_1": name, **fields}
    return {
        "LeadDetails": [
            {"Attribute": "EmailAddress", "Value": email},
            {"Attribute": "FirstName", "Value": "Asha"},
            {"Attribute": "SearchBy", "Value": "EmailAddress"},
        ],
        "Opportunity": {
            "OpportunityEventCode": code,
            "Fields": [{"SchemaName": k, "Value": v} for k, v in values.items()],
        },
    }


def assert_error(response: httpx.Response, status: int, exception_type: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["Status"] == "Error"
    assert set(body) == {"Status", "ExceptionType", "ExceptionMessage"}
    if exception_type is not None:
        assert body["ExceptionType"] == exception_type
    return body


# ---- the doc pages' examples ---------------------------------------------------------------
def test_doc_sync_capture_example_is_accepted_with_every_response_field() -> None:
    api = Api()
    response = api.capture_sync(DOC_SYNC_CAPTURE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == CAPTURE_FIELDS
    assert body["Status"] == 0 and body["IsUnique"] is True
    assert body["PrimaryAction"] == 1 and body["SecondaryAction"] == 2
    assert body["ConflictedOpportunityId"] is None and body["CreatedOpportunityId"]
    assert body["ExceptionType"] is None and body["ExceptionMessage"] is None
    assert body["AdditionalDetails"][0]["PostDeDupActionPerformed"] == 1
    assert body["AdditionalDetails"][0]["ActivityId"]
    # __UseUserDefinedGuid__ makes the given ProspectID the new lead's id.
    assert body["RelatedProspectId"] == "4d03f397-49e7-4e4e-8168-5f51d591c592"
    stored = api.sandbox.opportunities()
    assert stored[0]["OpportunityEventCode"] == 12000
    assert stored[0]["Fields"]["mx_Custom_2"] == "Prospecting"


def test_doc_async_capture_example_runs_through_the_queue() -> None:
    clock = FakeClock()
    api = Api(SandboxConfig(async_delay=1.0), clock)
    accepted = api.capture_async(DOC_ASYNC_CAPTURE)
    assert accepted.status_code == 200
    assert accepted.json()["Status"] == ACCEPTED_STATUS_TEXT
    request_id = accepted.json()["RequestID"]

    queued = api.status(request_id).json()
    assert queued["RequestId"] == request_id
    task = queued["TaskStatus"]
    assert set(task) == {
        "TaskType",
        "Status",
        "StatusReason",
        "TaskCurrentStep",
        "TaskLastStep",
        "RequestBody",
        "Message",
    }
    assert task["Status"] == TASK_IN_QUEUE and task["Message"] is None
    assert json.loads(task["RequestBody"]) == DOC_ASYNC_CAPTURE
    assert api.sandbox.opportunities() == []

    clock.now = 1.0
    task = api.status(request_id).json()["TaskStatus"]
    assert task["Status"] == TASK_SUCCESS
    assert isinstance(task["Message"], str)  # the original answer, as a JSON string
    answer = json.loads(task["Message"])
    assert set(answer) == CAPTURE_FIELDS
    assert answer["RequestId"] == request_id
    [stored] = api.sandbox.opportunities()
    assert stored["OpportunityId"] == answer["CreatedOpportunityId"]
    assert stored["PACreatedOn"] == "2020-12-05 12:13:44"


def test_doc_update_example_applies_to_an_existing_opportunity() -> None:
    api = Api()
    created = api.capture_sync(capture_body()).json()["CreatedOpportunityId"]
    body = {
        "ProspectOpportunityId": created,
        "OpportunityNote": "Update note",
        "Fields": DOC_UPDATE_FIELDS,
    }
    accepted = api.update_async(body)
    assert accepted.status_code == 200 and accepted.json()["Status"] == ACCEPTED_STATUS_TEXT
    task = api.status(accepted.json()["RequestID"], "update").json()["TaskStatus"]
    assert task["Status"] == TASK_SUCCESS
    assert json.loads(task["Message"])["Message"]["Id"] == created
    [stored] = api.sandbox.opportunities()
    assert stored["Fields"]["mx_Custom_6"] == "200,000"
    assert stored["OpportunityNote"] == "Update note"


def test_update_of_an_unknown_opportunity_fails_with_an_mx_exception() -> None:
    api = Api()
    body = {"ProspectOpportunityId": "5ca5b042-51ea-4699-b6f0-84c40ab12770", "Fields": []}
    request_id = api.update_async(body).json()["RequestID"]
    task = api.status(request_id, "update").json()["TaskStatus"]
    assert task["Status"] == TASK_FAILURE
    error = json.loads(task["Message"])
    assert error["Status"] == "Error"
    assert error["ExceptionType"] == "MXInvalidEntityReferenceException"
    assert task["StatusReason"] == "Opportunity does not exist"


def test_doc_share_example_records_user_access_and_duration() -> None:
    api = Api()
    created = api.capture_sync(capture_body()).json()["CreatedOpportunityId"]
    item = {
        "UserId": "96105aa0-61f2-11ea-8109-022edb41208c",
        "Entity": 5,
        "EntityType": 3,
        "EntityId": created,
        "AccessType": 2,
        "DurationInMinutes": 30,
    }
    response = api.share([item])
    assert response.status_code == 200
    assert response.json()["Status"] == "Success"
    assert len(response.json()["Message"]["Id"]) == 32
    share = api.sandbox.snapshot()["shares"][0]
    assert share["UserId"] == item["UserId"] and share["AccessType"] == 2
    assert share["DurationInMinutes"] == 30


def test_share_without_duration_lasts_ninety_days() -> None:
    api = Api()
    created = api.capture_sync(capture_body()).json()["CreatedOpportunityId"]
    item = {"UserId": "u-1", "Entity": 5, "EntityType": 3, "EntityId": created, "AccessType": 1}
    assert api.share([item]).status_code == 200
    assert api.sandbox.snapshot()["shares"][0]["DurationInMinutes"] == SHARE_DEFAULT_MINUTES


@pytest.mark.parametrize(
    "change",
    [{"Entity": 4}, {"EntityType": 1}, {"AccessType": 3}, {"AccessType": "2"}, {"UserId": None}],
)
def test_share_items_off_the_page_are_400(change: dict[str, Any]) -> None:
    api = Api()
    created = api.capture_sync(capture_body()).json()["CreatedOpportunityId"]
    item = {"UserId": "u-1", "Entity": 5, "EntityType": 3, "EntityId": created, "AccessType": 1}
    assert_error(api.share([item | change]), 400)
    assert_error(api.share(item), 400)  # an object, not the documented array


def test_share_of_an_unknown_opportunity_is_an_mx_error() -> None:
    api = Api()
    item = {"UserId": "u-1", "Entity": 5, "EntityType": 3, "EntityId": "nope", "AccessType": 1}
    assert_error(api.share([item]), 500, "MXInvalidEntityReferenceException")
    assert api.sandbox.snapshot()["shares"] == []


def test_doc_list_example_and_paging() -> None:
    api = Api()
    lead = None
    for n in range(5):
        lead = api.capture_sync(capture_body(name=f"Loan {n}")).json()["RelatedProspectId"]
    api.capture_sync(capture_body(name="Card", code=12002))
    assert lead is not None

    doc = api.list_of_lead(lead, DOC_LIST_BODY)
    assert doc.status_code == 200
    first = doc.json()["List"][0]
    assert {"ProspectId", "OpportunityId", "OpportunityEvent", "Status", "Owner", "Total"} <= set(
        first
    )
    assert "mx_Custom_1" not in first  # not asked for in Include_CSV

    pages = [
        api.list_of_lead(lead, {"Paging": {"PageIndex": i, "PageSize": 2}}, opportunityType="12000")
        for i in (1, 2, 3, 4)
    ]
    sizes = [len(p.json()["List"]) for p in pages]
    assert sizes == [2, 2, 1, 0]
    assert all(p.json()["RecordCount"] == 5 for p in pages)
    items = [item for p in pages for item in p.json()["List"]]
    assert {item["Total"] for item in items} == {"5"}
    assert {item["OpportunityEvent"] for item in items} == {"12000"}
    # Most recent first by default.
    assert [item["mx_Custom_1"] for item in items] == [f"Loan {n}" for n in (4, 3, 2, 1, 0)]

    everything = api.list_of_lead(lead).json()  # no body: all types, first 100
    assert everything["RecordCount"] == 6 and len(everything["List"]) == 6


def _dated(name: str, when: str | None) -> dict[str, Any]:
    body = capture_body(name=name)
    if when is not None:
        body["Opportunity"]["OpportunityDateTime"] = when
    return body


def test_list_sorts_by_pacreatedon_both_ways_across_pages() -> None:
    """Sorting {"ColumnName": "PACreatedOn", "Direction": "1"|"0"} with paging, as on the page."""
    wall = FakeWallClock("2026-02-01 08:00:00")
    api = Api(wall=wall)
    dates = {"March": "2025-03-01 10:00:00", "January": "2025-01-01 10:00:00"}
    dates |= {"April": "2025-04-01 10:00:00", "February": "2025-02-01 10:00:00"}
    lead = ""
    for name, when in dates.items():  # sent out of order on purpose
        lead = api.capture_sync(_dated(name, when)).json()["RelatedProspectId"]

    def names(direction: str) -> list[list[str]]:
        pages = []
        for index in (1, 2, 3):
            body = {
                "Paging": {"PageIndex": index, "PageSize": 3},
                "Sorting": {"ColumnName": "PACreatedOn", "Direction": direction},
            }
            answer = api.list_of_lead(lead, body, opportunityType="12000").json()
            assert answer["RecordCount"] == 4
            pages.append([item["mx_Custom_1"] for item in answer["List"]])
        return pages

    assert names("1") == [["April", "March", "February"], ["January"], []]
    assert names("0") == [["January", "February", "March"], ["April"], []]
    items = api.list_of_lead(lead).json()["List"]
    # PACreatedOn is the captured activity's date; PAModifiedOn when the sandbox processed it.
    assert {item["PACreatedOn"] for item in items} == set(dates.values())
    assert {item["PAModifiedOn"] for item in items} == {"2026-02-01 08:00:00"}


def test_list_sorting_ties_on_pacreatedon_follow_creation_order() -> None:
    api = Api(wall=FakeWallClock())  # every capture in the same second
    lead = ""
    for name in ("first", "second", "third"):
        lead = api.capture_sync(_dated(name, None)).json()["RelatedProspectId"]
    newest = {"Sorting": {"ColumnName": "PACreatedOn", "Direction": "1"}}
    oldest = {"Sorting": {"ColumnName": "PACreatedOn", "Direction": "0"}}
    assert [i["mx_Custom_1"] for i in api.list_of_lead(lead, newest).json()["List"]] == [
        "third",
        "second",
        "first",
    ]
    assert [i["mx_Custom_1"] for i in api.list_of_lead(lead, oldest).json()["List"]] == [
        "first",
        "second",
        "third",
    ]


def test_async_capture_is_stamped_when_processed_not_when_sent() -> None:
    clock, wall = FakeClock(), FakeWallClock("2026-03-01 10:00:00")
    api = Api(SandboxConfig(async_delay=30.0), clock, wall)
    request_id = api.capture_async(_dated("Queued", "2026-02-20 09:30:00")).json()["RequestID"]
    clock.now = 45.0  # the queue hands it out on the next call, 45 s after it was sent
    wall.set("2026-03-01 10:00:45")
    assert api.status(request_id).json()["TaskStatus"]["Status"] == TASK_SUCCESS
    stored = api.sandbox.opportunities()[0]
    assert stored["PACreatedOn"] == "2026-02-20 09:30:00"
    assert stored["PAModifiedOn"] == "2026-03-01 10:00:45"
    lead = api.lookup("lead_by_id", id=stored["ProspectId"]).json()[0]
    assert lead["CreatedOn"] == "2026-03-01 10:00:45"


def test_list_of_an_unknown_lead_is_empty_and_leadid_is_mandatory() -> None:
    api = Api()
    assert api.list_of_lead("no-such-lead").json() == {"RecordCount": 0, "List": []}
    assert_error(api.list_of_lead(None), 400, "MXMandatoryAttributeMissingException")
    assert_error(api.list_of_lead("x", opportunityType="loan"), 400)
    assert_error(api.list_of_lead("x", {"Paging": {"PageIndex": 0, "PageSize": 10}}), 400)


# ---- Get Lead APIs ----------------------------------------------------------------------------
LOOKUP_PARAMS = {
    "lead_by_email": "emailaddress",
    "leads_by_quick_search": "key",
    "lead_by_id": "id",
}
_DATETIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def lead_body(email: str, first: str, last: str, **attributes: str) -> dict[str, Any]:
    """A capture whose lead carries the given attributes besides email and names."""
    details = {"EmailAddress": email, "FirstName": first, "LastName": last, **attributes}
    return {
        "LeadDetails": [{"Attribute": k, "Value": v} for k, v in details.items()]
        + [{"Attribute": "SearchBy", "Value": "EmailAddress"}],
        "Opportunity": {
            "OpportunityEventCode": 12000,
            "Fields": [{"SchemaName": "mx_Custom_1", "Value": f"{first} - Loan"}],
        },
    }


def test_lead_by_email_answers_the_lead_ignoring_case() -> None:
    api = Api(wall=FakeWallClock("2026-01-15 09:00:00"))
    captured = api.capture_sync(
        lead_body("Asha.Rao@Example.com", "Asha", "Rao", Mobile="+91-9876543210", mx_City="Pune")
    ).json()
    api.capture_sync(lead_body("asha.rao@example.org", "Other", "Lead"))

    found = api.lookup("lead_by_email", emailaddress="ASHA.RAO@example.COM")
    assert found.status_code == 200 and found.headers["content-type"] == "application/json"
    assert found.json() == [
        {
            "ProspectID": captured["RelatedProspectId"],
            "FirstName": "Asha",
            "LastName": "Rao",
            "EmailAddress": "Asha.Rao@Example.com",
            "Phone": None,  # the usual fields are there, null when the lead has none
            "Mobile": "+91-9876543210",
            "mx_City": "Pune",
            "CreatedOn": "2026-01-15 09:00:00",
        }
    ]
    assert api.lookup("lead_by_email", emailaddress="nobody@example.com").json() == []
    assert api.lookup("lead_by_email", emailaddress="asha.rao@example").json() == []  # not a prefix


def test_quick_search_looks_in_names_email_phones_company_city_and_country() -> None:
    api = Api()
    asha = api.capture_sync(
        lead_body("asha@example.com", "Asha", "Rao", Phone="020-2550 1234", Company="Acme Ltd")
    ).json()["RelatedProspectId"]
    ravi = api.capture_sync(
        lead_body(
            "ravi@example.org",
            "Ravi",
            "Kumar",
            Mobile="+91-9876543210",
            mx_City="Nagpur",
            mx_Country="India",
            Source="Partner Pune",
        )
    ).json()["RelatedProspectId"]

    def ids(key: str) -> list[str]:
        answer = api.lookup("leads_by_quick_search", key=key)
        assert answer.status_code == 200, answer.text
        return [lead["ProspectID"] for lead in answer.json()]

    assert ids("asha") == [asha]  # first name and email
    assert ids("RAO") == [asha]  # last name, ignoring case
    assert ids("2550") == [asha]  # part of the phone
    assert ids("acme") == [asha]  # company
    assert ids("9876543210") == [ravi]  # mobile without its country code
    assert ids("nagpur") == [ravi] and ids("india") == [ravi]  # city and country
    assert ids("example") == [asha, ravi]  # both emails, in creation order
    assert ids("pune") == []  # Source is not searched
    assert ids("zebra") == []
    for lead in api.lookup("leads_by_quick_search", key="example").json():
        assert _DATETIME_TEXT.match(lead["CreatedOn"])


def test_lead_by_id_answers_a_list_of_one_or_none() -> None:
    api = Api()
    prospect = api.capture_sync(lead_body("a@example.com", "A", "B")).json()["RelatedProspectId"]
    found = api.lookup("lead_by_id", id=prospect).json()
    assert [lead["ProspectID"] for lead in found] == [prospect]
    assert found[0]["EmailAddress"] == "a@example.com"
    assert api.lookup("lead_by_id", id="00000000-0000-0000-0000-000000000000").json() == []


@pytest.mark.parametrize("name", list(LOOKUP_PARAMS))
def test_lookups_need_their_parameter_and_both_keys(name: str) -> None:
    api = Api()
    missing = assert_error(api.lookup(name), 400, "MXMandatoryAttributeMissingException")
    assert LOOKUP_PARAMS[name] in missing["ExceptionMessage"]
    assert_error(api.lookup(name, **{LOOKUP_PARAMS[name]: "  "}), 400)
    wrong = dict(api.keys, secretKey="wrong")
    assert_error(api.lookup(name, wrong, **{LOOKUP_PARAMS[name]: "x"}), 401)
    assert_error(
        api.lookup(name, {"accessKey": api.config.access_key}, **{LOOKUP_PARAMS[name]: "x"}), 401
    )
    assert_error(api.request("POST", DEFAULT_PATHS[name], params=api.keys), 404)  # GET only


def test_lookups_count_in_the_sync_window() -> None:
    api = Api(SandboxConfig(rate_limit=4, async_delay=0))
    api.capture_sync(capture_body())
    for name, param in LOOKUP_PARAMS.items():
        assert api.lookup(name, **{param: "asha"}).status_code == 200
    body = assert_error(api.lookup("lead_by_email", emailaddress="asha@example.com"), 429)
    assert body["ExceptionMessage"] == "API calls exceeded the limit of 4 in 5 second(s)"
    assert api.status("unknown").status_code == 404  # the async window is another one
    api.clock.now = 5.0
    assert api.lookup("lead_by_id", id="x").status_code == 200
    calls = api.sandbox.snapshot()["counters"]["calls"]
    assert {calls[DEFAULT_PATHS[name]] for name in LOOKUP_PARAMS} == {1, 2}


def test_lookups_suffer_the_injected_faults() -> None:
    api = Api(SandboxConfig(error_rate=1.0, seed=1))
    for name, param in LOOKUP_PARAMS.items():
        assert api.lookup(name, **{param: "x"}).status_code == 500
    gateway = Api(SandboxConfig(gateway_rate=1.0))
    for name, param in LOOKUP_PARAMS.items():
        assert gateway.lookup(name, **{param: "x"}).status_code == 504


# ---- 400: bodies off the page ----------------------------------------------------------------
def _mutations() -> list[tuple[str, Any]]:
    def edit(fn: Any) -> dict[str, Any]:
        body = copy.deepcopy(capture_body())
        fn(body)
        return body

    return [
        ("array body", [capture_body()]),
        ("no LeadDetails", edit(lambda b: b.pop("LeadDetails"))),
        ("LeadDetails not a list", edit(lambda b: b.update(LeadDetails={"a": "b"}))),
        ("no SearchBy", edit(lambda b: b["LeadDetails"].pop())),
        ("empty SearchBy", edit(lambda b: b["LeadDetails"][-1].update(Value=" "))),
        ("SearchBy absent attribute", edit(lambda b: b["LeadDetails"][-1].update(Value="Phone"))),
        ("no Opportunity", edit(lambda b: b.pop("Opportunity"))),
        ("no event code", edit(lambda b: b["Opportunity"].pop("OpportunityEventCode"))),
        (
            "event code string",
            edit(lambda b: b["Opportunity"].update(OpportunityEventCode="12000")),
        ),
        ("event code float", edit(lambda b: b["Opportunity"].update(OpportunityEventCode=12000.5))),
        ("event code bool", edit(lambda b: b["Opportunity"].update(OpportunityEventCode=True))),
        ("lead value number", edit(lambda b: b["LeadDetails"][1].update(Value=5))),
        ("lead value null", edit(lambda b: b["LeadDetails"][1].update(Value=None))),
        ("field value number", edit(lambda b: b["Opportunity"]["Fields"][0].update(Value=1))),
        ("field value bool", edit(lambda b: b["Opportunity"]["Fields"][0].update(Value=True))),
        (
            "field without SchemaName",
            edit(lambda b: b["Opportunity"]["Fields"][0].pop("SchemaName")),
        ),
        ("Fields not a list", edit(lambda b: b["Opportunity"].update(Fields={}))),
    ]


@pytest.mark.parametrize(("case", "body"), _mutations(), ids=[m[0] for m in _mutations()])
def test_capture_bodies_off_the_page_are_400_sync_and_async(case: str, body: Any) -> None:
    api = Api()
    assert_error(api.capture_sync(body), 400)
    assert_error(api.capture_async(body), 400)
    snapshot = api.sandbox.snapshot()
    assert snapshot["requests"] == [] and snapshot["opportunities"] == []


def test_malformed_json_and_wrong_content_type_are_400() -> None:
    api = Api()
    path = DEFAULT_PATHS["capture_sync"]
    headers = {"content-type": "application/json"}
    assert_error(api.request("POST", path, params=api.keys, content=b"{", headers=headers), 400)
    text = json.dumps(capture_body()).encode()
    plain = {"content-type": "text/plain"}
    assert_error(api.request("POST", path, params=api.keys, content=text, headers=plain), 400)
    assert_error(api.request("POST", path, params=api.keys, content=text), 400)
    charset = {"content-type": "application/json; charset=utf-8"}
    ok = api.request("POST", path, params=api.keys, content=text, headers=charset)
    assert ok.status_code == 200


# ---- 401 / 404 ------------------------------------------------------------------------------
def test_sync_calls_need_both_keys() -> None:
    api = Api()
    assert_error(api.capture_sync(capture_body(), params={}), 401)
    wrong = {"accessKey": api.config.access_key, "secretKey": "wrong"}
    body = assert_error(api.capture_sync(capture_body(), params=wrong), 401)
    assert api.config.secret_key not in json.dumps(body)
    share = api.request("POST", DEFAULT_PATHS["share"], json=[], params={})
    assert_error(share, 401)


def test_async_calls_need_keys_and_x_api_key_and_status_needs_the_header() -> None:
    api = Api()
    assert_error(api.capture_async(capture_body(), headers={}), 401)
    assert_error(api.capture_async(capture_body(), headers={"x-api-key": "wrong"}), 401)
    assert_error(api.capture_async(capture_body(), params={}), 401)
    request_id = api.capture_async(capture_body()).json()["RequestID"]
    no_header = api.request(
        "GET", DEFAULT_PATHS["capture_status"], params={"RequestID": request_id}
    )
    assert_error(no_header, 401)
    assert api.status(request_id).status_code == 200  # header alone is enough
    assert_error(api.request("GET", DEFAULT_PATHS["capture_metrics"]), 401)


def test_unknown_paths_methods_and_request_ids_are_404() -> None:
    api = Api()
    assert_error(api.request("POST", "/v2/OpportunityManagement.svc/Nope", params=api.keys), 404)
    assert_error(api.request("GET", DEFAULT_PATHS["capture_sync"], params=api.keys), 404)
    assert_error(api.request("POST", DEFAULT_PATHS["capture_sync"] + "/", params=api.keys), 404)
    assert_error(api.status("no-such-request"), 404)
    capture_id = api.capture_async(capture_body()).json()["RequestID"]
    assert_error(api.status(capture_id, "update"), 404)  # each Status API knows its own


# ---- 429: the sliding window ---------------------------------------------------------------------
def test_sliding_window_at_its_edge() -> None:
    clock = FakeClock()
    api = Api(SandboxConfig(async_delay=0), clock)
    for n in range(25):
        clock.now = n * 0.125  # 25 calls spread over 3 s (exact binary fractions)
        assert api.list_of_lead("lead").status_code == 200, n
    clock.now = 4.99  # the 26th within 5 s of the first
    refused = api.list_of_lead("lead")
    body = assert_error(refused, 429)
    assert body["ExceptionMessage"] == "API calls exceeded the limit of 25 in 5 second(s)"
    assert "retry-after" not in refused.headers
    clock.now = 5.0  # the first call has left the window: exactly one slot is free
    assert api.list_of_lead("lead").status_code == 200
    assert_error(api.list_of_lead("lead"), 429)
    clock.now = 5.125  # and now the second one has left too
    assert api.list_of_lead("lead").status_code == 200
    counters = api.sandbox.snapshot()["counters"]
    assert counters["rate_limited"] == 2 and counters["429s"] == 2


def test_sync_and_async_have_separate_windows_and_async_calls_share_one() -> None:
    clock = FakeClock()
    api = Api(SandboxConfig(rate_limit=2, async_delay=0), clock)
    assert api.list_of_lead("a").status_code == 200
    assert api.list_of_lead("a").status_code == 200
    assert_error(api.list_of_lead("a"), 429)
    request_id = api.capture_async(capture_body()).json()["RequestID"]  # async window: 1
    assert api.metrics().status_code == 200  # 2
    assert_error(api.status(request_id), 429)  # status shares the async window


# ---- injected faults -------------------------------------------------------------------------
def test_error_rate_answers_500_without_doing_the_work() -> None:
    api = Api(SandboxConfig(error_rate=1.0, async_delay=0, seed=3))
    bodies = []
    for number in range(10):
        sent = capture_body(email=f"e{number}@example.com")
        for response in (api.capture_sync(sent), api.capture_async(sent)):
            assert response.status_code == 500
            bodies.append(response.json())
    assert api.metrics().status_code == 200  # metrics are never faulted
    snapshot = api.sandbox.snapshot()
    assert snapshot["opportunities"] == [] and snapshot["requests"] == []
    assert snapshot["counters"]["injected_500"] == 20 and snapshot["counters"]["500s"] == 20
    # LeadSquared's answer when a service behind it is down, or the same with no type at all.
    db_down = {
        "Status": "Error",
        "ExceptionType": "MXUnknownException",
        "ExceptionMessage": "Unable to connect to DB",
    }
    untyped = [b for b in bodies if b != db_down]
    assert 0 < len(untyped) < len(bodies)
    assert all(set(b) == {"Status", "ExceptionMessage"} for b in untyped)


def test_burst_429_is_spurious_and_counted() -> None:
    api = Api(SandboxConfig(burst_429=1.0))
    body = assert_error(api.capture_sync(capture_body()), 429)
    assert body["ExceptionMessage"] == "API calls exceeded the limit of 25 in 5 second(s)"
    counters = api.sandbox.snapshot()["counters"]
    assert counters["burst_429"] == 1 and counters["rate_limited"] == 0
    assert api.sandbox.opportunities() == []


def test_spurious_429s_do_not_fill_the_window() -> None:
    api = Api(SandboxConfig(burst_429=1.0, rate_limit=1))
    for _ in range(3):
        assert_error(api.list_of_lead("x"), 429)
    api.config.burst_429 = 0.0
    assert api.list_of_lead("x").status_code == 200
    assert_error(api.list_of_lead("x"), 429)  # the real window: one call per 5 s


def test_fault_choices_repeat_with_a_seed() -> None:
    def outcomes() -> list[int]:
        api = Api(SandboxConfig(error_rate=0.5, seed=7, rate_limit=100))
        return [api.list_of_lead("x").status_code for _ in range(12)]

    first = outcomes()
    assert first == outcomes()
    assert set(first) == {200, 500}


def test_drop_through_asgi_is_a_transport_error_after_the_work() -> None:
    api = Api(SandboxConfig(drop_rate=1.0))
    with pytest.raises(httpx.TransportError):
        api.capture_sync(capture_body())
    assert len(api.sandbox.opportunities()) == 1
    assert api.sandbox.snapshot()["counters"]["drops"] == 1


def test_gateway_504_comes_after_the_work_as_an_html_page() -> None:
    api = Api(SandboxConfig(gateway_rate=1.0, async_delay=0))
    answer = api.capture_sync(capture_body())
    assert answer.status_code == 504
    assert answer.headers["content-type"].startswith("text/html")
    assert "<title>504 Gateway Time-out</title>" in answer.text
    assert len(api.sandbox.opportunities()) == 1  # the capture was processed all the same

    queued = api.capture_async(capture_body(email="queued@example.com"))
    assert queued.status_code == 504 and "RequestID" not in queued.text
    snapshot = api.sandbox.snapshot()
    assert [r["Status"] for r in snapshot["requests"]] == [TASK_SUCCESS]  # it was queued
    assert len(snapshot["opportunities"]) == 2
    counters = snapshot["counters"]
    assert counters["gateway_504"] == 2 and counters["responses"] == {"504": 2}
    assert counters["injected_500"] == 0 and counters["drops"] == 0
    assert api.metrics().status_code == 200  # metrics are never faulted


def test_gateway_fault_takes_a_fourth_draw_and_leaves_older_seeds_alone() -> None:
    def error_calls(config: SandboxConfig) -> list[bool]:
        api = Api(config)
        return [api.list_of_lead("x").status_code == 500 for _ in range(12)]

    def expected(seed: int, draws: int) -> list[bool]:
        rng = random.Random(seed)
        return [[rng.random() for _ in range(draws)][1] < 0.5 for _ in range(12)]

    # No gateway fault: three draws a call, the sequence a seed gave before the fault existed.
    assert error_calls(SandboxConfig(error_rate=0.5, seed=7)) == expected(7, 3)
    # With it, a fourth draw after the three, so the 500s come where four draws put them.
    with_gateway = SandboxConfig(error_rate=0.5, gateway_rate=0.000001, seed=7)
    assert error_calls(with_gateway) == expected(7, 4)


def test_gateway_rate_is_a_fraction() -> None:
    with pytest.raises(ValueError, match="gateway_rate"):
        SandboxConfig(gateway_rate=1.5)
    with pytest.raises(ValueError, match="gateway_rate"):
        SandboxConfig(gateway_rate=-0.1)


def test_latency_delays_every_answer() -> None:
    api = Api(SandboxConfig(latency=0.2))
    started = time.monotonic()
    assert api.list_of_lead("x").status_code == 200
    assert time.monotonic() - started >= 0.2


# ---- LeadSquared's rules ------------------------------------------------------------------------
def test_duplicate_rule_same_lead_code_and_name_ignoring_case() -> None:
    api = Api(SandboxConfig(async_delay=0, duplicate_detection=True))
    first = api.capture_sync(capture_body(name="Home Loan")).json()
    again = api.capture_sync(capture_body(email="ASHA@Example.com", name="home loan")).json()
    assert set(again) == CAPTURE_FIELDS
    assert again["RelatedProspectId"] == first["RelatedProspectId"]  # email ignores case
    assert again["CreatedOpportunityId"] is None
    assert again["ConflictedOpportunityId"] == first["CreatedOpportunityId"]
    assert again["IsUnique"] is False and again["PrimaryAction"] == 3 and again["Status"] == 0
    assert again["AdditionalDetails"][0]["PostDeDupActionPerformed"] == 3
    other_type = api.capture_sync(capture_body(name="Home Loan", code=12002)).json()
    assert other_type["IsUnique"] is True
    assert len(api.sandbox.opportunities()) == 2


def test_a_new_account_has_no_duplicate_rule() -> None:
    """The same capture processed twice is two opportunities, sync or async (CONTRACT 9)."""
    api = Api()
    answers = [api.capture_sync(capture_body()).json() for _ in range(2)]
    queued = [api.capture_async(capture_body()).json()["RequestID"] for _ in range(2)]
    answers += [json.loads(api.status(r).json()["TaskStatus"]["Message"]) for r in queued]
    assert all(a["IsUnique"] is True and a["PrimaryAction"] == 1 for a in answers)
    assert all(a["ConflictedOpportunityId"] is None for a in answers)
    created = {a["CreatedOpportunityId"] for a in answers}
    assert len(created) == 4 and None not in created
    assert len(api.sandbox.opportunities()) == 4
    assert len({a["RelatedProspectId"] for a in answers}) == 1  # one lead, found by email


def test_won_or_lost_needs_a_status_comment() -> None:
    api = Api()
    refused = api.capture_sync(capture_body(Status="Won"))
    body = assert_error(refused, 500, "MXInvalidActivityFieldsException")
    assert body["ExceptionMessage"] == (
        "Field name : 'mx_Custom_19' of datatype : 'String' is mandatory."
    )
    assert api.sandbox.snapshot()["leads"] == []  # a refused capture leaves nothing behind
    with_comment = api.capture_sync(capture_body(Status="Lost", mx_Custom_19="Price"))
    assert with_comment.status_code == 200
    assert api.capture_sync(capture_body(name="Other", Status="Open")).status_code == 200

    relaxed = Api(SandboxConfig(require_status_comment=False))
    assert relaxed.capture_sync(capture_body(Status="Won")).status_code == 200


def test_async_failures_for_invalid_email_and_missing_comment() -> None:
    api = Api()
    bad_email = api.capture_async(capture_body(email="not-an-email")).json()["RequestID"]
    task = api.status(bad_email).json()["TaskStatus"]
    assert task["Status"] == TASK_FAILURE
    error = json.loads(task["Message"])
    assert error["ExceptionType"] == "MXInvalidEmailAddressException"
    no_comment = api.capture_async(capture_body(Status="Lost")).json()["RequestID"]
    error = json.loads(api.status(no_comment).json()["TaskStatus"]["Message"])
    assert error["ExceptionType"] == "MXInvalidActivityFieldsException"
    assert api.sandbox.opportunities() == []


def test_invalid_email_and_datetime_are_mx_500_on_the_sync_api() -> None:
    api = Api()
    assert_error(
        api.capture_sync(capture_body(email="a@b@c")), 500, "MXInvalidEmailAddressException"
    )
    body = capture_body()
    body["Opportunity"]["OpportunityDateTime"] = "05/12/2020 12:13"
    error = assert_error(api.capture_sync(body), 500)
    assert error["ExceptionType"].startswith("MX")


def test_async_requests_are_processed_in_arrival_order() -> None:
    clock = FakeClock()
    api = Api(SandboxConfig(async_delay=1.0, duplicate_detection=True), clock)
    first = api.capture_async(capture_body()).json()["RequestID"]
    clock.now = 0.5
    second = api.capture_async(capture_body(name="HOME LOAN")).json()["RequestID"]
    metrics = api.metrics().json()
    assert metrics["PendingMessages"] == 2 and metrics["MaxDelayInSeconds"] == 0.5
    clock.now = 1.2  # only the first is due
    assert api.status(second).json()["TaskStatus"]["Status"] == TASK_IN_QUEUE
    assert api.status(first).json()["TaskStatus"]["Status"] == TASK_SUCCESS
    clock.now = 2.0
    answer = json.loads(api.status(second).json()["TaskStatus"]["Message"])
    assert answer["IsUnique"] is False  # the second arrival is the duplicate
    metrics = api.metrics().json()
    assert metrics["PendingMessages"] == 0 and metrics["ProcessingRatePerMinute"] == 0.2


# ---- inspection --------------------------------------------------------------------------------
def test_inspection_endpoints_change_data_behind_the_importers_back() -> None:
    api = Api()
    created = api.capture_sync(capture_body()).json()["CreatedOpportunityId"]
    patched = api.request("PATCH", f"/_sandbox/opportunities/{created}", json={"mx_Custom_2": "X"})
    assert patched.status_code == 200 and patched.json()["Fields"]["mx_Custom_2"] == "X"
    assert_error(api.request("PATCH", "/_sandbox/opportunities/nope", json={"a": "b"}), 404)
    state = api.request("GET", "/_sandbox/state").json()
    assert state["opportunities"][0]["Fields"]["mx_Custom_2"] == "X"
    assert set(state) == {"leads", "opportunities", "shares", "requests", "counters"}
    assert api.request("DELETE", f"/_sandbox/opportunities/{created}").status_code == 200
    assert api.sandbox.opportunities() == []
    with pytest.raises(KeyError):
        api.sandbox.set_opportunity_field(created, "mx_Custom_2", "Y")
    api.capture_sync(capture_body())
    assert api.request("POST", "/_sandbox/reset").status_code == 200
    assert api.sandbox.snapshot()["leads"] == []


def test_keys_never_show_in_snapshot_or_repr() -> None:
    config = SandboxConfig(
        access_key="AK-123", secret_key="SK-456", api_key="XK-789", async_delay=0
    )
    api = Api(config)
    api.capture_async(capture_body())
    api.capture_sync(capture_body(name="Two"))
    text = json.dumps(api.sandbox.snapshot()) + repr(config)
    for secret in ("AK-123", "SK-456", "XK-789"):
        assert secret not in text


def test_from_options_ignores_none() -> None:
    config = SandboxConfig.from_options(rate_limit=5, latency=None, seed=3)
    assert config.rate_limit == 5 and config.latency == 0.0 and config.seed == 3
    with pytest.raises(ValueError):
        SandboxConfig(error_rate=2.0)


# ---- real loopback ------------------------------------------------------------------------------
def test_serve_in_thread_starts_answers_and_stops() -> None:
    with serve_in_thread(SandboxConfig(async_delay=0)) as running:
        env = running.env()
        assert env["LSQ_HOST"] == env["LSQ_ASYNC_HOST"] == running.base_url
        assert running.base_url.startswith("http://127.0.0.1:")
        keys = {"accessKey": env["LSQ_ACCESS_KEY"], "secretKey": env["LSQ_SECRET_KEY"]}
        response = httpx.post(
            running.base_url + DEFAULT_PATHS["capture_async"],
            params=keys,
            headers={"x-api-key": env["LSQ_API_KEY"]},
            json=DOC_ASYNC_CAPTURE,
        )
        assert response.status_code == 200
        assert len(running.sandbox.opportunities()) == 1
    with pytest.raises(httpx.TransportError):
        httpx.get(running.base_url + "/_sandbox/state", timeout=2)


def test_drop_over_loopback_is_a_transport_error_while_the_opportunity_exists() -> None:
    with serve_in_thread(SandboxConfig(drop_rate=1.0)) as running:
        keys = {"accessKey": running.config.access_key, "secretKey": running.config.secret_key}
        with httpx.Client(base_url=running.base_url, timeout=5) as client:
            with pytest.raises(httpx.TransportError):
                client.post(DEFAULT_PATHS["capture_sync"], params=keys, json=capture_body())
            # The client can go on: the next call opens a fresh connection.
            state = client.get("/_sandbox/state").json()
        assert len(state["opportunities"]) == 1
        assert state["counters"]["drops"] == 1


def test_run_forever_prints_the_settings_and_stops_on_ctrl_c() -> None:
    code = (
        "from importer.sandbox import SandboxConfig, run_forever\n"
        "run_forever(SandboxConfig(), 0, echo=lambda line: print(line, flush=True))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(5)]
        settings = dict(line.split("=", 1) for line in lines)
        assert list(settings) == [
            "LSQ_HOST",
            "LSQ_ASYNC_HOST",
            "LSQ_ACCESS_KEY",
            "LSQ_SECRET_KEY",
            "LSQ_API_KEY",
        ]
        deadline = time.monotonic() + 10
        while True:  # the server starts just after the lines are printed
            try:
                state = httpx.get(settings["LSQ_HOST"] + "/_sandbox/state", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert state.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("rule", [False, True])
def test_sandbox_command_has_no_duplicate_rule_unless_asked(rule: bool) -> None:
    """`lsq-import sandbox` is a new account; `--duplicate-rule` gives it a rule on mx_Custom_1."""
    command = [sys.executable, "-m", "importer", "sandbox", "--port", "0"]
    command += ["--duplicate-rule"] if rule else []
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert process.stdout is not None
        settings = dict(process.stdout.readline().strip().split("=", 1) for _ in range(5))
        keys = {"accessKey": settings["LSQ_ACCESS_KEY"], "secretKey": settings["LSQ_SECRET_KEY"]}
        url = settings["LSQ_HOST"] + DEFAULT_PATHS["capture_sync"]
        deadline = time.monotonic() + 10
        while True:  # the server starts just after the lines are printed
            try:
                first = httpx.post(url, params=keys, json=capture_body(), timeout=2).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        second = httpx.post(url, params=keys, json=capture_body(), timeout=2).json()
        assert first["CreatedOpportunityId"]
        if rule:
            assert second["CreatedOpportunityId"] is None and second["IsUnique"] is False
            assert second["ConflictedOpportunityId"] == first["CreatedOpportunityId"]
        else:
            assert second["IsUnique"] is True
            assert second["CreatedOpportunityId"] not in (None, first["CreatedOpportunityId"])
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_sandbox_command_refuses_a_rate_outside_zero_to_one() -> None:
    result = CliRunner().invoke(cli_app, ["sandbox", "--port", "0", "--gateway-rate", "1.5"])
    assert result.exit_code == 2
    assert (
        result.output.strip() == "lsq-import: gateway_rate is a fraction of calls: between 0 and 1"
    )
