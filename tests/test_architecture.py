"""The layering the architecture promises: the domain, store and ledger are HTTP-free."""

from __future__ import annotations

import ast
from pathlib import Path

import sandbox

PACKAGE = Path(sandbox.__file__).parent
PURE = [*sorted((PACKAGE / "domain").glob("*.py")), PACKAGE / "store.py", PACKAGE / "ledger.py", PACKAGE / "clock.py", PACKAGE / "ids.py"]
FORBIDDEN = {"starlette", "uvicorn", "httpx", "json", "simplejson", "asyncio", "sandbox.http", "sandbox.endpoints"}


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolve against sandbox/
                module = "sandbox." + module if module else "sandbox"
                if path.parent.name == "domain" and node.level == 1:
                    module = "sandbox.domain." + (node.module or "")
            found.add(module)
    return found


def test_domain_store_and_ledger_never_import_http_or_json():
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
