"""The project is self-contained: its API reference (docs/enkash-api.md) covers every EnKash route
the sandbox serves, every citation of it names an anchor that exists, every fidelity row names
EnKash's page or says it is the sandbox's own choice, and nothing points outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "enkash-api.md"
FIDELITY = ROOT / "docs" / "fidelity.md"

# Built from pieces so that this file does not cite what it forbids.
FORBIDDEN = ("REFERENCE" + ".md", ".." + "/shared")
ENKASH_DOCS = re.compile(r"https://(docs\.enkash\.com|enkash-old\.apidog\.io)/\S+")
SANDBOX_OWN = "sandbox's own"
ITEM_ID = re.compile(r"\b(AUTH|SSO|RWD|INC|PTS|RED|DIFF|OPEN)-(\d+)\b")
CITATION = re.compile(r"enkash-api\.md#([A-Za-z0-9_-]+)")
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "build", "dist", "__pycache__", ".pytest_cache",
             ".hypothesis", ".ruff_cache", ".mypy_cache", ".import_linter_cache"}


def repository_text_files() -> list[Path]:
    """Every text file of the checkout (tracked or not), without tool caches and build output."""
    found = []
    for path in sorted(ROOT.rglob("*")):
        parts = path.relative_to(ROOT).parts
        if any(part in SKIP_DIRS or part.endswith(".egg-info") for part in parts) or not path.is_file():
            continue
        try:
            found.append((path, path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, OSError):
            continue  # binary files cite nothing
    return found  # type: ignore[return-value]


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors() -> set[str]:
    text = REFERENCE.read_text(encoding="utf-8")
    explicit = set(re.findall(r'<a id="([^"]+)"></a>', text))
    headings = {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    return explicit | headings


def test_the_reference_names_its_items_as_anchors():
    found = anchors()
    for family, last in (("auth", 1), ("sso", 1), ("rwd", 6), ("inc", 3), ("pts", 5), ("red", 9)):
        for number in range(1, last + 1):
            assert f"{family}-{number}" in found, f"{family}-{number}"
    assert {"envelopes", "statuses", "ids", "encryption", "diff", "open", "other-apis"} <= found


def test_every_internal_link_of_the_reference_resolves():
    text = REFERENCE.read_text(encoding="utf-8")
    missing = sorted({target for target in re.findall(r"\]\(#([^)]+)\)", text)} - anchors())
    assert missing == []


def test_every_citation_of_the_reference_names_an_anchor_that_exists():
    found = anchors()
    broken = []
    for path, text in repository_text_files():
        for anchor in CITATION.findall(text):
            if anchor not in found:
                broken.append(f"{path.relative_to(ROOT)}: #{anchor}")
    assert broken == []


@pytest.mark.parametrize("name", ["README.md", "docs/fidelity.md", "docs/performance.md", "docs/enkash-api.md"])
def test_every_item_id_named_in_the_docs_exists(name):
    found = anchors()
    text = (ROOT / name).read_text(encoding="utf-8")
    unknown = sorted({match.group(0) for match in ITEM_ID.finditer(text) if match.group(0).lower() not in found})
    assert unknown == []


def test_every_item_id_named_in_a_schema_exists():
    found = anchors()
    schemas = sorted((ROOT / "sandbox").rglob("*.json"))
    assert schemas, "no schema files found"
    unknown = []
    for path in schemas:
        for match in ITEM_ID.finditer(path.read_text(encoding="utf-8")):
            if match.group(0).lower() not in found:
                unknown.append(f"{path.name}: {match.group(0)}")
    assert unknown == []


def test_no_file_points_outside_the_repository():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}"
        for path, text in repository_text_files()
        for number, line in enumerate(text.splitlines(), 1)
        if any(needle in line for needle in FORBIDDEN)
    ]
    assert offenders == []


def fidelity_rows() -> list[tuple[int, dict[str, str]]]:
    """Every body row of every table in docs/fidelity.md, as {column header: cell}."""
    rows: list[tuple[int, dict[str, str]]] = []
    lines = FIDELITY.read_text(encoding="utf-8").splitlines()
    header: list[str] | None = None
    for number, line in enumerate(lines, 1):
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if header is None:
            header = cells
        elif not set(line.replace("|", "").strip()) <= set("-: "):
            assert len(cells) == len(header), f"line {number}: {len(cells)} cells under {len(header)} headers"
            rows.append((number, dict(zip(header, cells))))
    return rows


def test_fidelity_has_tables_with_a_source_column():
    rows = fidelity_rows()
    assert len(rows) > 100
    assert all("Source" in row for _, row in rows), [number for number, row in rows if "Source" not in row]


def test_every_fidelity_row_names_enkash_docs_or_says_it_is_the_sandboxs_own():
    unsourced = [
        f"line {number}: {next(iter(row.values()))}"
        for number, row in fidelity_rows()
        if not ENKASH_DOCS.search(row["Source"]) and SANDBOX_OWN not in row["Source"]
    ]
    assert unsourced == []


def route_table():
    try:
        from sandbox.web.routes import ROUTES  # the package layout after "The house"
    except ImportError:
        from sandbox.routes import ROUTES
    return ROUTES


def test_every_enkash_route_is_in_the_reference():
    text = re.sub(r"\{[^}/]*\}", "{}", REFERENCE.read_text(encoding="utf-8"))
    enkash = [route for route in route_table() if route.path.startswith(("/api", "/oauth", "/enkash-coins"))]
    assert len(enkash) >= 12
    assert [f"{route.method} {route.path}" for route in enkash if not route_is_written(route, text)] == []


def route_is_written(route, text: str) -> bool:
    """`METHOD path` as the docs write it, with or without a host before the path; `{name}` any name."""
    path = re.sub(r"\{[^}/]*\}", "{}", route.path)
    return re.search(rf"{route.method}\s+(https?://[^/\s`]+)?{re.escape(path)}(?![\w/-])", text) is not None


def test_every_enkash_route_is_in_the_readme():
    text = re.sub(r"\{[^}/]*\}", "{}", (ROOT / "README.md").read_text(encoding="utf-8"))
    enkash = [route for route in route_table() if route.path.startswith(("/api", "/oauth", "/enkash-coins"))]
    assert [f"{route.method} {route.path}" for route in enkash if not route_is_written(route, text)] == []


@pytest.mark.parametrize("name", ["README.md", "docs/fidelity.md", "docs/performance.md"])
def test_every_link_to_a_section_resolves(name):
    text = (ROOT / name).read_text(encoding="utf-8")
    own = {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    missing = sorted(set(re.findall(r"\]\(#([^)]+)\)", text)) - own)
    assert missing == []


def test_every_relative_link_names_a_file_of_the_repository():
    broken = []
    for name in ("README.md", "docs/fidelity.md", "docs/performance.md", "docs/enkash-api.md", "docs/architecture.md"):
        path = ROOT / name
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            if not target.startswith(("http://", "https://")) and not (path.parent / target).exists():
                broken.append(f"{name}: {target}")
    assert broken == []
