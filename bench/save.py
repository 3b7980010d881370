"""`python -m bench.save [--transactions N]`: the state file of a large store (issue #13 item 3).

Prints (1) in-process: how long snapshot.dump + write_file take for a store of N allocations
(bench/bigstore.py fills it through the domain functions the endpoints call), wall and CPU, the
file's size, and how long reading it back takes; (2) end to end: a real `python -m sandbox
--state-file` started on that file, three faults held in flight (timeout=, latency=, slow), then
SIGTERM: the time to exit and to the "state saved" line, and the postings in the file it wrote.
The budget is docker stop's 10 s; README "Stopping" quotes these figures.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from sandbox.documents import snapshot
from sandbox.settings import Settings
from sandbox.state.clock import Clock

from .bigstore import populate

ROOT = Path(__file__).resolve().parent.parent
HELD = ("timeout=120s", "latency=60s", "slow; chunk=1; every=10s")


def timed(action):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    value = action()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def in_process(transactions: int, path: Path) -> int:
    app = populate(Settings.from_env(port=0, log_level="warning"), transactions, 1000)
    state = app.sandbox  # type: ignore[attr-defined]
    postings = len(state.store.ledger.postings)
    doc, dump_wall, dump_cpu = timed(lambda: snapshot.dump(state.store, state.seed))
    _, write_wall, write_cpu = timed(lambda: snapshot.write_file(path, doc))
    print(f"store: {transactions:,} allocations, {postings:,} postings")
    print(f"save (dump + write): {dump_wall + write_wall:.2f} s wall, {dump_cpu + write_cpu:.2f} s CPU "
          f"(dump {dump_wall:.2f} s, write {write_wall:.2f} s), file {path.stat().st_size / 1e6:.1f} MB")
    _, read_wall, read_cpu = timed(lambda: snapshot.restore(snapshot.read_file(path), Clock()))
    print(f"read back (read + restore, validated whole): {read_wall:.2f} s wall, {read_cpu:.2f} s CPU")
    return postings


def end_to_end(path: Path, postings: int) -> None:
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", "0", "--log-level", "warning", "--state-file", str(path)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    started, url = time.perf_counter(), ""
    for line in process.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            url = found.group(1)
            break
    assert url, "the sandbox did not start"
    print(f"start with the state file (restore included): {time.perf_counter() - started:.2f} s")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: [lines.append((time.perf_counter(), line)) for line in process.stdout], daemon=True)  # type: ignore[union-attr, func-returns-value]
    reader.start()
    outcomes: list[str] = []

    def hold(fault: str) -> None:
        try:
            outcomes.append(str(httpx.post(url + "/oauth/token", headers={"X-Sandbox-Fault": fault}, timeout=130).status_code))
        except httpx.TransportError as exc:
            outcomes.append(type(exc).__name__)

    holders = [threading.Thread(target=hold, args=(fault,)) for fault in HELD]
    for holder in holders:
        holder.start()
    while httpx.get(url + "/__sandbox/faults", timeout=10).json()["fired"] < len(HELD):
        assert not outcomes, f"a fault was not held: {outcomes}"
        time.sleep(0.05)
    signalled = time.perf_counter()
    os.kill(process.pid, signal.SIGTERM)
    code = process.wait(timeout=60)
    exited = time.perf_counter() - signalled
    reader.join(timeout=10)
    for holder in holders:
        holder.join(timeout=10)
    saved = next((at - signalled for at, line in lines if "state saved to" in line), None)
    written = len(snapshot.read_file(path)["ledger"]["postings"])
    print(f"SIGTERM to exit with {len(HELD)} faults held: {exited:.2f} s (exit code {code}; the state saved line at "
          f"{saved if saved is None else round(saved, 2)} s); held clients: {sorted(outcomes)}")
    print(f"postings in the saved file: {written:,} (expected {postings:,})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=100_000, help="allocations in the store (default 100,000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state.json"
        postings = in_process(args.transactions, path)
        end_to_end(path, postings)


if __name__ == "__main__":
    main()
