"""Redemption (the voucher marketplace), over HTTP: carts, catalog, orders paid from the reward card
on the one ledger, order outcomes, isolation, fixtures, snapshots and faults."""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest
from conftest import DOCS_BASIC, DOCS_LOGIN, OTHER_BASIC, OTHER_LOGIN, OTHER_PARTNER, Partner

from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread

VIKRAM_LOGIN = {"username": "9000000087", "password": "Vikram@1234567", "grant_type": "password", "clientId": "CEK1GZBO6A"}
VIKRAM, VIKRAM_CARD = "EK8IHN4B", "EKC8IHN4B7"
ASHA, ASHA_CARD = "EKQ3M7DA", "EKCDM5AVZY"  # 500 points in the fixtures
VIKRAM_ACCOUNT, VIKRAM_COMPANY = "CA8IHN4BR", "CEK7T1WMC6"  # the marketplace card's account (the sandbox's own)
MYNTRA, MYNTRA_500, MYNTRA_100 = "PC235129857G58ZX", "PCN233451126S5CZC", "PCN233451127MYN1T"
AMAZON, AMAZON_100 = "PC7324536190LULHL", "PCN732453619AMZ01"
PENDING_TEST, FAILING_TEST, DISABLED_TEST = "PC900000000PENDG", "PC900000000FAILD", "PC900000000DSBLD"
VOUCHER = {"product": "VOUCHER"}
INSUFFICIENT = {"response_code": 1, "response_message": "Insufficient balance in card account",
                "payload": "Insufficient balance in card account"}


class Holder:
    """A bearer token on the marketplace routes: a card holder's, an SSO token or a partner's."""

    def __init__(self, http: httpx.Client, token: str) -> None:
        self.http, self.token = http, token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def cart(self, **query: str) -> httpx.Response:
        return self.http.get("/api/v0/cart", params={**VOUCHER, **query}, headers=self.headers)

    def add(self, body: dict[str, Any]) -> httpx.Response:
        return self.http.post("/api/v0/cart", params=VOUCHER, json=body, headers=self.headers)

    def update(self, body: dict[str, Any]) -> httpx.Response:
        return self.http.patch("/api/v0/cart", params=VOUCHER, json=body, headers=self.headers)

    def order(self, reference: str, product: str = MYNTRA, denomination: int = 500, quantity: int = 1, **extra: Any) -> httpx.Response:
        body = {"denomination": denomination, "orderReferenceId": reference, "productCatalogId": product, "quantity": quantity, **extra}
        return self.http.post("/api/v0/partner/create-order", json=body, headers=self.headers)

    def details(self, key: str) -> httpx.Response:
        return self.http.post("/api/v0/order/orderDetails", json={"orderId": key}, headers=self.headers)

    def search(self, body: dict[str, Any] | None = None, limit: int = 10, offset: int = 0) -> httpx.Response:
        return self.http.post("/api/v0/partner/search-order", params={"limit": limit, "offset": offset}, json=body or {},
                              headers=self.headers)


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["response_code"], body["response_message"]) == (0, "Success"), body
    return body["paylod" if "paylod" in body else "payload"]  # Fetch Order Info spells it `paylod` (sic) by default


def failure(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"response_code": 1, "response_message": message, "payload": message}


@pytest.fixture()
def vikram(http: httpx.Client) -> Holder:
    return login(http)


def login(http: httpx.Client) -> Holder:
    """The docs' example user EK8IHN4B logs in as themselves (RED-1, User Authentication)."""
    response = http.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data=VIKRAM_LOGIN)
    assert response.status_code == 200, response.text
    return Holder(http, response.json()["access_token"])


@pytest.fixture()
def asha(http: httpx.Client, docs_partner: Partner) -> Holder:
    """The SSO sample's card holder, through the SSO token."""
    sso = docs_partner.post("/sso-token", {"cardAccountId": "CAQL8YCV3", "companyId": "CEK1PU9AOO", "enkashCardId": ASHA_CARD})
    return Holder(http, sso.json()["payload"])


@pytest.fixture()
def partner(http: httpx.Client, docs_partner: Partner) -> Holder:
    return Holder(http, docs_partner.token)


def fund_vikram(docs_partner: Partner, points: int, reference: str = "FUND-1") -> None:
    body = {"companyId": VIKRAM_COMPANY, "cardAccountId": VIKRAM_ACCOUNT, "enkashCardId": VIKRAM_CARD, "loadAmount": points,
            "uniqueReferenceNumber": reference}
    assert docs_partner.allocate(**body).json()["code"] == 0


def card_balance(docs_partner: Partner, card: str = VIKRAM_CARD, company: str = VIKRAM_COMPANY, account: str = VIKRAM_ACCOUNT) -> Any:
    return docs_partner.card(card, company, account)["otbBalance"]


