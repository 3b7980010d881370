"""The request journal: the last N requests and their responses, for debugging a partner's
integration (like WireMock's /__admin/requests). A bounded ring buffer: memory stays flat
however long the sandbox runs; bodies are kept up to a byte limit each.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from itertools import chain, islice
from typing import Any, NamedTuple

from sandbox.state.clock import Clock, iso

# Where a partner's own reference for a request sits in its body (docs/enkash-api.md#references, #pts-4,
# #red-6: a redemption order's orderReferenceId)
_REFERENCE = re.compile(rb'"(?:uniqueReferenceNumber|uniqueReferenceNum|requestId|orderReferenceId)"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(-?[0-9]+))')
_HIDDEN_HEADERS = ("authorization",)
# secrets in bodies and query strings (JSON, form, YAML): the value after the key is shown as ***
_SECRET = re.compile(rb'(?i)(\b(?:password|client_?secret|(?:access|refresh)_?token)"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s,&}\]]+)')
_SECRET_HINTS = (b"assword", b"ecret", b"ccess", b"efresh")  # only a body holding one is searched
_SSO_TOKEN = re.compile(rb'("payload"\s*:\s*)"[^"]*"')  # sso-token's payload is a login token
_SSO_URL = re.compile(r"/sso/[^/]+/")
# a whole state document holds every credential and token: the journal shows its size only
_UNSHOWN = ("/__sandbox/state",)


_NO_HEADERS: list[tuple[bytes, bytes]] = []  # an entry's response headers until it has a response


class Entry:
    """One exchange. The hot path only stores references to what the server already built (raw
    header lists, body bytes, a float wall time); describe() decodes and formats them when
    someone reads the journal, which is rare next to the requests that fill it. Slots: no
    dictionary to make and free for each request."""

    __slots__ = ("seq", "request_id_bytes", "method", "path", "query", "request_headers", "clock", "mark", "wall_time",
                 "request_body", "response_body", "request_size", "response_size", "request_done", "status",
                 "response_headers", "ended", "fault", "decrypted_body", "decrypted_response", "budget")
    budget: int  # set by Journal.record: what the entry counts for, kept_bytes() and then head_bytes() once counted

    def __init__(
        self, seq: int, request_id: bytes, method: str, path: str, query: bytes,
        request_headers: list[tuple[bytes, bytes]], clock: tuple[datetime, float | None], mark: float, wall_time: float,
    ) -> None:
        self.seq, self.request_id_bytes, self.method, self.path, self.query = seq, request_id, method, path, query
        self.request_headers = request_headers  # raw, as on the wire; shown masked by describe()
        self.clock, self.mark = clock, mark  # the sandbox clock's reading() and time.monotonic() as it arrived
        self.wall_time = wall_time  # seconds since the epoch
        # what an exchange holds until its request and response say otherwise
        self.request_body = self.response_body = b""  # the bodies cut at the journal's limit
        self.request_size = self.response_size = 0  # ... and their whole sizes
        self.request_done = False  # the whole request body was received
        self.status = 0  # 0: no response was sent (a fault dropped the connection, or a crash)
        self.response_headers = _NO_HEADERS  # never changed in place: an answer sets its own list
        self.ended = mark  # time.monotonic() when the response was sent (or the exchange failed)
        self.fault: str | None = None  # what the fault layer or a magic value did, in words
        self.decrypted_body: bytes | None = None  # encrypted payload mode: the request as the endpoint saw it
        self.decrypted_response: bytes | None = None  # ... and the response before it was sealed

    @property
    def sandbox_time(self) -> datetime:
        """The sandbox clock's time when the request arrived."""
        return Clock.at(self.clock, self.mark)

    @property
    def latency_ms(self) -> float:
        """From arrival to the end of the response, worked out when read: most entries never are."""
        return (self.ended - self.mark) * 1000

    @property
    def request_id(self) -> str:
        """The id echoed in X-Request-Id (the client's, or one the sandbox made)."""
        return self.request_id_bytes.decode()

    @property
    def partner(self) -> str:
        return next((value.decode("latin-1") for name, value in self.request_headers if name.lower() == b"partnerid"), "")

    def references(self) -> set[str]:
        """Partner references in the request (wire and decrypted bodies)."""
        return {
            (m.group(1) or m.group(2) or b"").decode("utf-8", "replace")
            for body in (self.request_body, self.decrypted_body or b"")
            for m in _REFERENCE.finditer(body)
        }

    def kept_bytes(self) -> int:
        """What the entry holds for the journal's byte budget, its request headers aside (head_bytes)."""
        size = len(self.request_body) + len(self.response_body) + 512
        if self.decrypted_body is not None:  # encrypted payload mode only: `len(... or b"")` costs every request
            size += len(self.decrypted_body)
        if self.decrypted_response is not None:
            size += len(self.decrypted_response)
        return size

    def head_bytes(self) -> int:
        """The request headers' names and values: counted only when the budget is near (Journal.record)."""
        return sum(map(len, chain.from_iterable(self.request_headers)))

    def describe(self) -> dict[str, Any]:
        shown = _Masked(self.path)
        return {
            "seq": self.seq,
            "requestId": self.request_id,
            "method": self.method,
            "path": self.path,
            "query": shown.body(self.query).decode("latin-1"),
            "partnerId": self.partner or None,
            "status": self.status,
            "latencyMs": round(self.latency_ms, 3),
            "fault": self.fault,
            "sandboxTime": iso(self.sandbox_time),
            "wallTime": iso(datetime.fromtimestamp(self.wall_time, timezone.utc)),
            "request": shown.message(self.request_headers, self.request_body, self.request_size, self.decrypted_body),
            "response": shown.message(self.response_headers, self.response_body, self.response_size,
                                      self.decrypted_response, response=True),
        }


