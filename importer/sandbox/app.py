"""The sandbox over HTTP: LeadSquared's paths, auth, rate limit and faults, as a Starlette app.

One app serves the sync and the async hosts. Every API call goes through
`_answer`: count it, authenticate, admit it to its rate window, roll the
faults, do the work, then answer (or lose the answer, or answer a gateway's 504).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from importer.core.constants import API_KEY_HEADER, DEFAULT_PATHS

from .config import SandboxConfig
from .errors import BadRequest, MissingAttribute, NotFound, SandboxError, Unauthorized
from .faults import NO_FAULT, ReplyLost
from .shapes import parse_capture, parse_list_query, parse_share, parse_update
from .simulator import ASYNC, SYNC, Sandbox
from .tasks import CAPTURE, UPDATE

KEYS = "keys"  # accessKey + secretKey query parameters
API_KEY = "api"  # x-api-key header only (Status and Metrics APIs)
KEYS_AND_API_KEY = "keys+api"  # both (async capture and update)
NOT_FOUND_MESSAGE = "The API could not be found. Please check the API signature."
# What nginx in front of an API answers when the service behind it did not answer in time.
GATEWAY_TIMEOUT_PAGE = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)

Handler = Callable[[Sandbox, Request], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    """One LeadSquared API as the sandbox serves it."""

    name: str  # key of constants.DEFAULT_PATHS
    method: str
    family: str  # SYNC or ASYNC: which rate window it counts in
    auth: str
    faulty: bool  # whether error/drop/429 faults apply (not to metrics)
    handler: Handler

    @property
    def path(self) -> str:
        return DEFAULT_PATHS[self.name]


# ---- request bodies ----------------------------------------------------------------------
async def _read_json(request: Request, *, required: bool = True) -> tuple[str, Any]:
    """The body as text and as JSON; 400 for a wrong Content-Type or broken JSON."""
    raw = await request.body()
    if not raw.strip() and not required:
        return "", None
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise BadRequest('The Content-Type must be "application/json"')
    if not raw.strip():
        raise BadRequest("The request body is empty: a JSON body is expected")
    try:
        text = raw.decode("utf-8")
        return text, json.loads(text, parse_constant=_refuse_constant)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
        raise BadRequest("The request body is not valid JSON") from None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _request_id(request: Request) -> str:
    return _mandatory_query(request, "RequestID")


def _mandatory_query(request: Request, name: str) -> str:
    """A query parameter the API cannot do without; 400 when it is absent or blank."""
    value = request.query_params.get(name, "").strip()
    if not value:
        raise MissingAttribute(f"'{name}' is mandatory")
    return value


# ---- what each API does ----------------------------------------------------------------------
async def _capture_sync(sandbox: Sandbox, request: Request) -> dict[str, Any]:
    _, body = await _read_json(request)
    return sandbox.capture(parse_capture(body))


async def _capture_async(sandbox: Sandbox, request: Request) -> dict[str, Any]:
    raw, body = await _read_json(request)
    return sandbox.submit(CAPTURE, parse_capture(body), raw)


async def _update_async(sandbox: Sandbox, request: Request) -> dict[str, Any]:
    raw, body = await _read_json(request)
    return sandbox.submit(UPDATE, parse_update(body), raw)


async def _capture_status(sandbox: Sandbox, request: Request) -> dict[str, Any]:
    return sandbox.task_status(CAPTURE, _request_id(request))


async def _update_status(sandbox: Sandbox, request: Request) -> dict[str, Any]:
    return sandbox.task_status(UPDATE, _request_id(request))


async def _capture_metrics(sandbox: Sandbox, request: Request) -> dict[str, Any]:
    return sandbox.metrics(CAPTURE)


async def _update_metrics(sandbox: Sandbox, request: Request) -> dict[str, Any]:
    return sandbox.metrics(UPDATE)


async def _share(sandbox: Sandbox, request: Request) -> dict[str, Any]:
    _, body = await _read_json(request)
    return sandbox.share(parse_share(body))


async def _opportunities_of_lead(sandbox: Sandbox, request: Request) -> dict[str, Any]:
    _, body = await _read_json(request, required=False)
    query = parse_list_query(
        request.query_params.get("leadId"), request.query_params.get("opportunityType"), body
    )
    return sandbox.opportunities_of_lead(query)


async def _lead_by_email(sandbox: Sandbox, request: Request) -> list[dict[str, Any]]:
    return sandbox.leads_by_email(_mandatory_query(request, "emailaddress"))


async def _leads_by_quick_search(sandbox: Sandbox, request: Request) -> list[dict[str, Any]]:
    return sandbox.leads_by_quick_search(_mandatory_query(request, "key"))


async def _lead_by_id(sandbox: Sandbox, request: Request) -> list[dict[str, Any]]:
    return sandbox.lead_by_id(_mandatory_query(request, "id"))


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("capture_sync", "POST", SYNC, KEYS, True, _capture_sync),
    Endpoint("share", "POST", SYNC, KEYS, True, _share),
    Endpoint("opportunities_of_lead", "POST", SYNC, KEYS, True, _opportunities_of_lead),
    Endpoint("lead_by_email", "GET", SYNC, KEYS, True, _lead_by_email),
    Endpoint("leads_by_quick_search", "GET", SYNC, KEYS, True, _leads_by_quick_search),
    Endpoint("lead_by_id", "GET", SYNC, KEYS, True, _lead_by_id),
    Endpoint("capture_async", "POST", ASYNC, KEYS_AND_API_KEY, True, _capture_async),
    Endpoint("capture_status", "GET", ASYNC, API_KEY, True, _capture_status),
    Endpoint("capture_metrics", "GET", ASYNC, API_KEY, False, _capture_metrics),
    Endpoint("update_async", "POST", ASYNC, KEYS_AND_API_KEY, True, _update_async),
    Endpoint("update_status", "GET", ASYNC, API_KEY, True, _update_status),
    Endpoint("update_metrics", "GET", ASYNC, API_KEY, False, _update_metrics),
)


# ---- the path every API call takes ---------------------------------------------------------
def _authorize(request: Request, endpoint: Endpoint, config: SandboxConfig) -> str:
    """401 unless the keys match; returns the key whose rate window the call counts in."""
    query = request.query_params
    if endpoint.auth in (KEYS, KEYS_AND_API_KEY):
        if not (
            _same(query.get("accessKey"), config.access_key)
            and _same(query.get("secretKey"), config.secret_key)
        ):
            raise Unauthorized("The accessKey or secretKey is missing or invalid")
    if endpoint.auth in (API_KEY, KEYS_AND_API_KEY):
        if not _same(request.headers.get(API_KEY_HEADER), config.api_key):
            raise Unauthorized(f"The {API_KEY_HEADER} header is missing or invalid")
    return config.access_key if endpoint.family == SYNC else config.api_key


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def _answer(request: Request, endpoint: Endpoint) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    sandbox.count_call(endpoint.path)
    plan = NO_FAULT
    try:
        key = _authorize(request, endpoint, sandbox.config)
        plan = sandbox.admit(endpoint.family, key, faulty=endpoint.faulty)
        response: Response = JSONResponse(await endpoint.handler(sandbox, request))
    except SandboxError as error:
        response = error_response(error)
    if sandbox.config.latency > 0:
        await asyncio.sleep(sandbox.config.latency)
    if plan.drop:
        sandbox.count_drop()
        return LostReply(response)
    if plan.gateway_504:  # the work is done; a gateway in front answers instead
        sandbox.count_gateway_504()
        response = gateway_timeout()
    sandbox.count_answer(response.status_code)
    return response


def error_response(error: SandboxError) -> JSONResponse:
    """LeadSquared's error body; never a Retry-After header, even on 429."""
    return JSONResponse(error.body(), status_code=error.status_code)


