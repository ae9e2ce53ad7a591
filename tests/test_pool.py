"""The worker pool against the sandbox's ASGI app: outcomes, faults, 401, resume, Pending."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from importer.core.config import Mode, Rate, Settings
from importer.core.errors import AuthError
from importer.core.outcomes import RowOutcome, RowStatus
from importer.core.progress import CallRecord, Counters, Progress
from importer.io.journal import Journal
from importer.sandbox import SandboxConfig, create_app
from importer.send.pool import ImportPool, Job
from importer.send.session import Session

FAST = Rate(1000, 0.3)  # short windows: a 429 pause then costs 0.5 s, not 5


def body(i: int, *, email: str | None = None, name: str | None = None, status: str = "Open"):
    return {
        "LeadDetails": [
            {"Attribute": "EmailAddress", "Value": email or f"user{i}@example.com"},
            {"Attribute": "SearchBy", "Value": "EmailAddress"},
        ],
        "Opportunity": {
            "OpportunityEventCode": 12000,
            "Fields": [
                {"SchemaName": "mx_Custom_1", "Value": name or f"Loan {i}"},
                {"SchemaName": "Status", "Value": status},
            ],
        },
    }


def settings_for(config: SandboxConfig, **changes) -> Settings:
    base = Settings(
        host="http://sandbox",
        async_host="http://sandbox",
        access_key=config.access_key,
        secret_key=config.secret_key,
        api_key=config.api_key,
        rate=FAST,
        max_attempts=8,
    )
    return base.with_(**changes)


class CallLog(Progress):
    """Keeps every call the pool made."""

    def __init__(self) -> None:
        self.calls: list[CallRecord] = []

    def call(self, record: CallRecord) -> None:
        self.calls.append(record)


def run_pool(tmp_path: Path, config: SandboxConfig, jobs, *, mode="async", resume=None, **changes):
    app = create_app(config)
    settings = settings_for(config, **changes)
    log = CallLog()
    calls = log.calls
    counters = Counters()

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with Session(settings, transport=transport, progress=log, counters=counters) as s:
            with Journal(tmp_path / "journal.sqlite") as journal:
                pool = ImportPool(s, journal, mode=Mode(mode))
                return await pool.run(jobs, resume or journal.snapshot())

    outcomes = asyncio.run(go())
    return outcomes, app.state.sandbox, calls, counters


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_mixed_rows_end_in_the_right_status(tmp_path: Path, mode: str) -> None:
    jobs = [Job(i, body(i)) for i in range(2, 8)]
    jobs.append(Job(8, body(8, email="user2@example.com", name="loan 2")))  # duplicate of row 2
    jobs.append(Job(9, body(9, email="not-an-email")))
    jobs.append(Job(10, body(10, status="Won")))  # no mx_Custom_19
    config = SandboxConfig(async_delay=0.05, duplicate_detection=True)
    outcomes, sandbox, _, _ = run_pool(tmp_path, config, jobs, mode=mode)

    created = {o["OpportunityId"] for o in sandbox.opportunities()}
    assert len(created) == 6
    for n in range(2, 8):
        assert outcomes[n].status == RowStatus.SUCCESS
        assert outcomes[n].created_opportunity_id in created
    assert outcomes[8].status == RowStatus.SUCCESS
    assert outcomes[8].conflicted_opportunity_id == outcomes[2].created_opportunity_id
    assert "Duplicate" in (outcomes[8].message or "")
    assert outcomes[9].status == RowStatus.FAILURE
    assert (outcomes[9].exception_type or "").startswith("MX")
    assert outcomes[10].status == RowStatus.FAILURE
    assert "mx_Custom_19" in (outcomes[10].message or "")


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_faults_are_survived_and_nothing_is_doubled(tmp_path: Path, mode: str) -> None:
    config = SandboxConfig(
        async_delay=0.02, error_rate=0.15, drop_rate=0.1, burst_429=0.1, seed=7, rate_limit=1000
    )
    jobs = [Job(i, body(i)) for i in range(2, 42)]
    outcomes, sandbox, calls, counters = run_pool(tmp_path, config, jobs, mode=mode)
    assert Counter(o.status for o in outcomes.values()) == {RowStatus.SUCCESS: 40}
    assert len(sandbox.opportunities()) == 40
    ids = {o.created_opportunity_id for o in outcomes.values()}
    assert len(ids) == 40 and None not in ids
    codes = Counter(c.status_code for c in calls)
    assert codes[500] > 0 and codes[429] > 0 and codes[None] > 0  # the faults really happened
    assert counters.retries > 0


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_a_service_whose_database_hiccups_creates_every_row_once(tmp_path: Path, mode: str) -> None:
    """10% of calls answered 500 MXUnknownException "Unable to connect to DB" (or no type):
    LeadSquared's own trouble, retried until each row is created, exactly once."""
    config = SandboxConfig(async_delay=0.02, error_rate=0.1, seed=11, rate_limit=1000)
    jobs = [Job(i, body(i)) for i in range(2, 82)]
    outcomes, sandbox, calls, counters = run_pool(tmp_path, config, jobs, mode=mode)
    assert Counter(o.status for o in outcomes.values()) == {RowStatus.SUCCESS: 80}
    names = Counter(o["Fields"]["mx_Custom_1"] for o in sandbox.opportunities())
    assert names == {f"Loan {i}": 1 for i in range(2, 82)}
    assert sandbox.snapshot()["counters"]["injected_500"] > 0  # the faults really happened
    assert counters.retries > 0


