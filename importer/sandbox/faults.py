"""Injected faults: spurious 429s, 500s that do nothing, and replies lost after the work."""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

from .config import SandboxConfig


class ReplyLost(httpx.RemoteProtocolError):
    """The work was done but the reply never arrived.

    Over real HTTP the sandbox has already sent the status line and a
    Content-Length it never honours, so uvicorn closes the connection and the
    client sees a half reply. Through `httpx.ASGITransport` this exception
    reaches the client itself, as the transport error a lost reply is.
    """


@dataclass(frozen=True)
class FaultPlan:
    """What goes wrong with one call."""

    burst_429: bool = False
    error_500: bool = False
    error_untyped: bool = False  # the 500 comes without an ExceptionType
    drop: bool = False


NO_FAULT = FaultPlan()


class FaultDice:
    """Draws each call's faults from one seeded generator, so a seed replays a run."""

    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._rng = random.Random(config.seed)

    @property
    def active(self) -> bool:
        c = self._config
        return c.burst_429 > 0 or c.error_rate > 0 or c.drop_rate > 0

    def roll(self) -> FaultPlan:
        if not self.active:
            return NO_FAULT
        # Always three draws, in this order, so one fault's rate never shifts another's.
        burst, error, drop = (self._rng.random() for _ in range(3))
        error_rate = self._config.error_rate
        return FaultPlan(
            burst_429=burst < self._config.burst_429,
            error_500=error < error_rate,
            # Half the 500s name MXUnknownException, half no type, from the same draw.
            error_untyped=error_rate / 2 <= error < error_rate,
            drop=drop < self._config.drop_rate,
        )
