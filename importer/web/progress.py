"""Live progress of a run, fed by the pool's progress protocol from the run's thread and read
by the page's event stream from the server's: every method takes one small lock."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from importer.core.outcomes import Origin, RowOutcome, RowStatus
from importer.core.progress import CallRecord, Progress


@dataclass(frozen=True)
class Snapshot:
    """What the page shows while rows are being sent."""

    total: int
    done: int
    counts: dict[str, int]
    calls: int
    rate_limited: int
    rows_per_second: float
    seconds_left: float | None
    sent: int = 0  # rows sent by this run (a resumed run does not count what it found done)
    awaiting: int = 0  # ... of which LeadSquared's verdict has not come back yet
    origins: dict[str, int] = field(default_factory=dict)  # Success rows: new, already...
    started: bool = field(default=True)


class LiveProgress(Progress):
    """Counts rows done per status, calls and 429s; works out the pace and the time left.

    The pace counts only rows finished after this run's first send: rows a resumed run
    finds already done arrive all at once and say nothing about speed.
    """

    def __init__(
        self,
        total: int = 0,
        seed: dict[str, int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._seed = Counter(seed or {})
        self.total = total
        self.done = 0
        self.counts: Counter[str] = Counter()
        self.calls = 0
        self.throttled = 0
        self.sent_rows: set[int] = set()
        self.origins: Counter[str] = Counter()
        self._answered = 0
        self._first_sent: float | None = None
        self._done_at_first_sent = 0
        self._started = False

    # -- the pool's progress protocol ------------------------------------------------

    def start(self, total: int) -> None:
        with self._lock:
            self.total = total
            self._started = True

    def sent(self, row_number: int) -> None:
        with self._lock:
            self.sent_rows.add(row_number)
            if self._first_sent is None:
                self._first_sent = self._clock()
                self._done_at_first_sent = self.done

    def call(self, record: CallRecord) -> None:
        with self._lock:
            self.calls += 1

    def rate_limited(self) -> None:
        with self._lock:
            self.throttled += 1

    def finished(self, outcome: RowOutcome) -> None:
        with self._lock:
            self.done += 1
            self.counts[str(outcome.status)] += 1
            if outcome.status == RowStatus.SUCCESS:
                self.origins[str(outcome.origin or Origin.CREATED)] += 1
            if outcome.row_number in self.sent_rows:
                self._answered += 1

    def close(self) -> None:
        pass

    # -- what the page reads ---------------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self._lock:
            pace = 0.0
            if self._first_sent is not None:
                elapsed = self._clock() - self._first_sent
                finished_here = self.done - self._done_at_first_sent
                if elapsed > 0.5 and finished_here > 0:
                    pace = finished_here / elapsed
            remaining = max(0, self.total - self.done)
            left = remaining / pace if pace > 0 else None
            counts = self._seed + self.counts
            return Snapshot(
                total=self.total,
                done=min(self.done, self.total) if self.total else self.done,
                counts={str(s): counts.get(str(s), 0) for s in RowStatus},
                calls=self.calls,
                rate_limited=self.throttled,
                rows_per_second=pace,
                seconds_left=left if remaining else 0.0,
                sent=len(self.sent_rows),
                awaiting=len(self.sent_rows) - self._answered,
                origins=dict(self.origins),
                started=self._started,
            )
