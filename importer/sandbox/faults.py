"""Injected faults: spurious 429s, 500s that do nothing, replies lost after the work, and
504 gateway pages after the work."""

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
    gateway_504: bool = False  # processed, then a gateway's 504 page instead of the answer


NO_FAULT = FaultPlan()


class FaultDice:
    """Draws each call's faults from one seeded generator, so a seed replays a run."""

    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._rng = random.Random(config.seed)

    @property
    def active(self) -> bool:
        c = self._config
        return c.burst_429 > 0 or c.error_rate > 0 or c.drop_rate > 0 or c.gateway_rate > 0

    def roll(self) -> FaultPlan:
        if not self.active:
            return NO_FAULT
        c = self._config
        # Always three draws, in this order, so one fault's rate never shifts another's.
        burst, error, drop = (self._rng.random() for _ in range(3))
        # The gateway fault came later: its fourth draw is made only when it is on, so a
        # seed chosen before it existed replays the same sequence.
        gateway = self._rng.random() if c.gateway_rate > 0 else 1.0
        return FaultPlan(
            burst_429=burst < c.burst_429,
            error_500=error < c.error_rate,
            # Half the 500s name MXUnknownException, half no type, from the same draw.
            error_untyped=c.error_rate / 2 <= error < c.error_rate,
            drop=drop < c.drop_rate,
            gateway_504=gateway < c.gateway_rate,
        )
