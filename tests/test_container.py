"""The Dockerfile, built and run for real: `buildah bud --layers` builds the image (from a Debian
base made with debootstrap when no registry image can be pulled), `buildah run` starts the
sandbox in it, and the host talks to it over loopback. Checked: the layers (the project's at most
50 MB, the dependencies' not rebuilt by a change to sandbox/), what the runtime holds (no pip,
compilers or unused uvicorn extras; stripped shared objects; bytecode), the numeric user, the OCI
labels, the health check, a token and an allocation, SIGTERM with a held fault (state saved), a
/data the sandbox cannot write (refused at start), and the compose recipe's mounted fixtures.

Needs root with buildah (scripts/ci-system-deps.sh installs it, podman and debootstrap in CI);
skipped where buildah is missing or not root. The debootstrap base is cached under /var/tmp.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import yaml
from conftest import DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER, Partner, new_user

import sandbox

pytestmark = [
    pytest.mark.container,
    pytest.mark.timeout(900),
    pytest.mark.skipif(shutil.which("buildah") is None, reason="buildah is not installed (scripts/ci-system-deps.sh installs it)"),
    pytest.mark.skipif(os.getuid() != 0, reason="buildah builds here as root (chroot isolation); CI's container job runs it with sudo"),
]

ROOT = Path(__file__).resolve().parent.parent
IMAGE = f"localhost/enkash-sandbox:test-{os.getpid()}"  # runs on one machine must not share a tag
LOCAL_BASE = "localhost/enkash-sandbox-base:bookworm"
CACHE = Path(os.environ.get("SANDBOX_BASE_CACHE", "/var/tmp/enkash-sandbox"))
CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
HEALTH = "/__sandbox/health"
CONTEXT = ("Dockerfile", ".dockerignore", "pyproject.toml", "README.md", "constraints.txt", "sandbox", "fixtures")
MB = 1_000_000
REVISION = "0123456789abcdef0123456789abcdef01234567"
SOURCE = "https://github.com/example/enkash-sandbox"


def run(*args: str, timeout: float = 600, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=cwd)
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


def build(context: Path, tag: str) -> str:
    """`buildah bud --layers` of `context`; what it printed. A buildah older than HEALTHCHECK
    --start-interval (Debian 12 has 1.28) builds a copy of the Dockerfile without that one flag,
    which Docker reads (test_the_health_check_polls_fast_while_starting checks it is there)."""
    args = ["buildah", "bud", "--layers", "--isolation", "chroot", "--format", "docker", "--build-arg", f"BASE={base_image()}",
            "--build-arg", f"VERSION={sandbox.__version__}", "--build-arg", f"REVISION={REVISION}", "--build-arg", f"SOURCE={SOURCE}"]
    bundle = next((path for path in CA_BUNDLES if Path(path).exists()), None)
    if bundle:  # a TLS-inspecting proxy's CA, for pip inside the build
        args += ["-v", f"{bundle}:/tmp/host-ca.crt:ro", "--build-arg", "PIP_CERT=/tmp/host-ca.crt"]
    result = subprocess.run([*args, "-t", tag, "."], capture_output=True, text=True, timeout=900, cwd=context)
    if result.returncode and "flag provided but not defined: -start-interval" in result.stderr:
        old = context / "Dockerfile.old-buildah"
        old.write_text((context / "Dockerfile").read_text().replace(" --start-interval=500ms", ""))
        result = subprocess.run([*args, "-f", str(old), "-t", tag, "."], capture_output=True, text=True, timeout=900, cwd=context)
        old.unlink()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def copy_context(target: Path) -> Path:
    target.mkdir(exist_ok=True)
    for name in CONTEXT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    return target


def inspect(tag: str) -> dict[str, Any]:
    return json.loads(run("podman", "image", "inspect", tag).stdout)[0]  # type: ignore[no-any-return]


def layer_sizes(tag: str) -> list[int]:
    """Bytes of each layer the image adds, oldest first (podman history lists newest first)."""
    history = json.loads(run("podman", "history", "--format", "json", tag).stdout)
    return [entry["size"] for entry in reversed(history) if entry["size"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def image() -> Iterator[dict[str, Any]]:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as context:  # a copy, so the build's own files stay out of the checkout
        build(copy_context(Path(context)), IMAGE)
    print(f"\nimage built in {time.monotonic() - started:.1f} s; layers over the base: {layer_sizes(IMAGE)[1:]} bytes")
    try:
        yield inspect(IMAGE)
    finally:  # each run builds afresh; do not let old images pile up on the CI machine
        subprocess.run(["buildah", "rmi", "-f", IMAGE], capture_output=True)


@pytest.fixture(scope="module")
def container(image: dict[str, Any]) -> Iterator[str]:
    name = run("buildah", "from", "--pull-never", f"containers-storage:{IMAGE}").stdout.strip().splitlines()[-1]
    try:
        yield name
    finally:
        subprocess.run(["buildah", "rm", name], capture_output=True)


@pytest.fixture(scope="module")
def rootfs(container: str) -> Iterator[Path]:
    mounted = Path(run("buildah", "mount", container).stdout.strip())
    try:
        yield mounted
    finally:
        subprocess.run(["buildah", "umount", container], capture_output=True)


class Running:
    """The sandbox started in the container by `buildah run`, on a free port."""

    def __init__(self, container: str, *mounts: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        options = [f"--env={key}={value}" for key, value in {"SANDBOX_PORT": str(self.port), **(env or {})}.items()]
        options += [f"--volume={mount}" for mount in mounts]
        self.started = time.monotonic()
        self.process = subprocess.Popen(["buildah", "run", "--isolation", "chroot", *options, container, "enkash-sandbox"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_healthy(self, seconds: float = 60) -> float:
        """Seconds from the start to the first answer of /__sandbox/health."""
        deadline = self.started + seconds
        while True:
            assert self.process.poll() is None, f"the sandbox exited: {self.output[-3000:]}"
            try:
                if httpx.get(self.url + HEALTH, timeout=2).status_code == 200:
                    return time.monotonic() - self.started
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"the sandbox in the container did not answer in {seconds} s"
            time.sleep(0.02)

    def sandbox_pid(self) -> int:
        """The sandbox's own process, as uvicorn names it (chroot isolation shares the host's pid
        space): signalled directly, as Docker signals a container's first process (buildah, sent
        SIGTERM, would SIGKILL it)."""
        found = re.search(r"Started server process \[(\d+)\]", self.output)
        assert found, self.output
        return int(found.group(1))

    def exit_code(self, timeout: float = 60) -> int:
        self.process.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return self.process.returncode

    def stop(self, timeout: float = 30) -> str:
        if self.process.poll() is None:
            os.kill(self.sandbox_pid(), signal.SIGTERM)
        try:
            self.exit_code(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the process group this test started
            self.exit_code()
        return self.output


def test_the_layers_are_small_and_the_dependencies_apart(image):
    base, *own = layer_sizes(IMAGE)
    assert len(own) == 3, own  # the user and /data, the dependencies' venv, the sandbox
    user, deps, app = own
    assert sum(own) <= 50 * MB, f"the project's layers are {sum(own) / MB:.1f} MB"
    assert user < 0.1 * MB and app < 3 * MB and deps > 10 * MB


def test_a_change_to_the_sandbox_rebuilds_only_its_own_layer(image, tmp_path: Path):
    context = copy_context(tmp_path / "context")
    with (context / "sandbox" / "__init__.py").open("a") as source:
        source.write("# a change\n")
    changed = f"{IMAGE}-changed"
    started = time.monotonic()
    build(context, changed)
    try:
        before, after = image["RootFS"]["Layers"], inspect(changed)["RootFS"]["Layers"]
        assert before[:-1] == after[:-1] and before[-1] != after[-1]  # base, user, dependencies: the same
        print(f"\nrebuilt after a change to sandbox/ in {time.monotonic() - started:.1f} s")
    finally:
        subprocess.run(["buildah", "rmi", "-f", changed], capture_output=True)


def _stripped(path: Path) -> bool:
    """An ELF shared object without a .symtab section (what strip removes)."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2, path  # 64-bit
    order = "<" if data[5] == 1 else ">"
    shoff, = struct.unpack_from(order + "Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", data, 0x3A)
    sections = [struct.unpack_from(order + "IIQQQQ", data, shoff + n * shentsize) for n in range(shnum)]
    names_at = sections[shstrndx][4]
    names = {data[names_at + name:data.index(b"\0", names_at + name)] for name, *_ in sections}
    return b".symtab" not in names