class _Masked:
    """What describe() shows of one entry's messages: secrets masked (README.md, "The request journal")."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.unshown = path.startswith(_UNSHOWN)
        self.sso = path.endswith("/sso-token")

    def body(self, raw: bytes, response: bool = False) -> bytes:
        if self.unshown and raw:
            return b"(not shown: a state document holds every credential)"
        if self.sso and response:
            raw = _SSO_TOKEN.sub(rb'\1"***"', raw)
        if any(hint in raw for hint in _SECRET_HINTS):
            raw = _SECRET.sub(lambda m: m.group(1) + (b'"***"' if m.group(2)[:1] == b'"' else b"***"), raw)
        return raw

    def message(self, headers: list[tuple[bytes, bytes]], body: bytes, size: int, decrypted: bytes | None,
                response: bool = False) -> dict[str, Any]:
        shown = self.body(body, response)
        message: dict[str, Any] = {
            "headers": visible_headers(headers), "body": shown.decode("utf-8", errors="replace"),
            "bodySize": size, "bodyTruncated": size > len(body) or shown is not body and self.unshown,
        }
        if decrypted is not None:
            message["decryptedBody"] = self.body(decrypted, response).decode("utf-8", "replace")
        return message


def kept(held: bytes, chunk: bytes, limit: int) -> bytes:
    """What a body keeps after one more chunk: the bytes up to the journal's limit (no copy while
    a one-chunk body fits, as nearly every body does)."""
    if not held:
        return chunk if len(chunk) <= limit else chunk[:limit]
    return held + chunk[: limit - len(held)] if len(held) < limit else held


class Filter(NamedTuple):
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
    """The last requests, newest last, within `size` entries and `max_bytes` in all (the oldest go
    first). A request's headers are counted against the budget only once the newest entries could
    pass it with `head_allowance` bytes of headers each (the server's max_header_bytes: it refuses
    a longer head with 431, so none holds more) and before any read, so what a reader sees is what
    counting every head as it came would keep; until then a request costs no sum over its headers."""

    def __init__(self, size: int, body_limit: int, max_bytes: int = 1 << 62, head_allowance: int = 16 * 1024) -> None:
        self.body_limit = body_limit
        self.max_bytes = max_bytes
        self.head_allowance = head_allowance
        self.capacity = max(size, 0)
        self._entries: deque[Entry] = deque()
        self._counted = 0  # the oldest entries whose heads are counted too; the newer ones' are not yet
        self._held = 0  # every entry's `budget`
        self._sequence = 0

    def last_seq(self) -> int:
        return self._sequence

    def next_seq(self) -> int:
        self._sequence += 1
        return self._sequence

    def record(self, entry: Entry) -> None:
        """Keep the entry, the oldest going when the journal is full; each entry's size is kept
        on it (`budget`), not in a deque beside the entries: a request costs no deque of its own."""
        entries = self._entries
        if len(entries) == self.capacity:
            if not entries:
                return  # a journal of no entries
            self._held -= entries.popleft().budget
            if self._counted:
                self._counted -= 1
        entry.budget = size = entry.kept_bytes()
        entries.append(entry)
        self._held += size
        if self._held + (len(entries) - self._counted) * self.head_allowance > self.max_bytes:
            self._settle()

    def _settle(self) -> deque[Entry]:
        """Count the headers not counted yet, then drop the oldest entries while all hold more than
        max_bytes: the same entries stay as if each had been counted when it came (the newest that fit)."""
        entries = self._entries
        for entry in islice(reversed(entries), len(entries) - self._counted):
            head = entry.head_bytes()
            entry.budget += head
            self._held += head
        while self._held > self.max_bytes and len(entries) > 1:
            self._held -= entries.popleft().budget
        self._counted = len(entries)
        return entries

    def select(self, wanted: Filter, limit: int | None = None) -> list[Entry]:
        """Matching entries, newest first."""
        found = []
        for entry in reversed(self._settle()):
            if wanted.matches(entry):
                found.append(entry)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def get(self, seq: int) -> Entry | None:
        return next((entry for entry in reversed(self._settle()) if entry.seq == seq), None)

    def count(self, wanted: Filter) -> int:
        return sum(1 for entry in self._settle() if wanted.matches(entry))

    def clear(self) -> int:
        dropped = len(self._entries)
        self._entries.clear()
        self._counted = self._held = 0
        return dropped

    def __len__(self) -> int:
        return len(self._settle())


def visible_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers for the journal, credentials masked to their scheme."""
    shown: dict[str, str] = {}
    for key, value in raw:
        name, text = key.decode("latin-1").lower(), value.decode("latin-1")
        if name in _HIDDEN_HEADERS:
            text = text.split(" ", 1)[0] + " ***" if " " in text else "***"
        elif name == "x-sandbox-sso-redirect-url":
            text = _SSO_URL.sub("/sso/***/", text)
        shown[name] = text
    return shown
