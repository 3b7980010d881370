"""Fault injection armed by the X-Sandbox-Fault header, over real HTTP and real sockets: every kind,
its exact wire effect, and what it does (or does not do) to state."""

from __future__ import annotations

import json
import socket
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
from conftest import DOCS_ACCOUNT, DOCS_COMPANY, DOCS_PARTNER, PARTNER_PATH, Partner, new_user

ALLOCATE = PARTNER_PATH + "/create-allocate-points"
ACCOUNT_BODY = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}
START_BALANCE = Decimal(1000000)  # CAQL8YCV3 in fixtures/default.yaml


def allocation(**fields: Any) -> dict[str, Any]:
    body = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "transactionCode": "ALLOCATION",
            "transactionType": "CR", "type": "ALLOCATE_POINT", **new_user(**fields)}
    return body


def fault(spec: str) -> dict[str, str]:
    return {"X-Sandbox-Fault": spec}


def failure_b(message: str) -> dict[str, Any]:
    return {"response_code": 1, "response_message": message, "payload": message}


def state_counts(http: httpx.Client) -> dict[str, int]:
    response = http.get("/__sandbox/health")
    assert response.status_code == 200
    return response.json()["state"]  # type: ignore[no-any-return]


def raw_exchange(port: int, partner: Partner, path: str, body: Any, headers: dict[str, str]) -> bytes | str:
    """One request on a fresh socket: the bytes that came back before the server closed, or 'reset'."""
    payload = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", "Host: sandbox", "Content-Type: application/json", "Connection: close",
             f"Content-Length: {len(payload)}",
             *(f"{k}: {v}" for k, v in {**partner.headers, **headers}.items())]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        return read_all(sock)


def read_all(sock: socket.socket) -> bytes | str:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        return "reset"
    return received


def journal_fault(http: httpx.Client, path: str = ALLOCATE) -> Any:
    response = http.get("/__sandbox/journal", params={"path": path, "limit": "1"})
    assert response.status_code == 200, response.text
    return response.json()["requests"][0]["fault"]


