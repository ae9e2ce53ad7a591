"""Serving the page with uvicorn: in the foreground for `lsq-import serve`, in a thread for tests.

The socket is bound before uvicorn starts, so a busy port is one plain sentence, and the
address is announced only once the server accepts connections.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from importer.core.errors import PortBusy
from importer.web.app import Page, create_app
from importer.web.config import WebConfig

START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 30.0


@dataclass
class RunningPage:
    """A page being served, for tests and scripts."""

    url: str
    app: Starlette
    server: uvicorn.Server
    thread: threading.Thread


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as error:
        sock.close()
        raise PortBusy.binding(host, port, error) from None
    sock.set_inheritable(True)
    return sock


def url_of(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if ":" in host.strip("[]") else host
    return f"http://{shown}:{port}/"


def _addressed(config: WebConfig, host: str, sock: socket.socket) -> WebConfig:
    """The config with the page's address, for the messages that link to an import; none
    when the page listens on every interface (no one address reaches it)."""
    if host.strip("[]") in ("0.0.0.0", "::", ""):
        return config
    return replace(config, address=url_of(host, sock))


class _PageServer(uvicorn.Server):
    """uvicorn, telling the page first when Ctrl-C (or SIGTERM) arrives.

    uvicorn waits for open connections before it runs the app's shutdown; the page's live
    event streams would hold it, and its runs would go on sending meanwhile.
    """

    def __init__(self, app: Starlette) -> None:
        super().__init__(
            uvicorn.Config(
                app,
                log_level="warning",
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=3,
            )
        )
        self.app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # The page first; then uvicorn (a second Ctrl-C still forces the exit, as uvicorn does).
        page: Page = self.app.state.page
        page.begin_stopping()
        super().handle_exit(sig, frame)

    def stop(self) -> None:
        page: Page = self.app.state.page
        page.begin_stopping()
        self.should_exit = True


def _server(app: Starlette) -> _PageServer:
    return _PageServer(app)


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("The page's server stopped while starting")
        if time.monotonic() > deadline:
            raise RuntimeError("The page's server did not start in time")
        time.sleep(0.01)


@contextmanager
def serve_in_thread(
    config: WebConfig, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningPage]:
    """Serve in a daemon thread until the block ends; leaving it stops the page's runs cleanly."""
    sock = bind(host, port)
    app = create_app(_addressed(config, host, sock))
    server = _server(app)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="lsq-web", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread)
        yield RunningPage(url_of(host, sock), app, server, thread)
    finally:
        server.stop()
        thread.join(STOP_TIMEOUT_SECONDS)
        sock.close()


def serve_forever(config: WebConfig, host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve until Ctrl-C; `announce` gets the address once connections are accepted."""
    sock = bind(host, port)
    server = _server(create_app(_addressed(config, host, sock)))
    url = url_of(host, sock)

    def tell_when_ready() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.02)
        if server.started:
            announce(url)

    threading.Thread(target=tell_when_ready, name="lsq-web-ready", daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has shut down (and stopped the runs) before re-raising Ctrl-C
    finally:
        sock.close()
