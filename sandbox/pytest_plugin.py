"""pytest plugin (entry point `pytest11`): an in-process sandbox for partners' own suites.

`enkash_sandbox` starts one server per session on a free port and resets it before each test.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from .settings import Settings
from .testing import ServerThread


@pytest.fixture(scope="session")
def enkash_sandbox_server() -> Iterator[ServerThread]:
    with ServerThread(Settings.from_env()) as server:
        yield server


@pytest.fixture()
def enkash_sandbox(enkash_sandbox_server: ServerThread) -> ServerThread:
    enkash_sandbox_server.state.reset()
    return enkash_sandbox_server
