"""The load generator used when wrk is missing: asyncio keep-alive connections speaking raw
HTTP/1.1 (a client library would cost more than the server under test). Reads the spec as JSON
on stdin and prints the same `BENCH {json}` line as bench/wrk.lua."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from typing import Any


def _request(load: dict[str, Any], ref: str, card: str) -> bytes:
    body = load["body"].replace("{ref}", ref).replace("{card}", card).encode()
    lines = [f"{load['method']} {load['path']} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in load["headers"].items()]
    if body or load["method"] != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _connection(port: int, load: dict[str, Any], number: int, deadline: float,
                      latencies: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    cards = itertools.cycle(load["cards"] or [""])
    for counter in itertools.count(1):
        if time.perf_counter() >= deadline:
            break
        message = _request(load, f"{load['run_id']}-p{number}-{counter}", next(cards))
        begin = time.perf_counter()
        writer.write(message)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - begin)
        if int(head.split(b" ", 2)[1]) >= 400:
            errors[0] += 1
    writer.close()


async def _run(spec: dict[str, Any]) -> dict[str, int]:
    latencies: list[float] = []
    errors = [0, 0]
    begin = time.perf_counter()
    deadline = begin + spec["seconds"]
    results = await asyncio.gather(
        *(_connection(spec["port"], spec["load"], n, deadline, latencies, errors) for n in range(spec["connections"])),
        return_exceptions=True,
    )
    errors[1] = sum(1 for r in results if isinstance(r, Exception))
    duration = time.perf_counter() - begin
    latencies.sort()

    def pct(p: float) -> int:
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1e6) if latencies else 0

    return {"requests": len(latencies), "duration_us": int(duration * 1e6), "status_errors": errors[0],
            "socket_errors": errors[1], "p50": pct(50), "p90": pct(90), "p99": pct(99), "max": pct(100)}


def main() -> None:
    spec = json.loads(sys.stdin.read())
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(_run(spec))
    else:
        result = uvloop.run(_run(spec))
    print("BENCH " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
