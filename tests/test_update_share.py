"""Share after capture, and `operation: update`, against the sandbox over real loopback."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from support import CAPTURE_HEAD, read_results

from importer.commands.run import run_import
from importer.core.config import Settings, settings_from_env
from importer.core.constants import SHARE_DEFAULT_MINUTES
from importer.core.outcomes import RowStatus
from importer.sandbox import RunningSandbox

RATE = "1000/5s"

CAPTURE_HEAD = (
    CAPTURE_HEAD
    + """\
lead:
  EmailAddress: {column: Email, type: email, required: true}
opportunity:
  mx_Custom_1: {column: Name, required: true}
  mx_Custom_6: {column: Amount, type: number}
  mx_Custom_2: {column: Stage, allowed: [Prospecting, New]}
"""
)

UPDATE_MAPPING = """\
version: 1
operation: update
opportunity_id: {column: Opportunity Id}
opportunity:
  mx_Custom_6: {column: Amount, type: number}
  mx_Custom_2: {column: Stage, allowed: [Prospecting, New]}
note: {column: Note}
"""


def settings_for(running: RunningSandbox, tmp_path: Path) -> Settings:
    return settings_from_env(running.env() | {"LSQ_RATE": RATE}, cwd=tmp_path)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def cli(running: RunningSandbox, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **running.env(), "LSQ_RATE": RATE}
    return subprocess.run(
        [sys.executable, "-m", "importer", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def capture_rows(n: int) -> list[list[str]]:
    return [[f"user{i}@example.com", f"Loan {i}", "1,000", "New"] for i in range(n)]


# ---------------------------------------------------------------- share


def test_share_by_column_read_and_edit_with_duration(sandbox: RunningSandbox, tmp_path: Path):
    mapping = tmp_path / "share.yaml"
    mapping.write_text(
        CAPTURE_HEAD + "share:\n  user_id: {column: Owner}\n  access: {column: Access}\n"
        "  duration_minutes: 60\n"
    )
    source = write_csv(
        tmp_path / "leads.csv",
        ["Email", "Name", "Amount", "Stage", "Owner", "Access"],
        [
            ["a@example.com", "Loan A", "1,20,000", "new", "user-a", "read"],
            ["b@example.com", "Loan B", "500", "Prospecting", "user-b", " EDIT "],
        ],
    )
    report = run_import(
        source, mapping, settings=settings_for(sandbox, tmp_path), mode="sync", fresh=True
    )

    assert report.exit_code == 0
    created = {o.row_number: o.created_opportunity_id for o in report.outcomes}
    shares = {s["EntityId"]: s for s in sandbox.sandbox.snapshot()["shares"]}
    assert shares[created[2]]["UserId"] == "user-a"
    assert shares[created[2]]["AccessType"] == 1
    assert shares[created[3]]["UserId"] == "user-b"
    assert shares[created[3]]["AccessType"] == 2
    assert {s["DurationInMinutes"] for s in shares.values()} == {60}

    book = read_results(report.results_path)
    assert book.extra_columns == ["SharedWith", "ShareStatus"]
    extras = {o.row_number: o.extra for _, o in book.rows}
    assert extras[2] == {"SharedWith": "user-a", "ShareStatus": "Shared (read)"}
    assert extras[3] == {"SharedWith": "user-b", "ShareStatus": "Shared (edit)"}


def test_share_by_constant_defaults_to_ninety_days(sandbox: RunningSandbox, tmp_path: Path):
    mapping = tmp_path / "share.yaml"
    mapping.write_text(CAPTURE_HEAD + "share:\n  user_id: {value: team-lead}\n  access: edit\n")
    source = write_csv(
        tmp_path / "leads.csv", ["Email", "Name", "Amount", "Stage"], capture_rows(3)
    )

    done = cli(sandbox, tmp_path, "run", str(source), "-m", str(mapping), "--mode", "sync")

    assert done.returncode == 0, done.stderr
    shares = sandbox.sandbox.snapshot()["shares"]
    assert len(shares) == 3
    assert {(s["UserId"], s["AccessType"]) for s in shares} == {("team-lead", 2)}
    assert {s["DurationInMinutes"] for s in shares} == {SHARE_DEFAULT_MINUTES} == {129600}
    book = read_results(tmp_path / "leads.results.xlsx")
    assert {o.extra.get("ShareStatus") for _, o in book.rows} == {"Shared (edit)"}
    assert {o.extra.get("SharedWith") for _, o in book.rows} == {"team-lead"}


def test_share_access_read_constant_in_async_mode(sandbox: RunningSandbox, tmp_path: Path):
    mapping = tmp_path / "share.yaml"
    mapping.write_text(
        CAPTURE_HEAD + "share:\n  user_id: {column: Owner}\n  access: read\n"
        "  duration_minutes: 1440\n"
    )
    source = write_csv(
        tmp_path / "leads.csv",
        ["Email", "Name", "Amount", "Stage", "Owner"],
        [["c@example.com", "Loan C", "10", "New", "user-c"]],
    )
    report = run_import(
        source, mapping, settings=settings_for(sandbox, tmp_path), mode="async", fresh=True
    )

    assert report.exit_code == 0
    (share,) = sandbox.sandbox.snapshot()["shares"]
    assert share["EntityId"] == report.outcomes[0].created_opportunity_id
    assert (share["UserId"], share["AccessType"], share["DurationInMinutes"]) == (
        "user-c",
        1,
        1440,
    )
    counters = sandbox.sandbox.snapshot()["counters"]["calls"]
    assert counters.get("/v2/EntityAccess.svc/Share") == 1


def test_access_column_with_another_word_is_invalid_and_never_shared(
    sandbox: RunningSandbox, tmp_path: Path
):
    mapping = tmp_path / "share.yaml"
    mapping.write_text(
        CAPTURE_HEAD + "share:\n  user_id: {column: Owner}\n  access: {column: Access}\n"
    )
    source = write_csv(
        tmp_path / "leads.csv",
        ["Email", "Name", "Amount", "Stage", "Owner", "Access"],
        [["d@example.com", "Loan D", "10", "New", "user-d", "write"]],
    )
    report = run_import(
        source, mapping, settings=settings_for(sandbox, tmp_path), mode="sync", fresh=True
    )

    assert [o.status for o in report.outcomes] == [RowStatus.INVALID]
    assert sandbox.sandbox.snapshot()["shares"] == []
    assert sandbox.sandbox.opportunities() == []


# ---------------------------------------------------------------- update


def test_update_existing_and_unknown_ids(sandbox: RunningSandbox, tmp_path: Path):
    capture = tmp_path / "capture.yaml"
    capture.write_text(CAPTURE_HEAD)
    seed = write_csv(tmp_path / "seed.csv", ["Email", "Name", "Amount", "Stage"], capture_rows(2))
    seeded = run_import(
        seed, capture, settings=settings_for(sandbox, tmp_path), mode="sync", fresh=True
    )
    first, second = (o.created_opportunity_id or "" for o in seeded.outcomes)

    mapping = tmp_path / "update.yaml"
    mapping.write_text(UPDATE_MAPPING)
    source = write_csv(
        tmp_path / "changes.csv",
        ["Opportunity Id", "Amount", "Stage", "Note"],
        [
            [first, "2,50,000", "prospecting", "called back"],
            ["00000000-0000-0000-0000-00000000dead", "1", "New", ""],
            [second, "", "Prospecting", ""],
            ["", "5", "New", "no id: never sent"],
        ],
    )
    done = cli(sandbox, tmp_path, "run", str(source), "-m", str(mapping), "--mode", "async")

    assert done.returncode == 1, done.stderr
    assert "2 Success (2 updated, 0 already sent), 1 Failure, 1 Invalid" in done.stdout
    book = read_results(tmp_path / "changes.results.xlsx")
    outcomes = {o.row_number: o for _, o in book.rows}
    assert outcomes[2].status == RowStatus.SUCCESS
    assert outcomes[4].status == RowStatus.SUCCESS
    assert outcomes[3].status == RowStatus.FAILURE
    assert outcomes[3].exception_type == "MXInvalidEntityReferenceException"
    assert outcomes[3].message == "Opportunity does not exist"
    assert all(outcomes[n].request_id for n in (2, 3, 4))
    assert outcomes[5].status == RowStatus.INVALID
    assert "Opportunity Id" in (outcomes[5].message or "")

    stored = {o["OpportunityId"]: o for o in sandbox.sandbox.opportunities()}
    assert stored[first]["Fields"]["mx_Custom_6"] == "250000"
    assert stored[first]["Fields"]["mx_Custom_2"] == "Prospecting"
    assert stored[first]["OpportunityNote"] == "called back"
    # An empty cell is not sent: the amount captured earlier stays.
    assert stored[second]["Fields"]["mx_Custom_6"] == "1000"
    assert stored[second]["Fields"]["mx_Custom_2"] == "Prospecting"
    calls = sandbox.sandbox.snapshot()["counters"]["calls"]
    assert calls.get("/opportunity/update") == 3
    assert not calls.get("/opportunity/capture")


def test_update_in_sync_mode_is_refused(sandbox: RunningSandbox, tmp_path: Path):
    mapping = tmp_path / "update.yaml"
    mapping.write_text(UPDATE_MAPPING)
    source = write_csv(
        tmp_path / "changes.csv",
        ["Opportunity Id", "Amount", "Stage", "Note"],
        [["x", "1", "", ""]],
    )
    done = cli(sandbox, tmp_path, "run", str(source), "-m", str(mapping), "--mode", "sync")

    assert done.returncode == 2
    assert "async API only" in done.stderr
    assert "Traceback" not in done.stderr
    assert sandbox.sandbox.snapshot()["counters"]["calls"] == {}
