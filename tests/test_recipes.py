"""The CI recipes in examples/ci (and README, which shows them as they are) work as pasted, as far
as this machine allows: each file passes its platform's official schema (GitHub workflows, GitLab
CI, the compose spec), and its commands run here against a real sandbox: the service container's
health command, the wait loops (which fail the job when the sandbox never answers), starting the
sandbox in a step, the compose file's mounted fixtures. The testcontainers example runs where a
Docker engine is."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import yaml

import sandbox
from sandbox.tools.testing import ServerThread
from test_release import copy_checkout

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "examples" / "ci"
BIN = Path(sys.executable).parent
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
RECIPES = ["github-service-container.yml", "github-from-source.yml", "gitlab-ci.yml", "compose.yaml"]
SCHEMAS = {"github-service-container.yml": "vendor.github-workflows", "github-from-source.yml": "vendor.github-workflows",
           "gitlab-ci.yml": "vendor.gitlab-ci", "compose.yaml": "vendor.compose-spec"}
MAJOR_MINOR = ".".join(sandbox.__version__.split(".")[:2])
needs_curl = pytest.mark.skipif(shutil.which("curl", path=SYSTEM_PATH) is None, reason="curl is not installed (the recipes use it)")


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((CI / name).read_text())
    if True in document:  # YAML 1.1 reads the key `on` as true
        document["on"] = document.pop(True)
    return document  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shell(script: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A step's script as CI runs it (bash -e, pipefail), with this environment's commands first."""
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], capture_output=True, text=True, timeout=timeout,
                          env={"PATH": f"{BIN}:{SYSTEM_PATH}", "HOME": os.environ.get("HOME", "/root"), **env})


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if s.get("name") == name)


@pytest.fixture(scope="module")
def running() -> Iterator[ServerThread]:
    with ServerThread(sandbox.Settings(seed=7)) as server:
        yield server


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_passes_the_official_schema(name: str):
    result = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", SCHEMAS[name], str(CI / name)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", RECIPES)
def test_readme_shows_the_recipe_as_it_is_in_the_file(name: str):
    readme = (ROOT / "README.md").read_text()
    assert f"```yaml\n{(CI / name).read_text()}```" in readme


def test_every_image_name_is_the_one_the_release_pushes():
    release = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    assert 'echo "image=ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/enkash-sandbox"' in release
    texts = {path: path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "examples").rglob("*")), ROOT / "action.yml"]
             if path.is_file() and path.suffix in (".md", ".yml", ".yaml", ".py")}
    names = [(path.name, found) for path, text in texts.items() for found in re.findall(r"ghcr\.io/[^\s\"'`)]+", text)]
    assert len(names) >= 6
    assert {found for _, found in names} == {f"ghcr.io/<owner>/enkash-sandbox:{MAJOR_MINOR}", "ghcr.io/<owner>/enkash-sandbox"}, names
    for path, text in texts.items():
        assert "your-org" not in text and "registry.example.com" not in text, path


@needs_curl
def test_github_service_container_health_command_follows_the_port_and_times_out(running: ServerThread):
    workflow = load("github-service-container.yml")
    job = workflow["jobs"]["integration"]
    service = job["services"]["enkash"]
    assert service["ports"] == ["8080:8080"] and service["env"]["SANDBOX_PORT"] == "8080"
    assert job["env"]["ENKASH_BASE_URL"] == "http://127.0.0.1:8080"
    words = shlex.split(service["options"])
    options = dict(zip(words[::2], words[1::2]))
    assert set(options) == {"--health-cmd", "--health-interval", "--health-timeout", "--health-retries"}
    assert (options["--health-interval"], options["--health-timeout"], options["--health-retries"]) == ("1s", "3s", "30")
    probe = ["sh", "-c", options["--health-cmd"]]  # Docker runs a string health command with sh -c
    env = {"PATH": f"{BIN}:{SYSTEM_PATH}"}
    assert subprocess.run(probe, env={**env, "SANDBOX_PORT": str(running.port)}, timeout=10).returncode == 0
    started = time.monotonic()
    nobody = subprocess.run(probe, env={**env, "SANDBOX_PORT": str(free_port())}, capture_output=True, timeout=10)
    assert nobody.returncode != 0 and time.monotonic() - started < 3
    answers = shell(step(job, "The sandbox answers")["run"], {"ENKASH_BASE_URL": running.url})
    assert answers.returncode == 0 and '"seed":7' in answers.stdout


