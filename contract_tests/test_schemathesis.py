"""Schemathesis against the served /__sandbox/openapi.json, every check, zero failures allowed.

Two runs: the API with a logged-in partner, then the operations that replace the whole state
(reset, fixtures, state, scenarios, faults, clock) on their own, so they cannot pull the token
or arm a fault under the first run. The example count follows the hypothesis profile.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SEED, Target
from .profiles import SCHEMATHESIS_EXAMPLES

CONFIG = Path(__file__).with_name("schemathesis.toml")
STATE_CHANGING = (
    "sandbox-reset", "sandbox-fixtures-load", "sandbox-fixtures-forget", "sandbox-state-put",
    "sandbox-scenarios-load", "sandbox-faults-create", "sandbox-clock-set",
)


def schemathesis(target: Target, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
        f"{target.url}/__sandbox/openapi.json", "--checks", "all", "--workers", "1",
        "--max-examples", str(SCHEMATHESIS_EXAMPLES), "--seed", str(SEED), "--no-color",
        "--suppress-health-check", "all", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)


def test_schemathesis_finds_nothing_on_the_partner_api(target: Target, sandbox_only: None) -> None:
    client = target.logged_in()
    client.reset()
    token = client.login(target.client_id, target.client_secret, target.username, target.password, target.partner_id)
    excluded = [arg for op in STATE_CHANGING for arg in ("--exclude-operation-id", op)]
    result = schemathesis(target, "-H", f"Authorization: Bearer {token}", "-H", f"partnerId: {target.partner_id}", *excluded)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]


def test_schemathesis_finds_nothing_on_the_state_changing_admin_api(target: Target, sandbox_only: None) -> None:
    if target.admin_token:
        pytest.skip("runs without an admin token (the document then lists no admin security)")
    included = [arg for op in STATE_CHANGING for arg in ("--include-operation-id", op)]
    try:
        result = schemathesis(target, *included)
    finally:
        with target.client() as client:
            client.clear_faults()
            client.admin("DELETE", "fixtures")
            client.reset()
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
