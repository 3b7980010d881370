"""Issue #16 (fidelity, second pass) point by point, over HTTP: each test pins one reading of
EnKash's docs (docs/fidelity.md names the page) and, where the docs allow another, the setting
that gives it. Responses are read with the stdlib json (floats), so 11 and 11.0 stay different."""

from __future__ import annotations

import json
from typing import Any, Iterator

import httpx
import pytest
from conftest import (DOCS_ACCOUNT, DOCS_BASIC, DOCS_COMPANY, DOCS_LOGIN, OTHER_ACCOUNT, OTHER_BASIC, OTHER_COMPANY,
                      OTHER_LOGIN, PARTNER_PATH, Partner, new_user)

from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread

ASHA = "EKCDM5AVZY"  # CAQL8YCV3, otbBalance 500, mobile 9876500001
BULK = "/bulk-create-allocate-points-json"
TXN_ACCOUNT, TXN_CARD = "CATXN0001", "EKCTXN0001"  # the fixtures' card with CREATED/FAILED/REVERSED transactions


def body_of(response: httpx.Response) -> Any:
    return json.loads(response.content)


def raw_post(partner: Partner, path: str, text: str, **kwargs: Any) -> httpx.Response:
    """A body sent as written, so a number keeps the scale the client gave it (11.0)."""
    return partner.http.post(PARTNER_PATH + path, content=text, headers={**partner.headers, "Content-Type": "application/json"},
                             **kwargs)


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = body_of(response)
    assert body.get("code", body.get("response_code")) == 0, body
    return body["payload"]


def refused(response: httpx.Response, status: int, message: str, code: int = 1) -> None:
    assert (response.status_code, body_of(response)) == (status, {"response_code": code, "response_message": message, "payload": message})


def bulk(partner: Partner, rows: list[dict[str, Any]], points: str = "true", company: str | None = OTHER_COMPANY,
         account: str = OTHER_ACCOUNT) -> httpx.Response:
    query = {"cardAccountId": account, "isPointsAllocation": points, **({"companyId": company} if company is not None else {})}
    return partner.post(BULK, rows, params=query)


ROW = {"title": "Mr", "name": "Ravi Bulk", "email": "ravi.bulk@example.com", "mobile": "6836100001", "loadAmount": 20}


@pytest.fixture(scope="module")
def other_readings() -> Iterator[ServerThread]:
    """Every alternative reading at once: one server, its own state."""
    settings = Settings(
        validate_responses=True, seed=7, duplicate_reference="refuse", bulk_existing_holders="fail",
        bulk_foreign_account="404", plan_master_bins="200401,652241", lockout_answer="last", refresh_grant=False,
    )
    with ServerThread(settings) as running:
        yield running


@pytest.fixture()
def alt(other_readings: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=other_readings.url, timeout=30) as client:
        assert client.post("/__sandbox/reset").status_code == 200
        yield client


# --- 1. numbers in EnKash's form, whatever the request's scale ------------------------------------
def test_amounts_keep_no_trailing_zeros_in_responses_state_and_journal(http, docs_partner):
    created = ok(raw_post(docs_partner, "/create-allocate-points", json.dumps({
        "companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "transactionCode": "ALLOCATION", "transactionType": "CR",
        "type": "ALLOCATE_POINT", **new_user(loadAmount=0)}).replace('"loadAmount": 0', '"loadAmount": 11.0')))
    assert (created["otbBalance"], type(created["otbBalance"])) == (11, int)
    for amount, reference in (("25.50", "N-1"), ("0.50", "N-2"), ("1E+1", "N-3")):
        text = json.dumps({"enkashCardId": ASHA, "transactionType": "CR", "type": "ALLOCATE_POINT", "loadAmount": 0,
                           "uniqueReferenceNumber": reference}).replace('"loadAmount": 0', f'"loadAmount": {amount}')
        ok(raw_post(docs_partner, "/create-allocate-points", text))
    account = ok(docs_partner.post("/cardAccount/get", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}))
    # 1000000 - 11 - 25.5 - 0.5 - 10: the Decimal sum would be 999953.00
    assert [(account[k], type(account[k])) for k in ("availableBalance", "totalAllocationPoint", "availableCardBalance")] == [
        (999953, int), (47, int), (547, int)]
    history = ok(docs_partner.post("/transaction/all", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT,
                                                        "enKashCardId": ASHA}))["data"]
    assert [(t["principalAmount"], t["balance"]) for t in history] == [(10, 536), (0.5, 526), (25.5, 525.5), (500, 500)]
    assert b'"balance":526,' in docs_partner.post("/transaction/all", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT,
                                                                          "pgReferenceNumber": "N-2"}).content
    decimals = [v for v in _tagged(http.get("/__sandbox/state").json())]
    assert decimals and not [v for v in decimals if "E" in v or ("." in v and v.endswith("0"))], decimals
    answers = [e["response"]["body"] for e in http.get("/__sandbox/journal", params={"path": PARTNER_PATH + "/*"}).json()["requests"]]
    assert answers and not [a for a in answers if "11.0" in json.dumps(a) or "25.50" in json.dumps(a)]