def state_of(http: httpx.Client) -> dict:
    """The state document without the running clock's reading (it moves between two calls)."""
    doc = http.get("/__sandbox/state").json()
    doc["clock"].pop("now", None)
    return doc


CART_2191 = {
    "id": 2191, "ekUserId": VIKRAM, "productCatalogId": MYNTRA, "name": "Myntra Test",
    "logoUrl": "https://example.com/enkash-sandbox/myntra/logo.png",
    "items": {
        MYNTRA_500: {"productConfigId": MYNTRA_500, "mrp": 500, "sellRate": 490, "enkashDiscount": 2, "savings": 10, "quantity": 1, "total": 490},
        MYNTRA_100: {"productConfigId": MYNTRA_100, "mrp": 100, "sellRate": 98, "enkashDiscount": 2, "savings": 4, "quantity": 2, "total": 196},
    },
    "totalQuantity": 3, "totalAmount": 686, "totalSavings": 14,
    "termsAndCondition": "Valid on myntra.com and the Myntra app. Not exchangeable for cash.",
    "productConfigs": [
        {"productConfigId": MYNTRA_500, "mrp": 500, "sellRate": 490, "enkashDiscount": 2, "maxQuantity": 10, "customAmountEnabled": False},
        {"productConfigId": MYNTRA_100, "mrp": 100, "sellRate": 98, "enkashDiscount": 2, "maxQuantity": 10, "customAmountEnabled": False},
    ],
    "howToRedeem": "Add the voucher code and PIN at checkout.",
}


# --- carts ---------------------------------------------------------------------------------------
def test_the_docs_cart_2191_comes_out_as_printed(vikram):
    assert ok(vikram.cart()) == [CART_2191]
    # the Update Cart sample, byte for byte (api-9796921): the quantity it sets is the one held
    response = vikram.http.patch("/api/v0/cart?product=VOUCHER", headers={**vikram.headers, "content-type": "application/json"},
                                 content='{"cartId":2191,"items":{"PCN233451126S5CZC":{"quantity":1,"description":""}}}')
    assert ok(response) == CART_2191


def test_add_to_cart_adds_quantities_and_update_sets_them(vikram):
    cart = ok(vikram.add({"productCatalogId": MYNTRA, "items": {MYNTRA_500: {"quantity": 2, "description": "gift"}}}))
    assert (cart["id"], cart["items"][MYNTRA_500]["quantity"], cart["items"][MYNTRA_500]["total"]) == (2191, 3, 1470)
    assert (cart["totalQuantity"], cart["totalAmount"], cart["totalSavings"]) == (5, 1666, 34)
    amazon = ok(vikram.add({"productCatalogId": AMAZON, "items": {AMAZON_100: {"quantity": 4}}}))
    assert (amazon["id"], amazon["name"], amazon["totalQuantity"], amazon["totalAmount"], amazon["totalSavings"]) == (2192, "Amazon Test", 4, 388, 12)
    assert [c["id"] for c in ok(vikram.cart())] == [2191, 2192]

    updated = ok(vikram.update({"cartId": 2191, "items": {MYNTRA_500: {"quantity": 0}, MYNTRA_100: {"quantity": 5}}}))
    assert list(updated["items"]) == [MYNTRA_100]
    assert (updated["totalQuantity"], updated["totalAmount"], updated["totalSavings"]) == (5, 490, 10)
    emptied = ok(vikram.update({"cartId": 2192, "items": {AMAZON_100: {"quantity": 0}}}))
    assert (emptied["id"], emptied["items"], emptied["totalQuantity"], emptied["totalAmount"]) == (2192, {}, 0, 0)
    assert [c["id"] for c in ok(vikram.cart())] == [2191]


@pytest.mark.parametrize(("call", "status", "message"), [
    (lambda h: h.add({"productCatalogId": "PC0000000000NONE", "items": {MYNTRA_500: {"quantity": 1}}}), 404,
     "Product not found for productCatalogId: PC0000000000NONE"),
    (lambda h: h.add({"productCatalogId": MYNTRA, "items": {AMAZON_100: {"quantity": 1}}}), 404,
     f"Product config {AMAZON_100} not found in productCatalogId: {MYNTRA}"),
    (lambda h: h.add({"productCatalogId": MYNTRA, "items": {MYNTRA_500: {"quantity": 10}}}), 422,
     f"quantity 11 is above maxQuantity 10 of productConfigId: {MYNTRA_500}"),
    (lambda h: h.add({"productCatalogId": DISABLED_TEST, "items": {"PCN900000001DSBLD": {"quantity": 1}}}), 422,
     f"Product {DISABLED_TEST} is not available (disabled or inactive)"),
    (lambda h: h.add({"productCatalogId": MYNTRA, "items": {MYNTRA_500: {"quantity": 0}}}), 422,
     f"items.{MYNTRA_500}.quantity must be at least 1"),
    (lambda h: h.update({"cartId": 9999, "items": {MYNTRA_500: {"quantity": 1}}}), 404, "Cart not found for cartId: 9999"),
    (lambda h: h.update({"cartId": 2191, "items": {MYNTRA_500: {"quantity": 0}, MYNTRA_100: {"quantity": 11}}}), 422,
     f"quantity 11 is above maxQuantity 10 of productConfigId: {MYNTRA_100}"),
    (lambda h: h.http.get("/api/v0/cart", params={"product": "GIFTCARD"}, headers=h.headers), 422,
     "product must be one of VOUCHER"),
])
def test_cart_refusals_change_nothing(http, vikram, call, status, message):
    before = state_of(http)
    failure(call(vikram), status, message)
    assert state_of(http) == before


