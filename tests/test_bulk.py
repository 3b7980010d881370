"""bulk-create-allocate-points-json: isPointsAllocation semantics, per-row results, errors."""

from __future__ import annotations

import pytest
from conftest import OTHER_ACCOUNT, OTHER_COMPANY, PARTNER_PATH

BULK = "/bulk-create-allocate-points-json"


def bulk(partner, rows, points="true", company=OTHER_COMPANY, account=OTHER_ACCOUNT):
    return partner.post(BULK, rows, params={"companyId": company, "cardAccountId": account, "isPointsAllocation": points})


def row(n, amount=100, **extra):
    return {"title": "Mr", "name": f"Person {n}", "email": f"p{n}@example.com", "mobile": f"68361111{n:02d}",
            "loadAmount": amount, "remarks": "good", **extra}


def payload_of(response):
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 0 and body["message"] == "Success"
    return body["payload"]


def test_bulk_creates_users_and_credits_them(other_partner):
    result = payload_of(bulk(other_partner, [row(1), row(2, 50.25, uniqueReferenceNumber="test123457")]))
    assert (result["successCount"], result["failedCount"], result["totalCount"]) == (2, 0, 2)
    assert result["failedBulkEnKashCardCreateDTOs"] == []
    first, second = result["successBulkEnKashCardCreateDTOs"]
    assert {k: first[k] for k in ("title", "name", "email", "mobile", "loadAmount", "remarks", "companyId", "cardAccountId")} == {
        "title": "Mr", "name": "Person 1", "email": "p1@example.com", "mobile": "6836111101", "loadAmount": 100,
        "remarks": "good", "companyId": OTHER_COMPANY, "cardAccountId": OTHER_ACCOUNT}
    assert first["otbBalance"] == 100 and first["availableBalance"] == 500000 - 100
    assert second["otbBalance"] == 50.25 and second["availableBalance"] == 500000 - 150.25
    assert second["uniqueReferenceNumber"] == "test123457"
    assert first["enKashCardId"].startswith("EKC") and first["enkashCardTxnId"].startswith("ECT")
    account = other_partner.account(OTHER_COMPANY, OTHER_ACCOUNT)
    assert account["availableBalance"] == 500000 - 150.25
    assert account["totalCards"] == 2 and account["totalAllocationPoint"] == 150.25


def test_points_allocation_false_credits_only_new_users(other_partner):
    payload_of(bulk(other_partner, [row(1)]))
    result = payload_of(bulk(other_partner, [row(1, 30), row(2, 40)], points="false"))
    # api-9796906: "no points will be allocated to the existing users"; not a failure reason it lists
    assert (result["successCount"], result["failedCount"]) == (2, 0)
    existing, new = result["successBulkEnKashCardCreateDTOs"]
    assert (existing["mobile"], existing["enkashCardTxnId"], existing["otbBalance"]) == ("6836111101", None, 100)
    assert (new["mobile"], new["otbBalance"]) == ("6836111102", 40)
    assert other_partner.account(OTHER_COMPANY, OTHER_ACCOUNT)["availableBalance"] == 500000 - 100 - 40


def test_points_allocation_true_credits_existing_users_too(other_partner):
    created = payload_of(bulk(other_partner, [row(1)]))["successBulkEnKashCardCreateDTOs"][0]
    result = payload_of(bulk(other_partner, [row(1, 30)]))
    again = result["successBulkEnKashCardCreateDTOs"][0]
    assert again["enKashCardId"] == created["enKashCardId"] and again["otbBalance"] == 130


def test_bad_rows_fail_alone(other_partner):
    rows = [row(1), {"name": "No contact", "loadAmount": 5}, row(3, "ten"), row(4, 1.001), row(5, 600000), row(6)]
    result = payload_of(bulk(other_partner, rows))
    assert (result["successCount"], result["failedCount"], result["totalCount"]) == (2, 4, 6)
    reasons = [f["failureReason"] for f in result["failedBulkEnKashCardCreateDTOs"]]
    assert reasons == [
        "email is required",
        "loadAmount must be a number",
        "loadAmount must have at most 2 decimal places",
        "Insufficient balance in card account",
    ]
    assert [s["mobile"] for s in result["successBulkEnKashCardCreateDTOs"]] == ["6836111101", "6836111106"]
    assert other_partner.account(OTHER_COMPANY, OTHER_ACCOUNT)["totalCards"] == 2


def test_row_references_are_idempotent(other_partner):
    first = payload_of(bulk(other_partner, [row(1, uniqueReferenceNumber="B-1")]))["successBulkEnKashCardCreateDTOs"][0]
    again = payload_of(bulk(other_partner, [row(1, uniqueReferenceNumber="B-1")]))["successBulkEnKashCardCreateDTOs"][0]
    assert again == first
    clash = payload_of(bulk(other_partner, [row(1, 99, uniqueReferenceNumber="B-1")]))
    assert clash["failedBulkEnKashCardCreateDTOs"][0]["failureReason"] == (
        "Duplicate uniqueReferenceNumber B-1: it was already used for a different request")
    assert other_partner.account(OTHER_COMPANY, OTHER_ACCOUNT)["availableBalance"] == 500000 - 100


