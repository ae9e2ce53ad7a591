"""Who is told when a nightly import needs a person: `--notify` / `LSQ_NOTIFY` targets and
the SMTP server of `LSQ_SMTP_URL`, parsed once with the rest of the settings.

A webhook URL is a secret (whoever has it can post to the channel), and so is the SMTP
password: both print as their host only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from importer.core.errors import ConfigError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SMTP_PORTS = {"smtp": 587, "smtps": 465}
_ADDRESS = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
_ANY_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
TARGET_FORMS = "https://…, http://127.0.0.1…, or mailto:ADDRESS[,ADDRESS…]"


class NotifyOn(StrEnum):
    """When a message is sent (`--notify-on`)."""

    PROBLEMS = "problems"  # rows not Success, a file in failed/, a run that could not run
    ALWAYS = "always"  # after every file, good ones too

    @classmethod
    def parse(cls, text: str) -> NotifyOn:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ConfigError(f'--notify-on must be "problems" or "always", not "{text}"') from None


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A chat incoming webhook (Slack, Teams, Google Chat) or any URL that takes a JSON POST."""

    url: str = field(repr=False)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "?"

    @property
    def secret(self) -> str:
        """The part of the URL that must never be shown: everything after the host."""
        parts = urlsplit(self.url)
        return self.url.split(parts.netloc, 1)[1] if parts.netloc else self.url

    def __str__(self) -> str:
        return f"webhook {self.host}"


@dataclass(frozen=True, slots=True)
class MailTarget:
    """`mailto:a@x,b@y`: one email per message to every address."""

    addresses: tuple[str, ...]

    def __str__(self) -> str:
        return "mail to " + ", ".join(self.addresses)


NotifyTarget = WebhookTarget | MailTarget


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """`LSQ_SMTP_URL`: `smtp://user:pass@host:587` (STARTTLS) or `smtps://user:pass@host:465`."""

    host: str
    port: int
    implicit_tls: bool
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""  # the From address (LSQ_SMTP_FROM); empty: the user, or lsq-import@host

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS

    def __str__(self) -> str:
        return f"SMTP server {self.host}:{self.port}"


def parse_targets(texts: list[str] | tuple[str, ...]) -> tuple[NotifyTarget, ...]:
    """Targets from `--notify` values or `LSQ_NOTIFY`'s comma-separated list.

    A comma also separates a mailto's addresses, so a piece without a scheme that looks like
    an address belongs to the mailto before it: `https://…,mailto:a@x,b@y` is two targets.
    """
    targets: list[NotifyTarget] = []
    for text in texts:
        for piece in (p.strip() for p in text.split(",")):
            if not piece:
                continue
            if not _ANY_SCHEME.match(piece) and targets and isinstance(targets[-1], MailTarget):
                targets[-1] = MailTarget((*targets[-1].addresses, _address(piece)))
                continue
            targets.append(parse_target(piece))
    return tuple(targets)


def parse_target(text: str) -> NotifyTarget:
    """One target; a malformed one is a `ConfigError` that shows no more than its host."""
    raw = text.strip()
    scheme = raw.split(":", 1)[0].lower() if ":" in raw else ""
    if scheme == "mailto":
        addresses = [a.strip() for a in unquote(raw.split(":", 1)[1]).split(",") if a.strip()]
        if not addresses:
            raise ConfigError(f'Notify target "{raw}" names no address: use mailto:ops@example.com')
        return MailTarget(tuple(_address(a) for a in addresses))
    if scheme in ("http", "https"):
        parts = urlsplit(raw)
        host = parts.hostname or ""
        if not host or not raw.lower().startswith(f"{scheme}://"):
            raise ConfigError(f'Notify target "{_shown(raw)}" has no host: use {TARGET_FORMS}')
        if scheme == "http" and host not in LOOPBACK_HOSTS:
            raise ConfigError(
                f"Notify target http://{host}/… is not encrypted: use https:// (plain http is "
                "accepted on 127.0.0.1 only)"
            )
        return WebhookTarget(raw)
    raise ConfigError(f'Notify target "{_shown(raw)}" is not understood: use {TARGET_FORMS}')


def parse_smtp_url(text: str, sender: str = "") -> SmtpServer:
    """`LSQ_SMTP_URL`; user and password may be percent-encoded (`p%40ss` for `p@ss`)."""
    parts = urlsplit(text.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    if scheme not in SMTP_PORTS or not parts.hostname or port == -1:
        raise ConfigError(
            f'LSQ_SMTP_URL "{scheme or "?"}://{parts.hostname or "?"}…" is not understood: use '
            "smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465"
        )
    if sender and not _ADDRESS.match(sender):
        raise ConfigError(f'LSQ_SMTP_FROM "{sender}" is not an email address')
    return SmtpServer(
        host=parts.hostname,
        port=port or SMTP_PORTS[scheme],
        implicit_tls=scheme == "smtps",
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        sender=sender,
    )


def check_mail_server(targets: tuple[NotifyTarget, ...], smtp: SmtpServer | None) -> None:
    """A mailto target needs LSQ_SMTP_URL: say so before any row is sent."""
    if smtp is None and any(isinstance(t, MailTarget) for t in targets):
        raise ConfigError(
            "A mailto: notify target needs LSQ_SMTP_URL (smtp://user:password@host:587 or "
            "smtps://user:password@host:465)"
        )


def _address(text: str) -> str:
    address = text.strip()
    if not _ADDRESS.match(address):
        raise ConfigError(f'Notify target mailto: "{address}" is not an email address')
    return address


def _shown(text: str) -> str:
    """A target as an error message may show it: scheme and host, never the path."""
    parts = urlsplit(text)
    if parts.netloc:
        return f"{parts.scheme}://{parts.hostname or ''}/…"
    return text if len(text) <= 12 else text[:12] + "…"