@needs_curl
def test_github_without_a_registry_starts_the_sandbox_in_a_step_and_waits(tmp_path: Path):
    job = load("github-from-source.yml")["jobs"]["integration"]
    install = step(job, "Install enkash-sandbox")["run"]
    assert install == f'python -m pip install "enkash-sandbox @ git+https://github.com/<owner>/enkash-sandbox@v{sandbox.__version__}"'
    port = free_port()
    github_env = tmp_path / "github_env"
    env = {**job["env"], "ENKASH_PORT": str(port), "ENKASH_BASE_URL": f"http://127.0.0.1:{port}",
           "RUNNER_TEMP": str(tmp_path), "GITHUB_ENV": str(github_env)}
    started = shell(step(job, "Start enkash-sandbox")["run"], env)
    assert started.returncode == 0, started.stderr
    pid = int(re.fullmatch(r"ENKASH_SANDBOX_PID=(\d+)\n", github_env.read_text()).group(1))  # type: ignore[union-attr]
    try:
        waited = shell(step(job, "Wait until it answers")["run"], env)
        assert waited.returncode == 0, waited.stdout + waited.stderr
        assert httpx.get(f"http://127.0.0.1:{port}/__sandbox/health").json()["seed"] == 7
    finally:
        os.kill(pid, signal.SIGTERM)  # the sandbox the step started
    assert "enkash-sandbox listening on" in (tmp_path / "enkash-sandbox.log").read_text()


@needs_curl
def test_github_without_a_registry_fails_the_job_when_the_sandbox_never_answers(tmp_path: Path):
    job = load("github-from-source.yml")["jobs"]["integration"]
    (tmp_path / "enkash-sandbox.log").write_text("enkash-sandbox: --port: expected an integer from 0 to 65535, got '-1'\n")
    port = free_port()
    env = {**job["env"], "ENKASH_BASE_URL": f"http://127.0.0.1:{port}", "ENKASH_WAIT_SECONDS": "1", "RUNNER_TEMP": str(tmp_path)}
    waited = shell(step(job, "Wait until it answers")["run"], env, timeout=20)
    assert waited.returncode == 1
    assert waited.stdout == ("::error::enkash-sandbox did not answer within 1 s\n"
                             "enkash-sandbox: --port: expected an integer from 0 to 65535, got '-1'\n")


@needs_curl
def test_gitlab_wait_passes_once_the_sandbox_answers_and_fails_the_job_when_it_never_does(running: ServerThread):
    job = load("gitlab-ci.yml")["integration"]
    assert job["services"] == [{"name": f"ghcr.io/<owner>/enkash-sandbox:{MAJOR_MINOR}", "alias": "enkash"}]
    assert job["variables"]["ENKASH_BASE_URL"] == "http://enkash:8080" and job["variables"]["SANDBOX_SEED"] == "7"
    wait = job["script"][0]
    up = shell(wait, {**job["variables"], "ENKASH_BASE_URL": running.url})
    assert up.returncode == 0, up.stderr
    dead = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    down = shell(wait, {**job["variables"], "ENKASH_BASE_URL": dead, "ENKASH_WAIT_SECONDS": "2"}, timeout=30)
    assert down.returncode == 1 and 2 <= time.monotonic() - started < 10
    assert down.stderr == f"enkash-sandbox did not answer at {dead} within 2 s\n"


def test_compose_loads_the_mounted_fixtures(tmp_path: Path):
    """The service's environment with its volumes mapped back to this checkout: SANDBOX_FIXTURES
    points into the mounted folder, so the team's fixtures load, not the bundled demo ones."""
    compose = load("compose.yaml")
    service = compose["services"]["enkash"]
    assert compose["services"]["app"]["depends_on"] == {"enkash": {"condition": "service_healthy"}}
    assert compose["services"]["app"]["environment"]["ENKASH_BASE_URL"] == "http://enkash:8080"
    mounts = {target: (CI / source).resolve() for source, target, *_ in (volume.split(":") for volume in service["volumes"])}
    env = {}
    for key, value in service["environment"].items():
        for target, source in mounts.items():
            if value.startswith(target + "/"):
                value = str(source) + value[len(target):]
        env[key] = "" if value == "${SANDBOX_ADMIN_TOKEN:-}" else value
    assert Path(env["SANDBOX_FIXTURES"]).is_file()
    process = subprocess.Popen([sys.executable, "-m", "sandbox"], env={**os.environ, **env, "SANDBOX_PORT": "0"},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        url = next(match.group(1) for line in process.stdout if (match := re.match(r"enkash-sandbox listening on (\S+)", line)))
        with httpx.Client(base_url=url, timeout=10) as client:
            health = client.get("/__sandbox/health").json()
            assert health["seed"] == 7 and health["state"]["partners"] == 1
            login = {"username": "9000004242", "password": "Team@1234567", "grant_type": "password", "clientId": "CEKTEAM042"}
            token = client.post("/oauth/token", auth=("CEKTEAM042", "0d6c3b1f9a7e5c2d4b8a6f1e3c5a7b9d0e2f4a6c"), data=login)
            assert token.status_code == 200 and token.json()["access_token"]
            demo = {"username": "9167019711", "password": "Test@1234567", "grant_type": "password", "clientId": "CEK1GZBO6A"}
            assert client.post("/oauth/token", auth=("CEK1GZBO6A", "64b0ff0332f058b56402b63a9baa60214f2d61d3"),
                               data=demo).status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)


