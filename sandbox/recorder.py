"""JournalMiddleware, the outermost layer: gives every request an id (echoed in X-Request-Id),
records it in the journal and writes its log line. Being outermost it sees what the client
saw, faults included (the fault middleware inside marks `scope["sandbox.fault"]`).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults.spec import DESCRIPTION as FAULT_DESCRIPTION
from .http import DECRYPTED_BODY, DECRYPTED_RESPONSE
from .journal import Captured, Entry
from .logs import request_logger

if TYPE_CHECKING:
    from .app import AppState

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_HEADER_BYTES = REQUEST_ID_HEADER.encode()
PARTNER_HEADER_BYTES = b"partnerid"
_VALID_ID = re.compile(rb"^[A-Za-z0-9._:/+=-]{1,128}$")
_NOT_JOURNALED = ("/__sandbox/journal", "/__sandbox/health")  # reading the journal must not fill it
_QUIET = ("/__sandbox/health",)  # container probes: logged at debug


class JournalMiddleware:
    def __init__(self, app: ASGIApp, state: "AppState") -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        journal = self.state.journal
        seq = journal.next_seq()
        raw_headers = list(scope.get("headers") or ())
        incoming, partner = None, ""
        for name, value in raw_headers:  # names arrive lower-cased from the server
            if name == REQUEST_ID_HEADER_BYTES:
                incoming = value
            elif name == PARTNER_HEADER_BYTES:
                partner = value.decode("latin-1")
        request_id = incoming.decode() if incoming and _VALID_ID.match(incoming) else f"req-{seq:06d}"
        entry = Entry(
            seq, request_id, scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
            partner, raw_headers, Captured(), self.state.clock.now(), datetime.now(timezone.utc),
        )
        limit = journal.body_limit
        started = time.perf_counter()

        async def receive_recorded() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                entry.request_body.add(message.get("body", b""), limit)
            return message

        async def send_recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                entry.status = message["status"]
                entry.response_headers = message["headers"]
            elif message["type"] == "http.response.body":
                entry.response_body.add(message.get("body", b""), limit)
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
            _log(entry)


def _log(entry: Entry) -> None:
    logger = request_logger()
    level = 10 if entry.path.startswith(_QUIET) else 20  # DEBUG / INFO
    if not logger.isEnabledFor(level):
        return
    fields: dict[str, Any] = {
        "time": entry.wall_time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestId": entry.request_id,
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "status": entry.status,
        "latencyMs": round(entry.latency_ms, 3),
        "partnerId": entry.partner or None,
        "fault": entry.fault,
    }
    logger.log(level, "%s %s %s", entry.method, entry.path, entry.status, extra={"sandbox": fields})
