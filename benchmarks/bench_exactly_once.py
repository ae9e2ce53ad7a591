"""Exactly once on an account without a duplicate rule, measured (issue 19).

For sync and async mode, 70 rows go to the sandbox (no duplicate rule) over real
HTTP twice in one run: once without faults (the baseline), once with 5% errors before
processing, 6% replies lost and 6% 504 pages after processing. Prints opportunities
per row (the target is exactly 1.00), the extra calls each uncertain answer cost
(read-backs and re-sends, against the baseline's calls), and how long a cancel takes
to show ("stopping") and to end a run of 300 rows at 25 calls per 5 s.

    python benchmarks/bench_exactly_once.py
"""

from __future__ import annotations

import csv
import sys
import tempfile
import threading
import time
from pathlib import Path

from importer.commands.run import run_import
from importer.core.config import Rate, settings_from_env
from importer.core.errors import ImportCancelled
from importer.core.progress import Progress
from importer.sandbox import SandboxConfig, serve_in_thread

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support import NAME_MAPPING as MAPPING  # noqa: E402

ROWS = 70


def files(folder: Path, rows: int) -> tuple[Path, Path]:
    data = folder / "leads.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email", "Opportunity Name"])
        for i in range(rows):
            writer.writerow([f"b{i}@example.com", f"Loan {i}"])
    mapping = folder / "loan.yaml"
    mapping.write_text(MAPPING)
    return data, mapping


def one_run(mode: str, faults: bool) -> dict[str, float]:
    rates = {"error_rate": 0.05, "drop_rate": 0.06, "gateway_rate": 0.06} if faults else {}
    config = SandboxConfig(rate_limit=1000, async_delay=0.2, seed=23, **rates)
    with serve_in_thread(config) as running, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data, mapping = files(folder, ROWS)
        env = running.env() | {"LSQ_STATE_HOME": str(folder / "state")}
        settings = settings_from_env(env, folder, rate="1000/5s")
        run_import(data, mapping, settings=settings, mode=mode)
        snapshot = running.sandbox.snapshot()
        counters = snapshot["counters"]
        uncertain = counters["drops"] + counters["gateway_504"] + counters["injected_500"]
        return {
            "per_row": len(snapshot["opportunities"]) / ROWS,
            "calls": sum(counters["calls"].values()),
            "uncertain": uncertain,
        }


class Stopping(Progress):
    def __init__(self, cancel: threading.Event, after: int) -> None:
        self.cancel, self.after, self.done = cancel, after, 0
        self.asked = self.shown = 0.0

    def finished(self, outcome: object) -> None:
        self.done += 1
        if self.done == self.after:
            self.asked = time.perf_counter()
            self.cancel.set()

    def stopping(self, calls_under_way: int) -> None:
        self.shown = time.perf_counter()


def cancel_latency(mode: str) -> tuple[float, float]:
    with serve_in_thread(SandboxConfig(latency=0.12, async_delay=1.0)) as running:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            data, mapping = files(folder, 300)
            env = running.env() | {"LSQ_STATE_HOME": str(folder / "state")}
            settings = settings_from_env(env, folder).with_(rate=Rate(25, 5.0))
            cancel = threading.Event()
            progress = Stopping(cancel, 28)
            try:
                run_import(data, mapping, settings=settings, mode=mode, cancel=cancel,
                           progress=progress)  # fmt: skip
            except ImportCancelled:
                pass
            ended = time.perf_counter()
            return progress.shown - progress.asked, ended - progress.asked


def main() -> None:
    for mode in ("sync", "async"):
        base = one_run(mode, faults=False)
        faulty = one_run(mode, faults=True)
        extra = (faulty["calls"] - base["calls"]) / max(1, faulty["uncertain"])
        print(
            f"{mode:5}: opportunities per row {faulty['per_row']:.2f} under faults "
            f"({base['per_row']:.2f} without); {faulty['uncertain']:.0f} uncertain answers "
            f"cost {extra:.1f} extra calls each (baseline {base['calls'] / ROWS:.2f} calls/row)"
        )
    for mode in ("sync", "async"):
        shown, ended = cancel_latency(mode)
        print(
            f"{mode:5}: a cancel shows 'stopping' after {shown:.2f} s; the run ends {ended:.2f} s"
        )


if __name__ == "__main__":
    main()
