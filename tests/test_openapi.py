"""The served OpenAPI document: valid OpenAPI 3.1, built from routes.py and the schema files only."""

from __future__ import annotations

import json
import re

import httpx
from openapi_spec_validator import OpenAPIV31SpecValidator

from sandbox.contract import openapi
from sandbox.web.routes import ROUTES
from sandbox.contract.schemas import SCHEMA_DIR, Schemas
from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread


def served(http: httpx.Client) -> dict:
    response = http.get("/__sandbox/openapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def operation_of(doc: dict, method: str, path: str) -> dict:
    return doc["paths"][re.sub(r"{([^}:]+)(:[^}]*)?}", r"{\1}", path)][method.lower()]


def test_served_document_is_valid_openapi_3_1(http):
    doc = served(http)
    assert doc["openapi"] == "3.1.0"
    errors = [error.message for error in OpenAPIV31SpecValidator(doc).iter_errors()]
    assert errors == []


def test_every_route_is_documented_once_with_a_unique_operation_id(http):
    doc = served(http)
    documented = [(method.upper(), path) for path, item in doc["paths"].items() for method in item]
    api = [r for r in ROUTES if r.envelope != "html"]  # the inspector's pages are no API (tests/test_inspector.py)
    assert sorted(documented) == sorted((r.method, re.sub(r"{([^}:]+)(:[^}]*)?}", r"{\1}", r.path)) for r in api)
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert operation_of(doc, "POST", "/api/v0/partner/enKashCard/create-allocate-points")["operationId"] == "create-allocate-points"
    alias = operation_of(doc, "POST", "/api/v0/partner/enKashCard/points/allocate")
    assert alias["operationId"] == "create-allocate-points-api-v0-partner-enKashCard-points-allocate"


def test_components_are_the_schema_files_verbatim(http):
    doc = served(http)
    for path in SCHEMA_DIR.glob("*.json"):
        name = path.name[: -len(".json")]
        if name in openapi.NOT_COMPONENTS:
            assert name not in doc["components"]["schemas"]
        else:
            assert doc["components"]["schemas"][name] == json.loads(path.read_text()), name


def test_request_bodies_query_and_path_parameters_come_from_the_route_table(http):
    doc = served(http)
    allocate = operation_of(doc, "POST", "/api/v0/partner/enKashCard/create-allocate-points")
    assert allocate["requestBody"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/create-allocate-points.request"}}
    }
    assert allocate["security"] == [{"bearer": [], "partnerId": []}]
    assert allocate["externalDocs"] == {"url": "https://docs.enkash.com/api-9796905"}

    token = operation_of(doc, "POST", "/oauth/token")
    assert list(token["requestBody"]["content"]) == ["application/x-www-form-urlencoded"]
    assert token["security"] == [{"oauthClient": []}]
    assert token["responses"]["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/oauth-error"}

    bulk = operation_of(doc, "POST", "/api/v0/partner/enKashCard/bulk-create-allocate-points-json")
    query = {p["name"]: p for p in bulk["parameters"] if p["in"] == "query"}
    assert set(query) == {"companyId", "cardAccountId", "isPointsAllocation"}
    # a missing companyId is the page's documented 422, not a 400: the schema leaves it optional
    assert {name: p["required"] for name, p in query.items()} == {"companyId": False, "cardAccountId": True, "isPointsAllocation": True}

    load = operation_of(doc, "POST", "/__sandbox/accounts/{cardAccountId}/load")
    assert load["parameters"] == [
        {"name": "cardAccountId", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
    ]
    assert load["security"] == []  # no admin token configured
    assert "401" not in load["responses"]


def test_success_is_envelope_plus_payload_and_failures_are_the_failure_envelope(http):
    doc = served(http)
    schemas = Schemas()
    search = operation_of(doc, "POST", "/api/v0/partner/enKashCard/search")
    ok = search["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["anyOf"][0] == json.loads(json.dumps(schemas.enveloped("A", "search.payload"), default=float))
    assert ok["anyOf"][1] == {"$ref": "#/components/schemas/failure-b"}
    for status in ("400", "401", "403", "404", "413", "415", "422"):
        assert search["responses"][status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/failure-b"}
    assert set(search["responses"]) == {"200", "400", "401", "403", "404", "413", "415", "422", "429", "5XX"}
    health = operation_of(doc, "GET", "/__sandbox/health")
    assert set(health["responses"]) == {"2XX", "413"}  # the sandbox's own API may answer 201; faults never reach it
    assert health["responses"]["2XX"]["content"]["application/json"]["schema"] == {"anyOf": [
        {"$ref": "#/components/schemas/sandbox-health.response"}, {"$ref": "#/components/schemas/failure-b"},
    ]}


def test_document_follows_the_error_settings():
    doc = openapi.build(ROUTES, Settings(error_envelope="endpoint", auth_errors="oauth"))
    search = doc["paths"]["/api/v0/partner/enKashCard/search"]["post"]["responses"]
    assert search["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/failure-a"}
    assert search["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/oauth-error"}
    account = doc["paths"]["/api/v0/partner/enKashCard/cardAccount/get"]["post"]["responses"]
    assert account["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/failure-b"}


def test_with_an_admin_token_the_document_stays_public_and_admin_routes_need_the_token():
    with ServerThread(Settings(admin_token="s3cret", validate_responses=True)) as server:
        doc = httpx.get(server.url + "/__sandbox/openapi.json").json()
        assert httpx.get(server.url + "/__sandbox/docs").status_code == 200
        assert httpx.post(server.url + "/__sandbox/reset").status_code == 401
    assert doc["components"]["securitySchemes"]["sandboxAdmin"] == {
        "type": "http", "scheme": "bearer", "description": "the sandbox's --admin-token",
    }
    reset = doc["paths"]["/__sandbox/reset"]["post"]
    assert reset["security"] == [{"sandboxAdmin": []}]
    assert "401" in reset["responses"]
    assert doc["paths"]["/__sandbox/health"]["get"]["security"] == []
    assert OpenAPIV31SpecValidator(doc).is_valid()


def test_docs_page_is_self_contained_html_that_renders_the_document(http):
    response = http.get("/__sandbox/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert page.startswith("<!DOCTYPE html>")
    assert 'fetch("openapi.json")' in page
    # offline: no external scripts, styles, fonts or images
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
    assert "@import" not in page and "url(" not in page


# --- the statuses the document lists are exactly the ones the server answers ----------------------
# One server with an admin token (so admin routes answer 401 too) and a small body limit (413). For
# every operation: a valid request (2XX), then one request per listed status built from the route's
# own auth, body, query and path; and a battery of bad requests whose every answer must be listed.
from typing import Callable  # noqa: E402

import pytest  # noqa: E402

from conftest import DOCS_BASIC, DOCS_LOGIN  # noqa: E402
from sandbox.web.routes import Route  # noqa: E402

ADMIN = "adm1n-token"
LIMIT = 256 * 1024  # the state document of the default fixtures fits
ALLOCATE = {"enkashCardId": "EKCDM5AVZY", "transactionType": "CR", "type": "ALLOCATE_POINT", "loadAmount": 1}
ACCOUNT = {"companyId": "CEK1PU9AOO", "cardAccountId": "CAQL8YCV3"}
BULK_QUERY = {**ACCOUNT, "isPointsAllocation": "true"}
BULK_ROW = {"title": "Mr", "name": "Oas Row", "email": "oas.row@example.com", "mobile": "6836119999", "loadAmount": 1}
COINS = {"companyId": "CEK0TCW2W8", "event": "REFERRAL_EVENT", "requestId": "OAS-1", "userId": "EKQZVMQK"}
# operation -> a valid request: path parameters, query, body (JSON unless bytes), and what makes it a 404
CART_ITEMS = {"productCatalogId": "PC235129857G58ZX", "items": {"PCN233451126S5CZC": {"quantity": 1}}}
ORDER = {"denomination": 100, "orderReferenceId": "OAS-ORDER-1", "productCatalogId": "PC7324536190LULHL", "quantity": 1,
         "ekUserId": "EKQ3M7DA"}
VALID: dict[str, dict] = {
    "oauth-token": {"form": DOCS_LOGIN},
    "sso-token": {"body": {**ACCOUNT, "enkashCardId": "EKCDM5AVZY"}, "missing": {"companyId": "CEKNOPE000"}},
    "create-allocate-points": {"body": ALLOCATE, "missing": {"enkashCardId": "EKCNOPE000"}},
    "bulk-create-allocate-points": {"query": BULK_QUERY, "body": [BULK_ROW], "missing_query": {"companyId": "CEKNOPE000"}},
    "card-account-get": {"body": ACCOUNT, "missing": {"companyId": "CEKNOPE000"}},
    "search": {"body": ACCOUNT, "missing": {"companyId": "CEKNOPE000"}},
    "transaction-all": {"body": ACCOUNT, "missing": {"companyId": "CEKNOPE000"}},
    "coins-create-config": {"body": {"configuration": "DEFAULT", "companyId": "CEK0TCW2W8", "event": "OAS_EVENT", "amount": 5},
                            "missing": {"companyId": "CEKNOPE000"}},
    "coins-allocate": {"body": COINS, "missing": {"userId": "EKNOPE00"}},
    "coins-config-get": {"params": {"coinConfigId": "WCC12345"}},
    "coins-config-update": {"params": {"coinConfigId": "WCC12345"}, "body": {"amount": 11}},
    "coins-balance": {"query": {"userId": "EKQZVMQK"}, "missing_query": {"userId": "EKNOPE00"}},
    "sandbox-health": {}, "sandbox-reset": {}, "sandbox-clock-get": {}, "sandbox-clock-set": {"body": {"advance": "1s"}},
    "sandbox-account-load": {"params": {"cardAccountId": "CAQL8YCV3"}, "body": {"amount": 5}},
    "sandbox-card-redeem": {"params": {"enKashCardId": "EKCDM5AVZY"}, "body": {"amount": 1}},
    "sandbox-faults-list": {}, "sandbox-faults-create": {"body": {"fault": "status=503", "path": "/nowhere"}},
    "sandbox-faults-clear": {}, "sandbox-faults-delete": {"params": {"ruleId": "F1"}, "arm": True},
    "sandbox-scenarios-list": {}, "sandbox-scenarios-load": {"params": {"name": "rate-limit"}},
    "sandbox-fixtures-load": {"raw": b"partners: [{partnerId: CRMOAS001}]"}, "sandbox-fixtures-forget": {},
    "sandbox-state-get": {}, "sandbox-state-put": {"state": True},
    "sandbox-journal": {}, "sandbox-journal-count": {}, "sandbox-journal-clear": {},
    "sandbox-openapi": {}, "sandbox-docs": {},
    "sandbox-coins-get": {"params": {"userId": "EKQZVMQK"}},
    "sandbox-coins-spend": {"params": {"userId": "EKQZVMQK"}, "body": {"coins": 1}, "coins": True},
    "sandbox-coins-settings-get": {"params": {"companyId": "CEK0TCW2W8"}},
    "sandbox-coins-settings-set": {"params": {"companyId": "CEK0TCW2W8"}, "body": {"coinToCurrencyRatio": 2}},
    # redemption (the marketplace): the docs partner acts for its user EKQ3M7DA, whose card holds 500 points
    "cart-get": {"query": {"product": "VOUCHER", "ekUserId": "EKQ3M7DA"}, "missing_query": {"ekUserId": "EKNOPE00"}},
    "cart-add": {"query": {"product": "VOUCHER"}, "body": {**CART_ITEMS, "ekUserId": "EKQ3M7DA"},
                 "missing": {"productCatalogId": "PC0000000000NONE"}},
    "cart-update": {"query": {"product": "VOUCHER"}, "body": {**CART_ITEMS, "cartId": 2191}, "missing": {"cartId": 9999}},
    "catalog-search": {"query": {"product": "VOUCHER"}, "body": {}},
    "product-details": {"params": {"productCatalogId": "PC235129857G58ZX"}},
    "product-configs": {"params": {"productCatalogId": "PC235129857G58ZX"}},
    "create-order": {"body": ORDER, "missing": {"productCatalogId": "PC0000000000NONE"}},
    "search-order": {"query": {"limit": "10", "offset": "0"}, "body": {"ekUserId": "EKQ3M7DA"}, "missing": {"ekUserId": "EKNOPE00"}},
    "order-details": {"body": {"orderId": "OAS-ORDER-1"}, "params": {"orderReferenceId": "OAS-ORDER-1"},
                      "missing": {"orderId": "OR0000000NOPE"}, "order": ORDER},
    "sandbox-order-complete": {"body": {"orderStatus": "SUCCESS"}, "order": {**ORDER, "productCatalogId": "PC900000000PENDG"}},
}


@pytest.fixture(scope="module")
def status_server():
    small = {"max_body_bytes": LIMIT, "max_call_bytes": LIMIT, "max_state_bytes": LIMIT}  # PUT /__sandbox/state has a limit of its own
    with ServerThread(Settings(admin_token=ADMIN, validate_responses=True, seed=7, **small)) as running:
        with httpx.Client(base_url=running.url, timeout=30) as client:
            yield client, openapi.build(ROUTES, running.state.settings, running.state.schemas)


class Probe:
    """Builds requests for one route from its recipe, with a fresh state for each."""

    def __init__(self, http: httpx.Client, route: Route) -> None:
        assert route.operation in VALID, f"no recipe for {route.operation}: add one to VALID in tests/test_openapi.py"
        self.http, self.route, self.recipe = http, route, VALID[route.operation]
        admin = {"Authorization": f"Bearer {ADMIN}"}
        assert http.post("/__sandbox/reset", headers=admin).status_code == 200
        if self.recipe.get("arm"):
            assert http.post("/__sandbox/faults", json={"fault": "status=503", "path": "/nowhere"}, headers=admin).status_code == 201
        token = http.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data=DOCS_LOGIN).json()["access_token"]
        if self.recipe.get("coins"):
            earned = http.post("/api/v0/enkash-coins/allocate-coin", json=COINS, headers={"Authorization": f"Bearer {token}"})
            assert earned.json()["response_code"] == 0, earned.text
        self.auth: dict[str, str] = {}
        if self.recipe.get("order"):
            placed = http.post("/api/v0/partner/create-order", json=self.recipe["order"], headers={"Authorization": f"Bearer {token}"})
            assert placed.json()["response_code"] == 0, placed.text
            if route.operation == "sandbox-order-complete":
                self.recipe = {**self.recipe, "params": {"orderId": placed.json()["payload"]["orderId"]}}
        if route.auth == "admin":
            self.auth = admin
        elif route.auth == "basic":
            self.auth = {"Authorization": DOCS_BASIC}
        elif route.auth in ("partner", "bearer", "user"):
            self.auth = {"Authorization": f"Bearer {token}", **({"partnerId": "CRMXWB3ZM"} if route.auth == "partner" else {})}

    def send(self, *, drop=(), headers=None, params=None, query=None, body=None, content=None, ctype=None) -> int:
        recipe, route = self.recipe, self.route
        path = route.path
        for name, value in {**recipe.get("params", {}), **(params or {})}.items():
            path = path.replace("{" + name + "}", value).replace("{" + name + ":path}", value)
        sent = {k: v for k, v in {**self.auth, **(headers or {})}.items() if k not in drop}
        if content is None and body is None and route.body != "none":
            if route.body == "form":
                content, ctype = httpx.QueryParams(recipe["form"]).__str__().encode(), "application/x-www-form-urlencoded"
            elif route.body == "raw":
                content, ctype = recipe["raw"], "application/yaml"
            elif recipe.get("state"):
                content = self.http.get("/__sandbox/state", headers={"Authorization": f"Bearer {ADMIN}"}).content
                ctype = "application/json"
            else:
                body = recipe["body"]
        if body is not None:
            content, ctype = json.dumps(body).encode(), ctype or "application/json"
        if ctype:
            sent["Content-Type"] = ctype
        return self.http.request(route.method, path, params=query if query is not None else recipe.get("query"),
                                 content=content, headers=sent).status_code

    def wrong_type(self) -> bytes:
        schema = Schemas().get(self.route.operation + ".request") if Schemas().has(self.route.operation + ".request") else {}
        return b"{}" if schema.get("type") == "array" else b'"not an object"'


def producers(probe: Probe) -> dict[str, Callable[[], int]]:
    """How each status the document may list is produced for this route (404 where it names a record)."""
    route, recipe = probe.route, probe.recipe
    query_name = route.operation + ".query"
    bad_query = {name: "!" * 70 for name in (Schemas().get(query_name)["properties"] if Schemas().has(query_name) else ())}
    bad_body = {
        "json": lambda: probe.send(content=probe.wrong_type(), ctype="application/json"),
        "form": lambda: probe.send(content=str(httpx.QueryParams({**recipe.get("form", {}), "username": "u" * 300})).encode(),
                                   ctype="application/x-www-form-urlencoded"),
        "raw": lambda: probe.send(content=b"partners: 5", ctype="application/yaml"),
        "none": lambda: probe.send(query=bad_query),
    }[route.body]
    malformed = {
        "json": lambda: probe.send(content=b"{", ctype="application/json"),
        "form": lambda: probe.send(content=b"", ctype="application/x-www-form-urlencoded"),
        "raw": lambda: probe.send(content=b"partners: [", ctype="application/yaml"),
        "none": lambda: probe.send(query={}),
    }[route.body]
    made: dict[str, Callable[[], int]] = {
        "2XX": probe.send,
        "200": probe.send,
        "400": (lambda: probe.send(drop=("partnerId",))) if route.auth == "partner" else malformed,
        "401": (lambda: probe.send(headers={"Authorization": "Basic Og=="})) if route.auth == "basic" else
               (lambda: probe.send(drop=("Authorization",))),
        "403": lambda: probe.send(headers={"partnerId": "CRMTTTMUF"}),
        "413": lambda: probe.send(content=b"[" + b" " * LIMIT + b"]", ctype="application/json"),  # read before auth
        "415": lambda: probe.send(content=b"{}", ctype="text/plain"),
        "422": bad_body,
        "429": lambda: probe.send(headers={"X-Sandbox-Fault": "status=429"}),
        "5XX": lambda: probe.send(headers={"X-Sandbox-Fault": "status=503"}),
    }
    if recipe.get("params") and "{" in route.path:
        made["404"] = lambda: probe.send(params={k: "NOPE0000" for k in recipe["params"]})
    elif "missing_query" in recipe:
        made["404"] = lambda: probe.send(query={**recipe["query"], **recipe["missing_query"]})
    elif "missing" in recipe:
        made["404"] = lambda: probe.send(body={**recipe["body"], **recipe["missing"]})
    return made


def battery(probe: Probe) -> list[int]:
    """Bad and odd requests of every kind, whatever the route takes: each answer must be listed."""
    query_name = probe.route.operation + ".query"
    names = list(Schemas().get(query_name).get("properties", {})) if Schemas().has(query_name) else ["limit"]
    answers = [make() for make in producers(probe).values()]
    answers += [
        probe.send(drop=("Authorization", "partnerId")),
        probe.send(headers={"Authorization": "Bearer not-a-token"}),
        probe.send(content=b"{", ctype="application/json"),
        probe.send(content=b"", ctype="application/json"),
        probe.send(content=b"[1, 2]", ctype="application/json"),
        probe.send(content=b"a=b", ctype="application/x-www-form-urlencoded"),
        probe.send(content=b"x" * (LIMIT + 1), ctype="application/octet-stream"),
        probe.send(query={name: "0" for name in names}),
        probe.send(query={name: "" for name in names}),
        probe.send(query={"limit": "1001", "offset": "-1"}),
        probe.send(params={name: "x" * 300 for name in probe.recipe.get("params", {})}),
    ]
    return answers


def listed(doc: dict, route: Route) -> set[str]:
    return set(operation_of(doc, route.method, route.path)["responses"])


def matches(status: int, keys: set[str]) -> bool:
    return str(status) in keys or f"{str(status)[0]}XX" in keys


@pytest.mark.parametrize("route", [r for r in ROUTES if r.envelope != "html"], ids=lambda r: f"{r.method} {r.path}")  # pages are no API
def test_every_listed_status_is_produced_and_nothing_else_comes_back(status_server, route):
    http, doc = status_server
    keys = listed(doc, route)
    assert keys <= set(producers(Probe(http, route))), f"{route.operation} lists a status no recipe here produces"
    produced = {key: producers(Probe(http, route))[key]() for key in sorted(keys)}  # each from a fresh state
    assert {key: matches(status, {key}) for key, status in produced.items()} == {key: True for key in keys}, produced
    unlisted = [status for status in battery(Probe(http, route)) if not matches(status, keys)]
    assert unlisted == [], f"{route.operation} answered {unlisted}, which its document does not list ({sorted(keys)})"


def test_no_operation_lists_409_or_a_paging_limit_the_server_refuses(status_server):
    _, doc = status_server
    assert not [op["operationId"] for item in doc["paths"].values() for op in item.values() if "409" in op["responses"]]
    search = operation_of(doc, "POST", "/api/v0/partner/enKashCard/search")
    limit = next(p for p in search["parameters"] if p["name"] == "limit")["schema"]
    pattern = re.compile(limit["pattern"])
    assert [n for n in ("0", "1", "999", "1000", "1001", "9999", "0100") if pattern.search(n)] == ["1", "999", "1000"]
