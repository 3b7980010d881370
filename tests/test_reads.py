"""cardAccount/get, search, transaction/all and sso-token, over HTTP."""

from __future__ import annotations

from conftest import DOCS_ACCOUNT, DOCS_BASIC, DOCS_COMPANY, DOCS_LOGIN, DOCS_PARTNER, Partner, new_user

ASHA_CARD = "EKCDM5AVZY"


def payload(response, code_key="code"):
    assert response.status_code == 200, response.text
    body = response.json()
    assert body[code_key] == 0, body
    return body["payload"]


def test_account_details_as_the_docs_print_them(docs_partner):
    body = docs_partner.post("/cardAccount/get", {"cardAccountId": "CAVBMRFE8", "companyId": "CEK7T1WMC6"}).json()
    assert body["response_code"] == 0 and body["response_message"] == "Success"
    assert body["payload"] == {
        "cardAccountId": "CAVBMRFE8",
        "companyId": "CEK7T1WMC6",
        "companyName": "Vikram Singh",
        "creditLimit": 0,
        "dynamicLimit": 0,
        "usedCreditLimit": -990553.44,
        "availableBalance": 898138,
        "availableCardBalance": 92415.44,
        "primaryEnKashCard": {
            "enKashCardId": "EKCQMY9BQ0", "userId": "EK8IHN4B", "cardAccountId": "CAVBMRFE8",
            "token": "30acb157bcea5ae6d3b9", "maskedNumber": "2004 01XX XXXX XX87", "expiryMonth": "08",
        },
        "totalCards": 1,
        "activeCards": 1,
        "totalAllocationPoint": 0,
        "totalRedemptionPoint": 0,
        "currentMonthAllocationPoint": 0,
        "currentMonthRedemptionPoint": 0,
    }


def test_month_counters_follow_the_sandbox_clock(http, docs_partner):
    http.post("/__sandbox/clock", json={"now": "2026-01-31T23:59:00Z", "frozen": True})
    docs_partner.allocate(enkashCardId=ASHA_CARD, loadAmount=40, uniqueReferenceNumber="M1")
    assert http.post(f"/__sandbox/cards/{ASHA_CARD}/redeem", json={"amount": 15}).status_code == 200
    account = docs_partner.account()
    assert (account["currentMonthAllocationPoint"], account["currentMonthRedemptionPoint"]) == (40, 15)
    http.post("/__sandbox/clock", json={"advance": "2m"})
    docs_partner.allocate(enkashCardId=ASHA_CARD, loadAmount=2, uniqueReferenceNumber="M2")
    account = docs_partner.account()
    assert (account["currentMonthAllocationPoint"], account["currentMonthRedemptionPoint"]) == (2, 0)
    assert (account["totalAllocationPoint"], account["totalRedemptionPoint"]) == (42, 15)
    assert account["availableCardBalance"] == 500 + 42 - 15


def test_account_details_follow_every_write(http, docs_partner):
    """cardAccount/get keeps its sums over the cards (per ledger length and count of cards) and its
    bytes (per every value printed): after each kind of write it says what the cards say, read
    through search, both for a few postings since (brought up to date) and for many (made again)."""
    import json
    from decimal import Decimal

    partner = docs_partner

    def read(path: str, body: dict) -> dict:
        response = partner.post(path, body)
        assert response.status_code == 200, response.text
        return json.loads(response.content, parse_float=Decimal)["payload"]  # type: ignore[no-any-return]

    def says_what_the_cards_say(company: str = DOCS_COMPANY, account: str = DOCS_ACCOUNT) -> dict:
        details = read("/cardAccount/get", {"companyId": company, "cardAccountId": account})
        cards = read("/search", {"companyId": company, "cardAccountId": account})["data"]
        assert details["availableCardBalance"] == sum((c["otbBalance"] for c in cards), Decimal(0))
        assert (details["totalCards"], details["activeCards"]) == (len(cards), sum(c["cardStatus"] == "ACTIVE" for c in cards))
        assert details["usedCreditLimit"] == -(details["availableBalance"] + details["availableCardBalance"])
        return details

    before = says_what_the_cards_say()
    payload(docs_partner.allocate(enkashCardId=ASHA_CARD, loadAmount=12.5, uniqueReferenceNumber="F1"))
    after = says_what_the_cards_say()
    assert after["availableCardBalance"] == before["availableCardBalance"] + Decimal("12.5")
    assert after["totalAllocationPoint"] == before["totalAllocationPoint"] + Decimal("12.5")
    payload(docs_partner.allocate(**new_user(loadAmount=7)))  # a new card
    assert says_what_the_cards_say()["totalCards"] == before["totalCards"] + 1
    assert http.post(f"/__sandbox/cards/{ASHA_CARD}/redeem", json={"amount": 0.5}).status_code == 200
    assert says_what_the_cards_say()["totalRedemptionPoint"] == before["totalRedemptionPoint"] + Decimal("0.5")
    for n in range(8):  # more postings than the account has cards
        payload(docs_partner.allocate(enkashCardId=ASHA_CARD, loadAmount=1, uniqueReferenceNumber=f"F-many-{n}"))
    assert says_what_the_cards_say()["availableCardBalance"] == before["availableCardBalance"] + 12 + 7 + 8
    assert http.post(f"/__sandbox/accounts/{DOCS_ACCOUNT}/load", json={"amount": 1000}).status_code == 200
    assert says_what_the_cards_say()["availableBalance"] == after["availableBalance"] - 7 - 8 + 1000
    says_what_the_cards_say("CEK7T1WMC6", "CAVBMRFE8")  # another account of the same store
    assert http.post("/__sandbox/reset", params={"seed": 7}).status_code == 200
    partner = Partner(http, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)  # the reset dropped the token
    assert says_what_the_cards_say() == before


