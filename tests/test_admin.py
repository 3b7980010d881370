"""The sandbox's own API over real HTTP: reset, fixtures at run time, the admin token, request
ids and the request log lines."""

from __future__ import annotations

import json
from typing import Iterator

import httpx
import pytest
from conftest import DOCS_ACCOUNT, DOCS_BASIC, DOCS_COMPANY, DOCS_LOGIN, DOCS_PARTNER, Partner, new_user
from sandbox_process import SandboxProcess

from sandbox.web.routes import ROUTES
from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread

EXTRA_FIXTURES = """
partners:
  - partnerId: CRMEXTRA01
    name: Loaded At Run Time
    clients:
      - clientId: CEKEXTRA01
        clientSecret: extra-secret
        logins:
          - {username: "9000011111", password: "Extra@12345"}
    companies:
      - companyId: CEKEXTRA1
        accounts:
          - cardAccountId: CAEXTRA1
            availableBalance: 5000
            primaryCard: {enKashCardId: EKCEXTRA01, userId: EKEXTRA1}
"""
EXTRA_BASIC = "Basic " + __import__("base64").b64encode(b"CEKEXTRA01:extra-secret").decode()
EXTRA_LOGIN = {"username": "9000011111", "password": "Extra@12345", "grant_type": "password", "clientId": "CEKEXTRA01"}
YAML = {"Content-Type": "application/yaml"}


def state_at_rest(http: httpx.Client) -> dict[str, object]:
    """The state document without the running clock's reading."""
    doc = http.get("/__sandbox/state").json()
    del doc["clock"]
    return doc  # type: ignore[no-any-return]


# --- reset -------------------------------------------------------------------------------------
def test_reset_restores_fixtures_and_reports_seed(http, docs_partner):
    assert docs_partner.allocate(**new_user()).json()["code"] == 0
    assert http.get("/__sandbox/health").json()["state"]["users"] == 8  # the 7 of the fixtures (with the marketplace user EK8IHN4B) + 1
    response = http.post("/__sandbox/reset")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["seed"]) == ("reset", 7)
    state = body["state"]  # other modules may add counters; these must hold
    assert (state["partners"], state["companies"], state["accounts"], state["users"], state["cards"]) == (2, 5, 9, 7, 5)  # with the marketplace user EK8IHN4B, its account CA8IHN4BR and card EKC8IHN4B7


def test_reset_with_a_new_seed_changes_generated_ids_reproducibly(http, docs_partner):
    def first_new_card(seed: int) -> str:
        assert http.post("/__sandbox/reset", params={"seed": seed}).json()["seed"] == seed
        partner = Partner(http, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
        return partner.allocate(**new_user()).json()["payload"]["enKashCardId"]

    assert first_new_card(11) == first_new_card(11)
    assert first_new_card(12) != first_new_card(11)


def test_reset_rejects_a_seed_that_is_not_an_integer(http):
    response = http.post("/__sandbox/reset", params={"seed": "abc"})
    assert response.status_code == 422
    assert response.json()["response_message"] in ("seed has an invalid format", "seed must be an integer")


# --- fixtures at run time ------------------------------------------------------------------
@pytest.fixture(autouse=True)
def forget_loaded_fixtures(http: httpx.Client) -> Iterator[None]:
    """The session's server is shared: documents loaded here must not outlive the test."""
    yield
    assert http.delete("/__sandbox/fixtures").status_code == 200


def test_forgetting_loaded_fixtures_resets_to_the_startup_ones(http):
    assert http.post("/__sandbox/fixtures", content=EXTRA_FIXTURES, headers=YAML).status_code == 200
    response = http.delete("/__sandbox/fixtures")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["dropped"], body["state"]["partners"]) == ("reset", 1, 2)
    assert http.post("/__sandbox/reset").json()["state"]["partners"] == 2


