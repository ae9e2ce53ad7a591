"""Exactly once on an account without duplicate rules (CONTRACT 4, 6b, 9).

The sandbox has no duplicate rule here, as a new account has none: a capture that
LeadSquared processed twice is two opportunities. Every test counts what is stored.
"""

from __future__ import annotations

import asyncio
import csv
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from support import LOAN_MAPPING, read_results

from importer.commands.run import run_import
from importer.commands.status import refresh_status
from importer.core.config import Mode, Rate, Settings, settings_from_env
from importer.core.errors import ImportCancelled
from importer.core.outcomes import RowStatus
from importer.core.progress import Counters, Progress
from importer.io.journal import Journal
from importer.io.leases import ProcessId, this_process
from importer.io.ledger import Claim, Ledger
from importer.rules.mapping.identity import row_identity
from importer.rules.mapping.mapping_file import load_mapping
from importer.sandbox import RunningSandbox, SandboxConfig, create_app, serve_in_thread
from importer.send.confirm import Confirmer, Found
from importer.send.pool import ImportPool, Job
from importer.send.previous import open_ledger
from importer.send.session import Session

HEADERS = ["Email", "First Name", "Opportunity Name", "Loan Amount"]
FAST = Rate(1000, 0.3)


def body(i: int, *, email: str | None = None, search_by: str = "EmailAddress") -> dict:
    return {
        "LeadDetails": [
            {"Attribute": "EmailAddress", "Value": email or f"user{i}@example.com"},
            {"Attribute": "mx_Customer_Code", "Value": f"C{i}"},
            {"Attribute": "SearchBy", "Value": search_by},
        ],
        "Opportunity": {
            "OpportunityEventCode": 12000,
            "Fields": [
                {"SchemaName": "mx_Custom_1", "Value": f"Loan {i}"},
                {"SchemaName": "mx_Custom_6", "Value": f"{i}000"},
            ],
        },
    }


def settings_for(config: SandboxConfig, **changes: object) -> Settings:
    return Settings(
        host="http://sandbox",
        async_host="http://sandbox",
        access_key=config.access_key,
        secret_key=config.secret_key,
        api_key=config.api_key,
        rate=FAST,
        max_attempts=8,
    ).with_(**changes)


def run_pool(tmp_path: Path, config: SandboxConfig, jobs: list[Job], *, mode: str):
    app = create_app(config)
    settings = settings_for(config)
    counters = Counters()

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with Session(settings, transport=transport, counters=counters) as session:
            with Journal(tmp_path / f"journal-{mode}.sqlite") as journal:
                pool = ImportPool(session, journal, mode=Mode(mode))
                outcomes = await pool.run(jobs, journal.snapshot())
                return outcomes, pool

    outcomes, pool = asyncio.run(go())
    return outcomes, app.state.sandbox, counters, pool


def names_stored(sandbox) -> Counter[str]:
    return Counter(o["Fields"]["mx_Custom_1"] for o in sandbox.opportunities())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_lost_replies_and_gateway_pages_leave_one_opportunity_per_row(
    tmp_path: Path, mode: str
) -> None:
    """5% errors before processing, 6% replies lost and 6% 504 pages after processing."""
    config = SandboxConfig(
        async_delay=0.05, error_rate=0.05, drop_rate=0.06, gateway_rate=0.06, seed=19
    )
    assert not config.duplicate_detection  # a new account: every processed capture counts
    jobs = [Job(i, body(i)) for i in range(2, 72)]
    outcomes, sandbox, counters, pool = run_pool(tmp_path, config, jobs, mode=mode)

    assert Counter(o.status for o in outcomes.values()) == {RowStatus.SUCCESS: 70}
    assert names_stored(sandbox) == {f"Loan {i}": 1 for i in range(2, 72)}
    events = sandbox.snapshot()["counters"]
    assert events["drops"] > 0 and events["gateway_504"] > 0  # the faults really happened
    confirmed = [o for o in outcomes.values() if "reading back" in (o.message or "")]
    assert confirmed  # some rows were found by reading back instead of being sent again
    assert pool.read_backs >= len(confirmed)


def test_a_row_whose_lead_cannot_be_looked_up_ends_pending_and_is_never_resent(
    tmp_path: Path,
) -> None:
    config = SandboxConfig(drop_rate=1.0, seed=1)
    job = Job(2, body(2, search_by="mx_Customer_Code"))
    outcomes, sandbox, _, _ = run_pool(tmp_path, config, [job], mode="sync")

    row = outcomes[2]
    assert row.status == RowStatus.PENDING
    assert "could not be confirmed" in (row.message or "")
    assert "check lead C2 in LeadSquared" in (row.message or "")
    assert len(sandbox.opportunities()) == 1  # sent once, never again


