"""Stopping a run cleanly from the page: the requests already on their way come back and are
recorded; no new request leaves; then the run stops.

The library's own `cancel=` stops a run like Ctrl-C, cutting the requests in flight (their
rows are then sent again on resume, and LeadSquared's duplicate check has to catch them).
The page does better with the transport the library lets it inject (STYLE: inject the
transport): Cancel first closes a gate in front of every request, waits until none is in
flight, and only then sets the library's cancel event. A request that meets the closed
gate waits there until the run stops, or raises `Cancelled` itself where the library has
no `cancel=`. Every row is either answered and recorded, or was never sent, so a resumed
run sends nothing twice.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable

import httpx

from importer.core.errors import ImportCancelled
from importer.lsq.client import MAX_CONNECTIONS

CANCELLED_TEXT = "Cancelled. The import can be resumed: rows already sent will not be sent again"
SETTLE_SECONDS = 120.0  # longest wait for the requests in flight (each times out sooner)
POLL_SECONDS = 0.02


class Cancelled(ImportCancelled):
    """The page asked the run to stop; it can be resumed."""


class RunStop:
    """One run's stop switch, shared by the server's thread and the run's event loop."""

    def __init__(self) -> None:
        self.gate = threading.Event()  # set: no new request leaves
        self.library = threading.Event()  # set: the run itself is told to stop
        self.in_flight = 0  # changed only on the run's event loop

    @property
    def requested(self) -> bool:
        return self.gate.is_set()

    def request(self) -> None:
        """Close the gate now; tell the run to stop once nothing is in flight."""
        if self.gate.is_set():
            return
        self.gate.set()
        threading.Thread(target=self._hand_over, name="lsq-web-stop", daemon=True).start()

    def _hand_over(self) -> None:
        deadline = time.monotonic() + SETTLE_SECONDS
        while self.in_flight > 0 and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        self.library.set()


class _Counted(httpx.AsyncByteStream):
    """A response body that tells its transport when it has been read and closed."""

    def __init__(self, inner: httpx.AsyncByteStream, on_close: Callable[[], None]) -> None:
        self._inner = inner
        self._on_close: Callable[[], None] | None = on_close

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._on_close is not None:
                self._on_close()
                self._on_close = None


class StoppableTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, behind the gate of a `RunStop`.

    The body of a reply is read and closed before the client hands it to the pool, which
    records the row without yielding to the event loop: so `in_flight` reaching 0 means
    every answered row is recorded.
    """

    def __init__(self, stop: RunStop, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._stop = stop
        self._inner = inner or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
            )
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._stop.requested:
            while not self._stop.library.is_set():
                await asyncio.sleep(POLL_SECONDS)
            raise Cancelled(CANCELLED_TEXT)
        self._stop.in_flight += 1
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            self._stop.in_flight -= 1
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_Counted(response.stream, self._answered),
            extensions=response.extensions,
            request=request,
        )

    def _answered(self) -> None:
        self._stop.in_flight -= 1

    async def aclose(self) -> None:
        await self._inner.aclose()
