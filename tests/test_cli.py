"""Starting the sandbox as partners do: the console script / `python -m sandbox`, flags and env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sandbox.settings import Settings


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
        ({"SANDBOX_PORT": "eighty"}, "SANDBOX_PORT: expected an integer, got 'eighty'"),
        ({"SANDBOX_TOKEN_REUSE": "maybe"}, "SANDBOX_TOKEN_REUSE: expected true/false, got 'maybe'"),
        ({"SANDBOX_LOG_LEVEL": "loud"}, "SANDBOX_LOG_LEVEL: expected one of critical, error, warning, info, debug, got 'loud'"),
    ],
)
def test_bad_settings_are_named(environ, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        Settings.from_env(environ)


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
