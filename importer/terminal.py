"""Progress on a terminal: a tqdm bar fed by the pool's progress protocol, after a line
saying how long the import will take."""

from __future__ import annotations

import sys
import time
from typing import Never

from tqdm import tqdm

from importer.core.estimate import ImportEstimate
from importer.core.outcomes import RowOutcome, RowStatus
from importer.core.progress import CallRecord, Progress


class EstimateLine(Progress):
    """Only the line before sending (`Importing the 219 ready rows takes about 1 min 30 s...`)."""

    def estimated(self, estimate: ImportEstimate) -> None:
        if estimate.rows:
            print(f"{estimate.sentence()}.", file=sys.stderr, flush=True)

    def stopping(self, calls_under_way: int) -> None:
        """Said at once when Ctrl-C or SIGTERM arrives: nothing new goes out from now."""
        under_way = f"{calls_under_way} call{'s' if calls_under_way != 1 else ''} under way"
        print(f"\nstopping: waiting for {under_way}", file=sys.stderr, flush=True)


class TerminalProgress(EstimateLine):
    """Rows finished on the bar; sent, failed, calls per second and 429s beside it."""

    def __init__(self, description: str = "Importing") -> None:
        self.description = description
        self.bar: tqdm[Never] | None = None
        self.sent_rows = 0
        self.failed = 0
        self.calls = 0
        self.throttled = 0
        self._started = time.monotonic()
        self._shown = 0.0

    def start(self, total: int) -> None:
        self._started = time.monotonic()
        self.bar = tqdm(
            total=total, unit="row", desc=self.description, file=sys.stderr, dynamic_ncols=True
        )

    def sent(self, row_number: int) -> None:
        self.sent_rows += 1

    def call(self, record: CallRecord) -> None:
        self.calls += 1

    def rate_limited(self) -> None:
        self.throttled += 1

    def finished(self, outcome: RowOutcome) -> None:
        if outcome.status not in (RowStatus.SUCCESS, RowStatus.PARTIAL_SUCCESS):
            self.failed += 1
        if self.bar is None:
            return
        self.bar.update(1)
        now = time.monotonic()
        if now - self._shown > 0.5:
            self._shown = now
            rate = self.calls / max(0.001, now - self._started)
            self.bar.set_postfix(
                sent=self.sent_rows,
                failed=self.failed,
                calls_s=f"{rate:.1f}",
                http429=self.throttled,
                refresh=False,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
