"""Peers measured in the same run: WireMock serving a static stub of create-allocate-points.

README compares the sandbox with WireMock; this measures it instead of quoting it. WireMock runs
as its standalone jar (the `wiremock` npm package ships it: `npm install --prefix bench/.peers
wiremock@3.13.2`, or name the jar in BENCH_WIREMOCK_JAR) under `java`, pinned to the servers'
core like the others, without its request journal. Its stub answers every create-allocate-points
POST with the bytes the sandbox gave one real top-up, so both send the same body; the sandbox
checks the token and the body, applies the rule and posts to its ledger, WireMock matches a path
(with Content-Length, as the sandbox: no chunked encoding, which bench/pyload.py does not read).
The JVM compiles its hot code as it runs, so it is driven untimed for WARMUP seconds (at least
10) before its paired rounds. Without java or the jar the case prints a row saying so.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .load import Load, drive
from .partner import PATH, Partner, top_up_body
from .procs import Server
from .scenarios import Plan, Row, _drive

WARMUP = 10.0  # seconds of untimed load before WireMock's rounds: the JIT's warm-up
NAME = "(1w) WireMock, static stub of create-allocate-points (peer)"


def wiremock_jar() -> str | None:
    named = os.environ.get("BENCH_WIREMOCK_JAR")
    if named:
        return named if Path(named).is_file() else None
    roots = [Path(__file__).parent / ".peers" / "node_modules", Path.cwd() / "node_modules"]
    if shutil.which("npm"):
        try:
            roots.append(Path(subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, timeout=20).stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    for root in roots:
        found = sorted(glob.glob(str(root / "wiremock" / "build" / "wiremock-standalone-*.jar")))
        if found:
            return found[-1]
    return None


def missing() -> str | None:
    """Why WireMock cannot run here, or None."""
    if not shutil.which("java"):
        return "skipped: no java on PATH"
    if wiremock_jar() is None:
        return "skipped: no WireMock jar (npm install --prefix bench/.peers wiremock@3.13.2, or BENCH_WIREMOCK_JAR)"
    return None


def wiremock(core: int | None, answer: bytes) -> tuple[Server, tempfile.TemporaryDirectory[str]]:
    """The WireMock server (not started) and the folder of its one mapping."""
    root = tempfile.TemporaryDirectory(prefix="bench-wiremock-")
    mappings = Path(root.name) / "mappings"
    mappings.mkdir()
    stub = {"request": {"method": "POST", "urlPath": PATH + "/create-allocate-points"},
            "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": answer.decode()}}
    (mappings / "create-allocate-points.json").write_text(json.dumps(stub))
    argv = ["-jar", str(wiremock_jar()), "--disable-banner", "--no-request-journal", "--use-chunked-encoding", "never",
            "--root-dir", root.name]
    return Server("wiremock", argv, "/__admin/health", core, program="java"), root


def one_answer(partner: Partner, run_id: str) -> bytes:
    """The bytes the sandbox answers a top-up with, for the stub to send."""
    partner.fund()
    card = partner.new_cards(1, f"{run_id}-peer")[0]
    return partner.post(PATH + "/create-allocate-points", top_up_body(card, f"{run_id}-peer-answer")).content


def top_up_load(partner: Partner, cards: list[str]) -> Load:
    return Load("POST", PATH + "/create-allocate-points", partner.headers, json.dumps(top_up_body("{card}", "{ref}")), cards)


def warm(server: Server, plan: Plan, load: Load) -> None:
    load.run_id = plan.run_id + "warm"
    drive(server.port, load, plan.connections, max(WARMUP, plan.seconds), plan.load_core, plan.tool)


def case(server: Server, plan: Plan, load: Load) -> Row:
    return Row(NAME, _drive(server, plan, load), "the sandbox's top-up vs WireMock's static stub")