# --- catalog -------------------------------------------------------------------------------------
MYNTRA_PRODUCT = {
    "productCatalogId": MYNTRA, "brand": "Myntra Test", "aggregator": "REWARD_STORE", "category": "E-Commerce",
    "images": {"BRAND_IMAGE": "https://example.com/enkash-sandbox/myntra/brand.png",
               "LOGO_IMAGE": "https://example.com/enkash-sandbox/myntra/logo.png",
               "LOGO_IMAGE_SMALL": "https://example.com/enkash-sandbox/myntra/logo-small.png"},
    "description": "Myntra e-gift voucher (test)", "configResponses": CART_2191["productConfigs"], "enabled": True, "rank": 1,
    "termsAndCondition": CART_2191["termsAndCondition"], "howToRedeem": CART_2191["howToRedeem"], "expiryPeriod": 365,
    "active": True, "enkashImages": {}, "discount": 2,
}


def test_product_configs_and_details_carry_the_documented_fields(vikram, partner):
    assert ok(vikram.http.get(f"/api/v0/partner/search-config/{MYNTRA}", headers=vikram.headers)) == MYNTRA_PRODUCT
    assert ok(partner.http.get(f"/api/v0/partner/product-details/{MYNTRA}", headers=partner.headers)) == MYNTRA_PRODUCT
    amazon = ok(vikram.http.get(f"/api/v0/partner/search-config/{AMAZON}", headers=vikram.headers))
    assert (amazon["brand"], amazon["aggregator"], amazon["category"]) == ("Amazon Test", "REWARD_STORE", "E-Commerce")
    failure(vikram.http.get("/api/v0/partner/search-config/PC123789", headers=vikram.headers), 404,
            "Product not found for productCatalogId: PC123789")
    failure(vikram.http.get(f"/api/v0/partner/search-config/{MYNTRA}"), 401, "Full authentication is required to access this resource")


def test_catalog_search_is_open_like_enkash_own_site_calls_it(http):
    listed = ok(http.post("/api/v0/bolt/searchProducts", params=VOUCHER, json={}))
    assert listed["recordsCount"] == 6
    assert [p["brand"] for p in listed["data"]] == [
        "Myntra Test", "Amazon Test", "Shopping Test", "Pending Test", "Failing Test", "Disabled Test"]
    assert listed["data"][0] == MYNTRA_PRODUCT
    found = ok(http.post("/api/v0/bolt/searchProducts", params={**VOUCHER, "limit": "1"}, json={"search": "TEST", "category": ["sandbox"]}))
    assert (found["recordsCount"], [p["brand"] for p in found["data"]]) == (3, ["Pending Test"])


# --- orders on the ledger ------------------------------------------------------------------------
def test_an_order_is_one_posting_from_the_card(http, vikram, docs_partner):
    http.post("/__sandbox/clock", json={"now": "2025-06-01T10:00:00Z", "frozen": True})
    fund_vikram(docs_partner, 1000)
    postings = http.get("/__sandbox/health").json()["state"]["postings"]
    order = ok(vikram.order("ORD-1", quantity=2))
    assert order["orderId"].startswith("OR") and len(order["orderId"]) == 13
    assert len(order["vouchers"]) == 2 and all(len(v["voucherCode"]) == 16 and len(v["voucherPin"]) == 6 for v in order["vouchers"])
    assert {k: v for k, v in order.items() if k not in ("orderId", "enkashCardTxnId", "vouchers")} == {
        "orderReferenceId": "ORD-1", "paymentStatus": "SUCCESS", "orderStatus": "SUCCESS", "totalQuantity": 2,
        "ekUserId": VIKRAM, "enKashCardId": VIKRAM_CARD, "productCatalogId": MYNTRA, "productConfigId": MYNTRA_500,
        "brand": "Myntra Test", "denomination": 500, "sellRate": 490, "enkashDiscount": 2, "totalAmount": 980,
        "refundCardTxnId": None, "createdOn": "2025-06-01T10:00:00.000Z", "expectedOn": None,
        "completedOn": "2025-06-01T10:00:00.000Z",
    }
    assert {v["denomination"] for v in order["vouchers"]} == {500}
    assert {v["expiryDate"] for v in order["vouchers"]} == {"2026-06-01T10:00:00.000Z"}
    assert http.get("/__sandbox/health").json()["state"]["postings"] == postings + 1

    assert card_balance(docs_partner) == 20  # 1000 - 2 x sellRate 490, never the mrp
    account = docs_partner.account(VIKRAM_COMPANY, VIKRAM_ACCOUNT)
    assert (account["totalRedemptionPoint"], account["currentMonthRedemptionPoint"]) == (980, 980)
    assert account["availableCardBalance"] == 20  # the one card, 1000 - 980
    rows = docs_partner.post("/transaction/all", {"companyId": VIKRAM_COMPANY, "cardAccountId": VIKRAM_ACCOUNT,
                                                  "pgReferenceNumber": "ORD-1"}).json()["payload"]
    assert rows["recordsCount"] == 1
    row = rows["data"][0]
    assert (row["enKashCardTransactionId"], row["cardTransactionType"], row["principalAmount"], row["balance"],
            row["pgReferenceNumber"], row["type"]) == (order["enkashCardTxnId"], "DR", 980, 20, "ORD-1", "SALE")
    assert ok(vikram.details("ORD-1")) == ok(vikram.details(order["orderId"]))


