"""Point Management (coins) over real HTTP: the docs' samples, configurations, allocation,
balance, idempotent requestIds, isolation between partners, and every documented error."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from conftest import DOCS_BASIC, DOCS_COMPANY, DOCS_LOGIN, DOCS_PARTNER, OTHER_BASIC, OTHER_LOGIN, OTHER_PARTNER, Partner, new_user

COINS = "/api/v0/enkash-coins"
COIN_COMPANY = "CEK0TCW2W8"  # the allocate sample's company, with REFERRAL_EVENT (WCC12345) and INVOICE_PAYMENT (WCC024845)
COIN_USER = "EKQZVMQK"
ZERO_USER = "EK6CYE6K"
START = "2025-03-01T10:00:00.000Z"
SUCCESS = {"payload": "Successfully allocated enkash Coins", "response_code": 0, "response_message": "Success"}


def failure(message: str) -> dict[str, Any]:
    return {"response_code": 1, "response_message": message, "payload": message}


class Coins:
    """A logged-in partner calling the coins API: bearer token only, no partnerId header."""

    def __init__(self, http: httpx.Client, basic: str, login: dict[str, str], partner_id: str) -> None:
        self.http = http
        self._credentials = (basic, login, partner_id)
        self.login()

    def login(self) -> None:
        """A fresh token: the sandbox clock expires tokens too, so tests that advance it log in again."""
        self.partner = Partner(self.http, *self._credentials)
        self.headers = {"Authorization": f"Bearer {self.partner.token}"}

    def create(self, **body: Any) -> httpx.Response:
        return self.http.post(f"{COINS}/create-coins-config", json=body, headers=self.headers)

    def get(self, config_id: str) -> httpx.Response:
        return self.http.get(f"{COINS}/{config_id}", headers=self.headers)

    def patch(self, config_id: str, body: Any) -> httpx.Response:
        return self.http.patch(f"{COINS}/{config_id}", json=body, headers=self.headers)

    def allocate(self, user: str = COIN_USER, event: str = "REFERRAL_EVENT", request_id: str = "COIN_REQ1",
                 company: str = COIN_COMPANY) -> httpx.Response:
        body = {"companyId": company, "event": event, "requestId": request_id, "userId": user}
        return self.http.post(f"{COINS}/allocate-coin", json=body, headers=self.headers)

    def allocated(self, **fields: Any) -> None:
        response = self.allocate(**fields)
        assert (response.status_code, response.json()) == (200, SUCCESS)

    def balance_response(self, user: str) -> httpx.Response:
        return self.http.get("/api/v0/coins/balance", params={"userId": user}, headers=self.headers)

    def balance(self, user: str = COIN_USER) -> int:
        response = self.balance_response(user)
        assert response.status_code == 200, response.text
        payload = response.json()["payload"]
        assert isinstance(payload, int)
        return payload


class SandboxCoins:
    """The sandbox's own coin API and clock."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def view(self, user: str = COIN_USER) -> dict[str, Any]:
        response = self.http.get(f"/__sandbox/coins/{user}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def spend(self, coins: Any, user: str = COIN_USER, **extra: Any) -> httpx.Response:
        return self.http.post(f"/__sandbox/coins/{user}/spend", json={"coins": coins, **extra})

    def settings(self, company: str = COIN_COMPANY, **changes: Any) -> httpx.Response:
        return self.http.post(f"/__sandbox/companies/{company}/coins", json=changes)

    def advance(self, duration: str, *partners: Coins) -> str:
        response = self.http.post("/__sandbox/clock", json={"advance": duration})
        assert response.status_code == 200, response.text
        for partner in partners:
            partner.login()
        return response.json()["now"]  # type: ignore[no-any-return]


@pytest.fixture()
def frozen(http: httpx.Client) -> SandboxCoins:
    """The clock frozen at START, so every time is exact (the next test's reset restores it)."""
    response = http.post("/__sandbox/clock", json={"now": START, "frozen": True})
    assert response.json() == {"now": START, "frozen": True}
    return SandboxCoins(http)


@pytest.fixture()
def docs(frozen: SandboxCoins, http: httpx.Client) -> Coins:
    return Coins(http, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)


@pytest.fixture()
def other(frozen: SandboxCoins, http: httpx.Client) -> Coins:
    return Coins(http, OTHER_BASIC, OTHER_LOGIN, OTHER_PARTNER)


# --- the docs' samples, as printed ---------------------------------------------------------------
def test_docs_samples_work_as_printed(docs: Coins) -> None:
    auth = {"authorization": docs.headers["Authorization"], "Content-Type": "application/json"}
    created = docs.http.post(
        f"{COINS}/create-coins-config", headers=auth,
        content='{"configuration": "DEFAULT", "companyId": "CEKEKCARDS", "event": "MEAL_CARD_PAYMENT", "amount": 6}',
    )
    assert created.status_code == 200
    body = created.json()
    assert re.fullmatch(r"WCC[0-9]{6}", body["payload"]["coinConfigId"])
    assert body == {"response_code": 0, "response_message": "Success", "payload": {
        "coinConfigId": body["payload"]["coinConfigId"], "configuration": "DEFAULT", "event": "MEAL_CARD_PAYMENT", "amount": 6,
    }}

    fetched = docs.http.get(f"{COINS}/WCC12345", headers={"authorization": auth["authorization"]})
    assert (fetched.status_code, fetched.json()) == (200, {"response_code": 0, "response_message": "Success", "payload": {
        "coinConfigId": "WCC12345", "configuration": "DEFAULT", "event": "REFERRAL_EVENT", "amount": 10,
    }})

    updated = docs.http.patch(f"{COINS}/WCC024845", headers=auth, content='{"amount": 10, "configuration": "DEFAULT"}')
    assert (updated.status_code, updated.json()) == (200, {
        "payload": {"coinConfigId": "WCC024845", "configuration": "DEFAULT", "event": "INVOICE_PAYMENT", "amount": 10},
        "response_code": 0, "response_message": "Success",
    })

    allocated = docs.http.post(
        f"{COINS}/allocate-coin", headers=auth,
        content='{"companyId": "CEK0TCW2W8", "event": "REFERRAL_EVENT", "requestId": "COIN_REQ1234567", "userId": "EKQZVMQK"}',
    )
    assert (allocated.status_code, allocated.json()) == (200, SUCCESS)

    balance = docs.http.get("/api/v0/coins/balance?userId=EK6CYE6K", headers={"authorization": auth["authorization"]})
    assert (balance.status_code, balance.json()) == (200, {"response_code": 0, "response_message": "Success", "payload": 0})
    assert docs.balance(COIN_USER) == 10


# --- configurations (PTS-1..3) -------------------------------------------------------------------
def test_created_config_can_be_read_and_drives_allocation(docs: Coins) -> None:
    created = docs.create(configuration="CUSTOM", companyId=COIN_COMPANY, event="MEAL_CARD_PAYMENT", amount=7).json()["payload"]
    fetched = docs.get(created["coinConfigId"])
    assert fetched.json()["payload"] == created == {
        "coinConfigId": created["coinConfigId"], "configuration": "CUSTOM", "event": "MEAL_CARD_PAYMENT", "amount": 7,
    }
    docs.allocated(event="MEAL_CARD_PAYMENT", request_id="R-MEAL")
    assert docs.balance() == 7


def test_second_config_for_the_same_company_and_event_is_rejected(docs: Coins) -> None:
    response = docs.create(configuration="DEFAULT", companyId=COIN_COMPANY, event="REFERRAL_EVENT", amount=99)
    assert response.status_code == 422
    assert response.json() == failure("A coin configuration for event REFERRAL_EVENT already exists in companyId CEK0TCW2W8: WCC12345")
    assert docs.get("WCC12345").json()["payload"]["amount"] == 10
    docs.allocated()
    assert docs.balance() == 10
    # the same event in another company of the partner is a configuration of its own
    assert docs.create(configuration="DEFAULT", companyId="CEKEKCARDS", event="REFERRAL_EVENT", amount=3).status_code == 200


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"companyId": COIN_COMPANY, "event": "E1", "amount": 5}, 400, "configuration is required"),
    ({"configuration": "DEFAULT", "event": "E1", "amount": 5}, 400, "companyId is required"),
    ({"configuration": "DEFAULT", "companyId": COIN_COMPANY, "amount": 5}, 400, "event is required"),
    ({"configuration": "DEFAULT", "companyId": COIN_COMPANY, "event": "E1"}, 400, "amount is required"),
    ({"configuration": "OTHER", "companyId": COIN_COMPANY, "event": "E1", "amount": 5}, 422,
     "configuration must be one of DEFAULT, CUSTOM"),
    ({"configuration": "DEFAULT", "companyId": COIN_COMPANY, "event": "E1", "amount": 0}, 422, "amount must be at least 1"),
    ({"configuration": "DEFAULT", "companyId": COIN_COMPANY, "event": "E1", "amount": 1.5}, 422, "amount must be an integer"),
    ({"configuration": "DEFAULT", "companyId": COIN_COMPANY, "event": "E1", "amount": "5"}, 422, "amount must be an integer"),
    ({"configuration": "DEFAULT", "companyId": COIN_COMPANY, "event": "bad event", "amount": 5}, 422, "event has an invalid format"),
    ({"configuration": "DEFAULT", "companyId": "CEKNOPE000", "event": "E1", "amount": 5}, 404,
     "Company not found for companyId: CEKNOPE000"),
    ({"configuration": "DEFAULT", "companyId": "CEKBVCGMR1", "event": "E1", "amount": 5}, 404,
     "Company not found for companyId: CEKBVCGMR1"),
])
def test_create_config_errors(docs: Coins, body: dict[str, Any], status: int, message: str) -> None:
    response = docs.create(**body)
    assert (response.status_code, response.json()) == (status, failure(message))


