"""What the account ledger costs per row: SQLite file against PostgreSQL (issue 20).

A renamed re-drop of a file already imported: every row is looked up and found
`done`, nothing is sent. Measures the ledger's decision for N rows (one claim
transaction each, as the pool makes them) on both stores in one run, and prints the
seconds and the ratio. PostgreSQL comes from Debian's package, started in a temporary
folder like the tests do (the benchmark is skipped without it).

    python benchmarks/bench_ledger.py [ROWS]
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from pathlib import Path

from importer.io.ledger import Ledger
from importer.io.state.db import PostgresDB
from importer.io.state.postgres import PostgresStore
from importer.send.previous import PreviousImports

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pg_cluster import Cluster, binaries  # noqa: E402


def identities(rows: int) -> list[str]:
    return [hashlib.sha256(f"row {i}".encode()).hexdigest() for i in range(rows)]


def fill(ledger: Ledger, keys: list[str]) -> None:
    """Yesterday's import: every row done."""
    with ledger.db.transaction() as tx:
        for i, key in enumerate(keys):
            tx.execute(
                "INSERT INTO ledger_rows (account, identity, state, owner, opportunity_id, "
                "status, file, row_number, operation, sent_values, updated_at) "
                "VALUES (?, ?, 'done', ?, ?, 'Success', 'monday.csv', ?, 'capture', '{}', ?)",
                (ledger.account, key, f"monday#{i + 2}", f"opp-{i}", i + 2, time.time()),
            )


def decide_all(ledger: Ledger, keys: list[str]) -> float:
    """Seconds for a renamed file's run to learn that no row is to be sent."""
    with PreviousImports(
        ledger, run="tuesday", file="tuesday.csv", operation="capture", labels={}
    ) as previous:
        started = time.perf_counter()
        for i, key in enumerate(keys):
            previous.decide(key, i + 2, {})
        return time.perf_counter() - started


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    keys = identities(rows)
    with tempfile.TemporaryDirectory() as tmp:
        with Ledger.at(Path(tmp) / "ledger.sqlite") as ledger:
            fill(ledger, keys)
            sqlite_seconds = decide_all(ledger, keys)
        print(f"SQLite:     {rows:,} rows decided in {sqlite_seconds:.1f} s "
              f"({sqlite_seconds / rows * 1e6:.0f} µs per row)")  # fmt: skip
        bin_dir = binaries()
        if bin_dir is None:
            print("PostgreSQL: not installed (apt-get install postgresql); skipped")
            return
        cluster = Cluster(bin_dir)
        cluster.start()
        try:
            url = cluster.create_database("bench_ledger")
            with Ledger(PostgresDB(PostgresStore(url)), "bench-account") as ledger:
                fill(ledger, keys)
                pg_seconds = decide_all(ledger, keys)
        finally:
            cluster.stop()
        print(f"PostgreSQL: {rows:,} rows decided in {pg_seconds:.1f} s "
              f"({pg_seconds / rows * 1e6:.0f} µs per row), "
              f"{pg_seconds / sqlite_seconds:.1f}x SQLite")  # fmt: skip


if __name__ == "__main__":
    main()