def test_the_runtime_holds_the_venv_and_nothing_else(rootfs: Path):
    site = next((rootfs / "opt" / "sandbox" / "lib").glob("python3*/site-packages"))
    packages = {path.name.lower() for path in site.iterdir()}
    for unwanted in ("pip", "setuptools", "wheel", "pkg_resources", "websockets", "watchfiles", "dotenv", "_distutils_hack"):
        assert unwanted not in packages
    assert {"uvloop", "httptools", "cryptography", "jsonschema_rs", "orjson"} <= packages
    assert not list((rootfs / "opt" / "sandbox" / "bin").glob("pip*"))
    for tool in ("gcc", "cc", "strip", "ld", "make"):
        assert not (rootfs / "usr" / "bin" / tool).exists(), tool
    shared = [path for path in (rootfs / "opt").rglob("*.so") if path.is_file()]
    assert len(shared) >= 8 and [path.name for path in shared if not _stripped(path)] == []
    sources = [path for path in (rootfs / "opt").rglob("*.py") if "site-packages" in path.parts or "app" in path.parts]
    missing = [path for path in sources if not list((path.parent / "__pycache__").glob(path.stem + ".cpython-*.pyc"))]
    assert len(sources) > 500 and missing == []
    assert (rootfs / "opt" / "app" / "sandbox" / "bundled_fixtures" / "default.yaml").is_file()


