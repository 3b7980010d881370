"""Release automation, proven here as far as GitHub is not needed: every workflow passes actionlint
(with shellcheck on its scripts) and the official schema; the triggers, matrix, publishing and
image jobs say what the README promises; the version has one source; the sdist and wheel build
offline and pass `twine check`.

Tools come from the interpreter's own environment (the test extras install them)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

import sandbox

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLE_WORKFLOWS = sorted((ROOT / "examples" / "ci").glob("github-*.yml"))


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is not beside {sys.executable}: install the test extras (scripts/test.sh does)"
    return str(path)


def run(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def tracked() -> list[str]:
    return run("git", "ls-files", "-z").stdout.split("\0")[:-1]


def copy_checkout(target: Path) -> Path:
    """The checkout's tracked files as they are now (symlinks kept), for builds that write beside
    the source (setuptools' build/ would otherwise linger in the checkout and feed later wheels)."""
    for name in tracked():
        source, copy = ROOT / name, target / name
        if source.exists() or source.is_symlink():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy, follow_symlinks=False)
    return target


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    if True in document:  # YAML 1.1 reads the key `on` as true
        document["on"] = document.pop(True)
    return document  # type: ignore[no-any-return]


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return run(tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), *map(str, paths))


def test_the_workflows_exist():
    assert [path.name for path in WORKFLOWS] == ["ci.yml", "release.yml"]
    assert [path.name for path in EXAMPLE_WORKFLOWS] == ["github-from-source.yml", "github-service-container.yml"]


