"""Pacing of the worker pool against the sandbox: 120 ms latency, the real 25/5s limit.

Prints, for sync and async mode, the share of the rate limit used (accepted calls
per second / allowed calls per second, measured in this run), calls per row and the
share of calls answered 429; then how fast a 401 stops a run. Targets (issue 4):
sync >= 0.9 of the limit, <= 1.05 calls/row, <= 1% 429s; async >= 0.9 of the limit,
<= 2.2 calls/row, <= 1% 429s; 401 stops within 5 s after at most 2 calls.

    python benchmarks/bench_run.py [ROWS_SYNC] [ROWS_ASYNC]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from importer.core.config import Rate, Settings
from importer.core.errors import AuthError
from importer.io.journal import Journal
from importer.lsq.client import LeadSquaredClient
from importer.sandbox import SandboxConfig, serve_in_thread
from importer.send.pool import ImportPool, Job

LATENCY = 0.12
RATE = Rate(25, 5.0)


def body(i: int) -> dict:
    return {
        "LeadDetails": [
            {"Attribute": "EmailAddress", "Value": f"bench{i}@example.com"},
            {"Attribute": "SearchBy", "Value": "EmailAddress"},
        ],
        "Opportunity": {
            "OpportunityEventCode": 12000,
            "Fields": [{"SchemaName": "mx_Custom_1", "Value": f"Bench {i}"}],
        },
    }


def measure(mode: str, rows: int, *, async_delay: float = 2.0, secret: str | None = None) -> dict:
    config = SandboxConfig(latency=LATENCY, async_delay=async_delay)
    with serve_in_thread(config) as running:
        env = running.env()
        settings = Settings(
            host=env["LSQ_HOST"],
            async_host=env["LSQ_ASYNC_HOST"],
            access_key=env["LSQ_ACCESS_KEY"],
            secret_key=secret or env["LSQ_SECRET_KEY"],
            api_key=env["LSQ_API_KEY"],
            rate=RATE,
        )
        calls: list = []
        with tempfile.TemporaryDirectory() as tmp:

            async def go() -> dict:
                async with LeadSquaredClient(settings, on_call=calls.append) as client:
                    with Journal(Path(tmp) / "bench.sqlite") as journal:
                        pool = ImportPool(client, journal, settings, mode=mode)  # type: ignore[arg-type]
                        return await pool.run([Job(i, body(i)) for i in range(rows)], {})

            started = time.monotonic()
            error = None
            try:
                outcomes = asyncio.run(go())
            except AuthError as exc:
                outcomes, error = {}, exc
            elapsed = time.monotonic() - started
    codes = Counter(c.status_code for c in calls)
    accepted = len(calls) - codes[429]
    return {
        "mode": mode,
        "rows": rows,
        "seconds": elapsed,
        "calls": len(calls),
        "limit_used": accepted / elapsed / (RATE.calls / RATE.seconds),
        # the first window's burst is free; without it the figure is the steady pace
        "steady_used": (accepted - RATE.calls) / elapsed / (RATE.calls / RATE.seconds),
        "calls_per_row": len(calls) / rows,
        "share_429": codes[429] / max(1, len(calls)),
        "statuses": Counter(str(o.status) for o in outcomes.values()),
        "error": type(error).__name__ if error else None,
    }


def main() -> None:
    rows_sync = int(sys.argv[1]) if len(sys.argv) > 1 else 250
    rows_async = int(sys.argv[2]) if len(sys.argv) > 2 else 250
    print(f"sandbox latency {LATENCY * 1000:.0f} ms, limit {RATE}")
    for mode, rows in (("sync", rows_sync), ("async", rows_async)):
        r = measure(mode, rows)
        print(
            f"{mode:5}: {rows} rows in {r['seconds']:.1f} s; limit used {r['limit_used']:.3f} "
            f"(steady {r['steady_used']:.3f}); "
            f"{r['calls_per_row']:.3f} calls/row; 429s {r['share_429']:.2%}; {dict(r['statuses'])}"
        )
    r = measure("async", 50, secret="wrong-secret")
    print(f"401  : stopped after {r['seconds']:.2f} s and {r['calls']} call(s) ({r['error']})")


if __name__ == "__main__":
    main()
