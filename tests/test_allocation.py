"""create-allocate-points in its three modes, its errors, idempotency and isolation, over HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import DOCS_ACCOUNT, DOCS_COMPANY, OTHER_ACCOUNT, OTHER_COMPANY, new_user

START_BALANCE = 1000000  # CAQL8YCV3's availableBalance in fixtures/default.yaml
ASHA_CARD = "EKCDM5AVZY"  # seeded with otbBalance 500, mobile 9876500001


def ok(response):
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 0 and body["message"] == "Success", body
    return body["payload"]


def failed(response, status, message):
    assert response.status_code == status, response.text
    assert response.json() == {"response_code": 1, "response_message": message, "payload": message}


def test_new_user_gets_a_card_and_the_points(docs_partner):
    payload = ok(docs_partner.allocate(**new_user()))
    assert set(payload) == {
        "enKashCardId", "userId", "cardAccountId", "token", "maskedNumber", "email", "mobile", "title",
        "firstName", "gender", "enkashCardTxnId", "pgReferenceNumber", "otbBalance",
    }
    assert payload["enKashCardId"].startswith("EKC") and len(payload["enKashCardId"]) == 10
    assert payload["userId"].startswith("EK") and len(payload["userId"]) == 8
    assert payload["enkashCardTxnId"].startswith("ECT") and len(payload["enkashCardTxnId"]) == 13
    assert len(payload["token"]) == 20 and int(payload["token"], 16) >= 0
    assert payload["maskedNumber"] == "XXXX XXXX XXXX 0001"
    assert payload["cardAccountId"] == DOCS_ACCOUNT
    assert (payload["email"], payload["mobile"], payload["title"], payload["firstName"], payload["gender"]) == (
        "new.person@example.com", "9000000001", "Ms", "Nisha", "F")
    assert payload["pgReferenceNumber"] == "REF-NEW-1"
    assert payload["otbBalance"] == 100

    account = docs_partner.account()
    assert account["availableBalance"] == START_BALANCE - 100
    assert account["totalCards"] == 3 and account["activeCards"] == 3
    assert account["totalAllocationPoint"] == 100
    assert account["currentMonthAllocationPoint"] == 100
    assert account["availableCardBalance"] == 500 + 100
    card = docs_partner.card(payload["enKashCardId"])
    assert card["otbBalance"] == 100 and card["userId"] == payload["userId"]


def test_top_up_by_card_id_accepts_both_spellings(docs_partner):
    payload = ok(docs_partner.allocate(enkashCardId=ASHA_CARD, loadAmount=25.5, uniqueReferenceNumber="T1", cardAccountId=None))
    assert payload["otbBalance"] == 525.5 and payload["enKashCardId"] == ASHA_CARD
    payload = ok(docs_partner.allocate(enKashCardId=ASHA_CARD, loadAmount=0.5, uniqueReferenceNum="T2"))
    assert payload["otbBalance"] == 526
    assert docs_partner.account()["availableBalance"] == START_BALANCE - 26


def test_top_up_by_account_and_mobile_credits_the_existing_card(docs_partner):
    payload = ok(docs_partner.allocate(mobile="9876500001", loadAmount=10, uniqueReferenceNumber="T3"))
    assert payload["enKashCardId"] == ASHA_CARD and payload["otbBalance"] == 510
    assert docs_partner.account()["totalCards"] == 2


def test_debit_moves_points_back_to_the_account(docs_partner):
    payload = ok(docs_partner.allocate(enkashCardId=ASHA_CARD, transactionType="DR", type="UNALLOCATE_POINT",
                                       loadAmount=200, uniqueReferenceNumber="D1"))
    assert payload["otbBalance"] == 300
    account = docs_partner.account()
    assert account["availableBalance"] == START_BALANCE + 200
    assert account["totalAllocationPoint"] == 0  # allocation counters count credits only
    assert account["availableCardBalance"] == 300


def test_points_are_exact_decimals(docs_partner):
    for index, amount in enumerate(["0.1", "0.2", "0.3"]):
        ok(docs_partner.allocate(enkashCardId=ASHA_CARD, loadAmount=Decimal(amount), uniqueReferenceNumber=f"dec{index}"))
    assert docs_partner.card(ASHA_CARD)["otbBalance"] == 500.6
    response = docs_partner.post("/search", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "enKashCardId": ASHA_CARD})
    assert '"otbBalance":500.6' in response.text
    assert docs_partner.account()["availableBalance"] == 999999.4


def test_credit_beyond_the_account_balance_fails_and_changes_nothing(docs_partner):
    before = docs_partner.account()
    failed(docs_partner.allocate(**new_user(loadAmount=START_BALANCE + 1)), 200, "Insufficient balance in card account")
    assert docs_partner.account() == before
    search = docs_partner.post("/search", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT})
    assert search.json()["payload"]["recordsCount"] == 2  # no user or card was created


def test_debit_beyond_the_card_balance_fails_and_changes_nothing(docs_partner):
    failed(docs_partner.allocate(enkashCardId=ASHA_CARD, transactionType="DR", type="UNALLOCATE_POINT",
                                 loadAmount=500.01, uniqueReferenceNumber="D2"), 200, "Insufficient balance in card account")
    assert docs_partner.card(ASHA_CARD)["otbBalance"] == 500
    # the reference was not consumed by the failure
    ok(docs_partner.allocate(enkashCardId=ASHA_CARD, transactionType="DR", type="UNALLOCATE_POINT",
                             loadAmount=500, uniqueReferenceNumber="D2"))
    assert docs_partner.card(ASHA_CARD)["otbBalance"] == 0


def test_same_reference_and_body_replays_the_first_result(docs_partner):
    first = ok(docs_partner.allocate(**new_user()))
    again = ok(docs_partner.allocate(**new_user()))
    assert again == first
    # the other spelling of the key is the same request
    fields = new_user()
    fields["uniqueReferenceNum"] = fields.pop("uniqueReferenceNumber")
    assert ok(docs_partner.allocate(**fields)) == first
    assert docs_partner.account()["availableBalance"] == START_BALANCE - 100
    assert docs_partner.card(first["enKashCardId"])["otbBalance"] == 100


def test_an_amount_written_differently_is_the_same_request(docs_partner):
    first = ok(docs_partner.allocate(enkashCardId=ASHA_CARD, loadAmount=11, uniqueReferenceNumber="N1"))
    for spelled in (Decimal("11.0"), Decimal("11.00"), Decimal("1.1E+1")):
        assert ok(docs_partner.allocate(enkashCardId=ASHA_CARD, loadAmount=spelled, uniqueReferenceNumber="N1")) == first
    assert docs_partner.card(ASHA_CARD)["otbBalance"] == 511


def test_replay_shows_the_balance_as_it_was_then(docs_partner):
    first = ok(docs_partner.allocate(enkashCardId=ASHA_CARD, loadAmount=1, uniqueReferenceNumber="R1"))
    ok(docs_partner.allocate(enkashCardId=ASHA_CARD, loadAmount=1, uniqueReferenceNumber="R2"))
    assert ok(docs_partner.allocate(enkashCardId=ASHA_CARD, loadAmount=1, uniqueReferenceNumber="R1")) == first
    assert first["otbBalance"] == 501


def test_same_reference_with_another_body_is_refused(docs_partner):
    ok(docs_partner.allocate(**new_user()))
    failed(docs_partner.allocate(**new_user(loadAmount=101)), 200,
           "Duplicate uniqueReferenceNumber REF-NEW-1: it was already used for a different request")
    assert docs_partner.account()["availableBalance"] == START_BALANCE - 100


def test_references_are_per_partner(docs_partner, other_partner):
    ok(docs_partner.allocate(**new_user()))
    other = other_partner.post("/create-allocate-points", {
        "companyId": OTHER_COMPANY, "cardAccountId": OTHER_ACCOUNT, "transactionCode": "ALLOCATION",
        "transactionType": "CR", "type": "ALLOCATE_POINT", **new_user(),
    })
    assert other.status_code == 200 and other.json()["code"] == 0


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"companyId": None}, 400, "companyId is required"),
        ({"loadAmount": None}, 400, "loadAmount is required"),
        ({"uniqueReferenceNumber": None}, 400, "uniqueReferenceNumber or uniqueReferenceNum is required"),
        ({"cardAccountId": None}, 400, "cardAccountId or enkashCardId or enKashCardId is required"),
        ({"email": None}, 400, "email is required"),
        ({"gender": None}, 400, "gender is required"),
        ({"loadAmount": "11"}, 422, "loadAmount must be a number"),
        ({"loadAmount": 0}, 422, "loadAmount must be greater than 0"),
        ({"loadAmount": -5}, 422, "loadAmount must be greater than 0"),
        ({"loadAmount": Decimal("1.005")}, 422, "loadAmount must have at most 2 decimal places"),
        ({"loadAmount": 10000001}, 422, "loadAmount must be at most 10000000"),
        ({"transactionType": "XX"}, 422, "transactionType must be one of CR, DR"),
        ({"type": "REFUND"}, 422, "type must be one of ALLOCATE_POINT, UNALLOCATE_POINT"),
        ({"transactionCode": "LOAD"}, 422, "transactionCode must be one of ALLOCATION"),
        ({"type": "UNALLOCATE_POINT"}, 422, "transactionType CR cannot be used with type UNALLOCATE_POINT"),
        ({"mobile": "12345"}, 422, "mobile must be at least 10 characters"),
        ({"mobile": "98765432ab"}, 422, "mobile has an invalid format"),
        ({"email": "not-an-email"}, 422, "email has an invalid format"),
        ({"title": "Dr"}, 422, "title must be one of Mr, Mrs, Ms"),
        ({"companyId": 12}, 422, "companyId must be a string"),
        ({"firstName": "x" * 101}, 422, "firstName must be at most 100 characters"),
        ({"companyId": "CEKNOPE000"}, 404, "Card account not found for companyId: CEKNOPE000 and cardAccountId: CAQL8YCV3"),
        ({"cardAccountId": "CANOPE1"}, 404, "Card account not found for companyId: CEK1PU9AOO and cardAccountId: CANOPE1"),
    ],
)
def test_bad_requests_name_the_field_and_change_nothing(docs_partner, fields, status, message):
    before = docs_partner.account()
    failed(docs_partner.allocate(**{**new_user(), **fields}), status, message)
    assert docs_partner.account() == before


def test_debit_for_unknown_holder_and_unknown_card(docs_partner):
    failed(docs_partner.allocate(mobile="9999999999", transactionType="DR", type="UNALLOCATE_POINT", loadAmount=1,
                                 uniqueReferenceNumber="X1"), 404,
           "No card in cardAccountId: CAQL8YCV3 for the given mobile/email")
    failed(docs_partner.allocate(enkashCardId="EKCNOPE000", loadAmount=1, uniqueReferenceNumber="X2"), 404,
           "EnKash card not found for enKashCardId: EKCNOPE000")


def test_contact_checks_on_top_up(docs_partner):
    failed(docs_partner.allocate(enkashCardId=ASHA_CARD, mobile="9000000009", loadAmount=1, uniqueReferenceNumber="C1"),
           422, "mobile does not match the card holder of enKashCardId: EKCDM5AVZY")
    # mobile of one holder, e-mail of another
    failed(docs_partner.allocate(mobile="9876500001", email="test.user@example.com", loadAmount=1, uniqueReferenceNumber="C2"),
           422, "mobile and email belong to different card holders in this card account")


def test_malformed_and_wrong_content_type(docs_partner):
    response = docs_partner.http.post("/api/v0/partner/enKashCard/create-allocate-points", content=b'{"companyId": ',
                                      headers={**docs_partner.headers, "Content-Type": "application/json"})
    failed(response, 400, "Malformed JSON request body: Expecting value at line 1 column 15")
    response = docs_partner.http.post("/api/v0/partner/enKashCard/create-allocate-points", content=b"companyId=1",
                                      headers={**docs_partner.headers, "Content-Type": "text/plain"})
    failed(response, 415, "Content-Type must be application/json")
    response = docs_partner.http.post("/api/v0/partner/enKashCard/create-allocate-points", content=b"[1, 2]",
                                      headers={**docs_partner.headers, "Content-Type": "application/json"})
    failed(response, 422, "body must be a JSON object")


def test_unknown_paths_and_methods_get_the_envelope(docs_partner):
    failed(docs_partner.post("/create-allocate-pointz", {}), 404, "No API at /api/v0/partner/enKashCard/create-allocate-pointz")
    response = docs_partner.http.get("/api/v0/partner/enKashCard/create-allocate-points", headers=docs_partner.headers)
    failed(response, 405, "Method GET is not allowed on /api/v0/partner/enKashCard/create-allocate-points")
    assert response.headers["allow"] == "POST"


def test_incentive_path_and_account_work_the_same(docs_partner):
    payload = ok(docs_partner.post("/points/allocate", {
        "companyId": DOCS_COMPANY, "cardAccountId": "CAC7975", "transactionCode": "ALLOCATION",
        "transactionType": "CR", "type": "ALLOCATE_POINT", **new_user(uniqueReferenceNumber="INC-1"),
    }))
    assert payload["cardAccountId"] == "CAC7975" and payload["otbBalance"] == 100
    assert docs_partner.account(account="CAC7975")["availableBalance"] == 250000 - 100
    # the same holder in the reward account is a different card
    reward = ok(docs_partner.allocate(**new_user(uniqueReferenceNumber="RWD-1")))
    assert reward["enKashCardId"] != payload["enKashCardId"]


def test_a_partner_cannot_touch_another_partners_accounts_or_cards(docs_partner, other_partner):
    body = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "transactionCode": "ALLOCATION",
            "transactionType": "CR", "type": "ALLOCATE_POINT", **new_user()}
    failed(other_partner.post("/create-allocate-points", body), 404,
           "Card account not found for companyId: CEK1PU9AOO and cardAccountId: CAQL8YCV3")
    by_card = {**body, "companyId": OTHER_COMPANY, "enkashCardId": ASHA_CARD}
    del by_card["cardAccountId"]
    failed(other_partner.post("/create-allocate-points", by_card), 404,
           "EnKash card not found for enKashCardId: EKCDM5AVZY")
    failed(other_partner.post("/cardAccount/get", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}), 404,
           "Card account not found for companyId: CEK1PU9AOO and cardAccountId: CAQL8YCV3")
    failed(other_partner.post("/search", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}), 404,
           "Card account not found for companyId: CEK1PU9AOO and cardAccountId: CAQL8YCV3")
    failed(other_partner.post("/transaction/all", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}), 404,
           "Card account not found for companyId: CEK1PU9AOO and cardAccountId: CAQL8YCV3")
    # mixing its own company with another partner's account is refused too
    failed(other_partner.post("/cardAccount/get", {"companyId": OTHER_COMPANY, "cardAccountId": DOCS_ACCOUNT}), 404,
           "Card account not found for companyId: CEKBVCGMR1 and cardAccountId: CAQL8YCV3")
    assert docs_partner.card(ASHA_CARD)["otbBalance"] == 500


def test_ids_are_reproducible_for_a_seed(http, docs_partner):
    first = ok(docs_partner.allocate(**new_user()))
    http.post("/__sandbox/reset", params={"seed": 7})
    from conftest import DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER, Partner

    again = ok(Partner(http, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER).allocate(**new_user()))
    assert (again["enKashCardId"], again["userId"], again["token"], again["enkashCardTxnId"]) == (
        first["enKashCardId"], first["userId"], first["token"], first["enkashCardTxnId"])
