"""Starting the sandbox as partners do: the console script / `python -m sandbox`, flags and env."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import fields
from pathlib import Path

import httpx
import pytest
from conftest import DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER, Partner, new_user

from sandbox.faults import scenarios
from sandbox.settings import Settings
from sandbox.tools.server import SHUTDOWN_GRACE


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    for line in process.stdout:  # the server's own log lines may come first
        if line.startswith("enkash-sandbox listening on ") or "Traceback" in line:
            return process, line
    return process, ""


def stop(process: subprocess.Popen[str]) -> str:
    """Everything the process printed after the banner (read through the same buffered file
    object, so lines already buffered are not lost)."""
    process.terminate()
    assert process.stdout is not None
    output = process.stdout.read()
    process.wait(timeout=10)
    return output


def test_starts_prints_the_url_and_demo_credentials_and_answers_health():
    process, first = start("--port", "0", "--seed", "42")
    try:
        assert first.startswith("enkash-sandbox listening on http://127.0.0.1:")
        url = first.split()[3]
        health = httpx.get(url + "/__sandbox/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok" and health.json()["seed"] == 42
    finally:
        output = stop(process)
    assert "clientId CEK1GZBO6A" in output and "password Test@1234567" in output and "partnerId CRMXWB3ZM" in output


def test_environment_variables_configure_it(tmp_path: Path):
    process, first = start(env={"SANDBOX_PORT": "0", "SANDBOX_SEED": "5", "SANDBOX_TOKEN_TTL": "300"})
    try:
        url = first.split()[3]
        assert httpx.get(url + "/__sandbox/health").json()["seed"] == 5
        token = httpx.post(
            url + "/oauth/token",
            headers={"Authorization": "Basic Q0VLMUdaQk82QTo2NGIwZmYwMzMyZjA1OGI1NjQwMmI2M2E5YmFhNjAyMTRmMmQ2MWQz"},
            data={"username": "9167019711", "password": "Test@1234567", "grant_type": "password", "clientId": "CEK1GZBO6A"},
        )
        assert token.json()["expires_in"] == 300
    finally:
        stop(process)


def test_flags_win_over_environment():
    settings = Settings.from_env({"SANDBOX_PORT": "9000", "SANDBOX_HOST": "0.0.0.0"}, port=9100)
    assert (settings.port, settings.host) == (9100, "0.0.0.0")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SANDBOX_PORT": "eighty"}, "SANDBOX_PORT: expected an integer from 0 to 65535, got 'eighty'"),
        ({"SANDBOX_TOKEN_REUSE": "maybe"}, "SANDBOX_TOKEN_REUSE: expected true or false, got 'maybe'"),
        ({"SANDBOX_LOG_LEVEL": "loud"}, "SANDBOX_LOG_LEVEL: expected one of critical, error, warning, info, debug, got 'loud'"),
    ],
)
def test_bad_settings_are_named(environ, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        Settings.from_env(environ)


def test_settings_built_in_code_keep_the_same_limits():
    with pytest.raises(ValueError, match=r"^port: expected an integer from 0 to 65535, got 99999$"):
        Settings(port=99999)
    with pytest.raises(ValueError, match=r"^journal_size: expected an integer from 0 to 100000, got -1$"):
        Settings().replace(journal_size=-1)


def refused(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, wrap: tuple[str, ...] = ()) -> str:
    """Start the sandbox expecting the one-line refusal: exit 2, nothing on stdout, that line on
    stderr (returned). SANDBOX_PORT=0 so a start that wrongly goes on takes no fixed port."""
    result = subprocess.run([*wrap, sys.executable, "-m", "sandbox", *args], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "SANDBOX_PORT": "0", **(env or {})}, cwd=cwd)
    assert (result.returncode, result.stdout) == (2, ""), result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    assert "Traceback" not in result.stderr and "usage:" not in result.stderr
    return result.stderr[:-1]


LIMITS = "expected an integer from"
STARTUP_MISTAKES = [
    (["--scenario", "nope"], {}, "--scenario: No fault scenario named nope (known: " + ", ".join(scenarios.names()) + ")"),
    ([], {"SANDBOX_SCENARIO": "nope.yaml"},
     "SANDBOX_SCENARIO: bad scenario nope.yaml: <top>: cannot read scenario (No such file or directory)"),
    (["--clock-start", "yesterday"], {}, "--clock-start: expected an ISO-8601 time such as 2025-03-01T10:00:00Z, got 'yesterday'"),
    ([], {"SANDBOX_CLOCK_START": "yesterday"},
     "SANDBOX_CLOCK_START: expected an ISO-8601 time such as 2025-03-01T10:00:00Z, got 'yesterday'"),
    (["--port", "-5"], {}, f"--port: {LIMITS} 0 to 65535, got '-5'"),
    (["--port", "99999"], {}, f"--port: {LIMITS} 0 to 65535, got '99999'"),
    ([], {"SANDBOX_PORT": "99999"}, f"SANDBOX_PORT: {LIMITS} 0 to 65535, got '99999'"),
    (["--token-ttl", "-1"], {}, f"--token-ttl: {LIMITS} 1 to 315360000, got '-1'"),
    (["--token-ttl", "999999999999"], {}, f"--token-ttl: {LIMITS} 1 to 315360000, got '999999999999'"),
    (["--max-body-bytes", "-5"], {}, f"--max-body-bytes: {LIMITS} 1 to 1073741824, got '-5'"),
    (["--lockout-attempts", "0"], {}, f"--lockout-attempts: {LIMITS} 1 to 1000000, got '0'"),
    (["--bulk-max-rows", "-1"], {}, f"--bulk-max-rows: {LIMITS} 1 to 1000000, got '-1'"),
    (["--journal-size", "-1"], {}, f"--journal-size: {LIMITS} 0 to 100000, got '-1'"),
    (["--seed", "seven"], {"SANDBOX_SEED": "5"}, f"--seed: {LIMITS} -999999999999999999 to 999999999999999999, got 'seven'"),
    ([], {"SANDBOX_SEED": "seven"}, f"SANDBOX_SEED: {LIMITS} -999999999999999999 to 999999999999999999, got 'seven'"),
    (["serve", "--encryption", "sometimes"], {}, "--encryption: expected one of off, optional, required, got 'sometimes'"),
    (["--clock-frozen", "maybe"], {}, "--clock-frozen: expected true or false, got 'maybe'"),
    (["--state-file", "missing/state.json"], {},
     "--state-file: the folder missing does not exist (create it, or mount a volume there)"),
    ([], {"SANDBOX_STATE_FILE": "pyproject.toml/state.json"}, "SANDBOX_STATE_FILE: pyproject.toml is not a folder"),
    (["--state-file", "."], {}, "--state-file: . is a directory; give a file in it, such as state.json"),
    (["--prot", "5"], {}, "unknown flag --prot (see enkash-sandbox --help)"),
    (["--sta=x"], {}, "unknown flag --sta (see enkash-sandbox --help)"),
    (["--port"], {}, "enkash-sandbox: argument --port: expected one argument (see enkash-sandbox --help)"),
]


@pytest.mark.parametrize(("args", "env", "line"), STARTUP_MISTAKES, ids=[" ".join(a) or next(iter(e)) for a, e, _ in STARTUP_MISTAKES])
def test_a_start_up_mistake_is_one_line_naming_the_flag_and_exit_2(args, env, line):
    expected = line if line.startswith("enkash-sandbox: ") else "enkash-sandbox: " + line
    assert refused(*args, env=env, cwd=Path(__file__).resolve().parent.parent) == expected


def test_a_state_folder_the_sandbox_cannot_write_is_refused_at_start(tmp_path: Path):
    folder = tmp_path / "data"
    folder.mkdir()
    if os.getuid() == 0:  # root writes through permissions: make the folder read-only for real
        unshare = Path("/usr/bin/unshare")
        if not unshare.exists():
            pytest.skip("running as root without /usr/bin/unshare: no way to make a folder root cannot write")
        wrap = (str(unshare), "--mount", "sh", "-c", f'mount -o bind,ro "{folder}" "{folder}" && exec "$@"', "sh")
        reason = "read-only file system"
    else:
        folder.chmod(0o555)
        wrap, reason = (), "permission denied"
    line = refused("--state-file", str(folder / "state.json"), wrap=wrap)
    assert line == (f"enkash-sandbox: --state-file: cannot write in {folder} ({reason}): the state is saved there at shutdown, "
                    f"so the folder must be writable by uid {os.getuid()}")


def uid_under(wrap: tuple[str, ...]) -> int:
    result = subprocess.run([*wrap, sys.executable, "-c", "import os; print(os.getuid())"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


def test_a_state_file_behind_a_folder_the_user_cannot_enter_is_refused_at_start(tmp_path: Path):
    """Was a traceback (PermissionError from Path.is_dir) instead of the one line."""
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o700)
    folder.chmod(0)
    wrap: tuple[str, ...] = ()
    if os.getuid() == 0:  # root enters any folder; in a user namespace of its own it is held to the mode bits
        if not Path("/usr/bin/unshare").exists():
            pytest.skip("running as root without /usr/bin/unshare: no way to make a folder root cannot enter")
        wrap = ("/usr/bin/unshare", "--user")
    try:
        line = refused("--state-file", str(folder / "state.json"), wrap=wrap)
        assert line == (f"enkash-sandbox: --state-file: cannot reach {folder / 'state.json'} (permission denied): "
                        f"every folder on its path must be open to uid {uid_under(wrap)}")
    finally:
        folder.chmod(0o700)


def test_a_state_file_another_user_owns_in_a_sticky_folder_is_refused_at_start():
    """In /tmp (sticky) the save's rename over another user's file fails: said at start, not lost at shutdown."""
    if os.getuid() != 0 or not Path("/usr/bin/setpriv").exists():
        pytest.skip("needs root and setpriv to own a file as one user and start the sandbox as another")
    wrap = ("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    if subprocess.run([*wrap, sys.executable, "-c", "import sandbox"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("uid 65534 cannot read this checkout or its interpreter")
    folder = Path(tempfile.mkdtemp(prefix="sticky-"))
    try:
        folder.chmod(0o1777)
        state = folder / "state.json"
        state.write_text("{}")
        state.chmod(0o644)
        assert refused("--state-file", str(state), wrap=wrap) == (
            f"enkash-sandbox: --state-file: cannot replace {state}: {folder} is a shared folder (sticky bit) and the file "
            "belongs to uid 0, so the state could not be saved at shutdown")
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("given", ["flag", "env"])
def test_a_port_in_use_is_one_line_naming_the_flag(given):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args, env, name = (["--port", str(port)], {}, "--port") if given == "flag" else ([], {"SANDBOX_PORT": str(port)}, "SANDBOX_PORT")
        assert refused(*args, env=env) == f"enkash-sandbox: {name}: cannot listen on 127.0.0.1:{port}: address already in use"


def test_help_lists_every_enumerated_value_and_one_default_each():
    result = subprocess.run([sys.executable, "-m", "sandbox", "--help"], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # argparse wraps lines
    for f in fields(Settings):
        choices = ("true", "false") if type(f.default) is bool else f.metadata["choices"]
        if choices:
            assert f"{Settings.flag_name(f.name)} {{{','.join(choices)}}}" in text
        assert text.count(f"[env {Settings.env_name(f.name)}, default ") == 1
    assert "[env SANDBOX_FIXTURES, default the bundled fixtures/default.yaml]" in text
    assert "default: " not in text and "default ''" not in text
    assert "bundled: " + ", ".join(scenarios.names()) in text.replace("- ", "-")
    assert "[env SANDBOX_PORT, default 8080]" in text and "an integer from 0 to 65535" in text


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("partners:\n  - partnerId: P1\n    companies:\n      - companyId: C1\n        accounts:\n"
         "          - cardAccountId: A1\n            availableBalance: lots\n",
         "partners[0].companies[0].accounts[0].availableBalance", "'lots' is not of type 'number'"),
        ("partners:\n  - partnerId: P1\n  - partnerId: P1\n", "partners[1]", "partnerId P1 is defined twice"),
        ("partners:\n  - name: nobody\n", "partners[0]", "'partnerId' is a required property"),
        ("partners: [unclosed\n", "<top>", "not valid YAML/JSON"),
    ],
)
def test_bad_fixtures_stop_startup_naming_file_entry_and_problem(tmp_path: Path, text, where, problem):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    result = subprocess.run([sys.executable, "-m", "sandbox", "--fixtures", str(bad), "--port", "0"],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 2
    assert result.stderr.startswith(f"enkash-sandbox: bad fixtures: {bad}: {where}: {problem}")
    assert "Traceback" not in result.stderr


def test_missing_fixtures_file():
    result = subprocess.run([sys.executable, "-m", "sandbox", "--fixtures", "/nonexistent.yaml"],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 2
    assert result.stderr.strip() == "enkash-sandbox: bad fixtures: /nonexistent.yaml: <top>: cannot read file (No such file or directory)"


def test_console_script_is_installed():
    # the interpreter's own environment, never the caller's PATH: CI puts no venv on PATH
    script = Path(sys.executable).parent / "enkash-sandbox"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0
    assert "--fixtures" in result.stdout and "SANDBOX_FIXTURES" in result.stdout


def start_with_state(state: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", "0", "--state-file", str(state)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        found = re.match(r"enkash-sandbox listening on (http://\S+)", line)
        if found:
            return process, found.group(1)
    raise AssertionError("the sandbox did not start: " + process.communicate()[1])


def test_sigterm_cuts_held_requests_then_saves_the_state(tmp_path: Path):
    """docker stop's 10 s are enough whatever is held: requests still running SHUTDOWN_GRACE s
    after SIGTERM (here three faults holding for a minute) get their connections closed, then
    the state is saved."""
    state = tmp_path / "state.json"
    process, url = start_with_state(state)
    outcomes: dict[str, object] = {}

    def hold(fault: str) -> None:
        try:
            outcomes[fault] = httpx.post(url + "/oauth/token", headers={"X-Sandbox-Fault": fault}, timeout=60).status_code
        except httpx.RemoteProtocolError:
            outcomes[fault] = "connection closed"

    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            allocation = Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER).allocate(**new_user(loadAmount=25))
            card = allocation.json()["payload"]["enKashCardId"]
            held = ["timeout=60s", "latency=60s", "slow; chunk=1; every=5s"]
            threads = [threading.Thread(target=hold, args=(fault,)) for fault in held]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 10
            while client.get("/__sandbox/faults").json()["fired"] < len(held):  # each is held by now
                assert time.monotonic() < deadline, "the held requests did not reach the sandbox"
                time.sleep(0.02)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
        stopped = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            process.kill()
    for thread in threads:
        thread.join(timeout=10)
    assert outcomes == {fault: "connection closed" for fault in held}
    assert SHUTDOWN_GRACE <= stopped < 5, f"stopped {stopped:.2f} s after SIGTERM"
    assert process.returncode == -signal.SIGTERM  # uvicorn re-raises the signal once it has shut down
    assert f"3 request(s) still running after {SHUTDOWN_GRACE:.0f} s cut" in err and "Traceback" not in err + out
    assert f"\nstate saved to {state}\n" in out
    again, url = start_with_state(state)  # what was done before the stop is there after it
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            assert Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER).card(card)["otbBalance"] == 25
    finally:
        again.kill()
        again.communicate(timeout=10)


def test_a_state_that_cannot_be_saved_at_shutdown_is_said_and_exit_1(tmp_path: Path):
    folder = tmp_path / "data"
    folder.mkdir()
    process, _ = start_with_state(folder / "state.json")
    try:
        folder.rmdir()  # gone after the start-up check
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1
    assert "enkash-sandbox: the state was NOT saved: [Errno 2] No such file or directory: " in err and "Traceback" not in err
