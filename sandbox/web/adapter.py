"""The one HTTP adapter: every route's request goes body -> auth -> validate -> endpoint ->
envelope here, and every SandboxError becomes the documented envelope here and nowhere else.

Endpoints are plain synchronous functions of a `Call`, so once the body is read the whole
operation runs without yielding to the event loop: concurrent requests cannot interleave. The one
long job, the bulk upload, is a generator that pauses between slices of whole rows (in_turns).
"""

from __future__ import annotations

import asyncio
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import GeneratorType
from typing import TYPE_CHECKING, Any, Generator, Mapping, NamedTuple
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from sandbox.contract import crypto, envelope, jsonio
from sandbox.contract.credentials import Headers, basic_credentials, bearer_value
from sandbox.contract.envelope import FORM, JSON, Reply, failure_reply, response
from sandbox.domain import errors, tokens
from sandbox.faults import effects, magic, spec
from sandbox.state.store import AccessToken, Store

if TYPE_CHECKING:
    from sandbox.web.app import AppState
    from sandbox.web.router import Found
    from sandbox.web.routes import Route
    from sandbox.settings import Settings

# request.scope keys of encrypted payload mode: the journal records the decrypted bodies
DECRYPTED_BODY = "sandbox.decrypted_body"
DECRYPTED_RESPONSE = "sandbox.decrypted_response"
RESPONSE_KEY = "sandbox.response_key"
# a JSON body at least this large is parsed beside the event loop: 16 KiB of the worst JSON for
# the exact decoder (an object every 3 bytes, each through its hook) takes ~7 ms, and a flood of
# 1 MiB calls parsed on the loop (430 ms each) held health for seconds (bench/hostile.py)
OFF_LOOP_BYTES = 1 << 14
TRIM_AFTER_BYTES = 1 << 20  # a body at least this large has its memory given back after it
_PARSER = ThreadPoolExecutor(1, thread_name_prefix="sandbox-large-body")
TIMED_OUT = "sandbox.timed_out"  # scope key: the server gave up on the body (tools/http11.py) and answered 408


@dataclass(slots=True)
class Call:
    """What an endpoint gets: the parsed request and the app's state, nothing HTTP-specific.
    Slots: one is made per request and its fields are read several times each."""

    state: "AppState"
    route: "Route"
    body: Any
    query: dict[str, str]
    params: dict[str, str]
    headers: Mapping[str, str]
    token: AccessToken | None = None
    basic: tuple[str, str] | None = None
    outcome: "spec.Fault | None" = None  # a fault the endpoint carries out itself (order=, on create-order)

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


class Endpoint:
    """The ASGI app of one route: reads the body, runs the adapter's steps, sends the answer. No
    Request/Response objects: the hot path builds only what it uses."""

    def __init__(self, route: "Route", state: "AppState") -> None:
        self.route = route
        self.state = state
        # Settings are frozen and the state keeps the ones it was built with: read once, not per request
        self.limit = state.settings.body_limit(route.limit)
        self.validate_responses = state.settings.validate_responses
        self.checks = Checks(*(name if state.schemas.has(name) else None
                               for name in (route.operation + ".query", route.operation + ".request" if route.body != "none" else "")))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route, state = self.route, self.state
        raw = b""
        try:
            headers = Headers(scope["headers"])
            raw = await read_body(scope, receive, self.limit, headers.value(b"content-length"))
            call = authenticated(state, route, scope, headers)  # before any parse: a stranger's body costs no parsing
            early = await parsed_beside_the_loop(raw, state.settings.max_depth) if (
                len(raw) >= OFF_LOOP_BYTES and route.body == "json") else None
            prepare(call, scope, raw, self.checks, headers.value(b"content-type", ""), early)
            magic.check(state.faults, route.operation, call.body, scope)  # magic values (sandbox/faults/)
            if spec.OUTCOME in scope:
                call.outcome = scope[spec.OUTCOME]
            result = route.endpoint(call)
            if isinstance(result, GeneratorType):
                result = await in_turns(result)
            reply = result if isinstance(result, Reply) else Reply(envelope.success(route.envelope, result))
        except errors.SandboxError as failure:
            reply = failure_reply(state.settings, route, failure)
            if not state.settings.encrypt_errors:
                scope.pop(RESPONSE_KEY, None)
        except Exception as bug:  # a sandbox bug still answers in the envelope, loudly
            reply = failure_reply(state.settings, route, errors.SandboxError(f"sandbox bug: {type(bug).__name__}: {bug}", status=500))
            scope.pop(RESPONSE_KEY, None)
        if self.validate_responses:
            reply = checked(state, route, reply)
        if RESPONSE_KEY in scope:  # encrypted payload mode
            reply = sealed(scope, reply)
        if spec.PENDING in scope and scope.get(spec.DIRECT):  # a magic value's fault, on this answer
            await effects.act(scope[spec.PENDING], effects.Exchange(scope, receive, send, state, route), envelope.response(reply))
            return
        start, content = response(reply)  # write(), without a coroutine of its own
        await send(start)
        await send({"type": "http.response.body", "body": content})
        if len(raw) >= TRIM_AFTER_BYTES:
            _PARSER.submit(_give_back_memory)


