"""What the contract tests check a response against: the OpenAPI document built from the same
schema files the sandbox validates with, and snapshots of the state a rejected request must
not change."""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from sandbox.contract import jsonio, openapi
from sandbox.web.routes import ROUTES
from sandbox.tools.client import SandboxClient
from sandbox.contract.schemas import Schemas
from sandbox.settings import Settings

SCHEMAS = Schemas()


@functools.cache
def document() -> dict[str, Any]:
    """The document for a default-configured sandbox (the same one /__sandbox/openapi.json serves)."""
    return jsonio.loads(jsonio.dumps(openapi.build(ROUTES, Settings(), SCHEMAS)))  # type: ignore[no-any-return]


def documented_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    """The documented body schema for this status (exact code first, then its 2XX/4XX/5XX range)."""
    template = re.sub(r"{([^}:]+)(:[^}]*)?}", r"{\1}", path)
    responses = document()["paths"][template][method.lower()]["responses"]
    found = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    if found is None:
        raise AssertionError(f"{method} {path}: status {status} is not documented (documented: {sorted(responses)})")
    content = found.get("content", {})
    return next(iter(content.values()))["schema"] if content else None


def assert_documented(response: httpx.Response, method: str, path: str) -> Any:
    """The response's status is documented and its body validates against that status's schema."""
    schema = documented_schema(method, path, response.status_code)
    body = jsonio.loads(response.content) if response.content else None
    if schema is not None:
        root = dict(schema, components=document()["components"])
        errors = sorted(Draft202012Validator(root).iter_errors(body), key=lambda e: list(map(str, e.path)))
        assert not errors, f"{method} {path} -> {response.status_code}: {errors[0].message} in {body!r}"
    return body


def exact(value: Any) -> Any:
    """Generated floats as the exact 2-place Decimals a partner would send (never binary floats)."""
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(Decimal("0.01")) if abs(value) < 1e15 else Decimal(repr(value))
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact(v) for v in value]
    return value


def plain(schema: Any) -> Any:
    """A schema file with Decimals as floats/ints, for hypothesis-jsonschema."""
    if isinstance(schema, Decimal):
        return int(schema) if schema == schema.to_integral_value() else float(schema)
    if isinstance(schema, dict):
        return {k: plain(v) for k, v in schema.items() if k not in ("example", "title", "description", "$comment")}
    if isinstance(schema, list):
        return [plain(v) for v in schema]
    return schema


def snapshot(client: SandboxClient, company_id: str, account_id: str, is_sandbox: bool) -> Any:
    """What a rejected request must leave alone: the account, its cards, its history, the record counts."""
    account = client.post("cardAccount/get", {"companyId": company_id, "cardAccountId": account_id}).json()
    cards = client.post("search", {"companyId": company_id, "cardAccountId": account_id}, params={"limit": 1000}).json()
    history = client.post("transaction/all", {"companyId": company_id, "cardAccountId": account_id}, params={"limit": 1}).json()
    counts = client.http.get("/__sandbox/health").json()["state"] if is_sandbox else None
    return account, cards, history.get("payload", {}).get("recordsCount"), counts
