"""Hypothesis settings for the contract suite: `ci` (default, small, keeps CI within budget) and
`nightly` (HYPOTHESIS_PROFILE=nightly). Applied per test, so other suites keep their own."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

# no explain phase: it traces every line of httpx and the server and turns seconds into minutes
_COMMON = dict(deadline=None, database=None, print_blob=True, phases=[p for p in Phase if p != Phase.explain],
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])

PROFILES = {
    "ci": dict(max_examples=25, stateful_step_count=20),
    "nightly": dict(max_examples=500, stateful_step_count=60),
}
NAME = os.environ.get("HYPOTHESIS_PROFILE", "ci") if os.environ.get("HYPOTHESIS_PROFILE") in PROFILES else "ci"


def contract_settings(scale: float = 1.0) -> settings:
    """This run's profile; `scale` shrinks the example count of the costlier tests."""
    chosen = dict(PROFILES[NAME])
    chosen["max_examples"] = max(1, int(chosen["max_examples"] * scale))
    return settings(**_COMMON, **chosen)  # type: ignore[arg-type]


SCHEMATHESIS_EXAMPLES = {"ci": 15, "nightly": 200}[NAME]