@pytest.mark.parametrize("path", WORKFLOWS + EXAMPLE_WORKFLOWS, ids=lambda path: path.name)
def test_workflow_passes_actionlint_and_shellcheck(path: Path):
    result = actionlint(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_actionlint_here_rejects_a_deprecated_action(tmp_path: Path):
    """The check above can fail: actions/checkout@v4 runs on node20, which actionlint flags."""
    workflow = tmp_path / "old.yml"
    workflow.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n")
    result = actionlint(workflow)
    assert result.returncode == 1 and 'runtime "node20" is deprecated' in result.stdout


@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.github-workflows", path) for path in WORKFLOWS + EXAMPLE_WORKFLOWS]
    + [("vendor.github-actions", ROOT / "action.yml")],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_matches_the_official_schema(schema: str, path: Path):
    result = run(tool("check-jsonschema"), "--builtin-schema", schema, str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_suite_on_every_push_and_pull_request_on_three_pythons():
    ci = load(ROOT / ".github" / "workflows" / "ci.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(ci["on"])
    test = ci["jobs"]["test"]
    assert test["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    assert test["strategy"]["fail-fast"] is False
    steps = test["steps"]
    assert steps[1]["uses"].startswith("actions/setup-python@") and steps[1]["with"]["python-version"] == "${{ matrix.python }}"
    assert steps[2]["run"].startswith("bash scripts/test.sh ")
    assert steps[2]["env"] == {"PYTHON": "python", "INSPECTOR_ARTIFACTS": "${{ runner.temp }}/inspector-screenshots"}
    # the inspector's screenshots (tests/test_inspector_browser.py) are kept as an artifact, pass or fail
    assert steps[3]["if"] == "always()" and steps[3]["uses"].startswith("actions/upload-artifact@")
    assert steps[3]["with"]["path"] == steps[2]["env"]["INSPECTOR_ARTIFACTS"]
    # the container test is the other job's, run as root (buildah) where a registry gives the base
    container = ci["jobs"]["container"]["steps"]
    assert any(step.get("run") == "sudo bash scripts/ci-system-deps.sh" for step in container)
    assert any("tests/test_container.py" in step.get("run", "") and "sudo" in step["run"] for step in container)


def test_release_publishes_only_a_tested_tag_to_pypi_with_trusted_publishing():
    release = load(ROOT / ".github" / "workflows" / "release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    jobs = release["jobs"]
    assert jobs["tests"] == {"uses": "./.github/workflows/ci.yml"}
    assert jobs["dist"]["needs"] == "tests" and jobs["image"]["needs"] == "tests" and jobs["pypi"]["needs"] == "dist"
    dist = "\n".join(step.get("run", "") for step in jobs["dist"]["steps"])
    assert 'bash scripts/release-version.sh "$GITHUB_REF_NAME"' in dist
    assert "python -m build" in dist and "twine check --strict dist/*" in dist
    pypi = jobs["pypi"]
    assert pypi["permissions"] == {"id-token": "write"} and pypi["environment"]["name"] == "pypi"
    assert pypi["steps"][-1] == {"uses": "pypa/gh-action-pypi-publish@release/v1"}  # no password: trusted publishing
    assert release["permissions"] == {"contents": "read"}


def test_release_pushes_a_two_platform_image_with_semver_tags_and_oci_labels():
    image = load(ROOT / ".github" / "workflows" / "release.yml")["jobs"]["image"]
    assert image["permissions"] == {"contents": "read", "packages": "write"}
    steps = {step.get("id") or step.get("uses", "").split("@")[0]: step for step in image["steps"]}
    assert 'echo "image=ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/enkash-sandbox"' in steps["names"]["run"]
    meta = steps["meta"]["with"]
    assert meta["images"] == "${{ steps.names.outputs.image }}"
    assert "type=semver,pattern={{version}}" in meta["tags"] and "type=semver,pattern={{major}}.{{minor}}" in meta["tags"]
    # metadata-action writes source, version, revision (and others) itself; the license is ours
    assert "org.opencontainers.image.licenses=MIT" in meta["labels"]
    build = steps["docker/build-push-action"]["with"]
    assert build["platforms"] == "linux/amd64,linux/arm64" and build["push"] is True
    assert build["tags"] == "${{ steps.meta.outputs.tags }}" and build["labels"] == "${{ steps.meta.outputs.labels }}"
    build_args = dict(line.split("=", 1) for line in build["build-args"].splitlines())
    assert set(build_args) == {"VERSION", "REVISION", "SOURCE"}
    dockerfile = (ROOT / "Dockerfile").read_text()
    for name in build_args:  # the Dockerfile's own labels read the same arguments
        assert f"ARG {name}=" in dockerfile and f'="${{{name}}}"' in dockerfile
    assert {"docker/setup-qemu-action", "docker/setup-buildx-action", "docker/login-action"} <= set(steps)


def test_the_version_is_written_once():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "sandbox.__version__"}
    version = sandbox.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    written = [name for name in tracked() if Path(name).suffix in (".py", ".toml", ".cfg")
               and f'"{version}"' in (ROOT / name).read_text(errors="replace")]
    assert written == ["sandbox/__init__.py"]
    assert run("bash", "scripts/release-version.sh").stdout == version + "\n"
    assert run("bash", "scripts/release-version.sh", f"v{version}").returncode == 0


def test_a_tag_that_is_not_the_version_stops_the_release():
    result = run("bash", "scripts/release-version.sh", "v99.0.0")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"release-version: tag v99.0.0 does not match the package version {sandbox.__version__} (expected v{sandbox.__version__})\n"


def test_the_sdist_and_wheel_build_offline_and_pass_twine_check(tmp_path: Path):
    source = copy_checkout(tmp_path / "source")
    tmp_path = tmp_path / "dist"
    built = run(sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), ".", cwd=source)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    version = sandbox.__version__
    wheel, sdist = tmp_path / f"enkash_sandbox-{version}-py3-none-any.whl", tmp_path / f"enkash_sandbox-{version}.tar.gz"
    assert set(tmp_path.iterdir()) == {sdist, wheel}
    checked = run(tool("twine"), "check", "--strict", str(sdist), str(wheel))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2

    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"sandbox/bundled_fixtures/default.yaml", "sandbox/bundled_fixtures/scenarios/flaky-network.yaml"} <= names
    assert any(re.fullmatch(r"sandbox/(contract/)?schemas/fixtures\.schema\.json", name) for name in names)
    metadata = zipfile.ZipFile(wheel).read(f"enkash_sandbox-{version}.dist-info/METADATA").decode()
    assert f"\nVersion: {version}\n" in metadata and "\nLicense-Expression: MIT\n" in metadata
    requires = [line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist: ") and "extra ==" not in line]
    assert not any(name.startswith(("uvicorn[", "websockets", "watchfiles", "python-dotenv")) for name in requires)
    entry_points = zipfile.ZipFile(wheel).read(f"enkash_sandbox-{version}.dist-info/entry_points.txt").decode()
    assert "enkash-sandbox = sandbox." in entry_points and "enkash_sandbox = sandbox." in entry_points
    with tarfile.open(sdist) as archive:
        members = set(archive.getnames())
    assert f"enkash_sandbox-{version}/sandbox/bundled_fixtures/default.yaml" in members  # the link, followed


def test_release_scripts_pass_shellcheck():
    scripts = [ROOT / "scripts" / name for name in ("action-start.sh", "ci-system-deps.sh", "release-version.sh")]
    result = run(tool("shellcheck"), *map(str, scripts))
    assert result.returncode == 0, result.stdout