def test_wrong_keys_stop_the_run_after_one_call(tmp_path: Path) -> None:
    config = SandboxConfig()
    app = create_app(config)
    settings = settings_for(config, secret_key="wrong-secret")
    log = CallLog()
    calls = log.calls

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with Session(settings, transport=transport, progress=log) as session:
            with Journal(tmp_path / "j.sqlite") as journal:
                pool = ImportPool(session, journal, mode=Mode.ASYNC)
                await pool.run([Job(i, body(i)) for i in range(2, 50)], {})

    with pytest.raises(AuthError) as caught:
        asyncio.run(go())
    assert len(calls) <= 2
    assert "wrong-secret" not in str(caught.value)


def test_finished_rows_are_not_sent_again(tmp_path: Path) -> None:
    config = SandboxConfig(async_delay=0.02)
    jobs = [Job(i, body(i)) for i in range(2, 12)]
    first, _, first_calls, _ = run_pool(tmp_path, config, jobs)
    assert all(o.status == RowStatus.SUCCESS for o in first.values())
    again, sandbox, calls, _ = run_pool(tmp_path, config, [Job(i, body(i)) for i in range(2, 12)])
    assert calls == []
    assert {n: o.created_opportunity_id for n, o in again.items()} == {
        n: o.created_opportunity_id for n, o in first.items()
    }


def test_a_request_still_queued_ends_pending_and_is_polled_next_time(tmp_path: Path) -> None:
    config = SandboxConfig(async_delay=30)
    jobs = [Job(2, body(2))]
    outcomes, _, _, _ = run_pool(tmp_path, config, jobs, poll_timeout=0.5)
    assert outcomes[2].status == RowStatus.PENDING
    assert outcomes[2].request_id
    with Journal(tmp_path / "journal.sqlite") as journal:
        row = journal.snapshot()[2]
    assert row.request_id == outcomes[2].request_id and row.outcome is None


# ---------------------------------------------------------------- on a fake clock
#
# A scripted LeadSquared (httpx.MockTransport answering as the API pages say) and a clock
# that moves only when the pool sleeps: scheduling is checked in milliseconds, exactly.


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def scripted_pool_run(
    tmp_path: Path,
    answer,
    jobs,
    *,
    mode: Mode = Mode.SYNC,
    resume=None,
    **changes,
):
    """Run the pool against `answer(request, clock) -> httpx.Response`."""
    clock = FakeClock()
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return answer(request, clock)

    settings = Settings(
        host="https://api.example",
        async_host="https://async.example",
        access_key="ak-test-0000",
        secret_key="sk-test-0000",
        api_key="xk-test-0000",
        rate=Rate(25, 5.0),
    ).with_(**changes)

    async def go():
        async with Session(
            settings,
            transport=httpx.MockTransport(handler),
            clock=clock,
            sleep=clock.sleep,
            shared_budget=False,
        ) as session:
            with Journal(tmp_path / "journal.sqlite") as journal:
                pool = ImportPool(session, journal, mode=mode)
                return await pool.run(jobs, resume if resume is not None else journal.snapshot())

    return asyncio.run(go()), calls, clock


def accepted(request_id: str) -> httpx.Response:
    return httpx.Response(200, json={"Status": "Success", "RequestID": request_id})


