"""Every mainstream HTTP client works with its default settings (issue 14, item 8): the partner
journey of examples/clients/ (the token, a credit to a new holder, its retry, the card's balance,
a reused reference, a missing field) from python-requests, httpx, curl (as it is and with
--http2), the JDK's HttpClient, Node's fetch and axios, against one sandbox started the way users
start it (`python -m sandbox`). Each client prints what it got; the journal shows what it sent.
The JDK client and `curl --http2` ask for an h2c upgrade on every request: the test checks they did.
A client whose runtime is missing skips naming what scripts/ci-system-deps.sh would install."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

import httpx
import pytest
from conftest import DOCS_BASIC, DOCS_LOGIN
from sandbox_process import ROOT, SandboxProcess
from test_docs_samples import ECT, EKC, EKU, HEX20

CLIENTS = ROOT / "examples" / "clients"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
STEPS = ["token", "credit", "retry", "balance", "duplicate", "missing"]
API = "/api/v0/partner/enKashCard"
SENT = [("/oauth/token", 200), (f"{API}/create-allocate-points", 200), (f"{API}/create-allocate-points", 200),
        (f"{API}/search", 200), (f"{API}/create-allocate-points", 200), (f"{API}/create-allocate-points", 400)]


def tool(name: str, why: str) -> str:
    found = shutil.which(name, path=SYSTEM_PATH)
    if found is None:
        pytest.skip(f"{name} is not installed ({why}; scripts/ci-system-deps.sh installs it as root)")
    return found


def major(command: list[str], pattern: str) -> int:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    found = re.search(pattern, done.stdout + done.stderr)
    assert found, (command, done.stdout, done.stderr)
    return int(found.group(1))


def java() -> list[str]:
    path = tool("java", "the JDK runs Partner.java")
    if major([path, "-version"], r'version "(?:1\.)?(\d+)') < 11:
        pytest.skip(f"{path} is older than Java 11 (java.net.http and `java File.java` came in 11)")
    if not (Path(path).resolve().parent / "javac").exists():
        pytest.skip(f"{Path(path).resolve()} is a JRE: `java File.java` needs a JDK's compiler")
    return [path]


def node() -> list[str]:
    path = tool("node", "Node runs the fetch and axios examples")
    if major([path, "--version"], r"v(\d+)\.") < 18:
        pytest.skip(f"{path} is older than Node 18, the first with a global fetch")
    return [path]


def axios() -> list[str]:
    """node_modules/axios as package-lock.json pins it: `npm ci` once (from npm's cache when it
    has it), then nothing to fetch while the pinned version is in place."""
    [path] = node()
    pinned = json.loads((CLIENTS / "package-lock.json").read_text())["packages"]["node_modules/axios"]["version"]
    installed = CLIENTS / "node_modules" / "axios" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != pinned:
        npm = tool("npm", "npm installs axios from examples/clients/package-lock.json")
        env = {**os.environ, "PATH": f"{Path(path).parent}:{SYSTEM_PATH}"}
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"], cwd=CLIENTS, env=env,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.skip(f"npm ci could not install axios {pinned} into examples/clients/node_modules: {done.stderr.strip()[-400:]}")
    return [path]


def curl() -> list[str]:
    tool("curl", "partner.sh calls curl")
    return [tool("bash", "partner.sh is a bash script")]


class Client(NamedTuple):
    label: str
    runtime: Callable[[], list[str]]  # the interpreter, or a skip saying why there is none
    program: str  # the file in examples/clients and what comes before the base URL
    agent: str  # the whole User-Agent it sends, as a pattern
    h2c: bool = False  # asks for an h2c upgrade on every request
    args: str = ""  # after the base URL; none: the client's name as label, mobile 94000000 + its index

    def command(self, base: str) -> list[str]:
        """As README shows it, the sandbox's URL for the default one."""
        file, *lead = self.program.split()
        return [*self.runtime(), str(CLIENTS / file), *lead, base, *self.args.split()]

    def readme(self) -> str:
        return " ".join([self.program, *(["http://127.0.0.1:8080", self.args] if self.args else [])])


