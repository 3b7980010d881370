"""Fault rules armed through /__sandbox/faults: the admin API, what a rule matches, when it fires
(probability, nth, first N, every Nth, at most K, time window), rate limiting, and seeded replay."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conftest import DOCS_ACCOUNT, DOCS_BASIC, DOCS_COMPANY, DOCS_LOGIN, DOCS_PARTNER, OTHER_PARTNER, PARTNER_PATH, Partner
from test_faults import ACCOUNT_BODY, ALLOCATE, START_BALANCE, allocation, failure_b, raw_exchange, state_counts

OTHER_BODY = {"companyId": "CEKBVCGMR1", "cardAccountId": "CA1ZS96"}


def arm(http: httpx.Client, **rule: Any) -> dict[str, Any]:
    response = http.post("/__sandbox/faults", json=rule)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def statuses(partner: Any, count: int, path: str = "/cardAccount/get", body: Any = None) -> list[int]:
    return [partner.post(path, body or ACCOUNT_BODY).status_code for _ in range(count)]


# --- the admin API ------------------------------------------------------------------------------
def test_create_list_delete_and_clear(http):
    first = arm(http, fault="status=503", endpoint="card-account-get", first=2, name="two 503s")
    assert first == {"id": "F1", "fault": "status=503", "name": "two 503s", "endpoint": "card-account-get", "first": 2,
                     "calls": 0, "fired": 0}
    second = arm(http, fault="latency=10ms", path="/api/v0/*")
    assert second["id"] == "F2"
    listed = http.get("/__sandbox/faults").json()
    assert [r["id"] for r in listed["rules"]] == ["F1", "F2"]
    assert (listed["fired"], listed["scenario"], listed["recent"]) == (0, None, [])

    deleted = http.delete("/__sandbox/faults/F1")
    assert deleted.status_code == 200 and deleted.json()["id"] == "F1"
    missing = http.delete("/__sandbox/faults/F1")
    assert missing.status_code == 404
    assert missing.json() == failure_b("No fault rule with id F1")
    assert http.delete("/__sandbox/faults").json() == {"cleared": 1}
    assert http.get("/__sandbox/faults").json()["rules"] == []


@pytest.mark.parametrize(("rule", "status", "message"), [
    ({}, 400, "fault is required"),
    ({"fault": "status=503", "probability": 1.5}, 422, "probability must be at most 1"),
    ({"fault": "status=503", "probability": 0}, 422, "probability must be greater than 0"),
    ({"fault": "status=503", "nth": 0}, 422, "nth must be at least 1"),
    ({"fault": "status=503", "colour": "red"}, 422, "body Additional properties are not allowed ('colour' was unexpected)"),
    ({"fault": "status=503", "path": "api"}, 422, "path has an invalid format"),
    ({"fault": "status=999"}, 400, "fault: status: status must be one of 400, 401, 403, 404, 422, 429, 500, 502, 503, 504"),
    ({"fault": "status=503", "from": "yesterday"}, 400, "fault from: is not an ISO-8601 date-time"),
])
def test_a_bad_rule_is_refused_with_the_reason_and_nothing_is_armed(http, rule, status, message):
    response = http.post("/__sandbox/faults", json=rule)
    assert response.status_code == status
    assert response.json() == failure_b(message)
    assert http.get("/__sandbox/faults").json()["rules"] == []


def test_the_sandboxs_own_api_is_never_faulted(http):
    arm(http, fault="status=503", path="/*")
    assert http.get("/__sandbox/health").status_code == 200
    assert http.delete("/__sandbox/faults").status_code == 200


def test_reset_disarms_rules_and_zeroes_counts(http, docs_partner):
    arm(http, fault="status=500", endpoint="card-account-get")
    assert statuses(docs_partner, 1) == [500]
    assert http.post("/__sandbox/reset").status_code == 200
    assert http.get("/__sandbox/faults").json() == {"rules": [], "fired": 0, "scenario": None, "recent": []}


# --- matching -------------------------------------------------------------------------------------
@pytest.mark.parametrize("match", [
    {"method": "POST"}, {"endpoint": "card-account-get"}, {"path": PARTNER_PATH + "/cardAccount/*"},
    {"partnerId": DOCS_PARTNER}, {"companyId": DOCS_COMPANY}, {"body": {"cardAccountId": DOCS_ACCOUNT}},
])
def test_a_rule_matches_on_each_of_its_keys(http, docs_partner, match):
    arm(http, fault="status=502", **match)
    assert statuses(docs_partner, 1) == [502]


@pytest.mark.parametrize("match", [
    {"method": "GET"}, {"endpoint": "search"}, {"path": PARTNER_PATH + "/search"},
    {"partnerId": OTHER_PARTNER}, {"companyId": "CEKBVCGMR1"}, {"body": {"cardAccountId": "CAC7975"}},
])
def test_a_rule_leaves_requests_it_does_not_match_alone(http, docs_partner, match):
    rule = arm(http, fault="status=502", **match)
    assert statuses(docs_partner, 1) == [200]
    assert http.get("/__sandbox/faults").json()["rules"][0] == {**rule, "calls": 0}


def test_body_fields_compare_numbers_by_value(http, docs_partner):
    arm(http, fault="status=422", body={"loadAmount": 12.5, "mobile": "9000000077"})
    assert docs_partner.post("/create-allocate-points", allocation(loadAmount=12.50, mobile="9000000077")).status_code == 422
    assert docs_partner.post("/create-allocate-points", allocation(loadAmount=12.51, mobile="9000000077")).status_code == 200


def test_partner_rules_also_match_the_token_call_by_its_client(http, other_partner):
    arm(http, fault="status=503", partnerId=DOCS_PARTNER)
    assert http.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data=DOCS_LOGIN).status_code == 503
    assert other_partner.post("/cardAccount/get", OTHER_BODY).status_code == 200


# --- when a rule fires --------------------------------------------------------------------------
@pytest.mark.parametrize(("trigger", "pattern"), [
    ({"nth": 3}, [200, 200, 500, 200, 200, 200]),
    ({"first": 2}, [500, 500, 200, 200, 200, 200]),
    ({"every": 2}, [200, 500, 200, 500, 200, 500]),
    ({"times": 1}, [500, 200, 200, 200, 200, 200]),
    ({"every": 2, "times": 2}, [200, 500, 200, 500, 200, 200]),
])
def test_counting_triggers(http, docs_partner, trigger, pattern):
    arm(http, fault="status=500", endpoint="card-account-get", **trigger)
    assert statuses(docs_partner, 6) == pattern
    rule = http.get("/__sandbox/faults").json()["rules"][0]
    assert (rule["calls"], rule["fired"]) == (6, pattern.count(500))


def test_counts_are_per_rule_over_matching_calls_only(http, docs_partner):
    arm(http, fault="status=500", endpoint="create-allocate-points", first=1)
    assert statuses(docs_partner, 3) == [200, 200, 200]  # card-account-get does not count
    assert docs_partner.post("/create-allocate-points", allocation()).status_code == 500


def test_the_first_rule_that_fires_wins(http, docs_partner):
    arm(http, fault="status=500", endpoint="card-account-get", first=1)
    arm(http, fault="status=503", endpoint="card-account-get", first=2)
    assert statuses(docs_partner, 3) == [500, 503, 200]  # the second rule counted the first call too


def test_a_time_window_follows_the_sandbox_clock(http, docs_partner):
    http.post("/__sandbox/clock", json={"now": "2025-06-01T10:00:00Z", "frozen": True})
    arm(http, fault="status=503", endpoint="card-account-get", **{"from": "2025-06-01T11:00:00Z", "until": "2025-06-01T12:00:00Z"})
    assert statuses(docs_partner, 1) == [200]
    http.post("/__sandbox/clock", json={"advance": "1h"})
    assert statuses(docs_partner, 1) == [503]
    http.post("/__sandbox/clock", json={"advance": "1h"})
    assert statuses(docs_partner, 1) == [200]


def test_probability_fires_about_that_often(http, docs_partner):
    arm(http, fault="status=503", endpoint="card-account-get", probability=0.3)
    failures = statuses(docs_partner, 100).count(503)
    assert 15 <= failures <= 45


def run_of(http: httpx.Client, seed: int) -> list[int]:
    assert http.post("/__sandbox/reset", params={"seed": seed}).status_code == 200
    partner = Partner(http, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)  # reset forgets tokens
    arm(http, fault="status=503", endpoint="card-account-get", probability=0.5)
    arm(http, fault="status=500", endpoint="card-account-get", probability=0.5)
    return statuses(partner, 24)


def test_the_same_seed_fires_the_same_faults_in_the_same_order(http):
    first, again, other = run_of(http, 11), run_of(http, 11), run_of(http, 12)
    assert first == again
    assert first != other
    assert {200, 500, 503} == set(first)


# --- every kind through a rule ------------------------------------------------------------------
def test_token_faults_on_the_next_n_calls(http, docs_partner):
    arm(http, fault="token=invalid", path=PARTNER_PATH + "/*", times=2)
    assert statuses(docs_partner, 3) == [401, 401, 200]


def test_business_failure_through_a_rule(http, docs_partner):
    arm(http, fault="business; message=Monthly limit reached", endpoint="create-allocate-points")
    response = docs_partner.post("/create-allocate-points", allocation())
    assert (response.status_code, response.json()) == (200, failure_b("Monthly limit reached"))


@pytest.mark.parametrize(("spec", "expected"), [("reset", "reset"), ("empty", b""), ("lost", "reset")])
def test_transport_faults_through_a_rule(server, http, docs_partner, spec, expected):
    arm(http, fault=spec, endpoint="create-allocate-points")
    before = state_counts(http)
    assert raw_exchange(server.port, docs_partner, ALLOCATE, allocation(loadAmount=9), {}) == expected
    balance = docs_partner.account()["availableBalance"]
    if spec == "lost":
        assert balance == START_BALANCE - 9
    else:
        assert (balance, state_counts(http)) == (START_BALANCE, before)


def test_body_reworking_faults_through_a_rule(http, docs_partner):
    arm(http, fault="malformed", endpoint="card-account-get", first=1)
    arm(http, fault="timeout=300ms", endpoint="card-account-get", nth=2)
    broken = docs_partner.post("/cardAccount/get", ACCOUNT_BODY)
    assert broken.status_code == 200 and not broken.content.endswith(b"}")
    assert docs_partner.post("/cardAccount/get", ACCOUNT_BODY).status_code == 504


# --- rate limiting --------------------------------------------------------------------------------
def test_a_real_per_partner_rate_limit(http, docs_partner, other_partner):
    arm(http, fault="ratelimit=0.5; burst=2", path="/api/v0/*")
    assert statuses(docs_partner, 3) == [200, 200, 429]
    limited = docs_partner.post("/cardAccount/get", ACCOUNT_BODY)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json() == failure_b(f"Too many requests: at most 0.5 per second for partnerId {DOCS_PARTNER}")
    assert statuses(other_partner, 2, body=OTHER_BODY) == [200, 200]  # its own bucket
    rule = http.get("/__sandbox/faults").json()["rules"][0]
    assert (rule["calls"], rule["fired"]) == (6, 2)
