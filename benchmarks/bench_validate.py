"""Validation speed and memory against a bare `pandas.read_csv(dtype=str)` of the same file.

Targets: validating a 200,000-row, 12-column CSV takes at most 2.5x the baseline
(the median of several runs, baseline and validation alternating so both see the
same machine load) and peaks under 1 GB; a 1,000,000-row CSV completes under the
same ceiling. Each measurement runs in its own process so peak RSS is its own.

    python benchmarks/bench_validate.py [ROWS] [BIG_ROWS] [RUNS]
"""

from __future__ import annotations

import csv
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAN_MAPPING = ROOT / "mappings" / "loan.yaml"
HEADERS = [
    "Email",
    "First Name",
    "Last Name",
    "Mobile",
    "City",
    "Opportunity Name",
    "Stage",
    "Loan Amount",
    "Expected Close",
    "Status",
    "Status Comment",
    "Opportunity Date",
]
STAGES = ["Prospecting", "New", "Qualified", "new", "QUALIFIED"]
CITIES = ["Bengaluru", "Chennai", "Mumbai", "Pune", "Delhi", "Kochi", "Hyderabad"]


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for i in range(rows):
            status = rng.choice(["Open", "Open", "Won", "Lost"])
            writer.writerow(
                [
                    f"person{i}@example.com",
                    f"First{i % 977}",
                    f"Last{i % 1409}",
                    f"+91 98{rng.randrange(10**8):08d}",
                    rng.choice(CITIES),
                    f"Loan {i}",
                    rng.choice(STAGES),
                    f"{rng.randrange(1, 100)},{rng.randrange(100):02d},000",
                    f"{rng.randrange(1, 28):02d}/{rng.randrange(1, 13):02d}/2025",
                    status,
                    "Closed by phone" if status != "Open" else "",
                    f"2025-01-{rng.randrange(1, 28):02d} 10:{rng.randrange(60):02d}",
                ]
            )


CHILD = r"""
import json, resource, sys, time
what, path = sys.argv[1], sys.argv[2]
# Imports happen before the clock starts: the figure compares the work, not start-up.
import pandas as pd
from importer.commands.validate import validate_file
started, cpu = time.perf_counter(), time.process_time()
if what == "baseline":
    rows = len(pd.read_csv(path, dtype=str, keep_default_na=False))
else:
    report = validate_file(path, sys.argv[3], report=sys.argv[4])
    rows = report.rows_read
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak, "rows": rows}))
"""


def bench_mapping(folder: Path) -> Path:
    """mappings/loan.yaml without its `note` line: the 12 columns written above."""
    text = LOAN_MAPPING.read_text()
    kept = [line for line in text.splitlines() if not line.startswith("note:")]
    path = folder / "bench.yaml"
    path.write_text("\n".join(kept) + "\n")
    return path


def measure(what: str, path: Path, report: Path) -> dict:
    mapping = bench_mapping(report.parent)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, what, str(path), str(mapping), str(report)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def paired(n: int, path: Path, report: Path) -> tuple[dict, dict, list[float], list[float]]:
    """n (baseline, validate) pairs run back to back; medians and every pair's ratios.

    The ratio of CPU seconds is printed beside the wall-clock one: on a machine shared
    with other work it moves much less, since waiting for a core is not counted.
    """
    bases, mine, ratios, cpu_ratios = [], [], [], []
    for _ in range(n):
        base = measure("baseline", path, report)
        ours = measure("validate", path, report)
        bases.append(base)
        mine.append(ours)
        ratios.append(ours["seconds"] / base["seconds"])
        cpu_ratios.append(ours["cpu"] / base["cpu"])

    def median(runs: list[dict]) -> dict:
        return {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "peak_mb": max(r["peak_mb"] for r in runs),
        }

    return median(bases), median(mine), ratios, cpu_ratios


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    big_rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "leads.csv"
        write_csv(data, rows)
        report = Path(tmp) / "leads.validation.xlsx"
        base, mine, ratios, cpu_ratios = paired(runs, data, report)
        print(f"{rows} rows x {len(HEADERS)} columns ({data.stat().st_size / 1e6:.0f} MB)")
        print(f"  read_csv(dtype=str): {base['seconds']:.2f} s, peak {base['peak_mb']:.0f} MB")
        print(f"  lsq-import validate: {mine['seconds']:.2f} s, peak {mine['peak_mb']:.0f} MB")
        shown = ", ".join(f"{ratio:.2f}" for ratio in ratios)
        print(
            f"  ratio: {statistics.median(ratios):.2f}x median of {runs} paired runs "
            f"({shown}) (target <= 2.5x)"
        )
        shown = ", ".join(f"{ratio:.2f}" for ratio in cpu_ratios)
        print(f"  CPU time ratio: {statistics.median(cpu_ratios):.2f}x median ({shown})")
        if big_rows:
            big = Path(tmp) / "big.csv"
            write_csv(big, big_rows, seed=2)
            result = measure("validate", big, Path(tmp) / "big.validation.xlsx")
            print(
                f"{big_rows} rows: validate {result['seconds']:.1f} s, "
                f"peak {result['peak_mb']:.0f} MB (ceiling 1024 MB)"
            )


if __name__ == "__main__":
    main()
