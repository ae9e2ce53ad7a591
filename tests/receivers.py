"""Real receivers for the notification tests: a webhook server and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Hook:
    """A webhook receiver: records every POST; answers `status` (after `delay` seconds)."""

    url: str
    status: int = 200
    delay: float = 0.0
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def webhook(path: str = "/hooks/T0SECRET/B0SECRET/xyzzy", **options: Any) -> Iterator[Hook]:
    """A threading http.server on 127.0.0.1 that keeps what it is sent."""
    hook: Hook

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with hook.lock:
                hook.raw.append(body)
                hook.paths.append(self.path)
                hook.posts.append(json.loads(body))
            if hook.delay:
                threading.Event().wait(hook.delay)
            self.send_response(hook.status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hook = Hook(url=f"http://127.0.0.1:{server.server_address[1]}{path}", **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def black_hole() -> Iterator[str]:
    """A port that accepts connections and never answers: a receiver that hangs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hooks/T0SECRET/B0SECRET/xyzzy"
    finally:
        sock.close()


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server received: one entry per message."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


class _Keeper:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = bytes(envelope.content)
        self.box.raw.append(content)
        self.box.recipients.append(list(envelope.rcpt_tos))
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.box.messages.append(message)
        return "250 Message accepted"


@contextmanager
def smtp_server(user: str = "", password: str = "", **options: Any) -> Iterator[Mailbox]:
    """aiosmtpd on 127.0.0.1: plain SMTP, AUTH LOGIN/PLAIN allowed without TLS (a test)."""
    box = Mailbox(port=closed_port())

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, secret = data.login.decode(), data.password.decode()
        box.logins.append((login, secret))
        return AuthResult(success=(login, secret) == (user, password))

    extra: dict[str, Any] = {}
    if user:
        extra = {"authenticator": authenticator, "auth_require_tls": False}
    controller = Controller(_Keeper(box), hostname="127.0.0.1", port=box.port, **extra, **options)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
