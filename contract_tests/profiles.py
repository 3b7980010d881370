"""Budgets for the contract suite: `quick` (a few examples: the mutation test and a first look),
`ci` (the default: keeps CI within budget) and `nightly`. Chosen with CONTRACT_BUDGET (or the
older HYPOTHESIS_PROFILE), `--contract-budget`, or the runner's `--budget`; applied per test, so
other suites keep their own hypothesis settings.

Shrinking replays examples against the target: that is sound only against a target the suite
started itself (the in-process sandbox), and even there it is bounded in time. Against any other
target the first failing example is reported as found (its violation was already printed)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any, Iterator

from hypothesis import HealthCheck, Phase, settings

# no explain phase: it traces every line of httpx and the server and turns seconds into minutes
_COMMON: dict[str, Any] = dict(deadline=None, database=None, print_blob=True, report_multiple_bugs=False,
                               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                      HealthCheck.data_too_large])


@dataclass(frozen=True)
class Budget:
    name: str
    examples: int  # per generated property
    machine_runs: int  # state machine runs
    steps: int  # steps per state machine run
    schemathesis_examples: int
    shrink_seconds: int  # shrinking time on a target the suite owns


BUDGETS = {
    "quick": Budget("quick", examples=3, machine_runs=3, steps=12, schemathesis_examples=3, shrink_seconds=10),
    "ci": Budget("ci", examples=25, machine_runs=25, steps=20, schemathesis_examples=15, shrink_seconds=30),
    "nightly": Budget("nightly", examples=500, machine_runs=200, steps=60, schemathesis_examples=200, shrink_seconds=120),
}


def chosen_name(given: str | None = None) -> str:
    for name in (given, os.environ.get("CONTRACT_BUDGET"), os.environ.get("HYPOTHESIS_PROFILE")):
        if name in BUDGETS:
            return name  # type: ignore[return-value]
    return "ci"


def contract_settings(budget: Budget, *, stateful: bool = False, shrink: bool = False, scale: float = 1.0) -> settings:
    """Hypothesis settings for one property: the budget's example count, and no shrink phase unless
    the target is the suite's own."""
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    count = budget.machine_runs if stateful else budget.examples
    chosen: dict[str, Any] = dict(max_examples=max(1, int(count * scale)), phases=phases)
    if stateful:
        chosen["stateful_step_count"] = budget.steps
    return settings(**_COMMON, **chosen)


@contextlib.contextmanager
def shrinking_within(seconds: float) -> Iterator[None]:
    """Hypothesis shrinks for up to 300 s; this bounds it (the engine reads the constant at each run)."""
    from hypothesis.internal.conjecture import engine

    before = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if before is None:
        yield
        return
    engine.MAX_SHRINKING_SECONDS = int(seconds)
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = before
