"""Serving the sandbox on 127.0.0.1: in a thread (tests, `run --sandbox`) or in the foreground."""

from __future__ import annotations

import logging
import shlex
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from importer.core.errors import PortBusy

from .app import create_app
from .config import SandboxConfig
from .faults import ReplyLost
from .simulator import Sandbox

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0


@dataclass
class RunningSandbox:
    """A sandbox being served, and how to point the importer at it."""

    base_url: str  # "http://127.0.0.1:PORT"
    sandbox: Sandbox
    config: SandboxConfig

    def env(self) -> dict[str, str]:
        """The LSQ_* settings that aim the importer at this sandbox (keys included)."""
        return {
            "LSQ_HOST": self.base_url,
            "LSQ_ASYNC_HOST": self.base_url,
            "LSQ_ACCESS_KEY": self.config.access_key,
            "LSQ_SECRET_KEY": self.config.secret_key,
            "LSQ_API_KEY": self.config.api_key,
        }


class _HideLostReplies(logging.Filter):
    """Uvicorn logs a dropped reply as an application error; it is a fault we asked for."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ReplyLost)


_HIDE_LOST_REPLIES = _HideLostReplies()


def _server(config: SandboxConfig) -> tuple[uvicorn.Server, Sandbox]:
    app = create_app(config)
    uvicorn_config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # the access log would print URLs, and URLs carry the keys
        lifespan="off",
        http="h11",  # the lost-reply fault relies on how h11 ends a broken reply
        timeout_graceful_shutdown=1,
    )
    error_logger = logging.getLogger("uvicorn.error")
    if _HIDE_LOST_REPLIES not in error_logger.filters:
        error_logger.addFilter(_HIDE_LOST_REPLIES)
    return uvicorn.Server(uvicorn_config), app.state.sandbox


def _bind(port: int) -> socket.socket:
    """Bind first, so port 0 yields a known free port before the server starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as error:
        sock.close()
        raise PortBusy.binding(HOST, port, error) from None
    sock.set_inheritable(True)
    return sock


@contextmanager
def serve_in_thread(config: SandboxConfig | None = None, port: int = 0) -> Iterator[RunningSandbox]:
    """Serve on 127.0.0.1 in a daemon thread until the block ends; port 0 = any free port."""
    config = config or SandboxConfig()
    sock = _bind(port)
    server, sandbox = _server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="lsq-sandbox", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread)
        base_url = f"http://{HOST}:{sock.getsockname()[1]}"
        yield RunningSandbox(base_url=base_url, sandbox=sandbox, config=config)
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_SECONDS)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("The sandbox server stopped while starting")
        if time.monotonic() > deadline:
            raise RuntimeError("The sandbox server did not start in time")
        time.sleep(0.01)


def run_forever(config: SandboxConfig, port: int, echo: Callable[[str], None] = print) -> None:
    """Print the LSQ_... lines a user pastes into a shell or .env, then serve until Ctrl-C."""
    sock = _bind(port)
    server, sandbox = _server(config)
    base_url = f"http://{HOST}:{sock.getsockname()[1]}"
    running = RunningSandbox(base_url=base_url, sandbox=sandbox, config=config)
    for name, value in running.env().items():
        echo(f"{name}={shlex.quote(value)}")
    echo(f"# LeadSquared sandbox on {base_url} (put `export ` before each line for a shell).")
    echo("# Press Ctrl-C to stop.")
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has shut down cleanly and re-raised the Ctrl-C for us
    finally:
        sock.close()