# --- HTTP errors ---------------------------------------------------------------------------------
STATUS_MESSAGES = {
    400: "Bad Request", 401: "Full authentication is required to access this resource", 403: "Access is denied",
    404: "Not Found", 422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


@pytest.mark.parametrize("status", sorted(STATUS_MESSAGES))
def test_an_http_error_answers_in_the_documented_envelope_and_writes_nothing(http, docs_partner, status):
    before = state_counts(http)
    response = docs_partner.post("/create-allocate-points", allocation(), headers=fault(f"status={status}"))
    assert response.status_code == status
    assert response.json() == failure_b(STATUS_MESSAGES[status])
    assert response.headers.get("retry-after") == ("1" if status in (429, 503) else None)
    assert state_counts(http) == before
    assert docs_partner.account()["availableBalance"] == START_BALANCE
    assert journal_fault(http) == f"status={status} (header)"


def test_an_http_error_can_carry_its_own_message_and_retry_after(docs_partner):
    response = docs_partner.post("/cardAccount/get", ACCOUNT_BODY,
                                 headers=fault("status=429; retry-after=7; message=Slow down, partner"))
    assert (response.status_code, response.headers["retry-after"]) == (429, "7")
    assert response.json() == failure_b("Slow down, partner")


# --- business failures ---------------------------------------------------------------------------
@pytest.mark.parametrize(("spec", "message"), [
    ("business", "Insufficient balance in card account"),
    ("business=CardInactive", "EnKash card is not active"),
    ("business=KycPending", "KYC is pending for the card holder"),
    ("business; message=Daily allocation limit reached", "Daily allocation limit reached"),
])
def test_a_business_failure_is_http_200_code_1_and_writes_nothing(http, docs_partner, spec, message):
    before = state_counts(http)
    response = docs_partner.post("/create-allocate-points", allocation(), headers=fault(spec))
    assert response.status_code == 200
    assert response.json() == failure_b(message)
    assert state_counts(http) == before


# --- token faults --------------------------------------------------------------------------------
@pytest.mark.parametrize(("spec", "message"), [("token=expired", "Access token expired"), ("token=invalid", "Invalid access token")])
def test_a_token_fault_reports_the_valid_token_as_expired_or_invalid(docs_partner, spec, message):
    response = docs_partner.post("/cardAccount/get", ACCOUNT_BODY, headers=fault(spec))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == failure_b(message)
    # an expiry is real: the token stays expired until a new one is fetched; "invalid" was a glitch
    assert docs_partner.post("/cardAccount/get", ACCOUNT_BODY).status_code == (401 if spec == "token=expired" else 200)


# --- latency, slow body, timeout -----------------------------------------------------------------
@pytest.mark.parametrize(("spec", "at_least", "below"), [
    ("latency=300ms", 0.3, 3.0),
    ("latency=200ms..400ms", 0.2, 3.0),
    ("latency=lognormal; median=100ms; sigma=0.1", 0.05, 3.0),
    ("status=503; delay=250ms", 0.25, 3.0),
])
def test_latency_delays_the_answer(docs_partner, spec, at_least, below):
    started = time.monotonic()
    response = docs_partner.post("/cardAccount/get", ACCOUNT_BODY, headers=fault(spec))
    took = time.monotonic() - started
    assert at_least <= took < below
    assert response.status_code == (503 if spec.startswith("status") else 200)


def test_latency_comes_after_the_write_so_the_allocation_is_applied(docs_partner):
    response = docs_partner.post("/create-allocate-points", allocation(loadAmount=40), headers=fault("latency=100ms"))
    assert response.status_code == 200
    assert docs_partner.account()["availableBalance"] == START_BALANCE - 40


def test_a_slow_body_arrives_in_chunks_and_is_whole(server, docs_partner):
    expected = docs_partner.post("/cardAccount/get", ACCOUNT_BODY).content
    arrivals = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        with client.stream("POST", PARTNER_PATH + "/cardAccount/get", json=ACCOUNT_BODY,
                           headers={**docs_partner.headers, **fault("slow; chunk=100; every=50ms")}) as response:
            for chunk in response.iter_raw():
                arrivals.append((time.monotonic(), chunk))
    body = b"".join(chunk for _, chunk in arrivals)
    assert body == expected
    assert len(arrivals) >= len(expected) // 100  # it did not come in one piece
    assert arrivals[-1][0] - arrivals[0][0] >= 0.05 * (len(expected) // 100 - 1)


def test_a_timeout_holds_then_answers_504_and_writes_nothing(http, docs_partner):
    before = state_counts(http)
    started = time.monotonic()
    response = docs_partner.post("/create-allocate-points", allocation(), headers=fault("timeout=1s"))
    assert time.monotonic() - started >= 1.0
    assert response.status_code == 504
    assert response.json() == failure_b("Gateway Timeout")
    assert state_counts(http) == before


def test_a_timeout_makes_the_clients_own_timeout_fire(http, docs_partner):
    with pytest.raises(httpx.ReadTimeout):
        docs_partner.post("/cardAccount/get", ACCOUNT_BODY, headers=fault("timeout=2s"), timeout=0.3)
    # the server still holds the request for 2 s: wait until it is recorded, so it cannot land
    # in the journal of a later test (which reads the newest entry)
    deadline = time.monotonic() + 10
    while not [e for e in http.get("/__sandbox/journal", params={"partner": DOCS_PARTNER}).json()["requests"]
               if e["fault"] == "timeout=2s (header)"]:
        assert time.monotonic() < deadline, "the held request was never recorded"
        time.sleep(0.05)


# --- transport faults ----------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["reset", "empty", "garbage; bytes=48"])
def test_transport_faults_before_the_write_leave_no_trace(server, http, docs_partner, spec):
    before = state_counts(http)
    got = raw_exchange(server.port, docs_partner, ALLOCATE, allocation(), fault(spec))
    if spec == "reset":
        assert got == "reset"
    elif spec == "empty":
        assert got == b""
    else:
        assert isinstance(got, bytes) and len(got) == 48 and not got.startswith(b"HTTP/")
    assert state_counts(http) == before
    assert docs_partner.account()["availableBalance"] == START_BALANCE
    assert journal_fault(http) == f"{spec} (header)"


def test_transport_faults_surface_as_transport_errors_in_a_client(docs_partner):
    for spec in ("reset", "empty", "garbage"):
        with pytest.raises(httpx.TransportError):
            docs_partner.post("/cardAccount/get", ACCOUNT_BODY, headers=fault(spec))


def test_malformed_json_is_a_complete_response_whose_body_does_not_parse(docs_partner):
    whole = docs_partner.post("/cardAccount/get", ACCOUNT_BODY).content
    response = docs_partner.post("/cardAccount/get", ACCOUNT_BODY, headers=fault("malformed"))
    assert response.status_code == 200
    assert response.content == whole[: len(whole) // 2]
    assert response.headers["content-length"] == str(len(whole) // 2)
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_truncated_json_promises_the_whole_body_and_closes_halfway(server, docs_partner):
    whole = docs_partner.post("/cardAccount/get", ACCOUNT_BODY).content
    got = raw_exchange(server.port, docs_partner, PARTNER_PATH + "/cardAccount/get", ACCOUNT_BODY, fault("truncated"))
    assert isinstance(got, bytes)
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and f"content-length: {len(whole)}".encode() in head.lower()
    assert body == whole[: len(whole) // 2]
    with pytest.raises(httpx.RemoteProtocolError):
        docs_partner.post("/cardAccount/get", ACCOUNT_BODY, headers=fault("truncated"))


# --- applied, response lost ----------------------------------------------------------------------
def test_applied_response_lost_then_a_retry_shows_the_first_attempt_and_credits_once(server, http, docs_partner):
    body = allocation(loadAmount=250, uniqueReferenceNumber="LOST-1")
    got = raw_exchange(server.port, docs_partner, ALLOCATE, body, fault("lost"))
    assert got == "reset"
    assert docs_partner.account()["availableBalance"] == START_BALANCE - 250  # it was applied

    retry = docs_partner.post("/create-allocate-points", body)
    assert retry.status_code == 200
    payload = retry.json()["payload"]
    assert (payload["pgReferenceNumber"], payload["otbBalance"]) == ("LOST-1", 250)
    assert docs_partner.account()["availableBalance"] == START_BALANCE - 250  # never a second credit
    found = docs_partner.post("/transaction/all", {**ACCOUNT_BODY, "pgReferenceNumber": "LOST-1"}).json()["payload"]
    assert found["recordsCount"] == 1
    assert found["data"][0]["enKashCardTransactionId"] == payload["enkashCardTxnId"]


def test_applied_response_lost_on_coins_then_a_retry_with_the_same_request_id_credits_once(http, docs_partner):
    coins = {"Authorization": f"Bearer {docs_partner.token}"}
    body = {"companyId": "CEK0TCW2W8", "event": "REFERRAL_EVENT", "requestId": "LOST-COIN-1", "userId": "EKQZVMQK"}

    def balance() -> int:
        return http.get("/api/v0/coins/balance", params={"userId": "EKQZVMQK"}, headers=coins).json()["payload"]

    start = balance()
    with pytest.raises(httpx.TransportError):
        http.post("/api/v0/enkash-coins/allocate-coin", json=body, headers={**coins, **fault("lost")})
    assert balance() == start + 10
    retry = http.post("/api/v0/enkash-coins/allocate-coin", json=body, headers=coins)
    assert retry.status_code == 200 and retry.json()["response_code"] == 0
    assert balance() == start + 10


# --- the header's grammar --------------------------------------------------------------------------
@pytest.mark.parametrize(("spec", "problem"), [
    ("explode", "unknown fault 'explode'; one of status, business, token, timeout, reset, empty, garbage, ratelimit, "
                "latency, slow, malformed, truncated, lost, order"),
    ("status=418", "status: status must be one of 400, 401, 403, 404, 422, 429, 500, 502, 503, 504"),
    ("status=503; colour=red", "status takes no parameter 'colour' (it takes: message, retry-after, delay)"),
    ("latency=soon", "latency: latency must be a duration like 200ms or 1.5s"),
    ("timeout=10m", "timeout: timeout must be a duration like 200ms or 1.5s"),
    ("timeout=301s", "timeout: timeout must be at most 300s"),
    ("token=stale", "token: token must be expired or invalid"),
    ("business=Nonsense", "business: no business failure named 'Nonsense' (one of CardInactive, DuplicateOrderReference, DuplicateReference, "
                          "DuplicateRequestId, InjectedBusinessFailure, InsufficientBalance, KycPending, ReferenceReused, RequestIdReused)"),
    ("reset; delay", "parameter 'delay' needs a value (name=value)"),
    (";", "is empty; name a fault, e.g. status=503"),
])
def test_a_bad_header_is_a_400_that_says_what_is_wrong_and_writes_nothing(http, docs_partner, spec, problem):
    before = state_counts(http)
    response = docs_partner.post("/create-allocate-points", allocation(), headers=fault(spec))
    assert response.status_code == 400
    assert response.json() == failure_b(f"X-Sandbox-Fault: {problem}")
    assert state_counts(http) == before


def test_the_sandboxs_own_api_ignores_the_header(http):
    assert http.get("/__sandbox/health", headers=fault("status=503")).status_code == 200


def test_every_fault_is_counted_and_listed(http, docs_partner):
    docs_partner.post("/cardAccount/get", ACCOUNT_BODY, headers=fault("status=500"))
    docs_partner.post("/cardAccount/get", ACCOUNT_BODY, headers=fault("business"))
    listed = http.get("/__sandbox/faults").json()
    assert listed["fired"] == 2
    assert [(r["fault"], r["source"], r["path"]) for r in listed["recent"]] == [
        ("status=500", "header", PARTNER_PATH + "/cardAccount/get"), ("business", "header", PARTNER_PATH + "/cardAccount/get"),
    ]
    assert http.get("/__sandbox/journal", params={"partner": DOCS_PARTNER, "limit": "1"}).json()["requests"][0]["fault"] == "business (header)"