def test_unknown_config_ids_get_the_error_envelope(docs: Coins) -> None:
    for response in (docs.get("WCC999999"), docs.patch("WCC999999", {"amount": 3}), docs.get("create-coins-config")):
        assert response.status_code == 404
    assert docs.get("WCC999999").json() == failure("Coin configuration not found for coinConfigId: WCC999999")


def test_patch_changes_only_the_given_fields(docs: Coins) -> None:
    unchanged = docs.patch("WCC12345", {})
    assert unchanged.json()["payload"] == {"coinConfigId": "WCC12345", "configuration": "DEFAULT", "event": "REFERRAL_EVENT", "amount": 10}
    assert docs.patch("WCC12345", {"amount": 15}).json()["payload"] == {
        "coinConfigId": "WCC12345", "configuration": "DEFAULT", "event": "REFERRAL_EVENT", "amount": 15,
    }
    assert docs.patch("WCC12345", {"configuration": "CUSTOM"}).json()["payload"]["configuration"] == "CUSTOM"
    docs.allocated()
    assert docs.balance() == 15


def test_patch_can_rename_the_event_and_move_the_company(docs: Coins) -> None:
    renamed = docs.patch("WCC12345", {"event": "SIGNUP_EVENT"})
    assert renamed.json()["payload"]["event"] == "SIGNUP_EVENT"
    old = docs.allocate(event="REFERRAL_EVENT", request_id="R-OLD")
    assert (old.status_code, old.json()) == (404, failure("No coin configuration for event REFERRAL_EVENT in companyId: CEK0TCW2W8"))
    docs.allocated(event="SIGNUP_EVENT", request_id="R-NEW")
    assert docs.balance() == 10

    moved = docs.patch("WCC12345", {"companyId": "CEKEKCARDS"})
    assert moved.status_code == 200
    gone = docs.allocate(event="SIGNUP_EVENT", request_id="R-MOVED")
    assert gone.json() == failure("No coin configuration for event SIGNUP_EVENT in companyId: CEK0TCW2W8")
    # the event is free again in its first company
    assert docs.create(configuration="DEFAULT", companyId=COIN_COMPANY, event="SIGNUP_EVENT", amount=1).status_code == 200


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"event": "INVOICE_PAYMENT"}, 422, "A coin configuration for event INVOICE_PAYMENT already exists in companyId CEK0TCW2W8: WCC024845"),
    ({"companyId": "CEKBVCGMR1"}, 404, "Company not found for companyId: CEKBVCGMR1"),
    ({"amount": 0}, 422, "amount must be at least 1"),
    ({"configuration": "NONE"}, 422, "configuration must be one of DEFAULT, CUSTOM"),
    ([1, 2], 422, "body must be a JSON object"),
])
def test_patch_errors_change_nothing(docs: Coins, body: Any, status: int, message: str) -> None:
    response = docs.patch("WCC12345", body)
    assert (response.status_code, response.json()) == (status, failure(message))
    assert docs.get("WCC12345").json()["payload"] == {
        "coinConfigId": "WCC12345", "configuration": "DEFAULT", "event": "REFERRAL_EVENT", "amount": 10,
    }


