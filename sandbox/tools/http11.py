"""The HTTP/1.1 connection: uvicorn's httptools protocol with the sandbox's own limits.

uvicorn leaves these to a proxy in front of it; a sandbox is reached directly, so its protocol
bounds what one client can hold (README.md, "Limits"): the request line and headers (431), the
time to send them and the body (408), an idle connection, a response nobody reads, and the open
connections (503, with room kept for /__sandbox/ calls: a connection past the cap is placed by
its request line, so no flood of empty or slow sockets can refuse health or an admin call). What the parser refuses gets the
documented envelope instead of uvicorn's plain text. A request with `Upgrade: h2c` (the JDK's
HttpClient sends one by default, curl --http2 too) is served as HTTP/1.1 with its body: llhttp
stops at any Upgrade and skips the body, and uvicorn then hands the app an empty one (uvicorn
issue #2722). Deadlines are one float per connection, checked by one sweep every half second,
so a request costs no timer of its own.
"""

from __future__ import annotations

import asyncio
import re
import resource
from itertools import chain
from typing import TYPE_CHECKING, Any, NamedTuple

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from sandbox.contract import envelope, jsonio
from sandbox.domain import errors
from sandbox.web.adapter import TIMED_OUT, unrouted_reply

if TYPE_CHECKING:
    from sandbox.settings import Settings
    from sandbox.web.app import SandboxApp
    from sandbox.web.router import Router

SWEEP_SECONDS = 0.5
LINGER_SECONDS = 2.0  # after a refusal, the client's unread bytes are taken (not reset) this long
LINGER_MAX = 64  # connections beyond the places: refused ones lingering, and ones past the cap awaiting their request line
FILE_HEADROOM = 64  # descriptors kept for everything but connections (the listener, files, pipes)
EVICT_AFTER_SECONDS = 0.5  # when every place is taken, a head still incomplete this long gives its place up
OWN_API = b"/__sandbox/"
_REQUEST_LINE = re.compile(rb"\s*([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) (/[^ ?#\r\n]{0,2048})")
_FRAMING = (b"content-length", b"transfer-encoding")
IDLE, HEAD, BODY, APP = "idle", "head", "body", "app"
API, RESERVE, WAITING = "api", "reserve", "waiting"  # a connection's place: any path, /__sandbox/ only, none yet


class Limits(NamedTuple):
    header_bytes: int
    header_timeout: float
    body_timeout: float
    idle_timeout: float
    connections: int  # open connections for EnKash's paths
    reserve: int  # more of them, for /__sandbox/ calls only
    error_envelope: str


def limits_of(settings: "Settings") -> Limits:
    """The settings' limits, the connection cap lowered to what the process's file limit allows."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    fits = (soft if soft != resource.RLIM_INFINITY else 1 << 20) - FILE_HEADROOM - LINGER_MAX
    total = max(2, min(settings.max_connections + settings.admin_connections, fits))
    reserve = min(settings.admin_connections, total // 2)
    return Limits(settings.max_header_bytes, settings.header_timeout, settings.body_timeout, settings.idle_timeout,
                  total - reserve, reserve, settings.error_envelope)


def protocol_class(settings: "Settings", app: "SandboxApp") -> type["SandboxProtocol"]:
    """The protocol uvicorn builds for each connection, bound to this server's limits and routes."""
    return type("SandboxProtocol", (SandboxProtocol,), {"limits": limits_of(settings), "router": app.sandbox.router,
                                                         "sweeping": False, "lingering": 0, "waiting": 0})