def test_not_enough_points_is_the_documented_failure_and_changes_nothing(http, vikram, docs_partner):
    fund_vikram(docs_partner, 489)
    before = state_of(http)
    response = vikram.order("ORD-POOR")
    assert response.status_code == 200 and response.json() == INSUFFICIENT
    assert state_of(http) == before
    assert card_balance(docs_partner) == 489


@pytest.mark.parametrize(("reference", "product", "denomination", "quantity", "status", "message"), [
    ("R1", "PC0000000000NONE", 500, 1, 404, "Product not found for productCatalogId: PC0000000000NONE"),
    ("R2", MYNTRA, 250, 1, 422, f"Denomination 250 is not offered for productCatalogId: {MYNTRA}"),
    ("R3", MYNTRA, 100, 11, 422, f"quantity 11 is above maxQuantity 10 of productConfigId: {MYNTRA_100}"),
    ("R4", DISABLED_TEST, 100, 1, 422, f"Product {DISABLED_TEST} is not available (disabled or inactive)"),
    ("R5", AMAZON, 10001, 1, 422, f"Denomination 10001 is not offered for productCatalogId: {AMAZON}"),
])
def test_order_refusals_change_nothing(http, vikram, docs_partner, reference, product, denomination, quantity, status, message):
    fund_vikram(docs_partner, 5000)
    before = state_of(http)
    failure(vikram.order(reference, product, denomination, quantity), status, message)
    assert state_of(http) == before


def test_an_inactive_card_cannot_pay(http):
    holder_doc = """
partners:
  - partnerId: CRMBLOCK01
    clients:
      - clientId: CEKBLOCK01
        clientSecret: blocked-secret
        logins: [{username: "9111100001", password: "Blocked@1", ekUserId: EKBLOCK1}]
    companies:
      - companyId: CEKBLOCK02
        accounts:
          - cardAccountId: CABLOCK1
            cards: [{enKashCardId: EKCBLOCK01, userId: EKBLOCK1, mobile: "9111100001", status: BLOCKED, otbBalance: 5000}]
"""
    assert http.post("/__sandbox/fixtures", content=holder_doc).status_code == 200
    try:
        token = http.post("/oauth/token", auth=("CEKBLOCK01", "blocked-secret"),
                          data={"username": "9111100001", "password": "Blocked@1", "grant_type": "password", "clientId": "CEKBLOCK01"})
        blocked = Holder(http, token.json()["access_token"])
        before = state_of(http)
        failure(blocked.order("R-BLOCKED"), 200, "EnKash card is not active")
        assert state_of(http) == before
    finally:
        http.delete("/__sandbox/fixtures")


def test_a_repeated_order_reference_replays_and_another_body_is_refused(http, vikram, docs_partner):
    fund_vikram(docs_partner, 2000)
    first = ok(vikram.order("ORD-R", quantity=2))
    postings = http.get("/__sandbox/health").json()["state"]["postings"]
    again = ok(vikram.order("ORD-R", quantity=2))
    assert again == first
    assert http.get("/__sandbox/health").json()["state"]["postings"] == postings
    failure(vikram.order("ORD-R", quantity=3), 200, "Duplicate orderReferenceId ORD-R: it was already used for a different request")
    failure(vikram.order("FUND-1"), 200, "Duplicate orderReferenceId FUND-1: it was already used for a different request")
    assert card_balance(docs_partner) == 1020


