"""Stopping cleanly on SIGTERM and SIGINT (cron's `timeout`, `systemctl stop`, Ctrl-C).

An import stopped this way keeps its journal and writes its results workbook; the
same command resumes it. asyncio turns a SIGINT during `asyncio.run` into a clean
cancellation of the sending, so SIGTERM is simply made to behave like SIGINT.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

INTERRUPT_GRACE_SECONDS = 10.0  # after SIGTERM, how long the sending may take to wind down


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM does what Ctrl-C does (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process
        # Inside asyncio.run this reaches asyncio's own SIGINT handler, which cancels the
        # sending cleanly; outside it, Python's default handler raises KeyboardInterrupt.
        signal.raise_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class StopSignals:
    """SIGTERM/SIGINT: stop after the current step; during an import, interrupt it once.

    During an import SIGINT keeps Python's default handler, so `asyncio.run` cancels
    the sending cleanly and raises KeyboardInterrupt; SIGTERM is turned into that SIGINT,
    and into a second one (asyncio's hard stop) if the first has not ended it in time.
    """

    WATCHED = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.signalled = False
        self.interrupted = False
        self._previous: dict[int, Any] = {}
        self._escalation: threading.Timer | None = None
        self._active = threading.current_thread() is threading.main_thread()

    @property
    def requested(self) -> bool:
        return self.signalled or self.stop.is_set()

    def __enter__(self) -> StopSignals:
        if self._active:
            for signum in self.WATCHED:
                self._previous[signum] = signal.signal(signum, self._between_files)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    @contextlib.contextmanager
    def importing(self) -> Iterator[None]:
        if not self._active:
            yield
            return
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, self._during_import)
        try:
            yield
        finally:
            if self._escalation is not None:
                self._escalation.cancel()
            signal.signal(signal.SIGINT, self._between_files)
            signal.signal(signal.SIGTERM, self._between_files)

    def _between_files(self, signum: int, frame: FrameType | None) -> None:
        self._request_stop()

    def _during_import(self, signum: int, frame: FrameType | None) -> None:
        self._request_stop()
        if not self.interrupted:
            self.interrupted = True
            signal.raise_signal(signal.SIGINT)
            # A task that swallows its cancellation would keep us running until SIGKILL.
            self._escalation = threading.Timer(
                INTERRUPT_GRACE_SECONDS, os.kill, (os.getpid(), signal.SIGINT)
            )
            self._escalation.daemon = True
            self._escalation.start()

    def _request_stop(self) -> None:
        self.signalled = True
        # Event.set takes a lock the interrupted main thread may hold: set it from a thread.
        threading.Thread(target=self.stop.set, daemon=True).start()
