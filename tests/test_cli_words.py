"""What the CLI says reads like a person wrote it: help, versions, swapped files, busy ports,
and LeadSquared's own refusals naming the user's header beside the Schema Name."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import pytest
import typer
from support import (
    REFUSED_CSV,
    REFUSED_MAPPING,
    queue_done,
    read_results,
    sandbox_env,
    wait_for,
)
from typer.testing import CliRunner

from importer.cli import app
from importer.core.outcomes import RowOutcome, RowStatus
from importer.sandbox import SandboxConfig, serve_in_thread

MAPPING, CSV = REFUSED_MAPPING, REFUSED_CSV
NAMED = "Status Comment (mx_Custom_19)"


@pytest.fixture
def workspace(no_lsq_env: Path) -> Path:
    (no_lsq_env / "leads.csv").write_text(CSV)
    (no_lsq_env / "loan.yaml").write_text(MAPPING)
    return no_lsq_env


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def outcome_of(results: Path, row_number: int) -> RowOutcome:
    return next(o for _, o in read_results(results).rows if o.row_number == row_number)


def commands() -> list[tuple[str, Any]]:
    """Every command, `map suggest` included, with the words that call it."""
    root: Any = typer.main.get_command(app)
    found: list[tuple[str, Any]] = [("", root)]
    for name, command in root.commands.items():
        found.append((name, command))
        for sub, inner in getattr(command, "commands", {}).items():
            found.append((f"{name} {sub}", inner))
    return found


# ---------------------------------------------------------------- --help and --version


@pytest.mark.parametrize("words", [name for name, _ in commands()])
def test_help_names_values_in_words(words: str) -> None:
    result = invoke(*words.split(), "--help", env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    text = result.output
    assert not re.search(r"<(bool|str|path|int|float|int range|float range)>", text), text
    assert "{" not in text and "1<=x" not in text and "x>=" not in text, text
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    for argument in re.findall(r"\b[A-Z]+\b", usage.split("[OPTIONS]")[-1]):
        assert argument in {"INPUT", "RESULTS", "INBOX", "JOURNAL", "COMMAND", "ARGS"}


def test_arguments_are_in_capitals_and_every_option_is_described() -> None:
    arguments: dict[str, str] = {}
    for name, command in commands():
        for param in command.params:
            if param.param_type_name == "argument":
                arguments[name] = param.metavar
            else:
                assert param.help, f"{name or 'lsq-import'} {param.opts[0]} has no description"

    assert arguments == {
        "validate": "INPUT",
        "run": "INPUT",
        "watch": "INBOX",
        "retry": "RESULTS",
        "status": "RESULTS",
        "verify": "RESULTS",
        "rebuild": "JOURNAL",
        "map suggest": "INPUT",
    }


def test_run_help_shows_flags_bare_and_values_by_name() -> None:
    text = invoke("run", "--help", env={"COLUMNS": "200"}).output

    assert re.search(r"--fresh\s+Start over", text)
    assert re.search(r"--out\s+PATH\s+Where to write", text)
    assert re.search(r"--workers\s+N \[1 to 64\]\s+Calls under way", text)
    assert re.search(r"Usage: \S+ run \[OPTIONS\] INPUT\s", text)


def test_version() -> None:
    result = invoke("--version")

    assert result.exit_code == 0
    assert re.fullmatch(r"lsq-import \S+\n", result.output)


# ---------------------------------------------------------------- plain one-line refusals


@pytest.mark.parametrize("command", ["validate", "run"])
def test_input_and_mapping_swapped_is_recognised(workspace: Path, command: str) -> None:
    result = invoke(command, "loan.yaml", "-m", "leads.csv")

    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        "lsq-import: loan.yaml and leads.csv look swapped: the spreadsheet comes first and the "
        f"mapping after -m, as in: lsq-import {command} leads.csv -m loan.yaml"
    )


def test_inbox_and_mapping_swapped_is_recognised(workspace: Path) -> None:
    (workspace / "inbox").mkdir()

    result = invoke("watch", "loan.yaml", "-m", "inbox", "--once")

    assert result.exit_code == 2, result.output
    assert "look swapped" in result.output
    assert "lsq-import watch inbox -m loan.yaml" in result.output
    assert result.output.count("\n") == 1


def test_sandbox_on_a_busy_port_is_one_plain_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("sandbox", "--port", str(port))

    assert result.exit_code == 2
    assert result.output.strip() == (
        f"lsq-import: Port {port} on 127.0.0.1 is already in use: stop what uses it, "
        "or choose another with --port"
    )


# ---------------------------------------------------------------- what a run says


def test_run_says_how_long_it_will_take_before_sending(workspace: Path) -> None:
    result = invoke("run", "leads.csv", "-m", "loan.yaml", "--sandbox", "--rate", "10/5s")

    assert "Importing the 3 ready rows takes about 3 s at 10 calls per 5 s (async mode)." in (
        result.output
    )
    quiet = invoke("run", "leads.csv", "-m", "loan.yaml", "--sandbox", "--quiet")
    assert quiet.exit_code == 1, quiet.output
    assert "Importing" not in quiet.output


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_leadsquared_s_refusal_names_the_user_s_header(workspace: Path, mode: str) -> None:
    with serve_in_thread(SandboxConfig(async_delay=0.05, rate_limit=1000)) as running:
        env = sandbox_env(running)
        first = invoke("run", "leads.csv", "-m", "loan.yaml", "--mode", mode, env=env)
        assert first.exit_code == 1, first.output
        results = workspace / "leads.results.xlsx"
        failure = outcome_of(results, 3)
        assert failure.status == RowStatus.FAILURE
        assert NAMED in (failure.message or ""), failure.message
        assert failure.message.count("mx_Custom_19") == 1

        again = invoke("retry", str(results), "--quiet", env=env)  # refused again, same words
        assert again.exit_code == 1, again.output
        message = outcome_of(results, 3).message or ""
        assert NAMED in message and message.count("mx_Custom_19") == 1

    journal = next((workspace / ".lsq-state").glob("leads.*.journal.sqlite"))
    rebuilt = invoke("rebuild", str(journal), "--out", "rebuilt.xlsx")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert NAMED in (outcome_of(workspace / "rebuilt.xlsx", 3).message or "")


def test_status_names_the_user_s_header_when_a_pending_row_fails(workspace: Path) -> None:
    with serve_in_thread(SandboxConfig(async_delay=0.5, rate_limit=1000)) as running:
        env = sandbox_env(running)
        first = invoke(
            "run", "leads.csv", "-m", "loan.yaml", "--quiet", "--poll-timeout", "0", env=env
        )
        assert first.exit_code == 1, first.output
        results = workspace / "leads.results.xlsx"
        assert {o.status for _, o in read_results(results).rows} == {RowStatus.PENDING}
        wait_for(lambda: queue_done(running), 20, "the sandbox's queue to finish")
        later = invoke("status", str(results), "--quiet", env=env)
        assert later.exit_code == 1, later.output

    failure = outcome_of(results, 3)
    assert failure.status == RowStatus.FAILURE and NAMED in (failure.message or "")
