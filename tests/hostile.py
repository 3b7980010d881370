"""Helpers of the hostile-input suites: a raw HTTP/1.1 exchange on a socket (for what no client
library would send), and the server process's resident memory."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any, NamedTuple


class Answer(NamedTuple):
    status: int  # 0: no answer (closed or reset before a status line)
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(port: int, data: bytes, timeout: float = 10.0, then: bytes = b"") -> Answer:
    """Send `data` on a fresh connection (then `then` once the answer has begun), read until the
    server closes or the first response is complete."""
    started = time.perf_counter()
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused mid-send: the answer may still be readable
        try:
            while not _complete(received):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    return parse(received, time.perf_counter() - started)


def _complete(received: bytes) -> bool:
    head, sep, body = received.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def parse(received: bytes, seconds: float = 0.0) -> Answer:
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 "):
        return Answer(0, {}, received, seconds)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode("latin-1")
    return Answer(int(lines[0].split()[1]), headers, body, seconds)


def request(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: sandbox", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def envelope_b(message: str) -> dict[str, Any]:
    return {"response_code": 1, "response_message": message, "payload": message}


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")
