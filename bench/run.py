"""The bench: start the baseline and the sandbox pinned to one core, drive each case from
another core, print one table with every figure also as a ratio to the baseline of this run.
Cases (1) and (2) run in rounds, each right after a baseline run of its own (see rounds.py).

    python -m bench            # full: 10 s per case, a store of 1,000,000 transactions
    python -m bench --quick    # 3 s per case, 100,000 transactions
    python -m bench --soak     # RSS over repeated load-and-reset rounds

Cases: (1) top-ups (and (1b) create-order), (2) coins, (3) transaction/all in a big store, (4)
bulk, (5) reset, (6) the reads of one card (transaction/all of 20 and 1,000 postings, search,
cardAccount/get), each in paired rounds like (1) and (2), and (6b) the baseline sending a constant
answer the size of (6)'s 100-row page, (7) WireMock as a peer (bench/peers.py).
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

from . import peers, scenarios
from .load import Result, tool
from .partner import ACCOUNT, COMPANY, PATH, Partner
from .procs import Server, cores
from .report import Figures, print_soak, print_table
from .rounds import median_result, paired
from .scenarios import Case, Plan, Row


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
        pairs=args.pairs or (1 if quick else 3),
        starts=1 if quick else 5,
    )


def sandbox(core: int | None) -> Server:
    return Server("sandbox", ["-m", "sandbox", "--log-level", "warning"], "/__sandbox/health", core)


def compile_packages() -> None:
    """Byte-compile the sandbox and bench packages once, before any start is timed."""
    # PYTHONDONTWRITEBYTECODE=1 here: an editable checkout would recompile on every start, an installed package never does
    for name in ("sandbox", "bench"):
        spec = importlib.util.find_spec(name)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(folder, quiet=1)


def startups(makers: dict[str, Callable[[], Server]], repeats: int) -> dict[str, tuple[float, float]]:
    """Median start-to-healthy (ms) and idle RSS (MB) of each server over `repeats` fresh starts,
    the servers taken in turn (baseline, sandbox, baseline, ...) so that drift falls on both alike."""
    times: dict[str, list[float]] = {name: [] for name in makers}
    rss: dict[str, list[float]] = {name: [] for name in makers}
    for _ in range(repeats):
        for name, make in makers.items():
            with make() as server:
                times[name].append(server.started_ms)
                time.sleep(0.2)
                rss[name].append(server.rss())
    return {name: (statistics.median(times[name]), statistics.median(rss[name])) for name in makers}


def throughput(cases: set[str], server: Server, partner: Partner, baseline: Server) -> list[tuple[str, Case | Row]]:
    """Cases (1) and (2) as (tag, function of a round's plan), or their "n/a" row where this build lacks the route."""
    out: list[tuple[str, Case | Row]] = []
    if "1" in cases:
        out.append(("t", lambda plan: scenarios.top_ups(server, plan, partner)))
        name = "(1b) create-order, one voucher from one card"
        out.append(("o", scenarios.absent(name, scenarios.CREATE_ORDER) or (lambda plan: scenarios.orders(server, plan, partner))))
    if "2" in cases:
        for number, (name, path, load) in enumerate(scenarios.coin_loads(partner)):
            out.append((f"c{number}", scenarios.absent(name, path) or partial(scenarios.fixed, server, name=name, load=load)))
    if "6" in cases:
        cards = scenarios.read_cards(partner, f"R{int(time.time()) % 100000}")
        for number, (name, load) in enumerate(scenarios.read_loads(partner, cards)):
            out.append((f"r{number}", partial(scenarios.fixed, server, name=name, load=load)))
        size = len(partner.post(PATH + "/transaction/all", {"companyId": COMPANY, "cardAccountId": ACCOUNT,
                                                             "enKashCardId": cards[max(cards)]}).content)
        out.append(("rb", partial(scenarios.page_sized, baseline, size=size)))
    return out


def run(args: argparse.Namespace) -> None:
    plan = plan_for(args)
    core = plan.server_core
    figures = Figures(plan)

    def base() -> Server:
        return Server("baseline", ["-m", "bench.baseline"], "/", core)

    compile_packages()
    figures.start.update(startups({"baseline": base, "sandbox": lambda: sandbox(core)}, plan.starts))
    cases = set(args.cases.split(","))
    with base() as baseline:  # idle beside the sandbox all along: one server is under load at a time
        with sandbox(core) as server:
            partner = Partner(server.port)
            for tag, case in throughput(cases, server, partner, baseline):
                figures.rows.append(case if isinstance(case, Row) else paired(baseline, plan, case, tag, figures.bases))
            if "7" in cases:
                figures.rows.append(peer(baseline, server, plan, partner, figures))
            figures.after["sandbox"] = server.rss()
            if "5" in cases:
                figures.rows.append(scenarios.reset(server, plan, partner))
            if "4" in cases:
                figures.rows.append(scenarios.bulk(server, plan, partner))
            partner.close()
        if "3" in cases:
            figures.rows.extend(stores(plan, figures))
        if not figures.bases:  # no paired case ran: one baseline run for the others' ratios
            figures.bases.append(scenarios.baseline(baseline, plan))
        figures.after["baseline"] = baseline.rss()
    print_table(figures)


def peer(baseline: Server, sandbox_server: Server, plan: Plan, partner: Partner, figures: Figures) -> Row:
    """(1w) WireMock's static stub of create-allocate-points, warmed up, then in paired rounds like (1)."""
    reason = peers.missing()
    if reason:
        return Row(peers.NAME, None, note=reason)
    answer = peers.one_answer(partner, plan.run_id)
    load = peers.top_up_load(partner, partner.new_cards(plan.cards, f"{plan.run_id}-peer-cards"))
    server, root = peers.wiremock(plan.server_core, answer)
    with root, server:
        peers.warm(server, plan, load)
        row = paired(baseline, plan, lambda round_plan: peers.case(server, round_plan, load), "w", figures.bases)
        figures.start["wiremock"] = (server.started_ms, server.rss())
    return row


def stores(plan: Plan, figures: Figures) -> list[Row]:
    """(3) in rounds, like the paired cases: the empty and the big store are both up (on the same
    core, one loaded at a time) and are driven in turn, so the two are compared round by round."""
    def launcher(count: int) -> Server:
        return Server("bigstore", ["-m", "bench.bigstore", "--transactions", str(count)], "/__sandbox/health", plan.server_core)

    labels = ("0 (fixtures only)", f"{plan.big_store:,}")
    with launcher(0) as empty, launcher(plan.big_store) as big:
        runs: dict[str, list[Result]] = {label: [] for label in labels}
        for number in range(plan.pairs):
            round_plan = replace(plan, run_id=f"{plan.run_id}T{number}")
            for label, server in zip(labels, (empty, big)):
                runs[label].append(scenarios.transactions(server, round_plan, label).result)  # type: ignore[arg-type]
        for label, server in zip(labels, (empty, big)):
            figures.start[f"sandbox, store of {label}"] = (server.started_ms, server.rss())
    by_round = [b.p50_ms / e.p50_ms for e, b in zip(*runs.values())]
    note = "p50 vs the empty store by round: " + ", ".join(f"{x:.2f}x" for x in by_round) if len(by_round) > 1 else ""
    return [Row(f"(3) transaction/all, one card, store of {label}", median_result(runs[label]), note=note if label == labels[1] else "")
            for label in labels]


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
    parser.add_argument("--pairs", type=int, default=0,
                        help="rounds of (baseline, case) for cases (1) and (2) (default 3, quick 1)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--transactions", type=int, default=None, help="size of the big store for case (3)")
    parser.add_argument("--cases", default="1,2,3,4,5,6,7", help="which cases to run, e.g. 1,5 (7: WireMock, a peer)")
    parser.add_argument("--tool", choices=("wrk", "pyload"), default=None, help="load generator (default: wrk if installed)")
    args = parser.parse_args(argv)
    (soak if args.soak else run)(args)
    return 0