def test_polls_wait_for_the_queue_delay_observed(tmp_path: Path) -> None:
    """A queue 20 s behind: the poller learns it and asks a handful of times, not 40."""
    accepted_at: dict[str, float] = {}

    def answer(request: httpx.Request, clock: FakeClock) -> httpx.Response:
        if request.url.path == "/opportunity/capture":
            request_id = f"req-{len(accepted_at)}"
            accepted_at[request_id] = clock.now
            return accepted(request_id)
        if request.url.path.endswith("/metrics"):  # not offered: the pool does without
            return httpx.Response(404, json={"Status": "Error", "ExceptionMessage": "Not found"})
        request_id = request.url.params["RequestID"]
        done = clock.now - accepted_at[request_id] >= 20
        task = {"Status": "Success" if done else "In-Queue", "Message": None}
        if done:
            task["Message"] = json.dumps({"Status": 0, "CreatedOpportunityId": f"opp-{request_id}"})
        return httpx.Response(200, json={"RequestId": request_id, "TaskStatus": task})

    outcomes, calls, _ = scripted_pool_run(tmp_path, answer, [Job(2, body(2))], mode=Mode.ASYNC)

    assert outcomes[2].status == RowStatus.SUCCESS
    assert outcomes[2].created_opportunity_id == "opp-req-0"
    polls = [c for c in calls if c.url.path == "/opportunity/capture/status"]
    assert 1 <= len(polls) <= 6


def test_a_row_still_refused_with_429_after_fifty_tries_ends_failure(tmp_path: Path) -> None:
    def answer(request: httpx.Request, clock: FakeClock) -> httpx.Response:
        return httpx.Response(
            429, json={"Status": "Error", "ExceptionMessage": "API calls exceeded"}
        )

    outcomes, calls, clock = scripted_pool_run(tmp_path, answer, [Job(2, body(2))])

    assert outcomes[2].status == RowStatus.FAILURE
    assert "kept answering 429" in (outcomes[2].message or "")
    assert len(calls) == 51  # MAX_429_PER_CALL retries after the first
    assert clock.now - 1000.0 >= 50 * 5.0  # every 429 waited out a whole window


def test_a_reply_lost_is_read_back_and_not_sent_again(tmp_path: Path) -> None:
    """No duplicate rule to catch a second send: the pool finds the lead, then its newest
    opportunity of the type with the row's values, and stops there."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")

    def answer(request: httpx.Request, clock: FakeClock) -> httpx.Response:
        path = request.url.path
        if path.endswith("/Capture"):  # LeadSquared created it, but the reply never arrived
            raise httpx.ReadError("connection reset", request=request)
        if path.endswith("/Leads.GetByEmailaddress"):
            assert request.url.params["emailaddress"] == "user2@example.com"
            return httpx.Response(
                200, json=[{"ProspectID": "l-1", "EmailAddress": "User2@example.com"}]
            )
        assert path.endswith("/GetOpportunitiesOfLead")
        assert request.url.params["opportunityType"] == "12000"
        sent = json.loads(request.content)
        assert sent["Sorting"] == {"ColumnName": "PACreatedOn", "Direction": "1"}
        item = {"OpportunityId": "opp-first", "mx_Custom_1": "Loan 2", "Status": "Open"}
        return httpx.Response(200, json={"RecordCount": 1, "List": [item | {"PACreatedOn": now}]})

    outcomes, calls, _ = scripted_pool_run(tmp_path, answer, [Job(2, body(2))])

    assert len(calls) == 3  # the capture, the lead, its opportunities: never a second capture
    row = outcomes[2]
    assert row.status == RowStatus.SUCCESS
    assert row.created_opportunity_id == "opp-first" and row.related_prospect_id == "l-1"
    assert "reading back" in (row.message or "")


def test_a_share_cut_short_by_a_crash_is_done_without_capturing_again(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite") as journal:  # what the crash left behind
        journal.mark_sending(2)
        journal.mark_done(
            RowOutcome(
                2,
                RowStatus.SUCCESS,
                created_opportunity_id="opp-9",
                message="Opportunity created",
                extra={"ShareStatus": "Pending"},
            )
        )

    def answer(request: httpx.Request, clock: FakeClock) -> httpx.Response:
        assert request.url.path == "/v2/EntityAccess.svc/Share", "only the share may be sent"
        return httpx.Response(200, json={"Status": "Success"})

    def item(opportunity_id: str) -> dict:
        return {"UserId": "u-1", "EntityId": opportunity_id, "AccessType": 1}

    outcomes, calls, _ = scripted_pool_run(tmp_path, answer, [Job(2, body(2), share_item=item)])

    assert len(calls) == 1
    assert json.loads(calls[0].content)[0]["EntityId"] == "opp-9"
    assert outcomes[2].extra["ShareStatus"] == "Shared (read)"
    with Journal(tmp_path / "journal.sqlite") as journal:
        assert journal.snapshot()[2].outcome.extra["ShareStatus"] == "Shared (read)"