# --- allocation and balance (PTS-4, PTS-5) ---------------------------------------------------------
def test_allocations_add_up_to_an_integer_balance(docs: Coins) -> None:
    docs.allocated(request_id="R1")
    docs.allocated(event="INVOICE_PAYMENT", request_id="R2")
    docs.patch("WCC024845", {"amount": 25})
    docs.allocated(event="INVOICE_PAYMENT", request_id="R3")
    assert docs.balance() == 45
    assert docs.balance(ZERO_USER) == 0


def test_users_created_by_reward_allocation_earn_coins(docs: Coins) -> None:
    allocation = docs.partner.allocate(**new_user())
    user_id = allocation.json()["payload"]["userId"]
    docs.create(configuration="DEFAULT", companyId=DOCS_COMPANY, event="REFERRAL_EVENT", amount=25)
    docs.allocated(user=user_id, company=DOCS_COMPANY, request_id="R-NEW-USER")
    assert docs.balance(user_id) == 25
    # a card holder seeded in the fixtures is a user too
    docs.allocated(user="EKQ3M7DA", company=DOCS_COMPANY, request_id="R-ASHA")
    assert docs.balance("EKQ3M7DA") == 25


@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"user": "EKNOPE00"}, 404, "User not found for userId: EKNOPE00"),
    ({"event": "UNKNOWN_EVENT"}, 404, "No coin configuration for event UNKNOWN_EVENT in companyId: CEK0TCW2W8"),
    ({"event": "referral_event"}, 404, "No coin configuration for event referral_event in companyId: CEK0TCW2W8"),
    ({"user": "EKQ3M7DA"}, 422, "userId EKQ3M7DA does not belong to companyId: CEK0TCW2W8"),
    ({"company": "CEKNOPE000"}, 404, "Company not found for companyId: CEKNOPE000"),
    ({"company": "CEKEKCARDS"}, 422, "userId EKQZVMQK does not belong to companyId: CEKEKCARDS"),
])
def test_allocation_errors_credit_nothing(docs: Coins, frozen: SandboxCoins, fields: dict[str, Any], status: int, message: str) -> None:
    response = docs.allocate(**fields)
    assert (response.status_code, response.json()) == (status, failure(message))
    assert docs.balance() == 0
    assert frozen.view()["history"] == []
    # the requestId was not used up: the corrected request goes through
    docs.allocated()
    assert docs.balance() == 10


