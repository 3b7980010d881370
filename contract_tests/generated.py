"""Properties over requests generated from the request schemas (hypothesis-jsonschema), for every
EnKash operation: a schema-valid request gets a documented answer (never a 5xx, 413, 415, 401 or
403); a schema-invalid one gets 400/415/422 in the failure envelope and changes nothing.

Half of the valid requests name the partner's own company and account and the suite's own card,
user and coin event, so they reach the business rules. Those write to the target, so they carry
this run's identifiers (references, mobiles, e-mails, events), small amounts, and never a magic
value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import assume, given, seed
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from .api import Exchange
from .contract import SCHEMAS, exact, plain, require
from .links import ROUTES, Route, jsonio
from .profiles import contract_settings
from .properties import new_card
from .session import Session

OPERATIONS = list({r.operation: r for r in reversed(ROUTES) if r.source != "sandbox" and r.auth != "basic"}.values())
TRANSPORT_ONLY = (413, 415, 401, 403)  # a schema-valid JSON body must never get these
IDENTIFIERS = ("uniqueReferenceNumber", "uniqueReferenceNum", "requestId", "orderReferenceId", "mobile", "email", "event")
LARGEST_AMOUNT = 5  # points a generated request may move on the partner's own account


def own(session: Session) -> dict[str, str]:
    """The suite's own card, user and coin event configuration on this target (made once per run)."""
    if "own" not in session.cache:
        card, user, _ = new_card(session, "20")
        made, _ = session.partner.coin_event(3)
        session.cache["own"] = {"enKashCardId": card, "enkashCardId": card, "userId": user,
                                "coinConfigId": made.payload["coinConfigId"] if made.ok else ""}
    return session.cache["own"]  # type: ignore[no-any-return]


def targeted(schema: dict[str, Any], known: dict[str, str], operation: str = "") -> dict[str, Any]:
    """The schema with its id fields fixed to the suite's own ids and its amounts kept small; bulk
    rows drawn from the row schema (at most three)."""
    if schema.get("type") == "array" and SCHEMAS.has(operation + ".row"):
        return dict(schema, items=targeted(SCHEMAS.get(operation + ".row"), known), maxItems=3)
    properties = dict(schema.get("properties", {}))
    for name, value in known.items():
        if name in properties and value:
            properties[name] = {"enum": [value]}
    for name in ("loadAmount", "amountFrom", "amountTo"):
        if name in properties:
            properties[name] = dict(properties[name], maximum=LARGEST_AMOUNT)
    return dict(schema, properties=properties) if "properties" in schema else schema


