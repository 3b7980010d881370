"""`python -m bench.hostile [--repeat N]`: each attack of issue #14 against a live `python -m sandbox`
while a second client polls /__sandbox/health, with the figures the issue asks for.

Per attack it prints: requests sent, their statuses, 5xx and answers that are not the JSON
envelope, the peak RSS of the server during the attack (the kernel's VmHWM, reset before each
attack through /proc/PID/clear_refs, else sampled every 10 ms) over its RSS before, and the
time the other client waited for health (median, p99, max, and any call that did not get 200).
Then the state is compared with the one before the first attack (every attack is refused, so it
must be unchanged), and the server must still be healthy.

Wall-clock waits depend on the machine: on a shared one, run it twice and read the CPU line too.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, NamedTuple

from .procs import cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
MB = 2**20
# the documented example partner of the bundled fixtures (README "Quick start")
BASIC = "Basic Q0VLMUdaQk82QTo2NGIwZmYwMzMyZjA1OGI1NjQwMmI2M2E5YmFhNjAyMTRmMmQ2MWQz"
LOGIN = b"username=9167019711&password=Test%401234567&grant_type=password&clientId=CEK1GZBO6A"
PARTNER = "CRMXWB3ZM"
ALLOCATE = "/api/v0/partner/enKashCard/create-allocate-points"
BULK = "/api/v0/partner/enKashCard/bulk-create-allocate-points-json"
TRANSACTIONS = "/api/v0/partner/enKashCard/transaction/all"
ALIAS_BOMB = "".join(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n" for prev, name in zip("abcdefgh", "bcdefghi"))
ALIAS_BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + ALIAS_BOMB  # 9**9 strings if expanded


class Answer(NamedTuple):
    status: int  # 0: closed before a status line
    json_envelope: bool
    seconds: float


def request(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"", close: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: sandbox", *(["Connection: close"] if close else [])]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(port: int, data: bytes, timeout: float = 30) -> Answer:
    started, received = time.perf_counter(), b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused mid-send: the answer may still be there
        try:
            while chunk := sock.recv(1 << 16):
                received += chunk
                head, sep, body = received.partition(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if sep and length and len(body) >= int(length.group(1)):
                    break
        except (ConnectionResetError, socket.timeout):
            pass
    seconds = time.perf_counter() - started
    if not received.startswith(b"HTTP/1.1 "):
        return Answer(0, False, seconds)
    head, _, body = received.partition(b"\r\n\r\n")
    try:
        document = json.loads(body)
        envelope = isinstance(document, dict) and ("response_code" in document or "code" in document or "error" in document)
    except ValueError:
        envelope = False
    return Answer(int(head.split()[1]), envelope, seconds)


class Sandbox:
    def __init__(self, *flags: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", "0", "--log-level", "warning", *flags],
                                        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if found := re.search(r"listening on http://[^:]+:(\d+)", line):
                self.port = int(found.group(1))
                break
        else:
            raise SystemExit("the sandbox did not start")
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()  # type: ignore[union-attr]

    def status(self, field: str) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(field)

    def reset_peak(self) -> bool:
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def get(self, path: str) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(request("GET", path))
            data = b""
            while chunk := sock.recv(1 << 16):
                data += chunk
        return data.partition(b"\r\n\r\n")[2]

    def token(self) -> str:
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(request("POST", "/oauth/token", {"Authorization": BASIC,
                                                          "Content-Type": "application/x-www-form-urlencoded"}, LOGIN))
            data = b""
            while chunk := sock.recv(1 << 16):
                data += chunk
        return str(json.loads(data.partition(b"\r\n\r\n")[2])["access_token"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class Watch:
    """A second client polling health (fresh connection each time) and an RSS sampler."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox, self.stop, self.waits, self.failed, self.peak = sandbox, threading.Event(), [], [], 0
        self.threads = [threading.Thread(target=self._health), threading.Thread(target=self._rss)]

    def _health(self) -> None:
        while not self.stop.is_set():
            try:
                answer = exchange(self.sandbox.port, request("GET", "/__sandbox/health"), timeout=10)
            except OSError as exc:
                answer = Answer(0, False, 10.0)
                self.failed.append(type(exc).__name__)
            self.waits.append(answer.seconds)
            if answer.status != 200:
                self.failed.append(str(answer.status))
            time.sleep(0.02)

    def _rss(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.sandbox.status("VmRSS"))
            time.sleep(0.01)

    def __enter__(self) -> "Watch":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def flood(port: int, data: bytes, count: int, workers: int = 8) -> list[Answer]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda _: exchange(port, data), range(count)))


