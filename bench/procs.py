"""Server processes under test: started pinned to one core, timed from spawn to the first
healthy answer, and measured for resident memory (RSS) from /proc."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any



def cores() -> list[int]:
    """The cores this process may use; the server gets the first, the load the second."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return []


def pin(core: int | None) -> None:
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str, timeout: float = 1.0) -> tuple[int, bytes]:
    """One raw HTTP/1.1 GET: no client library between the clock and the socket."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used (from /proc): time on the CPU, which a
    neighbour's burst on a shared machine delays but does not add to, unlike wall time."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Server:
    """A server process (`program`, default this Python): `argv` gets `--port N` appended; `health`
    is polled until it answers 200."""

    name: str
    argv: Sequence[str]
    health: str
    core: int | None = None
    ready_timeout: float = 600.0
    program: str = ""  # another executable than this Python (a peer: java)
    port: int = 0
    started_ms: float = 0.0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: Any = field(default=None, repr=False)

    def start(self) -> Server:
        self.port = free_port()
        core = self.core
        self._log = tempfile.TemporaryFile()
        begin = time.perf_counter()
        self.process = subprocess.Popen(
            [self.program or sys.executable, *self.argv, "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=self._log, preexec_fn=lambda: pin(core),
        )
        while True:
            try:
                if http_get(self.port, self.health)[0] == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log()[-2000:]}")
            if time.perf_counter() - begin > self.ready_timeout:
                raise RuntimeError(f"{self.name} not healthy after {self.ready_timeout}s")
            time.sleep(0.001)
        self.started_ms = (time.perf_counter() - begin) * 1000
        return self

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def rss(self) -> float:
        return rss_mb(self.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