def test_search_lists_every_card_of_the_account(docs_partner):
    created = payload(docs_partner.allocate(**new_user()))
    result = payload(docs_partner.post("/search", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}))
    assert result["recordsCount"] == 3
    assert [c["enKashCardId"] for c in result["data"]] == [ASHA_CARD, "EKC9MKS5RM", created["enKashCardId"]]
    docs_card = result["data"][1]
    assert docs_card == {
        "enKashCardId": "EKC9MKS5RM", "userId": "EKPDC37K", "cardAccountId": DOCS_ACCOUNT, "expiryMonth": "",
        "expiryYear": "", "email": "test.user@example.com", "mobile": "6667778889", "title": "Mr", "firstName": "Test",
        "gender": "M", "token": docs_card["token"], "maskedNumber": "XXXX XXXX XXXX 8889", "otbBalance": 0,
        "cardStatus": "ACTIVE",
    }


def test_search_pages_with_limit_and_offset(docs_partner):
    page = payload(docs_partner.post("/search", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT},
                                     params={"limit": 1, "offset": 1}))
    assert page["recordsCount"] == 2 and [c["enKashCardId"] for c in page["data"]] == ["EKC9MKS5RM"]
    bad = docs_partner.post("/search", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}, params={"limit": "x"})
    assert bad.status_code == 422 and bad.json()["response_message"] == "limit has an invalid format"
    bad = docs_partner.post("/search", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}, params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["response_message"] == "limit has an invalid format"  # 1-1000 (query schema)


def test_search_for_an_unknown_card(docs_partner):
    response = docs_partner.post("/search", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "enKashCardId": "EKCE54IDPE"})
    assert response.status_code == 404  # a card of another account of the same partner
    assert response.json()["response_message"] == "EnKash card not found for enKashCardId: EKCE54IDPE"