@pytest.mark.parametrize(("body", "message"), [
    ({"companyId": COIN_COMPANY, "event": "REFERRAL_EVENT", "userId": COIN_USER}, "requestId is required"),
    ({"companyId": COIN_COMPANY, "event": "REFERRAL_EVENT", "requestId": "R1"}, "userId is required"),
    ({"event": "REFERRAL_EVENT", "requestId": "R1", "userId": COIN_USER}, "companyId is required"),
    ({"companyId": COIN_COMPANY, "requestId": "R1", "userId": COIN_USER}, "event is required"),
])
def test_allocation_needs_every_documented_field(docs: Coins, body: dict[str, Any], message: str) -> None:
    response = docs.http.post(f"{COINS}/allocate-coin", json=body, headers=docs.headers)
    assert (response.status_code, response.json()) == (400, failure(message))


def test_balance_errors(docs: Coins) -> None:
    missing = docs.http.get("/api/v0/coins/balance", headers=docs.headers)
    assert (missing.status_code, missing.json()) == (400, failure("userId is required"))
    unknown = docs.balance_response("EKNOPE00")
    assert (unknown.status_code, unknown.json()) == (404, failure("User not found for userId: EKNOPE00"))


# --- requestId idempotency -------------------------------------------------------------------------
def test_a_repeated_request_answers_as_the_first_and_credits_nothing(docs: Coins, frozen: SandboxCoins) -> None:
    docs.allocated(request_id="COIN_REQ1234567")
    docs.allocated(request_id="COIN_REQ1234567")
    reordered = docs.http.post(
        f"{COINS}/allocate-coin", headers={**docs.headers, "Content-Type": "application/json"},
        content='{"userId":"EKQZVMQK","requestId":"COIN_REQ1234567","event":"REFERRAL_EVENT","companyId":"CEK0TCW2W8"}',
    )
    assert (reordered.status_code, reordered.json()) == (200, SUCCESS)
    docs.patch("WCC12345", {"amount": 50})  # a replay answers as the first did, even after a change
    docs.allocated(request_id="COIN_REQ1234567")
    assert docs.balance() == 10
    assert [row["type"] for row in frozen.view()["history"]] == ["EARN"]