@pytest.mark.parametrize(
    ("account", "status", "message"),
    [
        ("CAKYCPEND", 422, "KYC is not uploaded or under review for the primary card. So bulk upload cannot be done"),
        ("CANOPRIM1", 422, "Primary Enkash card is not present. So bulk upload cannot be done"),
        ("CANOPE01", 404, "Card account not found for companyId: CEKBVCGMR1 and cardAccountId: CANOPE01"),
    ],
)
def test_account_level_refusals(other_partner, account, status, message):
    response = bulk(other_partner, [row(1)], account=account)
    assert response.status_code == status
    assert response.json() == {"response_code": 1, "response_message": message, "payload": message}


@pytest.mark.parametrize(
    ("params", "body", "status", "message"),
    [
        ({"isPointsAllocation": None}, [{}], 400, "isPointsAllocation is required"),
        ({"isPointsAllocation": "maybe"}, [{}], 422, "isPointsAllocation has an invalid format"),
        ({"companyId": None}, [{}], 422, "Company Id is required if it is an Enkash User"),
        ({}, [], 422, "body must have at least 1 items"),
        ({}, {"rows": []}, 422, "body must be a JSON array"),
        ({}, [{}, "not an object"], 422, "body[1] must be a JSON object"),
    ],
)
def test_request_level_errors(other_partner, params, body, status, message):
    query = {"companyId": OTHER_COMPANY, "cardAccountId": OTHER_ACCOUNT, "isPointsAllocation": "true", **params}
    response = other_partner.post(BULK, body, params={k: v for k, v in query.items() if v is not None})
    assert response.status_code == status, response.text
    assert response.json()["response_message"] == message


def test_too_many_rows(server, other_partner):
    rows = [row(1)] * (server.settings.bulk_max_rows + 1)
    response = bulk(other_partner, rows)
    assert response.status_code == 413
    assert response.json()["response_message"] == f"Bulk upload accepts at most {server.settings.bulk_max_rows} rows"


def test_bulk_docs_sample_query_and_bare_token_header(other_partner):
    response = other_partner.http.post(
        PARTNER_PATH + BULK + "?companyId=CEKBVCGMR1&cardAccountId=CA1ZS96&isPointsAllocation=true",
        headers={"partnerId": "CRMTTTMUF", "Authorization": other_partner.token, "Content-Type": "application/json"},
        json=[{"title": "Mr", "name": "John hrllo", "email": "john@example.com", "mobile": "6836111111",
               "loadAmount": 100, "remarks": "good", "uniqueReferenceNumber": "test123457"}],
    )
    assert payload_of(response)["successCount"] == 1


def test_a_long_bulk_lets_other_calls_through_between_slices_of_whole_rows():
    """A bulk pauses after every BULK_SLICE rows (sandbox/web/adapter.py in_turns): a health call
    sent while 1,000 rows are applied is answered before the bulk ends, and every row is applied
    whole: the account is debited once per row, the ledger stays in step."""
    import asyncio

    import httpx

    from conftest import OTHER_BASIC, OTHER_LOGIN
    from sandbox.domain.rewards import BULK_SLICE
    from sandbox.settings import Settings
    from sandbox.web.app import create_app

    assert 1000 > 3 * BULK_SLICE
    app = create_app(Settings(seed=7))

    async def run() -> tuple[list[str], httpx.Response, dict]:
        done: list[str] = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
            token = (await client.post("/oauth/token", headers={"Authorization": OTHER_BASIC}, data=OTHER_LOGIN)).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "partnerId": "CRMTTTMUF"}

            async def upload() -> httpx.Response:
                answer = await client.post(PARTNER_PATH + BULK, json=[{**row(n, 1), "mobile": f"70{n:08d}", "uniqueReferenceNumber": f"TURN-{n}"}
                                                                  for n in range(1000)],
                                           params={"companyId": OTHER_COMPANY, "cardAccountId": OTHER_ACCOUNT,
                                                   "isPointsAllocation": "true"}, headers=headers)
                done.append("bulk")
                return answer

            async def health() -> None:
                await asyncio.sleep(0)  # the bulk starts first
                assert (await client.get("/__sandbox/health")).status_code == 200
                done.append("health")

            bulk, _ = await asyncio.gather(upload(), health())
            account = (await client.post(PARTNER_PATH + "/cardAccount/get", json={"companyId": OTHER_COMPANY, "cardAccountId": OTHER_ACCOUNT},
                                         headers=headers)).json()["payload"]
        return done, bulk, account

    done, bulk, account = asyncio.run(run())
    assert done == ["health", "bulk"]
    assert (payload_of(bulk)["successCount"], payload_of(bulk)["failedCount"]) == (1000, 0)
    assert account["availableBalance"] == 500000 - 1000
