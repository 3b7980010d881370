"""What each fault kind does to one exchange: answer instead of the app, hold, cut the
connection, or rework the app's own response (late, dribbled, malformed, truncated, lost).

Faults that put zero or garbage bytes on the wire need the connection itself; the one reach into
the server for it is `transport_of` (docs/architecture.md), tested over real sockets under both of
uvicorn's HTTP protocols.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.contract import envelope
from sandbox.domain import errors
from sandbox.contract.credentials import Headers, bearer_value
from sandbox.contract.envelope import JSON, Reply, failure_reply, write
from sandbox.domain import tokens
from sandbox.faults import spec

if TYPE_CHECKING:
    from sandbox.web.app import AppState
    from sandbox.web.routes import Route

DISCONNECT_WAIT = 2.0


@dataclass
class Exchange:
    scope: Scope
    receive: Receive
    send: Send
    state: "AppState"
    route: "Route | None"  # None for a path no route serves

    async def answer(self, failure: errors.SandboxError) -> None:
        """The error in the body the adapter would give it, with exactly the status asked for."""
        if self.route is None:
            reply = Reply(envelope.failure("B", failure), failure.status, dict(failure.headers))
        else:
            reply = failure_reply(self.state.settings, self.route, failure)
        await write(self.send, reply)


async def act(fault: spec.Fault, ex: Exchange, response: tuple[Message, bytes] | None = None) -> None:
    """Carry out a fault, after its `delay=`: the one place every fault waits first, whether the
    middleware chose it (header, rule) or a magic value found it inside the app. `response` is the
    app's own answer (start message, body) for a fault pending on it; None: the app has not run."""
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.kind == "token" and fault.value == "expired":  # a real expiry: the token stays expired until replaced
        tokens.expire(ex.state.store, presented_token(ex.scope))
    if response is None:
        await before(fault, ex)
    else:
        await after(fault, ex, *response)


def presented_token(scope: Scope) -> str:
    try:
        return bearer_value(Headers(scope["headers"]).get("authorization", ""))
    except errors.SandboxError:
        return ""


async def before(fault: spec.Fault, ex: Exchange) -> None:
    """Faults that answer instead of the app: nothing reaches the domain, so nothing changes."""
    if fault.kind in spec.ANSWERS:
        await ex.answer(spec.failure_for(fault))
    elif fault.kind == "timeout":
        await hold(fault, ex)
    else:  # the request is read first: unread bytes would turn a close into a reset, and the journal keeps it whole
        await read_request(ex.receive)
        await cut(fault, ex)


async def read_request(receive: Receive) -> None:
    message: Message = {"more_body": True}
    while message.get("more_body", False):
        try:
            message = await asyncio.wait_for(receive(), DISCONNECT_WAIT)
        except asyncio.TimeoutError:
            return
        if message["type"] != "http.request":
            return


async def through(app: ASGIApp, ex: Exchange) -> None:
    """Run the app; if a fault is pending when its response starts, keep the response for `act`."""
    kept: list[Message] = []

    async def send(message: Message) -> None:
        if kept or (message["type"] == "http.response.start" and spec.PENDING in ex.scope):
            kept.append(message)
        else:
            await ex.send(message)

    await app(ex.scope, ex.receive, send)
    if kept:
        start = kept[0]
        body = b"".join(m.get("body", b"") for m in kept[1:])
        await act(ex.scope[spec.PENDING], ex, (start, body))


