"""Drive load at a server from a separate process: wrk (Debian's package) with a generated Lua
script, or bench/pyload.py when wrk is missing. Both print one `BENCH {json}` line.

A `Load` names one request shape. In its body `{ref}` becomes a reference unique across the
whole run (run id, thread, counter) and `{card}` cycles through `cards`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .procs import pin

LUA = Path(__file__).with_name("wrk.lua")


@dataclass
class Load:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    cards: list[str] = field(default_factory=list)
    run_id: str = "R"


@dataclass
class Result:
    requests: int
    seconds: float
    errors: int  # status >= 400 plus socket errors
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    tool: str
    rate: float | None = None  # req/s when not requests / seconds: the median over rounds
    cpu_us: float = float("nan")  # the server's CPU time per answered request (NaN: not measured)

    @property
    def rps(self) -> float:
        if self.rate is not None:
            return self.rate
        return self.requests / self.seconds if self.seconds else 0.0


def tool() -> str:
    return "wrk" if shutil.which("wrk") else "pyload"


def drive(port: int, load: Load, connections: int, seconds: float, core: int | None, use: str | None = None) -> Result:
    """Run `load` against 127.0.0.1:port for `seconds` with `connections` keep-alive connections."""
    use = use or tool()
    if use == "wrk":
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(_lua(load))
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                "-s", script.name, f"http://127.0.0.1:{port}"]
    else:
        argv = [sys.executable, "-m", "bench.pyload"]
    spec = json.dumps({"port": port, "connections": connections, "seconds": seconds, "load": asdict(load)})
    done = subprocess.run(argv, input=spec.encode(), capture_output=True, preexec_fn=lambda: pin(core),
                          cwd=Path(__file__).parent.parent, timeout=seconds + 120)
    if use == "wrk":
        Path(script.name).unlink()
    line = next((text for text in done.stdout.decode().splitlines() if text.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"{use} failed: {done.stdout.decode()[-1000:]} {done.stderr.decode()[-1000:]}")
    raw = json.loads(line[6:])
    return Result(raw["requests"], raw["duration_us"] / 1e6, raw["status_errors"] + raw["socket_errors"],
                  raw["p50"] / 1000, raw["p90"] / 1000, raw["p99"] / 1000, raw["max"] / 1000, use)


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for our ASCII inputs


def _lua(load: Load) -> str:
    headers = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in load.headers.items())
    cards = ", ".join(_lua_string(c) for c in load.cards)
    return (
        f"method, path, template, run_id = {_lua_string(load.method)}, {_lua_string(load.path)}, "
        f"{_lua_string(load.body)}, {_lua_string(load.run_id)}\n"
        f"headers = {{{headers}}}\ncards = {{{cards}}}\n" + LUA.read_text()
    )
