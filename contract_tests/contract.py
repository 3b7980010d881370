"""What the suite checks an answer against, and how a broken contract is told.

The contracts are data (contracts.yaml): an id and one sentence each. A check that finds one
broken raises ContractViolation: the sentence, what was seen, the request and answer that show it
(as curl), the seed and the run id. The first violation of a test is kept and printed at once, so
it is on screen within seconds of the wrong answer even if hypothesis goes on replaying.

Shapes come from the OpenAPI document built from the same schema files the sandbox validates
with (so it describes EnKash's documented shapes, not whatever the target answers)."""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml
from jsonschema import Draft202012Validator, ValidationError

from .links import ROUTES, Router, Schemas, Settings, jsonio, openapi

HERE = Path(__file__).parent
SCHEMAS = Schemas()
ID_FIELDS = {"enKashCardId", "enkashCardId", "userId", "enkashCardTxnId", "enKashCardTransactionId", "token",
             "maskedNumber", "coinConfigId", "maskedCard"}
INSUFFICIENT = "Insufficient balance in card account"


@functools.cache
def catalogue() -> dict[str, Any]:
    with open(HERE / "contracts.yaml", encoding="utf-8") as handle:
        doc: dict[str, Any] = yaml.safe_load(handle)
    contracts = dict(doc["contracts"])
    for f in doc["transaction_filters"]:
        contracts[f"txn-filter-{f['field']}"] = {
            "sentence": f"transaction/all with {f['field']} returns exactly the rows whose {f['row']} {_HOW[f['match']]}.",
            "source": "https://docs.enkash.com/api-13551023"}
    for f in doc["search_filters"]:
        contracts[f"search-filter-{f['field']}"] = {
            "sentence": f"search with {f['field']} returns exactly that card.", "source": "https://docs.enkash.com/api-13454278"}
    return {"contracts": contracts, "transaction_filters": doc["transaction_filters"], "search_filters": doc["search_filters"]}


_HOW = {"equals": "equals it", "in": "is one of them", "at-least": "is at least it", "at-most": "is at most it"}


def sentence(contract: str) -> str:
    return str(catalogue()["contracts"][contract]["sentence"])


# --- what a failure prints -----------------------------------------------------------------------
class Context:
    """Who is running: printed in every violation (set by the session that runs the checks)."""

    seed: int | None = None
    run_id: str = ""
    target: str = ""
    replay: str = ""
    listeners: list[Callable[["ContractViolation"], None]] = []


class ContractViolation(AssertionError):
    def __init__(self, contract: str, detail: str, exchanges: Iterable[Any] = ()) -> None:
        self.contract = contract
        self.detail = detail
        self.exchanges = [e for e in exchanges if e is not None]
        self.seed, self.run_id, self.target, self.replay = Context.seed, Context.run_id, Context.target, Context.replay
        super().__init__(self.report())
        for listener in list(Context.listeners):
            listener(self)

    @property
    def headline(self) -> str:
        return f"Contract broken [{self.contract}]: {sentence(self.contract)}"

    def report(self) -> str:
        lines = [self.headline, f"  Seen: {self.detail}"]
        if self.exchanges:
            lines.append("  The request and answer that show it:")
            for exchange in self.exchanges[-3:]:
                lines += ["    " + line for line in exchange.shown().splitlines()]
        lines.append(f"  seed {self.seed} · run id {self.run_id} · target {self.target}")
        if self.replay:
            lines.append(f"  replay: {self.replay}")
        return "\n".join(lines)


def require(ok: bool, contract: str, detail: str, *exchanges: Any) -> None:
    if not ok:
        raise ContractViolation(contract, detail, exchanges)


# --- documented shapes ---------------------------------------------------------------------------
@functools.cache
def document() -> dict[str, Any]:
    """The document for a default-configured sandbox (the same one /__sandbox/openapi.json serves)."""
    return jsonio.loads(jsonio.dumps(openapi.build(ROUTES, Settings(), SCHEMAS)))  # type: ignore[no-any-return]


@functools.cache
def _router() -> Router:
    return Router(ROUTES)


def template_of(method: str, path: str) -> str:
    """The documented path (with its {parameters}) a request's path is an instance of."""
    found = _router().find(method, path).route
    return re.sub(r"{([^}:]+)(:[^}]*)?}", r"{\1}", found.path if found is not None else path)


def documented_schema(method: str, path: str, status: int) -> tuple[bool, dict[str, Any] | None]:
    """(documented?, the body schema for this status: exact code first, then its 2XX/4XX/5XX range)."""
    responses = document()["paths"][template_of(method, path)][method.lower()]["responses"]
    found = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    if found is None:
        return False, None
    content = found.get("content", {})
    return True, (next(iter(content.values()))["schema"] if content else None)


@functools.cache
def _validator(method: str, path: str, status: int, outcome: Any) -> Draft202012Validator | None:
    """The body's schema; at HTTP 200 a success (code 0) is held to the success envelope alone and a
    business failure (code 1) to the failure envelope alone (the document's anyOf lets either pass for both)."""
    _, schema = documented_schema(method, path, status)
    if schema is None:
        return None
    branches = schema.get("anyOf")
    if branches and outcome in (0, 1):
        failure = [b for b in branches if str(b.get("$ref", "")).startswith("#/components/schemas/failure")]
        chosen = failure if outcome == 1 else [b for b in branches if b not in failure]
        schema = {"anyOf": chosen} if chosen else schema
    return Draft202012Validator(dict(schema, components=document()["components"]))


def _leaves(error: ValidationError) -> list[ValidationError]:
    if not error.context:
        return [error]
    return [leaf for sub in error.context for leaf in _leaves(sub)]


def shape_problem(method: str, path: str, status: int, body: Any) -> tuple[str, str] | None:
    """(contract, what is wrong) when the status is undocumented or the body breaks its schema."""
    documented, _ = documented_schema(method, path, status)
    if not documented:
        responses = document()["paths"][template_of(method, path)][method.lower()]["responses"]
        return "documented-shapes", f"HTTP {status} is not a documented answer of {method} {path} (documented: {sorted(responses)})"
    outcome = body.get("code", body.get("response_code")) if isinstance(body, dict) else None
    validator = _validator(method, path, status, outcome if isinstance(outcome, int) and not isinstance(outcome, bool) else None)
    if validator is None:
        return None
    errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.path)))
    if not errors:
        return None
    leaves = [leaf for e in errors for leaf in _leaves(e)]
    succeeded = isinstance(body, dict) and (body.get("code") == 0 or body.get("response_code") == 0)
    for leaf in leaves:
        field = next((str(p) for p in reversed(leaf.absolute_path) if isinstance(p, str)), "")
        if succeeded and leaf.validator == "pattern" and field in ID_FIELDS:
            return "id-formats", f"{field} {leaf.instance!r} does not match {leaf.validator_value}"
    where = "/".join(map(str, errors[0].absolute_path)) or "the body"
    detail = min(leaves, key=lambda e: -len(e.absolute_path))
    return "documented-shapes", f"{where}: {detail.message}"


# --- request generation helpers --------------------------------------------------------------------
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
