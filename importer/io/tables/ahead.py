"""The next chunk read on a thread of its own while the caller works on this one.

pandas' C parser splits a CSV into fields without holding the GIL, and the
kernel's share of reading (the file, fresh memory) needs no GIL either: with a
second core, that part of reading chunk N+1 overlaps the validation of chunk N.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar, cast

Item = TypeVar("Item")

_POLL_SECONDS = 0.05  # how often a reader blocked on a full queue looks for a stop


class _End:
    """Put after the last item."""


class _Failed:
    """Carries the reader's exception to the caller, raised there as it was."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterator[Item], depth: int = 1) -> Iterator[Item]:
    """`items` in order, at most `depth` of them read before the caller asks.

    Exceptions reach the caller where the item would have. A caller that stops
    early (break, an exception, close) stops the reader, which closes `items` on
    its own thread (so files it opened are closed) before this generator returns.
    """
    handed: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(entry: object) -> bool:
        while not stop.is_set():
            try:
                handed.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(_End())
        except BaseException as error:  # handed to the caller, raised there
            offer(_Failed(error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=read, name="lsq-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            entry = handed.get()
            if isinstance(entry, _End):
                return
            if isinstance(entry, _Failed):
                raise entry.error
            yield cast(Item, entry)
    finally:
        stop.set()
        reader.join()
