"""The error answers the sandbox gives, each with LeadSquared's error body.

These are the simulator's own: the importer's error tree (`importer.errors`) is
what a *client* raises; the sandbox only needs to know which HTTP status and
which `ExceptionType` a refusal is answered with.
"""

from __future__ import annotations

from typing import Any


class SandboxError(Exception):
    """A refused call: answered `status_code` with `{"Status":"Error",...}`."""

    status_code = 500
    exception_type: str | None = "InternalServerError"

    def __init__(self, message: str, *, exception_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exception_type is not None:
            self.exception_type = exception_type

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"Status": "Error"}
        if self.exception_type is not None:
            body["ExceptionType"] = self.exception_type
        body["ExceptionMessage"] = self.message
        return body


class BadRequest(SandboxError):
    """400: the body or query is not as the API page specifies (never queued)."""

    status_code = 400
    exception_type = "MXInvalidInputException"


class MissingAttribute(BadRequest):
    """400: a mandatory attribute is absent (LeadSquared's own exception name)."""

    exception_type = "MXMandatoryAttributeMissingException"


class Unauthorized(SandboxError):
    """401: accessKey/secretKey (or x-api-key) missing or wrong."""

    status_code = 401
    exception_type = "UnauthorizedAccessException"


class NotFound(SandboxError):
    """404: no such API path, RequestID or (inspection) opportunity."""

    status_code = 404
    exception_type = "NotFoundException"


class TooManyRequests(SandboxError):
    """429: the sliding window is full. LeadSquared sends no Retry-After."""

    status_code = 429
    exception_type = "TooManyRequestsException"


class InjectedFailure(SandboxError):
    """500 from the error_rate fault: nothing was done, so a retry is safe.

    It looks like LeadSquared's answer when a service behind it is down.
    """

    status_code = 500
    exception_type: str | None = "MXUnknownException"


class InjectedUntypedFailure(InjectedFailure):
    """The same fault answered without an ExceptionType, as a gateway in front may answer."""

    exception_type = None


class Rejected(SandboxError):
    """An application error (`MX...Exception`): the data is refused, retrying cannot help.

    The sync APIs answer it with HTTP 500 (LeadSquared's habit); the async ones
    report it as a FAILURE in the Status API.
    """

    status_code = 500
    exception_type = "MXInvalidInputException"
