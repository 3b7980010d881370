"""Where the time of one top-up goes: CPU microseconds per request of each layer of the
sandbox's ASGI stack (middlewares, dispatcher, the route's handler), called in-process without a
network, next to the bare Starlette baseline. `python -m bench.layers`.

Each layer's cost is the time of a stack starting at that layer minus the stack below it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

from sandbox.web.app import Dispatcher, create_app
from sandbox.tools.server import tune_gc
from sandbox.settings import Settings

from . import baseline
from .partner import BASIC, CARD, LOGIN, PARTNER, PATH, top_up_body

ALLOCATE = PATH + "/create-allocate-points"


async def _call(asgi: Any, app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> list[Any]:
    sent: list[Any] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "app": app,
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
    await asgi(scope, receive, send)
    return sent


def _stack(app: Any) -> tuple[list[tuple[str, Any]], Dispatcher]:
    layers, layer = [], app
    while not isinstance(layer, Dispatcher):
        layers.append((type(layer).__name__, layer))
        layer = getattr(layer, "app", None) or layer._asgi
    return layers, layer


async def measure(requests: int = 300, rounds_count: int = 25) -> list[tuple[str, float]]:
    app = create_app(Settings())
    layers, dispatcher = _stack(app)
    basic = "Basic " + base64.b64encode(":".join(BASIC).encode()).decode()
    form = "&".join(f"{k}={v}" for k, v in LOGIN.items()).encode()
    answer = await _call(app, dispatcher, "POST", "/oauth/token",
                         {"authorization": basic, "content-type": "application/x-www-form-urlencoded"}, form)
    token = json.loads(answer[1]["body"])["access_token"]
    headers = {"authorization": f"Bearer {token}", "partnerid": PARTNER, "content-type": "application/json"}
    handler = next(e for r, e in dispatcher.endpoints.items() if r.path == ALLOCATE)
    starts = [*layers, ("Dispatcher (route index)", dispatcher), ("sandbox handler (http.py + endpoint)", handler)]

    async def per_request(asgi: Any, tag: str) -> float:
        begin = time.process_time()
        for n in range(requests):
            body = json.dumps(top_up_body(CARD, f"{tag}-{n}")).encode()
            await _call(asgi, dispatcher, "POST", ALLOCATE, headers, body)
        return (time.process_time() - begin) / requests * 1e6

    # the least of many short rounds, every stack in each: CPU time on a shared machine only ever errs upwards
    rounds = [[await per_request(asgi, f"R{r}L{i}") for i, (_, asgi) in enumerate(starts)] for r in range(rounds_count)]
    totals = [min(column) for column in zip(*rounds)]
    costs = [(name, totals[i] - (totals[i + 1] if i + 1 < len(totals) else 0)) for i, (name, _) in enumerate(starts)]
    base = []
    for _ in range(rounds_count):
        begin = time.process_time()
        for _ in range(requests):
            await _call(baseline.app, baseline.app, "GET", "/", {})
        base.append((time.process_time() - begin) / requests * 1e6)
    costs.append(("bare Starlette baseline, whole request", min(base)))
    costs.insert(0, ("sandbox, whole request", totals[0]))
    return costs


def main() -> None:
    tune_gc()  # the server's collector settings (sandbox/tools/server.py)
    costs = asyncio.run(measure())
    print("| layer | CPU us per top-up |\n|---|---|")
    for name, us in costs:
        print(f"| {name} | {us:.0f} |")


if __name__ == "__main__":
    main()
