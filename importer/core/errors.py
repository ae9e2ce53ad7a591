"""One error tree for the whole importer.

The CLI turns every `UserError` into one line and exit 2; the pool decides what
to do with an `ApiError` by its class (`RateLimited`/`TransientError` = retry,
`RowRejected` = record and move on, `AuthError`/`NotFound` = stop), never by parsing strings.
"""

from __future__ import annotations

import errno
from datetime import datetime


class ImporterError(Exception):
    """Base of every error the importer raises on purpose."""


class UserError(ImporterError):
    """Something the user can fix: a bad argument, file, mapping or credentials."""


class InputFileError(UserError):
    """The input file is missing, unreadable or not a table we understand."""


class MappingError(UserError):
    """The mapping file is invalid, or names a column the input lacks."""


class MissingColumns(MappingError):
    """The input lacks columns the mapping reads; `columns` are the mapping's spellings."""

    def __init__(self, message: str, *, columns: list[str]) -> None:
        super().__init__(message)
        self.columns = columns


class ConfigError(UserError):
    """Settings are missing or malformed (hosts, keys, rate)."""


class StateStoreError(UserError):
    """The per-account state (LSQ_STATE_URL, or the files under LSQ_STATE_HOME) cannot be used.

    Unreachable, refused credentials, a missing database, one that went away mid-run, or a
    schema written by a newer lsq-import. The message names the host, never the password.
    """


class LockedError(UserError):
    """Another run holds the lock on this input or inbox."""


class PortBusy(UserError):
    """A server (`serve`, `sandbox`) cannot listen: the port is taken or not ours to use."""

    @classmethod
    def binding(cls, host: str, port: int, error: OSError) -> PortBusy:
        """The sentence for a failed bind, from the OS's error."""
        if error.errno in (errno.EADDRINUSE, 98, 48):  # Linux 98, macOS 48
            return cls(
                f"Port {port} on {host} is already in use: stop what uses it, or choose "
                "another with --port"
            )
        return cls(f"Cannot listen on {host}:{port}: {error.strerror}")


class ImportStopped(UserError):
    """The run stopped before every row finished (Ctrl-C, SIGTERM, a cancel).

    Its journal keeps its place and its results workbook is written; the same command
    resumes it. `report` is the run's report (an `ImportReport`) when there is one.
    """

    def __init__(self, message: str, *, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class ImportCancelled(ImportStopped):
    """A caller (the web page, a scheduler) asked the run to stop."""


class DailyLimitReached(ImporterError):
    """Taking one more call would pass LSQ_DAILY_LIMIT for this account today (UTC).

    Not a `UserError`: the run stops cleanly (rows not sent end `NotSent`, exit 1) and the
    next run after `resets_at` (a UTC datetime, the next midnight) goes on.
    """

    def __init__(self, *, limit: int, used: int, resets_at: datetime) -> None:
        super().__init__(
            f"The daily limit of {limit:,} calls for this account (LSQ_DAILY_LIMIT) is reached: "
            f"{used:,} made today; the count resets at {resets_at:%Y-%m-%d %H:%M} UTC"
        )
        self.limit = limit
        self.used = used
        self.resets_at = resets_at


class ApiError(ImporterError):
    """LeadSquared (or the network on the way) did not do what we asked."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class AuthError(ApiError, UserError):
    """401: wrong access key, secret key or x-api-key. Stops the whole run."""


class RateLimited(ApiError):
    """429: too many calls in the sliding window. LeadSquared sends no Retry-After."""


class TransientError(ApiError):
    """5xx, timeout or dropped connection.

    `uncertain` is True when the request may have reached LeadSquared and been
    processed although no reply came back (read timeout, connection reset after
    the body was sent): a re-send may then meet a duplicate of our own making.
    """

    def __init__(
        self, message: str, *, status_code: int | None = None, uncertain: bool = False
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.uncertain = uncertain


class RowRejected(ApiError):
    """LeadSquared refused this row's data. Never retried.

    Any 4xx but 401/403/408/429 (a 404 only with an `MX…Exception`: a lead not found), or
    a 5xx naming an `MX…Exception` about the data.
    A 5xx with `MXUnknownException`, no ExceptionType, or a message saying a service or
    database could not be reached is LeadSquared's own trouble: a `TransientError`.
    """

    def __init__(
        self,
        message: str,
        *,
        exception_type: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.exception_type = exception_type
        self.request_id = request_id


class NotFound(ApiError):
    """404: the API path does not exist (a wrong host or path override)."""
