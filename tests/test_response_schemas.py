"""Every route has a response schema, and with validate_responses on a response that breaks it
is a loud 500. The tests' session server runs with validate_responses, so every response any
test (and the contract suite, and schemathesis) provokes is checked against these schemas."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.web.app import AppState
from sandbox.contract.envelope import Reply
from sandbox.web.adapter import checked
from sandbox.web.routes import ROUTES, Route
from sandbox.settings import Settings

BROKEN = [[None]]  # no object, string or number schema accepts this


@pytest.fixture(scope="module")
def state() -> AppState:
    return AppState(Settings(validate_responses=True))


def broken_success(route: Route) -> Any:
    if route.envelope == "A":
        return {"code": 0, "message": "Success", "payload": BROKEN}
    if route.envelope == "B":
        return {"response_code": 0, "response_message": "Success", "payload": BROKEN}
    return BROKEN


def test_the_session_server_checks_every_response(server):
    assert server.state.settings.validate_responses is True


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_has_a_response_schema_that_is_enforced(state, route):
    reply = checked(state, route, Reply(broken_success(route)))
    assert reply.status == 500, f"{route.operation}: no response schema rejects {broken_success(route)!r}"
    assert reply.body["response_message"].startswith(f"sandbox bug: {route.operation} response breaks its schema:")


@pytest.mark.parametrize("route", [r for r in ROUTES if r.envelope in ("A", "B")], ids=lambda r: f"{r.method} {r.path}")
def test_business_failures_are_checked_against_the_failure_envelope(state, route):
    code, message = ("code", "message") if route.envelope == "A" else ("response_code", "response_message")
    good = Reply({code: 1, message: "Insufficient balance in card account", "payload": "Insufficient balance in card account"})
    assert checked(state, route, good) is good
    bad = checked(state, route, Reply({code: 1, message: "Insufficient balance", "payload": {"not": "a string"}}))
    assert bad.status == 500


def test_oauth_errors_are_checked_against_the_oauth_error_body(state):
    token_route = next(r for r in ROUTES if r.operation == "oauth-token")
    good = Reply({"error": "invalid_grant", "error_description": "Bad credentials"}, 400)
    assert checked(state, token_route, good) is good
    assert checked(state, token_route, Reply({"error": "invalid_grant"}, 400)).status == 500