def test_fixtures_load_yaml_adds_a_working_partner_that_survives_reset(http):
    response = http.post("/__sandbox/fixtures", content=EXTRA_FIXTURES, headers=YAML)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "loaded"
    assert (body["added"]["partners"], body["added"]["companies"], body["added"]["accounts"]) == (1, 1, 1)
    assert body["fixtureDocuments"] == 2

    def balance() -> object:
        partner = Partner(http, EXTRA_BASIC, EXTRA_LOGIN, "CRMEXTRA01")
        return partner.account("CEKEXTRA1", "CAEXTRA1")["availableBalance"]

    assert balance() == 5000
    http.post("/__sandbox/reset")
    assert balance() == 5000  # reset rebuilds from every loaded document


def test_fixtures_load_json_body(http):
    doc = {"partners": [{"partnerId": "CRMJSON01", "name": "From JSON"}]}
    response = http.post("/__sandbox/fixtures", json=doc)
    assert response.status_code == 200, response.text
    assert response.json()["added"]["partners"] == 1


def test_fixtures_with_a_clashing_id_are_rejected_whole_naming_the_entry(http):
    before = state_at_rest(http)
    clashing = EXTRA_FIXTURES + """
  - partnerId: CRMSECOND
    companies:
      - companyId: CEK1PU9AOO
"""
    response = http.post("/__sandbox/fixtures", content=clashing, headers=YAML)
    assert response.status_code == 422
    message = "Fixtures rejected at partners[1].companies[0]: companyId CEK1PU9AOO is defined twice"
    assert response.json() == {"response_code": 1, "response_message": message, "payload": message}
    assert state_at_rest(http) == before  # nothing of the first partner was added


def test_fixtures_with_a_bad_shape_are_422_with_the_path(http):
    response = http.post("/__sandbox/fixtures", content="partners:\n  - name: no id\n", headers=YAML)
    assert response.status_code == 422
    assert response.json()["response_message"] == "Fixtures rejected at partners[0]: 'partnerId' is a required property"


@pytest.mark.parametrize("body, reason", [
    ("partners: [unclosed", "while parsing a flow sequence"),
    ("", "the body holds no fixtures"),
])
def test_unreadable_fixtures_are_400(http, body, reason):
    response = http.post("/__sandbox/fixtures", content=body, headers=YAML)
    assert response.status_code == 400
    assert response.json()["response_message"].startswith("Fixtures are not valid YAML or JSON: " + reason)


def test_fixtures_clashing_with_state_created_at_run_time_are_rejected(http, docs_partner):
    card = docs_partner.allocate(**new_user()).json()["payload"]["enKashCardId"]
    doc = {"partners": [{"partnerId": "CRMNEW", "companies": [{"companyId": "CEKNEW", "accounts": [
        {"cardAccountId": "CANEW", "cards": [{"enKashCardId": card, "mobile": "9111111111"}]}]}]}]}
    response = http.post("/__sandbox/fixtures", json=doc)
    assert response.status_code == 422
    assert response.json()["response_message"] == (
        f"Fixtures rejected at partners[0].companies[0].accounts[0].cards[0]: enKashCardId {card} is defined twice"
    )
    assert "CRMNEW" not in http.get("/__sandbox/state").text


# --- admin token ---------------------------------------------------------------------------------
ADMIN = [r for r in ROUTES if r.path.startswith("/__sandbox/") and r.auth == "admin"]
DOCUMENTATION_READS = {"sandbox-openapi", "sandbox-docs"}  # reveal no state, change nothing


INSPECTOR_OPEN = {"sandbox-ui-login", "sandbox-ui-login-submit", "sandbox-ui-logout", "sandbox-ui-static"}  # no state in them


def test_every_sandbox_route_but_health_and_docs_needs_the_admin_token():
    # "ui" routes take the token as a cookie too; tests/test_inspector.py checks every one of them
    open_routes = {r.operation for r in ROUTES if r.path.startswith("/__sandbox/") and r.auth not in ("admin", "ui")}
    assert open_routes <= {"sandbox-health"} | DOCUMENTATION_READS | INSPECTOR_OPEN