def scrub(session: Session, value: Any, targeted_body: bool) -> Any:
    """Magic values out of every body; on a targeted body, this run's identifiers in."""
    if isinstance(value, list):
        return [scrub(session, v, targeted_body) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        item = scrub(session, item, targeted_body)
        if targeted_body and key in IDENTIFIERS and isinstance(item, str):
            item = {"mobile": session.ids.mobile, "email": lambda: session.ids.holder()["email"],
                    "event": session.ids.event}.get(key, session.ids.reference)()
        if session.magic.is_magic(key, item):
            item = session.ids.mobile() if key == "mobile" else session.magic.amount(Decimal(str(item)), key)
        out[key] = item
    return out


def requests_for(session: Session, route: Route) -> st.SearchStrategy[tuple[Any, dict[str, str], bool]]:
    known = {"companyId": session.target.company_id, "cardAccountId": session.target.account_id,
             **{k: v for k, v in own(session).items() if k != "coinConfigId"}}
    choices: list[st.SearchStrategy[tuple[Any, bool]]] = []
    name = route.operation + ".request"
    if SCHEMAS.has(name):
        raw = SCHEMAS.get(name)
        for aimed in (False, True):
            schema = plain(targeted(raw, known, route.operation) if aimed else raw)
            choices.append(from_schema(schema).map(lambda body, aimed=aimed: (exact(body), aimed)))
    bodies = st.one_of(choices) if choices else st.just((None, True))
    queries: st.SearchStrategy[dict[str, str]] = st.just({})
    if SCHEMAS.has(route.operation + ".query"):
        queries = from_schema(plain(targeted(SCHEMAS.get(route.operation + ".query"), known)))
    return st.tuples(bodies, queries).map(lambda pair: (scrub(session, pair[0][0], pair[0][1]), pair[1], pair[0][1]))


def path_of(session: Session, route: Route) -> str | None:
    """The route's path with the suite's own coin configuration (None: this target gave it none)."""
    if "{coinConfigId}" not in route.path:
        return route.path
    config = own(session)["coinConfigId"]
    return route.path.replace("{coinConfigId}", config) if config else None


def send(session: Session, route: Route, path: str, body: Any = None, query: dict[str, str] | None = None,
         raw: bytes | None = None, content_type: str | None = None, check: bool = True) -> Exchange:
    auth = "partner" if route.auth == "partner" else "bearer"
    headers = {"Content-Type": content_type} if content_type else None
    return session.api.call(route.method, path, body=body, params=query or None, raw=raw, headers=headers, auth=auth, check=check)


def check_valid_requests(session: Session, route: Route, shrink: bool = False) -> None:
    path = path_of(session, route)
    if path is None:
        return

    @contract_settings(session.budget, shrink=shrink)
    @seed(session.seed)
    @given(request=requests_for(session, route))
    def run(request: tuple[Any, dict[str, str], bool]) -> None:
        body, query, _ = request
        if SCHEMAS.has(route.operation + ".request"):
            assume(SCHEMAS.problem(route.operation + ".request", body) is None)
        exchange = send(session, route, path, body=body, query=query)
        require(exchange.status not in TRANSPORT_ONLY, "documented-shapes",
                f"a schema-valid {route.operation} request was answered HTTP {exchange.status}", exchange)

    run()


BROKEN_BYTES = [b"{", b"\xff\xfe", b'{"a": 1, "a": 2}', b"NaN", b"[" * 5000, b""]


def _wrong_value(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "string" or "enum" in schema:
        return 12345 if kind == "string" else "NOT_A_DOCUMENTED_VALUE"
    if kind in ("number", "integer"):
        return "not a number"
    if kind == "array":
        return {"not": "an array"}
    return None


def invalid_requests(session: Session, route: Route) -> st.SearchStrategy[tuple[bytes, str, dict[str, str]]]:
    """A valid request with one thing broken, or a body that is not JSON at all; as wire bytes."""
    name = route.operation + ".request"

    @st.composite
    def build(draw: st.DrawFn) -> tuple[bytes, str, dict[str, str]]:
        body, query, _ = draw(requests_for(session, route))
        how = draw(st.sampled_from(["drop", "wrong", "shape", "bytes", "media"]))
        if how == "bytes" or body is None:
            return draw(st.sampled_from(BROKEN_BYTES)), "application/json", query
        if how == "media":
            return jsonio.dumps(body), "text/plain", query
        if how == "shape":
            body = draw(st.sampled_from([[], "text", 42, None, True]))
        elif how == "drop" and isinstance(body, dict):
            required = [k for k in SCHEMAS.get(name).get("required", []) if k in body]
            assume(required)
            dropped = draw(st.sampled_from(required))
            body = {k: v for k, v in body.items() if k != dropped}
        elif isinstance(body, dict):
            properties = SCHEMAS.get(name).get("properties", {})
            candidates = [k for k in properties if _wrong_value(properties[k]) is not None]
            assume(candidates)
            key = draw(st.sampled_from(candidates))
            body = dict(body, **{key: _wrong_value(properties[key])})
        assume(SCHEMAS.problem(name, body) is not None)
        return jsonio.dumps(body), "application/json", query

    return build()


def state_of(session: Session) -> Any:
    """What a refused request must leave alone: the account's details, the suite's card, the account's history size."""
    partner = session.partner
    account, _ = partner.account()
    card, _ = partner.card(own(session)["enKashCardId"])
    _, count, _ = partner.transactions()
    return account, card, count


def changes(before: Any, after: Any) -> str:
    """What differs between two state_of readings, field by field (the history as its row count)."""
    found = []
    for what, was, now in (("account", before[0], after[0]), ("card", before[1], after[1])):
        found += [f"{what} {key} {was.get(key)!r} -> {now.get(key)!r}" for key in sorted(set(was) | set(now)) if was.get(key) != now.get(key)]
    if before[2] != after[2]:
        found.append(f"account history {before[2]} -> {after[2]} rows")
    return "; ".join(found) or "nothing"


def check_invalid_requests(session: Session, route: Route, shrink: bool = False) -> None:
    path = path_of(session, route)
    if path is None or route.body != "json":
        return

    @contract_settings(session.budget, shrink=shrink, scale=0.6)
    @seed(session.seed)
    @given(request=invalid_requests(session, route))
    def run(request: tuple[bytes, str, dict[str, str]]) -> None:
        raw, content_type, query = request
        before = state_of(session)
        exchange = send(session, route, path, raw=raw, query=query, content_type=content_type, check=False)
        require(exchange.status in (400, 415, 422) and exchange.outcome[0] == 1, "invalid-request",
                f"a {route.operation} request that breaks its schema was answered HTTP {exchange.status} code {exchange.outcome[0]!r}",
                exchange)
        session.api.check(exchange)
        after = state_of(session)
        require(after == before, "invalid-request",
                f"a refused {route.operation} request changed the account, card or history: {changes(before, after)}", exchange)

    run()
