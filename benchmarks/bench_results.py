"""Peak memory of `retry`, `status` and `verify` on a big results workbook (issue 12).

Writes a results workbook of ROWS rows (default 1,000,000; cached under /tmp), then
runs each command in its own process against a sandbox and prints its peak RSS and
time, beside the baseline of the same process only loading the workbook whole with
python-calamine (what reading it used to cost). Target: every command under 1 GB.

    .venv/bin/python benchmarks/bench_results.py [ROWS]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from importer.core.outcomes import RowOutcome, RowStatus
from importer.io.workbooks.results import write_results
from importer.io.workbooks.summary import Summary
from importer.sandbox import SandboxConfig, serve_in_thread

HEADERS = ["Email", "First Name", "Last Name", "Mobile", "City", "Opportunity Name", "Stage"]
HEADERS += ["Loan Amount", "Expected Close", "Status", "Status Comment", "Notes"]
MAPPING = """\
version: 1
operation: capture
opportunity_event_code: 12000
search_by: EmailAddress
lead:
  EmailAddress: {column: Email, type: email, required: true}
  FirstName: First Name
opportunity:
  mx_Custom_1: {column: Opportunity Name, required: true}
  mx_Custom_6: {column: Loan Amount, type: number}
"""
SUCCESS_EVERY = 1000  # one Success row in this many (verify reads each one back)


def make_workbook(rows: int, path: Path, mapping: Path) -> None:
    def lines():  # type: ignore[no-untyped-def]
        for i in range(rows):
            ok = i % SUCCESS_EVERY == 0
            outcome = RowOutcome(
                i + 2,
                RowStatus.SUCCESS if ok else RowStatus.INVALID,
                created_opportunity_id=f"opp-{i:08d}" if ok else None,
                related_prospect_id=f"lead-{i:08d}" if ok else None,
                message="Opportunity created" if ok else "Row 2, Email: required but empty",
            )
            cells = [f"user{i}@example.com", f"First{i}", f"Last{i}", f"98765{i % 100000:05d}"]
            cells += ["Pune", f"Loan {i}", "New", str(100000 + i), "2026-01-15", "Open", "", "x"]
            yield cells, outcome

    now = datetime.now()
    summary = Summary(
        counts={},
        input_name="big.csv",
        input_sha256="0" * 64,
        mapping=str(mapping),
        mode="sync",
        started=now,
        finished=now,
    )
    write_results(path, input_headers=HEADERS, rows=lines(), errors=[], summary=summary)


def peak_of(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, exit code) of one child process."""
    started = time.perf_counter()
    wrapper = (
        "import resource, runpy, sys; sys.argv = sys.argv[1:];"
        "code = 0\n"
        "try:\n    runpy.run_module(sys.argv[0], run_name='__main__')\n"
        "except SystemExit as stop:\n    code = stop.code or 0\n"
        "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *args], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    peak = next(
        (int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK")), 0
    )
    if done.returncode not in (0, 1):
        print(done.stderr[-2000:], file=sys.stderr)
    return peak / 1024, seconds, done.returncode


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    cache = Path(tempfile.gettempdir()) / "lsq-bench-results"
    cache.mkdir(exist_ok=True)
    mapping = cache / "big.yaml"
    mapping.write_text(MAPPING)
    source = cache / f"big-{rows}.results.xlsx"
    if not source.exists():
        started = time.perf_counter()
        make_workbook(rows, source, mapping)
        print(f"wrote {rows:,} rows in {time.perf_counter() - started:.0f} s")
    baseline_code = (
        "import python_calamine, sys\n"
        "book = python_calamine.CalamineWorkbook.from_path(sys.argv[1])\n"
        "rows = book.get_sheet_by_name('Results').to_python()\n"
    )
    config = SandboxConfig(rate_limit=100_000, async_delay=0.0)
    with serve_in_thread(config) as running, tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LSQ_")}
        env |= running.env() | {"LSQ_RATE": "100000/5s", "HOME": home}
        work = Path(home) / "work.results.xlsx"
        baseline_path = Path(home) / "baseline.py"
        baseline_path.write_text(baseline_code)
        base_peak, base_seconds, _ = peak_of_script(baseline_path, source, env)
        print(
            f"{'baseline: calamine loads the sheet':<38} {base_peak:7.0f} MB {base_seconds:6.1f} s"
        )
        for command in (["retry"], ["status"], ["verify", "-m", str(mapping)]):
            work.write_bytes(source.read_bytes())
            args = ["importer", command[0], str(work), *command[1:], "--quiet"]
            peak, seconds, code = peak_of(args, env)
            ratio = peak / base_peak if base_peak else float("nan")
            verdict = "ok" if peak < 1024 else "OVER 1 GB"
            print(
                f"{'lsq-import ' + command[0]:<38} {peak:7.0f} MB {seconds:6.1f} s "
                f"({ratio:.2f}x the baseline's memory; exit {code}; {verdict})"
            )
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this script itself peaked at {peak_self:.0f} MB)")


def peak_of_script(script: Path, workbook: Path, env: dict[str, str]) -> tuple[float, float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource, runpy, sys; sys.argv = sys.argv[1:]; "
            "runpy.run_path(sys.argv[0]); "
            "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)",
            str(script),
            str(workbook),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    peak = next(
        (int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK")), 0
    )
    return peak / 1024, seconds, done.returncode


if __name__ == "__main__":
    main()