def docker_engine() -> str | None:
    """Why the testcontainers example cannot run here, or None when it can."""
    try:
        import docker
    except ImportError:
        return "the testcontainers package is not installed (it is in the test extras)"
    try:
        docker.from_env().ping()
    except Exception as exc:  # the docker SDK raises its own error for each way of not finding an engine
        return f"no Docker engine here (testcontainers needs one): {type(exc).__name__}"
    return None


@pytest.mark.container
@pytest.mark.timeout(900)
def test_the_testcontainers_example_runs_against_the_image(tmp_path: Path):
    reason = docker_engine()
    if reason:
        pytest.skip(reason)
    image = f"enkash-sandbox:testcontainers-{os.getpid()}"
    built = subprocess.run(["docker", "build", "-t", image, "."], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    try:
        example = ROOT / "examples" / "testcontainers" / "test_with_testcontainers.py"
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", str(example)],
                                cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "ENKASH_SANDBOX_IMAGE": image})
        assert result.returncode == 0 and "2 passed" in result.stdout, result.stdout[-3000:] + result.stderr[-3000:]
    finally:
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True)


def test_the_testcontainers_example_uses_the_current_api():
    """Where no engine is, at least the example imports (testcontainers' current module layout)."""
    sys.path.insert(0, str(ROOT / "examples" / "testcontainers"))
    try:
        import test_with_testcontainers as example
    finally:
        sys.path.pop(0)
    assert example.IMAGE == os.environ.get("ENKASH_SANDBOX_IMAGE", f"ghcr.io/<owner>/enkash-sandbox:{MAJOR_MINOR}")


# --- the GitHub Action (action.yml runs scripts/action-start.sh) --------------------------------
ACTION_SCRIPT = ROOT / "scripts" / "action-start.sh"


def action(command: str, runner_temp: Path, installed: bool = True, path: Path = ROOT, **inputs: str) -> subprocess.CompletedProcess[str]:
    """One of the action's steps, with the variables the runner and action.yml give it (`path`: the
    action's checkout); `installed` names this environment as the venv holding the sandbox."""
    env = {"RUNNER_TEMP": str(runner_temp), "GITHUB_ACTION_PATH": str(path), "GITHUB_OUTPUT": str(runner_temp / "output"),
           "GITHUB_ENV": str(runner_temp / "env"), **{f"INPUT_{key.upper()}": value for key, value in inputs.items()}}
    if installed:
        env["ENKASH_SANDBOX_VENV"] = sys.prefix
    return shell(f'bash "{ACTION_SCRIPT}" {command}', env, timeout=300)


def stop_action_sandbox(runner_temp: Path) -> None:
    pid = runner_temp / "enkash-sandbox" / "pid"
    if pid.exists():
        try:
            os.kill(int(pid.read_text()), signal.SIGTERM)  # the sandbox the action started
        except ProcessLookupError:
            pass


