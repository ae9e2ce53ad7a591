"""Settings as one frozen value, built once from flags, environment and `.env`.

Nothing below the CLI reads `os.environ`; everything gets a `Settings`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from dotenv import dotenv_values

from importer.core.constants import DEFAULT_PATHS, DEFAULT_RATE, RATE_PLANS, RATE_WINDOW_SECONDS
from importer.core.errors import ConfigError
from importer.core.recipients import (
    NotifyOn,
    NotifyTarget,
    SmtpServer,
    WebhookTarget,
    check_mail_server,
    parse_smtp_url,
    parse_targets,
)
from importer.core.state_url import StateUrl

ENV_PREFIX = "LSQ_"
STATE_HOME_PARTS = (".local", "state", "lsq-import")  # CONTRACT 6b: ~/.local/state/lsq-import/
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*$", re.IGNORECASE)


class Mode(StrEnum):
    """Which Capture API a run uses; also names the rate window a call counts against."""

    ASYNC = "async"  # queue, then the Status API (2 calls per row)
    SYNC = "sync"  # one call per row, LeadSquared's verdict in the reply

    @classmethod
    def parse(cls, text: str) -> Mode:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ConfigError(f'--mode must be "async" or "sync", not "{text}"') from None


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `calls` calls in any sliding window of `seconds`."""

    calls: int
    seconds: float = RATE_WINDOW_SECONDS

    @classmethod
    def parse(cls, text: str) -> Rate:
        """Accept `25/5s`, `25/5` or a plan name (`enterprise`, `Pro`, ...)."""
        raw = text.strip()
        plan = RATE_PLANS.get(raw.lower())
        if plan is not None:
            return cls(plan, RATE_WINDOW_SECONDS)
        match = _RATE_RE.match(raw)
        if not match or int(match.group(1)) < 1 or float(match.group(2)) <= 0:
            plans = ", ".join(RATE_PLANS)
            raise ConfigError(
                f'Rate "{text}" is not understood: use CALLS/SECONDSs such as 25/5s, '
                f"or a plan name ({plans})"
            )
        return cls(int(match.group(1)), float(match.group(2)))

    def __str__(self) -> str:
        return f"{self.calls}/{self.seconds:g}s"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where LeadSquared is, how to authenticate, and how hard to push it."""

    host: str = ""
    async_host: str = ""
    access_key: str = ""
    secret_key: str = ""
    api_key: str = ""
    rate: Rate = field(default_factory=lambda: Rate.parse(DEFAULT_RATE))
    paths: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PATHS))
    timeout: float = 30.0
    poll_timeout: float = 600.0
    workers: int = 8
    max_attempts: int = 6
    # Per-account state shared by every process: the ledger and the rate budget (CONTRACT 6b, 8).
    state_home: Path = field(default_factory=lambda: Path.home().joinpath(*STATE_HOME_PARTS))
    # A run's claims live this long unless it renews them (CONTRACT 6b); a dead run's rows
    # are taken over by another after at most this long.
    lease_seconds: float = 60.0
    # LSQ_STATE_URL: that state in PostgreSQL, shared by machines ("" = the files above).
    # It holds a password: never in repr() or any message (see `core.state_url`).
    state_url: str = ""
    # LSQ_DAILY_LIMIT: calls per account per UTC day, across processes and machines.
    daily_limit: int | None = None
    # Who is told when an import needs a person (LSQ_NOTIFY / --notify), and when.
    notify: tuple[NotifyTarget, ...] = ()
    notify_on: NotifyOn = NotifyOn.PROBLEMS
    notify_timeout: float = 10.0  # per message, every attempt included
    smtp: SmtpServer | None = None

    def __repr__(self) -> str:  # keys must never reach a log through repr()
        return (
            f"Settings(host={self.host!r}, async_host={self.async_host!r}, "
            f"rate={self.rate}, workers={self.workers})"
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value no output may show: keys, the SMTP password, webhook paths."""
        hooks = tuple(t.secret for t in self.notify if isinstance(t, WebhookTarget))
        password = (self.smtp.password,) if self.smtp else ()
        return (self.access_key, self.secret_key, self.api_key, *password, *hooks)

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def require(self, *, sync: bool, asynchronous: bool) -> None:
        """Fail with one clear line when what the chosen mode needs is missing."""
        needed = ["LSQ_ACCESS_KEY", "LSQ_SECRET_KEY"]
        if sync:
            needed.append("LSQ_HOST")
        if asynchronous:
            needed += ["LSQ_ASYNC_HOST", "LSQ_API_KEY"]
        values = {
            "LSQ_HOST": self.host,
            "LSQ_ASYNC_HOST": self.async_host,
            "LSQ_ACCESS_KEY": self.access_key,
            "LSQ_SECRET_KEY": self.secret_key,
            "LSQ_API_KEY": self.api_key,
        }
        missing = [name for name in needed if not values[name]]
        if missing:
            raise ConfigError(
                "Missing " + ", ".join(missing) + ": set them in the environment or a .env "
                "file in this folder (or use --sandbox to try the built-in simulator)"
            )


