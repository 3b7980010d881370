"""JournalMiddleware, the outermost layer: gives every request an id (echoed in X-Request-Id),
records it in the journal and writes its log line. Being outermost it sees what the client
saw, faults included (the fault middleware inside marks `scope["sandbox.fault"]`).
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

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
_VALID_ID = re.compile(rb"^[A-Za-z0-9._:/+=-]{1,128}$")
_NOT_JOURNALED = ("/__sandbox/journal", "/__sandbox/health")  # reading the journal must not fill it
_QUIET = ("/__sandbox/health",)  # container probes: logged at debug


class JournalMiddleware:
    def __init__(self, app: ASGIApp, state: "AppState") -> None:
        self.app = app
        self.state = state
        self.logger = request_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        journal = self.state.journal
        seq = journal.next_seq()
        headers = scope["headers"]
        incoming = next((value for name, value in headers if name == REQUEST_ID_HEADER_BYTES), None)
        request_id = incoming.decode() if incoming and _VALID_ID.match(incoming) else f"req-{seq:06d}"
        entry = Entry(seq, request_id, scope["method"], scope["path"], scope.get("query_string", b""), headers,
                      self.state.clock.now(), time.time())
        limit = journal.body_limit
        request_id_header = (REQUEST_ID_HEADER_BYTES, request_id.encode())
        started = time.perf_counter()

        async def receive_recorded() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                entry.request_body = kept(entry.request_body, chunk, limit)
                entry.request_size += len(chunk)
            return message

        async def send_recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), request_id_header]}
                entry.status = message["status"]
                entry.response_headers = message["headers"]
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                entry.response_body = kept(entry.response_body, chunk, limit)
                entry.response_size += len(chunk)
            await send(message)

        try:
            await self.app(scope, receive_recorded, send_recorded)
        finally:
            entry.latency_ms = (time.perf_counter() - started) * 1000
            entry.fault = scope.get(FAULT_DESCRIPTION)
            entry.decrypted_body = scope.get(DECRYPTED_BODY)
            entry.decrypted_response = scope.get(DECRYPTED_RESPONSE)
            if not entry.path.startswith(_NOT_JOURNALED):
                journal.record(entry)
            level = 10 if entry.path.startswith(_QUIET) else 20  # DEBUG / INFO
            if self.logger.isEnabledFor(level):
                _log(self.logger, level, entry)


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