CLIENT_LIST = [
    Client("requests", lambda: [sys.executable], "partner.py requests", r"python-requests/[0-9.]+"),
    Client("httpx", lambda: [sys.executable], "partner.py httpx", r"python-httpx/[0-9.]+"),
    Client("curl", curl, "partner.sh", r"curl/[0-9.]+"),
    Client("curl-http2", curl, "partner.sh", r"curl/[0-9.]+", True, "curl-http2 9400000003 --http2"),
    Client("java", java, "Partner.java", r"Java-http-client/[0-9.]+", True),
    Client("fetch", node, "partner.mjs", r"node"),
    Client("axios", axios, "partner-axios.mjs", r"axios/[0-9.]+"),
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, dict[str, Any]]]:
    """One server for every client, its clock frozen so the token's `expires_in` is exact; the
    docs' login answers the same token to every client while it is valid (docs/fidelity.md)."""
    with SandboxProcess("--seed", "7", "--clock-start", "2025-06-01T09:00:00Z", "--clock-frozen", "true") as running:
        token = httpx.post(f"{running.url}/oauth/token", headers={"Authorization": DOCS_BASIC}, data=DOCS_LOGIN)
        assert token.status_code == 200, token.text
        yield running.url, token.json()


def run(client: Client, base: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The client's printed lines, and the journal of what it sent, oldest first."""
    command = client.command(base)
    assert httpx.delete(f"{base}/__sandbox/journal").status_code == 200
    env = {"PATH": SYSTEM_PATH, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    done = subprocess.run(command, cwd=CLIENTS, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.stdout, done.stderr)
    journal = httpx.get(f"{base}/__sandbox/journal").json()["requests"]
    return [json.loads(line) for line in done.stdout.splitlines()], journal[::-1]


@pytest.mark.parametrize("client", CLIENT_LIST, ids=[client.label for client in CLIENT_LIST])
def test_a_partner_journey_works_from_every_client_with_its_defaults(sandbox, client):
    base, token = sandbox
    mobile = f"94000000{CLIENT_LIST.index(client):02d}"
    lines, sent = run(client, base)
    assert [(line["step"], line["status"]) for line in lines] == list(zip(STEPS, [200, 200, 200, 200, 200, 400]))
    got = {line["step"]: line["body"] for line in lines}
    assert got["token"] == token

    credited = got["credit"]["payload"]
    ids = {"enKashCardId": EKC, "userId": EKU, "token": HEX20, "enkashCardTxnId": ECT}
    assert {name: bool(re.fullmatch(pattern, str(credited.get(name)))) for name, pattern in ids.items()} == dict.fromkeys(ids, True), credited
    holder = {"cardAccountId": "CAQL8YCV3", "email": f"{client.label}@clients.example.com", "mobile": mobile,
              "title": "Ms", "firstName": "Partner", "gender": "F"}
    same = {name: credited[name] for name in ("enKashCardId", "userId", "token")}
    assert got["credit"] == {"code": 0, "message": "Success", "payload": {
        **same, **holder, "maskedNumber": f"XXXX XXXX XXXX {mobile[-4:]}", "enkashCardTxnId": credited["enkashCardTxnId"],
        "pgReferenceNumber": f"CLIENTS-{client.label}-1", "otbBalance": 12.5}}
    assert got["retry"] == got["credit"]  # the same body replays the first answer: nothing credited twice
    assert got["balance"] == {"code": 0, "message": "Success", "payload": {"recordsCount": 1, "data": [{
        **same, **holder, "expiryMonth": "", "expiryYear": "", "maskedNumber": f"XXXX XXXX XXXX {mobile[-4:]}",
        "otbBalance": 12.5, "cardStatus": "ACTIVE"}]}}
    refused = f"Duplicate uniqueReferenceNumber CLIENTS-{client.label}-1: it was already used for a different request"
    assert got["duplicate"] == {"response_code": 1, "response_message": refused, "payload": refused}
    assert got["missing"] == {"response_code": 1, "response_message": "transactionType is required",
                              "payload": "transactionType is required"}

    # what it sent: each call once, with this client's own User-Agent, its body whole, h2c where it asks
    assert [(entry["path"], entry["status"]) for entry in sent] == SENT
    headers = [entry["request"]["headers"] for entry in sent]
    assert [bool(re.fullmatch(client.agent, h.get("user-agent", ""))) for h in headers] == [True] * 6, headers
    assert [h.get("upgrade") for h in headers] == [("h2c" if client.h2c else None)] * 6, headers
    sizes = [entry["request"]["bodySize"] for entry in sent]
    assert sizes == [int(h["content-length"]) for h in headers] and min(sizes) > 0, sent


def test_the_readme_runs_each_client_as_this_test_does():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("#### Every HTTP client with its default settings"):]
    block = section[section.index("```sh\n") + 6: section.index("```", section.index("```sh\n") + 6)]
    shown = [re.sub(r"\s+#.*", "", line).split("examples/clients/")[-1]
             for line in block.splitlines()]
    assert shown == [client.readme() for client in CLIENT_LIST]
