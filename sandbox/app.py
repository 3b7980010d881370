"""create_app(settings): the state object, the Starlette app built from the route table, and
the middlewares wrapped around it from outside (so they talk to the server's own `send`)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from . import envelope, fixtures, jsonio
from .clock import Clock, parse_iso
from .domain import errors
from .domain.tokens import TokenPolicy
from .faults.engine import FaultEngine
from .faults.middleware import FaultMiddleware
from .http import JSON, Endpoint
from .ids import IdFactory
from .journal import Journal
from .recorder import JournalMiddleware
from .routes import ROUTES
from .schemas import Schemas
from .settings import Settings
from .store import Store


class AppState:
    """Everything mutable the app owns. Reset rebuilds the store from the parsed fixtures."""

    def __init__(self, settings: Settings, fixture_doc: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.schemas = Schemas()
        self.token_policy = TokenPolicy(settings.token_ttl, settings.token_reuse, settings.lockout_attempts, settings.lockout_seconds)
        source = str(settings.fixtures_path())
        self.fixture_docs: list[tuple[dict[str, Any], str]] = [
            (fixture_doc, "<given>") if fixture_doc is not None else (fixtures.read(settings.fixtures_path()), source)
        ]
        self.seed = settings.seed
        self.clock = self.new_clock()
        self.store = self.build_store()
        self.faults = FaultEngine(self.clock, self.schemas, self.seed, settings.scenario, self.magic_entries())
        self.journal = Journal(settings.journal_size, settings.journal_body_bytes)

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
        self.store = self.build_store()
        self.faults.reset(self.seed, self.clock)


class SandboxApp:
    """What uvicorn serves: the middlewares wrapped around Starlette, and the state they share."""

    def __init__(self, state: AppState, asgi: ASGIApp) -> None:
        self.sandbox = state
        self._asgi = asgi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)


def create_app(settings: Settings | None = None, fixture_doc: dict[str, Any] | None = None) -> SandboxApp:
    settings = settings or Settings()
    state = AppState(settings, fixture_doc)
    app = Starlette(
        routes=[StarletteRoute(r.path, Endpoint(r), methods=[r.method], name=r.operation + ":" + r.path) for r in ROUTES],
        exception_handlers={HTTPException: _http_exception, Exception: _unexpected},
    )
    app.state.sandbox = state
    return SandboxApp(state, wrap(app, state))


def wrap(app: ASGIApp, state: AppState) -> ASGIApp:
    """The middlewares, innermost first; each sees the server's own `send` (ARCHITECTURE.md §2)."""
    app = FaultMiddleware(app, state)  # faults: header, rules, scenarios (sandbox/faults/)
    app = JournalMiddleware(app, state)  # outermost: request id, journal, log line
    return app


def _envelope_response(failure: errors.SandboxError, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonio.dumps(envelope.failure("B", failure)), failure.status, headers, media_type=JSON)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allow = {"Allow": ", ".join(_allowed_methods(request))}
        return _envelope_response(errors.MethodNotAllowed(method=request.method, path=request.url.path), allow)
    if exc.status_code == 404:
        return _envelope_response(errors.RouteNotFound(path=request.url.path))
    return _envelope_response(errors.SandboxError(exc.detail, status=exc.status_code))


def _allowed_methods(request: Request) -> list[str]:
    """The methods of the path the request matched (Starlette names only one route's): the first
    matching path in table order, so /enkash-coins/allocate-coin is not also /{coinConfigId}."""
    scope = dict(request.scope, method="")
    routes = [r for r in request.app.routes if isinstance(r, StarletteRoute)]
    matched = next((r.path for r in routes if r.matches(scope)[0] != Match.NONE), None)
    return sorted({m for r in routes if r.path == matched for m in r.methods or ()})


async def _unexpected(request: Request, exc: Exception) -> Response:
    return _envelope_response(errors.SandboxError(f"sandbox bug: {type(exc).__name__}: {exc}", status=500))
