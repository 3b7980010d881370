"""POST /oauth/token and bearer/partner authentication, over real HTTP."""

from __future__ import annotations

import base64

import pytest
from conftest import DOCS_BASIC, DOCS_LOGIN, OTHER_BASIC, OTHER_LOGIN, PARTNER_PATH

ACCOUNT_GET = PARTNER_PATH + "/cardAccount/get"
ACCOUNT_BODY = {"companyId": "CEK1PU9AOO", "cardAccountId": "CAQL8YCV3"}


def token(http, basic=DOCS_BASIC, **form):
    return http.post("/oauth/token", headers={"Authorization": basic}, data={**DOCS_LOGIN, **form})


def test_token_response_is_plain_oauth_json(http):
    response = token(http)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86399
    assert body["scope"] == "read write trust"
    assert len(body["access_token"]) == 27 and len(body["refresh_token"]) == 27
    assert response.headers["cache-control"] == "no-store"


def test_a_second_call_returns_the_still_valid_token(http, server):
    http.post("/__sandbox/clock", json={"frozen": True})
    first = token(http).json()
    http.post("/__sandbox/clock", json={"advance": 100})
    second = token(http).json()
    assert second["access_token"] == first["access_token"]
    assert second["expires_in"] == 86399 - 100


@pytest.mark.parametrize(
    ("basic", "form", "status", "error", "description"),
    [
        ("Basic " + base64.b64encode(b"CEK1GZBO6A:wrong").decode(), {}, 401, "invalid_client", "Bad client credentials"),
        ("Basic " + base64.b64encode(b"NOBODY:x").decode(), {}, 401, "invalid_client", "Bad client credentials"),
        ("Bearer abc", {}, 401, "invalid_client", "Client authentication (HTTP Basic) is required"),
        ("Basic !!!", {}, 401, "invalid_client", "Malformed HTTP Basic credentials"),
        (DOCS_BASIC, {"grant_type": "client_credentials"}, 400, "unsupported_grant_type", "Unsupported grant type: client_credentials"),
        (DOCS_BASIC, {"clientId": "CEK7Q2B9XD"}, 401, "invalid_client", "clientId does not match the client credentials"),
        (DOCS_BASIC, {"password": "nope"}, 400, "invalid_grant", "Bad credentials"),
        (DOCS_BASIC, {"username": "0000000000"}, 400, "invalid_grant", "Bad credentials"),
    ],
)
def test_token_errors(http, basic, form, status, error, description):
    response = token(http, basic, **form)
    assert response.status_code == status
    assert response.json() == {"error": error, "error_description": description}


def test_missing_form_field_is_a_400(http):
    response = http.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data={"username": "9167019711", "grant_type": "password"})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": "password is required"}
    response = http.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data={"username": "9167019711"})
    assert response.json() == {"error": "invalid_request", "error_description": "grant_type is required"}


def test_token_call_needs_a_form_body(http):
    response = http.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, json=DOCS_LOGIN)
    assert response.status_code == 415
    assert response.json() == {"error": "invalid_request", "error_description": "Content-Type must be application/x-www-form-urlencoded"}


def test_three_consecutive_failures_lock_the_user(http):
    assert token(http, password="bad1").json()["error_description"] == "Bad credentials"
    assert token(http, password="bad2").json()["error_description"] == "Bad credentials"
    # Spring's order: the third failure is still "Bad credentials"; the lock is reported from the next attempt
    assert token(http, password="bad3").json()["error_description"] == "Bad credentials"
    locked = token(http, password="bad4")
    assert locked.status_code == 400
    assert locked.json() == {"error": "invalid_grant", "error_description": "User account is locked"}
    # even the right password is refused now, until reset
    assert token(http).json()["error_description"] == "User account is locked"
    # the other partner's user is unaffected
    assert token(http, OTHER_BASIC, **OTHER_LOGIN).status_code == 200


def test_a_success_clears_the_failure_count(http):
    token(http, password="bad1")
    token(http, password="bad2")
    assert token(http).status_code == 200
    token(http, password="bad3")
    assert token(http, password="bad4").json()["error_description"] == "Bad credentials"


def bearer(http, value, partner="CRMXWB3ZM", header="Authorization"):
    return http.post(ACCOUNT_GET, json=ACCOUNT_BODY, headers={header: value, "partnerId": partner})


def test_bearer_header_name_is_case_insensitive_and_bare_token_accepted(http):
    access = token(http).json()["access_token"]
    for header, value in [("Authorization", f"Bearer {access}"), ("authorization", f"bearer {access}"), ("AUTHORIZATION", access)]:
        response = bearer(http, value, header=header)
        assert response.status_code == 200, (header, value)
        assert response.json()["response_code"] == 0


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({}, 401, "Full authentication is required to access this resource"),
        ({"Authorization": "Bearer not-a-token"}, 401, "Invalid access token"),
        ({"Authorization": "Basic abc"}, 401, "Invalid access token"),
    ],
)
def test_resource_calls_need_a_valid_bearer(http, headers, status, message):
    response = http.post(ACCOUNT_GET, json=ACCOUNT_BODY, headers={**headers, "partnerId": "CRMXWB3ZM"})
    assert response.status_code == status
    assert response.json() == {"response_code": 1, "response_message": message, "payload": message}
    assert response.headers["www-authenticate"] == "Bearer"


def test_partner_header_is_required_and_must_match_the_token(http):
    access = token(http).json()["access_token"]
    missing = http.post(ACCOUNT_GET, json=ACCOUNT_BODY, headers={"Authorization": f"Bearer {access}"})
    assert missing.status_code == 400
    assert missing.json()["response_message"] == "partnerId header is required"
    wrong = bearer(http, f"Bearer {access}", partner="CRMTTTMUF")
    assert wrong.status_code == 403
    assert wrong.json()["response_message"] == "partnerId does not match the access token"


def test_token_expires_on_the_sandbox_clock(http):
    http.post("/__sandbox/clock", json={"frozen": True})
    access = token(http).json()["access_token"]
    assert bearer(http, f"Bearer {access}").status_code == 200
    assert http.post("/__sandbox/clock", json={"advance": 86398}).status_code == 200
    assert bearer(http, f"Bearer {access}").status_code == 200
    http.post("/__sandbox/clock", json={"advance": "1s"})
    expired = bearer(http, f"Bearer {access}")
    assert expired.status_code == 401
    assert expired.json()["response_message"] == "Access token expired"
    fresh = token(http).json()
    assert fresh["access_token"] != access and fresh["expires_in"] == 86399
    assert bearer(http, f"Bearer {fresh['access_token']}").status_code == 200


def test_tokens_do_not_survive_a_reset(http):
    access = token(http).json()["access_token"]
    http.post("/__sandbox/reset")
    assert bearer(http, f"Bearer {access}").json()["response_message"] == "Invalid access token"
