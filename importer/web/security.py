"""Who may use the page, and from where.

- Host check: on 127.0.0.1 only the loopback names are answered (a web site that points
  its own name at 127.0.0.1 cannot read the page).
- Token: when the page is reachable from other machines, the first visit asks for the
  token once and keeps a derived value (never the token) in an HttpOnly, SameSite=Strict
  cookie. Scripts may send `Authorization: Bearer TOKEN` instead.
- CSRF: every POST carries a token the page embeds (form field `csrf` or header
  `X-CSRF-Token`), and a POST from another origin is refused outright.
- Headers: a content security policy that allows only the page's own scripts and styles.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "lsq_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
OPEN_PATHS = ("/login", "/static/", "/colours.css")
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class Keys:
    """The values derived from the work folder's secret: CSRF token and session cookie."""

    def __init__(self, secret: bytes, token: str | None) -> None:
        self._secret = secret
        self.token = token or None
        self.csrf = self._derive("csrf")

    def _derive(self, purpose: str) -> str:
        return hmac.new(self._secret, purpose.encode(), hashlib.sha256).hexdigest()[:40]

    def csrf_ok(self, value: str | None) -> bool:
        return bool(value) and hmac.compare_digest(str(value), self.csrf)

    def token_ok(self, value: str | None) -> bool:
        return (
            self.token is not None
            and bool(value)
            and hmac.compare_digest(str(value).encode(), self.token.encode())
        )

    def session_value(self) -> str:
        """What the cookie holds: bound to the token, so a new token logs everyone out."""
        return self._derive(f"session:{self.token}")

    def session_ok(self, value: str | None) -> bool:
        return bool(value) and hmac.compare_digest(str(value), self.session_value())


class Guard:
    """ASGI middleware in front of every route: host, token, origin and response headers."""

    def __init__(self, app: ASGIApp, keys: Keys, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.keys = keys
        self.allowed_hosts = {h.lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _with_headers(refusal)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope, headers: Headers) -> Response | None:
        if "*" not in self.allowed_hosts and _host_name(headers.get("host", "")) not in (
            self.allowed_hosts
        ):
            return PlainTextResponse("This page answers only on its own address.", 400)
        path: str = scope["path"]
        method: str = scope["method"]
        if method == "POST" and not _same_origin(headers):
            return PlainTextResponse("Refused: this form was sent from another site.", 403)
        if self.keys.token is None or path.startswith(OPEN_PATHS):
            return None
        if self._signed_in(headers):
            return None
        if path.startswith("/api/"):
            return JSONResponse({"error": "sign in with the page's token"}, 401)
        wanted = path + (f"?{scope['query_string'].decode()}" if scope.get("query_string") else "")
        return RedirectResponse(f"/login?next={quote(wanted, safe='')}", 303)

    def _signed_in(self, headers: Headers) -> bool:
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            return self.keys.token_ok(authorization[7:].strip())
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE and self.keys.session_ok(value):
                return True
        return False


def _with_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS:
        response.headers[name.decode()] = value.decode()
    return response


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _same_origin(headers: Headers) -> bool:
    """A browser names the page that sent a POST in Origin; it must be this very address."""
    origin = headers.get("origin")
    if origin is None or origin == "null":
        return origin is None  # no Origin: not a browser form (scripts still need the CSRF token)
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site only."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
