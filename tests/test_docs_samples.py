"""Every sample request EnKash's docs print, sent byte for byte to a fresh default sandbox, and its
answer compared with the response the docs print: every documented field's value and JSON type.

Substituted: the bearer token (the docs' are expired placeholders), the bulk row's e-mail (the docs
print a real person's address) and, where the docs print placeholders ("account_id", "string"), the
placeholder sample is sent as printed too and must get the documented 404. Values EnKash generates
(ids, tokens) are compared by pattern; a value the docs print for a different request than the one
beside it is compared by type only, and the reason is given.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from conftest import DOCS_BASIC, OTHER_BASIC, OTHER_LOGIN, PARTNER_PATH

from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread

TOKEN_FORM = "username=9167019711&password=Test@1234567&grant_type=password&clientId=CEK1GZBO6A"
EKC, EKU, ECT, HEX20 = r"EKC[A-Z0-9]{7}", r"EK[A-Z0-9]{6}", r"ECT[A-Z0-9]{10}", r"[0-9a-f]{20}"
TYPE_ONLY = None  # a value the docs print for another request: only its JSON type is compared

# RWD-1, https://docs.enkash.com/api-9796905 (and INC-1 api-9796911): the body exactly as printed
ALLOCATION_SAMPLE = (
    '{\n  "companyId": "CEK1PU9AOO",\n  "cardAccountId": "CAQL8YCV3",\n  "transactionCode": "ALLOCATION",\n'
    '  "transactionType": "CR",\n  "type": "ALLOCATE_POINT",\n  "email": "xyz2@gmail.com",\n  "mobile": "9600098867",\n'
    '  "title": "Mr",\n  "firstName": "hedfdfg",\n  "gender": "M",\n  "loadAmount": 11,\n  "uniqueReferenceNum": "TEST234236"\n}'
)
# the composite response of api-9796905 and the guide https://docs.enkash.com/doc-1039425
ALLOCATED = {
    "code": 0, "message": "Success",
    "payload": {
        "enKashCardId": "EKC04AZHXP", "userId": "EKIQB4L2", "cardAccountId": "CAQL8YCV3", "token": "16b9c31b42643796e064",
        "maskedNumber": "XXXX XXXX XXXX 8867", "enkashCardTxnId": "ECTRSZJ8CRJ2E", "pgReferenceNumber": "TEST234236",
        "otbBalance": 11,
    },
}
ALLOCATED_IDS = {"payload.enKashCardId": EKC, "payload.userId": EKU, "payload.token": HEX20, "payload.enkashCardTxnId": ECT}
USER_CARD = {  # RWD-5's response, twin https://docs.enkash.com/api-24480521 (the e-mail is obfuscated there)
    "code": 0, "message": "Success",
    "payload": {"recordsCount": 1, "data": [{
        "enKashCardId": "EKC9MKS5RM", "userId": "EKPDC37K", "cardAccountId": "CAQL8YCV3", "expiryMonth": "", "expiryYear": "",
        "email": "<email>", "mobile": "6667778889", "title": "Mr", "firstName": "Test",
    }]},
}
CARD_BODY = '{"cardAccountId": "CAQL8YCV3", "companyId" : "CEK1PU9AOO", "enKashCardId": "EKC9MKS5RM"}'
ACCOUNT_DETAILS = {  # RWD-3, https://docs.enkash.com/api-9796909, as printed
    "response_code": 0, "response_message": "Success",
    "payload": {
        "cardAccountId": "CAVBMRFE8", "companyId": "CEK7T1WMC6", "companyName": "Vikram Singh", "creditLimit": 0,
        "dynamicLimit": 0, "usedCreditLimit": -990553.44, "availableBalance": 898138, "availableCardBalance": 92415.44,
        "primaryEnKashCard": {
            "enKashCardId": "EKCQMY9BQ0", "userId": "EK8IHN4B", "cardAccountId": "CAVBMRFE8", "token": "30acb157bcea5ae6d3b9",
            "maskedNumber": "2004 01XX XXXX XX87", "expiryMonth": "08",
        },
    },
}
COIN_CONFIG = {"response_code": 0, "response_message": "Success"}

# (id, method, path, partnerId, body as printed, expected response, {path: pattern or TYPE_ONLY}, status)
SAMPLES: list[tuple[str, str, str, str | None, str | None, Any, dict[str, str | None], int]] = [
    ("AUTH-1 token (api-9796904)", "POST", "/oauth/token", None, TOKEN_FORM,
     {"access_token": "bCFIP675fIyGKIf6CWak43LF1rI", "token_type": "bearer", "refresh_token": "i2UQSYGeDZPogy_V6szNOi5Q0W0",
      "expires_in": 86399, "scope": "read write trust"},
     {"access_token": r"[A-Za-z0-9_-]{27}", "refresh_token": r"[A-Za-z0-9_-]{27}"}, 200),
    ("SSO-1 sso-token (api-9796903; response not captured)", "POST", "/sso-token", "CRMXWB3ZM",
     '{"cardAccountId": "CAQL8YCV3", "companyId": "CEK1PU9AOO", "enkashCardId": "EKCDM5AVZY"}',
     {"response_code": 0, "response_message": "Success", "payload": "aF5V6hPScEd9mCowJmbZFKk5Xg"},
     {"payload": r"[A-Za-z0-9]{26}"}, 200),
    ("RWD-1 create-allocate-points (api-9796905)", "POST", "/create-allocate-points", "CRMXWB3ZM", ALLOCATION_SAMPLE,
     ALLOCATED, ALLOCATED_IDS, 200),
    ("INC-1 incentive allocation (api-9796911)", "POST", "/create-allocate-points", "CRMXWB3ZM", ALLOCATION_SAMPLE,
     ALLOCATED, ALLOCATED_IDS, 200),
    ("INC-1 incentive guide's path and spelling (doc-1039496)", "POST", "/points/allocate", "CRMXWB3ZM",
     ALLOCATION_SAMPLE.replace('"uniqueReferenceNum"', '"uniqueReferenceNumber"'), ALLOCATED, ALLOCATED_IDS, 200),
    ("RWD-2 bulk (api-9796906; its response example answers another upload)", "POST",
     "/bulk-create-allocate-points-json?companyId=CEKBVCGMR1&cardAccountId=CA1ZS96&isPointsAllocation=true", "CRMTTTMUF",
     '[\n    {\n"title": "Mr" ,\n"name": "John hrllo",\n"email": "john.hrllo@example.com",\n"mobile": "6836111111",\n'
     '"loadAmount": 100,\n"remarks": "good",\n"uniqueReferenceNumber": "test123457"\n}\n]',
     {"code": 0, "message": "Success", "payload": {"successBulkEnKashCardCreateDTOs": [{
         "email": "johndee@email.com", "name": "John Dee", "mobile": "6776543210", "title": "Mr", "loadAmount": 10,
         "companyId": "CEKCDVT1UV", "cardAccountId": "CAF0RX8N3"}]}},
     {f"payload.successBulkEnKashCardCreateDTOs[0].{k}": TYPE_ONLY
      for k in ("email", "name", "mobile", "loadAmount", "companyId", "cardAccountId")}, 200),
    ("RWD-3 cardAccount/get as printed: placeholders (api-9796909)", "POST", "/cardAccount/get", "CRMXWB3ZM",
     '{"cardAccountId": "account_id", "companyId": "company_id"}',
     {"response_code": 1, "response_message": "Card account not found for companyId: company_id and cardAccountId: account_id"},
     {}, 404),
    ("RWD-3 cardAccount/get with the response's own ids (api-9796909)", "POST", "/cardAccount/get", "CRMXWB3ZM",
     '{"cardAccountId": "CAVBMRFE8", "companyId": "CEK7T1WMC6"}', ACCOUNT_DETAILS, {}, 200),
    ("RWD-5 Get User Card Details (api-13454278, twin api-24480521)", "POST", "/search", "CRMXWB3ZM", CARD_BODY, USER_CARD,
     {"payload.data[0].email": TYPE_ONLY}, 200),
    ("INC-3 Incentive Get User Details (api-9796913)", "POST", "/search", "CRMXWB3ZM", CARD_BODY, USER_CARD,
     {"payload.data[0].email": TYPE_ONLY}, 200),
    ("RWD-6 transaction/all as printed: placeholders (prepaid twin api-13551023)", "POST", "/transaction/all", "CRMXWB3ZM",
     '{"companyId": "string", "companyName": "string", "cardHolderName": "string", "userId": "string", '
     '"cardAccountId": "string", "enKashCardId": "string", "status": "CREATED", "enKashTransactionIds": ["string"], '
     '"enKashTransactionId": "string", "cardTransactionType": "DR", "amountFrom": 0, "amountTo": 0, '
     '"pgReferenceNumbers": ["string"], "pgReferenceNumber": "string", "txnDateFrom": "2025-01-24T08:47:01.505Z", '
     '"txnDateTo": "2025-01-24T08:47:01.505Z"}',
     {"response_code": 1, "response_message": "Card account not found for companyId: string and cardAccountId: string"}, {}, 404),
    ("PTS-1 create-coins-config (api-9796915; response not captured)", "POST", "/api/v0/enkash-coins/create-coins-config", None,
     '{"configuration": "DEFAULT", "companyId": "CEKEKCARDS", "event": "MEAL_CARD_PAYMENT", "amount": 6}',
     {**COIN_CONFIG, "payload": {"coinConfigId": "WCC024845", "configuration": "DEFAULT", "event": "MEAL_CARD_PAYMENT", "amount": 6}},
     {"payload.coinConfigId": r"WCC[0-9]{5,6}"}, 200),
    ("PTS-2 Get Event (api-9796914; response not captured)", "GET", "/api/v0/enkash-coins/WCC12345", None, None,
     {**COIN_CONFIG, "payload": {"coinConfigId": "WCC12345", "configuration": "DEFAULT", "event": "REFERRAL_EVENT", "amount": 10}},
     {}, 200),
    # the page's path names WCC12345, its response WCC024845 (INVOICE_PAYMENT): the answer is the path's configuration
    ("PTS-3 Update Event (api-9796916)", "PATCH", "/api/v0/enkash-coins/WCC12345", None, '{"amount": 10, "configuration": "DEFAULT"}',
     {**COIN_CONFIG, "payload": {"coinConfigId": "WCC024845", "configuration": "DEFAULT", "event": "INVOICE_PAYMENT", "amount": 10}},
     {"payload.coinConfigId": TYPE_ONLY, "payload.event": TYPE_ONLY}, 200),
    ("PTS-4 Allocate Coins (api-9796917)", "POST", "/api/v0/enkash-coins/allocate-coin", None,
     '{"companyId": "CEK0TCW2W8", "event": "REFERRAL_EVENT", "requestId": "COIN_REQ1234567", "userId": "EKQZVMQK"}',
     {"payload": "Successfully allocated enkash Coins", "response_code": 0, "response_message": "Success"}, {}, 200),
    ("PTS-5 Get Balance (api-9796918)", "GET", "/api/v0/coins/balance?userId=EK6CYE6K", None, None,
     {"response_code": 0, "response_message": "Success", "payload": 0}, {}, 200),
]


def json_type(value: Any) -> str:
    """The JSON type as a client sees it: 11 and 11.0 differ (integer vs number with a fraction)."""
    if isinstance(value, bool):
        return "boolean"
    return {int: "integer", float: "number", str: "string", list: "array", dict: "object", type(None): "null"}[type(value)]


def differences(expected: Any, actual: Any, patterns: dict[str, str | None], path: str = "") -> list[str]:
    """Every documented field (the keys of `expected`, recursively): present, same JSON type, same value."""
    if json_type(expected) != json_type(actual):
        return [f"{path or 'body'}: a JSON {json_type(actual)} ({actual!r}), the docs print a {json_type(expected)} ({expected!r})"]
    if isinstance(expected, dict):
        found = []
        for key, value in expected.items():
            here = f"{path}.{key}" if path else key
            found += [f"{here}: missing"] if key not in actual else differences(value, actual[key], patterns, here)
        return found
    if isinstance(expected, list):
        if len(actual) < len(expected):
            return [f"{path}: {len(actual)} items, the docs print {len(expected)}"]
        return [d for i, item in enumerate(expected) for d in differences(item, actual[i], patterns, f"{path}[{i}]")]
    if path in patterns:
        pattern = patterns[path]
        return [] if pattern is None or re.fullmatch(pattern, str(actual)) else [f"{path}: {actual!r} does not match {pattern}"]
    return [] if actual == expected else [f"{path}: {actual!r}, the docs print {expected!r}"]


def send(http: httpx.Client, method: str, path: str, partner: str | None, body: str | None) -> httpx.Response:
    if path == "/oauth/token":
        return http.post(path, content=body, headers={"Authorization": DOCS_BASIC, "Content-Type": "application/x-www-form-urlencoded"})
    basic, login = (OTHER_BASIC, OTHER_LOGIN) if partner == "CRMTTTMUF" else (DOCS_BASIC, None)
    form = TOKEN_FORM if login is None else "&".join(f"{k}={v}" for k, v in login.items())
    token = http.post("/oauth/token", content=form, headers={"Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"})
    value = token.json()["access_token"]
    # the bulk page's header is "Authorization: {token}", without Bearer; the others send Bearer
    headers = {"Authorization": value if "bulk" in path else f"Bearer {value}"}
    if partner:
        headers["partnerId"] = partner
    if body is not None:
        headers["Content-Type"] = "application/json"
    url = path if path.startswith("/api/v0/enkash-coins") or path.startswith("/api/v0/coins") else PARTNER_PATH + path
    return http.request(method, url, content=body, headers=headers)


@pytest.mark.parametrize(("name", "method", "path", "partner", "body", "expected", "patterns", "status"), SAMPLES,
                         ids=[s[0] for s in SAMPLES])
def test_docs_sample_answers_as_the_docs_print(http, name, method, path, partner, body, expected, patterns, status):
    response = send(http, method, path, partner, body)
    assert response.status_code == status, response.text
    assert differences(expected, json.loads(response.content), patterns) == []


def test_get_user_details_without_a_card_id_in_both_readings(http):
    """RWD-4 (api-9796910) sends no enKashCardId. Its petty-cash twin api-24480520 prints envelope B
    with one card (of another account than the request's, CAVBMRFE8); api-24480521 describes one
    call answering "either all cards or a specific card" as the list. Default: the list; the
    setting user_details=object answers as api-24480520 prints."""
    body = '{\n    "cardAccountId": "CAQL8YCV3",\n    "companyId" : "CEK1PU9AOO"\n}'
    listed = json.loads(send(http, "POST", "/search", "CRMXWB3ZM", body).content)
    assert (listed["code"], listed["payload"]["recordsCount"]) == (0, 2)
    assert [c["enKashCardId"] for c in listed["payload"]["data"]] == ["EKCDM5AVZY", "EKC9MKS5RM"]
    printed = {"response_code": 0, "response_message": "Success", "payload": {
        "enKashCardId": "EKCE54IDPE", "userId": "EKHCPB7W", "cardAccountId": "CAVBMRFE8", "token": "1cfc6f4d558064eb6a20",
        "maskedNumber": "XXXX XXXX XXXX 2209"}}
    with ServerThread(Settings(user_details="object", validate_responses=True, seed=7)) as server:
        with httpx.Client(base_url=server.url, timeout=30) as other:
            answer = json.loads(send(other, "POST", "/search", "CRMXWB3ZM", body).content)
    patterns = {f"payload.{k}": TYPE_ONLY for k in printed["payload"]}
    assert differences(printed, answer, patterns) == []
    assert "code" not in answer and answer["payload"]["enKashCardId"] == "EKCDM5AVZY"  # the account's first card


def test_differences_catches_a_trailing_zero_and_a_wrong_value():
    assert differences({"otbBalance": 11}, {"otbBalance": 11.0}, {}) == [
        "otbBalance: a JSON number (11.0), the docs print a integer (11)"]
    assert differences({"a": {"b": "x"}}, {"a": {}}, {}) == ["a.b: missing"]
    assert differences({"id": "EKC04AZHXP"}, {"id": "EKC1234567"}, {"id": EKC}) == []