async def in_turns(steps: Generator[None, None, Any]) -> Any:
    """Run an endpoint that pauses between slices of a long job (the bulk upload) with a turn of
    the loop at each pause, so other clients are served meanwhile; its result, or its refusal."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
        await asyncio.sleep(0)


@functools.cache
def _libc_trim() -> Any:
    """glibc's malloc_trim, looked up on the first large body (ctypes is not imported at start)."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim): nothing to give back
        return None


def _give_back_memory() -> None:
    """After a large body, glibc keeps the freed copies of it in its heaps (+60 to 100 MB after
    a flood of 8 MiB uploads, bench/hostile.py); malloc_trim returns them to the system. On the
    parser's thread, after the request: the loop never waits for it."""
    trim = _libc_trim()
    if trim is not None:
        trim(0)


def unrouted_reply(found: "Found", method: str, path: str) -> Reply:
    """404 for a path no route has, 405 (with Allow) for a method the path does not take."""
    if found.allowed:
        failure: errors.SandboxError = errors.MethodNotAllowed(method=method, path=path)
        return Reply(envelope.failure("B", failure), failure.status, {"Allow": ", ".join(found.allowed)})
    failure = errors.RouteNotFound(path=path)
    return Reply(envelope.failure("B", failure), failure.status)


async def read_body(scope: Scope, receive: Receive, limit: int, declared: str | None) -> bytes:
    """The whole body, refused at once when its Content-Length (`declared`) is over `limit`."""
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise errors.BodyTooLarge(limit=limit)
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":  # the client went away, or the server's body timeout struck
            raise scope.get(TIMED_OUT) or errors.MalformedBody(reason="the client disconnected before the body was complete")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise errors.BodyTooLarge(limit=limit)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class Checks(NamedTuple):
    """The schemas a route's requests are checked against (None: the route has none)."""

    query: str | None
    body: str | None


class Parsed(NamedTuple):
    """A large JSON body parsed ahead (parsed_beside_the_loop): its document, or why it is not one."""

    document: Any
    failure: errors.SandboxError | None


class Pace:
    """The parser thread's share of the GIL, at most half: before a parse it rests as long as the
    one before took (from that one's end). A flood of large bodies kept the thread parsing
    without a pause, and each of its C calls (7 to 14 ms for one 8 MiB string) held the loop;
    resting, it leaves the loop at least every other moment. A lone upload never waits."""

    def __init__(self, clock: Any = time.monotonic, sleep: Any = time.sleep) -> None:
        self.clock, self.sleep = clock, sleep
        self.free_at = 0.0  # the clock's time the next parse may start

    def run(self, parse: Any, *args: Any) -> Any:
        rest = self.free_at - self.clock()
        if rest > 0:
            self.sleep(rest)
        started = self.clock()
        try:
            return parse(*args)
        finally:
            ended = self.clock()
            self.free_at = ended + (ended - started)


_PACE = Pace()  # used only on the _PARSER thread


async def parsed_beside_the_loop(raw: bytes, max_depth: int) -> Parsed:
    """jsonio.loads of a large body on one worker thread: 30 to 50 ms for 8 MiB, which on the loop
    held every other client (health waited over a second while 8 clients sent such bodies,
    bench/hostile.py); beside it, the loop waits at most for one C call of the parser. A failure
    is kept, without its traceback, for prepare() to raise where the parse would have been, so
    a media-type refusal still comes first (credentials were checked before the parse began)."""
    try:
        return Parsed(await asyncio.get_running_loop().run_in_executor(_PARSER, _PACE.run, jsonio.loads, raw, max_depth), None)
    except errors.SandboxError as failure:
        return Parsed(None, failure.with_traceback(None))


def authenticated(state: "AppState", route: "Route", scope: Scope, headers: Headers) -> Call:
    """The call with its credentials checked (Basic, a bearer token with its partnerId, or the
    admin token), before anything reads the body."""
    query_string = scope.get("query_string")
    query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)) if query_string else {}
    params = scope.get("path_params")
    call = Call(state, route, None, query, dict(params) if params else {}, headers)
    auth = route.auth
    if auth == "basic":
        call.basic = basic_credentials(headers.value(b"authorization", ""))
    elif auth in ("partner", "bearer", "user"):
        # "user" (the marketplace): a card holder's token, or an SSO token as its holder's, is accepted too
        user = auth == "user"
        call.token = tokens.authenticate(state.store, bearer_value(headers.value(b"authorization", "")),
                                         holder_ok=user, sso_ttl=state.token_policy.ttl_seconds if user else None)
        if auth == "partner":
            partner = headers.value(b"partnerid")
            if not partner:
                raise errors.PartnerHeaderMissing()
            if partner != call.token.partner_id:
                raise errors.PartnerMismatch()
    elif auth == "admin" and state.settings.admin_token:
        if bearer_value(headers.value(b"authorization", ""), errors.AdminTokenRequired) != state.settings.admin_token:
            raise errors.AdminTokenRequired()
    return call


