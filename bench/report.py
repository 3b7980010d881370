"""The printed tables: every figure with its ratio to the baseline of the same run, and where
each target of issue 8 stands. Markdown, so a run can be pasted into README.md, "Performance"."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from typing import Any

from .load import Result
from .scenarios import Plan, Row


@dataclass
class Figures:
    plan: Plan
    rows: list[Row] = field(default_factory=list)
    start: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (ms to healthy, idle RSS MB)
    after: dict[str, float] = field(default_factory=dict)  # name -> RSS MB after load

    def row(self, prefix: str) -> Row | None:
        return next((r for r in self.rows if r.name.startswith(prefix) and r.result), None)

    def baseline(self) -> Result:
        """The mean of the baseline runs (first and last), so a busy machine skews less."""
        runs = [r.result for r in self.rows if r.name.startswith("baseline") and r.result]
        n = len(runs)
        return Result(sum(r.requests for r in runs), sum(r.seconds for r in runs), sum(r.errors for r in runs),
                      *(sum(getattr(r, f) for r in runs) / n for f in ("p50_ms", "p90_ms", "p99_ms", "max_ms")),
                      runs[0].tool)


def _n(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _x(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "-"


def _table(header: list[str], lines: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join(out)


def print_table(figures: Figures) -> None:
    plan = figures.plan
    b = figures.baseline()
    print(f"\n## enkash-sandbox bench ({plan.tool}, {plan.connections} connections, {plan.seconds:g} s per case, "
          f"server on core {plan.server_core}, load on core {plan.load_core}, Python {platform.python_version()})\n")
    lines = []
    for row in figures.rows:
        r = row.result
        if r is None:
            lines.append([row.name] + ["n/a"] * 8 + [row.note])
            continue
        bulk = row.name.startswith("(4)")
        lines.append([
            row.name, "-" if bulk else _n(r.rps, 0), "-" if bulk else _x(r.rps, b.rps),
            _n(r.p50_ms, 2), _n(r.p90_ms, 2), _n(r.p99_ms, 2), _x(r.p99_ms, b.p99_ms), _x(r.p50_ms, b.p50_ms),
            str(r.errors), row.note,
        ])
    print(f"baseline (mean of first and last): {b.rps:,.0f} req/s, p50 {b.p50_ms:.2f} ms, p99 {b.p99_ms:.2f} ms\n")
    print(_table(["case", "req/s", "req/s vs base", "p50 ms", "p90 ms", "p99 ms", "p99 vs base", "p50 vs base",
                  "errors", "note"], lines))
    base_ms, base_rss = figures.start["baseline"]
    procs = []
    for name, (ms, rss) in figures.start.items():
        after = figures.after.get(name)
        procs.append([name, _n(ms, 0), _x(ms, base_ms), _n(rss), _x(rss, base_rss),
                      "-" if after is None else _n(after)])
    print()
    print(_table(["process", "start to healthy ms", "vs base", "RSS idle MB", "vs base", "RSS after load MB"], procs))
    print()
    print(_table(["target", "measured", "met"], targets(figures)))


def targets(figures: Figures) -> list[list[str]]:
    b = figures.baseline()
    out: list[list[Any]] = []

    def add(name: str, measured: str, met: bool) -> None:
        out.append([name, measured, "yes" if met else "NO"])

    top = figures.row("(1)")
    if top and top.result and b:
        ratio = top.result.rps / b.rps
        add("(1) throughput >= 0.5x baseline (milestone 0.25x)", f"{ratio:.2f}x", ratio >= 0.5)
        add(f"(1) p99 < 10 ms at {figures.plan.connections} connections", f"{top.result.p99_ms:.2f} ms", top.result.p99_ms < 10)
    ms, rss = figures.start["sandbox"]
    add("start to healthy < 300 ms", f"{ms:.0f} ms", ms < 300)
    add("idle RSS < 60 MB", f"{rss:.1f} MB", rss < 60)
    txn = [r for r in figures.rows if r.name.startswith("(3)") and r.result]
    if len(txn) == 2:
        empty, big = txn[0].result, txn[1].result
        assert empty and big
        add("(3) latency within 2x of the empty store (p50 / p99)",
            f"{big.p50_ms / empty.p50_ms:.2f}x / {big.p99_ms / empty.p99_ms:.2f}x", big.p50_ms <= 2 * empty.p50_ms)
        name, (_, big_rss) = list(figures.start.items())[-1]
        add(f"(3) {name.split('of ')[-1]} transactions held in < 1 GB", f"{big_rss:.0f} MB RSS", big_rss < 1024)
    bulk = figures.row("(4)")
    if bulk and bulk.result:
        add("(4) bulk of 10,000 rows < 1 s", f"{bulk.result.p50_ms:.0f} ms (median), {bulk.result.max_ms:.0f} ms (max)",
            bulk.result.max_ms < 1000)
    reset = figures.row("(5)")
    if reset and reset.result:
        add("(5) reset < 50 ms", f"{reset.result.p50_ms:.1f} ms p50, {reset.result.p99_ms:.1f} ms p99", reset.result.p99_ms < 50)
    return out


def print_soak(plan: Plan, idle: float, rounds: list[tuple[int, Row, float, float]]) -> None:
    print(f"\n## soak: {len(rounds)} rounds of {plan.seconds:g} s top-ups at {plan.connections} connections, "
          f"each followed by a reset; idle RSS {idle:.1f} MB\n")
    lines = [[str(n), _n(row.result.rps, 0) if row.result else "-", str(row.result.requests if row.result else 0),
              _n(loaded), _n(after)] for n, row, loaded, after in rounds]
    print(_table(["round", "req/s", "requests", "RSS after load MB", "RSS after reset MB"], lines))
    settled = [after for *_, after in rounds[1:]]
    if len(settled) >= 2:
        drift = settled[-1] - settled[0]
        print(f"\nRSS after reset from round 2 to {len(rounds)}: {drift:+.1f} MB ({'flat' if abs(drift) < 5 else 'GROWING'})")