def test_a_custom_amount_is_priced_at_its_config_rate(vikram, docs_partner):
    fund_vikram(docs_partner, 1000)
    order = ok(vikram.order("ORD-CUSTOM", AMAZON, 250, 2))
    assert (order["productConfigId"], order["denomination"], order["sellRate"], order["totalAmount"]) == ("PCN732453619AMZCU", 250, 242.5, 485)
    fixed = ok(vikram.order("ORD-FIXED", AMAZON, 100, 1))
    assert (fixed["productConfigId"], fixed["sellRate"]) == (AMAZON_100, 97)
    assert card_balance(docs_partner) == 1000 - 485 - 97


# --- order outcomes ------------------------------------------------------------------------------
def test_a_pending_order_is_fulfilled_by_the_sandbox_clock(http, vikram, docs_partner):
    http.post("/__sandbox/clock", json={"now": "2025-06-01T10:00:00Z", "frozen": True})
    fund_vikram(docs_partner, 100)
    order = ok(vikram.order("ORD-P", PENDING_TEST, 100))
    assert (order["orderStatus"], order["paymentStatus"], order["vouchers"], order["expectedOn"], order["completedOn"]) == (
        "PENDING", "SUCCESS", [], "2025-06-01T10:05:00.000Z", None)
    assert card_balance(docs_partner) == 1
    http.post("/__sandbox/clock", json={"advance": "4m59s"})
    assert ok(vikram.details("ORD-P"))["orderStatus"] == "PENDING"
    http.post("/__sandbox/clock", json={"advance": "1s"})
    done = ok(vikram.details("ORD-P"))
    assert (done["orderStatus"], done["completedOn"], done["expectedOn"], len(done["vouchers"])) == (
        "SUCCESS", "2025-06-01T10:05:00.000Z", None, 1)
    assert ok(vikram.search({"ekUserId": VIKRAM}))["data"][0]["orderStatus"] == "SUCCESS"


def test_a_failed_order_is_refunded_by_a_second_posting(http, vikram, docs_partner):
    fund_vikram(docs_partner, 300)
    order = ok(vikram.order("ORD-F", FAILING_TEST, 100, 3))
    assert (order["orderStatus"], order["paymentStatus"], order["vouchers"]) == ("FAILED", "REFUNDED", [])
    assert order["refundCardTxnId"].startswith("ECT") and order["refundCardTxnId"] != order["enkashCardTxnId"]
    assert card_balance(docs_partner) == 300
    account = docs_partner.account(VIKRAM_COMPANY, VIKRAM_ACCOUNT)
    assert (account["totalRedemptionPoint"], account["currentMonthRedemptionPoint"]) == (0, 0)
    rows = docs_partner.post("/transaction/all", {"companyId": VIKRAM_COMPANY, "cardAccountId": VIKRAM_ACCOUNT,
                                                  "enKashCardId": VIKRAM_CARD}).json()["payload"]["data"]
    assert [(r["type"], r["cardTransactionType"], r["principalAmount"], r["balance"], r["pgReferenceNumber"]) for r in rows] == [
        ("REFUND", "CR", 297, 300, "ORD-F"), ("SALE", "DR", 297, 3, "ORD-F"), ("ALLOCATE_POINT", "CR", 300, 300, "FUND-1")]
    assert ok(vikram.order("ORD-F", FAILING_TEST, 100, 3)) == order  # the replay refunds nothing twice
    assert card_balance(docs_partner) == 300


def test_a_pending_order_can_be_completed_or_failed_through_the_admin_api(http, vikram, docs_partner):
    fund_vikram(docs_partner, 200)
    first = ok(vikram.order("ORD-A1", PENDING_TEST, 100))
    second = ok(vikram.order("ORD-A2", PENDING_TEST, 100))
    done = http.post(f"/__sandbox/orders/{first['orderId']}/complete", json={"orderStatus": "SUCCESS"})
    assert done.status_code == 200 and (done.json()["orderStatus"], len(done.json()["vouchers"])) == ("SUCCESS", 1)
    failed = http.post(f"/__sandbox/orders/{second['orderId']}/complete", json={"orderStatus": "FAILED"}).json()
    assert (failed["orderStatus"], failed["paymentStatus"]) == ("FAILED", "REFUNDED")
    assert card_balance(docs_partner) == 200 - 99
    again = http.post(f"/__sandbox/orders/{first['orderId']}/complete", json={"orderStatus": "FAILED"})
    failure(again, 422, f"Order {first['orderId']} is SUCCESS, not PENDING: only a pending order can be completed")
    failure(http.post("/__sandbox/orders/ORNOSUCHORDER1/complete", json={"orderStatus": "SUCCESS"}), 404,
            "Order not found for orderId: ORNOSUCHORDER1")


# --- who sees what -------------------------------------------------------------------------------
def test_an_sso_token_is_its_card_holders_token_on_the_marketplace(http, asha, docs_partner):
    order = ok(asha.order("ORD-ASHA", AMAZON, 100, 5))
    assert (order["ekUserId"], order["enKashCardId"], order["totalAmount"]) == (ASHA, ASHA_CARD, 485)
    assert card_balance(docs_partner, ASHA_CARD, "CEK1PU9AOO", "CAQL8YCV3") == 15
    assert ok(asha.cart()) == []
    # the SSO token opens the marketplace only
    refused = http.post("/api/v0/partner/enKashCard/search", json={"companyId": "CEK1PU9AOO", "cardAccountId": "CAQL8YCV3"},
                        headers={**asha.headers, "partnerId": "CRMXWB3ZM"})
    failure(refused, 401, "Invalid access token")


