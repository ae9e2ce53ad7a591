"""`lsq-import watch`: the real CLI in a subprocess against a sandbox served by this process."""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from support import CAPTURE_HEAD, sandbox_env, wait_for

from importer.io.inbox import is_candidate, scan_inbox, stamped_base
from importer.io.journal import Journal, JournalRow
from importer.sandbox import SandboxConfig, serve_in_thread
from importer.sandbox.server import RunningSandbox

ROOT = Path(__file__).resolve().parents[1]
HEADERS = ["Email", "First Name", "Opportunity Name", "Status", "Status Comment"]
MAPPING = (
    CAPTURE_HEAD
    + """\
lead:
  EmailAddress: {column: Email, type: email, required: true}
  FirstName: First Name
opportunity:
  mx_Custom_1: {column: Opportunity Name, required: true}
  Status: {column: Status, allowed: [Open, Won, Lost], default: Open}
  mx_Custom_19: {column: Status Comment, required_if: {Status: [Won, Lost]}}
"""
)
SECRETS = ("sandbox-access-key-0", "sandbox-secret-key-0", "sandbox-api-key-0")
KEYS = dict(zip(("access_key", "secret_key", "api_key"), SECRETS, strict=True))


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def served() -> Iterator[RunningSandbox]:
    with serve_in_thread(SandboxConfig(async_delay=0.1, rate_limit=1000, **KEYS)) as running:
        yield running


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "loan.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


def environment(running: RunningSandbox) -> dict[str, str]:
    return sandbox_env(running, PYTHONPATH=str(ROOT))


def command(inbox: Path, mapping: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "importer", "watch", str(inbox), "-m", str(mapping), *options]


def watch_once(
    running: RunningSandbox, inbox: Path, mapping: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(inbox, mapping, "--once", *options),
        env=environment(running),
        cwd=inbox.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


def rows(prefix: str, count: int, *, invalid: int = 0) -> list[list[str]]:
    """`count` good rows with emails unique to `prefix`; the last `invalid` lack a comment."""
    made = [
        [f"{prefix}{i}@example.com", f"N{i}", f"{prefix} loan {i}", "Open", ""]
        for i in range(count)
    ]
    for row in made[count - invalid :]:
        row[3] = "Won"  # Won without a Status Comment: Invalid, never sent
    return made


def write_csv(path: Path, data: list[list[str]], *, age: float = 120.0) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([HEADERS, *data])
    return aged(path, age)


def write_xlsx(path: Path, data: list[list[str]], *, age: float = 120.0) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for line in [HEADERS, *data]:
        sheet.append(line)
    book.save(path)
    return aged(path, age)


def aged(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def journal_rows(inbox: Path) -> list[JournalRow]:
    journals = list((inbox / ".lsq-state").glob("*.journal.sqlite"))
    if not journals:
        return []
    with Journal(journals[0]) as journal:
        return list(journal.rows())


def log_lines(inbox: Path) -> list[dict]:
    log = inbox / ".lsq-state" / "watch.log.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def statuses(results: Path) -> list[str]:
    sheet = openpyxl.load_workbook(results, read_only=True)["Results"]
    header, *body = list(sheet.iter_rows(values_only=True))
    column = header.index("Status", len(HEADERS))
    return [line[column] for line in body]


def captured_names(running: RunningSandbox) -> list[str]:
    return sorted(o["Fields"]["mx_Custom_1"] for o in running.sandbox.opportunities())


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


# ---------------------------------------------------------------- the inbox, in process


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("leads.csv", True),
        ("Leads.XLSX", True),
        ("old.xls", True),
        ("calc.ods", True),
        ("~$leads.xlsx", False),
        (".leads.csv", False),
        ("leads.csv.part", False),
        ("leads.xlsx.TMP", False),
        ("leads.csv.crdownload", False),
        ("leads.results.xlsx", False),
        ("leads.validation.xlsx", False),
        ("notes.txt", False),
    ],
)
def test_only_dropped_spreadsheets_are_candidates(name: str, expected: bool) -> None:
    assert is_candidate(Path(name)) is expected


def test_scan_leaves_recent_files_and_sorts_oldest_first(tmp_path: Path) -> None:
    newer = write_csv(tmp_path / "b.csv", rows("b", 1), age=60)
    older = write_csv(tmp_path / "a-later-name.csv", rows("a", 1), age=90)
    growing = write_csv(tmp_path / "growing.csv", rows("g", 1), age=0)
    (tmp_path / "sub").mkdir()
    write_csv(tmp_path / "sub" / "inner.csv", rows("i", 1))

    ready, waiting = scan_inbox(tmp_path, settle=30)

    assert ready == [older, newer]
    assert waiting == [growing]


