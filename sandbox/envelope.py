"""The two documented response envelopes (REFERENCE.md §2.2) and the one place a failure
becomes a body: SandboxError -> (status, body)."""

from __future__ import annotations

from typing import Any

from .domain import errors

SUCCESS = "Success"


def success(envelope: str, payload: Any) -> dict[str, Any]:
    if envelope == "A":
        return {"code": 0, "message": SUCCESS, "payload": payload}
    return {"response_code": 0, "response_message": SUCCESS, "payload": payload}


def error_variant(error_envelope: str, route_envelope: str) -> str:
    """The envelope a failure is written in: the route's own (A or B) under the setting
    error_envelope=endpoint, else B (REFERENCE.md §2.2)."""
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