def test_a_lead_with_hundreds_of_opportunities_is_paged_through(tmp_path: Path) -> None:
    """Ours was made first; 250 others of the same type came after it: page 3 holds it."""
    config = SandboxConfig(rate_limit=10_000)
    app = create_app(config)
    settings = settings_for(config)
    ours = body(2, email="busy@example.com")

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with Session(settings, transport=transport) as session:
            sent_at = time.time()
            first = await session.client.capture_sync(ours)
            for i in range(3, 253):
                await session.client.capture_sync(body(i, email="busy@example.com"))
            confirmer = Confirmer(session)
            read = await confirmer.read_back(2, ours, sent_at)
            return first, read, confirmer.calls

    first, read, calls = asyncio.run(go())
    assert read.found == Found.YES and read.outcome is not None
    assert read.outcome.created_opportunity_id == first.created_opportunity_id
    assert calls == 1 + 3  # the look-up, then three pages newest first


def test_an_opportunity_older_than_the_first_attempt_is_not_taken_for_it(tmp_path: Path) -> None:
    config = SandboxConfig()
    app = create_app(config)
    settings = settings_for(config)

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with Session(settings, transport=transport) as session:
            await session.client.capture_sync(body(2))
            later = time.time() + 3600  # the row's first attempt came an hour after that one
            return await Confirmer(session).read_back(2, body(2), later)

    read = asyncio.run(go())
    assert read.found == Found.NO


# Every test here runs on both state stores (CONTRACT 3): the files, then PostgreSQL.
STATE: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _on_each_store(state_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "STATE", state_env)


# ---------------------------------------------------------------- through run_import


def settings_of(running: RunningSandbox, **changes: object) -> Settings:
    env = running.env() | STATE
    return settings_from_env(env, Path("/nonexistent"), rate="1000/5s").with_(**changes)