def _tagged(doc: Any) -> Iterator[str]:
    """The state document's {"$decimal": "..."} strings."""
    if isinstance(doc, dict):
        if set(doc) == {"$decimal"}:
            yield doc["$decimal"]
        for value in doc.values():
            yield from _tagged(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from _tagged(value)


def test_a_bulk_row_echoes_its_amount_in_enkash_form(other_partner):
    text = json.dumps([ROW]).replace('"loadAmount": 20', '"loadAmount": 20.00')
    response = other_partner.http.post(PARTNER_PATH + BULK, content=text, params={
        "companyId": OTHER_COMPANY, "cardAccountId": OTHER_ACCOUNT, "isPointsAllocation": "true"},
        headers={**other_partner.headers, "Content-Type": "application/json"})
    row = ok(response)["successBulkEnKashCardCreateDTOs"][0]
    assert [(row[k], type(row[k])) for k in ("loadAmount", "otbBalance", "availableBalance")] == [(20, int), (20, int), (499980, int)]


# --- 3. bulk: the documented 422s, Spring's booleans, existing holders ---------------------------
def test_bulk_without_company_id_is_the_documented_422(other_partner):
    for company in (None, ""):
        refused(bulk(other_partner, [ROW], company=company), 422, "Company Id is required if it is an Enkash User")


def test_bulk_on_another_partners_account_is_the_documented_422_or_the_isolation_404(docs_partner, alt):
    refused(bulk(docs_partner, [ROW]), 422, "Card Account does not exist for this partner")
    # an account that is in no company of that id is the documented 404, for anyone
    refused(bulk(docs_partner, [ROW], company=DOCS_COMPANY, account=OTHER_ACCOUNT), 404,
            f"Card account not found for companyId: {DOCS_COMPANY} and cardAccountId: {OTHER_ACCOUNT}")
    refused(bulk(Partner(alt, DOCS_BASIC, DOCS_LOGIN, "CRMXWB3ZM"), [ROW]), 404,
            f"Card account not found for companyId: {OTHER_COMPANY} and cardAccountId: {OTHER_ACCOUNT}")


def test_bin_type_not_mapped_is_reachable_through_the_fixtures_and_a_setting(other_partner, alt):
    def state() -> dict[str, Any]:
        return {k: v for k, v in other_partner.http.get("/__sandbox/state").json().items() if k != "clock"}

    before = state()
    refused(bulk(other_partner, [ROW], account="CABINUNMP"), 422, "Bin Type is not mapped on PlanMaster")
    assert state() == before

    mapped = bulk(Partner(alt, OTHER_BASIC, OTHER_LOGIN, "CRMTTTMUF"), [{**ROW, "loadAmount": 0}], account="CABINUNMP")
    assert ok(mapped)["successCount"] == 1  # --plan-master-bins 200401,652241 maps its BIN


@pytest.mark.parametrize("flag", ["TRUE", "True", "yes", "ON", "1"])
def test_is_points_allocation_binds_as_spring_binds_a_boolean(other_partner, flag):
    ok(bulk(other_partner, [ROW]))
    again = ok(bulk(other_partner, [ROW], points=flag))["successBulkEnKashCardCreateDTOs"][0]
    assert again["otbBalance"] == 40  # true: the existing holder is credited again


def test_is_points_allocation_false_skips_existing_holders_or_fails_them(other_partner, alt):
    ok(bulk(other_partner, [ROW]))
    skipped = ok(bulk(other_partner, [ROW], points="FALSE"))
    assert (skipped["successCount"], skipped["failedCount"]) == (1, 0)
    row = skipped["successBulkEnKashCardCreateDTOs"][0]
    assert (row["enkashCardTxnId"], row["otbBalance"], row["availableBalance"]) == (None, 20, 499980)
    other = Partner(alt, OTHER_BASIC, OTHER_LOGIN, "CRMTTTMUF")
    ok(bulk(other, [ROW]))
    failed = ok(bulk(other, [ROW], points="false"))
    assert (failed["successCount"], failed["failedCount"]) == (0, 1)
    assert failed["failedBulkEnKashCardCreateDTOs"][0]["failureReason"] == (
        "User already exists; isPointsAllocation is false, so no points were allocated")


# --- 4. what a top-up and a debit need ----------------------------------------------------------
def test_the_guides_minimal_top_up_and_debit_work(docs_partner):
    top_up = ok(docs_partner.post("/create-allocate-points", {
        "enkashCardId": ASHA, "transactionType": "CR", "type": "ALLOCATE_POINT", "loadAmount": 5}))
    assert (top_up["enKashCardId"], top_up["otbBalance"], top_up["pgReferenceNumber"]) == (ASHA, 505, None)
    debit = ok(docs_partner.post("/create-allocate-points", {
        "cardAccountId": DOCS_ACCOUNT, "mobile": "9876500001", "transactionType": "DR", "type": "UNALLOCATE_POINT", "loadAmount": 2}))
    assert (debit["enKashCardId"], debit["otbBalance"]) == (ASHA, 503)


def test_a_missing_parameter_is_a_400_for_a_debit_as_for_a_credit(docs_partner):
    base = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "loadAmount": 1, "uniqueReferenceNumber": "M-1"}
    refused(docs_partner.post("/create-allocate-points", {**base, "transactionType": "DR", "type": "UNALLOCATE_POINT"}),
            400, "enkashCardId or mobile or email is required")
    refused(docs_partner.post("/create-allocate-points", {**base, "transactionType": "CR", "type": "ALLOCATE_POINT"}),
            400, "email is required")
    # named but not found: the 404 of a referenced record
    refused(docs_partner.post("/create-allocate-points", {**base, "transactionType": "DR", "type": "UNALLOCATE_POINT",
                                                          "mobile": "9000000077"}),
            404, f"No card in cardAccountId: {DOCS_ACCOUNT} for the given mobile/email")
    # a new user still needs what api-9796905 marks required
    user = {k: v for k, v in new_user().items() if k != "uniqueReferenceNumber"}
    refused(docs_partner.post("/create-allocate-points", {"cardAccountId": DOCS_ACCOUNT, "transactionType": "CR",
                                                          "type": "ALLOCATE_POINT", **user}), 400, "companyId is required")
    refused(docs_partner.post("/create-allocate-points", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT,
                                                          "transactionType": "CR", "type": "ALLOCATE_POINT", **user}),
            400, "uniqueReferenceNumber or uniqueReferenceNum is required")


