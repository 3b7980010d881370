"""pytest plugin (entry point `pytest11`): an in-process sandbox for partners' own suites.

`enkash_sandbox_server` starts one real server per session on a free port (settings from the
SANDBOX_* environment); `enkash_sandbox` resets it before each test (fixtures, clock, faults);
`enkash_client` is a SandboxClient on it: get a token, call the APIs, arm faults, move the clock.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from sandbox.tools.client import SandboxClient
from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread


@pytest.fixture(scope="session")
def enkash_sandbox_server() -> Iterator[ServerThread]:
    """One sandbox for the whole session, on a free loopback port."""
    with ServerThread(Settings.from_env()) as server:
        yield server


@pytest.fixture()
def enkash_sandbox(enkash_sandbox_server: ServerThread) -> ServerThread:
    """The session's sandbox, back to its fixtures: records, clock and armed faults reset."""
    with SandboxClient(enkash_sandbox_server.url, admin_token=enkash_sandbox_server.settings.admin_token) as admin:
        admin.reset()
        admin.clear_faults()
    return enkash_sandbox_server


@pytest.fixture()
def enkash_client(enkash_sandbox: ServerThread) -> Iterator[SandboxClient]:
    """A SandboxClient on the freshly reset sandbox (log in with `.login(...)`)."""
    with SandboxClient(enkash_sandbox.url, admin_token=enkash_sandbox.settings.admin_token) as client:
        yield client
