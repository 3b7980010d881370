"""Target 3 (issue 17) in one process: memory per posting held, restore of a state file, and the
first reset after a load. `python -m bench.memory [--transactions 100000] [--rounds 3]`.

- **Bytes per posting**: the store filled as bench/bigstore.py fills it (the domain's own
  allocate_points), RSS and tracemalloc measured against the same app with fixtures only, built
  just before in the same process: the difference divided by the postings added.
- **Restore**: the store written with snapshot.write_file, then read and restored (read_file +
  restore, as --state-file does at start), the least CPU and wall time of `--rounds`; beside it,
  orjson parsing the same file, the floor no reader of that file goes under, as the ratio's base.
- **Reset after load**: AppState.reset() with the restored store in place (the first reset after
  a load), least of the rounds, against a reset of the default state in the same run; and how
  long the background reaper then took to free the old store (off the request path).

On a shared machine, CPU time and the least of several rounds err only upwards.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

import orjson

from sandbox.documents import snapshot
from sandbox.settings import Settings
from sandbox.state.reaper import REAPER

from .bigstore import populate


def _rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def per_posting(settings: Settings, transactions: int, traced: bool) -> tuple[float, int, object]:
    """(bytes per posting, postings added, the app): RSS, or tracemalloc when `traced`."""
    empty = populate(settings, 0, 1000)
    gc.collect()
    held = len(empty.sandbox.store.ledger.postings)  # type: ignore[attr-defined]
    if traced:
        tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0] if traced else _rss()
    app = populate(settings, transactions, 1000)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0] if traced else _rss()
    if traced:
        tracemalloc.stop()
    added = len(app.sandbox.store.ledger.postings) - held  # type: ignore[attr-defined]
    return (after - before) / added, added, app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--traced", action="store_true", help="also tracemalloc's bytes per posting (a second build)")
    args = parser.parse_args()
    settings = Settings.from_env(port=0, log_level="warning")
    rss, added, app = per_posting(settings, args.transactions, False)
    print(f"\n## bench.memory: {added:,} postings, {args.rounds} rounds\n")
    print("| figure | measured | base (same run) | ratio |\n|---|---|---|---|")
    print(f"| RSS per posting held | {rss:,.0f} B | target 400 B | {rss / 400:.2f}x |")
    state = app.sandbox  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state.json"
        snapshot.write_file(path, snapshot.dump(state.store, state.seed, columns=True))  # as the server saves it
        size = os.path.getsize(path)
        del app, state
        gc.collect()
        if args.traced:
            traced, _, traced_app = per_posting(settings, args.transactions, True)
            print(f"| tracemalloc per posting held | {traced:,.0f} B | target 400 B | {traced / 400:.2f}x |")
            del traced_app
            gc.collect()
        fresh = populate(settings, 0, 1000).sandbox  # type: ignore[attr-defined]
        best: dict[str, float] = {}

        def keep(name: str, value: float) -> None:
            best[name] = min(best.get(name, float("inf")), value)

        raw = path.read_bytes()
        for _ in range(args.rounds):
            cpu, wall = time.process_time(), time.perf_counter()
            orjson.loads(raw)
            keep("parse cpu", time.process_time() - cpu)
            keep("parse wall", time.perf_counter() - wall)
            cpu, wall = time.process_time(), time.perf_counter()
            store, seed = snapshot.restore(snapshot.read_file(path), fresh.clock)
            keep("restore cpu", time.process_time() - cpu)
            keep("restore wall", time.perf_counter() - wall)
            fresh.store, fresh.seed = store, seed
            del store
            gc.freeze()  # as the server does after a restore at start
            wall = time.perf_counter()
            fresh.reset()
            keep("reset after load", time.perf_counter() - wall)
            wall = time.perf_counter()
            REAPER.wait()
            keep("reaper", time.perf_counter() - wall)
            wall = time.perf_counter()
            fresh.reset()
            keep("reset default", time.perf_counter() - wall)
            gc.unfreeze()
            gc.collect()
    ms = {name: value * 1000 for name, value in best.items()}
    print(f"| restore of the file ({size / 1e6:.0f} MB), CPU | {ms['restore cpu']:,.0f} ms | orjson parse {ms['parse cpu']:,.0f} ms "
          f"| {ms['restore cpu'] / ms['parse cpu']:.1f}x |")
    print(f"| restore of the file, wall | {ms['restore wall']:,.0f} ms | orjson parse {ms['parse wall']:,.0f} ms "
          f"| {ms['restore wall'] / ms['parse wall']:.1f}x |")
    print(f"| first reset after the load, wall | {ms['reset after load']:.1f} ms | reset of the default state "
          f"{ms['reset default']:.1f} ms | {ms['reset after load'] / ms['reset default']:.1f}x |")
    print(f"| the old store freed by the reaper (background), wall | {ms['reaper']:,.0f} ms | | |")
    print(f"\n(least of {args.rounds} rounds each; targets: restore of 100,000 postings < 1 s, reset after load < 50 ms)")


if __name__ == "__main__":
    main()
