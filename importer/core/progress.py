"""What a run tells whoever watches it, and what it counts.

The library is silent: the CLI plugs a tqdm bar into `Progress`, the web page its
live counters, a scheduler its logger; tests plug nothing (the no-op base).
"""

from __future__ import annotations

from dataclasses import dataclass

from importer.core.estimate import ImportEstimate
from importer.core.outcomes import RowOutcome


@dataclass(frozen=True)
class CallRecord:
    """One HTTP call, for the pool's counters and --verbose logs."""

    endpoint: str
    method: str
    url: str  # redacted
    status_code: int | None
    elapsed: float
    error: str | None


class Progress:
    """Callbacks of one run; every method does nothing unless a subclass says otherwise."""

    def estimated(self, estimate: ImportEstimate) -> None:
        """Before anything is sent: how long the rows still to send should take."""

    def start(self, total: int) -> None:
        """The run is about to send; `total` rows will finish (already finished ones included)."""

    def sent(self, row_number: int) -> None:
        """A row goes out for the first time in this run."""

    def call(self, record: CallRecord) -> None:
        """One HTTP call ended (any endpoint, any outcome)."""

    def rate_limited(self) -> None:
        """LeadSquared answered 429."""

    def stopping(self, calls_under_way: int) -> None:
        """A stop was asked for: nothing new goes out; these calls may still answer."""

    def finished(self, outcome: RowOutcome) -> None:
        """A row has its final outcome for this run."""

    def close(self) -> None:
        """The run ended (normally or not)."""


@dataclass(slots=True)
class Counters:
    """The API usage a run reports in its Summary sheet."""

    api_calls: int = 0
    rate_limited: int = 0
    retries: int = 0
