"""Two imports at once on one account: does the shared rate budget keep them inside the limit?

Two processes each import a 60-row file in sync mode, started together, against one
sandbox (25 calls / 5 s, 80 ms latency) served by this process. Measured twice in the
same run: with the shared budget (both processes use one state home, as on a real
machine) and without it (each its own state home: the baseline). Prints, for each,
the share of calls answered 429 (the sandbox's own count) and the calls LeadSquared
accepted per second over the import, as a fraction of the limit: "burst" counts every
accepted call, "steady" leaves out the first window's free burst. Targets (CONTRACT 8):
shared budget <= 1% 429s and steady >= 0.85 of the limit.

    python benchmarks/bench_budget.py [ROWS_PER_PROCESS] [PROCESSES]
"""

from __future__ import annotations

import multiprocessing
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path

from importer.core.config import Mode, Rate, Settings
from importer.core.progress import CallRecord, Progress
from importer.sandbox import SandboxConfig, serve_in_thread

LATENCY = 0.08
RATE = Rate(25, 5.0)
MAPPING = """\
version: 1
operation: capture
opportunity_event_code: 12000
search_by: EmailAddress
lead:
  EmailAddress: {column: Email, type: email, required: true}
opportunity:
  mx_Custom_1: {column: Name, required: true}
"""


class CallTimes(Progress):
    """The wall-clock send time and HTTP status of every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, int | None]] = []

    def call(self, record: CallRecord) -> None:
        self.calls.append((time.time() - record.elapsed, record.status_code))


def one_import(
    settings: Settings, input_path: Path, mapping_path: Path, start: Barrier
) -> list[tuple[float, int | None]]:
    """Runs in a child process: wait for the other one, then import."""
    from importer.commands.run import run_import

    times = CallTimes()
    start.wait()
    run_import(input_path, mapping_path, settings=settings, mode=Mode.SYNC, progress=times)
    return times.calls


@dataclass
class Figures:
    calls: int
    share_429: float
    burst_used: float
    steady_used: float
    seconds: float
    created: int


def measure(rows: int, processes: int, *, shared: bool, work: Path) -> Figures:
    config = SandboxConfig(latency=LATENCY, rate_limit=RATE.calls, rate_window=RATE.seconds)
    mapping = work / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    label = "shared" if shared else "separate"
    with serve_in_thread(config) as running:
        env = running.env()
        jobs = []
        for p in range(processes):
            folder = work / f"{label}-{p}"
            folder.mkdir()
            csv = folder / "leads.csv"
            lines = ["Email,Name"] + [f"p{p}r{i}@example.com,Loan {p}-{i}" for i in range(rows)]
            csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
            state_home = work / ("state" if shared else f"state-{label}-{p}")
            settings = Settings(
                host=env["LSQ_HOST"],
                async_host=env["LSQ_ASYNC_HOST"],
                access_key=env["LSQ_ACCESS_KEY"],
                secret_key=env["LSQ_SECRET_KEY"],
                api_key=env["LSQ_API_KEY"],
                rate=RATE,
                state_home=state_home,
            )
            jobs.append((settings, csv, mapping))
        context = multiprocessing.get_context("spawn")
        with context.Manager() as manager:
            start = manager.Barrier(processes)
            with context.Pool(processes) as pool:
                pending = [pool.apply_async(one_import, (*job, start)) for job in jobs]
                calls = [call for result in pending for call in result.get()]
        counters = running.sandbox.snapshot()["counters"]
        created = len(running.sandbox.opportunities())
    total = sum(counters["calls"].values())
    accepted = [t for t, code in calls if code != 429]
    span = max(accepted) - min(accepted)
    per_second = RATE.calls / RATE.seconds
    return Figures(
        calls=total,
        share_429=counters["429s"] / max(1, total),
        burst_used=len(accepted) / span / per_second,
        steady_used=(len(accepted) - RATE.calls) / span / per_second,
        seconds=span,
        created=created,
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    print(
        f"{processes} concurrent sync imports of {rows} rows, sandbox limit {RATE}, "
        f"latency {LATENCY * 1000:.0f} ms"
    )
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for shared in (False, True):
            work = Path(tmp) / ("shared" if shared else "separate")
            work.mkdir()
            results[shared] = measure(rows, processes, shared=shared, work=work)
    for shared, name in ((False, "own budget each (baseline)"), (True, "one shared budget")):
        f = results[shared]
        print(
            f"{name:27}: {f.calls} calls in {f.seconds:.1f} s, 429s {f.share_429:.2%}; "
            f"limit used {f.burst_used:.3f} (steady {f.steady_used:.3f}); "
            f"{f.created} of {rows * processes} opportunities"
        )
    base, budget = results[False], results[True]
    print(
        f"shared / baseline: 429 share {budget.share_429:.2%} vs {base.share_429:.2%}; "
        f"steady use {budget.steady_used / base.steady_used:.2f}x the baseline's"
    )


if __name__ == "__main__":
    main()