@pytest.fixture(scope="module")
def guarded() -> Iterator[ServerThread]:
    with ServerThread(Settings(admin_token="team-s3cret", seed=7)) as running:
        yield running


def _url(route_path: str) -> str:
    return route_path.replace("{cardAccountId}", DOCS_ACCOUNT).replace("{enKashCardId}", "EKCDM5AVZY") \
        .replace("{userId}", "EKQ3M7DA").replace("{companyId}", DOCS_COMPANY)


@pytest.mark.parametrize("route", ADMIN, ids=lambda r: f"{r.method} {r.path}")
def test_admin_token_guards_every_admin_route(guarded, route):
    with httpx.Client(base_url=guarded.url) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "team-s3cret-not"}):
            response = client.request(route.method, _url(route.path), headers=headers)
            assert response.status_code == 401, (headers, response.text)
            assert response.json()["response_message"] in (
                "This sandbox needs its admin token for /__sandbox/ calls", "Invalid access token"
            )
        allowed = client.request(route.method, _url(route.path), headers={"Authorization": "Bearer team-s3cret"})
        assert allowed.status_code != 401, allowed.text


def test_admin_token_lets_reset_through_and_health_needs_none(guarded):
    with httpx.Client(base_url=guarded.url) as client:
        assert client.get("/__sandbox/health").status_code == 200
        denied = client.post("/__sandbox/reset")
        assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
        assert client.post("/__sandbox/reset", headers={"Authorization": "Bearer team-s3cret"}).json()["status"] == "reset"
        assert client.post("/__sandbox/reset", headers={"Authorization": "team-s3cret"}).status_code == 200


# --- request ids and log lines -------------------------------------------------------------------
def test_every_response_carries_a_request_id_and_an_incoming_one_is_kept(http):
    first = http.get("/__sandbox/health").headers["x-request-id"]
    second = http.get("/api/nowhere").headers["x-request-id"]
    assert first.startswith("req-") and second.startswith("req-")
    assert int(second.removeprefix("req-")) == int(first.removeprefix("req-")) + 1
    assert http.get("/__sandbox/health", headers={"X-Request-Id": "ci-job-42.7"}).headers["x-request-id"] == "ci-job-42.7"
    assert http.get("/__sandbox/health", headers={"X-Request-Id": "bad id\twith spaces"}).headers["x-request-id"].startswith("req-")


def _exercise(url: str) -> None:
    with httpx.Client(base_url=url) as client:
        partner = Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
        assert partner.allocate(**new_user()).json()["code"] == 0
        client.get("/__sandbox/health")
        client.post("/oauth/token", headers={"X-Request-Id": "mine-1"})


def test_json_logs_one_line_per_request_with_its_id():
    with SandboxProcess("--log-format", "json") as sandbox:
        _exercise(sandbox.url)
        code, lines = sandbox.stop()
    assert code in (0, -15)  # uvicorn re-raises SIGTERM once it has shut down gracefully
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert [(r["method"], r["path"], r["status"]) for r in records] == [
        ("POST", "/oauth/token", 200),
        ("POST", "/api/v0/partner/enKashCard/create-allocate-points", 200),
        ("POST", "/oauth/token", 401),  # health is logged at debug only
    ]
    allocation = records[1]
    assert allocation["partnerId"] == DOCS_PARTNER and allocation["level"] == "info"
    assert allocation["requestId"].startswith("req-") and allocation["latencyMs"] > 0
    assert records[2]["requestId"] == "mine-1"


def test_text_logs_are_the_default():
    with SandboxProcess() as sandbox:
        _exercise(sandbox.url)
        code, lines = sandbox.stop()
    assert code in (0, -15)
    requests = [line for line in lines if " INFO [" in line]
    assert len(requests) == 3
    assert requests[1].endswith(f"partnerId={DOCS_PARTNER}") and " POST /api/v0/partner/enKashCard/create-allocate-points 200 " in requests[1]
    assert requests[2].split(" ")[2] == "[mine-1]"
