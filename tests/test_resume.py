"""Nothing lost, nothing sent twice: the CLI killed with SIGKILL at several points, then re-run.

The sandbox answers 10% of calls with 500 and loses 5% of replies after doing the work.
"""

from __future__ import annotations

import csv
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from support import LOAN_MAPPING, read_results, sandbox_env

from importer.core.outcomes import RowOutcome, RowStatus
from importer.io.journal import Journal, JournalRow, RowState
from importer.sandbox import SandboxConfig, serve_in_thread

ROWS = 40
MAPPING = LOAN_MAPPING


@pytest.fixture
def faulty_sandbox():
    config = SandboxConfig(
        async_delay=0.2, rate_limit=1000, error_rate=0.10, drop_rate=0.05, latency=0.02, seed=5
    )
    with serve_in_thread(config) as running:
        yield running


def write_files(tmp_path: Path, rows: int = ROWS) -> tuple[Path, Path]:
    data = tmp_path / "leads.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email", "First Name", "Opportunity Name", "Loan Amount"])
        for i in range(rows):
            writer.writerow([f"person{i}@example.com", f"P{i}", f"Loan {i}", f"{i},000"])
    mapping = tmp_path / "loan.yaml"
    mapping.write_text(MAPPING)
    return data, mapping


def environment(running) -> dict[str, str]:
    return sandbox_env(running)


