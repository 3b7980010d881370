"""The layering the architecture promises: the domain and the state are HTTP- and JSON-free. The
layers themselves and the absence of cycles are import-linter's contracts (pyproject.toml), run by
scripts/test.sh; this test adds what import-linter cannot see: the standard library's json and asyncio."""

from __future__ import annotations

import ast
from pathlib import Path

import sandbox

PACKAGE = Path(sandbox.__file__).parent
PURE = [*sorted((PACKAGE / "domain").glob("*.py")), *sorted((PACKAGE / "state").glob("*.py"))]
FORBIDDEN = {"starlette", "uvicorn", "httpx", "json", "simplejson", "orjson", "yaml", "asyncio", "sandbox.web", "sandbox.contract"}


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            assert not node.level, f"{path.name}: the package imports absolutely"
            found.add(module)
    return found


def test_domain_and_state_never_import_http_or_json():
    offenders = {
        path.relative_to(PACKAGE).as_posix(): sorted(m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN or any(m.startswith(f) for f in FORBIDDEN if "." in f))
        for path in PURE
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_public_surface_is_exact():
    assert len(set(sandbox.__all__)) == len(sandbox.__all__)
    assert {"Settings", "create_app", "__version__"} <= set(sandbox.__all__)
    for name in sandbox.__all__:
        assert getattr(sandbox, name) is not None
