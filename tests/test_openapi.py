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
    assert sorted(documented) == sorted((r.method, re.sub(r"{([^}:]+)(:[^}]*)?}", r"{\1}", r.path)) for r in ROUTES)
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
    assert all(p["required"] for p in query.values())

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
    assert set(search["responses"]) >= {"200", "400", "401", "403", "404", "409", "413", "415", "422", "429", "5XX"}
    health = operation_of(doc, "GET", "/__sandbox/health")
    assert set(health["responses"]) == {"2XX", "429", "5XX"}  # the sandbox's own API may answer 201
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