async def after(fault: spec.Fault, ex: Exchange, start: Message, body: bytes) -> None:
    """Faults that act once the app has answered (and, for a write, committed)."""
    kind = fault.kind
    if kind in spec.ANSWERS or kind == "latency":
        # an answer a magic value raised is the adapter's own reply (enveloped, with its headers): as it is
        if kind == "latency":
            await asyncio.sleep(ex.state.faults.latency(fault))
        await ex.send(start)
        await ex.send({"type": "http.response.body", "body": body})
    elif kind == "slow":
        await dribble(fault, ex, start, body)
    elif kind == "malformed":  # a complete JSON answer, cut in half; its Content-Length matches the cut
        cut_body = body[: max(1, len(body) // 2)]
        headers = [(b"content-type", JSON.encode()), (b"content-length", str(len(cut_body)).encode())]
        headers += [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-type", b"content-length")]
        await ex.send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await ex.send({"type": "http.response.body", "body": cut_body})
    elif kind == "truncated":
        await ex.send(start)
        await ex.send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        await cut(fault, ex)
    elif kind == "timeout":
        await hold(fault, ex)
    else:  # lost (after commit), or reset / empty / garbage armed by a magic value
        await cut(fault, ex)


async def hold(fault: spec.Fault, ex: Exchange) -> None:
    """Hold the request (bounded), then answer as a gateway would; clients' own timeouts fire first."""
    await asyncio.sleep(spec.duration(fault.value, "timeout"))
    await ex.answer(errors.InjectedError(504))


async def dribble(fault: spec.Fault, ex: Exchange, start: Message, body: bytes) -> None:
    """The body in chunks with a pause before each; all pauses together last at most MAX_HOLD_SECONDS
    (then the rest comes at once), so chunk=1 on a large body cannot hold a connection for days."""
    size, pause = fault.number("chunk", 16), fault.seconds("every", 0.1)
    chunks = range(0, len(body), size)
    paused = min(len(chunks), int(spec.MAX_HOLD_SECONDS / pause) if pause else len(chunks))
    await ex.send(start)
    for n, offset in enumerate(chunks[:paused]):
        if pause:
            await asyncio.sleep(pause)
        last = n == paused - 1
        end = len(body) if last else offset + size
        await ex.send({"type": "http.response.body", "body": body[offset:end], "more_body": True})
    await ex.send({"type": "http.response.body", "body": b""})


async def cut(fault: spec.Fault, ex: Exchange) -> None:
    """End the connection: reset (RST), empty (FIN, no bytes), garbage (random bytes, then FIN);
    `lost` resets; `truncated` closes after what was sent."""
    transport = transport_of(ex.send)
    if transport is None:
        raise RuntimeError(f"fault {fault.kind!r} needs the server's connection, which this server does not expose")
    if fault.kind == "garbage":
        transport.write(ex.state.faults.garbage(fault.number("bytes", 64)))
    if fault.kind in ("reset", "lost"):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    await until_disconnected(ex.receive)


async def until_disconnected(receive: Receive) -> None:
    """Let the server see the connection go, so it does not try to answer on it."""

    async def drain() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(drain(), DISCONNECT_WAIT)
    except asyncio.TimeoutError:
        pass


def transport_of(send: Callable[..., Any]) -> asyncio.Transport | None:
    """THE reach into the server: uvicorn's `send` is a bound method of its request cycle (h11 and
    httptools alike), which holds the connection's transport. Middlewares outside ours may wrap
    `send` in closures or bound methods, so those are followed too."""
    todo: list[Any] = [send]
    seen: set[int] = set()
    while todo and len(seen) < 64:
        candidate = todo.pop()
        if id(candidate) in seen:
            continue
        seen.add(id(candidate))
        owner = getattr(candidate, "__self__", None)
        transport = getattr(owner, "transport", None)
        if all(hasattr(transport, name) for name in ("write", "abort", "close", "get_extra_info")):
            return transport  # type: ignore[no-any-return]
        if owner is not None:
            todo += [v for v in vars(owner).values() if callable(v)] if hasattr(owner, "__dict__") else []
        for cell in getattr(candidate, "__closure__", None) or ():
            try:
                content = cell.cell_contents
            except ValueError:
                continue
            if callable(content):
                todo.append(content)
        wrapped = getattr(candidate, "__wrapped__", None) or getattr(candidate, "func", None)
        if callable(wrapped):
            todo.append(wrapped)
    return None

