"""Stopping a run cleanly from the page: the requests already on their way finish and are
recorded; no new request leaves.

The library takes an httpx transport (STYLE: inject the transport), so the page wraps the
real one: once the cancel event is set, the next request waits until none is in flight and
then raises `Cancelled` instead of going out. Every row is then either answered and recorded,
or was never sent, so a resumed run sends nothing twice.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable

import httpx

from importer.core.errors import UserError
from importer.lsq.client import MAX_CONNECTIONS

CANCELLED_TEXT = "Cancelled. The import can be resumed: rows already sent will not be sent again"
# Wait at most this long for the requests in flight to come back (a request times out sooner).
SETTLE_SECONDS = 120.0


class Cancelled(UserError):
    """The user (or a stopping server) asked the run to stop; it can be resumed."""


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
    """httpx's own transport, with a gate that closes when `cancel` is set."""

    def __init__(
        self, cancel: threading.Event, inner: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._cancel = cancel
        self._inner = inner or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
            )
        )
        self._in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._cancel.is_set():
            await self._settle()
            raise Cancelled(CANCELLED_TEXT)
        self._in_flight += 1
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            self._in_flight -= 1
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
        self._in_flight -= 1

    async def _settle(self) -> None:
        """Let the requests in flight come back: their rows get recorded before the run stops."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while self._in_flight > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    async def aclose(self) -> None:
        await self._inner.aclose()
