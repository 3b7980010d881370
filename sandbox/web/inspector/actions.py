"""The inspector's actions (POST forms): each calls the admin endpoint function the JSON API route
of that operation calls, found in the route table, with the request checked against the same
schemas; then it goes back to the page it came from with a one-line result (Post/Redirect/Get)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from sandbox.contract import jsonio
from sandbox.contract.envelope import Reply
from sandbox.domain import errors
from sandbox.web.adapter import Call
from sandbox.web.inspector.pages import (
    BASE, COOKIE, token_matches, action, admin_cookie, flash_cookie, form, login_page, redirect, safe_next, same_origin,
)


def perform(call: Call, operation: str, body: Any = None, query: dict[str, str] | None = None,
            params: dict[str, Any] | None = None) -> Reply:
    """The JSON API's own operation: its endpoint function, after its own query and body schemas."""
    route = next(r for r in call.state.router.routes if r.operation == operation)
    schemas, query = call.state.schemas, query or {}
    if schemas.has(operation + ".query"):
        schemas.check(operation + ".query", query)
    if schemas.has(operation + ".request"):
        schemas.check(operation + ".request", body)
    result = route.endpoint(Call(call.state, route, body, query, params or {}, call.headers))
    assert isinstance(result, Reply), operation  # the admin API answers plain JSON
    return result


def _done(call: Call, operation: str, said: Callable[[Any], str], body: Any = None, query: dict[str, str] | None = None,
          params: dict[str, Any] | None = None, back: str | None = None) -> Reply:
    """Run the admin operation; back to the page with `said(its answer)`, or with the error it
    raised. `body` may be a function, so reading an upload fails the action the same way."""
    try:
        given = body() if callable(body) else body
        ok, message = True, said(perform(call, operation, given, query, params).body)
    except errors.SandboxError as failure:
        ok, message = False, failure.message
    return redirect(safe_next(back or form(call, "next")), flash_cookie(ok, message))


# --- signing in -----------------------------------------------------------------------------------
def login(call: Call) -> Reply:
    token, next_page = call.settings.admin_token, safe_next(form(call, "next"))
    if not same_origin(call):
        return login_page(call, next_page, "Sign in from this sandbox's own page.")
    if not token:
        return redirect(next_page)
    if token_matches(form(call, "token"), token):
        return redirect(next_page, admin_cookie(token))
    return login_page(call, next_page, "That is not this sandbox's admin token.")


def logout(call: Call) -> Reply:
    return redirect(BASE + "/login", f"{COOKIE}=; Path={BASE}; HttpOnly; SameSite=Strict; Max-Age=0")


# --- state -------------------------------------------------------------------------------------------
@action
def reset(call: Call) -> Reply:
    seed = form(call, "seed")
    return _done(call, "sandbox-reset", lambda done: f"Reset to the fixtures, seed {done['seed']}.", query={"seed": seed} if seed else {})


_MINUTES_ONLY = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d$")  # what <input type=datetime-local> sends


@action
def clock(call: Call) -> Reply:
    operation = form(call, "op")
    if operation == "freeze":
        body: dict[str, Any] = {"frozen": True}
    elif operation == "run":
        body = {"frozen": False}
    elif operation == "set":
        now = form(call, "now")
        body = {"now": now + ":00" if _MINUTES_ONLY.match(now) else now}
    else:
        advance = form(call, "advance")
        body = {"advance": int(advance) if advance.isdigit() and len(advance) < 12 else advance}
    return _done(call, "sandbox-clock-set", lambda done: f"Clock: {done['now']}" + (" (frozen)." if done["frozen"] else " (running)."), body)


def _uploaded(call: Call, field: str) -> bytes:
    """One file of a multipart/form-data body (the body was read within max_state_bytes). The
    email package is imported here, on the first upload: at start it was a tenth of the app's imports."""
    from email.parser import BytesParser
    from email.policy import HTTP

    media = call.headers.get("content-type", "")
    if not media.lower().startswith("multipart/form-data"):
        raise errors.UnsupportedMediaType(expected="multipart/form-data")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + media.encode("latin-1") + b"\r\n\r\n" + bytes(call.body))
    for part in message.iter_parts() if message.is_multipart() else ():
        if part.get_param("name", header="content-disposition") == field:
            return bytes(part.get_payload(decode=True) or b"")
    raise errors.MissingField(field=field)


@action
def state_upload(call: Call) -> Reply:
    def said(done: Any) -> str:
        return f"State restored (seed {done['seed']}): " + ", ".join(f"{n} {name}" for name, n in done["state"].items()) + "."

    return _done(call, "sandbox-state-put", said, lambda: jsonio.loads(_uploaded(call, "state")), back=BASE + "/control")


@action
def journal_clear(call: Call) -> Reply:
    return _done(call, "sandbox-journal-clear", lambda done: f"Journal cleared: {done['cleared']} requests forgotten.")


# --- faults -------------------------------------------------------------------------------------------
@action
def scenario_arm(call: Call) -> Reply:
    return _done(call, "sandbox-scenarios-load", lambda done: f"Scenario {done['scenario']} armed: {len(done['rules'])} rule(s).",
                 params={"name": call.params["name"]})


@action
def fault_arm(call: Call) -> Reply:
    rule: dict[str, Any] = {"fault": form(call, "fault")}
    for name in ("name", "endpoint", "path", "method"):
        if form(call, name):
            rule[name] = form(call, name)
    for name in ("first", "nth", "every", "times"):
        value = form(call, name)
        if value:
            rule[name] = int(value) if value.isdigit() and len(value) < 10 else value
    if form(call, "probability"):
        try:
            rule["probability"] = Decimal(form(call, "probability"))
        except InvalidOperation:
            rule["probability"] = form(call, "probability")
    return _done(call, "sandbox-faults-create", lambda done: f"Rule {done['id']} armed: {done['fault']}.", rule)


@action
def fault_disarm(call: Call) -> Reply:
    return _done(call, "sandbox-faults-delete", lambda done: f"Rule {done['id']} disarmed.", params={"ruleId": call.params["ruleId"]})


@action
def faults_clear(call: Call) -> Reply:
    return _done(call, "sandbox-faults-clear", lambda done: f"Every rule disarmed ({done['cleared']}).")
