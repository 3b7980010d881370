"""`enkash-sandbox contract`: the contract suite (the `contract_tests` package) run against any
URL, EnKash's UAT included, with a chosen budget; it writes JUnit XML and a Markdown summary.

The suite is pytest code, so this builds the pytest command and runs it in a child process: the
target and the credentials go to the child in SANDBOX_* variables (never on a command line other
users can read), the budget, run id and report paths as options. Importing this module imports
neither pytest nor the suite: the server's start-up does not pay for them."""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

NEEDS = ("pytest", "hypothesis", "hypothesis_jsonschema", "contract_tests")
# flag -> (SANDBOX_* variable the suite reads, help)
TARGET_FLAGS: dict[str, tuple[str, str]] = {
    "url": ("SANDBOX_URL", "base URL of the implementation to check, e.g. https://pay-uat.enkash.in (default: start a sandbox here)"),
    "client-id": ("SANDBOX_CLIENT_ID", "OAuth client id (the Basic user of /oauth/token)"),
    "client-secret": ("SANDBOX_CLIENT_SECRET", "OAuth client secret"),
    "login": ("SANDBOX_USERNAME", "the token call's username"),
    "password": ("SANDBOX_PASSWORD", "the token call's password"),
    "partner-id": ("SANDBOX_PARTNER_ID", "the partnerId header"),
    "company-id": ("SANDBOX_COMPANY_ID", "your companyId"),
    "account-id": ("SANDBOX_ACCOUNT_ID", "the reward account (cardAccountId) the suite allocates from"),
    "admin-token": ("SANDBOX_ADMIN_TOKEN", "an enkash-sandbox's admin token (only for a sandbox that has one)"),
    "coins-company-id": ("SANDBOX_COINS_COMPANY_ID", "company for coin events (default: --company-id)"),
    "product-catalog-id": ("SANDBOX_PRODUCT_CATALOG_ID", "a product for the create-order check (default PC7324536190LULHL)"),
    "denomination": ("SANDBOX_DENOMINATION", "its denomination (default 100)"),
}


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    what = "run the contract suite against any implementation of EnKash's partner APIs"
    parser = commands.add_parser("contract", help=what, description=what + " (README.md, \"Contract tests\")")
    for flag, (env, text) in TARGET_FLAGS.items():
        parser.add_argument("--" + flag, default=None, help=f"{text} [env {env}]")
    parser.add_argument("--username", dest="login", default=None, help="same as --login")
    parser.add_argument("--budget", choices=("quick", "ci", "nightly"), default="ci",
                        help="how many generated examples and state-machine runs: quick (a few minutes), ci (default), nightly (20 times ci's examples)")
    parser.add_argument("--seed", type=int, default=None, help="the hypothesis seed (default: random, printed); replays the same data")
    parser.add_argument("--run-id", default=None, help="the run id every generated identifier is made from (default: new, printed)")
    parser.add_argument("--fixtures", action="append", default=[],
                        help="a sandbox fixtures file whose magic values the generated data must avoid (repeatable)")
    parser.add_argument("--junit-xml", default="contract-report.xml", help="JUnit XML report (default contract-report.xml)")
    parser.add_argument("--summary", default="contract-summary.md", help="Markdown summary (default contract-summary.md)")
    parser.add_argument("-k", dest="select", default=None, help="run only the checks whose names match (pytest -k)")
    parser.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments")


def command(args: argparse.Namespace, suite: Path, ini: Path) -> list[str]:
    line = [sys.executable, "-m", "pytest", str(suite), "-c", str(ini), "--rootdir", str(ini.parent), "-p", "no:cacheprovider",
            "-q", "-rfs", "--junitxml", str(Path(args.junit_xml).resolve()), "--contract-summary", str(Path(args.summary).resolve()),
            "--contract-budget", args.budget, "--contract-run-id", args.run_id]
    if args.select:
        line += ["-k", args.select]
    return line + list(args.pytest_args)


def environment(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    for flag, (name, _) in TARGET_FLAGS.items():
        value = getattr(args, flag.replace("-", "_"))
        if value is not None:
            env[name] = str(value)
    if args.fixtures:
        env["SANDBOX_FIXTURES"] = os.pathsep.join(str(Path(p).resolve()) for p in args.fixtures)
    if args.seed is not None:
        env["CONTRACT_SEED"] = str(args.seed)
    return env


def run(args: argparse.Namespace) -> int:
    missing = [name for name in NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        print(f"enkash-sandbox contract: needs {', '.join(missing)}: pip install 'enkash-sandbox[test]'", file=sys.stderr)
        return 2
    from contract_tests.identity import check_run_id, new_run_id

    try:
        args.run_id = check_run_id(args.run_id) if args.run_id else new_run_id()
    except ValueError as problem:
        print(f"enkash-sandbox contract: {problem}", file=sys.stderr)
        return 2
    if args.seed is None:  # chosen here, so the first line says it whether the run passes or fails
        given = os.environ.get("CONTRACT_SEED", "")
        args.seed = int(given) if given.isdigit() else random.SystemRandom().randrange(2**31)
    spec = importlib.util.find_spec("contract_tests")
    assert spec is not None and spec.submodule_search_locations
    suite = Path(list(spec.submodule_search_locations)[0])
    env = environment(args)
    print(f"enkash-sandbox contract: {env.get('SANDBOX_URL') or 'a sandbox started here'}, budget {args.budget}, "
          f"run id {args.run_id}, seed {args.seed}", flush=True)
    with tempfile.TemporaryDirectory(prefix="enkash-contract-") as folder:
        ini = Path(folder) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        code = subprocess.call(command(args, suite, ini), env=env)
    print(f"enkash-sandbox contract: {'passed' if code == 0 else 'FAILED'}; JUnit XML {args.junit_xml}, summary {args.summary}",
          flush=True)
    return code

