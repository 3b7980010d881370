"""The recorder's shortcuts against the general code: a first body chunk within the limit is kept
without calling kept(), and whatever the chunks, the entry holds what folding them with kept() holds."""

from __future__ import annotations

import asyncio
import random
from functools import reduce
from typing import Any

from sandbox.settings import Settings
from sandbox.web.app import AppState
from sandbox.web.journal import Filter, kept
from sandbox.web.recorder import JournalMiddleware


STATES: dict[int, AppState] = {}  # one state per body limit: building one takes a while


def exchange(limit: int, request: list[bytes], response: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[Any, list[Any]]:
    """One request through the recorder around an app that reads every chunk, then answers in chunks."""
    state = STATES.get(limit) or STATES.setdefault(limit, AppState(Settings(journal_body_bytes=limit)))
    messages = [{"type": "http.request", "body": chunk, "more_body": n < len(request) - 1} for n, chunk in enumerate(request)]
    sent: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        for _ in request:
            await receive()
        await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"text/plain")]})
        for n, chunk in enumerate(response):
            await send({"type": "http.response.body", "body": chunk, "more_body": n < len(response) - 1})

    async def receive() -> Any:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "query_string": b"", "headers": headers}
    asyncio.run(JournalMiddleware(app, state)(scope, receive, send))
    [entry] = state.journal.select(Filter(), 1)
    return entry, sent


def test_the_kept_bodies_and_sizes_are_what_folding_the_chunks_with_kept_makes():
    chance = random.Random(31)
    for _ in range(300):
        limit = chance.choice((0, 1, 5, 64, 1000))
        request = [chance.randbytes(chance.choice((0, 1, 4, 5, 6, 63, 64, 65, 900, 1500))) for _ in range(chance.randint(1, 4))]
        response = [chance.randbytes(chance.choice((0, 3, 5, 64, 1001))) for _ in range(chance.randint(1, 3))]
        entry, _ = exchange(limit, request, response, [])
        assert entry.request_body == reduce(lambda held, chunk: kept(held, chunk, limit), request, b"")
        assert entry.response_body == reduce(lambda held, chunk: kept(held, chunk, limit), response, b"")
        assert (entry.request_size, entry.response_size) == (sum(map(len, request)), sum(map(len, response)))
        assert entry.request_done and entry.status == 201 and 0 <= entry.latency_ms == (entry.ended - entry.mark) * 1000
        if len(request) == 1 and len(request[0]) <= limit:
            assert entry.request_body is request[0]  # kept as it came, no copy


def test_the_request_id_is_the_first_x_request_id_when_valid_else_a_numbered_one():
    for headers, expected in (
        ([(b"x-request-id", b"ci-42.7")], b"ci-42.7"),
        ([(b"accept", b"*/*"), (b"x-request-id", b"a/b+c=d:e_f")], b"a/b+c=d:e_f"),
        ([(b"x-request-id", b"bad id")], None),
        ([(b"x-request-id", b"")], None),
        ([(b"x-request-id", b"x" * 129)], None),
        ([(b"x-request-id", b"ok\n")], None),
        ([(b"x-request-id", b"bad id"), (b"x-request-id", b"good")], None),  # the first one counts
        ([(b"x-request-id", b"first"), (b"x-request-id", b"second")], b"first"),
        ([(b"X-Request-Id", b"not-lowercased")], None),  # ASGI servers lowercase names
        ([], None),
    ):
        entry, sent = exchange(64, [b"{}"], [b"ok"], headers)
        assert entry.request_id_bytes == (expected or b"req-%06d" % entry.seq)
        assert sent[0]["headers"] == [(b"content-type", b"text/plain"), (b"x-request-id", entry.request_id_bytes)]
        assert sent[0]["headers"] is entry.response_headers