def test_users_see_their_own_and_partners_their_users(http, vikram, asha, partner, docs_partner):
    fund_vikram(docs_partner, 1000)
    mine = ok(vikram.order("ORD-V"))
    theirs = ok(asha.order("ORD-S", AMAZON, 100))
    assert [o["orderReferenceId"] for o in ok(vikram.search())["data"]] == ["ORD-V"]
    assert [o["orderReferenceId"] for o in ok(asha.search())["data"]] == ["ORD-S"]
    failure(vikram.search({"ekUserId": ASHA}), 404, f"User not found for userId: {ASHA}")  # as for a write
    failure(vikram.http.get("/api/v0/cart", params={**VOUCHER, "ekUserId": ASHA}, headers=vikram.headers), 404,
            f"User not found for userId: {ASHA}")
    failure(vikram.details("ORD-S"), 404, "Order not found for orderId: ORD-S")
    failure(vikram.details(theirs["orderId"]), 404, f"Order not found for orderId: {theirs['orderId']}")
    assert ok(asha.cart()) == [] and [c["id"] for c in ok(vikram.cart())] == [2191]

    assert [o["orderReferenceId"] for o in ok(partner.search())["data"]] == ["ORD-S", "ORD-V"]
    assert [o["orderReferenceId"] for o in ok(partner.search({"direction": "ASC"}))["data"]] == ["ORD-V", "ORD-S"]
    assert ok(partner.details("ORD-V")) == ok(vikram.details("ORD-V")) == mine
    assert [c["id"] for c in ok(partner.cart())] == [2191]

    other = Partner(http, OTHER_BASIC, OTHER_LOGIN, OTHER_PARTNER)
    stranger = Holder(http, other.token)
    assert ok(stranger.search()) == {"recordsCount": 0, "data": []} and ok(stranger.cart()) == []
    failure(stranger.details("ORD-V"), 404, "Order not found for orderId: ORD-V")
    failure(stranger.order("ORD-X", ekUserId=VIKRAM), 404, f"User not found for userId: {VIKRAM}")
    failure(stranger.update({"cartId": 2191, "items": {MYNTRA_500: {"quantity": 2}}}), 404, "Cart not found for cartId: 2191")


def test_a_partner_acts_for_a_user_it_names(http, partner, docs_partner):
    fund_vikram(docs_partner, 500)
    failure(partner.order("ORD-P1"), 400, "ekUserId is required: the access token is the partner's, not a card holder's")
    order = ok(partner.order("ORD-P1", ekUserId=VIKRAM))
    assert (order["ekUserId"], order["enKashCardId"]) == (VIKRAM, VIKRAM_CARD)
    cart = ok(partner.add({"productCatalogId": AMAZON, "items": {AMAZON_100: {"quantity": 1}}, "ekUserId": ASHA}))
    assert (cart["ekUserId"], cart["id"]) == (ASHA, 2192)
    assert [c["id"] for c in ok(partner.cart(ekUserId=ASHA))] == [2192]


def test_a_card_holders_token_cannot_call_partner_apis(vikram):
    refused = vikram.http.post("/api/v0/partner/enKashCard/cardAccount/get", json={"companyId": VIKRAM_COMPANY, "cardAccountId": VIKRAM_ACCOUNT},
                               headers={**vikram.headers, "partnerId": "CRMXWB3ZM"})
    failure(refused, 403, "Access is denied: a card holder's token cannot call partner APIs")
    failure(vikram.http.get("/api/v0/coins/balance", params={"userId": "EKQZVMQK"}, headers=vikram.headers), 403,
            "Access is denied: a card holder's token cannot call partner APIs")


