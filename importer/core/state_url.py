"""LSQ_STATE_URL read once: where the shared state lives, and how to name it without the password.

Every message about the state database names it by `where` (`host:port/db`); `scrub` takes
the password out of any text a driver hands back, in case it ever echoes the URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from importer.core.errors import ConfigError

SCHEMES = ("postgresql", "postgres")
DEFAULT_PORT = 5432


@dataclass(frozen=True)
class StateUrl:
    """A parsed `postgresql://user:pass@host:5432/db`; its repr shows no password."""

    url: str = field(repr=False)
    host: str
    port: int
    database: str
    user: str
    password: str = field(repr=False, default="")

    @classmethod
    def parse(cls, text: str) -> StateUrl:
        """Accept what libpq accepts as a URL; refuse anything else naming LSQ_STATE_URL."""
        raw = text.strip()
        try:
            parts = urlsplit(raw)
            port = parts.port
        except ValueError:
            raise ConfigError(
                "LSQ_STATE_URL is not a URL such as postgresql://user:password@host:5432/db "
                f"({_shown(raw)})"
            ) from None
        if parts.scheme.lower() not in SCHEMES:
            scheme = parts.scheme or "none"
            raise ConfigError(
                f'LSQ_STATE_URL must start with postgresql:// (scheme "{scheme}" is not '
                "supported); leave it unset to keep the state in files under LSQ_STATE_HOME"
            )
        query = parse_qs(parts.query)
        host = parts.hostname or (query.get("host") or ["localhost"])[0]
        password = unquote(parts.password or "") or (query.get("password") or [""])[0]
        user = unquote(parts.username or "") or (query.get("user") or [""])[0]
        database = unquote(parts.path.lstrip("/")) or (query.get("dbname") or [user])[0]
        return cls(raw, host, port or DEFAULT_PORT, database, user, password)

    @property
    def where(self) -> str:
        """`host:port/db`: what every message says."""
        return f"{self.host}:{self.port}/{self.database}"

    def scrub(self, text: str) -> str:
        """`text` with the password (as typed, and decoded) replaced by `***`."""
        for secret in {self.password, _raw_password(self.url)}:
            if secret:
                text = text.replace(secret, "***")
        return text


def _raw_password(url: str) -> str:
    """The password as typed in the URL, before percent-decoding."""
    netloc = urlsplit(url).netloc
    userinfo = netloc.rpartition("@")[0]
    return userinfo.partition(":")[2]


def _shown(raw: str) -> str:
    """A malformed URL as it can be shown: everything before the host's `@` masked."""
    scheme, sep, rest = raw.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    return f"{scheme}{sep}{rest}"