# --- 5. usedCreditLimit = -(availableBalance + availableCardBalance) ------------------------------
def test_used_credit_limit_is_derived(http, docs_partner):
    def limits() -> tuple[Any, Any, Any]:
        view = docs_partner.account()
        return view["usedCreditLimit"], view["availableBalance"], view["availableCardBalance"]

    assert limits() == (-1000500, 1000000, 500)
    docs_partner.allocate(**new_user())
    assert limits() == (-1000500, 999900, 600)  # a move inside the account family changes nothing
    assert http.post(f"/__sandbox/cards/{ASHA}/redeem", json={"amount": 15.5}).status_code == 200
    assert limits() == (-1000484.5, 999900, 584.5)


# --- 6. transaction/all: companyName, statuses, the webhook's fields ------------------------------
def test_company_name_filters_and_statuses_exist(docs_partner):
    base = {"companyId": DOCS_COMPANY, "cardAccountId": TXN_ACCOUNT}

    def rows(**filters: Any) -> list[dict[str, Any]]:
        return ok(docs_partner.post("/transaction/all", {**base, **filters}))["data"]

    assert [(r["principalAmount"], r["status"], r["type"]) for r in rows()] == [
        (300, "SUCCESS", "REVERSAL"), (300, "REVERSED", "ALLOCATE_POINT"), (200, "SUCCESS", "REVERSAL"),
        (200, "FAILED", "ALLOCATE_POINT"), (1500, "CREATED", "ALLOCATE_POINT")]
    created = rows(status="CREATED")  # the docs' own example filter value
    assert [(r["pgReferenceNumber"], r["balance"], r["cardTransactionType"]) for r in created] == [("TXN-PENDING-1", 1500, "CR")]
    assert [r["pgReferenceNumber"] for r in rows(status="failed")] == ["TXN-FAILED-1"]
    assert rows(companyName="docs demo") != [] and rows(companyName="Another Company") == []
    assert {k: created[0][k] for k in ("cardKitNumber", "fcyAmount", "fcyCurrency", "txnDetails")} == dict.fromkeys(
        ("cardKitNumber", "fcyAmount", "fcyCurrency", "txnDetails"))
    account = docs_partner.account(account=TXN_ACCOUNT)
    # the pending credit holds its points; the failed and reversed ones gave theirs back (and a failure counts for nothing)
    assert (account["availableBalance"], account["availableCardBalance"], account["totalAllocationPoint"]) == (8500, 1500, 1800)