def gateway_timeout() -> HTMLResponse:
    """nginx's own 504 page: no JSON, no ExceptionType, nothing that says what happened."""
    return HTMLResponse(GATEWAY_TIMEOUT_PAGE, status_code=504)


class LostReply(Response):
    """Send the status line and a Content-Length that is never honoured, then give up.

    Uvicorn closes the connection when the app fails mid-reply, so a real
    client sees "peer closed connection without sending complete message body".
    """

    def __init__(self, answer: Response) -> None:
        super().__init__(status_code=answer.status_code)
        self._answer_length = len(answer.body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        promised = str(self._answer_length + 512).encode()
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", promised)],
            }
        )
        raise ReplyLost("The sandbox dropped this reply on purpose (drop_rate)")


def _api_route(endpoint: Endpoint) -> Route:
    async def serve(request: Request) -> Response:
        return await _answer(request, endpoint)

    return Route(endpoint.path, serve, methods=[endpoint.method], name=endpoint.name)


# ---- inspection endpoints (not LeadSquared's; no keys) ----------------------------------------
async def _state(request: Request) -> Response:
    return JSONResponse(request.app.state.sandbox.snapshot())


async def _reset(request: Request) -> Response:
    request.app.state.sandbox.reset()
    return JSONResponse({"Status": "Success"})


async def _patch_opportunity(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    opportunity_id = request.path_params["opportunity_id"]
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return error_response(BadRequest("The request body is not valid JSON"))
    if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
        return error_response(BadRequest("Send a JSON object of SchemaName -> string value"))
    try:
        for schema_name, value in body.items():
            sandbox.set_opportunity_field(opportunity_id, schema_name, value)
    except KeyError:
        return error_response(NotFound(f"Opportunity '{opportunity_id}' does not exist"))
    stored = [o for o in sandbox.opportunities() if o["OpportunityId"] == opportunity_id]
    return JSONResponse(stored[0])


async def _delete_opportunity(request: Request) -> Response:
    opportunity_id = request.path_params["opportunity_id"]
    try:
        request.app.state.sandbox.delete_opportunity(opportunity_id)
    except KeyError:
        return error_response(NotFound(f"Opportunity '{opportunity_id}' does not exist"))
    return JSONResponse({"Status": "Success"})


async def _not_found(request: Request, exc: Exception) -> Response:
    """Unknown path or wrong method: LeadSquared's 404 ("check the API signature")."""
    return error_response(NotFound(NOT_FOUND_MESSAGE))


def create_app(config: SandboxConfig | None = None, *, sandbox: Sandbox | None = None) -> Starlette:
    """The ASGI app; `app.state.sandbox` is its Sandbox (pass one to inject a clock)."""
    sandbox = sandbox or Sandbox(config)
    routes = [_api_route(endpoint) for endpoint in ENDPOINTS]
    routes += [
        Route("/_sandbox/state", _state, methods=["GET"]),
        Route("/_sandbox/reset", _reset, methods=["POST"]),
        Route(
            "/_sandbox/opportunities/{opportunity_id}",
            _patch_opportunity,
            methods=["PATCH"],
        ),
        Route(
            "/_sandbox/opportunities/{opportunity_id}",
            _delete_opportunity,
            methods=["DELETE"],
        ),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _not_found})
    app.router.redirect_slashes = False  # "/opportunity/capture/" is not the API
    app.state.sandbox = sandbox
    return app
