"""The contract suite's target: a sandbox started here, or any base URL and credentials given by
option or environment (`--sandbox-url` / SANDBOX_URL, ...), e.g. EnKash's UAT.

Every test gets a logged-in SandboxClient; when a test fails, its report carries the hypothesis
seed and the exact requests it sent, as curl lines, to replay it.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Iterator

import pytest
from hypothesis import core

from sandbox.tools.client import SandboxClient
from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread

# option -> (environment variable, default for the sandbox started here: the docs' own identities)
OPTIONS: dict[str, tuple[str, str]] = {
    "url": ("SANDBOX_URL", ""),
    "client-id": ("SANDBOX_CLIENT_ID", "CEK1GZBO6A"),
    "client-secret": ("SANDBOX_CLIENT_SECRET", "64b0ff0332f058b56402b63a9baa60214f2d61d3"),
    "username": ("SANDBOX_USERNAME", "9167019711"),
    "password": ("SANDBOX_PASSWORD", "Test@1234567"),
    "partner-id": ("SANDBOX_PARTNER_ID", "CRMXWB3ZM"),
    "company-id": ("SANDBOX_COMPANY_ID", "CEK1PU9AOO"),
    "account-id": ("SANDBOX_ACCOUNT_ID", "CAQL8YCV3"),
    "admin-token": ("SANDBOX_ADMIN_TOKEN", ""),
}

# One seed for every hypothesis test in the run, printed in the header and in every failure.
if core.global_force_seed is None:
    core.global_force_seed = int(os.environ.get("CONTRACT_SEED") or random.SystemRandom().randrange(2**31))
SEED = core.global_force_seed


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("enkash-contract", "enkash contract suite target")
    for name, (env, default) in OPTIONS.items():
        group.addoption(f"--sandbox-{name}", default=None,
                        help=f"{env} (default: {default or 'start a sandbox in-process'})")


def pytest_report_header(config: pytest.Config) -> str:
    return f"contract suite seed: {SEED} (replay: CONTRACT_SEED={SEED} or --hypothesis-seed={SEED})"


@dataclass(frozen=True)
class Target:
    url: str
    client_id: str
    client_secret: str
    username: str
    password: str
    partner_id: str
    company_id: str
    account_id: str
    admin_token: str
    is_sandbox: bool  # the sandbox-only admin API (reset, clock, funding) is there

    def client(self) -> SandboxClient:
        return SandboxClient(self.url, admin_token=self.admin_token)

    def logged_in(self) -> SandboxClient:
        client = self.client()
        client.login(self.client_id, self.client_secret, self.username, self.password, self.partner_id)
        return client


def _value(config: pytest.Config, name: str) -> str:
    env, default = OPTIONS[name]
    given = config.getoption(f"--sandbox-{name}")
    return str(given if given is not None else os.environ.get(env, default))


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Iterator[Target]:
    values = {name.replace("-", "_"): _value(pytestconfig, name) for name in OPTIONS}
    server = None
    if not values["url"]:
        server = ServerThread(Settings(validate_responses=True, seed=SEED % 1000, admin_token=values["admin_token"])).start()
        values["url"] = server.url
    probe = SandboxClient(values["url"], admin_token=values["admin_token"])
    values["is_sandbox"] = probe.is_sandbox()
    probe.close()
    try:
        yield Target(**values)  # type: ignore[arg-type]
    finally:
        if server is not None:
            server.stop()


@pytest.fixture()
def sandbox_only(target: Target) -> None:
    """Skip, cleanly, a test that needs the sandbox's own API when aimed at a foreign URL."""
    if not target.is_sandbox:
        pytest.skip("needs the sandbox-only admin API (/__sandbox/); the target is not an enkash-sandbox")


@pytest.fixture()
def client(request: pytest.FixtureRequest, target: Target) -> Iterator[SandboxClient]:
    """A fresh sandbox (reset when the target is one) and a client logged in as the target partner."""
    if target.is_sandbox:
        with target.client() as admin:
            admin.reset()
    client = target.logged_in()
    request.node.stash[CLIENTS] = [client]
    yield client
    client.close()


CLIENTS = pytest.StashKey[list]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call" and report.failed:
        report.sections.append(("contract replay", f"seed {SEED}: CONTRACT_SEED={SEED} pytest '{item.nodeid}'"))
        for client in item.stash.get(CLIENTS, []):
            shown = min(len(client.log), 200)
            report.sections.append((f"request log (last {shown} of {len(client.log)})", client.replay_script(shown)))
    return report
