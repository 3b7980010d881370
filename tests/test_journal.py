"""The request journal over real HTTP: what an entry holds, the filters, count, clear, the
ring-buffer bound and the body limit, faults as the client saw them."""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest
from conftest import DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER, OTHER_PARTNER, PARTNER_PATH, Partner, new_user

from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread


@pytest.fixture()
def journal(http: httpx.Client) -> httpx.Client:
    assert http.delete("/__sandbox/journal").status_code == 200
    return http


def entries(http: httpx.Client, **filters: Any) -> list[dict[str, Any]]:
    response = http.get("/__sandbox/journal", params=filters)
    assert response.status_code == 200, response.text
    return response.json()["requests"]  # type: ignore[no-any-return]


def test_an_allocation_is_recorded_with_everything_needed_to_debug_it(journal):
    partner = Partner(journal, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
    response = partner.allocate(**new_user(uniqueReferenceNumber="REF-J-1"))
    assert response.json()["code"] == 0
    newest = entries(journal, limit=1)[0]
    assert newest["requestId"] == response.headers["x-request-id"]
    assert (newest["method"], newest["path"], newest["query"]) == ("POST", PARTNER_PATH + "/create-allocate-points", "")
    assert (newest["partnerId"], newest["status"], newest["fault"]) == (DOCS_PARTNER, 200, None)
    assert '"uniqueReferenceNumber":"REF-J-1"' in newest["request"]["body"].replace(" ", "")
    assert newest["response"]["body"] == response.text
    assert newest["request"]["headers"]["authorization"] == "Bearer ***"  # the token is not kept
    assert newest["request"]["headers"]["partnerid"] == DOCS_PARTNER
    assert newest["response"]["headers"]["x-request-id"] == newest["requestId"]
    assert newest["latencyMs"] > 0 and newest["sandboxTime"].endswith("Z") and newest["wallTime"].endswith("Z")
    assert newest["request"]["bodyTruncated"] is False and newest["request"]["bodySize"] == len(response.request.content)


def test_filters_by_path_status_reference_partner_and_method(journal, docs_partner, other_partner):
    docs_partner.allocate(**new_user(uniqueReferenceNumber="REF-A"))
    docs_partner.allocate(**new_user(uniqueReferenceNumber="REF-B", mobile="9000000002", email="b@example.com"))
    docs_partner.allocate(**new_user(uniqueReferenceNumber="REF-A"))  # a replay of REF-A
    other_partner.post("/cardAccount/get", {"companyId": "CEKBVCGMR1", "cardAccountId": "CA1ZS96"})
    journal.post(PARTNER_PATH + "/search", json={})  # 401: no token

    assert [e["status"] for e in entries(journal, reference="REF-A")] == [200, 200]
    assert len(entries(journal, reference="REF-B")) == 1
    assert len(entries(journal, path=PARTNER_PATH + "/create-allocate-points")) == 3
    assert len(entries(journal, path="/api/*")) == 5
    assert len(entries(journal, path="/oauth/token")) == 2
    assert [e["path"] for e in entries(journal, status="4xx")] == [PARTNER_PATH + "/search"]
    assert len(entries(journal, status="200")) == 6
    assert [e["path"] for e in entries(journal, partner=OTHER_PARTNER)] == [PARTNER_PATH + "/cardAccount/get"]
    assert len(entries(journal, partner=DOCS_PARTNER, reference="REF-B")) == 1
    assert len(entries(journal, method="post")) == 7
    assert [e["seq"] for e in entries(journal)] == sorted((e["seq"] for e in entries(journal)), reverse=True)

    for filters, expected in (({"reference": "REF-A"}, 2), ({"status": "4xx"}, 1), ({}, 7)):
        count = journal.get("/__sandbox/journal/count", params=filters)
        assert count.status_code == 200 and count.json() == {"count": expected}


def test_bulk_rows_references_are_found(journal, other_partner):
    rows = [{"name": "A", "email": "a1@example.com", "mobile": "9000000011", "loadAmount": 5, "uniqueReferenceNumber": "BULK-1"},
            {"name": "B", "email": "b1@example.com", "mobile": "9000000012", "loadAmount": 5, "uniqueReferenceNumber": "BULK-2"}]
    other_partner.http.post(
        PARTNER_PATH + "/bulk-create-allocate-points-json",
        params={"companyId": "CEKBVCGMR1", "cardAccountId": "CA1ZS96", "isPointsAllocation": "true"},
        json=rows, headers=other_partner.headers,
    )
    assert len(entries(journal, reference="BULK-2")) == 1


def test_an_orders_reference_is_found_and_links_the_request_to_its_posting(journal, docs_partner):
    """A redemption order is found by its orderReferenceId, like an allocation by its uniqueReferenceNumber."""
    made = docs_partner.allocate(**new_user(loadAmount=500, uniqueReferenceNumber="REF-J-FUND")).json()["payload"]
    order = {"denomination": 100, "ekUserId": made["userId"], "orderReferenceId": "ORD-J-1", "productCatalogId": "PC235129857G58ZX",
             "quantity": 1}
    placed = journal.post("/api/v0/partner/create-order", json=order, headers={"Authorization": f"Bearer {docs_partner.token}"})
    assert placed.json()["response_code"] == 0, placed.text
    found = entries(journal, reference="ORD-J-1")
    assert [(e["path"], e["status"]) for e in found] == [("/api/v0/partner/create-order", 200)]
    assert journal.get("/__sandbox/journal/count", params={"reference": "ORD-J-1"}).json() == {"count": 1}
    entry = journal.get(f"/__sandbox/ui/journal/{found[0]['seq']}").text
    assert placed.json()["payload"]["enkashCardTxnId"] in entry.split("Postings it made")[1]


def test_bad_filters_are_rejected(journal):
    for params, field in (({"status": "abc"}, "status"), ({"limit": "0"}, "limit"), ({"colour": "red"}, "body")):
        response = journal.get("/__sandbox/journal", params=params)
        assert response.status_code == 422, params
        assert response.json()["response_message"].startswith(field), response.text
    assert journal.get("/__sandbox/journal/count", params={"status": "abc"}).status_code == 422


def test_clear_forgets_everything_and_says_how_much(journal):
    journal.post("/oauth/token")
    journal.post("/oauth/token")
    cleared = journal.delete("/__sandbox/journal")
    assert cleared.status_code == 200 and cleared.json() == {"cleared": 2}
    assert journal.get("/__sandbox/journal/count").json() == {"count": 0}


def test_reading_the_journal_and_health_checks_are_not_recorded(journal):
    journal.get("/__sandbox/health")
    journal.get("/__sandbox/journal")
    journal.get("/__sandbox/journal/count")
    assert journal.get("/__sandbox/journal").json()["recorded"] == 0
    journal.post("/__sandbox/reset")
    assert [e["path"] for e in entries(journal)] == ["/__sandbox/reset"]  # other admin calls are


def test_the_journal_survives_reset(journal, docs_partner):
    docs_partner.allocate(**new_user())
    journal.post("/__sandbox/reset")
    assert len(entries(journal, path=PARTNER_PATH + "/create-allocate-points")) == 1


def test_a_fault_is_recorded_as_the_client_saw_it(journal, docs_partner):
    response = docs_partner.post(
        "/create-allocate-points", {"companyId": "X"}, headers={"X-Sandbox-Fault": "status=503"}
    )
    assert response.status_code == 503
    newest = entries(journal, limit=1)[0]
    assert newest["status"] == 503 and newest["fault"] and "503" in str(newest["fault"])
    assert newest["response"]["body"] == response.text


def test_a_dropped_connection_is_recorded_with_status_0(journal, docs_partner):
    with pytest.raises(httpx.TransportError):
        docs_partner.post("/cardAccount/get", {}, headers={"X-Sandbox-Fault": "reset"})
    newest = entries(journal, limit=1)[0]
    assert newest["status"] == 0 and newest["fault"] and newest["path"] == PARTNER_PATH + "/cardAccount/get"


# --- the bound ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small() -> Iterator[ServerThread]:
    with ServerThread(Settings(journal_size=5, journal_body_bytes=64)) as running:
        yield running


def test_the_journal_keeps_only_the_newest_n(small):
    with httpx.Client(base_url=small.url) as client:
        sent = [client.post("/oauth/token", headers={"X-Request-Id": f"bound-{i}"}).headers["x-request-id"] for i in range(12)]
        listing = client.get("/__sandbox/journal").json()
        assert (listing["recorded"], listing["capacity"], listing["count"]) == (5, 5, 5)
        assert [e["requestId"] for e in listing["requests"]] == list(reversed(sent[-5:]))
        assert client.get("/__sandbox/journal/count").json() == {"count": 5}


def test_bodies_are_cut_at_the_byte_limit(small):
    with httpx.Client(base_url=small.url) as client:
        body = '{"uniqueReferenceNumber": "REF-CUT", "padding": "' + "x" * 500 + '"}'
        client.post(PARTNER_PATH + "/search", content=body, headers={"Content-Type": "application/json"})
        newest = client.get("/__sandbox/journal", params={"limit": 1}).json()["requests"][0]
        assert newest["request"]["body"] == body[:64]
        assert (newest["request"]["bodySize"], newest["request"]["bodyTruncated"]) == (len(body), True)
        assert client.get("/__sandbox/journal/count", params={"reference": "REF-CUT"}).json() == {"count": 1}


# --- encrypted payload mode: the wire body and the body in clear ---------------------------------
DOCS_SECRET = "64b0ff0332f058b56402b63a9baa60214f2d61d3"


@pytest.fixture(scope="module")
def encrypted() -> Iterator[ServerThread]:
    with ServerThread(Settings(encryption="required", seed=7)) as running:
        yield running


def test_encrypted_calls_are_recorded_on_the_wire_and_in_clear(encrypted):
    from sandbox.contract import crypto

    with httpx.Client(base_url=encrypted.url) as client:
        partner = Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
        body = {"companyId": "CEK1PU9AOO", "cardAccountId": "CAQL8YCV3", "transactionCode": "ALLOCATION",
                "transactionType": "CR", "type": "ALLOCATE_POINT", **new_user(uniqueReferenceNumber="REF-SEALED")}
        response = partner.post("/create-allocate-points", crypto.encrypt_json(body, DOCS_SECRET))
        assert response.status_code == 200, response.text
        found = client.get("/__sandbox/journal", params={"reference": "REF-SEALED"}).json()["requests"]
        assert len(found) == 1  # the reference is only in the decrypted body
        entry = found[0]
        assert "REF-SEALED" not in entry["request"]["body"] and '"request"' in entry["request"]["body"]
        assert '"uniqueReferenceNumber":"REF-SEALED"' in entry["request"]["decryptedBody"].replace(" ", "")
        assert entry["response"]["body"] == response.text
        in_clear = entry["response"]["decryptedBody"]
        assert in_clear == crypto.decrypt_envelope(response.json(), DOCS_SECRET).decode()
        assert '"pgReferenceNumber":"REF-SEALED"' in in_clear
