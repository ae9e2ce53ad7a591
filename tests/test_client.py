"""The LeadSquared client: request shapes, error classes, response parsing, redaction.

Parsing and redaction are tested with literal data; the client against the
sandbox (real loopback and its ASGI app) and, for network failures the sandbox
cannot produce on demand, against an httpx.MockTransport standing in for the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from importer.core.config import Settings
from importer.core.constants import DEFAULT_PATHS
from importer.core.errors import (
    AuthError,
    ConfigError,
    NotFound,
    RateLimited,
    RowRejected,
    TransientError,
)
from importer.core.progress import CallRecord
from importer.lsq.client import LeadSquaredClient
from importer.lsq.redaction import redact, redact_url
from importer.lsq.responses import (
    Lead,
    TaskStatus,
    error_fields,
    parse_capture_result,
    parse_leads,
    parse_metrics,
    parse_opportunity_page,
    parse_request_id,
    parse_task_status,
)
from importer.sandbox import Sandbox, SandboxConfig, create_app, serve_in_thread

ACCESS, SECRET, API = "sandbox-access", "sandbox-secret", "sandbox-api"
DB_DOWN = "Unable to connect to DB"
KEYS = (ACCESS, SECRET, API)


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


def capture_body(email: str = "jane@example.com", name: str = "Jane - Loan") -> dict:
    return {
        "LeadDetails": [
            {"Attribute": "EmailAddress", "Value": email},
            {"Attribute": "FirstName", "Value": "Jane"},
            {"Attribute": "SearchBy", "Value": "EmailAddress"},
        ],
        "Opportunity": {
            "OpportunityEventCode": 12000,
            "OpportunityNote": "imported",
            "OpportunityDateTime": "2024-05-01 10:00:00",
            "Fields": [
                {"SchemaName": "mx_Custom_1", "Value": name},
                {"SchemaName": "Status", "Value": "Open"},
            ],
        },
    }


# --- responses.py ---------------------------------------------------------------------


def status_answer(message: object, status: str = "Success") -> dict:
    return {
        "RequestId": "req-1",
        "TaskStatus": {
            "TaskType": "OpportunityCapture",
            "Status": status,
            "StatusReason": None,
            "TaskCurrentStep": "Done",
            "TaskLastStep": "Done",
            "RequestBody": "{}",
            "Message": message,
        },
    }


def test_task_status_message_as_json_string_is_decoded() -> None:
    inner = {"Status": 0, "CreatedOpportunityId": "opp-1", "RelatedProspectId": "lead-1"}
    task = parse_task_status(status_answer(json.dumps(inner)))
    assert task.request_id == "req-1"
    assert task.message == inner
    assert task.final
    result = parse_capture_result(task.message)  # type: ignore[arg-type]
    assert result is not None and result.created_opportunity_id == "opp-1"


def test_task_status_message_as_object_is_kept() -> None:
    inner = {"Status": 1, "ExceptionType": "MXInvalidEmailException"}
    task = parse_task_status(status_answer(inner, status="FAILURE"))
    assert task.message == inner
    assert task.final


def test_task_status_message_null_and_in_queue() -> None:
    task = parse_task_status(status_answer(None, status="In-Queue"))
    assert task.message is None
    assert not task.final


def test_task_status_tolerates_casing_and_plain_text_message() -> None:
    answer = {
        "RequestID": "req-2",
        "taskstatus": {"status": "Failure", "statusreason": "bad", "message": "not json"},
    }
    task = parse_task_status(answer)
    assert (task.request_id, task.status, task.status_reason) == ("req-2", "Failure", "bad")
    assert task.message == "not json"
    assert task.final  # "Failure" counts as FAILURE


def test_task_status_without_task_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_task_status({"RequestId": "x"})


def test_capture_result_from_json_text_with_loose_types() -> None:
    text = json.dumps(
        {
            "Status": "0",
            "CreatedOpportunityId": "null",
            "ConflictedOpportunityId": "opp-9",
            "RelatedProspectId": "lead-9",
            "RequestID": "r-9",
            "IsUnique": "false",
            "ExceptionType": None,
        }
    )
    result = parse_capture_result(text)
    assert result is not None
    assert result.status == 0
    assert result.created_opportunity_id is None
    assert result.conflicted_opportunity_id == "opp-9"
    assert result.request_id == "r-9"
    assert result.is_unique is False
    assert result.exception_type is None


def test_capture_result_nothing_and_bare_text() -> None:
    assert parse_capture_result(None) is None
    assert parse_capture_result("") is None
    assert parse_capture_result("null") is None
    bare = parse_capture_result("Lead not found")
    assert bare is not None and bare.exception_message == "Lead not found"
    assert parse_capture_result({"Status": "PartialSuccess"}).status == 2  # type: ignore[union-attr]


def test_metrics_numbers_as_strings() -> None:
    metrics = parse_metrics(
        {"PendingMessages": "12", "MaxDelayInSeconds": "3.5", "ProcessingRatePerMinute": 40}
    )
    assert (metrics.pending_messages, metrics.max_delay_seconds) == (12, 3.5)
    assert metrics.processing_rate_per_minute == 40.0


def test_request_id_and_page_and_error_fields() -> None:
    assert parse_request_id({"Status": "Request accepted", "RequestID": "a"}) == "a"
    assert parse_request_id({"RequestId": "b"}) == "b"
    with pytest.raises(ValueError):
        parse_request_id({"Status": "Request accepted"})
    page = parse_opportunity_page({"RecordCount": "2", "List": [{"OpportunityId": "o"}]})
    assert page.record_count == 2 and page.items == [{"OpportunityId": "o"}]
    assert parse_opportunity_page({"RecordCount": 0, "List": None}).items == []
    body = {"Status": "Error", "ExceptionType": "MXX", "ExceptionMessage": "bad"}
    assert error_fields(body) == ("MXX", "bad")
    assert error_fields(json.dumps(body).encode()) == ("MXX", "bad")
    assert error_fields("<html>oops</html>") == (None, "<html>oops</html>")
    assert error_fields(None) == (None, None)


def test_leads_are_read_with_any_id_spelling_and_every_field_as_text() -> None:
    answer = [
        {
            "ProspectID": "p-1",
            "FirstName": "Asha",
            "Phone": None,
            "Score": 12,
            "DoNotCall": False,
            "CreatedOn": "2026-01-15 09:00:00",
        },
        {"prospectid": "p-2", "EmailAddress": "b@example.com"},
        {"ProspectId": "p-3", "CreatedOn": None},
    ]
    leads = parse_leads(json.dumps(answer))  # JSON text is read as well as JSON
    assert [lead.prospect_id for lead in leads] == ["p-1", "p-2", "p-3"]
    first = leads[0]
    assert first.attributes == {
        "ProspectID": "p-1",
        "FirstName": "Asha",
        "Phone": "",
        "Score": "12",
        "DoNotCall": "false",
        "CreatedOn": "2026-01-15 09:00:00",
    }
    assert first.created_on == "2026-01-15 09:00:00" and leads[2].created_on is None
    assert leads[1].get("emailaddress") == "b@example.com" and leads[1].get("Mobile") is None
    assert parse_leads([]) == []


@pytest.mark.parametrize(
    "answer",
    [
        {"ProspectID": "p-1"},  # an object, not the array the API answers
        None,
        "<html>504 Gateway Time-out</html>",
        [{"FirstName": "no id"}],  # a lead we could not tell apart is not skipped
        [{"ProspectID": None}],
        ["p-1"],
    ],
)
def test_leads_of_another_shape_are_a_value_error(answer: object) -> None:
    with pytest.raises(ValueError):
        parse_leads(answer)


# --- redaction.py ---------------------------------------------------------------------


JSON_KEYS = st.sampled_from(
    ["Status", "TaskStatus", "RequestId", "RequestID", "Message", "List", "RecordCount"]
    + ["PendingMessages", "MaxDelayInSeconds", "CreatedOpportunityId", "ExceptionType"]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(JSON_KEYS | st.text(max_size=4), inner, max_size=4)
        | inner.map(lambda value: json.dumps(value))  # nested answers come as JSON text
    ),
    max_leaves=12,
)


@pytest.mark.parametrize(
    "parse",
    [
        parse_capture_result,
        parse_task_status,
        parse_metrics,
        parse_opportunity_page,
        parse_request_id,
        parse_leads,
        error_fields,
    ],
)
@given(data=JSON_VALUES)
@example(data={"PendingMessages": float("inf"), "RecordCount": "1e999", "List": []})
@hypothesis_settings(max_examples=300, deadline=None)
def test_parsers_refuse_a_bad_shape_with_value_error_only(
    parse: Callable[[Any], Any], data: Any
) -> None:
    """The client treats ValueError as "LeadSquared's answer has a shape we cannot read";
    any other exception from a parser would be our own bug, and must not be retried."""
    try:
        parse(data)
    except ValueError:
        pass


def test_a_parser_bug_is_not_taken_for_an_odd_answer() -> None:
    def buggy(data: Any) -> str:
        raise TypeError("a bug of ours")

    async def go() -> None:
        async with LeadSquaredClient(settings_for()) as client:
            with pytest.raises(TypeError, match="a bug of ours"):
                client._parsed("capture_async", buggy, {"RequestID": "r"})
            with pytest.raises(TransientError) as caught:
                client._parsed("capture_async", parse_request_id, {"Nothing": 1})
            assert caught.value.uncertain is True

    run(go())


def test_redact_query_header_and_literals() -> None:
    url = f"https://h/opportunity/capture?accessKey={ACCESS}&secretKey={SECRET}&leadId=1"
    assert redact_url(url) == "https://h/opportunity/capture?accessKey=***&secretKey=***&leadId=1"
    assert redact(f"ACCESSKEY={ACCESS}") == "ACCESSKEY=***"
    assert API not in redact(f"Headers({{'x-api-key': '{API}', 'accept': '*/*'}})")
    assert API not in redact(f"[(b'x-api-key', b'{API}')]")
    assert redact(f"x-api-key: {API}") == "x-api-key: ***"
    assert redact(f'{{"secretKey": "{SECRET}"}}') == '{"secretKey": "***"}'
    odd = "a+b/c=d"
    assert redact(f"echo {odd} and a%2Bb%2Fc%3Dd", [odd]) == "echo *** and ***"
    assert redact("short k", ["k"]) == "short k"  # too short to be a key


# --- client against a stand-in server (httpx.MockTransport) ----------------------------


def settings_for(base: str = "http://lsq.test", **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "host": base,
        "async_host": base,
        "access_key": ACCESS,
        "secret_key": SECRET,
        "api_key": API,
        "timeout": 5.0,
    }
    values.update(changes)
    return Settings(**values)


def with_mock(
    handler: Callable[[httpx.Request], httpx.Response],
    action: Callable[[LeadSquaredClient], Awaitable[Any]],
    records: list[CallRecord] | None = None,
) -> Any:
    async def go() -> Any:
        on_call = records.append if records is not None else None
        transport = httpx.MockTransport(handler)
        async with LeadSquaredClient(settings_for(), transport=transport, on_call=on_call) as c:
            return await action(c)

    return run(go())


def test_requests_follow_the_contract() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path.endswith("/status"):
            return httpx.Response(200, json=status_answer(None, "In-Queue"))
        if path.endswith("/metrics"):
            return httpx.Response(200, json={"PendingMessages": 0})
        if "GetOpportunitiesOfLead" in path:
            return httpx.Response(200, json={"RecordCount": 0, "List": []})
        if "LeadManagement" in path:
            return httpx.Response(200, json=[])
        if "Share" in path:
            return httpx.Response(200, json={"Status": "Success", "Message": {"Id": "s"}})
        if "Capture" in path:
            return httpx.Response(200, json={"Status": 0, "CreatedOpportunityId": "o"})
        return httpx.Response(200, json={"Status": "accepted", "RequestID": "rid"})

    async def calls(c: LeadSquaredClient) -> None:
        assert await c.capture_async(capture_body()) == "rid"
        await c.capture_status("rid")
        await c.capture_metrics()
        await c.capture_sync(capture_body())
        assert await c.update_async({"ProspectOpportunityId": "o", "Fields": []}) == "rid"
        await c.update_status("rid")
        await c.update_metrics()
        await c.share([{"UserId": "u", "Entity": 5, "EntityType": 3, "EntityId": "o"}])
        await c.opportunities_of_lead("lead-1", opportunity_type=12000, columns=["mx_Custom_1"])
        assert await c.lead_by_email("a+b@example.com") == []
        assert await c.leads_by_quick_search("98765 43210") == []
        assert await c.lead_by_id("lead-1") == []

    with_mock(handler, calls)
    by_path = {(r.method, r.url.path): r for r in seen}
    assert set(by_path) == {
        ("POST", DEFAULT_PATHS["capture_async"]),
        ("GET", DEFAULT_PATHS["capture_status"]),
        ("GET", DEFAULT_PATHS["capture_metrics"]),
        ("POST", DEFAULT_PATHS["capture_sync"]),
        ("POST", DEFAULT_PATHS["update_async"]),
        ("GET", DEFAULT_PATHS["update_status"]),
        ("GET", DEFAULT_PATHS["update_metrics"]),
        ("POST", DEFAULT_PATHS["share"]),
        ("POST", DEFAULT_PATHS["opportunities_of_lead"]),
        ("GET", DEFAULT_PATHS["lead_by_email"]),
        ("GET", DEFAULT_PATHS["leads_by_quick_search"]),
        ("GET", DEFAULT_PATHS["lead_by_id"]),
    }
    keys = {"accessKey": ACCESS, "secretKey": SECRET}
    for (method, path), request in by_path.items():
        query = dict(request.url.params)
        is_async = path.startswith("/opportunity/")
        if path.endswith(("/status", "/metrics")):
            assert "accessKey" not in query and "secretKey" not in query
        else:
            assert {k: query[k] for k in keys} == keys
        assert (request.headers.get("x-api-key") == API) is is_async
        if method == "POST":
            assert request.headers["content-type"] == "application/json"
    status = by_path[("GET", DEFAULT_PATHS["capture_status"])]
    assert dict(status.url.params) == {"RequestID": "rid"}
    share = by_path[("POST", DEFAULT_PATHS["share"])]
    assert isinstance(json.loads(share.content), list)
    read = by_path[("POST", DEFAULT_PATHS["opportunities_of_lead"])]
    assert read.url.params["leadId"] == "lead-1" and read.url.params["opportunityType"] == "12000"
    assert json.loads(read.content) == {
        "Paging": {"PageIndex": 1, "PageSize": 100},
        "Columns": {"Include_CSV": "mx_Custom_1"},
    }
    # The Get Lead APIs: the sync host, both keys and the one parameter in the query, no body.
    for name, param, value in (
        ("lead_by_email", "emailaddress", "a+b@example.com"),
        ("leads_by_quick_search", "key", "98765 43210"),
        ("lead_by_id", "id", "lead-1"),
    ):
        lookup = by_path[("GET", DEFAULT_PATHS[name])]
        assert dict(lookup.url.params) == {**keys, param: value}
        assert lookup.url.host == "lsq.test" and lookup.content == b""


@pytest.mark.parametrize(
    ("failure", "uncertain"),
    [
        (httpx.ConnectTimeout("connect timed out"), False),
        (httpx.PoolTimeout("pool timed out"), False),
        (httpx.ConnectError("refused"), False),
        (httpx.ReadTimeout("read timed out"), True),
        (httpx.WriteTimeout("write timed out"), True),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), True),
        (httpx.ReadError("connection reset"), True),
    ],
)
def test_network_failures_become_transient(failure: Exception, uncertain: bool) -> None:
    records: list[CallRecord] = []

    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(TransientError) as caught:
        with_mock(handler, lambda c: c.capture_async(capture_body()), records)
    assert caught.value.uncertain is uncertain
    assert type(failure).__name__ in str(caught.value)
    assert records[0].status_code is None and records[0].error
    assert records[0].endpoint == "capture_async"
    assert ACCESS not in records[0].url and "accessKey=***" in records[0].url


@pytest.mark.parametrize(
    ("code", "body", "expected"),
    [
        (401, {"Status": "Error", "ExceptionMessage": "Invalid keys"}, AuthError),
        (429, {"Status": "Error", "ExceptionMessage": "API calls exceeded"}, RateLimited),
        (404, "Not Found", NotFound),
        (404, {"ExceptionType": "MXLeadNotFoundException", "ExceptionMessage": "x"}, RowRejected),
        (400, {"ExceptionType": "MXInvalidJsonException", "ExceptionMessage": "x"}, RowRejected),
        (500, {"ExceptionType": "MXInvalidEmailException", "ExceptionMessage": "x"}, RowRejected),
        (500, {"ExceptionType": "InternalServerError", "ExceptionMessage": "x"}, TransientError),
        (503, "<html>busy</html>", TransientError),
        # LeadSquared's own trouble heals: retried like any 5xx.
        (500, {"ExceptionType": "MXUnknownException", "ExceptionMessage": DB_DOWN}, TransientError),
        (500, {"ExceptionType": "mxunknownexception", "ExceptionMessage": "x"}, TransientError),
        (500, {"Status": "Error", "ExceptionMessage": "Something went wrong"}, TransientError),
        (502, {"ExceptionType": "MXServiceException", "ExceptionMessage": DB_DOWN}, TransientError),
        (
            500,
            {"ExceptionType": "MXX", "ExceptionMessage": "Could not reach the queue"},
            TransientError,
        ),
        (
            504,
            {"ExceptionType": "MXX", "ExceptionMessage": "Execution Timeout Expired"},
            TransientError,
        ),
        (408, {"ExceptionMessage": "Request Timeout"}, TransientError),
        # The row's own faults end it.
        (
            500,
            {"ExceptionType": "MXDuplicateEntryException", "ExceptionMessage": "dup"},
            RowRejected,
        ),
        (
            500,
            {"ExceptionType": "MXMandatoryAttributeMissingException", "ExceptionMessage": "x"},
            RowRejected,
        ),
        (400, {"ExceptionType": "MXUnknownException", "ExceptionMessage": DB_DOWN}, RowRejected),
        (400, {"Status": "Error", "ExceptionMessage": "bad"}, RowRejected),
        (409, "Conflict", RowRejected),
        (422, {"ExceptionMessage": "x"}, RowRejected),
        (403, {"ExceptionMessage": "Forbidden"}, AuthError),
    ],
)
def test_statuses_become_error_classes(code: int, body: object, expected: type) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(code, text=body)
        return httpx.Response(code, json=body)

    with pytest.raises(expected) as caught:
        with_mock(handler, lambda c: c.capture_sync(capture_body()))
    error = caught.value
    assert error.status_code == code
    if isinstance(error, TransientError):
        # A 5xx does not prove the request was refused before it was processed (CONTRACT 4).
        assert error.uncertain is (code >= 500)
    if isinstance(error, RowRejected):
        given = body.get("ExceptionType") if isinstance(body, dict) else None
        assert error.exception_type == (given or f"HTTP{code}")


def test_ok_status_with_non_json_body_is_uncertain() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>")

    with pytest.raises(TransientError) as caught:
        with_mock(handler, lambda c: c.capture_async(capture_body()))
    assert caught.value.uncertain is True
    assert "not JSON" in str(caught.value)


def test_auth_error_names_the_key_to_check_but_never_its_value() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # A careless server echoing the key back must not leak it either.
        return httpx.Response(401, json={"ExceptionMessage": f"bad key {API}"})

    with pytest.raises(AuthError) as caught:
        with_mock(handler, lambda c: c.capture_status("rid"))
    text = str(caught.value)
    assert "LSQ_API_KEY" in text and "LSQ_ACCESS_KEY" not in text
    assert API not in text


def assert_no_keys(
    caplog: pytest.LogCaptureFixture, errors: list[BaseException], keys: tuple[str, ...] = KEYS
) -> None:
    texts = [record.getMessage() for record in caplog.records]
    texts += [str(error) for error in errors] + [repr(error) for error in errors]
    assert texts, "nothing was logged"
    for text in texts:
        for key in keys:
            assert key not in text, text


def test_logs_and_errors_never_show_keys_with_a_stand_in(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    answers = iter(
        [
            httpx.Response(200, json={"RequestID": "r"}),
            httpx.Response(401, json={"ExceptionMessage": f"key {ACCESS} invalid"}),
            httpx.Response(500, json={"ExceptionType": "MXX", "ExceptionMessage": SECRET}),
        ]
    )
    errors: list[BaseException] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    async def calls(c: LeadSquaredClient) -> None:
        await c.capture_async(capture_body())
        for _ in range(2):
            try:
                await c.capture_sync(capture_body())
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

    with_mock(handler, calls)
    assert [type(e) for e in errors] == [AuthError, RowRejected]
    lines = [r.getMessage() for r in caplog.records if r.name == "importer.client"]
    assert lines[0].startswith("POST /opportunity/capture?accessKey=***&secretKey=*** -> 200 (")
    assert any(r.name == "httpx" for r in caplog.records)  # httpx's own line, redacted
    assert_no_keys(caplog, errors)


# --- client against the sandbox: real loopback and its ASGI app -------------------------

TRANSPORTS = ["loopback", "asgi"]
ASGI_BASE = "http://sandbox.test"


@contextmanager
def sandbox_target(
    kind: str, *, settings_changes: dict[str, Any] | None = None, **config: Any
) -> Iterator[tuple[Settings, httpx.AsyncBaseTransport | None, Sandbox]]:
    """Settings (+ transport) aimed at a fresh sandbox, over loopback or in-process ASGI."""
    sandbox_config = SandboxConfig(
        **{
            "access_key": ACCESS,
            "secret_key": SECRET,
            "api_key": API,
            "async_delay": 0.0,
            "rate_limit": 1000,
            **config,
        }
    )
    if kind == "asgi":
        app = create_app(sandbox_config)
        settings = settings_for(ASGI_BASE, **(settings_changes or {}))
        yield settings, httpx.ASGITransport(app=app), app.state.sandbox
        return
    with serve_in_thread(sandbox_config) as running:
        yield settings_for(running.base_url, **(settings_changes or {})), None, running.sandbox


def against(
    target: tuple[Settings, httpx.AsyncBaseTransport | None, Sandbox],
    action: Callable[[LeadSquaredClient], Awaitable[Any]],
    records: list[CallRecord] | None = None,
) -> Any:
    settings, transport, _ = target

    async def go() -> Any:
        on_call = records.append if records is not None else None
        async with LeadSquaredClient(settings, transport=transport, on_call=on_call) as client:
            return await action(client)

    return run(go())


async def until_final(poll: Callable[[], Awaitable[TaskStatus]]) -> TaskStatus:
    for _ in range(100):
        task = await poll()
        if task.final:
            return task
        await asyncio.sleep(0.02)
    raise AssertionError("the task never finished")


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_every_endpoint_happy_path(kind: str) -> None:
    records: list[CallRecord] = []

    async def journey(c: LeadSquaredClient) -> None:
        sync = await c.capture_sync(capture_body("sync@example.com", "Sync - Loan"))
        assert sync.status == 0 and sync.created_opportunity_id and sync.related_prospect_id
        assert sync.is_unique is True and sync.request_id

        request_id = await c.capture_async(capture_body("async@example.com", "Async - Loan"))
        task = await until_final(lambda: c.capture_status(request_id))
        assert task.request_id == request_id and task.status == "Success"
        captured = parse_capture_result(task.message)  # type: ignore[arg-type]
        assert captured is not None and captured.created_opportunity_id
        metrics = await c.capture_metrics()
        assert metrics.pending_messages == 0

        update = {
            "ProspectOpportunityId": captured.created_opportunity_id,
            "Fields": [{"SchemaName": "mx_Custom_2", "Value": "Qualified"}],
        }
        update_id = await c.update_async(update)
        updated = await until_final(lambda: c.update_status(update_id))
        assert updated.status == "Success"
        assert (await c.update_metrics()).pending_messages == 0

        shared = await c.share(
            [
                {
                    "UserId": "96105aa0-61f2-11ea-8109-022edb41208c",
                    "Entity": 5,
                    "EntityType": 3,
                    "EntityId": sync.created_opportunity_id,
                    "AccessType": 1,
                }
            ]
        )
        assert shared["Status"] == "Success"

        page = await c.opportunities_of_lead(captured.related_prospect_id or "")
        assert page.record_count == 1
        assert page.items[0]["OpportunityId"] == captured.created_opportunity_id
        assert page.items[0]["mx_Custom_2"] == "Qualified"
        typed = await c.opportunities_of_lead(
            captured.related_prospect_id or "", opportunity_type=99999, page_size=10
        )
        assert typed.record_count == 0 and typed.items == []

        by_email = await c.lead_by_email("SYNC@Example.com")
        assert [lead.prospect_id for lead in by_email] == [sync.related_prospect_id]
        searched = await c.leads_by_quick_search("async@")
        assert [lead.prospect_id for lead in searched] == [captured.related_prospect_id]
        by_id = await c.lead_by_id(sync.related_prospect_id or "")
        assert by_id == by_email

    with sandbox_target(kind) as target:
        against(target, journey, records)
    assert records and all(r.status_code == 200 and r.error is None for r in records)
    assert {r.endpoint for r in records} == set(DEFAULT_PATHS)
    assert all(ACCESS not in r.url and SECRET not in r.url for r in records)


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_wrong_keys_are_auth_errors(kind: str) -> None:
    with sandbox_target(kind, settings_changes={"secret_key": "not-the-secret"}) as target:
        with pytest.raises(AuthError) as caught:
            against(target, lambda c: c.capture_sync(capture_body()))
    assert caught.value.status_code == 401
    assert "LSQ_SECRET_KEY" in str(caught.value) and "not-the-secret" not in str(caught.value)


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_missing_api_key_on_async_is_an_auth_error(kind: str) -> None:
    with sandbox_target(kind, settings_changes={"api_key": ""}) as target:
        with pytest.raises(AuthError) as caught:
            against(target, lambda c: c.capture_async(capture_body()))
    assert "LSQ_API_KEY" in str(caught.value)


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_bad_body_is_rejected(kind: str) -> None:
    with sandbox_target(kind) as target:
        with pytest.raises(RowRejected) as caught:
            against(target, lambda c: c.capture_async({"LeadDetails": "nope"}))
    assert caught.value.status_code == 400
    assert (caught.value.exception_type or "").startswith("MX")


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_path_override_to_a_bad_path_is_not_found(kind: str) -> None:
    paths = {**DEFAULT_PATHS, "capture_sync": "/v2/Nowhere.svc/Capture"}
    with sandbox_target(kind, settings_changes={"paths": paths}) as target:
        with pytest.raises(NotFound) as caught:
            against(target, lambda c: c.capture_sync(capture_body()))
    assert caught.value.status_code == 404
    assert "LSQ_PATH_CAPTURE_SYNC" in str(caught.value)


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_over_the_rate_limit_is_rate_limited(kind: str) -> None:
    async def three_calls(c: LeadSquaredClient) -> None:
        for number in range(3):
            await c.capture_sync(capture_body(f"r{number}@example.com", f"R{number}"))

    with sandbox_target(kind, rate_limit=2) as target:
        with pytest.raises(RateLimited) as caught:
            against(target, three_calls)
    assert caught.value.status_code == 429


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_injected_500_is_transient_and_uncertain(kind: str) -> None:
    """Nothing was done, but a 500 cannot prove it: the row is read back before a resend."""
    with sandbox_target(kind, error_rate=1.0, seed=1) as target:
        with pytest.raises(TransientError) as caught:
            against(target, lambda c: c.capture_async(capture_body()))
        assert target[2].opportunities() == []  # nothing was done
    assert caught.value.status_code == 500 and caught.value.uncertain is True


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_injected_500s_look_like_leadsquareds_and_are_retried(kind: str) -> None:
    records: list[CallRecord] = []
    errors: list[TransientError] = []

    async def calls(c: LeadSquaredClient) -> None:
        for number in range(12):
            try:
                await c.capture_sync(capture_body(f"r{number}@example.com", f"R{number}"))
            except TransientError as exc:
                errors.append(exc)

    with sandbox_target(kind, error_rate=1.0, seed=4) as target:
        against(target, calls, records)
        assert target[2].opportunities() == []
    assert len(errors) == 12 and all(e.status_code == 500 for e in errors)
    texts = [e.message for e in errors]
    # A repeatable mix of both shapes LeadSquared uses: MXUnknownException, and no type at all.
    assert any("MXUnknownException: Unable to connect to DB" in t for t in texts)
    assert any("Exception" not in t for t in texts)


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_dropped_reply_is_transient_and_uncertain(kind: str) -> None:
    with sandbox_target(kind, drop_rate=1.0, seed=1) as target:
        with pytest.raises(TransientError) as caught:
            against(target, lambda c: c.capture_sync(capture_body()))
        assert len(target[2].opportunities()) == 1  # the work was done all the same
    assert caught.value.uncertain is True and caught.value.status_code is None


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_mx_error_on_sync_capture_is_rejected(kind: str) -> None:
    with sandbox_target(kind) as target:
        with pytest.raises(RowRejected) as caught:
            against(target, lambda c: c.capture_sync(capture_body("not-an-email")))
    assert caught.value.status_code == 500
    assert caught.value.exception_type == "MXInvalidEmailAddressException"
    assert "not-an-email" in caught.value.message


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_lead_lookups_find_the_lead_or_nothing(kind: str) -> None:
    async def journey(c: LeadSquaredClient) -> None:
        sync = await c.capture_sync(capture_body("Jane.Doe@Example.com", "Jane - Loan"))
        prospect = sync.related_prospect_id
        assert prospect

        found = await c.lead_by_email("jane.doe@example.COM")  # LeadSquared ignores case
        assert len(found) == 1 and isinstance(found[0], Lead)
        lead = found[0]
        assert lead.prospect_id == prospect
        assert lead.get("EmailAddress") == "Jane.Doe@Example.com"
        assert lead.get("FirstName") == "Jane" and lead.get("Phone") == ""
        assert lead.created_on and len(lead.created_on) == len("2026-01-15 09:00:00")
        assert await c.lead_by_email("john@example.com") == []

        assert [x.prospect_id for x in await c.leads_by_quick_search("JANE")] == [prospect]
        assert await c.leads_by_quick_search("nobody") == []

        assert [x.prospect_id for x in await c.lead_by_id(prospect)] == [prospect]
        assert await c.lead_by_id("00000000-0000-0000-0000-000000000000") == []

    records: list[CallRecord] = []
    with sandbox_target(kind) as target:
        against(target, journey, records)
        calls = target[2].snapshot()["counters"]["calls"]
    assert [calls[DEFAULT_PATHS[name]] for name in LOOKUPS] == [2, 2, 2]
    assert all(ACCESS not in r.url and SECRET not in r.url for r in records)


LOOKUPS = ("lead_by_email", "leads_by_quick_search", "lead_by_id")


@pytest.mark.parametrize("name", LOOKUPS)
def test_lead_lookup_with_wrong_keys_is_an_auth_error(name: str) -> None:
    with sandbox_target("asgi", settings_changes={"access_key": "not-the-access"}) as target:
        with pytest.raises(AuthError) as caught:
            against(target, lambda c: getattr(c, name)("jane@example.com"))
    assert caught.value.status_code == 401
    assert "LSQ_ACCESS_KEY" in str(caught.value) and "not-the-access" not in str(caught.value)


@pytest.mark.parametrize("name", LOOKUPS)
def test_lead_lookup_without_its_value_is_rejected(name: str) -> None:
    with sandbox_target("asgi") as target:
        with pytest.raises(RowRejected) as caught:
            against(target, lambda c: getattr(c, name)(""))
    assert caught.value.status_code == 400
    assert caught.value.exception_type == "MXMandatoryAttributeMissingException"


def test_lead_lookups_share_the_sync_rate_window() -> None:
    async def calls(c: LeadSquaredClient) -> None:
        await c.capture_sync(capture_body())
        await c.lead_by_email("jane@example.com")
        await c.lead_by_id("x")  # the third sync call in the window

    with sandbox_target("asgi", rate_limit=2) as target:
        with pytest.raises(RateLimited):
            against(target, calls)


def test_a_lead_answer_that_is_not_an_array_is_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ProspectID": "p-1"})

    with pytest.raises(TransientError) as caught:
        with_mock(handler, lambda c: c.lead_by_email("jane@example.com"))
    assert "lead_by_email" in str(caught.value) and "not a JSON array" in str(caught.value)


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_gateway_504_after_the_work_is_transient(kind: str) -> None:
    errors: list[TransientError] = []

    async def calls(c: LeadSquaredClient) -> None:
        for call in (c.capture_sync(capture_body()), c.capture_async(capture_body("b@x.com"))):
            try:
                await call
            except TransientError as exc:
                errors.append(exc)

    with sandbox_target(kind, gateway_rate=1.0) as target:
        against(target, calls)
        snapshot = target[2].snapshot()
    assert [e.status_code for e in errors] == [504, 504]
    assert all("HTTP 504" in e.message for e in errors)
    # Both were processed: the sync capture made its opportunity, the async one was queued.
    assert len(snapshot["requests"]) == 1 and len(snapshot["opportunities"]) == 2
    assert snapshot["counters"]["gateway_504"] == 2


def test_unknown_request_id_is_not_found() -> None:
    with sandbox_target("asgi") as target:
        with pytest.raises(NotFound):
            against(target, lambda c: c.capture_status("no-such-request"))


def test_keys_never_reach_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []

    async def attempt(call: Awaitable[Any]) -> None:
        try:
            await call
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    async def mixed(c: LeadSquaredClient) -> None:
        await attempt(c.capture_async(capture_body()))
        await attempt(c.capture_sync(capture_body("bad-email")))
        await attempt(c.capture_async({"LeadDetails": 1}))
        await attempt(c.capture_status("unknown"))
        for _ in range(3):
            await attempt(c.capture_sync(capture_body()))

    wrong = {"access_key": "wrong-access-key", "api_key": "wrong-api-key"}
    with sandbox_target("loopback", rate_limit=3) as target:
        against(target, mixed)
        with sandbox_target("loopback", settings_changes=wrong) as bad:
            against(bad, lambda c: attempt(c.capture_async(capture_body())))
    with sandbox_target("loopback", drop_rate=1.0, seed=2) as target:
        against(target, lambda c: attempt(c.capture_sync(capture_body())))
    with sandbox_target("asgi", error_rate=1.0, seed=3) as target:
        against(target, lambda c: attempt(c.update_async({"ProspectOpportunityId": "x"})))

    kinds = {type(e) for e in errors}
    assert {RowRejected, NotFound, RateLimited, AuthError, TransientError} <= kinds
    assert_no_keys(caplog, errors, (*KEYS, *wrong.values()))


@pytest.mark.parametrize("host", ["api-in21.leadsquared.com", "http://bad host:port"])
def test_a_malformed_host_is_a_config_error(host: str) -> None:
    async def go() -> None:
        async with LeadSquaredClient(settings_for(host)) as client:
            await client.capture_sync(capture_body())

    with pytest.raises(ConfigError) as caught:
        run(go())
    assert "LSQ_HOST" in str(caught.value) and SECRET not in str(caught.value)


def test_a_missing_host_is_a_config_error() -> None:
    async def go() -> None:
        async with LeadSquaredClient(settings_for(async_host="")) as client:
            await client.capture_async(capture_body())

    with pytest.raises(ConfigError, match="LSQ_ASYNC_HOST"):
        run(go())
