"""How fast and how lean the loader is, next to plain pandas.

    python benchmarks/bench_load.py [XLSX_ROWS] [CSV_ROWS] [BIG_CSV_ROWS]

Defaults: 100,000-row XLSX, 200,000-row CSV, 1,000,000-row CSV for peak memory.
Each measurement runs in its own subprocess so peak RSS (ru_maxrss) is its own;
imports happen before the clock starts.
Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = [
    "Email",
    "First Name",
    "Last Name",
    "Mobile",
    "City",
    "Opportunity Name",
    "Stage",
    "Loan Amount",
    "Status",
    "Status Comment",
    "Opportunity Date",
    "Notes",
]
STAGES = ["Prospecting", "New", "Qualified"]
STATUSES = ["Open", "Won", "Lost"]

# Runs inside the measuring subprocess; prints one JSON line.
MEASURE = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
kind, path = sys.argv[1], sys.argv[2]
import openpyxl, pandas as pd  # imports are not what is measured
from importer.io.tables import open_table
start = time.perf_counter()
rows = 0
if kind == "loader":
    for chunk in open_table(path).chunks():
        rows += len(chunk)
elif kind == "read_excel":
    rows = len(pd.read_excel(path, engine="openpyxl", dtype=str))
elif kind == "read_csv":
    rows = len(pd.read_csv(path, dtype=str))
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "rows": rows, "peak_mb": peak_mb}}))
"""


def row_values(i: int) -> list[object]:
    """One plausible lead: text, a phone stored as a number, a float, a real date."""
    return [
        f"lead{i}@example.com",
        f"First{i % 997}",
        f"Last{i % 991}",
        9_800_000_000 + i,
        ["Pune", "Mumbai", "Delhi", "Chennai"][i % 4],
        f"Home loan {i}",
        STAGES[i % 3],
        100_000 + (i % 5000) * 12.5,
        STATUSES[i % 3],
        "closed by phone" if i % 3 else "",
        dt.datetime(2024, 1, 1) + dt.timedelta(minutes=i),
        f"note {i}, with a comma",
    ]


def write_xlsx(path: Path, rows: int) -> None:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("Leads")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write_row(0, 0, COLUMNS)
    for i in range(rows):
        values = row_values(i)
        sheet.write_row(i + 1, 0, values[:10])
        sheet.write_datetime(i + 1, 10, values[10], date_format)
        sheet.write(i + 1, 11, values[11])
    workbook.close()


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(rows):
            values = row_values(i)
            values[10] = values[10].strftime("%Y-%m-%d %H:%M:%S")
            writer.writerow(values)


def measure(kind: str, path: Path) -> dict[str, float]:
    code = MEASURE.format(root=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", code, kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def compare(title: str, path: Path, baseline: str) -> None:
    ours = measure("loader", path)
    theirs = measure(baseline, path)
    ratio = theirs["seconds"] / ours["seconds"]
    print(f"{title}")
    print(f"  loader     {ours['seconds']:8.2f} s  {int(ours['rows']):>9,} rows")
    print(f"  {baseline:<10} {theirs['seconds']:8.2f} s  {int(theirs['rows']):>9,} rows")
    print(f"  speed-up   {ratio:8.1f}x")


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv[1:4]]
    xlsx_rows, csv_rows, big_rows = sizes + [100_000, 200_000, 1_000_000][len(sizes) :]
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        xlsx = tmp / "leads.xlsx"
        began = time.perf_counter()
        write_xlsx(xlsx, xlsx_rows)
        print(f"wrote {xlsx_rows:,}-row XLSX in {time.perf_counter() - began:.1f} s")
        compare(f"XLSX {xlsx_rows:,} rows x {len(COLUMNS)} columns", xlsx, "read_excel")

        small = tmp / "leads.csv"
        write_csv(small, csv_rows)
        compare(f"CSV {csv_rows:,} rows x {len(COLUMNS)} columns", small, "read_csv")

        big = tmp / "big.csv"
        write_csv(big, big_rows)
        size_mb = big.stat().st_size / 2**20
        ours = measure("loader", big)
        print(f"CSV {big_rows:,} rows ({size_mb:.0f} MB) through the loader")
        print(f"  {ours['seconds']:.2f} s, peak RSS {ours['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main(sys.argv)
