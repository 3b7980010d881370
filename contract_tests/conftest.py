"""The contract suite's target: a sandbox started here, or any base URL and credentials given by
option or environment (`--sandbox-url` / SANDBOX_URL, ...), e.g. EnKash's UAT.

The run's seed and run id are printed in the header. A broken contract is printed the moment it
is found (the sentence, the request and answer as curl, the seed and the run id) and is the
failure's report, whatever hypothesis does after it. `--contract-summary FILE` writes a Markdown
summary of the run.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import core

from .api import Target
from .contract import Context, ContractViolation
from .identity import check_run_id, run_id_from_env
from .links import ServerThread, Settings
from .magic import MagicTable
from .profiles import BUDGETS, Budget, chosen_name
from .session import Session, probe_is_sandbox

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
    "coins-company-id": ("SANDBOX_COINS_COMPANY_ID", ""),
    "product-catalog-id": ("SANDBOX_PRODUCT_CATALOG_ID", "PC7324536190LULHL"),
    "denomination": ("SANDBOX_DENOMINATION", "100"),
    "fixtures": ("SANDBOX_FIXTURES", ""),
}

# One seed for every hypothesis test in the run, printed in the header and in every failure.
if core.global_force_seed is None:
    core.global_force_seed = int(os.environ.get("CONTRACT_SEED") or random.SystemRandom().randrange(2**31))
SEED: int = core.global_force_seed
RUN_ID = run_id_from_env()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("enkash-contract", "enkash contract suite")
    for name, (env, default) in OPTIONS.items():
        group.addoption(f"--sandbox-{name}", default=None, help=f"{env} (default: {default or 'start a sandbox in-process'})")
    group.addoption("--contract-budget", default=None, choices=sorted(BUDGETS), help="quick, ci (default) or nightly (CONTRACT_BUDGET)")
    group.addoption("--contract-run-id", default=None, help="the run id every identifier is made from (CONTRACT_RUN_ID; default: new)")
    group.addoption("--contract-summary", default=None, help="write a Markdown summary of the run to this file")


def pytest_configure(config: pytest.Config) -> None:
    global RUN_ID
    given = config.getoption("--contract-run-id", default=None)
    if given:
        RUN_ID = check_run_id(given)
    config.stash[RESULTS] = []
    config.stash[STARTED] = time.time()


def budget_of(config: pytest.Config) -> Budget:
    return BUDGETS[chosen_name(config.getoption("--contract-budget", default=None))]


def pytest_report_header(config: pytest.Config) -> str:
    return (f"contract suite: seed {SEED}, run id {RUN_ID}, budget {budget_of(config).name} "
            f"(replay the data: CONTRACT_SEED={SEED}; every run sends new identifiers)")


def _value(config: pytest.Config, name: str) -> str:
    env, default = OPTIONS[name]
    given = config.getoption(f"--sandbox-{name}")
    return str(given if given is not None else os.environ.get(env, default))


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Iterator[Target]:
    values = {name: _value(pytestconfig, name) for name in OPTIONS}
    server = None
    if not values["url"]:
        settings = Settings(validate_responses=True, seed=SEED % 1000, admin_token=values["admin-token"])
        server = ServerThread(settings).start()
        values["url"] = server.url
    pytestconfig.stash[SERVER] = server
    fixtures = tuple(p for p in values.pop("fixtures").split(os.pathsep) if p)
    denomination = int(values.pop("denomination"))
    found = Target(**{k.replace("-", "_"): v for k, v in values.items()}, denomination=denomination, fixtures=fixtures,
                   owned=server is not None)
    found.is_sandbox = probe_is_sandbox(found.url, found.admin_token)
    try:
        yield found
    finally:
        if server is not None:
            server.stop()


def magic_of(config: pytest.Config, target: Target) -> MagicTable:
    """The magic values of the fixtures the target runs: the in-process sandbox's own documents,
    else the bundled defaults and any --sandbox-fixtures files."""
    server = config.stash.get(SERVER, None)
    if server is not None:
        return MagicTable(entry for entries, _ in server.state.magic_entries() for entry in entries)
    return MagicTable.of_files([Path(p) for p in target.fixtures])


@pytest.fixture(scope="session")
def contract_session(pytestconfig: pytest.Config, target: Target) -> Iterator[Session]:
    from .identity import RunIds

    magic = magic_of(pytestconfig, target)
    session = Session(target, RunIds(RUN_ID, magic), magic, budget_of(pytestconfig), SEED)
    yield session
    session.close()


@pytest.fixture()
def sandbox_only(target: Target) -> None:
    """Skip, cleanly, a test that needs the sandbox's own API when aimed at a foreign URL."""
    if not target.is_sandbox:
        pytest.skip("needs the sandbox-only admin API (/__sandbox/); the target is not an enkash-sandbox")


