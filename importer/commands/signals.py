"""Stopping cleanly on SIGTERM and SIGINT (cron's `timeout`, `systemctl stop`, Ctrl-C).

The first signal asks for a stop: nothing new is sent, calls under way are allowed
to answer (so no row is left "maybe sent"), the journal is kept and the results
workbook written; the same command resumes. A second signal stops at once.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any


class StopSignals:
    """Within the block, SIGTERM/SIGINT set `stop` (first) or interrupt (second).

    Outside the main thread, signals cannot be caught: the block then only offers `stop`.
    """

    WATCHED = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop or threading.Event()
        self.signalled = False
        self._previous: dict[int, Any] = {}
        self._active = threading.current_thread() is threading.main_thread()

    @property
    def requested(self) -> bool:
        return self.signalled or self.stop.is_set()

    def __enter__(self) -> StopSignals:
        if self._active:
            for signum in self.WATCHED:
                self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.signalled:
            for watched in self.WATCHED:  # a third signal gets the default: the process ends
                signal.signal(watched, signal.SIG_DFL)
            raise KeyboardInterrupt
        self.signalled = True
        # Event.set takes a lock the interrupted main thread may hold: set it from a thread.
        threading.Thread(target=self.stop.set, daemon=True).start()