def slowloris(port: int, connections: int, seconds: float, head: bytes = b"GET / HTTP/1.1\r\nHost: x\r\n",
              dribble: bytes = b"X") -> list[Answer]:
    """`connections` sockets that each send a request head one byte a second and never end it
    (with `head` and `dribble` empty: sockets opened and held, never written to)."""
    socks: list[socket.socket] = []
    for _ in range(connections):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(head)
            socks.append(sock)
        except OSError:
            break
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        for sock in socks if dribble else ():
            try:
                sock.sendall(dribble)
            except OSError:
                pass
        time.sleep(1)
    answers = []
    for sock in socks:
        sock.setblocking(False)
        try:
            data = sock.recv(1 << 16)
        except OSError:
            data = b""
        answers.append(Answer(int(data.split()[1]) if data.startswith(b"HTTP/1.1 ") else 0,
                              b'"response_code"' in data, 0.0))
        sock.close()
    return answers


def attacks(args: argparse.Namespace, token: str) -> list[tuple[str, Callable[[int], list[Answer]]]]:
    big_header = request("GET", "/__sandbox/health", {"X-Big": "a" * MB})
    body = b'{"companyId": "' + b"a" * (args.max_body - 100) + b'"}'
    bulk = BULK + "?companyId=CEK1PU9AOO&cardAccountId=CAQL8YCV3&isPointsAllocation=true"
    authorised = {"Authorization": f"Bearer {token}", "partnerId": PARTNER, "Content-Type": "application/json"}
    nested = b"[" * 50_000
    call = MB - 1  # just under --max-call-bytes (1 MiB) and, before, OFF_LOOP_BYTES (parsed on the loop)
    objects = b'{"x": [' + b"{}," * ((call - 10) // 3) + b"{}]}"
    ids = b'{"companyId": "CEK1PU9AOO", "cardAccountId": "CAQL8YCV3", "enKashTransactionIds": ['
    ids += b'"",' * ((call - len(ids) - 10) // 3) + b'""]}'
    return [
        (f"headers: {args.repeat} x a 1 MiB header", lambda port: flood(port, big_header, args.repeat)),
        (f"bodies: {args.repeat // 5} x an 8 MiB call (over the 1 MiB call limit: 413)",
         lambda port: flood(port, request("POST", ALLOCATE, authorised, body), args.repeat // 5)),
        (f"bodies: {args.repeat // 5} x an 8 MiB upload to the bulk allocation (the upload limit)",
         lambda port: flood(port, request("POST", bulk, authorised, body), args.repeat // 5)),
        (f"bodies: {args.repeat // 5} x an 8 MiB upload without credentials (read, never parsed: 401)",
         lambda port: flood(port, request("POST", bulk, {"Content-Type": "application/json", "partnerId": PARTNER}, body),
                            args.repeat // 5)),
        (f"bodies: {args.repeat // 5} x a 9 MiB upload (over the limit: 413)",
         lambda port: flood(port, request("POST", bulk, {"Content-Type": "application/json"}, body + b" " * MB), args.repeat // 5)),
        (f"calls: {args.calls} x a 1 MiB call of {len(objects) // 3:,} objects (the exact decoder's worst)",
         lambda port: flood(port, request("POST", ALLOCATE, authorised, objects.ljust(call)), args.calls)),
        (f"calls: {args.calls} x a 1 MiB transaction/all of {len(ids) // 3:,} ids, each refused",
         lambda port: flood(port, request("POST", TRANSACTIONS, authorised, ids.ljust(call)), args.calls)),
        (f"nesting: {args.repeat // 5} x 50,000 '[' to fixtures",
         lambda port: flood(port, request("POST", "/__sandbox/fixtures", {"Content-Type": "application/yaml"}, nested), args.repeat // 5)),
        (f"alias bomb: {args.repeat // 5} x {len(ALIAS_BOMB)} bytes to fixtures",
         lambda port: flood(port, request("POST", "/__sandbox/fixtures", {"Content-Type": "application/yaml"}, ALIAS_BOMB.encode()),
                            args.repeat // 5)),
        (f"fault: {args.repeat // 5} x garbage; bytes=100000000",
         lambda port: flood(port, request("POST", "/oauth/token", {"X-Sandbox-Fault": "garbage; bytes=100000000"}), args.repeat // 5)),
        (f"slowloris: {args.slowloris} connections dribbling a head for 12 s",
         lambda port: slowloris(port, args.slowloris, 12)),
        (f"empty sockets: {args.slowloris} connections opened and held for 12 s, never written to",
         lambda port: slowloris(port, args.slowloris, 12, b"", b"")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1000, help="requests of the header attack (the others send a fifth)")
    parser.add_argument("--max-connections", type=int, default=200, help="the server's cap (the default is 1000)")
    parser.add_argument("--slowloris", type=int, default=300, help="connections of the slowloris attack")
    parser.add_argument("--calls", type=int, default=200, help="requests of each 1 MiB call attack")
    parser.add_argument("--only", action="append", default=[], metavar="WORD",
                        help="run only the attacks whose name holds WORD (repeatable)")
    args = parser.parse_args()
    args.max_body = 8 * MB
    # a frozen clock, so the state before and after compare byte for byte
    sandbox = Sandbox("--max-connections", str(args.max_connections), "--clock-start", "2025-06-01T09:00:00Z", "--clock-frozen", "true")
    try:
        time.sleep(0.5)
        token = sandbox.token()
        state_before, start_rss = sandbox.get("/__sandbox/state"), sandbox.status("VmRSS")
        cpu_before = cpu_seconds(sandbox.process.pid)
        print(f"sandbox pid {sandbox.process.pid}, RSS at start {start_rss / MB:.1f} MB, "
              f"--max-connections {args.max_connections}")
        total = five_xx = not_envelope = 0
        for name, attack in attacks(args, token):
            if args.only and not any(word in name for word in args.only):
                continue
            before = sandbox.status("VmRSS")
            hwm = sandbox.reset_peak()
            with Watch(sandbox) as watch:
                started = time.perf_counter()
                answers = attack(sandbox.port)
                seconds = time.perf_counter() - started
            peak = max(watch.peak, sandbox.status("VmHWM") if hwm else 0)
            statuses: dict[int, int] = {}
            for answer in answers:
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
            bad_5xx = sum(1 for a in answers if a.status >= 500 and a.status != 503)
            plain = sum(1 for a in answers if a.status and not a.json_envelope)
            total, five_xx, not_envelope = total + len(answers), five_xx + bad_5xx, not_envelope + plain
            waits = sorted(watch.waits)
            p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))]
            print(f"\n{name}: {len(answers)} in {seconds:.1f} s; statuses {dict(sorted(statuses.items()))}; "
                  f"5xx other than 503 {bad_5xx}; not the envelope {plain}")
            print(f"  RSS before {before / MB:.1f} MB, peak {peak / MB:.1f} MB, after {sandbox.status('VmRSS') / MB:.1f} MB")
            refused = {status: watch.failed.count(status) for status in sorted(set(watch.failed))}
            print(f"  health from another client: {len(waits)} calls, median {waits[len(waits) // 2] * 1000:.1f} ms, "
                  f"p99 {p99 * 1000:.1f} ms, max {waits[-1] * 1000:.1f} ms, not 200: {refused or 'none'}")
        time.sleep(1)
        state_after = sandbox.get("/__sandbox/state")
        health = exchange(sandbox.port, request("GET", "/__sandbox/health"))
        print(f"\nin all: {total} hostile requests or connections, 5xx other than 503: {five_xx}, answers not the envelope: "
              f"{not_envelope}; server CPU {cpu_seconds(sandbox.process.pid) - cpu_before:.1f} s")
        print(f"after: health {health.status}, state unchanged: {state_after == state_before}, "
              f"RSS {sandbox.status('VmRSS') / MB:.1f} MB (start {start_rss / MB:.1f} MB)")
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