SERVER = pytest.StashKey[Any]()
RESULTS = pytest.StashKey[list]()
STARTED = pytest.StashKey[float]()
FIRST = pytest.StashKey[ContractViolation]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Keep the test's first violation and print it at once (hypothesis may go on replaying)."""
    Context.replay = f"CONTRACT_SEED={SEED} pytest '{item.nodeid}'"

    def first(violation: ContractViolation) -> None:
        if FIRST in item.stash:
            return
        item.stash[FIRST] = violation
        capture = item.config.pluginmanager.getplugin("capturemanager")
        reporter = item.config.pluginmanager.getplugin("terminalreporter")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line("")
                reporter.write_line(violation.report(), red=True)

    Context.listeners.append(first)
    try:
        return (yield)
    finally:
        Context.listeners.remove(first)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    violation = item.stash.get(FIRST, None)
    if report.when == "call" and report.failed and violation is not None:
        original = str(report.longrepr).strip().splitlines()
        report.longrepr = violation.report() + ("\n\n(after it, the test ended with: " + original[-1][:300] + ")" if original else "")
    if report.when == "call" or (report.when == "setup" and not report.passed):
        item.config.stash[RESULTS].append((item.nodeid, report.outcome, violation, report.duration, report.longrepr))
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--contract-summary", default=None)
    if path:
        Path(path).write_text(summary(session.config), encoding="utf-8")


def summary(config: pytest.Config) -> str:
    """The run as Markdown: what was checked, against what, and every broken contract with its proof."""
    results = config.stash[RESULTS]
    counts = {outcome: sum(r[1] == outcome for r in results) for outcome in ("passed", "failed", "skipped")}
    seconds = time.time() - config.stash[STARTED]
    url = _value(config, "url") or "a sandbox started in-process"
    lines = ["# EnKash contract suite", "",
             f"- target: {url} (partner {_value(config, 'partner-id')}, company {_value(config, 'company-id')}, "
             f"account {_value(config, 'account-id')})",
             f"- budget {budget_of(config).name}, seed {SEED}, run id {RUN_ID}, {seconds:.0f} s",
             f"- **{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped**", ""]
    broken = [r for r in results if r[1] == "failed"]
    if broken:
        lines += ["## Broken contracts", ""]
        for nodeid, _, violation, _, longrepr in broken:
            text = violation.report() if violation is not None else str(longrepr)[-3000:]
            lines += [f"### `{nodeid}`", "", "```", text, "```", ""]
    lines += ["## Every check", "", "| check | result | seconds |", "|---|---|---|"]
    for nodeid, outcome, violation, duration, longrepr in results:
        note = f" ({violation.contract})" if violation is not None else ""
        if outcome == "skipped" and isinstance(longrepr, tuple):
            note = f" ({str(longrepr[2]).removeprefix('Skipped: ')[:120]})"
        lines.append(f"| `{nodeid.split('::', 1)[-1]}` | {outcome}{note} | {duration:.2f} |")
    return "\n".join(lines) + "\n"
