"""Properties generated from the request schemas (hypothesis-jsonschema), for every EnKash route:
a schema-valid request gets a documented answer whose body validates; a schema-invalid one gets
the documented 4xx failure envelope and changes nothing; no input ever yields a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from sandbox.web.routes import ROUTES, Route

from .conftest import Target
from .contract import SCHEMAS, assert_documented, exact, plain, snapshot
from .profiles import contract_settings

OPERATIONS = list({r.operation: r for r in reversed(ROUTES) if r.source != "sandbox" and r.auth != "basic"}.values())
ID_FIELDS = ("companyId", "cardAccountId", "enKashCardId", "enkashCardId", "userId")
TRANSPORT_ONLY = (413, 415)  # a schema-valid JSON body must never get these


def targeted(schema: dict[str, Any], known: dict[str, list[str]]) -> dict[str, Any]:
    """The schema with its id fields drawn from ids that exist, so requests reach the business rules."""
    properties = dict(schema.get("properties", {}))
    for name in ID_FIELDS:
        if name in properties:
            choices = [*known.get(name, []), *([properties[name]["example"]] if "example" in properties[name] else [])]
            if choices:
                properties[name] = {"enum": sorted(set(choices))}
    return dict(schema, properties=properties) if "properties" in schema else schema


def requests_for(route: Route, target: Target, valid: bool) -> st.SearchStrategy[tuple[Any, dict[str, str]]]:
    known = {"companyId": [target.company_id], "cardAccountId": [target.account_id]}
    bodies: st.SearchStrategy[Any] = st.none()
    if SCHEMAS.has(route.operation + ".request"):
        raw = SCHEMAS.get(route.operation + ".request")
        bodies = st.one_of(from_schema(plain(raw)), from_schema(plain(targeted(raw, known)))).map(exact)
    queries: st.SearchStrategy[dict[str, str]] = st.just({})
    if SCHEMAS.has(route.operation + ".query"):
        query_schema = SCHEMAS.get(route.operation + ".query")
        queries = from_schema(plain(targeted(query_schema, known)))
    return st.tuples(bodies, queries)


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


@st.composite
def invalid_requests(draw: st.DrawFn, route: Route, target: Target) -> tuple[bytes, str, dict[str, str]]:
    """A valid request with one thing broken, or a body that is not JSON at all; as wire bytes."""
    from sandbox.contract import jsonio

    body, query = draw(requests_for(route, target, valid=True))
    how = draw(st.sampled_from(["drop", "wrong", "shape", "bytes", "media"]))
    name = route.operation + ".request"
    if how == "bytes" or body is None:
        return draw(st.sampled_from(BROKEN_BYTES)), "application/json", query
    if how == "media":
        return jsonio.dumps(body), "text/plain", query
    if how == "shape":
        body = draw(st.sampled_from([[], "text", 42, None, True]))
    elif how == "drop" and isinstance(body, dict):
        required = [k for k in SCHEMAS.get(name).get("required", []) if k in body]
        assume(required)
        body = {k: v for k, v in body.items() if k != draw(st.sampled_from(required))}
    elif isinstance(body, dict):
        properties = SCHEMAS.get(name).get("properties", {})
        candidates = [k for k in properties if _wrong_value(properties[k]) is not None]
        assume(candidates)
        key = draw(st.sampled_from(candidates))
        body = dict(body, **{key: _wrong_value(properties[key])})
    assume(SCHEMAS.problem(name, body) is not None)
    return jsonio.dumps(body), "application/json", query


def _path(route: Route) -> str:
    return route.path.replace("{coinConfigId}", "WCC12345")


@pytest.mark.parametrize("route", OPERATIONS, ids=lambda r: r.operation)
def test_valid_requests_get_documented_answers(route: Route, target: Target, client: Any) -> None:
    @contract_settings()
    @given(request=requests_for(route, target, valid=True))
    def check(request: tuple[Any, dict[str, str]]) -> None:
        body, query = request
        if SCHEMAS.has(route.operation + ".request"):
            assume(SCHEMAS.problem(route.operation + ".request", body) is None)
        response = client.request(route.method, _path(route), json_body=body, params=query, headers=client.api_headers())
        assert response.status_code < 500, response.text
        assert response.status_code not in TRANSPORT_ONLY + (401, 403), response.text
        assert_documented(response, route.method, route.path)

    check()


@pytest.mark.parametrize("route", [r for r in OPERATIONS if r.body == "json"], ids=lambda r: r.operation)
def test_invalid_requests_get_the_failure_envelope_and_change_nothing(route: Route, target: Target, client: Any) -> None:
    @contract_settings()
    @given(request=invalid_requests(route, target))
    def check(request: tuple[bytes, str, dict[str, str]]) -> None:
        content, media, query = request
        before = snapshot(client, target.company_id, target.account_id, target.is_sandbox)
        response = client.http.request(route.method, _path(route), content=content, params=query,
                                       headers={**client.api_headers(), "Content-Type": media})
        client.log.append(f"# {route.method} {_path(route)} {media} {content[:300]!r} -> {response.status_code}")
        assert response.status_code in (400, 415, 422), response.text
        body = assert_documented(response, route.method, route.path)
        code, message = (body["code"], body["message"]) if "code" in body else (body["response_code"], body["response_message"])
        assert code == 1 and message == body["payload"] != ""
        assert snapshot(client, target.company_id, target.account_id, target.is_sandbox) == before

    check()
