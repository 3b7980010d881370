"""JournalMiddleware, the outermost layer: gives every request an id (echoed in X-Request-Id),
records it in the journal and writes its log line. Being outermost it sees what the client
saw, faults included (the fault middleware inside marks `scope["sandbox.fault"]`).
"""

from __future__ import annotations

import asyncio
import logging
from logging import DEBUG, INFO
import re
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Awaitable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.faults.spec import DESCRIPTION as FAULT_DESCRIPTION
from sandbox.web.adapter import DECRYPTED_BODY, DECRYPTED_RESPONSE
from sandbox.state.clock import iso
from sandbox.web.journal import Entry, kept
from sandbox.web.logs import request_logger

if TYPE_CHECKING:
    from sandbox.web.app import AppState

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_HEADER_BYTES = REQUEST_ID_HEADER.encode()
_VALID_ID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")  # fullmatch: nothing may follow, not even a newline
DRAIN_WAIT = 1.0  # seconds the journal waits for more of a body nobody read before answering
# reading the journal must not fill it, nor must looking at the inspector (which polls it)
_NOT_JOURNALED = ("/__sandbox/journal", "/__sandbox/health", "/__sandbox/ui")
_QUIET = ("/__sandbox/health", "/__sandbox/ui")  # container probes and the inspector's pages: logged at debug


class JournalMiddleware:
    def __init__(self, app: ASGIApp, state: "AppState") -> None:
        self.app = app
        self.state = state
        self.logger = request_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = self.state
        journal = state.journal
        seq = journal.next_seq()
        headers = scope["headers"]
        request_id = b""
        for name, value in headers:  # a plain loop: map(itemgetter(0), ...) costs more for a few headers
            if name == REQUEST_ID_HEADER_BYTES:
                if _VALID_ID.fullmatch(value):
                    request_id = value
                break
        if not request_id:
            request_id = b"req-%06d" % seq
        started = time.monotonic()
        entry = Entry(seq, request_id, scope["method"], scope["path"], scope.get("query_string", b""), headers,
                      state.clock.reading(), started, time.time())
        limit = journal.body_limit

        async def receive_recorded() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                entry.request_body = kept(entry.request_body, chunk, limit)
                entry.request_size += len(chunk)
                entry.request_done = not message.get("more_body", False)
            return message

        def send_recorded(message: Message) -> Awaitable[None]:
            """Returns `send`'s own awaitable: no coroutine of its own for each message."""
            kind = message["type"]
            if kind == "http.response.body":
                chunk = message.get("body", b"")
                entry.response_body = kept(entry.response_body, chunk, limit)
                entry.response_size += len(chunk)
                return send(message)
            if kind != "http.response.start":
                return send(message)
            started_message = message.copy()  # the app's own message is left as it was
            started_message["headers"] = entry.response_headers = [*message.get("headers", ()), (REQUEST_ID_HEADER_BYTES, entry.request_id_bytes)]
            entry.status = message["status"]
            if not entry.request_done:  # answered before the body was read (404, 405, 413, a fault)
                return _take_body_then_send(entry, receive_recorded, limit, send, started_message)
            return send(started_message)

        try:
            await self.app(scope, receive_recorded, send_recorded)
        finally:
            entry.ended = time.monotonic()
            entry.fault = scope.get(FAULT_DESCRIPTION)
            decrypted_body, decrypted_response = scope.get(DECRYPTED_BODY), scope.get(DECRYPTED_RESPONSE)
            if decrypted_body is not None:
                entry.decrypted_body = decrypted_body[:limit]
            if decrypted_response is not None:
                entry.decrypted_response = decrypted_response[:limit]
            path = entry.path
            if not path.startswith(_NOT_JOURNALED):
                journal.record(entry)
            logger = self.logger
            if logger.isEnabledFor(INFO):  # DEBUG only ever is when INFO is
                level = DEBUG if path.startswith(_QUIET) else INFO
                if level == INFO or logger.isEnabledFor(DEBUG):
                    _log(logger, level, entry)


async def _take_body_then_send(entry: Entry, receive: Receive, limit: int, send: Send, start: Message) -> None:
    await _take_body(entry, entry.request_headers, receive, limit)
    await send(start)


async def _take_body(entry: Entry, headers: list[tuple[bytes, bytes]], receive: Receive, limit: int) -> None:
    """Read what the client sent (up to what the journal keeps), so the entry holds the request
    whole, whoever answered it: a reference lookup then counts every attempt. Not when the client
    waits for `100 Continue`: that would invite a body the answer refuses. bodySize is what was
    sent, or what Content-Length declared when the rest was left unread."""
    if any(name == b"expect" for name, _ in headers):
        return
    while not entry.request_done and len(entry.request_body) < limit:
        try:
            message = await asyncio.wait_for(receive(), DRAIN_WAIT)
        except asyncio.TimeoutError:
            break
        if message["type"] != "http.request":
            break
    if not entry.request_done:
        declared = next((value for name, value in headers if name == b"content-length"), b"")
        if declared.isdigit() and len(declared) < 19:
            entry.request_size = max(entry.request_size, int(declared))


def _log(logger: logging.Logger, level: int, entry: Entry) -> None:
    fields: dict[str, Any] = {
        "time": iso(datetime.fromtimestamp(entry.wall_time, timezone.utc)),
        "requestId": entry.request_id,
        "method": entry.method,
        "path": entry.path,
        "query": entry.query.decode("latin-1"),
        "status": entry.status,
        "latencyMs": round(entry.latency_ms, 3),
        "partnerId": entry.partner or None,
        "fault": entry.fault,
    }
    logger.log(level, "%s %s %s", entry.method, entry.path, entry.status, extra={"sandbox": fields})
