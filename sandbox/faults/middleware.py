"""FaultMiddleware: every request to EnKash's paths passes here; the engine picks a fault from
the `X-Sandbox-Fault` header or the armed rules, and effects.py carries it out. The sandbox's own
/__sandbox/ API is never faulted, so a test can always disarm what it armed.

Wrapped around the dispatcher (sandbox/web/app.py `wrap()`), so it talks to the server's own
`send`; the request's scope gets `sandbox.fault`, a short description the journal records.
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any, Awaitable, Mapping
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.contract import jsonio
from sandbox.domain import errors
from sandbox.contract.credentials import Headers, basic_credentials, bearer_value
from sandbox.faults import effects, spec
from sandbox.faults.rules import Incoming

if TYPE_CHECKING:
    from sandbox.web.app import AppState

HEADER = "x-sandbox-fault"
HEADER_BYTES = HEADER.encode()
OWN_API = "/__sandbox/"


class FaultMiddleware:
    def __init__(self, app: ASGIApp, state: "AppState") -> None:
        self.app = app
        self.state = state

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """Returns the app's own coroutine when no fault can apply (the caller awaits it): no
        coroutine of the middleware's own on the way to an endpoint."""
        if scope["type"] != "http" or scope["path"].startswith(OWN_API):
            return self.app(scope, receive, send)
        if not self.state.faults.rules and HEADER_BYTES not in map(itemgetter(0), scope["headers"]):
            # nothing armed: only a magic value, found inside the app (adapter.Endpoint), can
            # still act, and the Endpoint carries it out itself: no layer around the app's send
            scope[spec.DIRECT] = True
            return self.app(scope, receive, send)
        return self.faulted(scope, receive, send)

    async def faulted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A request a rule or the fault header may fault."""
        engine = self.state.faults
        route = self.state.router.resolve(scope).route
        headers = Headers(scope["headers"])
        body = None
        if engine.needs_body:
            body, receive = await read_json(receive, self.state.settings.body_limit(route.limit if route else "call"))
        ex = effects.Exchange(scope, receive, send, self.state, route)
        claimed, proven = self.partners_of(headers)
        request = Incoming(
            scope["method"], scope["path"], route.operation if route else "", claimed, company_of(body, scope), body, proven,
        )
        try:
            chosen = engine.choose(request, headers.get(HEADER))
        except errors.SandboxError as bad_header:
            await ex.answer(bad_header)
            return
        if chosen is not None:
            scope[spec.DESCRIPTION] = chosen.description
            if chosen.fault.acts_before:
                await effects.act(chosen.fault, ex)
                return
            scope[spec.OUTCOME if chosen.fault.acts_inside else spec.PENDING] = chosen.fault
        await effects.through(self.app, ex)

    def partners_of(self, headers: Mapping[str, str]) -> tuple[str | None, str | None]:
        """Who the request says it is (the partnerId header, else the partner behind the bearer
        token or the Basic client), and who its credentials prove it is (a valid token, a Basic
        client with its secret; None: nobody), read with the adapter's own credential parsers.
        Rules match the first; rate limits count the second, so a spoofed header drains nobody's."""
        store = self.state.store
        value = headers.get("authorization", "")
        claimed = proven = None
        try:
            if value.strip().lower().startswith("basic "):
                client_id, secret = basic_credentials(value)
                client = store.clients.get(client_id)
                claimed = client.partner_id if client else None
                proven = claimed if client is not None and client.client_secret == secret else None
            elif value:
                token = store.tokens.get(bearer_value(value))
                claimed = token.partner_id if token else None
                proven = claimed if token is not None and not store.clock.passed(token.expires_at) else None
        except errors.SandboxError:
            pass
        return headers.get("partnerid") or claimed, proven


def company_of(body: Any, scope: Scope) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("companyId"), str):
        return body["companyId"]
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    return query.get("companyId")


async def read_json(receive: Receive, limit: int) -> tuple[Any, Receive]:
    """Read the body (for rules that match on its fields) and hand the app a receive that replays it."""
    chunks: list[bytes] = []
    size, more, message = 0, True, None
    while more and size <= limit:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = message.get("more_body", False)
    raw = b"".join(chunks)
    replayed: list[Message] = [{"type": "http.request", "body": raw, "more_body": more}]
    if message is not None and message["type"] != "http.request":
        replayed.append(message)

    async def replay() -> Message:
        return replayed.pop(0) if replayed else await receive()

    body = None
    if not more and raw:
        try:
            body = jsonio.loads(raw)
        except errors.SandboxError:
            body = None
    return body, replay