def test_once_waits_for_a_file_written_just_before_it_started(
    sandbox: RunningSandbox, inbox: Path, mapping: Path
) -> None:
    """The file keeps changing until the watcher says it is waiting for it (an event, not a
    time: however long the interpreter takes to start), then is left to settle."""
    late = write_csv(inbox / "late.csv", rows("late", 2), age=0)
    watcher = subprocess.Popen(
        command(inbox, mapping, "--once", "--settle", "2"),
        env=environment(sandbox),
        cwd=inbox.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    said = threading.Event()
    lines: list[str] = []

    def read_stderr() -> None:
        assert watcher.stderr is not None
        for line in watcher.stderr:
            lines.append(line)
            if "still being written" in line:
                said.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        while not said.wait(0.2):  # still being written, as far as anyone can tell
            aged(late, 0)
            assert watcher.poll() is None, "".join(lines)
        watcher.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        if watcher.poll() is None:
            watcher.kill()

    assert watcher.returncode == 0, "".join(lines)
    assert [n.split(".", 1)[0] for n in names(inbox / "archive")] == ["late", "late"]
    assert captured_names(sandbox) == ["late loan 0", "late loan 1"]


def test_a_header_only_file_goes_to_failed_with_no_data_rows(
    sandbox: RunningSandbox, inbox: Path, mapping: Path
) -> None:
    write_csv(inbox / "empty.csv", [])

    done = watch_once(sandbox, inbox, mapping, "--settle", "0")

    assert done.returncode == 1, done.stderr
    failed = names(inbox / "failed")
    note = next(n for n in failed if n.endswith(".error.txt"))
    assert "no data rows" in (inbox / "failed" / note).read_text()


def test_stamped_names_never_overwrite(tmp_path: Path) -> None:
    when = datetime(2025, 3, 1, 2, 0, 5)
    assert stamped_base(tmp_path, "leads", ".csv", when) == "leads.20250301-020005"
    (tmp_path / "leads.20250301-020005.results.xlsx").touch()
    assert stamped_base(tmp_path, "leads", ".csv", when) == "leads.20250301-020005-1"


# ---------------------------------------------------------------- the CLI


def test_once_files_each_ready_file_and_leaves_the_rest(
    sandbox: RunningSandbox, inbox: Path, mapping: Path
) -> None:
    good = write_csv(inbox / "good.csv", rows("good", 3))
    good_sha = hashlib.sha256(good.read_bytes()).hexdigest()
    write_xlsx(inbox / "mixed.xlsx", rows("mixed", 3, invalid=1))
    (inbox / "broken.xlsx").write_bytes(b"not a workbook\x00")
    aged(inbox / "broken.xlsx", 120)
    not_ready = ["~$good.xlsx", ".hidden.csv", "late.csv.part", "late.TMP", "dl.csv.crdownload"]
    for name in not_ready:
        write_csv(inbox / name, rows(name[:3], 1))
    write_xlsx(inbox / "earlier.results.xlsx", rows("ours", 1))

    first = watch_once(sandbox, inbox, mapping, "--settle", "30")

    assert first.returncode == 1, first.stderr
    archive, failed = names(inbox / "archive"), names(inbox / "failed")
    assert [n.split(".", 1)[0] for n in archive] == ["good", "good"]
    assert archive[0].endswith(".csv") and archive[1].endswith(".results.xlsx")
    assert statuses(inbox / "archive" / archive[1]) == ["Success"] * 3
    assert {n.split(".", 1)[0] for n in failed} == {"broken", "mixed"}
    mixed_results = next(n for n in failed if n.startswith("mixed") and "results" in n)
    assert statuses(inbox / "failed" / mixed_results) == ["Success", "Success", "Invalid"]
    error_note = next(n for n in failed if n.endswith(".error.txt"))
    assert "broken.xlsx" in (inbox / "failed" / error_note).read_text()
    left = names(inbox)
    assert set(not_ready) | {"earlier.results.xlsx"} <= set(left)
    assert "good.csv" not in left and "mixed.xlsx" not in left
    assert captured_names(sandbox) == sorted(
        [f"good loan {i}" for i in range(3)] + [f"mixed loan {i}" for i in range(2)]
    )

    lines = {line["file"]: line for line in log_lines(inbox)}
    assert set(lines) == {"good.csv", "mixed.xlsx", "broken.xlsx"}
    assert lines["good.csv"]["outcome"] == "archived"
    assert lines["good.csv"]["sha256"] == good_sha
    assert lines["good.csv"]["rows"]["Success"] == 3
    assert lines["good.csv"]["results"].endswith(archive[1])
    assert lines["mixed.xlsx"]["outcome"] == "failed"
    assert lines["mixed.xlsx"]["rows"]["Invalid"] == 1
    assert lines["broken.xlsx"]["outcome"] == "error" and lines["broken.xlsx"]["error"]
    assert "1 archived (every row Success), 1 moved to failed" in first.stdout
    assert "1 could not be read (moved to failed, the reason in its .error.txt)" in first.stdout
    assert_no_secrets(first.stdout, first.stderr, json.dumps(log_lines(inbox)))

    again = watch_once(sandbox, inbox, mapping, "--settle", "30")

    assert again.returncode == 0, again.stderr
    assert "0 file(s)" in again.stdout
    assert len(log_lines(inbox)) == 3
    assert len(sandbox.sandbox.opportunities()) == 5

    write_csv(inbox / "good.csv", rows("night2-", 2))  # the same name on the next night
    third = watch_once(sandbox, inbox, mapping, "--settle", "30")

    assert third.returncode == 0, third.stderr
    inputs = [n for n in names(inbox / "archive") if n.endswith(".csv")]
    assert len(inputs) == 2 and all(n.startswith("good.") for n in inputs)
    assert len(sandbox.sandbox.opportunities()) == 7


def test_overlapping_once_runs_import_each_file_exactly_once(
    sandbox: RunningSandbox, inbox: Path, mapping: Path
) -> None:
    for name in ("a", "b", "c"):
        write_csv(inbox / f"{name}.csv", rows(name, 3))
    runs = [
        subprocess.Popen(
            command(inbox, mapping, "--once", "--settle", "0"),
            env=environment(sandbox),
            cwd=inbox.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    assert captured_names(sandbox) == sorted(f"{n} loan {i}" for n in "abc" for i in range(3))
    assert sorted(line["file"] for line in log_lines(inbox)) == ["a.csv", "b.csv", "c.csv"]
    assert len([n for n in names(inbox / "archive") if n.endswith(".csv")]) == 3


def test_once_skips_and_says_so_while_another_watcher_holds_the_inbox(
    sandbox: RunningSandbox, inbox: Path, mapping: Path
) -> None:
    write_csv(inbox / "a.csv", rows("a", 3))
    lock_path = inbox / ".lsq-state" / "watch.lock"
    lock_path.parent.mkdir()
    with lock_path.open("w") as held:
        held.write("pid 4242\n")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX)
        result = watch_once(sandbox, inbox, mapping, "--settle", "0")

    assert result.returncode == 0, result.stderr
    assert "another lsq-import watch (pid 4242) holds this inbox" in result.stdout
    assert names(inbox) == [".lsq-state", "a.csv"]
    assert sandbox.sandbox.opportunities() == []


def test_watcher_imports_a_file_dropped_while_it_runs(
    sandbox: RunningSandbox, inbox: Path, mapping: Path
) -> None:
    watcher = subprocess.Popen(
        command(inbox, mapping, "--settle", "0.3", "--interval", "0.2"),
        env=environment(sandbox),
        cwd=inbox.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for((inbox / ".lsq-state" / "watch.lock").exists, 20, "the watcher to start")
        partial = write_csv(inbox / "night.csv.part", rows("night", 3), age=0)
        write_csv(inbox / "early.csv", rows("early", 1))  # dropped beside the half-copied one
        wait_for(lambda: len(names(inbox / "archive")) == 2, 30, "the early file to be archived")
        # The watcher has scanned the inbox since the .part file came: it left it alone.
        assert names(inbox) == [".lsq-state", "archive", "night.csv.part"]
        partial.rename(inbox / "night.csv")
        wait_for(lambda: len(names(inbox / "archive")) == 4, 30, "the dropped file to be archived")
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=15)
    finally:
        if watcher.poll() is None:
            watcher.kill()

    assert watcher.returncode == 0, err
    assert captured_names(sandbox) == ["early loan 0"] + [f"night loan {i}" for i in range(3)]
    assert [line["outcome"] for line in log_lines(inbox)] == ["archived", "archived"]


def test_sigterm_during_a_file_leaves_a_resumable_journal(inbox: Path, mapping: Path) -> None:
    with serve_in_thread(SandboxConfig(async_delay=1.5, rate_limit=1000, **KEYS)) as slow:
        write_csv(inbox / "slow.csv", rows("slow", 4))
        watcher = subprocess.Popen(
            command(inbox, mapping, "--settle", "0", "--interval", "0.2"),
            env=environment(slow),
            cwd=inbox.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            accepted = lambda: len(slow.sandbox.snapshot()["requests"]) == 4  # noqa: E731
            wait_for(accepted, 20, "the rows to be accepted")
            held = lambda: sum(1 for r in journal_rows(inbox) if r.request_id) == 4  # noqa: E731
            wait_for(held, 20, "the acceptances to reach the journal")
            watcher.send_signal(signal.SIGTERM)
            out, err = watcher.communicate(timeout=20)  # < INTERRUPT_GRACE_SECONDS + the rest
        finally:
            if watcher.poll() is None:
                watcher.kill()

        assert watcher.returncode == 2, err
        assert "interrupted" in out
        assert sorted(names(inbox)) == [".lsq-state", "slow.csv", "slow.results.xlsx"]
        assert statuses(inbox / "slow.results.xlsx") == ["Pending"] * 4
        assert list((inbox / ".lsq-state").glob("slow.*.journal.sqlite"))
        assert log_lines(inbox)[-1]["outcome"] == "interrupted"

        resumed = watch_once(slow, inbox, mapping, "--settle", "0")

        assert resumed.returncode == 0, resumed.stderr
        assert captured_names(slow) == [f"slow loan {i}" for i in range(4)]
        calls = slow.sandbox.snapshot()["counters"]["calls"]
        assert calls["/opportunity/capture"] == 4  # nothing sent twice
        assert [line["outcome"] for line in log_lines(inbox)] == ["interrupted", "archived"]
