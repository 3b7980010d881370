"""Paired rounds: the VM's speed drifts from minute to minute, so a case is not compared with a
baseline run minutes away but, round after round, with a baseline run just before it; the median
of those per-round ratios is what the table shows, and drift slower than one round cancels."""

from __future__ import annotations

import statistics
from dataclasses import replace

from . import scenarios
from .load import Result
from .procs import Server
from .scenarios import Case, Plan, Row


def median_result(results: list[Result]) -> Result:
    """Each latency the median over `results`, req/s the median rate (not the pooled one), max the
    worst; requests, seconds and errors summed, so no error of any round is hidden."""
    def median(name: str) -> float:
        return statistics.median(getattr(r, name) for r in results)

    return Result(sum(r.requests for r in results), sum(r.seconds for r in results), sum(r.errors for r in results),
                  median("p50_ms"), median("p90_ms"), median("p99_ms"), max(r.max_ms for r in results), results[0].tool,
                  statistics.median(r.rps for r in results), median("cpu_us"))


def ratio(value: float, base: float) -> float:
    """value / base, NaN (printed "-") when there is no base to divide by."""
    return value / base if base else float("nan")


def paired(base: Server, plan: Plan, case: Case, tag: str, bases: list[Result]) -> Row:
    """`plan.pairs` rounds of (baseline, then `case` at once), each with a run id of its own so that
    references stay unique; every baseline run is added to `bases` for the baseline's own line."""
    rounds = []
    for number in range(plan.pairs):
        round_plan = replace(plan, run_id=f"{plan.run_id}{tag}r{number}")
        rounds.append((scenarios.baseline(base, round_plan), case(round_plan)))
    bases.extend(before for before, _ in rounds)
    return combine(rounds)


def combine(rounds: list[tuple[Result, Row]]) -> Row:
    """One row: the median figures of the case, the median of its per-round ratios in `extra`
    ("rps", "p50", "p99"), and in the note the req/s ratio of each round and every round's own
    note (e.g. a failed postings check)."""
    pairs = [(before, row.result) for before, row in rounds if row.result]
    first = rounds[0][1]
    notes = [f"round {n}: {row.note}" for n, (_, row) in enumerate(rounds, 1) if row.note]
    if not pairs:
        return first
    rates = [ratio(r.rps, b.rps) for b, r in pairs]
    ratios = {
        "rps": statistics.median(rates),
        "p50": statistics.median(ratio(r.p50_ms, b.p50_ms) for b, r in pairs),
        "p99": statistics.median(ratio(r.p99_ms, b.p99_ms) for b, r in pairs),
        "cpu": statistics.median(ratio(r.cpu_us, b.cpu_us) for b, r in pairs),
    }
    if len(rates) > 1:  # the spread shows how far drift still reaches within a round
        notes.insert(0, "req/s vs base by round: " + ", ".join(f"{x:.2f}x" for x in rates))
    return replace(first, result=median_result([r for _, r in pairs]), note="; ".join(notes), extra=ratios)
