"""Schemathesis against the sandbox's own /__sandbox/openapi.json, every check, zero failures allowed.

It is the sandbox's check of itself, not a partner check: schemathesis sends any schema-valid data,
the docs' sample ids included, and resets and replaces the whole state. So it runs only when the
suite starts its sandbox in-process, and against a second sandbox of its own, started from the
default fixtures without their magic values (schemathesis could draw 13.13 or 9999900504, and a
test must not pass or fail by luck). Two runs: the API with a logged-in partner, then the
operations that replace the whole state (reset, fixtures, state, scenarios, faults, clock) on
their own, so they cannot pull the token or arm a fault under the first run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from .api import Target
from .conftest import SEED
from .links import SandboxClient, ServerThread, Settings, read_fixtures
from .session import Session

CONFIG = Path(__file__).with_name("schemathesis.toml")
STATE_CHANGING = (
    "sandbox-reset", "sandbox-fixtures-load", "sandbox-fixtures-forget", "sandbox-state-put",
    "sandbox-scenarios-load", "sandbox-faults-create", "sandbox-clock-set",
)


@pytest.fixture(scope="module")
def own_sandbox(target: Target) -> Iterator[ServerThread]:
    if not target.owned:
        pytest.skip("schemathesis checks the sandbox itself, on a sandbox the suite starts (not on --sandbox-url)")
    settings = Settings(validate_responses=True, seed=SEED % 1000)
    doc = {k: v for k, v in read_fixtures(settings.fixtures_path()).items() if k != "magicValues"}
    with ServerThread(settings, fixture_doc=doc) as server:
        yield server


def schemathesis(url: str, examples: int, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
        f"{url}/__sandbox/openapi.json", "--checks", "all", "--workers", "1",
        "--max-examples", str(examples), "--seed", str(SEED), "--no-color",
        "--suppress-health-check", "all", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)


def test_schemathesis_finds_nothing_on_the_partner_api(own_sandbox: ServerThread, target: Target, contract_session: Session) -> None:
    with SandboxClient(own_sandbox.url) as client:
        token = client.login(target.client_id, target.client_secret, target.username, target.password, target.partner_id)
    excluded = [arg for op in STATE_CHANGING for arg in ("--exclude-operation-id", op)]
    result = schemathesis(own_sandbox.url, contract_session.budget.schemathesis_examples,
                          "-H", f"Authorization: Bearer {token}", "-H", f"partnerId: {target.partner_id}", *excluded)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]


def test_schemathesis_finds_nothing_on_the_state_changing_admin_api(own_sandbox: ServerThread, contract_session: Session) -> None:
    included = [arg for op in STATE_CHANGING for arg in ("--include-operation-id", op)]
    try:
        result = schemathesis(own_sandbox.url, contract_session.budget.schemathesis_examples, *included)
    finally:
        with SandboxClient(own_sandbox.url) as client:
            client.clear_faults()
            client.admin("DELETE", "fixtures")
            client.reset()
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