def test_order_search_filters_and_pages(http, vikram, docs_partner):
    http.post("/__sandbox/clock", json={"now": "2025-06-01T10:00:00Z", "frozen": True})
    fund_vikram(docs_partner, 5000)
    ok(vikram.order("S1", MYNTRA, 100, 1))
    http.post("/__sandbox/clock", json={"advance": "1h"})
    ok(vikram.order("S2", AMAZON, 500, 2))
    ok(vikram.order("S3", MYNTRA, 500, 1))

    def refs(body: dict[str, Any], **paging: int) -> tuple[int, list[str]]:
        found = ok(vikram.search(body, **paging))
        return found["recordsCount"], [o["orderReferenceId"] for o in found["data"]]

    assert refs({}) == (3, ["S3", "S2", "S1"])
    assert refs({}, limit=1, offset=1) == (3, ["S2"])
    assert refs({"brand": ["Myntra Test"]}) == (2, ["S3", "S1"])
    assert refs({"amountFrom": 490, "amountTo": 970}) == (2, ["S3", "S2"])
    assert refs({"createdOnTo": "2025-06-01T10:30:00Z"}) == (1, ["S1"])
    assert refs({"enkashDiscountFrom": 3, "category": ["E-Commerce"]}) == (1, ["S2"])
    assert refs({"email": "VIKRAM.SINGH@example.com", "companyId": VIKRAM_COMPANY, "aggregator": "REWARD_STORE"})[0] == 3
    assert refs({"aggregatorProductId": MYNTRA_100}) == (1, ["S1"])
    failure(vikram.http.post("/api/v0/partner/search-order", json={}, headers=vikram.headers), 400, "limit is required")
    failure(vikram.search({"createdOnFrom": "yesterday"}), 422, "createdOnFrom is not an ISO-8601 date-time")


# --- documents, faults, settings ---------------------------------------------------------------
def test_the_catalog_and_orders_are_in_the_state_document(http, vikram, docs_partner):
    fund_vikram(docs_partner, 1000)
    order = ok(vikram.order("ORD-SNAP"))
    doc = http.get("/__sandbox/state").json()
    assert len(doc["store"]["products"]) == 6 and len(doc["store"]["orders"]) == 1
    http.post("/__sandbox/reset")
    assert http.get("/__sandbox/health").json()["state"]["orders"] == 0
    assert http.put("/__sandbox/state", json=doc).status_code == 200
    assert ok(vikram.details("ORD-SNAP")) == order  # the token came back with the state too
    assert [c["id"] for c in ok(vikram.cart())] == [2191]


def test_catalog_products_can_be_loaded_at_run_time(http, vikram):
    product = """
catalog:
  - productCatalogId: PC1000000001TEAM
    brand: Team Test
    fulfilment: FAILED
    configResponses: [{productConfigId: PCN1000000001TEAM, mrp: 50, sellRate: 45.5, enkashDiscount: 9, maxQuantity: 3}]
"""
    loaded = http.post("/__sandbox/fixtures", content=product)
    try:
        assert loaded.status_code == 200 and loaded.json()["added"]["products"] == 1
        http.post("/__sandbox/reset")  # a reset forgets tokens: log in again
        vikram = login(http)
        configs = ok(vikram.http.get("/api/v0/partner/search-config/PC1000000001TEAM", headers=vikram.headers))["configResponses"]
        assert configs == [{"productConfigId": "PCN1000000001TEAM", "mrp": 50, "sellRate": 45.5, "enkashDiscount": 9,
                            "maxQuantity": 3, "customAmountEnabled": False}]
        twice = http.post("/__sandbox/fixtures", content=product)
        assert twice.status_code == 422
        assert twice.json()["response_message"] == "Fixtures rejected at catalog[0]: productCatalogId PC1000000001TEAM is defined twice"
    finally:
        http.delete("/__sandbox/fixtures")
    vikram = login(http)
    failure(vikram.http.get("/api/v0/partner/search-config/PC1000000001TEAM", headers=vikram.headers), 404,
            "Product not found for productCatalogId: PC1000000001TEAM")


def test_faults_and_magic_values_reach_create_order(http, vikram, docs_partner):
    fund_vikram(docs_partner, 1000)
    before = state_of(http)
    failure(vikram.http.post("/api/v0/partner/create-order", headers={**vikram.headers, "X-Sandbox-Fault": "status=503"},
                             json={"denomination": 500, "orderReferenceId": "F1", "productCatalogId": MYNTRA, "quantity": 1}),
            503, "Service Unavailable")
    failure(vikram.order("ORDER-503-0001"), 503, "Service Unavailable")
    assert state_of(http) == before
    with pytest.raises(httpx.TransportError):
        vikram.order("ORDER-LOST-0001")
    assert card_balance(docs_partner) == 510  # applied, the response lost
    # the retry carries the same magic reference: it replays (and is lost again), like the magic amount 13.13 ...
    with pytest.raises(httpx.TransportError):
        vikram.order("ORDER-LOST-0001")
    assert card_balance(docs_partner) == 510
    # ... and Fetch Order Info by the reference tells the client what happened
    found = ok(vikram.details("ORDER-LOST-0001"))
    assert (found["orderReferenceId"], found["orderStatus"]) == ("ORDER-LOST-0001", "SUCCESS")