def test_a_reused_request_id_with_another_body_is_refused(docs: Coins) -> None:
    docs.allocated(request_id="COIN_REQ1")
    for fields in ({"event": "INVOICE_PAYMENT"}, {"user": ZERO_USER}):
        response = docs.allocate(request_id="COIN_REQ1", **fields)
        assert (response.status_code, response.json()) == (
            200, failure("Duplicate requestId COIN_REQ1: it was already used for a different request"),
        )
    assert docs.balance() == 10
    assert docs.balance(ZERO_USER) == 0


def test_request_ids_are_apart_from_reward_references(docs: Coins) -> None:
    """A requestId equal to a uniqueReferenceNumber already used for points is a new request."""
    assert docs.partner.allocate(**new_user(uniqueReferenceNumber="SHARED-1")).status_code == 200
    docs.allocated(request_id="SHARED-1")
    assert docs.balance() == 10


# --- authentication and isolation ----------------------------------------------------------------
def test_coins_need_a_bearer_token_but_no_partner_id(docs: Coins) -> None:
    bare = docs.http.get("/api/v0/coins/balance", params={"userId": COIN_USER})
    assert (bare.status_code, bare.json()) == (401, failure("Full authentication is required to access this resource"))
    wrong = docs.http.get(f"{COINS}/WCC12345", headers={"Authorization": "Bearer nope"})
    assert (wrong.status_code, wrong.json()) == (401, failure("Invalid access token"))
    unauthenticated = docs.http.post(f"{COINS}/allocate-coin", json={"companyId": COIN_COMPANY, "event": "REFERRAL_EVENT",
                                                                    "requestId": "R1", "userId": COIN_USER})
    assert unauthenticated.status_code == 401
    assert docs.balance() == 0


def test_another_partner_sees_none_of_the_docs_partners_coins(docs: Coins, other: Coins) -> None:
    docs.allocated(request_id="R1")
    assert other.get("WCC12345").json() == failure("Coin configuration not found for coinConfigId: WCC12345")
    assert other.patch("WCC12345", {"amount": 1}).status_code == 404
    assert other.balance_response(COIN_USER).json() == failure("User not found for userId: EKQZVMQK")
    assert other.allocate(request_id="R2").json() == failure("Company not found for companyId: CEK0TCW2W8")
    assert other.create(configuration="DEFAULT", companyId=COIN_COMPANY, event="X", amount=1).status_code == 404

    # in its own company, the docs partner's user still does not exist for it
    assert other.create(configuration="DEFAULT", companyId="CEKBVCGMR1", event="REFERRAL_EVENT", amount=5).status_code == 200
    response = other.allocate(company="CEKBVCGMR1", request_id="R1")
    assert (response.status_code, response.json()) == (404, failure("User not found for userId: EKQZVMQK"))
    assert docs.get("WCC12345").json()["payload"]["amount"] == 10
    assert docs.balance() == 10


def test_request_ids_are_per_partner(docs: Coins, other: Coins) -> None:
    allocation = other.partner.post("/create-allocate-points", {
        "companyId": "CEKBVCGMR1", "cardAccountId": "CA1ZS96", "transactionCode": "ALLOCATION", "transactionType": "CR",
        "type": "ALLOCATE_POINT", **new_user(),
    })
    their_user = allocation.json()["payload"]["userId"]
    other.create(configuration="DEFAULT", companyId="CEKBVCGMR1", event="REFERRAL_EVENT", amount=4)
    docs.allocated(request_id="SAME")
    other.allocated(user=their_user, company="CEKBVCGMR1", request_id="SAME")
    assert (docs.balance(), other.balance(their_user)) == (10, 4)
    assert docs.balance_response(their_user).status_code == 404
