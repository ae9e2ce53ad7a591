"""Machines that share only the state database (LSQ_STATE_URL), and the daily cap.

Each "machine" is a process with its own working directory and LSQ_STATE_HOME; the
sandbox has no duplicate rule, so counting what it stores counts what was sent.
"""

from __future__ import annotations

import csv
import dataclasses
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from pg_cluster import PASSWORD, Cluster, binaries
from support import LOAN_MAPPING, read_results, sandbox_env

from importer.core.outcomes import RowStatus
from importer.sandbox import RunningSandbox, SandboxConfig, serve_in_thread

CAPTURE = "/v2/OpportunityManagement.svc/Capture"


def machine(tmp_path: Path, name: str, rows: int) -> Path:
    """A working directory of its own, holding the file and the mapping."""
    folder = tmp_path / name
    (folder / "home").mkdir(parents=True)
    with (folder / "leads.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email", "First Name", "Opportunity Name", "Loan Amount"])
        for i in range(rows):
            writer.writerow([f"m{i}@example.com", f"M{i}", f"Loan {i}", f"{i}000"])
    (folder / "loan.yaml").write_text(LOAN_MAPPING)
    return folder


def start(folder: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "importer", "run", "leads.csv", "-m", "loan.yaml", "--quiet"]
        + ["--mode", "sync", *extra],
        cwd=folder,
        env=env | {"LSQ_STATE_HOME": str(folder / "home")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def names(running: RunningSandbox) -> Counter[str]:
    return Counter(o["Fields"]["mx_Custom_1"] for o in running.sandbox.opportunities())


def captures(running: RunningSandbox) -> int:
    return int(running.sandbox.snapshot()["counters"]["calls"].get(CAPTURE, 0))


@pytest.fixture
def limited() -> RunningSandbox:
    """LeadSquared's real pace: 25 calls per 5 s per key."""
    with serve_in_thread(SandboxConfig(rate_limit=25, rate_window=5.0)) as running:
        yield running


def test_two_machines_send_each_row_once_inside_one_rate_window(
    tmp_path: Path, limited: RunningSandbox, state_url: str
) -> None:
    env = sandbox_env(limited, LSQ_STATE_URL=state_url, LSQ_RATE="25/5s")
    first, second = machine(tmp_path, "a", 40), machine(tmp_path, "b", 40)
    runs = [start(first, env), start(second, env)]
    outputs = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert names(limited) == {f"Loan {i}": 1 for i in range(40)}
    counters = limited.sandbox.snapshot()["counters"]
    calls = sum(counters["calls"].values())
    assert counters["429s"] <= 0.01 * calls, counters


def test_a_killed_machine_is_taken_over_by_another_after_its_lease(
    tmp_path: Path, state_url: str
) -> None:
    config = SandboxConfig(rate_limit=1000, latency=0.05)
    with serve_in_thread(config) as running:
        env = sandbox_env(running, LSQ_STATE_URL=state_url, LSQ_LEASE_SECONDS="2")
        first, second = machine(tmp_path, "a", 30), machine(tmp_path, "b", 30)
        doomed = start(first, env, "--workers", "4")
        while doomed.poll() is None and captures(running) < 10:
            time.sleep(0.005)
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate()
        started = time.monotonic()
        other = start(second, env)
        out, err = other.communicate(timeout=120)
        assert other.returncode == 0, (out, err)
        assert time.monotonic() - started < 60
        assert names(running) == {f"Loan {i}": 1 for i in range(30)}


def test_a_fresh_state_home_with_the_shared_database_sends_nothing_again(
    tmp_path: Path, state_url: str
) -> None:
    with serve_in_thread(SandboxConfig(rate_limit=1000)) as running:
        env = sandbox_env(running, LSQ_STATE_URL=state_url)
        yesterday = start(machine(tmp_path, "monday", 12), env)
        assert yesterday.wait(timeout=120) == 0
        before = captures(running)
        container = machine(tmp_path, "tuesday", 12)  # a new container: empty local state
        today = start(container, env)
        out, err = today.communicate(timeout=120)
        assert today.returncode == 0, (out, err)
        assert captures(running) == before
        assert "12 Success" in out


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_daily_cap_of_n_stops_after_n_calls(
    tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    with serve_in_thread(SandboxConfig(rate_limit=1000)) as running:
        extra = {"LSQ_DAILY_LIMIT": "10"}
        if store == "postgresql":
            extra["LSQ_STATE_URL"] = request.getfixturevalue("state_url")
        env = sandbox_env(running, **extra)
        folder = machine(tmp_path, "a", 25)
        run = start(folder, env)
        out, err = run.communicate(timeout=120)
        assert run.returncode == 1, (out, err)
        assert sum(running.sandbox.snapshot()["counters"]["calls"].values()) == 10
        assert "daily limit of 10 calls" in out + err and "resets at" in out + err
        book = read_results(folder / "leads.results.xlsx")
        statuses = Counter(outcome.status for _, outcome in book.rows)
        assert statuses == {RowStatus.SUCCESS: 10, RowStatus.NOT_SENT: 15}
        again = start(folder, env)  # the same day: nothing more goes out
        again.communicate(timeout=60)
        assert sum(running.sandbox.snapshot()["counters"]["calls"].values()) == 10


def test_a_database_that_goes_away_mid_run_stops_it_cleanly_and_the_next_run_resumes(
    tmp_path: Path,
) -> None:
    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed")
    cluster = Cluster(bin_dir)  # its own: stopping it must not disturb other tests
    cluster.start()
    try:
        url = cluster.create_database("goes_away")
        with serve_in_thread(SandboxConfig(rate_limit=1000, latency=0.03)) as running:
            env = sandbox_env(running, LSQ_STATE_URL=url)
            folder = machine(tmp_path, "a", 40)
            first = start(folder, env, "--workers", "2")
            while first.poll() is None and captures(running) < 8:
                time.sleep(0.005)
            cluster.stop()
            out, err = first.communicate(timeout=120)
            assert first.returncode == 2, (out, err)
            assert "state database at 127.0.0.1" in err and PASSWORD not in err + out
            assert (folder / "leads.results.xlsx").exists()  # the results are written
            sent = captures(running)
            time.sleep(0.5)
            assert captures(running) == sent  # nothing new went out after it stopped
            cluster.start()
            again = start(folder, env)
            out, err = again.communicate(timeout=120)
            assert again.returncode == 0, (out, err)
            assert names(running) == {f"Loan {i}": 1 for i in range(40)}
    finally:
        cluster.remove()


def test_the_page_on_another_machine_lists_what_the_nightly_watch_did(
    tmp_path: Path, state_url: str
) -> None:
    from starlette.testclient import TestClient
    from web_setup import page_config

    from importer.web import create_app

    with serve_in_thread(SandboxConfig(rate_limit=1000)) as running:
        env = sandbox_env(running, LSQ_STATE_URL=state_url)
        night = machine(tmp_path, "night", 3)
        inbox = night / "inbox"
        inbox.mkdir()
        (night / "leads.csv").rename(inbox / "drop.csv")
        watched = subprocess.run(
            [sys.executable, "-m", "importer", "watch", str(inbox), "-m", "loan.yaml", "--once"]
            + ["--settle", "0", "--quiet"],
            cwd=night,
            env=env | {"LSQ_STATE_HOME": str(night / "home")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert watched.returncode == 0, watched.stderr
        day = tmp_path / "day"  # the page's machine: its own files, the same database
        config = page_config(day, running)
        shared = config.settings.with_(state_url=state_url, state_home=day / "home")
        config = dataclasses.replace(config, settings=shared)
        with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
            home = client.get("/").text
    listed = home.split('data-testid="nightly"', 1)[1].split("</table>", 1)[0]
    assert "drop.csv" in listed and "archived" in listed