# --- 7. the token API: Spring's lockout order, the refresh_token grant ----------------------------
def test_the_lock_is_reported_from_the_attempt_after_the_third_failure(http, alt):
    def attempt(client: httpx.Client, password: str) -> str:
        return client.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data={**DOCS_LOGIN, "password": password}).json().get(
            "error_description", "ok")

    assert [attempt(http, p) for p in ("x1", "x2", "x3", "Test@1234567")] == ["Bad credentials"] * 3 + ["User account is locked"]
    assert [attempt(alt, p) for p in ("x1", "x2", "x3")] == ["Bad credentials"] * 2 + ["User account is locked"]


def test_a_refresh_token_buys_a_new_access_token(http, alt):
    first = http.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data=DOCS_LOGIN).json()
    refreshed = http.post("/oauth/token", headers={"Authorization": DOCS_BASIC},
                          data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert set(second) == {"access_token", "token_type", "refresh_token", "expires_in", "scope"}
    assert second["access_token"] != first["access_token"] and second["expires_in"] == 86399
    account = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}
    headers = {"partnerId": "CRMXWB3ZM"}
    old = http.post(PARTNER_PATH + "/cardAccount/get", json=account, headers={**headers, "Authorization": f"Bearer {first['access_token']}"})
    new = http.post(PARTNER_PATH + "/cardAccount/get", json=account, headers={**headers, "Authorization": f"Bearer {second['access_token']}"})
    assert (old.status_code, new.status_code) == (401, 200)
    again = http.post("/oauth/token", headers={"Authorization": DOCS_BASIC},
                      data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant",
                                                       "error_description": f"Invalid refresh token: {first['refresh_token']}"})
    off = alt.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data={"grant_type": "refresh_token", "refresh_token": "x"})
    assert (off.status_code, off.json()["error"]) == (400, "unsupported_grant_type")


# --- 8. a repeated reference: replay (default) or refuse every repeat ----------------------------
def test_duplicate_references_replay_or_are_refused(docs_partner, alt):
    request = {"enkashCardId": ASHA, "loadAmount": 3, "uniqueReferenceNumber": "DUP-1"}
    first = ok(docs_partner.allocate(**request))
    assert ok(docs_partner.allocate(**request)) == first
    other = Partner(alt, DOCS_BASIC, DOCS_LOGIN, "CRMXWB3ZM")
    ok(other.allocate(**request))
    refused(other.allocate(**request), 200, "Duplicate uniqueReferenceNumber DUP-1: it was already used")
    assert other.card(ASHA)["otbBalance"] == 503
    coins = {"companyId": "CEK0TCW2W8", "event": "REFERRAL_EVENT", "requestId": "DUP-C1", "userId": "EKQZVMQK"}
    bearer = {"Authorization": f"Bearer {other.token}"}
    assert alt.post("/api/v0/enkash-coins/allocate-coin", json=coins, headers=bearer).json()["response_code"] == 0
    refused(alt.post("/api/v0/enkash-coins/allocate-coin", json=coins, headers=bearer), 200,
            "Duplicate requestId DUP-C1: it was already used")
    assert alt.get("/api/v0/coins/balance", params={"userId": "EKQZVMQK"}, headers=bearer).json()["payload"] == 10


# --- 10. token-expires: a refresh cures it ------------------------------------------------------
@pytest.mark.parametrize("grant", ["password", "refresh_token"])
def test_token_expires_scenario_is_cured_by_one_refresh(http, grant):
    assert http.post("/__sandbox/scenarios/token-expires").status_code == 200
    login = http.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data=DOCS_LOGIN).json()
    account = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}

    def call(token: str) -> int:
        return http.post(PARTNER_PATH + "/cardAccount/get", json=account,
                         headers={"partnerId": "CRMXWB3ZM", "Authorization": f"Bearer {token}"}).status_code

    assert call(login["access_token"]) == 401
    assert call(login["access_token"]) == 401  # a real expiry lasts
    form = DOCS_LOGIN if grant == "password" else {"grant_type": "refresh_token", "refresh_token": login["refresh_token"]}
    fresh = http.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data=form).json()["access_token"]
    assert fresh != login["access_token"] and call(fresh) == 200


# --- 11. EnKash's APIs outside the sandbox's scope say so -----------------------------------------
def test_known_enkash_paths_outside_the_scope_get_a_404_that_names_them(docs_partner):
    response = docs_partner.post(PARTNER_PATH, {"companyId": DOCS_COMPANY})
    refused(response, 404, "POST /api/v0/partner/enKashCard is EnKash's Prepaid Card API 'Create Prepaid Card' "
                           "(https://docs.enkash.com/api-13438387), which this sandbox does not emulate")
    balance = docs_partner.post(PARTNER_PATH + "/balance", {"amount": "10.00"})
    assert balance.status_code == 404 and "'Load Card Balance'" in body_of(balance)["response_message"]
    refused(docs_partner.post(PARTNER_PATH + "/balanse", {}), 404, "No API at /api/v0/partner/enKashCard/balanse")