def test_action_yml_runs_the_script_with_the_documented_inputs_and_output():
    metadata = yaml.safe_load((ROOT / "action.yml").read_text())
    assert metadata["runs"]["using"] == "composite"
    assert {"port", "seed", "fixtures", "scenario", "admin-token", "run", "command"} <= set(metadata["inputs"])
    assert metadata["outputs"]["base-url"]["value"] == "${{ steps.start.outputs.base-url }}"
    steps = metadata["runs"]["steps"]
    assert [s.get("run") for s in steps[:3]] == [f'bash "$GITHUB_ACTION_PATH/scripts/action-start.sh" {c}' for c in ("start", "run", "journal")]
    assert {key[len("INPUT_"):].lower().replace("_", "-") for key in steps[0]["env"]} <= set(metadata["inputs"])
    upload = steps[3]
    assert upload["uses"].startswith("actions/upload-artifact@") and "failure()" in upload["if"]
    assert upload["with"]["path"] == "${{ runner.temp }}/enkash-sandbox/artifact/"


@needs_curl
def test_action_starts_the_sandbox_with_its_inputs_and_gives_the_base_url(tmp_path: Path):
    fixtures = str(CI / "sandbox-fixtures" / "team.yaml")
    try:
        started = action("start", tmp_path, port="0", seed="7", fixtures=fixtures, scenario="flaky-network", admin_token="team-s3cret")
        assert started.returncode == 0, started.stdout + started.stderr
        url = re.fullmatch(r"base-url=(http://127\.0\.0\.1:\d+)\n", (tmp_path / "output").read_text()).group(1)  # type: ignore[union-attr]
        assert (tmp_path / "env").read_text() == f"ENKASH_BASE_URL={url}\n"
        assert started.stdout.startswith("::add-mask::team-s3cret\n")
        with httpx.Client(base_url=url, timeout=10) as client:
            health = client.get("/__sandbox/health").json()
            assert health["seed"] == 7 and health["state"]["partners"] == 1  # the team's fixtures
            assert client.get("/__sandbox/faults").status_code == 401  # the admin token is in force
            faults = client.get("/__sandbox/faults", headers={"Authorization": "Bearer team-s3cret"}).json()
            assert faults["scenario"] == "flaky-network"
            client.post("/oauth/token")  # something for the journal
        ran = action("run", tmp_path, run='curl -fsS "$ENKASH_BASE_URL/__sandbox/health" | grep -q \'"seed":7\'')
        assert ran.returncode == 0, ran.stderr
        assert action("run", tmp_path, run="false").returncode == 1
        saved = action("journal", tmp_path)
        assert saved.returncode == 0 and "recorded requests saved to" in saved.stdout
    finally:
        stop_action_sandbox(tmp_path)
    artifact = tmp_path / "enkash-sandbox" / "artifact"
    journal = yaml.safe_load((artifact / "journal.json").read_text())
    newest = journal["requests"][0]  # newest first; flaky-network may have answered it with a fault
    assert (newest["method"], newest["path"]) == ("POST", "/oauth/token") and journal["count"] == len(journal["requests"]) >= 3
    assert "enkash-sandbox listening on " + url in (artifact / "sandbox.log").read_text()


def test_action_fails_with_the_sandbox_log_when_it_cannot_start(tmp_path: Path):
    started = action("start", tmp_path, port="-1")
    assert started.returncode == 1
    assert started.stdout.endswith("enkash-sandbox: --port: expected an integer from 0 to 65535, got '-1'\n"
                                   "::error title=enkash-sandbox::enkash-sandbox exited before it was ready (its log is above)\n")
    assert not (tmp_path / "output").exists()
    saved = action("journal", tmp_path)
    assert saved.returncode == 0 and saved.stdout == "enkash-sandbox never came up in this job: only its log is kept\n"
    assert sorted(path.name for path in (tmp_path / "enkash-sandbox" / "artifact").iterdir()) == ["sandbox.log"]


@pytest.mark.timeout(600)
def test_action_installs_the_sandbox_from_its_own_checkout(tmp_path: Path):
    """The action's first run in a job: a venv under RUNNER_TEMP and `pip install` of the action's
    path (this checkout), then the start as above. Needs the package index, as CI has."""
    checkout = copy_checkout(tmp_path / "action")  # as GitHub checks the action out; pip builds in it
    try:
        started = action("start", tmp_path, installed=False, path=checkout, port="0", seed="3", python=sys.executable)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        assert started.stdout.startswith(f"Installing enkash-sandbox from {checkout} into {tmp_path}/enkash-sandbox/venv\n")
        url = (tmp_path / "enkash-sandbox" / "base-url").read_text().strip()
        assert httpx.get(url + "/__sandbox/health").json()["seed"] == 3
    finally:
        stop_action_sandbox(tmp_path)
    assert (tmp_path / "enkash-sandbox" / "venv" / "bin" / "enkash-sandbox").exists()
