"""create_app(settings): the state object, the dispatcher built from the route table, and the
middlewares wrapped around it (each talks to the server's own `send`)."""

from __future__ import annotations

from typing import Any, Awaitable

from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.documents import fixtures
from sandbox.state.clock import Clock, parse_iso
from sandbox.domain.rewards import RewardPolicy
from sandbox.domain.tokens import TokenPolicy
from sandbox.faults.engine import FaultEngine
from sandbox.faults.middleware import FaultMiddleware
from sandbox.web.adapter import Endpoint, unrouted_reply
from sandbox.contract.envelope import Reply, failure, write
from sandbox.domain.errors import RouteOutOfScope
from sandbox.state.ids import IdFactory
from sandbox.web.journal import Journal
from sandbox.web.recorder import JournalMiddleware
from sandbox.web.router import Router, out_of_scope
from sandbox.web.routes import ROUTES
from sandbox.contract.schemas import Schemas
from sandbox.settings import Settings
from sandbox.state.reaper import REAPER
from sandbox.state.store import Store


class AppState:
    """Everything mutable the app owns. Reset rebuilds the store from the parsed fixtures."""

    def __init__(self, settings: Settings, fixture_doc: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.schemas = Schemas()
        self.router = Router(ROUTES)
        self.token_policy = TokenPolicy.of(settings)
        self.reward_policy = RewardPolicy.of(settings)  # made once: built per allocation it was 2 % of a top-up
        source = str(settings.fixtures_path())
        self.fixture_docs: list[tuple[dict[str, Any], str]] = [
            (fixture_doc, "<given>") if fixture_doc is not None else (fixtures.read(settings.fixtures_path()), source)
        ]
        self.seed = settings.seed
        self.clock = self.new_clock()
        self.store = self.build_store()
        self.faults = FaultEngine(self.clock, self.schemas, self.seed, settings.scenario, self.magic_entries())
        self.journal = Journal(settings.journal_size, settings.journal_body_bytes, settings.journal_max_bytes, settings.max_header_bytes)
        self.store_since = 0  # the journal's last seq when this store was built: older requests made none of its postings

    def magic_entries(self, extra: list[tuple[dict[str, Any], str]] | None = None) -> list[tuple[list[dict[str, Any]], str]]:
        return [(doc.get("magicValues", []), source) for doc, source in [*self.fixture_docs, *(extra or [])]]

    def new_clock(self) -> Clock:
        start = self.settings.clock_start
        return Clock(parse_iso(start) if start else None, self.settings.clock_frozen)

    def build_store(self) -> Store:
        store = Store(self.clock, IdFactory(self.seed))
        for doc, source in self.fixture_docs:
            fixtures.populate(store, doc, source)
        return store

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = seed
        self.clock = self.new_clock()
        old, self.store = self.store, self.build_store()
        self.store_since = self.journal.last_seq()
        self.faults.reset(self.seed, self.clock)
        REAPER.discard(old)  # a big store is taken apart off the request path (sandbox/state/reaper.py)


class SandboxApp:
    """What uvicorn serves: the middlewares wrapped around the dispatcher, and the state they share."""

    def __init__(self, state: AppState, asgi: ASGIApp) -> None:
        self.sandbox = state
        self._asgi = asgi

    @property
    def asgi(self) -> ASGIApp:
        """The outermost middleware, which a server may call directly: one call fewer a request."""
        return self._asgi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)


class Dispatcher:
    """The innermost app: the route's Endpoint, or the 404/405 envelope. Starlette's router would
    walk every route's pattern and wrap `send` in two exception middlewares on each request; the
    route table is flat and the adapter answers every error itself, so one index does the job."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.endpoints = {route: Endpoint(route, state) for route in ROUTES}
        self.fixed: dict[tuple[str, str], Endpoint] = {}  # (method, path) of a route without parameters
        for route in ROUTES:
            if "{" not in route.path:
                self.fixed.setdefault((route.method, route.path), self.endpoints[route])  # the first, as the router
        self.outside = out_of_scope()

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """Returns the route's own coroutine (awaited by the caller): no coroutine of the
        dispatcher's own on the way to a route without parameters."""
        if scope["type"] == "http":
            fixed = self.fixed.get((scope["method"], scope["path"]))
            if fixed is not None:  # what the router would find, without its Found and parameters
                scope["path_params"] = {}
                return fixed(scope, receive, send)
        return self.resolved(scope, receive, send)

    async def resolved(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Lifespan, and a path the router resolves: a route with parameters, 404, 405."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets: nothing here speaks them
            return
        found = self.state.router.resolve(scope)
        if found.route is None:
            known = None if found.allowed else self.outside.get(scope["path"])
            if known is not None:  # an EnKash API outside the sandbox's scope: say so, not just "no API"
                error = RouteOutOfScope(method=scope["method"], path=scope["path"], name=known["name"], source=known["source"])
                await write(send, Reply(failure("B", error), error.status))
                return
            await write(send, unrouted_reply(found, scope["method"], scope["path"]))
            return
        scope["path_params"] = found.params
        await self.endpoints[found.route](scope, receive, send)


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop: the state is built before the server listens."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(settings: Settings | None = None, fixture_doc: dict[str, Any] | None = None) -> SandboxApp:
    settings = settings or Settings()
    state = AppState(settings, fixture_doc)
    return SandboxApp(state, wrap(Dispatcher(state), state))


def wrap(app: ASGIApp, state: AppState) -> ASGIApp:
    """The middlewares, innermost first; each sees the server's own `send` (docs/architecture.md)."""
    app = FaultMiddleware(app, state)  # faults: header, rules, scenarios (sandbox/faults/)
    app = JournalMiddleware(app, state)  # outermost: request id, journal, log line
    return app
