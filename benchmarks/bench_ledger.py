"""What the account ledger costs per row: SQLite file against PostgreSQL (issue 20).

A renamed re-drop of a file already imported: every row is looked up and found
`done`, nothing is sent. Measures, on both stores in one run, the ledger's decision for
N rows as the pool makes it (one read per batch of 64 rows), and for comparison one
claim transaction per row (what a row not yet known costs), then prints the seconds
and the ratios. PostgreSQL comes from Debian's package, started in a temporary
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
from importer.send.pool import JOB_BATCH
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


def decide_all(ledger: Ledger, keys: list[str]) -> tuple[float, float]:
    """Seconds for a renamed file's run to learn that no row is to be sent: in batches as
    the pool does, and per row with a claim each (on the first tenth of the rows)."""
    with PreviousImports(
        ledger, run="tuesday", file="tuesday.csv", operation="capture", labels={}
    ) as previous:
        started = time.perf_counter()
        for start in range(0, len(keys), JOB_BATCH):
            batch = keys[start : start + JOB_BATCH]
            assert len(previous.already_done(batch)) == len(batch)
        batched = time.perf_counter() - started
        tenth = keys[: max(1, len(keys) // 10)]
        started = time.perf_counter()
        for i, key in enumerate(tenth):
            previous.decide(key, i + 2, {})
        per_claim = (time.perf_counter() - started) / len(tenth)
        return batched, per_claim


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    keys = identities(rows)
    with tempfile.TemporaryDirectory() as tmp:
        with Ledger.at(Path(tmp) / "ledger.sqlite") as ledger:
            fill(ledger, keys)
            sqlite_seconds, sqlite_claim = decide_all(ledger, keys)
        print(f"SQLite:     {rows:,} rows decided in {sqlite_seconds:.1f} s "
              f"({sqlite_seconds / rows * 1e6:.0f} µs per row); a claim per row costs "
              f"{sqlite_claim * 1e6:.0f} µs")  # fmt: skip
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
                pg_seconds, pg_claim = decide_all(ledger, keys)
        finally:
            cluster.remove()
        print(f"PostgreSQL: {rows:,} rows decided in {pg_seconds:.1f} s "
              f"({pg_seconds / rows * 1e6:.0f} µs per row), {pg_seconds / sqlite_seconds:.1f}x "
              f"SQLite; a claim per row costs {pg_claim * 1e6:.0f} µs, "
              f"{pg_claim / sqlite_claim:.1f}x SQLite")  # fmt: skip


if __name__ == "__main__":
    main()
