"""The bench: start the baseline and the sandbox pinned to one core, drive each case from
another core, print one table with every figure also as a ratio to the baseline of this run.

    python -m bench            # full: 10 s per case, a store of 1,000,000 transactions
    python -m bench --quick    # 3 s per case, 100,000 transactions
    python -m bench --soak     # RSS over repeated load-and-reset rounds
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

from . import scenarios
from .load import tool
from .partner import Partner
from .procs import Server, cores
from .report import Figures, print_soak, print_table
from .scenarios import Plan


def plan_for(args: argparse.Namespace) -> Plan:
    available = cores()
    quick = args.quick
    return Plan(
        seconds=args.seconds or (3 if quick else 10),
        connections=args.connections,
        cards=64,
        big_store=args.transactions if args.transactions is not None else (100_000 if quick else 1_000_000),
        bulk_repeats=2 if quick else 5,
        server_core=available[0] if available else None,
        load_core=available[1] if len(available) > 1 else None,
        run_id=f"B{int(time.time()) % 100000}",
        tool=args.tool or tool(),
    )


def sandbox(core: int | None) -> Server:
    return Server("sandbox", ["-m", "sandbox", "--log-level", "warning"], "/__sandbox/health", core)


def startup(make: object, repeats: int) -> tuple[float, float]:
    """Median start-to-healthy (ms) and idle RSS (MB) over `repeats` fresh starts."""
    times, rss = [], []
    for _ in range(repeats):
        with make() as server:  # type: ignore[operator]
            times.append(server.started_ms)
            time.sleep(0.2)
            rss.append(server.rss())
    return statistics.median(times), statistics.median(rss)


def run(args: argparse.Namespace) -> None:
    plan = plan_for(args)
    core = plan.server_core
    figures = Figures(plan)
    repeats = 1 if args.quick else 3

    def base() -> Server:
        return Server("baseline", ["-m", "bench.baseline"], "/", core)

    figures.start["baseline"] = startup(base, repeats)
    figures.start["sandbox"] = startup(lambda: sandbox(core), repeats)
    with base() as server:  # measured first and last: the ratios use the mean of both
        figures.rows.append(scenarios.baseline(server, plan, "first"))
        figures.after["baseline"] = server.rss()
    cases = set(args.cases.split(","))
    with sandbox(core) as server:
        partner = Partner(server.port)
        if "1" in cases:
            figures.rows.append(scenarios.top_ups(server, plan, partner))
        if "2" in cases:
            figures.rows.extend(scenarios.coins(server, plan, partner))
        figures.after["sandbox"] = server.rss()
        if "5" in cases:
            figures.rows.append(scenarios.reset(server, plan))
        if "4" in cases:
            figures.rows.append(scenarios.bulk(server, plan, partner))
        partner.close()
    stores = ((0, "0 (fixtures only)"), (plan.big_store, f"{plan.big_store:,}")) if "3" in cases else ()
    for count, label in stores:
        with Server("bigstore", ["-m", "bench.bigstore", "--transactions", str(count)], "/__sandbox/health", core) as big:
            figures.start[f"sandbox, store of {label}"] = (big.started_ms, big.rss())
            figures.rows.append(scenarios.transactions(big, plan, label))
    with base() as server:
        figures.rows.append(scenarios.baseline(server, plan, "last"))
    print_table(figures)


def soak(args: argparse.Namespace) -> None:
    plan = plan_for(args)
    core = plan.server_core
    rounds = []
    with sandbox(core) as server:
        partner = Partner(server.port)
        idle = server.rss()
        for number in range(args.rounds):
            plan.run_id = f"S{number}x{int(time.time()) % 10000}"
            row = scenarios.top_ups(server, plan, partner)
            loaded = server.rss()
            partner.reset()
            partner.login()
            rounds.append((number + 1, row, loaded, server.rss()))
        partner.close()
    print_soak(plan, idle, rounds)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs and a 100,000-transaction store")
    parser.add_argument("--soak", action="store_true", help="RSS over rounds of load, each followed by a reset")
    parser.add_argument("--rounds", type=int, default=8, help="soak rounds")
    parser.add_argument("--seconds", type=float, default=0, help="seconds per case (default 10, quick 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--transactions", type=int, default=None, help="size of the big store for case (3)")
    parser.add_argument("--cases", default="1,2,3,4,5", help="which cases to run, e.g. 1,5")
    parser.add_argument("--tool", choices=("wrk", "pyload"), default=None, help="load generator (default: wrk if installed)")
    args = parser.parse_args(argv)
    (soak if args.soak else run)(args)
    return 0
