"""The state store: LSQ_STATE_URL and LSQ_DAILY_LIMIT read, PostgreSQL reached (or refused in
one line without the password), schemas versioned, and a database lost mid-run stopping it."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from pg_cluster import PASSWORD, USER, Cluster, binaries, free_port
from support import LOAN_MAPPING
from typer.testing import CliRunner

from importer.cli import app
from importer.core.config import Mode, Settings, settings_from_env
from importer.core.errors import ConfigError, StateStoreError
from importer.io.state import PostgresStore, budget_path, check_state, open_sqlite, open_state
from importer.io.state.migrations import PG_SCHEMA, POSTGRES_STEPS, SQLITE_STEPS
from importer.send.budget import (
    DailyCap,
    PostgresBudget,
    SharedBudget,
    account_of,
    budget_for,
    daily_usage,
)
from importer.send.session import Session

HOST, KEY = "https://api-in21.leadsquared.com", "access-key"


def account_settings(tmp_path: Path, **more: object) -> Settings:
    values: dict[str, object] = {
        "host": HOST,
        "async_host": "https://async.example",
        "access_key": KEY,
        "api_key": "x-api",
        "state_home": tmp_path / "state",
        **more,
    }
    return Settings(**values)  # type: ignore[arg-type]


def one_line_without_password(message: str, *, names: str) -> None:
    assert "\n" not in message
    assert PASSWORD not in message
    assert names in message


# ---- settings ----------------------------------------------------------------------------------
def test_state_url_and_daily_limit_are_read_and_the_password_stays_out_of_repr() -> None:
    url = f"postgresql://{USER}:{PASSWORD}@db.example:6543/lsq"
    settings = settings_from_env({"LSQ_STATE_URL": url, "LSQ_DAILY_LIMIT": "5,000"}, Path("/"))
    assert settings.state_url == url and settings.daily_limit == 5000
    assert PASSWORD not in repr(settings) and "db.example" not in repr(settings)
    plain = settings_from_env({}, Path("/"))
    assert plain.state_url == "" and plain.daily_limit is None


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://{USER}:{PASSWORD}@db.example/lsq",
        f"sqlite:///{PASSWORD}",
        f"{USER}:{PASSWORD}@db.example",
        f"postgresql://{USER}:{PASSWORD}@db.example:port/lsq",
    ],
)
def test_a_state_url_that_is_not_postgresql_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        settings_from_env({"LSQ_STATE_URL": url}, Path("/"))
    one_line_without_password(str(refused.value), names="LSQ_STATE_URL")


@pytest.mark.parametrize("text", ["0", "-5", "many", "1.5", "²"])
def test_a_daily_limit_must_be_a_positive_whole_number(text: str) -> None:
    with pytest.raises(ConfigError, match="LSQ_DAILY_LIMIT"):
        settings_from_env({"LSQ_DAILY_LIMIT": text}, Path("/"))


def test_a_bad_state_url_exits_2_in_one_line(
    no_lsq_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LSQ_STATE_URL", f"mysql://{USER}:{PASSWORD}@db.example/lsq")
    done = subprocess.run(
        [sys.executable, "-m", "importer", "status", str(no_lsq_env / "x.results.xlsx")],
        capture_output=True,
        text=True,
        cwd=no_lsq_env,
    )
    assert done.returncode == 2
    assert PASSWORD not in done.stdout + done.stderr
    assert done.stderr.strip().startswith("lsq-import: LSQ_STATE_URL must start with postgresql")
    assert len(done.stderr.strip().splitlines()) == 1


# ---- connecting --------------------------------------------------------------------------------
def failures(cluster: Cluster) -> list[tuple[str, str, str]]:
    """(URL, what the message names, why) for each way a connection fails."""
    refused = free_port()
    return [
        (cluster.url("postgres", password="wrong-" + PASSWORD), "127.0.0.1", "password"),
        (cluster.url("no_such_db"), "/no_such_db", 'database "no_such_db" does not exist'),
        (
            f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{refused}/lsq",
            f"127.0.0.1:{refused}/lsq",
            "refused",
        ),
        (f"postgresql://{USER}:{PASSWORD}@no-such-host.invalid/lsq", "no-such-host.invalid", ""),
    ]


def test_each_connection_failure_is_one_line_naming_the_host_without_the_password(
    postgres_cluster: Cluster, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    for url, names, why in failures(postgres_cluster):
        settings = account_settings(tmp_path, state_url=url)
        with pytest.raises(StateStoreError) as refused:
            check_state(settings, timeout=3)
        message = str(refused.value)
        one_line_without_password(message, names=names)
        assert why in message
        assert refused.value.__cause__ is None and refused.value.__context__ is not None
        with pytest.raises(StateStoreError):  # and a command's session fails the same way
            budget_for(settings, Mode.SYNC)
    assert PASSWORD not in caplog.text


def test_the_store_creates_its_tables_once_and_refuses_a_newer_schema(state_url: str) -> None:
    with PostgresStore(state_url) as store:
        assert store.schema_version == len(POSTGRES_STEPS)
        assert PASSWORD not in repr(store)
    with PostgresStore(state_url) as again:  # migrating twice changes nothing
        assert again.schema_version == len(POSTGRES_STEPS)
    with psycopg.connect(state_url, autocommit=True) as conn:
        assert conn.execute(f"SELECT version FROM {PG_SCHEMA}.schema_version").fetchall() == [
            (len(POSTGRES_STEPS),)
        ]
        conn.execute(f"UPDATE {PG_SCHEMA}.schema_version SET version = 99")
    with pytest.raises(StateStoreError) as newer:
        PostgresStore(state_url)
    assert "written by a newer lsq-import (schema 99" in str(newer.value)
    assert "upgrade lsq-import" in str(newer.value)
    one_line_without_password(str(newer.value), names="127.0.0.1")


def test_the_budget_file_is_versioned_too(tmp_path: Path) -> None:
    path = budget_path(tmp_path)
    # A file from before the versions (calls and pauses only) is adopted as it is.
    with closing(sqlite3.connect(path)) as old:
        old.execute("CREATE TABLE calls (window TEXT NOT NULL, at REAL NOT NULL)")
        old.execute("INSERT INTO calls VALUES ('w', ?)", (time.time(),))
        old.execute("CREATE TABLE pauses (window TEXT PRIMARY KEY, until REAL NOT NULL)")
        old.commit()
    with closing(open_sqlite(path, busy_timeout=1.0)) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(len(SQLITE_STEPS),)]
        assert db.execute("SELECT count(*) FROM calls").fetchone() == (1,)
        db.execute("UPDATE schema_version SET version = 7")
    budget = SharedBudget(path, "w")
    with pytest.raises(StateStoreError, match=r"newer lsq-import \(schema 7"):
        budget.try_take(5, 5.0)  # refused, not a fallback to a window of its own
    with pytest.raises(StateStoreError, match="upgrade lsq-import"):
        check_state(Settings(state_home=tmp_path))


# ---- the budget in PostgreSQL ------------------------------------------------------------------
def test_budget_for_picks_postgresql_when_a_state_url_is_set(
    state_url: str, tmp_path: Path
) -> None:
    settings = account_settings(tmp_path, state_url=state_url, daily_limit=10)
    budget = budget_for(settings, Mode.SYNC)
    try:
        assert isinstance(budget, PostgresBudget)
        assert budget.daily == DailyCap(str(account_of(settings)), 10)
        assert budget.try_take(5, 5.0) == 0.0
        assert PASSWORD not in repr(budget)
    finally:
        budget.close()
    assert not (tmp_path / "state").exists()  # nothing of it in files

    async def both_windows() -> None:
        async with Session(settings) as session:
            for window in Mode:
                limiter = session.limiter(window)
                assert isinstance(limiter.budget, PostgresBudget)
                await limiter.acquire()

    asyncio.run(both_windows())
    assert daily_usage(settings).used == 3  # both windows count against the account's day


TAKER = textwrap.dedent(
    """
    from importer.core.config import Mode, settings_from_env
    from importer.send.budget import budget_for
    budget = budget_for(settings_from_env(), Mode.SYNC)
    print(sum(budget.try_take(5, 60.0) == 0.0 for _ in range(5)))
    budget.close()
    """
)


def test_two_processes_with_their_own_state_homes_share_one_window(
    state_url: str, tmp_path: Path
) -> None:
    runs = []
    for n in range(2):
        env = {
            **os.environ,
            "LSQ_HOST": HOST,
            "LSQ_ACCESS_KEY": KEY,
            "LSQ_STATE_URL": state_url,
            "LSQ_STATE_HOME": str(tmp_path / f"machine-{n}"),
        }
        runs.append(
            subprocess.Popen(
                [sys.executable, "-c", TAKER], env=env, stdout=subprocess.PIPE, text=True
            )
        )
    taken = [int(run.communicate(timeout=60)[0]) for run in runs]
    assert sum(taken) == 5, taken  # five slots in the window, whoever took them
    assert not any((tmp_path / f"machine-{n}").exists() for n in range(2))


def test_a_database_stopped_mid_run_stops_the_budget(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed")
    cluster = Cluster(bin_dir)  # its own: stopping the worker's would break the other tests
    try:
        cluster.start()
        url = cluster.create_database("lsq")
        caplog.set_level(logging.DEBUG)
        store = open_state(account_settings(tmp_path, state_url=url), timeout=2.0)
        assert store is not None
        budget = PostgresBudget(store, "w", owns_store=True)
        assert budget.try_take(5, 5.0) == 0.0
        cluster.stop()
        started = time.monotonic()
        with pytest.raises(StateStoreError) as lost:
            budget.try_take(5, 5.0)
        with pytest.raises(StateStoreError):
            budget.pause(5.0)
        assert time.monotonic() - started < 15
        one_line_without_password(str(lost.value), names=f"127.0.0.1:{cluster.port}/lsq")
        assert "stopped answering" in str(lost.value)
        budget.close()
        assert PASSWORD not in caplog.text
    finally:
        cluster.remove()


# ---- today's calls -----------------------------------------------------------------------------
@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_daily_usage_reads_what_the_budgets_counted(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("state_url") if store == "postgres" else ""
    settings = account_settings(tmp_path, state_url=url, daily_limit=1000)
    before = daily_usage(settings)
    assert (before.used, before.remaining) == (0, 1000)
    budget = budget_for(settings, Mode.ASYNC)
    try:
        for _ in range(4):
            assert budget.try_take(25, 5.0) == 0.0
    finally:
        budget.close()
    usage = daily_usage(settings)
    assert (usage.used, usage.remaining) == (4, 996)
    assert usage.sentence(249) == (
        "This import needs about 249 calls, 25% of today's remaining 996 (LSQ_DAILY_LIMIT 1,000)"
    )
    assert "more than today's remaining 996" in usage.sentence(2000)
    assert daily_usage(settings.with_(access_key="another")).used == 0


def test_validate_says_what_share_of_todays_calls_the_import_needs(
    no_lsq_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, mapping = no_lsq_env / "leads.csv", no_lsq_env / "loan.yaml"
    rows = [f"r{i}@example.com,Ann,Loan {i},1000" for i in range(10)]
    data.write_text("\n".join(["Email,First Name,Opportunity Name,Loan Amount", *rows]) + "\n")
    mapping.write_text(LOAN_MAPPING)
    for name, value in {"LSQ_HOST": HOST, "LSQ_ACCESS_KEY": KEY, "LSQ_DAILY_LIMIT": "100"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LSQ_STATE_HOME", str(no_lsq_env / "state"))
    settings = settings_from_env()
    budget = budget_for(settings, Mode.SYNC)
    for _ in range(20):
        budget.try_take(25, 5.0)
    budget.close()
    result = CliRunner().invoke(app, ["validate", str(data), "-m", str(mapping)])
    assert result.exit_code == 0, result.output
    # 10 rows in async mode: 20 calls, of the 80 left today.
    assert "This import needs about 20 calls, 25% of today's remaining 80" in result.output
    monkeypatch.delenv("LSQ_DAILY_LIMIT")
    quiet = CliRunner().invoke(app, ["validate", str(data), "-m", str(mapping)])
    assert "today's remaining" not in quiet.output
