"""The one HTTP adapter: every route's request goes body -> auth -> validate -> endpoint ->
envelope here, and every SandboxError becomes the documented envelope here and nowhere else.

Endpoints are plain synchronous functions of a `Call`, so once the body is read the whole
operation runs without yielding to the event loop: concurrent requests cannot interleave.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from . import envelope, jsonio
from .domain import errors, tokens
from .store import AccessToken, Store

if TYPE_CHECKING:
    from .app import AppState
    from .routes import Route
    from .settings import Settings

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Call:
    """What an endpoint gets: the parsed request and the app's state, nothing HTTP-specific."""

    state: "AppState"
    route: "Route"
    body: Any
    query: dict[str, str]
    params: dict[str, str]
    headers: dict[str, str]
    token: AccessToken | None = None
    basic: tuple[str, str] | None = None

    @property
    def store(self) -> Store:
        return self.state.store

    @property
    def settings(self) -> "Settings":
        return self.state.settings

    @property
    def partner_id(self) -> str:
        assert self.token is not None, "partner_id is only known on authenticated routes"
        return self.token.partner_id


@dataclass
class Reply:
    """An endpoint's answer when it is not an enveloped payload (OAuth, admin API)."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def handler(route: "Route") -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        state: AppState = request.app.state.sandbox
        try:
            raw = await read_body(request, state.settings.max_body_bytes)
            call = prepare(state, route, request, raw)
            result = route.endpoint(call)
            reply = result if isinstance(result, Reply) else Reply(envelope.success(route.envelope, result))
        except errors.SandboxError as failure:
            reply = failure_reply(state.settings, route, failure)
        if state.settings.validate_responses:
            reply = checked(state, route, reply)
        return Response(jsonio.dumps(reply.body), reply.status, reply.headers, media_type=JSON)

    endpoint.__name__ = route.operation.replace("-", "_")
    return endpoint


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise errors.BodyTooLarge(limit=limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise errors.BodyTooLarge(limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def prepare(state: "AppState", route: "Route", request: Request, raw: bytes) -> Call:
    headers = request.headers
    call = Call(state, route, None, dict(request.query_params), dict(request.path_params), dict(headers))
    if route.auth == "basic":
        call.basic = basic_credentials(headers.get("authorization", ""))
    elif route.auth in ("partner", "bearer"):
        call.token = tokens.authenticate(state.store, bearer_value(headers.get("authorization", "")))
        if route.auth == "partner":
            partner = headers.get("partnerid")
            if not partner:
                raise errors.PartnerHeaderMissing()
            if partner != call.token.partner_id:
                raise errors.PartnerMismatch()
    elif route.auth == "admin" and state.settings.admin_token:
        if bearer_value(headers.get("authorization", ""), errors.AdminTokenRequired) != state.settings.admin_token:
            raise errors.AdminTokenRequired()

    schemas = state.schemas
    if schemas.has(route.operation + ".query"):
        schemas.check(route.operation + ".query", call.query)
    call.body = parse_body(route.body, headers.get("content-type", ""), raw)
    if schemas.has(route.operation + ".request"):
        schemas.check(route.operation + ".request", call.body)
    return call


def parse_body(kind: str, content_type: str, raw: bytes) -> Any:
    media = content_type.split(";", 1)[0].strip().lower()
    if kind == "none":
        return None
    if kind == "form":
        if media != FORM:
            raise errors.UnsupportedMediaType(expected=FORM)
        try:
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            raise errors.MalformedBody(reason="form body is not valid UTF-8") from None
    if media != JSON and not media.endswith("+json"):
        raise errors.UnsupportedMediaType(expected=JSON)
    return jsonio.loads(raw)


def bearer_value(header: str, missing: type[errors.SandboxError] = errors.Unauthorized) -> str:
    """`Bearer <token>`; the bulk page's sample sends the bare token, so that is accepted too."""
    value = header.strip()
    if not value:
        raise missing()
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() == "bearer":
        return rest.strip()
    if rest:
        raise errors.InvalidToken()
    return value


def basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise errors.InvalidClient("Client authentication (HTTP Basic) is required")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise errors.InvalidClient("Malformed HTTP Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise errors.InvalidClient("Malformed HTTP Basic credentials")
    return client_id, secret


def failure_reply(settings: "Settings", route: "Route", failure: errors.SandboxError) -> Reply:
    if route.auth == "basic" and not isinstance(failure, errors.OAuthError):
        # the token endpoint answers in OAuth's own error form, whatever went wrong
        failure = errors.OAuthBadRequest(failure.message, status=failure.status)
    if failure.status == 401 and settings.auth_errors == "oauth" and not isinstance(failure, errors.OAuthError):
        return Reply(envelope.oauth_resource_error(failure), 401, {"WWW-Authenticate": "Bearer"})
    variant = route.envelope if settings.error_envelope == "endpoint" and route.envelope in ("A", "B") else "B"
    headers = {"WWW-Authenticate": "Bearer"} if failure.status == 401 else {}
    if isinstance(failure, errors.InvalidClient):
        headers = {"WWW-Authenticate": 'Basic realm="oauth2/client"'}
    return Reply(envelope.failure(variant, failure), failure.status, headers)


def checked(state: "AppState", route: "Route", reply: Reply) -> Reply:
    """With validate_responses on, a response that breaks its schema is a loud sandbox bug."""
    schemas = state.schemas
    body = reply.body
    if "error" in body if isinstance(body, dict) else False:
        problem = schemas.response_problem(None, "oauth-error", body)
    elif isinstance(body, dict) and (body.get("code") == 1 or body.get("response_code") == 1):
        problem = schemas.response_problem("A" if "code" in body else "B", "error.payload", body)
    elif route.envelope in ("A", "B") and schemas.has(route.operation + ".payload"):
        problem = schemas.response_problem(route.envelope, route.operation + ".payload", body)
    elif schemas.has(route.operation + ".response"):
        problem = schemas.response_problem(None, route.operation + ".response", body)
    else:
        problem = None
    if problem is None:
        return reply
    message = f"sandbox bug: {route.operation} response breaks its schema: {problem}"
    return Reply({"response_code": 1, "response_message": message, "payload": message}, 500)
