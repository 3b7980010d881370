"""CPU of `Ledger.post` and `rewards.allocate_points` in-process, several sandbox trees compared.

    python bench/postcost.py old=/tmp/tree_a new=.        (a tree: a directory holding sandbox/)

Each tree runs in a child process of its own (PYTHONPATH=tree), the trees alternating, `--pairs`
times; each child reports the least of `--batches` batches of `--size` calls, CPU time
(time.process_time) per call, gc tuned as the server tunes it. The least over the children is
printed, with the spread, since a shared machine only ever errs upwards. Postings are dropped
after each call, as a request drops them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def _child(batches: int, size: int) -> dict[str, float]:
    from datetime import datetime, timezone
    from decimal import Decimal

    from sandbox.domain import rewards
    from sandbox.domain.rewards import Allocation
    from sandbox.settings import Settings
    from sandbox.state.ledger import Ledger
    from sandbox.tools.server import tune_gc
    from sandbox.web.app import create_app

    app = create_app(Settings())
    store = app.sandbox.store  # type: ignore[attr-defined]
    rewards.load_account(store, store.accounts["CAQL8YCV3"], Decimal(10**12))
    ledger = Ledger()
    ledger.open("world", "POINT", floored=False)
    for n in range(100):
        ledger.open(f"card{n}", "POINT")
    tune_gc()
    at = datetime(2026, 12, 7, 10, 30, 15, 123456, tzinfo=timezone.utc)
    one, minus = Decimal(1), Decimal(-1)
    post_times, allocate_times = [], []
    counter = 0
    for _ in range(batches):
        begin = time.process_time()
        for _ in range(size):
            counter += 1
            ledger.post(f"card_txn_{counter:09d}", "CREDIT", "POINT", at, [("world", minus), (f"card{counter % 100}", one)],
                        scope="PARTNER", reference=f"REF-{counter}", fingerprint=f"{counter:024x}")
        post_times.append((time.process_time() - begin) / size * 1e6)
        requests = [Allocation("CEK1PU9AOO", "CAQL8YCV3", "EKCDM5AVZY", "CR", "ALLOCATE_POINT", one, f"A-{counter}-{n}",
                               f"{counter * size + n:024x}") for n in range(size)]
        begin = time.process_time()
        for request in requests:
            rewards.allocate_points(store, "CRMXWB3ZM", request)
        allocate_times.append((time.process_time() - begin) / size * 1e6)
    return {"post": min(post_times), "allocate": min(allocate_times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="+", help="name=path")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--size", type=int, default=4096)  # a multiple of the ledger's batch: each holds its share of packing
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.batches, args.size)))
        return
    trees = [tree.split("=", 1) for tree in args.trees]
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
    for round_ in range(args.pairs):
        for name, path in trees if round_ % 2 == 0 else reversed(trees):
            env = {**os.environ, "PYTHONPATH": os.path.abspath(path)}
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "x=.", "--child", "--batches", str(args.batches),
                                  "--size", str(args.size)], env=env, cwd=os.path.abspath(path), capture_output=True, text=True, check=True)
            results[name].append(json.loads(out.stdout))
            print(f"{name:>8}: post {results[name][-1]['post']:6.2f} us, allocate_points {results[name][-1]['allocate']:6.2f} us", flush=True)
    for name, runs in results.items():
        post, allocate = sorted(r["post"] for r in runs), sorted(r["allocate"] for r in runs)
        print(f"{name:>8}: Ledger.post {post[0]:.2f} us (runs {post[0]:.2f}-{post[-1]:.2f}), "
              f"allocate_points {allocate[0]:.2f} us (runs {allocate[0]:.2f}-{allocate[-1]:.2f})")


if __name__ == "__main__":
    main()
