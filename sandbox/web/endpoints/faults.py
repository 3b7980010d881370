"""The sandbox's fault API under /__sandbox/: arm, list, disarm and clear fault rules; list and
load scenario files. The rules' shape is checked by sandbox-faults-create.request.json."""

from __future__ import annotations

from typing import Any

from sandbox.domain import errors
from sandbox.faults import scenarios
from sandbox.documents.fixtures import FixtureError
from sandbox.web.adapter import Call
from sandbox.contract.envelope import Reply


def faults_list(call: Call) -> Reply:
    return Reply(call.state.faults.describe())


def faults_create(call: Call) -> Reply:
    rule = call.state.faults.add(call.body)
    return Reply(rule.describe(), 201)


def faults_delete(call: Call) -> Reply:
    return Reply(call.state.faults.remove(call.params["ruleId"]).describe())


def faults_clear(call: Call) -> Reply:
    return Reply({"cleared": call.state.faults.clear()})


def scenarios_list(call: Call) -> Reply:
    found: list[dict[str, Any]] = []
    for name in scenarios.names():
        try:
            scenario = scenarios.load(name, call.state.schemas, names_only=True)
            found.append({"name": name, "description": scenario.description, "rules": len(scenario.rules)})
        except FixtureError as problem:
            found.append({"name": name, "problem": str(problem)})
    active = call.state.faults.scenario
    return Reply({"scenarios": found, "active": active.name if active else None})


def scenario_load(call: Call) -> Reply:
    """Arm a bundled scenario by name; it replaces the armed rules (counts start at zero)."""
    try:
        scenario = scenarios.load(call.params["name"], call.state.schemas, names_only=True)
    except FixtureError as problem:
        raise errors.SandboxRequestInvalid(reason=str(problem)) from None
    rules = call.state.faults.arm(scenario)
    return Reply({"scenario": scenario.name, "description": scenario.description, "rules": [r.describe() for r in rules]})