def prepare(call: Call, scope: Scope, raw: bytes, checks: Checks, content_type: str, early: Parsed | None = None) -> None:
    """Decrypt, check the query, parse and check the body of an authenticated call."""
    state = call.state
    opened = unsealed(state, call, scope, raw)
    if checks.query:
        state.schemas.check(checks.query, call.query)
    call.body = parse_body(call.route.body, content_type, raw, opened, state.settings.max_depth, early)
    if checks.body:
        state.schemas.check(checks.body, call.body)


def parse_body(kind: str, content_type: str, raw: bytes, opened: "Opened | None" = None, max_depth: int = jsonio.MAX_DEPTH,
               early: Parsed | None = None) -> Any:
    """The body as the endpoint gets it; `opened`: the document unsealed() already decrypted and
    parsed, so the plaintext is not parsed twice."""
    # the exact media type, as clients send it, needs no parsing
    media = content_type if content_type == JSON else content_type.split(";", 1)[0].strip().lower()
    if kind == "none":
        return None
    if kind == "raw":  # the endpoint parses it (admin fixtures: YAML or JSON)
        return raw
    if kind == "form":
        if media != FORM:
            raise errors.UnsupportedMediaType(expected=FORM)
        try:
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            raise errors.MalformedBody(reason="form body is not valid UTF-8") from None
    if media != JSON and not media.endswith("+json"):
        raise errors.UnsupportedMediaType(expected=JSON)
    if opened is not None:
        return opened.document
    if early is not None:
        if early.failure is not None:
            raise early.failure
        return early.document
    return jsonio.loads(raw, max_depth)


class Opened(NamedTuple):
    """A request body that came sealed: its decrypted JSON document."""

    document: Any


def unsealed(state: "AppState", call: Call, scope: Scope, raw: bytes) -> Opened | None:
    """Encrypted payload mode (crypto.py): with the partner's mode `required` every JSON body, with
    `optional` an enveloped one, is decrypted with the key of the token's client (and parsed, once),
    and the reply to it will be sealed; a required-mode call without a body gets a sealed reply too."""
    mode = encryption_mode(state, call.token)
    if mode == "off":
        return None
    is_json = call.route.body == "json"
    text = crypto.envelope_text(raw) if is_json and mode == "optional" else None
    if mode == "optional" and text is None:
        return None
    assert call.token is not None
    client = state.store.clients.get(call.token.client_id)
    if client is None:
        raise errors.ResponseEncryptionFailed(reason=f"no client secret for clientId {call.token.client_id}")
    key = crypto.derive_key(client.client_secret)
    opened = None
    if is_json:
        plaintext = crypto.open_request(raw, key, text)
        opened = Opened(crypto.parse_plaintext(plaintext))
        scope[DECRYPTED_BODY] = plaintext
    scope[RESPONSE_KEY] = key
    return opened


def encryption_mode(state: "AppState", token: AccessToken | None) -> str:
    """off | optional | required: the partner's own fixture setting, else the global one."""
    if token is None or not token.client_id:  # an SSO token is a browser's, never encrypted
        return "off"
    partner = state.store.partners.get(token.partner_id)
    return partner.encryption if partner is not None and partner.encryption else state.settings.encryption


def sealed(scope: Scope, reply: Reply) -> Reply:
    """The reply as `{"request": "<base64>"}` when unsealed() asked for it; the plaintext is kept
    in the scope for the journal."""
    key = scope.get(RESPONSE_KEY)
    if key is None or reply.media_type != JSON:
        return reply
    plaintext = jsonio.dumps(reply.body)
    scope[DECRYPTED_RESPONSE] = plaintext
    return Reply({crypto.FIELD: crypto.encrypt(plaintext, key)}, reply.status, reply.headers)


def checked(state: "AppState", route: "Route", reply: Reply) -> Reply:
    """With validate_responses on, a response that breaks its schema is a loud sandbox bug. The
    document checked is the one on the wire (a page of cached rows is raw JSON in the reply)."""
    schemas = state.schemas
    body = jsonio.plain(reply.body) if reply.media_type == JSON else reply.body
    if "error" in body if isinstance(body, dict) else False:
        problem = schemas.response_problem(None, "oauth-error", body)
    elif isinstance(body, dict) and (body.get("code") == 1 or body.get("response_code") == 1):
        problem = schemas.response_problem("A" if "code" in body else "B", "error.payload", body)
    elif route.envelope in ("A", "B") and schemas.has(route.operation + ".payload"):
        # the body's own envelope: a setting may answer a route in the other one (user_details=object)
        variant = ("A" if "code" in body else "B") if isinstance(body, dict) else route.envelope
        problem = schemas.response_problem(variant, route.operation + ".payload", body)
    elif schemas.has(route.operation + ".response"):
        problem = schemas.response_problem(None, route.operation + ".response", body)
    else:
        problem = None
    if problem is None:
        return reply
    message = f"sandbox bug: {route.operation} response breaks its schema: {problem}"
    return Reply({"response_code": 1, "response_message": message, "payload": message}, 500)
