"""How the sandbox behaves: its made-up keys, its rate limit, its delays and its faults."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, fields
from typing import Any

from importer.core.constants import RATE_PLANS, RATE_WINDOW_SECONDS


def _made_up(kind: str) -> str:
    return f"sandbox-{kind}-{secrets.token_hex(6)}"


@dataclass
class SandboxConfig:
    """Settings of one simulated LeadSquared account.

    The keys are the sandbox's own, made up; `repr` hides them all the same so a
    config that reaches a log never carries anything that looks like a secret.
    """

    # Made up afresh for every sandbox: each start is a new, empty account (CONTRACT 6b).
    access_key: str = field(default_factory=lambda: _made_up("access"), repr=False)
    secret_key: str = field(default_factory=lambda: _made_up("secret"), repr=False)
    api_key: str = field(default_factory=lambda: _made_up("api"), repr=False)
    rate_limit: int = RATE_PLANS["enterprise"]  # calls per sliding window, per key
    rate_window: float = RATE_WINDOW_SECONDS
    async_delay: float = 1.0  # seconds an async request stays In-Queue
    latency: float = 0.0  # seconds added to every API answer
    error_rate: float = 0.0  # answered 500 without doing the work
    drop_rate: float = 0.0  # work done, reply lost (connection closed)
    burst_429: float = 0.0  # answered 429 although the window has room
    gateway_rate: float = 0.0  # work done, answered 504 with a gateway's HTML page
    seed: int | None = None  # makes the fault choices repeatable
    require_status_comment: bool = True  # mx_Custom_19 on Won/Lost
    # A new LeadSquared account has no duplicate rule: every processed capture creates an
    # opportunity. True turns on a rule on mx_Custom_1 per lead and opportunity type.
    duplicate_detection: bool = False

    def __post_init__(self) -> None:
        if self.rate_limit < 1:
            raise ValueError("rate_limit must be at least 1 call per window")
        if self.rate_window <= 0:
            raise ValueError("rate_window must be a positive number of seconds")
        for name in ("async_delay", "latency"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        for name in ("error_rate", "drop_rate", "burst_429", "gateway_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a fraction of calls: between 0 and 1")

    @classmethod
    def from_options(cls, **options: Any) -> SandboxConfig:
        """Build from CLI flags, where an option left out arrives as None."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"Unknown sandbox option(s): {', '.join(unknown)}")
        return cls(**{name: value for name, value in options.items() if value is not None})
