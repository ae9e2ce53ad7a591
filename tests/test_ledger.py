"""Never twice across files, names, outputs and processes (CONTRACT 6b), against the sandbox.

The sandbox runs without duplicate detection here, as many real accounts do: every
capture it receives creates an opportunity, so counting them counts what was sent.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support import LOAN_MAPPING, sandbox_env

from importer.commands.run import run_import
from importer.core.config import Settings, settings_from_env
from importer.core.errors import ImportStopped
from importer.core.outcomes import Origin, RowStatus
from importer.io.journal import Journal, RowState
from importer.io.ledger import LedgerState
from importer.rules.mapping.identity import row_identity
from importer.rules.mapping.mapping_file import load_mapping
from importer.sandbox import RunningSandbox, SandboxConfig, serve_in_thread
from importer.send.previous import open_ledger

HEADERS = ["Email", "First Name", "Opportunity Name", "Loan Amount"]
MAPPING = LOAN_MAPPING.replace("lead:", "unique: [EmailAddress, mx_Custom_1]\nlead:", 1)


# Every test here runs on both state stores (CONTRACT 3): the files, then PostgreSQL.
STATE: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _on_each_store(state_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "STATE", state_env)


def settings(running: RunningSandbox) -> Settings:
    return settings_from_env(running.env() | STATE, Path("/nonexistent"), rate="1000/5s")


def rows(start: int, count: int) -> list[list[str]]:
    return [[f"p{i}@example.com", f"P{i}", f"Loan {i}", f"{i}000"] for i in range(start, count)]


def write(path: Path, data: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([HEADERS, *data])
    return path


def created(running: RunningSandbox) -> int:
    return len(running.sandbox.opportunities())


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "loan.yaml"
    path.write_text(MAPPING)
    return path


def test_fixing_three_invalid_rows_then_running_again_sends_three(
    tmp_path: Path, sandbox: RunningSandbox, mapping: Path
) -> None:
    data = rows(0, 40)
    for i in (5, 17, 33):
        data[i][0] = f"p{i}-at-example.com"  # not an email: Invalid
    leads = write(tmp_path / "leads.csv", data)
    first = run_import(leads, mapping, settings=settings(sandbox))
    assert first.counts["Invalid"] == 3 and created(sandbox) == 37

    for i in (5, 17, 33):
        data[i][0] = f"p{i}@example.com"
    write(leads, data)
    again = run_import(leads, mapping, settings=settings(sandbox))

    assert created(sandbox) == 40
    assert again.counts["Success"] == 40
    assert again.origins == {Origin.CREATED: 3, Origin.ALREADY_IMPORTED: 37, Origin.DUPLICATE: 0}
    assert "3 new, 37 already imported, 0 LeadSquared duplicates" in again.summary_line()


def test_a_cumulative_export_under_a_new_name_sends_only_the_new_rows(
    tmp_path: Path, sandbox: RunningSandbox, mapping: Path
) -> None:
    run_import(write(tmp_path / "monday.csv", rows(0, 40)), mapping, settings=settings(sandbox))
    assert created(sandbox) == 40

    tuesday = write(tmp_path / "tuesday.csv", rows(0, 60))
    report = run_import(tuesday, mapping, settings=settings(sandbox), out=tmp_path / "x.xlsx")

    assert created(sandbox) == 60
    old = next(o for o in report.outcomes if o.row_number == 7)
    assert old.status == RowStatus.SUCCESS and old.origin == Origin.ALREADY_IMPORTED
    assert old.created_opportunity_id
    assert old.message and "monday.csv, row 7, on " in old.message


def test_a_renamed_copy_with_a_changed_amount_sends_nothing_and_names_the_column(
    tmp_path: Path, sandbox: RunningSandbox, mapping: Path
) -> None:
    data = rows(0, 10)
    run_import(write(tmp_path / "a.csv", data), mapping, settings=settings(sandbox))
    first_ids = {o["OpportunityId"] for o in sandbox.sandbox.opportunities()}
    data[3][3] = "99999"
    report = run_import(write(tmp_path / "b.csv", data), mapping, settings=settings(sandbox))

    assert created(sandbox) == 10
    changed = next(o for o in report.outcomes if o.row_number == 5)
    assert changed.message and "These columns now differ: Loan Amount" in changed.message
    assert "update mapping" in changed.message
    assert {o.created_opportunity_id for o in report.outcomes} == first_ids


def test_a_mapping_comment_and_another_out_send_nothing_again(
    tmp_path: Path, sandbox: RunningSandbox, mapping: Path
) -> None:
    leads = write(tmp_path / "leads.csv", rows(0, 12))
    run_import(leads, mapping, settings=settings(sandbox))
    mapping.write_text("# reviewed by ops\n" + MAPPING)
    report = run_import(leads, mapping, settings=settings(sandbox), out=tmp_path / "o" / "r.xlsx")
    assert created(sandbox) == 12
    assert report.origins[Origin.ALREADY_IMPORTED] == 12 and report.api_calls == 0


def test_without_unique_the_whole_row_is_its_identity(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    mapping = tmp_path / "plain.yaml"
    mapping.write_text(MAPPING.replace("unique: [EmailAddress, mx_Custom_1]\n", ""))
    data = rows(0, 6)
    data.append(list(data[2]))  # the same row twice in one file: sent once
    run_import(write(tmp_path / "a.csv", data), mapping, settings=settings(sandbox))
    assert created(sandbox) == 6

    data[4][3] = "123"  # a changed value is another row: sent
    report = run_import(write(tmp_path / "b.csv", data), mapping, settings=settings(sandbox))
    assert created(sandbox) == 7
    assert report.origins[Origin.CREATED] == 1


def test_fresh_sends_every_row_again_and_says_so_first(
    tmp_path: Path, sandbox: RunningSandbox, mapping: Path
) -> None:
    leads = write(tmp_path / "leads.csv", rows(0, 5))
    run_import(leads, mapping, settings=settings(sandbox))
    env = sandbox_env(sandbox, **STATE)
    done = subprocess.run(
        [sys.executable, "-m", "importer", "run", str(leads), "-m", str(mapping), "--fresh"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "--fresh: every row is sent again" in done.stderr.splitlines()[0]
    assert created(sandbox) == 10


def test_each_sandbox_start_is_a_new_empty_account(tmp_path: Path, mapping: Path) -> None:
    leads = write(tmp_path / "leads.csv", rows(0, 4))
    for _ in range(2):
        with serve_in_thread(SandboxConfig(async_delay=0.05, rate_limit=1000)) as running:
            report = run_import(leads, mapping, settings=settings(running), fresh=False)
            assert created(running) == 4
            assert report.origins[Origin.CREATED] == 4


def test_two_processes_importing_overlapping_files_create_each_row_once(
    tmp_path: Path, sandbox: RunningSandbox, mapping: Path
) -> None:
    first = write(tmp_path / "first.csv", rows(0, 40))
    second = write(tmp_path / "second.csv", rows(20, 60))
    env = sandbox_env(sandbox, **STATE)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "importer", "run", str(path), "-m", str(mapping), "--quiet"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in (first, second)
    ]
    for run in runs:
        _out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    names = sorted(o["Fields"]["mx_Custom_1"] for o in sandbox.sandbox.opportunities())
    assert names == sorted(f"Loan {i}" for i in range(60))


def test_a_crash_between_the_ledger_and_the_journal_polls_instead_of_sending(
    tmp_path: Path, sandbox: RunningSandbox, mapping: Path
) -> None:
    """What kill -9 leaves there: the ledger has the request id, the journal says `sending`."""
    leads = write(tmp_path / "leads.csv", rows(0, 3))
    first = run_import(leads, mapping, settings=settings(sandbox))
    assert created(sandbox) == 3
    target = next(o for o in first.outcomes if o.row_number == 3)
    model = load_mapping(mapping)
    values = {
        "lead.EmailAddress": "p1@example.com",
        "lead.FirstName": "P1",
        "opportunity.mx_Custom_1": "Loan 1",
        "opportunity.mx_Custom_6": "1000",
    }
    identity = row_identity(model, {}, values)
    config = settings(sandbox)
    with open_ledger(config) as ledger:
        entry = ledger.find(identity)
        assert entry is not None and entry.state == LedgerState.DONE and entry.request_id
        # Put the row back as the crash left it: accepted in the ledger, mid-send in the journal.
        with ledger.db.transaction() as tx:
            tx.execute("UPDATE ledger_rows SET state = 'accepted' WHERE identity = ?", (identity,))
    with Journal(first.journal_path) as journal:
        journal._db.execute("DELETE FROM rows WHERE row_number = 3")
        journal.mark_sending(3)
        assert journal.snapshot()[3].state == RowState.SENDING

    again = run_import(leads, mapping, settings=settings(sandbox))

    assert created(sandbox) == 3  # polled, not sent again
    resumed = next(o for o in again.outcomes if o.row_number == 3)
    assert resumed.status == RowStatus.SUCCESS
    assert resumed.created_opportunity_id == target.created_opportunity_id


def test_a_stop_keeps_the_ledger_and_the_next_run_finishes(
    tmp_path: Path, sandbox: RunningSandbox, mapping: Path
) -> None:
    leads = write(tmp_path / "leads.csv", rows(0, 30))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ImportStopped) as stopped:
        run_import(leads, mapping, settings=settings(sandbox), cancel=cancel)
    report = stopped.value.report
    assert report is not None and Path(report.results_path).exists()  # type: ignore[attr-defined]
    again = run_import(leads, mapping, settings=settings(sandbox))
    assert created(sandbox) == 30 and again.counts["Success"] == 30
