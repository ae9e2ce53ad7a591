"""The LeadSquared HTTP client: one method per endpoint, one place that classifies failures.

It neither paces nor retries (the limiter and pool above do); it sends exactly
what CONTRACT section 4 describes and turns every httpx exception and HTTP
status into the `importer.errors` tree in `_unwrap`, so nothing above this
module imports httpx exceptions or reads status codes.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import httpx

from importer.core.config import Settings
from importer.core.constants import API_KEY_HEADER, DEFAULT_PATHS, SERVER_EXCEPTION_TYPES
from importer.core.errors import (
    ApiError,
    AuthError,
    ConfigError,
    NotFound,
    RateLimited,
    RowRejected,
    TransientError,
)
from importer.core.progress import CallRecord
from importer.lsq.redaction import guard_logger, redact, redact_url
from importer.lsq.responses import (
    CaptureResult,
    Lead,
    OpportunityPage,
    QueueMetrics,
    TaskStatus,
    as_text,
    error_fields,
    load_json,
    parse_capture_result,
    parse_leads,
    parse_metrics,
    parse_opportunity_page,
    parse_request_id,
    parse_task_status,
    pick,
)

logger = logging.getLogger("importer.client")
T = TypeVar("T")

# A message saying a service or database behind LeadSquared could not be reached or timed
# out ("Unable to connect to DB"): trouble on their side, whatever the ExceptionType.
_UNREACHABLE = re.compile(
    r"\b(?:unable to|could not|couldn't|cannot|can't|failed to) (?:connect|reach)"
    r"|\b(?:unreachable|not reachable|temporarily unavailable|service unavailable)\b"
    r"|\b(?:timed out|timeout expired|deadlock)",
    re.IGNORECASE,
)

CONNECT_TIMEOUT = 10.0
# Enough for the pool's workers plus status polls; the rate limit is far below this.
MAX_CONNECTIONS = 32


@dataclass(frozen=True)
class _Endpoint:
    """How one endpoint is reached and authenticated (CONTRACT section 4)."""

    method: str
    on_async_host: bool
    keys_in_query: bool
    api_key_header: bool


_ENDPOINTS: dict[str, _Endpoint] = {
    "capture_async": _Endpoint("POST", True, True, True),
    "capture_status": _Endpoint("GET", True, False, True),
    "capture_metrics": _Endpoint("GET", True, False, True),
    "capture_sync": _Endpoint("POST", False, True, False),
    "update_async": _Endpoint("POST", True, True, True),
    "update_status": _Endpoint("GET", True, False, True),
    "update_metrics": _Endpoint("GET", True, False, True),
    "share": _Endpoint("POST", False, True, False),
    "opportunities_of_lead": _Endpoint("POST", False, True, False),
    "lead_by_email": _Endpoint("GET", False, True, False),
    "leads_by_quick_search": _Endpoint("GET", False, True, False),
    "lead_by_id": _Endpoint("GET", False, True, False),
}


class LeadSquaredClient:
    """Async client for the LeadSquared endpoints the importer uses."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
    ) -> None:
        self._settings = settings
        self._secrets = (settings.access_key, settings.secret_key, settings.api_key)
        self._on_call = on_call
        guard_logger("httpx")
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(settings.timeout, connect=CONNECT_TIMEOUT),
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
            ),
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"LeadSquaredClient({self._settings!r})"

    async def __aenter__(self) -> LeadSquaredClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- Capture Opportunities -------------------------------------------------

    async def capture_async(self, body: dict[str, Any]) -> str:
        """Queue a capture; returns the RequestID to poll."""
        return self._parsed(
            "capture_async", parse_request_id, await self._call("capture_async", json=body)
        )

    async def capture_status(self, request_id: str) -> TaskStatus:
        data = await self._call("capture_status", params={"RequestID": request_id})
        return self._parsed("capture_status", parse_task_status, data)

    async def capture_metrics(self) -> QueueMetrics:
        return self._parsed("capture_metrics", parse_metrics, await self._call("capture_metrics"))

    async def capture_sync(self, body: dict[str, Any]) -> CaptureResult:
        """Capture one lead + opportunity and wait for LeadSquared's verdict."""
        result = self._parsed(
            "capture_sync", parse_capture_result, await self._call("capture_sync", json=body)
        )
        if result is None:
            raise self._unexpected("capture_sync", "an empty answer")
        return result

    # --- Update an Opportunity (Async) ------------------------------------------

    async def update_async(self, body: dict[str, Any]) -> str:
        """Queue an update; returns the RequestID to poll."""
        return self._parsed(
            "update_async", parse_request_id, await self._call("update_async", json=body)
        )

    async def update_status(self, request_id: str) -> TaskStatus:
        data = await self._call("update_status", params={"RequestID": request_id})
        return self._parsed("update_status", parse_task_status, data)

    async def update_metrics(self) -> QueueMetrics:
        return self._parsed("update_metrics", parse_metrics, await self._call("update_metrics"))

    # --- Share and read back -----------------------------------------------------

    async def share(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """Share opportunities with users; the body is a JSON array (Share an Opportunity)."""
        data = await self._call("share", json=list(items))
        if not isinstance(data, dict):
            raise self._unexpected("share", "an answer that is not a JSON object")
        return data

    async def opportunities_of_lead(
        self,
        lead_id: str,
        *,
        page_index: int = 1,
        page_size: int = 100,
        opportunity_type: int | None = None,
        columns: list[str] | None = None,
        newest_first: bool = False,
    ) -> OpportunityPage:
        """One page of a lead's opportunities (Get Opportunities by Lead Id)."""
        params: dict[str, str] = {"leadId": lead_id}
        if opportunity_type is not None:
            params["opportunityType"] = str(opportunity_type)
        body: dict[str, Any] = {"Paging": {"PageIndex": page_index, "PageSize": page_size}}
        if columns:
            body["Columns"] = {"Include_CSV": ",".join(columns)}
        if newest_first:  # Direction "1": the most recent first (the doc page's words)
            body["Sorting"] = {"ColumnName": "PACreatedOn", "Direction": "1"}
        data = await self._call("opportunities_of_lead", params=params, json=body)
        return self._parsed("opportunities_of_lead", parse_opportunity_page, data)

    # --- Get Lead APIs: finding the lead a row went to ---------------------------

    async def lead_by_email(self, email: str) -> list[Lead]:
        """The leads with this email address (LeadSquared compares it ignoring case)."""
        data = await self._call("lead_by_email", params={"emailaddress": email})
        return self._parsed("lead_by_email", parse_leads, data)

    async def leads_by_quick_search(self, key: str) -> list[Lead]:
        """Leads whose name, email, phone, mobile, company, city or country contains `key`.

        A loose match: filter the answer on the exact field you searched for.
        """
        data = await self._call("leads_by_quick_search", params={"key": key})
        return self._parsed("leads_by_quick_search", parse_leads, data)

    async def lead_by_id(self, id: str) -> list[Lead]:
        """The lead with this ProspectID, in a list; empty when there is none."""
        data = await self._call("lead_by_id", params={"id": id})
        return self._parsed("lead_by_id", parse_leads, data)

    # --- the one HTTP path -------------------------------------------------------

    async def _call(
        self,
        name: str,
        *,
        params: Mapping[str, str] | None = None,
        json: object = None,
    ) -> Any:
        """Send one request and return its decoded JSON body, or raise an ApiError."""
        try:
            request = self._build(name, params or {}, json)
        except httpx.InvalidURL as exc:  # a malformed host setting, found before sending
            return _unwrap(exc, name, self._secrets)  # raises ConfigError
        started = time.perf_counter()
        outcome: httpx.Response | Exception
        try:
            outcome = await self._http.send(request)
        except httpx.HTTPError as exc:
            outcome = exc
        elapsed = time.perf_counter() - started
        try:
            data = _unwrap(outcome, name, self._secrets)
        except (ApiError, ConfigError) as err:
            self._record(name, request, outcome, elapsed, err)
            raise
        self._record(name, request, outcome, elapsed, None)
        return data

    def _build(self, name: str, params: Mapping[str, str], json: object) -> httpx.Request:
        endpoint = _ENDPOINTS[name]
        settings = self._settings
        host = settings.async_host if endpoint.on_async_host else settings.host
        if not host:
            which = "LSQ_ASYNC_HOST" if endpoint.on_async_host else "LSQ_HOST"
            raise ConfigError(f"{which} is not set: the {name} call needs it")
        path = settings.paths.get(name) or DEFAULT_PATHS[name]
        query: dict[str, str] = {}
        if endpoint.keys_in_query:
            query = {"accessKey": settings.access_key, "secretKey": settings.secret_key}
        query.update(params)
        headers = {}
        if endpoint.api_key_header and settings.api_key:  # absent rather than empty: a clear 401
            headers[API_KEY_HEADER] = settings.api_key
        return self._http.build_request(
            endpoint.method,
            host.rstrip("/") + path,
            params=query,
            headers=headers,
            json=json if endpoint.method == "POST" else None,
        )

    def _record(
        self,
        name: str,
        request: httpx.Request,
        outcome: httpx.Response | Exception,
        elapsed: float,
        error: Exception | None,
    ) -> None:
        """Log the call at DEBUG and hand a CallRecord to `on_call`."""
        status_code = outcome.status_code if isinstance(outcome, httpx.Response) else None
        shown = str(status_code) if status_code is not None else type(outcome).__name__
        target = redact(request.url.raw_path.decode("ascii", "replace"), self._secrets)
        logger.debug("%s %s -> %s (%d ms)", request.method, target, shown, round(elapsed * 1000))
        if self._on_call is not None:
            self._on_call(
                CallRecord(
                    endpoint=name,
                    method=request.method,
                    url=redact(redact_url(request.url), self._secrets),
                    status_code=status_code,
                    elapsed=elapsed,
                    error=None if error is None else f"{type(error).__name__}: {error}",
                )
            )

    def _parsed(self, name: str, parse: Callable[[Any], T], data: Any) -> T:
        """`parse(data)`, with a shape LeadSquared did not promise reported as an ApiError."""
        try:
            return parse(data)
        except ValueError as exc:  # the parsers' word for a shape; anything else is our bug
            raise self._unexpected(name, str(exc)) from None

    def _unexpected(self, name: str, what: str) -> TransientError:
        # A 200 we cannot read: the request may well have been processed.
        return TransientError(
            redact(f"{name}: LeadSquared answered 200 with {what}", self._secrets),
            status_code=200,
            uncertain=True,
        )


def _unwrap(outcome: httpx.Response | Exception, name: str, secrets: tuple[str, ...]) -> Any:
    """The decoded body of a good answer; every other outcome raised as an importer error.

    This is the only place httpx exceptions and HTTP statuses are interpreted.
    """
    if isinstance(outcome, Exception):
        raise _from_exception(outcome, name, secrets) from None
    response = outcome
    if response.is_success:
        try:
            return response.json()
        except ValueError:
            snippet = redact(response.text[:80], secrets).strip() or "an empty body"
            raise TransientError(
                f"{name}: LeadSquared answered {response.status_code} with a body that is "
                f"not JSON ({snippet!r})",
                status_code=response.status_code,
                uncertain=True,
            ) from None
    raise _from_status(response, name, secrets)


def _from_exception(exc: Exception, name: str, secrets: tuple[str, ...]) -> Exception:
    kind = type(exc).__name__
    detail = redact(str(exc), secrets)
    text = f"{name}: {kind}" + (f" ({detail})" if detail else "")
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransientError(f"{text}: the request was not sent", uncertain=False)
    if isinstance(exc, httpx.TimeoutException):  # ReadTimeout, WriteTimeout
        return TransientError(f"{text}: no answer, it may have been processed", uncertain=True)
    if isinstance(exc, httpx.ConnectError):
        return TransientError(f"{text}: could not connect", uncertain=False)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ConfigError(f"{text}: check LSQ_HOST / LSQ_ASYNC_HOST (http:// or https://)")
    if isinstance(exc, httpx.LocalProtocolError):
        return TransientError(f"{text}: the request could not be sent", uncertain=False)
    # RemoteProtocolError, ReadError, WriteError, CloseError, ProxyError, DecodingError:
    # the request may have reached LeadSquared.
    return TransientError(f"{text}: connection lost, it may have been processed", uncertain=True)


def _from_status(response: httpx.Response, name: str, secrets: tuple[str, ...]) -> ApiError:
    code = response.status_code
    body = load_json(response.content)
    exception_type, message = error_fields(body)
    request_id = as_text(pick(body, "RequestId")) if isinstance(body, dict) else None
    said = redact(message or response.reason_phrase or "", secrets)
    text = (
        f"{name}: HTTP {code}"
        + (f" {exception_type}" if exception_type else "")
        + (f": {said}" if said else "")
    )
    is_mx = bool(exception_type and exception_type.upper().startswith("MX"))
    row_fault = is_mx and not _server_trouble(exception_type, message)
    if code in (401, 403):
        return AuthError(f"{text}. {_which_keys(name)}", status_code=code)
    if code == 429:
        return RateLimited(text, status_code=code)
    if code in (404, 405) and not is_mx:
        path = redact(response.request.url.path, secrets)
        return NotFound(
            f"{text} (at {path}; if that API path is wrong, check the host and "
            f"LSQ_PATH_{name.upper()})",
            status_code=code,
        )
    if 300 <= code < 400:
        return NotFound(
            f"{text}. LeadSquared redirected the call: check the host (https://?)",
            status_code=code,
        )
    if code == 408:
        return TransientError(text, status_code=code, uncertain=False)
    # The row's own fault ends it: any other 4xx, or a 5xx naming an MX exception about the data.
    if 400 <= code < 500 or row_fault:
        return RowRejected(
            said or f"HTTP {code}",
            exception_type=exception_type or f"HTTP{code}",
            status_code=code,
            request_id=request_id,
        )
    # Any other 5xx (a gateway's page, no ExceptionType, MXUnknownException, a service out of
    # reach) does not prove the request was refused before it was processed (CONTRACT 4).
    return TransientError(text, status_code=code, uncertain=True)


def _server_trouble(exception_type: str | None, message: str | None) -> bool:
    """True when an error answer blames LeadSquared's side, not the data sent."""
    if exception_type is None or exception_type.casefold() in SERVER_EXCEPTION_TYPES:
        return True
    return bool(message and _UNREACHABLE.search(message))


def _which_keys(name: str) -> str:
    """Which settings a 401 on this endpoint points at (never their values)."""
    endpoint = _ENDPOINTS[name]
    keys = ["LSQ_ACCESS_KEY", "LSQ_SECRET_KEY"] if endpoint.keys_in_query else []
    if endpoint.api_key_header:
        keys.append("LSQ_API_KEY (the x-api-key header)")
    return "LeadSquared refused the credentials: check " + " and ".join(keys)
