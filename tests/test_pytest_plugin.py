"""The pytest plugin works from a separate project: examples/partner-project runs in its own
pytest process with nothing but the installed package (entry point pytest11)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "partner-project"


def test_plugin_is_registered_as_a_pytest11_entry_point():
    found = {ep.name: ep.value for ep in metadata.entry_points(group="pytest11")}
    assert found.get("enkash_sandbox") == "sandbox.tools.pytest_plugin"


def test_example_partner_project_passes_with_the_plugin():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "PYTEST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"], cwd=EXAMPLE, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_example_project_fails_without_the_plugin():
    """The fixtures come from the plugin, not from anything in the example project."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:enkash_sandbox"], cwd=EXAMPLE,
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode != 0
    assert "fixture 'enkash_client' not found" in result.stdout
