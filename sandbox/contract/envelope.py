"""The two documented response envelopes (docs/enkash-api.md#envelopes), the one place a failure becomes a
reply (SandboxError -> status, body, headers), and the one function that writes a reply to ASGI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.types import Send

from sandbox.contract import jsonio
from sandbox.domain import errors

if TYPE_CHECKING:
    from sandbox.settings import Settings
    from sandbox.web.routes import Route

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

SUCCESS = "Success"


_SUCCESS_HEADS = {"A": b'{"code":0,"message":"%s","payload":' % SUCCESS.encode(),
                  "B": b'{"response_code":0,"response_message":"%s","payload":' % SUCCESS.encode()}


def success(envelope: str, payload: Any) -> dict[str, Any] | jsonio.Raw:
    if isinstance(payload, jsonio.Raw):  # written already (a kept page): its answer is made once and kept with it
        return payload.within(_SUCCESS_HEADS["A" if envelope == "A" else "B"], b"}")
    if envelope == "A":
        return {"code": 0, "message": SUCCESS, "payload": payload}
    return {"response_code": 0, "response_message": SUCCESS, "payload": payload}


def error_variant(error_envelope: str, route_envelope: str) -> str:
    """The envelope a failure is written in: the route's own (A or B) under the setting
    error_envelope=endpoint, else B (docs/enkash-api.md#envelopes)."""
    return route_envelope if error_envelope == "endpoint" and route_envelope in ("A", "B") else "B"


def failure(envelope: str, error: errors.SandboxError) -> dict[str, Any]:
    """Documented failure: code 1, the message, and the message again as payload."""
    if isinstance(error, errors.OAuthError):
        return {"error": error.error, "error_description": error.message}
    if envelope == "A":
        return {"code": error.code, "message": error.message, "payload": error.message}
    return {"response_code": error.code, "response_message": error.message, "payload": error.message}


def oauth_resource_error(error: errors.SandboxError) -> dict[str, Any]:
    """Spring Security OAuth's 401 body, for the `auth_errors=oauth` setting."""
    return {"error": "invalid_token" if error.status == 401 else "access_denied", "error_description": error.message}


@dataclass(slots=True)
class Reply:
    """An endpoint's answer when it is not an enveloped payload (OAuth, admin API). Slots: one is
    made for every request."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = JSON  # anything else: body is already text (the docs page)


def response(reply: Reply) -> tuple[dict[str, Any], bytes]:
    """The reply as ASGI's start message and the body's bytes."""
    if reply.media_type == JSON:
        body = reply.body
        content = body.text if isinstance(body, jsonio.Raw) else jsonio.dumps(body)
        headers = [(b"content-length", b"%d" % len(content)), _JSON_TYPE]
    else:
        content = reply.body.encode("utf-8")
        headers = [(b"content-length", b"%d" % len(content)), (b"content-type", reply.media_type.encode())]
    if reply.headers:
        headers += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers.items()]
    return {"type": "http.response.start", "status": reply.status, "headers": headers}, content


_JSON_TYPE = (b"content-type", JSON.encode())


async def write(send: Send, reply: Reply) -> None:
    start, content = response(reply)
    await send(start)
    await send({"type": "http.response.body", "body": content})


def failure_reply(settings: "Settings", route: "Route", error: errors.SandboxError) -> Reply:
    own = error.headers  # the error's own headers (an injected 429's Retry-After) go out in every form
    if route.auth == "basic" and not isinstance(error, errors.OAuthError):
        # the token endpoint answers in OAuth's own error form, whatever went wrong
        error = errors.OAuthBadRequest(error.message, status=error.status)
    if error.status == 401 and settings.auth_errors == "oauth" and not isinstance(error, errors.OAuthError):
        return Reply(oauth_resource_error(error), 401, {"WWW-Authenticate": "Bearer", **own})
    variant = error_variant(settings.error_envelope, route.envelope)
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
    if isinstance(error, errors.InvalidClient):
        headers = {"WWW-Authenticate": 'Basic realm="oauth2/client"'}
    if isinstance(error, errors.PayloadEncryptionError) and "reason" in error.details:
        # the sandbox's own header: the documented message is terse, this says what was wrong
        headers = {"X-Sandbox-Encryption-Error": str(error.details["reason"]).encode("ascii", "backslashreplace").decode()}
    return Reply(failure(variant, error), error.status, {**headers, **own})