def test_transactions_by_reference_card_and_filters(http, docs_partner):
    http.post("/__sandbox/clock", json={"now": "2026-03-01T10:00:00Z", "frozen": True})
    credit = payload(docs_partner.allocate(enkashCardId=ASHA_CARD, loadAmount=10, uniqueReferenceNumber="TX-1"))
    http.post("/__sandbox/clock", json={"advance": "1h"})
    debit = payload(docs_partner.allocate(enkashCardId=ASHA_CARD, transactionType="DR", type="UNALLOCATE_POINT",
                                          loadAmount=4, uniqueReferenceNumber="TX-2"))
    base = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}

    by_ref = payload(docs_partner.post("/transaction/all", {**base, "pgReferenceNumber": "TX-1"}))
    assert by_ref["recordsCount"] == 1
    assert by_ref["data"][0] == {
        "enKashCardTransactionId": credit["enkashCardTxnId"], "maskedCard": "XXXX XXXX XXXX 0001",
        "enkashCardId": ASHA_CARD, "userId": "EKQ3M7DA", "cardHolderName": "Asha", "companyName": "Docs Demo Company",
        "companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "principalAmount": 10, "balance": 510,
        "pgReferenceNumber": "TX-1", "description": "Points allocated", "currency": "INR", "cardTransactionType": "CR",
        "status": "SUCCESS", "type": "ALLOCATE_POINT", "createdOn": "2026-03-01T10:00:00.000Z",
        "txnDate": "2026-03-01T10:00:00.000Z", "modifiedOn": "2026-03-01T10:00:00.000Z",
        "cardKitNumber": None, "fcyAmount": None, "fcyCurrency": None, "txnDetails": None,
    }
    card_history = payload(docs_partner.post("/transaction/all", {**base, "enKashCardId": ASHA_CARD}))
    assert card_history["recordsCount"] == 3  # opening balance, credit, debit; newest first
    assert [t["type"] for t in card_history["data"]] == ["UNALLOCATE_POINT", "ALLOCATE_POINT", "ALLOCATE_POINT"]
    assert [t["balance"] for t in card_history["data"]] == [506, 510, 500]
    assert card_history["data"][0]["enKashCardTransactionId"] == debit["enkashCardTxnId"]

    def count(**filters):
        return payload(docs_partner.post("/transaction/all", {**base, **filters}))["recordsCount"]

    assert count(cardTransactionType="DR") == 1
    assert count(amountFrom=5, amountTo=100) == 1  # 10 only (500 opening is above, 4 below)
    assert count(txnDateFrom="2026-03-01T10:30:00.000Z", txnDateTo="2026-03-02T00:00:00Z") == 1
    assert count(pgReferenceNumbers=["TX-1", "TX-2", "nope"]) == 2
    assert count(enKashTransactionIds=[credit["enkashCardTxnId"]]) == 1
    assert count(userId="EKQ3M7DA") == 3
    assert count(cardHolderName="asha") == 3
    assert count(status="FAILED") == 0
    assert count() == 3  # only Asha has a non-zero opening balance in this account
    page = payload(docs_partner.post("/transaction/all", base, params={"limit": 2, "offset": 2}))
    assert page["recordsCount"] == 3 and len(page["data"]) == 1


def test_transaction_errors(docs_partner):
    response = docs_partner.post("/transaction/all", {"companyId": DOCS_COMPANY})
    assert response.status_code == 400 and response.json()["response_message"] == "cardAccountId is required"
    response = docs_partner.post("/transaction/all", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT,
                                                      "txnDateFrom": "yesterday"})
    assert response.status_code == 422 and response.json()["response_message"] == "txnDateFrom has an invalid format"


def test_sso_token_for_a_holder_and_for_the_admin(docs_partner):
    response = docs_partner.post("/sso-token", {"cardAccountId": DOCS_ACCOUNT, "companyId": DOCS_COMPANY, "enkashCardId": ASHA_CARD})
    token = payload(response, "response_code")
    assert len(token) == 26 and token.isalnum()
    assert response.headers["x-sandbox-sso-redirect-url"] == f"https://invoice-uat.enkash.in/sso/{token}/employee_rewards/hrms"
    admin = docs_partner.post("/sso-token", {"cardAccountId": DOCS_ACCOUNT, "companyId": DOCS_COMPANY, "enkashCardId": "EKCP4RM1RY"})
    admin_token = payload(admin, "response_code")
    assert admin.headers["x-sandbox-sso-redirect-url"].endswith(f"/sso/{admin_token}/reward_account/hrms")
    missing = docs_partner.post("/sso-token", {"cardAccountId": DOCS_ACCOUNT, "companyId": DOCS_COMPANY})
    assert missing.status_code == 400
    assert missing.json()["response_message"] == "enkashCardId or enKashCardId is required"
    unknown = docs_partner.post("/sso-token", {"cardAccountId": DOCS_ACCOUNT, "companyId": DOCS_COMPANY, "enkashCardId": "EKCE54IDPE"})
    assert unknown.status_code == 404


def test_sandbox_account_load_and_redeem(http, docs_partner):
    loaded = http.post(f"/__sandbox/accounts/{DOCS_ACCOUNT}/load", json={"amount": 250.5})
    assert loaded.status_code == 200 and loaded.json()["availableBalance"] == 1000250.5
    redeemed = http.post(f"/__sandbox/cards/{ASHA_CARD}/redeem", json={"amount": 600})
    assert redeemed.status_code == 200
    assert redeemed.json()["response_message"] == "Insufficient balance in card account"
    assert http.post(f"/__sandbox/cards/{ASHA_CARD}/redeem", json={"amount": 0}).status_code == 422
    assert http.post("/__sandbox/cards/EKCNOPE000/redeem", json={"amount": 1}).status_code == 404
    assert docs_partner.account()["availableBalance"] == 1000250.5
