"""Two machines sharing only PostgreSQL (issue 20), against the sandbox at its real pace.

Two processes, each with its own working directory and LSQ_STATE_HOME, import the same
N rows at once into one account with no duplicate rule, at 25 calls per 5 s. Prints the
opportunities created per row (the target is 1.00), the share of calls answered 429
(target at most 1%), and the two runs' wall time against one run alone (the baseline,
measured in the same run).

    python benchmarks/bench_machines.py [ROWS]
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from importer.sandbox import SandboxConfig, serve_in_thread

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pg_cluster import Cluster, binaries  # noqa: E402
from support import NAME_MAPPING as MAPPING  # noqa: E402


def machine(root: Path, name: str, rows: int) -> Path:
    folder = root / name
    (folder / "home").mkdir(parents=True)
    with (folder / "leads.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email", "Opportunity Name"])
        writer.writerows([f"m{i}@example.com", f"Loan {i}"] for i in range(rows))
    (folder / "loan.yaml").write_text(MAPPING)
    return folder


def start(folder: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "importer", "run", "leads.csv", "-m", "loan.yaml", "--quiet"]
        + ["--mode", "sync"],
        cwd=folder,
        env=env | {"LSQ_STATE_HOME": str(folder / "home")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def measure(url: str, rows: int, machines: int) -> tuple[float, float, float]:
    """(opportunities per row, share of calls answered 429, seconds)."""
    with serve_in_thread(SandboxConfig(rate_limit=25, rate_window=5.0, latency=0.05)) as running:
        base = {k: v for k, v in os.environ.items() if not k.startswith("LSQ_")}
        env = base | running.env() | {"LSQ_STATE_URL": url, "LSQ_RATE": "25/5s"}
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            runs = [start(machine(Path(tmp), f"m{n}", rows), env) for n in range(machines)]
            for run in runs:
                run.communicate(timeout=600)
            seconds = time.perf_counter() - started
        counters = running.sandbox.snapshot()["counters"]
        calls = sum(counters["calls"].values())
        made = len(running.sandbox.opportunities())
        return made / rows, counters["429s"] / max(1, calls), seconds


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    bin_dir = binaries()
    if bin_dir is None:
        print("PostgreSQL is not installed (apt-get install postgresql): skipped")
        return
    cluster = Cluster(bin_dir)
    cluster.start()
    try:
        alone = measure(cluster.create_database("alone"), rows, 1)
        both = measure(cluster.create_database("both"), rows, 2)
    finally:
        cluster.remove()
    print(f"one machine:  {alone[0]:.2f} opportunities per row, {alone[1]:.1%} 429s, "
          f"{alone[2]:.1f} s")  # fmt: skip
    print(f"two machines: {both[0]:.2f} opportunities per row, {both[1]:.1%} 429s, "
          f"{both[2]:.1f} s ({both[2] / alone[2]:.2f}x one alone)")  # fmt: skip


if __name__ == "__main__":
    main()