def parse_daily_limit(text: str) -> int:
    """LSQ_DAILY_LIMIT: a positive whole number of calls (`5000`, `5,000` or `5_000`)."""
    digits = text.strip().replace(",", "").replace("_", "")
    if not (digits.isascii() and digits.isdigit()) or int(digits) < 1:
        raise ConfigError(
            f'LSQ_DAILY_LIMIT must be a positive whole number of calls per day, not "{text}"'
        )
    return int(digits)


def read_environment(
    environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> dict[str, str]:
    """LSQ_* values from `.env` in `cwd`, overridden by the real environment."""
    env_file = (cwd or Path.cwd()) / ".env"
    merged: dict[str, str] = {}
    if env_file.is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    return {k: v for k, v in merged.items() if k.startswith(ENV_PREFIX)}


def settings_from_env(
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    **overrides: object,
) -> Settings:
    """Build Settings from the environment (and `.env`), then flags in `overrides`."""
    env = read_environment(environ, cwd)
    paths = dict(DEFAULT_PATHS)
    for name in DEFAULT_PATHS:
        override = env.get(f"LSQ_PATH_{name.upper()}")
        if override:
            paths[name] = override if override.startswith("/") else "/" + override
    values: dict[str, object] = {
        "host": env.get("LSQ_HOST", "").strip().rstrip("/"),
        "async_host": env.get("LSQ_ASYNC_HOST", "").strip().rstrip("/"),
        "access_key": env.get("LSQ_ACCESS_KEY", "").strip(),
        "secret_key": env.get("LSQ_SECRET_KEY", "").strip(),
        "api_key": env.get("LSQ_API_KEY", "").strip(),
        "rate": Rate.parse(env.get("LSQ_RATE") or DEFAULT_RATE),
        "paths": paths,
    }
    if env.get("LSQ_STATE_HOME", "").strip():
        values["state_home"] = Path(env["LSQ_STATE_HOME"].strip()).expanduser()
    if env.get("LSQ_LEASE_SECONDS", "").strip():
        values["lease_seconds"] = _positive_seconds("LSQ_LEASE_SECONDS", env["LSQ_LEASE_SECONDS"])
    if env.get("LSQ_STATE_URL", "").strip():
        values["state_url"] = StateUrl.parse(env["LSQ_STATE_URL"]).url
    if env.get("LSQ_DAILY_LIMIT", "").strip():
        values["daily_limit"] = parse_daily_limit(env["LSQ_DAILY_LIMIT"])
    values.update(_notify_values(env))
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "rate" and isinstance(value, str):
            value = Rate.parse(value)
        if key == "notify" and isinstance(value, list | tuple):
            if not value:
                continue  # no --notify given: LSQ_NOTIFY stands
            value = parse_targets([str(v) for v in value])
        if key == "notify_on" and isinstance(value, str):
            value = NotifyOn.parse(value)
        values[key] = value
    settings = Settings(**values)  # type: ignore[arg-type]
    check_mail_server(settings.notify, settings.smtp)
    return settings


def _notify_values(env: Mapping[str, str]) -> dict[str, object]:
    """LSQ_NOTIFY, LSQ_NOTIFY_ON, LSQ_NOTIFY_TIMEOUT, LSQ_SMTP_URL and LSQ_SMTP_FROM."""
    values: dict[str, object] = {"notify": parse_targets([env.get("LSQ_NOTIFY", "")])}
    if env.get("LSQ_NOTIFY_ON", "").strip():
        values["notify_on"] = NotifyOn.parse(env["LSQ_NOTIFY_ON"])
    if env.get("LSQ_NOTIFY_TIMEOUT", "").strip():
        text = env["LSQ_NOTIFY_TIMEOUT"].strip()
        try:
            timeout = float(text)
        except ValueError:
            timeout = 0.0
        if not 0 < timeout <= 300:
            raise ConfigError(
                f'LSQ_NOTIFY_TIMEOUT "{text}" must be a number of seconds above 0, at most 300'
            )
        values["notify_timeout"] = timeout
    if env.get("LSQ_SMTP_URL", "").strip():
        values["smtp"] = parse_smtp_url(env["LSQ_SMTP_URL"], env.get("LSQ_SMTP_FROM", "").strip())
    return values


def _positive_seconds(name: str, text: str) -> float:
    try:
        seconds = float(text.strip())
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ConfigError(f'{name} must be a number of seconds above 0, not "{text.strip()}"')
    return seconds
