"""How one page server is set up: built by the CLI from its flags, or by a test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from importer.core.config import Settings
from importer.core.errors import ConfigError

DEFAULT_MAX_UPLOAD_MB = 200
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class WebConfig:
    """Folders, LeadSquared settings (keys stay on the server), limits and defaults."""

    work_dir: Path
    mappings_dir: Path
    settings: Settings
    token: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    sheet: str | None = None  # the form's default sheet
    header_row: int | None = None  # the form's default header row
    mode: str = "async"
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]")
    sandbox: bool = False  # shown on the page, so nobody mistakes a trial for the real account
    address: str | None = None  # where the page is served (http://127.0.0.1:8000/), for messages

    def __repr__(self) -> str:  # the token must never reach a log through repr()
        return f"WebConfig(work_dir={self.work_dir!r}, mappings_dir={self.mappings_dir!r})"


def is_loopback(host: str) -> bool:
    return host.strip("[]").lower() in LOOPBACK_HOSTS


def hosts_for(host: str, token: str | None) -> tuple[str, ...]:
    """The Host names the page answers to: loopback names on 127.0.0.1, any name with a token.

    Binding another address without a token is refused: anyone on the network could import
    into the account.
    """
    if is_loopback(host):
        return ("127.0.0.1", "localhost", "[::1]")
    if not token:
        raise ConfigError(
            f"--host {host} makes the page reachable from other machines: set a token with "
            "--token or LSQ_UI_TOKEN, or leave --host at 127.0.0.1"
        )
    return ("*",)
