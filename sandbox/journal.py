"""The request journal: the last N requests and their responses, for debugging a partner's
integration (like WireMock's /__admin/requests). A bounded ring buffer: memory stays flat
however long the sandbox runs; bodies are kept up to a byte limit each.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any, Iterator

from .clock import iso

# Where a partner's own reference for a request sits in its body (REFERENCE.md §6.2, §6.3, coins)
_REFERENCE = re.compile(rb'"(?:uniqueReferenceNumber|uniqueReferenceNum|requestId)"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(-?[0-9]+))')
_HIDDEN_HEADERS = ("authorization",)


@dataclass(slots=True)
class Captured:
    """A body as seen on the wire, cut at the journal's byte limit."""

    data: bytes = b""
    size: int = 0

    def add(self, chunk: bytes, limit: int) -> None:
        if len(self.data) < limit:
            self.data += chunk[: limit - len(self.data)]
        self.size += len(chunk)

    @property
    def truncated(self) -> bool:
        return self.size > len(self.data)

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass(slots=True)
class Entry:
    seq: int
    request_id: str
    method: str
    path: str
    query: str
    partner: str
    request_headers: list[tuple[bytes, bytes]]  # raw, as on the wire; shown masked by describe()
    request_body: Captured
    sandbox_time: datetime
    wall_time: datetime
    status: int = 0  # 0: no response was sent (a fault dropped the connection, or a crash)
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    response_body: Captured = field(default_factory=Captured)
    latency_ms: float = 0.0
    fault: Any = None
    decrypted_body: Any = None  # encrypted payload mode: the request as the endpoint saw it
    decrypted_response: Any = None  # ... and the response before it was sealed

    def references(self) -> set[str]:
        """Partner references in the request (wire and decrypted bodies)."""
        found = {(m.group(1) or m.group(2) or b"").decode("utf-8", "replace") for m in _REFERENCE.finditer(self.request_body.data)}
        if self.decrypted_body is not None:
            raw = self.decrypted_body if isinstance(self.decrypted_body, bytes) else str(self.decrypted_body).encode()
            found |= {(m.group(1) or m.group(2) or b"").decode("utf-8", "replace") for m in _REFERENCE.finditer(raw)}
        return found

    def describe(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "requestId": self.request_id,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "partnerId": self.partner or None,
            "status": self.status,
            "latencyMs": round(self.latency_ms, 3),
            "fault": self.fault if self.fault is None or isinstance(self.fault, (str, int, dict, list)) else str(self.fault),
            "sandboxTime": iso(self.sandbox_time),
            "wallTime": iso(self.wall_time),
            "request": _message(self.request_headers, self.request_body, self.decrypted_body),
            "response": _message(self.response_headers, self.response_body, self.decrypted_response),
        }


def _message(headers: list[tuple[bytes, bytes]], body: Captured, decrypted: Any) -> dict[str, Any]:
    shown: dict[str, Any] = {"headers": visible_headers(headers), "body": body.text(), "bodySize": body.size, "bodyTruncated": body.truncated}
    if decrypted is not None:
        shown["decryptedBody"] = decrypted.decode("utf-8", "replace") if isinstance(decrypted, bytes) else decrypted
    return shown


@dataclass(frozen=True)
class Filter:
    """Which entries a journal query wants; every given criterion must match."""

    path: str | None = None  # exact, or a glob with *
    status: str | None = None  # 200, or a class like 4xx
    reference: str | None = None
    partner: str | None = None
    method: str | None = None

    def matches(self, entry: Entry) -> bool:
        if self.method and entry.method != self.method.upper():
            return False
        if self.path and not (entry.path == self.path or ("*" in self.path and fnmatchcase(entry.path, self.path))):
            return False
        if self.status and not _status_matches(entry.status, self.status):
            return False
        if self.partner and entry.partner != self.partner:
            return False
        return not self.reference or self.reference in entry.references()


def _status_matches(status: int, wanted: str) -> bool:
    if wanted.lower().endswith("xx"):
        return str(status)[:1] == wanted[:1]
    return str(status) == wanted


class Journal:
    def __init__(self, size: int, body_limit: int) -> None:
        self.body_limit = body_limit
        self._entries: deque[Entry] = deque(maxlen=max(size, 0))
        self._sequence = 0

    def next_seq(self) -> int:
        self._sequence += 1
        return self._sequence

    def record(self, entry: Entry) -> None:
        self._entries.append(entry)

    def select(self, wanted: Filter, limit: int | None = None) -> list[Entry]:
        """Matching entries, newest first."""
        found = []
        for entry in reversed(self._entries):
            if wanted.matches(entry):
                found.append(entry)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def count(self, wanted: Filter) -> int:
        return sum(1 for entry in self._entries if wanted.matches(entry))

    def clear(self) -> int:
        dropped = len(self._entries)
        self._entries.clear()
        return dropped

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    @property
    def capacity(self) -> int:
        return self._entries.maxlen or 0


def visible_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers for the journal, credentials masked to their scheme."""
    shown: dict[str, str] = {}
    for key, value in raw:
        name, text = key.decode("latin-1").lower(), value.decode("latin-1")
        if name in _HIDDEN_HEADERS:
            text = text.split(" ", 1)[0] + " ***" if " " in text else "***"
        shown[name] = text
    return shown
