"""Scenario files: YAML in fixtures/scenarios/ that bundle fault rules into a named script
("first two allocations 503, then success"). Checked whole when loaded, so a bad file stops
startup (or the admin call) naming the file, the rule and the problem.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple, TYPE_CHECKING

import yaml

from sandbox.domain import errors
from sandbox.documents.fixtures import FixtureError
from sandbox.settings import bundled_fixtures_dir
from sandbox.faults.rules import Rule

if TYPE_CHECKING:
    from sandbox.contract.schemas import Schemas

FILE_SCHEMA = "sandbox-scenarios-file"
RULE_SCHEMA = "sandbox-faults-create.request"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Scenario(NamedTuple):
    name: str
    description: str
    rules: tuple[dict[str, Any], ...]


def directory() -> Path:
    return bundled_fixtures_dir() / "scenarios"


def names() -> list[str]:
    return sorted(path.stem for path in directory().glob("*.yaml"))


def load(name_or_path: str, schemas: "Schemas", names_only: bool = False) -> Scenario:
    """A bundled scenario by name, or (at startup only) a file path."""
    if _NAME.match(name_or_path):
        path = directory() / f"{name_or_path}.yaml"
        if not path.exists():
            raise errors.ScenarioNotFound(name=name_or_path, known=", ".join(names()) or "none")
    elif names_only:
        raise errors.ScenarioNotFound(name=name_or_path, known=", ".join(names()) or "none")
    else:
        path = Path(name_or_path)
    source = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FixtureError(source, "", f"cannot read scenario ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise FixtureError(source, "", f"not valid YAML: {exc}") from None
    problem = schemas.problem(FILE_SCHEMA, doc)
    if problem:
        raise FixtureError(source, "", problem)
    for n, rule in enumerate(doc["rules"]):
        where = f"rules[{n}]"
        try:
            schemas.check(RULE_SCHEMA, rule)
            Rule.build("check", rule, f"{where}.fault")
        except errors.SandboxError as failure:
            raise FixtureError(source, where, failure.message) from None
    return Scenario(doc.get("name") or path.stem, doc.get("description", ""), tuple(doc["rules"]))
