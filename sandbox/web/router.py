"""Which route of THE route table a request is for: one index, read by the adapter's dispatch
and by the fault layer alike. Paths use Starlette's syntax and convertors (`compile_path`).

Fixed paths are one dict lookup; only paths with parameters are matched by pattern, in table
order, so /enkash-coins/allocate-coin is never taken for /enkash-coins/{coinConfigId}.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, NamedTuple

import yaml

from starlette.convertors import Convertor
from starlette.routing import compile_path
from starlette.types import Scope

from sandbox.web.routes import Route

FOUND = "sandbox.found"  # scope key of resolve()'s answer
OUT_OF_SCOPE_FILE = Path(__file__).with_name("out-of-scope.yaml")


def out_of_scope() -> dict[str, dict[str, str]]:
    """EnKash's paths the sandbox does not serve (out-of-scope.yaml), by path: their 404 names them."""
    entries = yaml.load(OUT_OF_SCOPE_FILE.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # the sandbox's own file
    return {entry["path"]: entry for entry in entries}


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: read at start in 0.8 ms instead of 8


class Found(NamedTuple):
    """A route for the method and path; or none, with the methods the path does allow (a 405
    when there are some, a 404 when there are none)."""

    route: Route | None
    params: dict[str, Any]
    allowed: tuple[str, ...] = ()


class _Path(NamedTuple):
    pattern: re.Pattern[str]
    convertors: dict[str, Convertor[Any]]
    methods: dict[str, Route]


class Router:
    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(routes)
        self._fixed: dict[str, dict[str, Route]] = {}
        self._templated: dict[str, _Path] = {}
        for route in self.routes:
            if "{" not in route.path:  # no pattern to compile (38 of them cost 6 ms of start-up)
                self._fixed.setdefault(route.path, {}).setdefault(route.method, route)
                continue
            if route.path not in self._templated:
                pattern, _, convertors = compile_path(route.path)
                self._templated[route.path] = _Path(pattern, convertors, {})
            self._templated[route.path].methods.setdefault(route.method, route)

    def resolve(self, scope: Scope) -> Found:
        """The request's route, looked up once however many layers ask (the fault layer, then
        the dispatcher): kept in the scope."""
        found: Found | None = scope.get(FOUND)
        if found is None:
            found = scope[FOUND] = self.find(scope["method"], scope["path"])
        return found

    def find(self, method: str, path: str) -> Found:
        fixed = self._fixed.get(path, {})
        route = fixed.get(method)
        if route is not None:
            return Found(route, {})
        templated, params = self._match_templated(path)
        route = templated.get(method)
        if route is not None:  # as Spring does: GET /enkash-coins/allocate-coin is a config id
            return Found(route, params)
        return Found(None, {}, tuple(sorted(fixed or templated)))

    def _match_templated(self, path: str) -> tuple[dict[str, Route], dict[str, Any]]:
        for entry in self._templated.values():
            matched = entry.pattern.match(path)
            if matched:
                params = {name: entry.convertors[name].convert(value) for name, value in matched.groupdict().items()}
                return entry.methods, params
        return {}, {}