def test_a_fault_or_magic_value_chooses_an_orders_outcome_whatever_its_product(http, vikram, docs_partner):
    http.post("/__sandbox/clock", json={"now": "2025-06-01T10:00:00Z", "frozen": True})
    fund_vikram(docs_partner, 2000)
    header = {**vikram.headers, "X-Sandbox-Fault": "order=failed"}
    body = {"denomination": 500, "orderReferenceId": "ORD-HF", "productCatalogId": MYNTRA, "quantity": 1}
    failed = ok(http.post("/api/v0/partner/create-order", json=body, headers=header))
    assert (failed["orderStatus"], failed["paymentStatus"], failed["vouchers"]) == ("FAILED", "REFUNDED", [])
    assert card_balance(docs_partner) == 2000
    entry = http.get("/__sandbox/journal", params={"reference": "ORD-HF"}).json()["requests"][0]
    assert entry["fault"] == "order=failed (header)"
    assert ok(vikram.order("ORD-HF")) == failed  # the replay, without the header: the first outcome

    armed = http.post("/__sandbox/faults", json={"endpoint": "create-order", "fault": "order=pending; seconds=60", "first": 1})
    assert armed.status_code == 201, armed.text
    try:
        pending = ok(vikram.order("ORD-RULE"))
        assert (pending["orderStatus"], pending["expectedOn"], pending["vouchers"]) == ("PENDING", "2025-06-01T10:01:00.000Z", [])
        assert ok(vikram.order("ORD-AFTER"))["orderStatus"] == "SUCCESS"  # first: 1, so the next is the product's own
    finally:
        http.delete("/__sandbox/faults")
    assert card_balance(docs_partner) == 2000 - 490 - 490

    magic_pending = ok(vikram.order("ORDER-PENDING-0001", AMAZON, 100))
    assert (magic_pending["orderStatus"], magic_pending["expectedOn"]) == ("PENDING", "2025-06-01T10:05:00.000Z")
    magic_failed = ok(vikram.order("ORDER-FAILED-0001", AMAZON, 100))
    assert (magic_failed["orderStatus"], magic_failed["paymentStatus"]) == ("FAILED", "REFUNDED")
    assert card_balance(docs_partner) == 2000 - 490 - 490 - 97
    http.post("/__sandbox/clock", json={"advance": "5m"})
    assert ok(vikram.details("ORDER-PENDING-0001"))["orderStatus"] == "SUCCESS"
    assert ok(vikram.details("ORD-RULE"))["orderStatus"] == "SUCCESS"

    bad = http.post("/api/v0/partner/create-order", json={**body, "orderReferenceId": "ORD-BAD"},
                    headers={**vikram.headers, "X-Sandbox-Fault": "order=failed; seconds=5"})
    assert bad.status_code == 400
    assert bad.json()["response_message"] == (
        "X-Sandbox-Fault: order: seconds= is for order=pending (fulfilled that many seconds later on the sandbox clock)")


@pytest.fixture(scope="module")
def spelled_right() -> Iterator[ServerThread]:
    with ServerThread(Settings(validate_responses=True, seed=7, order_details_key="payload")) as running:
        yield running


def test_order_details_say_paylod_as_printed_or_payload_by_setting(http, vikram, docs_partner, spelled_right):
    fund_vikram(docs_partner, 500)
    ok(vikram.order("ORD-KEY"))
    body = vikram.details("ORD-KEY").json()
    assert list(body) == ["paylod", "response_code", "response_message"]
    by_get = http.get("/api/v0/partner/fetch-order-details/ORD-KEY", headers=vikram.headers).json()
    assert by_get == body
    with httpx.Client(base_url=spelled_right.url) as other:
        token = other.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data=VIKRAM_LOGIN).json()["access_token"]
        holder = Holder(other, token)
        missing = holder.details("ORD-KEY")
        assert missing.json() == {"response_code": 1, "response_message": "Order not found for orderId: ORD-KEY",
                                  "payload": "Order not found for orderId: ORD-KEY"}
        failure(holder.order("ORD-KEY"), 200, "Insufficient balance in card account")  # its own state: Vikram has 0 there
        funded = other.post(f"/__sandbox/accounts/{VIKRAM_ACCOUNT}/load", json={"amount": 500})
        assert funded.status_code == 200, funded.text
        partner_token = other.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data=DOCS_LOGIN).json()["access_token"]
        allocated = other.post("/api/v0/partner/enKashCard/create-allocate-points", json={
            "companyId": VIKRAM_COMPANY, "cardAccountId": VIKRAM_ACCOUNT, "enkashCardId": VIKRAM_CARD, "loadAmount": 500,
            "uniqueReferenceNumber": "FUND-KEY", "transactionCode": "ALLOCATION", "transactionType": "CR", "type": "ALLOCATE_POINT"},
            headers={"Authorization": f"Bearer {partner_token}", "partnerId": "CRMXWB3ZM"})
        assert allocated.json()["code"] == 0, allocated.text
        placed = ok(holder.order("ORD-KEY"))
        spelled = holder.details("ORD-KEY").json()
        assert list(spelled) == ["payload", "response_code", "response_message"]
        assert spelled["payload"] == placed
        assert other.get("/api/v0/partner/fetch-order-details/ORD-KEY", headers=holder.headers).json() == spelled