def write(path: Path, count: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(
            [f"p{i}@example.com", f"P{i}", f"Loan {i}", f"{i}000"] for i in range(count)
        )
    return path


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "loan.yaml"
    path.write_text(LOAN_MAPPING)
    return path


class StopAfter(Progress):
    """Sets `cancel` once `rows` rows have gone out: on a loaded machine an async run's
    answers may come late, after every row was sent, and nothing would be left to stop."""

    def __init__(self, cancel: threading.Event, rows: int) -> None:
        self.cancel, self.rows, self.out = cancel, rows, 0
        self.stopping_said: list[int] = []

    def sent(self, row_number: int) -> None:
        self.out += 1
        if self.out >= self.rows:
            self.cancel.set()

    def stopping(self, calls_under_way: int) -> None:
        self.stopping_said.append(calls_under_way)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_stopped_run_writes_not_sent_and_the_same_command_sends_them(
    tmp_path: Path, sandbox: RunningSandbox, mapping: Path, mode: str
) -> None:
    leads = write(tmp_path / "leads.csv", 60)
    settings = settings_of(sandbox, rate=Rate(20, 1.0), workers=2)
    cancel = threading.Event()
    progress = StopAfter(cancel, 5)
    with pytest.raises(ImportCancelled) as stopped:
        run_import(leads, mapping, settings=settings, mode=mode, cancel=cancel, progress=progress)
    report = stopped.value.report
    assert report is not None
    assert report.counts["NotSent"] > 0 and report.counts["Failure"] == 0
    assert progress.stopping_said  # said at once, with the calls under way
    book = read_results(report.results_path)
    not_sent = [o for _, o in book.rows if o.status == RowStatus.NOT_SENT]
    assert not_sent and all("run the same command again" in (o.message or "") for o in not_sent)

    again = run_import(leads, mapping, settings=settings, mode=mode)
    assert again.counts["Success"] == 60
    assert names_stored(sandbox.sandbox) == {f"Loan {i}": 1 for i in range(60)}


def test_an_uncertain_row_left_by_a_cancelled_import_is_read_back_by_the_same_process(
    tmp_path: Path, mapping: Path
) -> None:
    """A long `serve` process: its cancelled import left a row sent without an answer; a
    later import of the same row (another file name) in the same process reads it back."""
    config = SandboxConfig(drop_rate=1.0, seed=3, rate_limit=1000)
    with serve_in_thread(config) as running:
        settings = settings_of(running, max_attempts=1)
        first = run_import(
            write(tmp_path / "monday.csv", 1), mapping, settings=settings, mode="sync"
        )
        assert first.counts["Pending"] == 1  # its answer and every look-up were lost
        config.drop_rate = 0.0
        started = time.monotonic()
        second = run_import(
            write(tmp_path / "tuesday.csv", 1), mapping, settings=settings, mode="sync"
        )
        assert time.monotonic() - started < 20
        assert second.counts["Success"] == 1
        assert len(running.sandbox.opportunities()) == 1


def test_status_settles_a_pending_row_by_reading_it_back(tmp_path: Path, mapping: Path) -> None:
    config = SandboxConfig(drop_rate=1.0, seed=3, rate_limit=1000)
    with serve_in_thread(config) as running:
        settings = settings_of(running, max_attempts=1)
        first = run_import(
            write(tmp_path / "leads.csv", 2), mapping, settings=settings, mode="sync"
        )
        book = read_results(first.results_path)
        assert {o.status for _, o in book.rows} == {RowStatus.PENDING}
        config.drop_rate = 0.0
        report = refresh_status(first.results_path, settings=settings)
        assert report.counts["Success"] == 2
        assert len(running.sandbox.opportunities()) == 2


# ---------------------------------------------------------------- leases


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_stale_lease_from_another_machine_is_taken_over_once_it_expires(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "ledger.sqlite"
    with Ledger.at(path, clock=clock) as ledger:
        gone = ledger.open_holder(30.0)
        # Pretend the holder runs on another machine: only its lease can tell.
        with ledger.db.transaction() as tx:
            tx.execute("UPDATE ledger_holders SET machine = 'elsewhere' WHERE id = ?", (gone,))
        assert ledger.claim("row", "a#2", gone, file="a.csv", row_number=2).claim == Claim.OURS
        ledger.sent("row")
        mine = ledger.open_holder(30.0)
        held = ledger.claim("row", "b#2", mine, file="b.csv", row_number=2)
        assert held.claim == Claim.HELD and held.expires_at == clock.now + 30.0
        clock.now += 31.0
        taken = ledger.claim("row", "b#2", mine, file="b.csv", row_number=2)
        assert taken.claim == Claim.OURS and taken.entry.sent_at is not None  # read back first


def test_a_dead_process_on_this_machine_is_taken_over_at_once(tmp_path: Path) -> None:
    clock = Clock()
    with Ledger.at(tmp_path / "ledger.sqlite", clock=clock) as ledger:
        dead = ledger.open_holder(3600.0)
        with ledger.db.transaction() as tx:  # the same machine, a pid that started another time
            tx.execute("UPDATE ledger_holders SET started = 'x' WHERE id = ?", (dead,))
        ledger.claim("row", "a#2", dead, file="a.csv", row_number=2)
        mine = ledger.open_holder(60.0)
        assert ledger.claim("row", "b#2", mine, file="b.csv", row_number=2).claim == Claim.OURS


def test_a_run_meeting_a_stale_lease_waits_then_reads_back_and_sends_once(
    tmp_path: Path, sandbox: RunningSandbox, mapping: Path
) -> None:
    leads = write(tmp_path / "leads.csv", 3)
    settings = settings_of(sandbox, lease_seconds=2.0)
    mapping.write_text(LOAN_MAPPING.replace("lead:", "unique: [EmailAddress, mx_Custom_1]\nlead:"))
    values = {"lead.EmailAddress": "p1@example.com", "opportunity.mx_Custom_1": "Loan 1"}
    identity = row_identity(load_mapping(mapping), {}, values)
    with open_ledger(settings) as ledger:  # a machine that claimed row 3, sent it, and vanished
        other = ledger.open_holder(2.0)
        with ledger.db.transaction() as tx:
            tx.execute("UPDATE ledger_holders SET machine = 'gone' WHERE id = ?", (other,))
        ledger.claim(identity, "elsewhere#3", other, file="leads.csv", row_number=3)
        ledger.sent(identity)
    started = time.monotonic()
    report = run_import(leads, mapping, settings=settings, mode="sync")
    assert time.monotonic() - started < 2.0 + 10
    assert report.counts["Success"] == 3
    assert names_stored(sandbox.sandbox) == {f"Loan {i}": 1 for i in range(3)}


def test_process_ids_tell_this_process_alive() -> None:
    me = this_process()
    assert me.alive_here() is True
    assert ProcessId(me.machine, me.boot, me.pid, "not-its-start").alive_here() is False
    assert ProcessId("another-host", me.boot, me.pid, me.started).alive_here() is None


def test_status_finds_a_lost_row_absent_then_the_next_run_sends_it_once(
    tmp_path: Path, mapping: Path
) -> None:
    config = SandboxConfig(drop_rate=1.0, seed=3, rate_limit=1000)
    with serve_in_thread(config) as running:
        settings = settings_of(running, max_attempts=1)
        leads = write(tmp_path / "leads.csv", 1)
        first = run_import(leads, mapping, settings=settings, mode="sync")
        assert first.counts["Pending"] == 1
        config.drop_rate = 0.0
        for made in running.sandbox.opportunities():  # gone from LeadSquared since
            running.sandbox.delete_opportunity(made["OpportunityId"])

        report = refresh_status(first.results_path, settings=settings)

        assert report.counts["NotSent"] == 1
        again = run_import(leads, mapping, settings=settings, mode="sync")
        assert again.counts["Success"] == 1
        assert len(running.sandbox.opportunities()) == 1


def test_an_old_page_ends_the_read_back_only_when_the_answer_is_sorted_newest_first() -> None:
    from importer.send.confirm import _newest_first

    newest = [{"PACreatedOn": "2026-01-02 10:00:00"}, {"PACreatedOn": "2026-01-01 09:00:00"}]
    assert _newest_first(newest)
    # an account that ignores `Sorting` (oldest first): a newer match may be on a later page
    assert not _newest_first(list(reversed(newest)))
    assert not _newest_first([{"PACreatedOn": ""}, *newest])  # undated: cannot tell