def test_image_runs_as_a_numeric_non_root_user_with_its_labels(image, container):
    config = image["Config"]
    assert config["User"] == "10001:10001"  # numeric: Kubernetes' runAsNonRoot can check it
    env = dict(item.split("=", 1) for item in config["Env"])
    assert (env["SANDBOX_HOST"], env["SANDBOX_PORT"]) == ("0.0.0.0", "8080")
    assert config["Cmd"] == ["enkash-sandbox"] and config["StopSignal"] == "SIGTERM"
    assert run("buildah", "run", "--isolation", "chroot", container, "id", "-u").stdout.strip() == "10001"
    labels = config["Labels"]
    assert {key: labels[f"org.opencontainers.image.{key}"] for key in ("version", "revision", "source", "licenses")} == {
        "version": sandbox.__version__, "revision": REVISION, "source": SOURCE, "licenses": "MIT"}


def test_the_health_check_polls_fast_while_starting(image):
    dockerfile = (ROOT / "Dockerfile").read_text()
    healthcheck = re.search(r"^HEALTHCHECK (.*) \\$", dockerfile, re.M).group(1).split()  # type: ignore[union-attr]
    flags = dict(flag.lstrip("-").split("=") for flag in healthcheck)
    assert flags == {"interval": "10s", "timeout": "3s", "start-period": "60s", "start-interval": "500ms", "retries": "3"}
    built = json.loads(run("buildah", "inspect", "--type", "image", IMAGE).stdout)["Docker"]["config"]["Healthcheck"]
    assert built["Test"][0] == "CMD" and built["Interval"] == 10 * 10**9 and built["Timeout"] == 3 * 10**9