def start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "importer", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def capture_calls(running, mode: str) -> int:
    calls = running.sandbox.snapshot()["counters"]["calls"]
    path = "/opportunity/capture" if mode == "async" else "/v2/OpportunityManagement.svc/Capture"
    return calls.get(path, 0)


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_sigkill_at_several_points_loses_nothing_and_doubles_nothing(
    tmp_path: Path, faulty_sandbox, mode: str
) -> None:
    data, mapping = write_files(tmp_path)
    env = environment(faulty_sandbox)
    args = ["run", str(data), "-m", str(mapping), "--mode", mode, "--quiet", "--poll-timeout", "30"]
    kills = 0
    in_flight = 0
    for calls in (3, 10, 20, 30):
        proc = start(args, env, tmp_path)
        # Kill when the sandbox has seen this many captures from us: mid-import, not by a timer.
        target = capture_calls(faulty_sandbox, mode) + calls
        while proc.poll() is None and capture_calls(faulty_sandbox, mode) < target:
            time.sleep(0.005)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate()
        in_flight += sum(1 for row in journal_rows(tmp_path) if row.state != RowState.DONE)
    # Whatever the kills left, the journal alone gives back every row (no input, no network).
    data.rename(tmp_path / "away.csv")
    journal = next((tmp_path / ".lsq-state").glob("*.journal.sqlite"))
    rebuilt = tmp_path / "rebuilt.xlsx"
    done = subprocess.run(
        [sys.executable, "-m", "importer", "rebuild", str(journal), "--out", str(rebuilt)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "rebuilt" in done.stdout
    partial = read_results(rebuilt)
    assert [o.row_number for _, o in partial.rows] == list(range(2, ROWS + 2))
    assert partial.rows[0][0][0] == "person0@example.com"
    (tmp_path / "away.csv").rename(data)

    for _ in range(4):
        finished = start(args, env, tmp_path)
        out, err = finished.communicate(timeout=120)
        if finished.returncode == 0:
            break
    assert finished.returncode == 0, (out, err)
    assert kills >= 1
    assert in_flight >= 1  # the journal held rows that were sent but not finished

    book = read_results(tmp_path / "leads.results.xlsx")
    statuses = Counter(outcome.status for _, outcome in book.rows)
    assert statuses == {RowStatus.SUCCESS: ROWS}
    stored = faulty_sandbox.sandbox.opportunities()
    names = Counter(o["Fields"]["mx_Custom_1"] for o in stored)
    assert len(stored) == ROWS and set(names.values()) == {1}
    ids = {outcome.created_opportunity_id for _, outcome in book.rows}
    assert ids == {o["OpportunityId"] for o in stored}

    before = capture_calls(faulty_sandbox, mode)
    again = start(args, env, tmp_path)
    again.communicate(timeout=60)
    assert again.returncode == 0
    assert capture_calls(faulty_sandbox, mode) == before


def journal_rows(tmp_path: Path) -> list[JournalRow]:
    journals = list((tmp_path / ".lsq-state").glob("*.journal.sqlite"))
    if not journals:
        return []
    with Journal(journals[0]) as journal:
        return list(journal.rows())


def test_sigterm_writes_the_results_says_so_and_the_next_run_finishes(tmp_path: Path) -> None:
    config = SandboxConfig(async_delay=0.05, rate_limit=1000, latency=0.05)
    with serve_in_thread(config) as running:
        data, mapping = write_files(tmp_path)
        env = environment(running)
        args = ["run", str(data), "-m", str(mapping), "--mode", "sync", "--workers", "1"]
        proc = start(args, env, tmp_path)
        while proc.poll() is None and capture_calls(running, "sync") < 5:
            time.sleep(0.005)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)

        assert proc.returncode == 2, (out, err)
        line = err.strip().splitlines()[-1]
        assert "stopped before every row had its result" in line
        assert "Run the same command again" in line
        results = tmp_path / "leads.results.xlsx"
        assert str(results) in line and "Traceback" not in err
        assert "stopping: waiting for" in err  # said when the signal came, not at the end
        statuses = Counter(o.status for _, o in read_results(results).rows)
        assert statuses[RowStatus.SUCCESS] >= 5 and sum(statuses.values()) == ROWS
        assert statuses[RowStatus.NOT_SENT] > 0 and statuses[RowStatus.FAILURE] == 0

        again = start(args, env, tmp_path)
        again.communicate(timeout=120)
        assert again.returncode == 0
        assert len(running.sandbox.opportunities()) == ROWS


def test_journal_survives_a_half_written_last_transaction(tmp_path: Path) -> None:
    path = tmp_path / "state" / "torn.journal.sqlite"
    script = f"""
import os
from pathlib import Path
from importer.io.journal import Journal, JournalRow, RowState
from importer.core.outcomes import RowOutcome, RowStatus
j = Journal(Path({str(path)!r}))
for n in range(2, 12):
    j.mark_sending(n)
    j.mark_done(RowOutcome(n, RowStatus.SUCCESS, created_opportunity_id=f"opp-{{n}}"))
os._exit(0)  # no checkpoint: the last transactions live only in the WAL
"""
    subprocess.run([sys.executable, "-c", script], check=True)
    wal = Path(str(path) + "-wal")
    assert wal.stat().st_size > 0
    with wal.open("r+b") as handle:  # tear the last frame
        handle.truncate(wal.stat().st_size - 100)
    with Journal(path) as journal:
        rows = journal.snapshot()
    assert 2 in rows and rows[2].outcome == RowOutcome(
        2, RowStatus.SUCCESS, created_opportunity_id="opp-2"
    )
    assert len(rows) <= 10
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_second_run_of_the_same_file_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    config = SandboxConfig(async_delay=0.1, rate_limit=1000, latency=0.3)
    with serve_in_thread(config) as running:
        data, mapping = write_files(tmp_path, rows=30)
        env = environment(running)
        args = ["run", str(data), "-m", str(mapping), "--quiet", "--workers", "2"]
        first = start(args, env, tmp_path)
        try:
            deadline = time.monotonic() + 20
            while (
                not running.sandbox.snapshot()["counters"]["calls"] and time.monotonic() < deadline
            ):
                time.sleep(0.1)
            second = start(args, env, tmp_path)
            out, err = second.communicate(timeout=60)
            assert second.returncode == 2
            assert "Another lsq-import is already importing leads.csv" in err
            assert "Traceback" not in err
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate()