class SandboxProtocol(HttpToolsProtocol):
    limits: Limits
    router: "Router"
    sweeping: bool  # one sweep per server runs while it has connections
    lingering: int  # refused connections of this server still open, taking their clients' last bytes
    waiting: int  # connections past the cap awaiting their request line (lingering + waiting <= LINGER_MAX)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phase = IDLE
        self.since = 0.0  # loop time the current phase began
        self.deadline = 0.0  # loop time the current phase must end by (0: none)
        self.stalled_at = 0.0  # loop time the transport stopped taking our writes (0: it takes them)
        self.head_bytes = 0  # bytes of the head that came before the segment being parsed
        self.feeding = 0  # bytes of the segment being parsed
        self.refused = False
        self.used = False  # a request has begun on it
        self.lingers = False  # refused, and counted in `lingering` until it closes
        self.place = API  # API, RESERVE (only /__sandbox/ calls are served) or WAITING (see placed_at_connect)

    # --- the connection -------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.joined = JoinedWrites(transport, self.loop)
        self.enter(IDLE, self.limits.idle_timeout)
        cls = type(self)
        if not cls.sweeping:
            cls.sweeping = True
            self.loop.call_later(SWEEP_SECONDS, _sweep, cls, self.connections, self.loop)
        if len(self.connections) > self.limits.connections:
            self.placed_at_connect()

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return  # lingering: taken and dropped
        if self.phase == IDLE:
            self.enter(HEAD, self.limits.header_timeout)  # the head's time runs from its first byte
        in_head = self.phase == HEAD
        self.feeding = len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self.served_as_http11(data[upgrade.args[0]:] if upgrade.args else b"")
        except httptools.HttpParserCallbackError:
            if not self.refused:  # a callback of ours or uvicorn's failed: a sandbox bug, not the client's
                self.refuse(errors.SandboxError("sandbox bug: the HTTP parser's callback failed", status=500))
        except httptools.HttpParserError as bad:
            self.refuse_malformed(data, bad)
        else:
            if self.phase == HEAD:  # a head still open: bounded while it streams in
                self.head_bytes = self.head_bytes + len(data) if in_head else len(data)
                if self.head_bytes > self.limits.header_bytes:
                    self.refuse(errors.HeadersTooLarge(limit=self.limits.header_bytes))
                elif self.place != API and (url := getattr(self, "url", b"")) and (
                        url.startswith(OWN_API) or b"\n" in data or not OWN_API.startswith(url[:len(OWN_API)])):
                    # a request line past the cap is placed as soon as its path is known, not when
                    # its head ends: a slowloris head would otherwise hold a place, or the reserve
                    # kept for health and admin calls, until the header timeout
                    self.placed_by(url)

    def connection_lost(self, exc: Exception | None) -> None:
        self.phase, self.deadline, self.stalled_at = IDLE, 0.0, 0.0
        self.leave_waiting()
        self.leave_lingering()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        self.stalled_at = self.loop.time()
        super().pause_writing()

    def resume_writing(self) -> None:
        self.stalled_at = 0.0
        super().resume_writing()

    # --- the parser's callbacks -----------------------------------------------------------------
    # (each names its base class's method rather than calling super(): a super object a call, a
    # dozen calls a request, was a tenth of what this class added to one)
    def on_message_begin(self) -> None:
        if self.phase != HEAD:  # a pipelined request starts while the one before is answered
            self.enter(HEAD, self.limits.header_timeout)
        self.used = True
        self.head_bytes = 0
        HttpToolsProtocol.on_message_begin(self)

    def on_headers_complete(self) -> None:
        # the head is no longer than the bytes it came in (its earlier segments and this one), so
        # only a head that might be too large has its size counted (it is at most its wire size)
        if self.head_bytes + self.feeding > self.limits.header_bytes and self.head_size() > self.limits.header_bytes:
            self.refuse(errors.HeadersTooLarge(limit=self.limits.header_bytes))
            raise _Refused
        if self.place != API and not self.placed_by(self.url):
            raise _Refused
        self.enter(BODY, self.limits.body_timeout)
        HttpToolsProtocol.on_headers_complete(self)
        if self.cycle is not None:
            self.cycle.transport = self.joined  # type: ignore[assignment]

    def head_size(self) -> int:
        headers = self.headers
        return len(self.url) + sum(map(len, chain.from_iterable(headers))) + 4 * len(headers) + 16

    def on_message_complete(self) -> None:
        self.phase, self.deadline = APP, 0.0  # no deadline while the app answers
        HttpToolsProtocol.on_message_complete(self)

    def on_response_complete(self) -> None:
        """uvicorn's, less its keep-alive timer (one call_later and its cancel a request): the
        idle deadline entered here, checked by the sweep, closes an idle connection instead."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self.phase == APP:
            self.enter(IDLE, self.limits.idle_timeout)

    # --- limits ---------------------------------------------------------------------------------
    def enter(self, phase: str, seconds: float) -> None:
        self.phase, self.since = phase, self.loop.time()
        self.deadline = self.since + seconds if seconds else 0.0

    def placed_at_connect(self) -> None:
        """Every place for EnKash's paths may be taken (the quick count includes connections
        leaving and waiting): a free one, else the place of a head stuck over EVICT_AFTER_SECONDS,
        else none yet. Such a connection waits for its request line (placed_by) among at most
        LINGER_MAX extra ones, the oldest waiting one refused for a newer: what it asks for, not
        when it connected, decides, so sockets held open empty fill no place that health needs."""
        cls = type(self)
        if self.count(API) < self.limits.connections or self.evicted((API,), EVICT_AFTER_SECONDS):
            return
        if cls.lingering + cls.waiting >= LINGER_MAX:
            waiting = min(self.holding((WAITING,)), key=lambda other: other.since, default=None)
            if waiting is not None:
                waiting.refuse(errors.TooManyConnections(limit=self.limits.connections), linger=False)
            else:  # all of them lingering: the oldest refusal closes now rather than in LINGER_SECONDS
                lingering = [other for other in self.connections if getattr(other, "lingers", False)]
                for oldest in sorted(lingering, key=lambda other: other.since)[:1]:
                    oldest.stop_lingering()
        self.place = WAITING
        cls.waiting += 1

    def placed_by(self, url: bytes) -> bool:
        """A connection in the reserve or waiting, once its path is known: a /__sandbox/ call takes
        the reserve, a free place, or at once the place of the oldest connection still empty or
        in its head (a real client's head comes in one segment); a call to another path from
        the reserve is refused (503), one waiting takes a free place or one stuck over
        EVICT_AFTER_SECONDS. Whether it was placed; refused (503) if not."""
        if self.place == API or self.refused:
            return not self.refused
        own, limits = url.startswith(OWN_API), self.limits
        if self.place == WAITING:
            if own and self.count(RESERVE) < limits.reserve:
                place: str | None = RESERVE
            elif self.count(API) < limits.connections:
                place = API
            else:
                place = self.evicted((API, RESERVE) if own else (API,), 0.0 if own else EVICT_AFTER_SECONDS)
            if place is not None:
                self.leave_waiting()
                self.place = place
        if self.place == RESERVE and own or self.place == API:
            return True
        self.leave_waiting()
        self.refuse(errors.TooManyConnections(limit=limits.connections + (limits.reserve if own else 0)))
        return False

    def holding(self, places: tuple[str, ...]) -> list["SandboxProtocol"]:
        cls = type(self)
        return [other for other in self.connections
                if isinstance(other, cls) and other is not self and not other.refused and other.place in places]

    def count(self, place: str) -> int:
        return len(self.holding((place,)))

    def evicted(self, places: tuple[str, ...], older_than: float) -> str | None:
        """The place given up by the connection in `places` whose head has been arriving longest
        (or that was opened and has sent nothing), if for over `older_than`; it is refused (408).
        A real client sends its head in one segment as soon as it has connected, so heads that
        dribble (slowloris) and sockets held open empty go first."""
        oldest, started = None, self.loop.time() - older_than
        for other in self.holding(places):
            if (other.phase == HEAD or other.phase == IDLE and not other.used) and other.since <= started:
                oldest, started = other, other.since
        if oldest is None:
            return None
        oldest.refuse(errors.PlaceTaken())
        return oldest.place

    def stop_lingering(self) -> None:
        if self.lingers:
            self.leave_lingering()
            self.transport.close()

    def leave_lingering(self) -> None:
        if self.lingers:
            self.lingers = False
            type(self).lingering -= 1

    def leave_waiting(self) -> None:
        if self.place == WAITING:
            self.place = API
            type(self).waiting -= 1

    def expire(self, now: float) -> None:
        """Called by the sweep for a connection past its deadline, or whose writes stalled."""
        if self.stalled_at:
            if now - self.stalled_at > self.limits.body_timeout:
                self.transport.abort()  # a client that takes no response holds its buffer: let both go
        elif not self.deadline or now <= self.deadline:
            return
        elif self.phase == HEAD:
            self.refuse(errors.RequestTimeout(part="line and headers", seconds=self.limits.header_timeout))
        elif self.phase == BODY:
            cycle = self.cycle
            if cycle is not None and not cycle.response_started:
                error = errors.RequestTimeout(part="body", seconds=self.limits.body_timeout)
                cycle.scope[TIMED_OUT] = error  # type: ignore[literal-required]  # the app records what the client saw
                self.refuse(error, self.route_envelope())
                cycle.disconnected = True  # the app's receive() ends now; whatever it answers is not sent
                cycle.message_event.set()
            else:
                self.transport.close()
        elif self.phase == IDLE:
            self.transport.close()

    def refuse_malformed(self, data: bytes, bad: httptools.HttpParserError) -> None:
        """The parser's refusal as the envelope: an unknown method is the route table's 405 (or
        404), anything else a 400 naming what llhttp found."""
        line = _REQUEST_LINE.match(data) if isinstance(bad, httptools.HttpParserInvalidMethodError) else None
        if line is not None:
            method, path = line.group(1).decode("ascii"), line.group(2).decode("latin-1")
            reply = unrouted_reply(self.router.find(method, path), method, path)
            self.refuse(errors.SandboxError(reply.body["response_message"], status=reply.status), headers=reply.headers)
            return
        reason = str(bad).encode("ascii", "replace").decode() or type(bad).__name__
        self.refuse(errors.MalformedRequest(reason=reason[:200]))

    def refuse(self, error: errors.SandboxError, route_envelope: str = "none", headers: dict[str, str] | None = None,
               linger: bool = True) -> None:
        """Answer `error` in the documented envelope, close the connection and stop reading it."""
        if self.refused or self.transport.is_closing():
            return
        self.refused = True
        self.leave_waiting()
        body = jsonio.dumps(envelope.failure(envelope.error_variant(self.limits.error_envelope, route_envelope), error))
        lines = [STATUS_LINE[error.status], b"content-type: application/json\r\n",
                 b"content-length: %d\r\nconnection: close\r\n" % len(body)]
        for name, value in {**error.headers, **(headers or {})}.items():
            if name.lower() != "connection":
                lines.append(f"{name.lower()}: {value}\r\n".encode("latin-1"))
        self.transport.write(b"".join([*lines, b"\r\n", body]))
        cls = type(self)
        if linger and cls.lingering + cls.waiting < LINGER_MAX and self.transport.can_write_eof():
            self.transport.write_eof()  # half-close: the client reads the answer while we take its rest
            self.loop.call_later(LINGER_SECONDS, self.transport.close)  # connection_lost counts it out
            self.lingers = True
            cls.lingering += 1
        else:  # a flood of refusals: each descriptor is given back at once (unread bytes may reset it)
            self.transport.close()

    def route_envelope(self) -> str:
        route = self.router.find(self.scope["method"], self.scope["path"]).route if self.scope else None
        return route.envelope if route is not None else "none"

    def served_as_http11(self, rest: bytes) -> None:
        """After `Upgrade:` llhttp has reported the message complete and left its body in `rest`:
        serve it as HTTP/1.1 without the upgrade (RFC 9113 §3.2 allows ignoring h2c), so a fresh
        parser is fed a head with just the request's framing, then the bytes that followed."""
        framing = [(name, value) for name, value in self.headers if name in _FRAMING]
        replayed = framing and self.cycle is not None and not self.cycle.response_started
        self.parser = httptools.HttpRequestParser(_AfterUpgrade(self, replaying=bool(replayed)))
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        if replayed:
            self.cycle.more_body = True  # undo the message_complete llhttp reported; the app has not run yet
            self.enter(BODY, self.limits.body_timeout)
            head = b"POST / HTTP/1.1\r\n" + b"".join(name + b": " + value + b"\r\n" for name, value in framing) + b"\r\n"
            rest = head + rest
        if rest:
            self.data_received(rest)


class _AfterUpgrade:
    """The parser's callbacks on a connection served as HTTP/1.1 after an Upgrade: the made-up
    head that frames the upgraded request's body is not a request (its callbacks do nothing);
    every later one goes to the protocol. Only such connections pay this extra step."""

    def __init__(self, protocol: SandboxProtocol, replaying: bool) -> None:
        self.protocol, self.replaying = protocol, replaying

    def on_message_begin(self) -> None:
        if not self.replaying:
            self.protocol.on_message_begin()

    def on_url(self, url: bytes) -> None:
        if not self.replaying:
            self.protocol.on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.replaying:
            self.protocol.on_header(name, value)

    def on_headers_complete(self) -> None:
        if self.replaying:
            self.replaying = False
        else:
            self.protocol.on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self.protocol.on_body(body)

    def on_message_complete(self) -> None:
        self.protocol.on_message_complete()


class JoinedWrites:
    """The transport as a request cycle sees it: uvicorn writes a response's head and its body in
    two calls, two send() system calls and two segments; here a write waits until the next one
    (or the loop's next turn, whichever is first) and leaves with it, so a whole response goes
    out in one. Order and bytes are unchanged; close and abort send what waits first."""

    __slots__ = ("transport", "loop", "held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport, self.loop = transport, loop
        self.held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self.held
        if held is None:
            self.held = data
            self.loop.call_soon(self.flush)
            return
        self.held = None
        if len(data) < 16384:
            self.transport.write(held + data)
        else:  # no copy of a large body
            self.transport.writelines((held, data))

    def flush(self) -> None:
        held, self.held = self.held, None
        if held is not None and not self.transport.is_closing():
            self.transport.write(held)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self.flush()
        self.transport.abort()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:  # anything else a fault or uvicorn asks of a transport
        self.flush()
        return getattr(self.transport, name)


class _Refused(Exception):
    """Raised in a parser callback to stop llhttp once the request was answered."""


def _sweep(cls: type[SandboxProtocol], connections: set[Any], loop: asyncio.AbstractEventLoop) -> None:
    now = loop.time()
    for connection in list(connections):
        if isinstance(connection, cls) and not connection.refused and (
            (connection.deadline and now > connection.deadline) or connection.stalled_at
        ):
            connection.expire(now)
    if connections:
        loop.call_later(SWEEP_SECONDS, _sweep, cls, connections, loop)
    else:
        cls.sweeping = False