def test_sandbox_in_the_container_is_healthy_and_serves_a_token_and_an_allocation(image, container):
    sandbox_run = Running(container)
    try:
        healthy_after = sandbox_run.wait_healthy()
        print(f"\nstart to healthy: {healthy_after:.2f} s")
        check = json.loads(run("buildah", "inspect", "--type", "image", IMAGE).stdout)["Docker"]["config"]["Healthcheck"]["Test"]
        env = ["--env", f"SANDBOX_PORT={sandbox_run.port}"]  # the image's own check follows SANDBOX_PORT
        assert subprocess.run(["buildah", "run", "--isolation", "chroot", *env, container, *check[1:]], capture_output=True).returncode == 0
        elsewhere = ["--env", f"SANDBOX_PORT={free_port()}"]
        assert subprocess.run(["buildah", "run", "--isolation", "chroot", *elsewhere, container, *check[1:]],
                              capture_output=True).returncode != 0
        with httpx.Client(base_url=sandbox_run.url, timeout=10) as client:
            partner = Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
            allocation = partner.allocate(**new_user(loadAmount=25))
            assert allocation.status_code == 200 and allocation.json()["code"] == 0
            assert allocation.json()["payload"]["otbBalance"] == 25
    finally:
        output = sandbox_run.stop()
    assert "enkash-sandbox listening on" in output and "Traceback" not in output
    with pytest.raises(httpx.TransportError):
        httpx.get(sandbox_run.url + HEALTH, timeout=2)


# buildah run puts the image's own VOLUME over a bind mount at /data; Docker does not. So the
# mounted folder goes to /state here, as a bind mount at /data does under Docker.
def test_sigterm_with_a_held_fault_saves_the_state_to_a_mounted_folder(container, tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, 10001, 10001)  # what README tells users to do for a mounted /data
    sandbox_run = Running(container, f"{data}:/state", env={"SANDBOX_STATE_FILE": "/state/state.json"})
    outcome: list[object] = []
    try:
        sandbox_run.wait_healthy()
        with httpx.Client(base_url=sandbox_run.url, timeout=10) as client:
            card = Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER).allocate(**new_user(loadAmount=25)).json()["payload"]["enKashCardId"]

            def held() -> None:
                try:
                    outcome.append(httpx.post(sandbox_run.url + "/oauth/token", headers={"X-Sandbox-Fault": "timeout=120s"}, timeout=60))
                except httpx.RemoteProtocolError:
                    outcome.append("connection closed")

            holder = threading.Thread(target=held)
            holder.start()
            while client.get("/__sandbox/faults").json()["fired"] < 1:
                time.sleep(0.02)
        signalled = time.monotonic()
        output = sandbox_run.stop()
        stopped = time.monotonic() - signalled
        holder.join(timeout=10)
    finally:
        if sandbox_run.process.poll() is None:
            sandbox_run.stop()
    print(f"\nSIGTERM to exit with a held fault: {stopped:.2f} s")
    assert outcome == ["connection closed"] and stopped < 5
    assert "state saved to /state/state.json" in output and "Traceback" not in output
    state = json.loads((data / "state.json").read_text())
    assert (data / "state.json").stat().st_uid == 10001
    assert card in json.dumps(state["store"]["cards"])


def test_a_mounted_folder_the_sandbox_cannot_write_is_refused_at_start(container, tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # root's, as a plain bind mount of a new folder would be
    sandbox_run = Running(container, f"{data}:/state", env={"SANDBOX_STATE_FILE": "/state/state.json"})
    assert sandbox_run.exit_code() != 0
    assert "exited with status 2" in sandbox_run.output  # buildah's word for the sandbox's exit code
    assert sandbox_run.output.splitlines()[0] == ("enkash-sandbox: SANDBOX_STATE_FILE: cannot write in /state (permission denied): "
                                              "the state is saved there at shutdown, so the folder must be writable by uid 10001")


def test_the_compose_recipe_loads_its_mounted_fixtures_in_the_image(container):
    service = yaml.safe_load((ROOT / "examples" / "ci" / "compose.yaml").read_text())["services"]["enkash"]
    mounts = [f"{(ROOT / 'examples' / 'ci' / volume.split(':')[0]).resolve()}:{':'.join(volume.split(':')[1:])}" for volume in service["volumes"]]
    env = {key: value for key, value in service["environment"].items() if not value.startswith("${")}
    sandbox_run = Running(container, *mounts, env=env)
    try:
        sandbox_run.wait_healthy()
        health = httpx.get(sandbox_run.url + HEALTH).json()
        assert health["seed"] == 7 and health["state"]["partners"] == 1
    finally:
        sandbox_run.stop()
    assert "partnerId CRMTEAM42" in sandbox_run.output
