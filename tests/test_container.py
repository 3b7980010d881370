"""The Dockerfile, built and run for real: `buildah bud` builds the image (from a Debian base made
with debootstrap when no registry image can be pulled), `buildah run` starts the sandbox in it on
a port chosen through SANDBOX_PORT, and a token and an allocation go over HTTP from the host.

Needs root with buildah (scripts/ci-system-deps.sh installs it, podman and debootstrap in CI);
skipped only where buildah is missing. The debootstrap base is cached under /var/tmp.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from conftest import DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER, Partner, new_user

pytestmark = [
    pytest.mark.container,
    pytest.mark.timeout(900),
    pytest.mark.skipif(shutil.which("buildah") is None, reason="buildah is not installed (scripts/ci-system-deps.sh installs it)"),
]

ROOT = Path(__file__).resolve().parent.parent
IMAGE = f"localhost/enkash-sandbox:test-{os.getpid()}"  # runs on one machine must not share a tag
LOCAL_BASE = "localhost/enkash-sandbox-base:bookworm"
CACHE = Path(os.environ.get("SANDBOX_BASE_CACHE", "/var/tmp/enkash-sandbox"))
CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
HEALTH = "/__sandbox/health"


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert result.returncode == 0, f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def image_exists(name: str) -> bool:
    return subprocess.run(["buildah", "inspect", "--type", "image", name], capture_output=True).returncode == 0


def base_image() -> str:
    """SANDBOX_CONTAINER_BASE if given; else a local Debian with python3 made by debootstrap
    (the registry image python:3.12-slim is the Dockerfile's default, unreachable here)."""
    if os.environ.get("SANDBOX_CONTAINER_BASE"):
        return os.environ["SANDBOX_CONTAINER_BASE"]
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "base.lock", "w") as lock:  # one run at a time makes the shared base
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not image_exists(LOCAL_BASE):
            make_base()
    return LOCAL_BASE


def make_base() -> None:
    missing = [tool for tool in ("debootstrap", "podman") if shutil.which(tool) is None]
    assert not missing, f"no base image: set SANDBOX_CONTAINER_BASE, or install {' and '.join(missing)}"
    tarball = CACHE / "base-bookworm.tar"
    if not tarball.exists():
        with tempfile.TemporaryDirectory(dir=CACHE) as rootfs:
            run("debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
                "bookworm", rootfs, timeout=900)
            run("tar", "-C", rootfs, "-cf", str(tarball) + ".partial", ".")
        os.replace(str(tarball) + ".partial", tarball)
    run("podman", "import", str(tarball), LOCAL_BASE)


def build_args() -> list[str]:
    args = ["--build-arg", f"BASE={base_image()}"]
    bundle = next((path for path in CA_BUNDLES if Path(path).exists()), None)
    if bundle:  # a TLS-inspecting proxy's CA, for pip inside the build
        args += ["-v", f"{bundle}:/tmp/host-ca.crt:ro", "--build-arg", "PIP_CERT=/tmp/host-ca.crt"]
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def image() -> Iterator[dict[str, object]]:
    started = time.monotonic()
    run("buildah", "bud", "--isolation", "chroot", "--format", "docker", *build_args(), "-t", IMAGE, ".", timeout=900)
    print(f"\nimage built in {time.monotonic() - started:.1f} s")
    inspected = json.loads(run("buildah", "inspect", "--type", "image", IMAGE).stdout)
    try:
        yield inspected["Docker"]["config"]
    finally:  # each run builds afresh; do not let old images pile up on the CI machine
        subprocess.run(["buildah", "rmi", "-f", IMAGE], capture_output=True)


@pytest.fixture(scope="module")
def container(image: dict[str, object]) -> Iterator[str]:
    name = run("buildah", "from", "--pull-never", f"containers-storage:{IMAGE}").stdout.strip().splitlines()[-1]
    try:
        yield name
    finally:
        subprocess.run(["buildah", "rm", name], capture_output=True)


def test_image_runs_as_a_non_root_user_on_all_interfaces(image, container):
    assert image["User"] == "sandbox"
    env = dict(item.split("=", 1) for item in image["Env"])  # type: ignore[union-attr]
    assert (env["SANDBOX_HOST"], env["SANDBOX_PORT"]) == ("0.0.0.0", "8080")
    assert image["Cmd"] == ["enkash-sandbox"]
    assert run("buildah", "run", "--isolation", "chroot", container, "id", "-u").stdout.strip() != "0"


def test_sandbox_in_the_container_serves_a_token_and_an_allocation(image, container):
    port = free_port()
    env = ["--env", f"SANDBOX_PORT={port}"]
    process = subprocess.Popen(
        ["buildah", "run", "--isolation", "chroot", *env, container, "enkash-sandbox"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the sandbox exited: {process.communicate()[0][-3000:]}"
            try:
                if httpx.get(url + HEALTH, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the sandbox in the container did not answer in 60 s"
            time.sleep(0.2)

        # the image's own HEALTHCHECK follows SANDBOX_PORT
        check = image["Healthcheck"]["Test"]  # type: ignore[index]
        assert check[0] == "CMD"
        healthy = subprocess.run(["buildah", "run", "--isolation", "chroot", *env, container, *check[1:]], capture_output=True)
        assert healthy.returncode == 0, healthy.stderr
        elsewhere = ["--env", f"SANDBOX_PORT={free_port()}"]
        unhealthy = subprocess.run(["buildah", "run", "--isolation", "chroot", *elsewhere, container, *check[1:]], capture_output=True)
        assert unhealthy.returncode != 0

        with httpx.Client(base_url=url, timeout=10) as client:
            partner = Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
            allocation = partner.allocate(**new_user(loadAmount=25))
            assert allocation.status_code == 200 and allocation.json()["code"] == 0
            assert allocation.json()["payload"]["otbBalance"] == 25
            assert allocation.headers["x-request-id"]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the process group this test started
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
    assert "enkash-sandbox listening on" in output
    with pytest.raises(httpx.TransportError):
        httpx.get(url + HEALTH, timeout=2)
