"""Magic values from the fixtures, scenario files (admin API and --scenario at start), seeded replay
of a scenario, and the one reach into the server's transport under both uvicorn HTTP protocols."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from decimal import Decimal
from typing import Iterator

import httpx
import pytest
import uvicorn
import yaml
from conftest import DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER, Partner
from test_faults import ACCOUNT_BODY, ALLOCATE, START_BALANCE, allocation, failure_b, raw_exchange, read_all, state_counts

from sandbox.web.app import create_app
from sandbox.documents.fixtures import FixtureError
from sandbox.settings import Settings, bundled_fixtures_dir
from sandbox.tools.testing import ServerThread

DEFAULT_FIXTURES = bundled_fixtures_dir() / "default.yaml"


def balance(partner: Partner) -> Decimal:
    return Decimal(str(partner.account()["availableBalance"]))


# --- magic values --------------------------------------------------------------------------------
@pytest.mark.parametrize(("mobile", "message"), [
    ("9999900001", "Insufficient balance in card account"),
    ("9999900002", "KYC is pending for the card holder"),
    ("9999900003", "EnKash card is not active"),
])
def test_magic_mobiles_bring_business_failures(http, docs_partner, mobile, message):
    before = state_counts(http)
    response = docs_partner.post("/create-allocate-points", allocation(mobile=mobile))
    assert (response.status_code, response.json()) == (200, failure_b(message))
    assert state_counts(http) == before
    entry = http.get("/__sandbox/journal", params={"path": ALLOCATE, "limit": "1"}).json()["requests"][0]
    assert entry["fault"].endswith(f"(magic mobile={mobile})")


@pytest.mark.parametrize(("mobile", "status", "message"), [
    ("9999900401", 401, "Access token expired"),
    ("9999900429", 429, "Too Many Requests"),
    ("9999900500", 500, "Internal Server Error"),
    ("9999900503", 503, "Service Unavailable"),
])
def test_magic_mobiles_bring_http_errors(http, docs_partner, mobile, status, message):
    before = state_counts(http)
    response = docs_partner.post("/create-allocate-points", allocation(mobile=mobile))
    assert (response.status_code, response.json()) == (status, failure_b(message))
    assert state_counts(http) == before


@pytest.mark.parametrize(("mobile", "expected"), [("9999900000", "reset"), ("9999900204", b"")])
def test_magic_mobiles_bring_transport_faults_before_anything_is_written(server, http, docs_partner, mobile, expected):
    before = state_counts(http)
    assert raw_exchange(server.port, docs_partner, ALLOCATE, allocation(mobile=mobile), {}) == expected
    assert state_counts(http) == before


def test_magic_mobile_for_garbage(server, http, docs_partner):
    got = raw_exchange(server.port, docs_partner, ALLOCATE, allocation(mobile="9999900999"), {})
    assert isinstance(got, bytes) and len(got) == 64 and not got.startswith(b"HTTP/")
    assert docs_partner.account()["availableBalance"] == START_BALANCE


def test_magic_amount_applied_response_lost_then_retry_credits_once(server, http, docs_partner):
    body = allocation(loadAmount=13.13, uniqueReferenceNumber="MAGIC-LOST")
    assert raw_exchange(server.port, docs_partner, ALLOCATE, body, {}) == "reset"
    assert balance(docs_partner) == START_BALANCE - Decimal("13.13")
    # the retry carries the same magic amount: it is the same request, so it replays (and is lost again) ...
    assert raw_exchange(server.port, docs_partner, ALLOCATE, body, {}) == "reset"
    assert balance(docs_partner) == START_BALANCE - Decimal("13.13")
    # ... and the reference tells the client what happened
    found = docs_partner.post("/transaction/all", {**ACCOUNT_BODY, "pgReferenceNumber": "MAGIC-LOST"}).json()["payload"]
    assert (found["recordsCount"], found["data"][0]["principalAmount"]) == (1, 13.13)


@pytest.mark.parametrize("amount", ["7.77", "8.88"])
def test_magic_amounts_break_the_body_after_the_write(server, http, docs_partner, amount):
    got = raw_exchange(server.port, docs_partner, ALLOCATE, allocation(loadAmount=float(amount)), {})
    assert isinstance(got, bytes)
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body.startswith(b'{"code":0') and not body.endswith(b"}")
    assert balance(docs_partner) == START_BALANCE - Decimal(amount)


def test_magic_amounts_for_a_slow_or_late_answer_still_apply(docs_partner):
    started = time.monotonic()
    slow = docs_partner.post("/create-allocate-points", allocation(loadAmount=5.55, mobile="9000000055", email="a@x.in", uniqueReferenceNumber="SLOW-1"))
    late = docs_partner.post("/create-allocate-points", allocation(loadAmount=2.22, mobile="9000000022", email="b@x.in", uniqueReferenceNumber="LATE-1"))
    assert time.monotonic() - started >= 2.0 + 0.1 * (len(slow.content) // 16)
    assert (slow.json()["code"], late.json()["code"]) == (0, 0)
    assert balance(docs_partner) == START_BALANCE - Decimal("5.55") - Decimal("2.22")


def test_a_magic_value_in_a_bad_request_is_refused_for_what_is_wrong(docs_partner):
    response = docs_partner.post("/create-allocate-points", {**allocation(mobile="9999900503"), "transactionType": "XX"})
    assert response.status_code == 422


def test_magic_values_reach_only_their_operations(docs_partner):
    body = {**ACCOUNT_BODY, "mobile": "9999900503"}
    assert docs_partner.post("/search", body).status_code == 200


def test_bad_magic_values_stop_startup_naming_the_entry():
    doc = yaml.safe_load(DEFAULT_FIXTURES.read_text())
    doc["magicValues"] = [{"field": "mobile", "value": "1", "error": "NoSuchError", "description": "x"}]
    with pytest.raises(FixtureError, match=r"magicValues\[0\]: error: business: no business failure named 'NoSuchError'"):
        create_app(Settings(), doc)
    doc["magicValues"] = [{"field": "mobile", "value": "1", "fault": "status=200", "description": "x"}]
    with pytest.raises(FixtureError, match=r"magicValues\[0\]: .*status must be one of"):
        create_app(Settings(), doc)
    doc["magicValues"] = [{"field": "mobile", "value": "1", "description": "neither error nor fault"}]
    with pytest.raises(FixtureError, match=r"magicValues\[0\]"):
        create_app(Settings(), doc)


def test_a_magic_timeout_holds_then_504_and_writes_nothing():
    doc = yaml.safe_load(DEFAULT_FIXTURES.read_text())
    doc["magicValues"] = [{"field": "mobile", "value": "9999900504", "fault": "timeout=600ms", "description": "short hold"}]
    with ServerThread(Settings(seed=3), doc) as running, httpx.Client(base_url=running.url, timeout=10) as client:
        partner = Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
        before = state_counts(client)
        started = time.monotonic()
        response = partner.post("/create-allocate-points", allocation(mobile="9999900504"))
        assert time.monotonic() - started >= 0.6
        assert (response.status_code, response.json()) == (504, failure_b("Gateway Timeout"))
        assert state_counts(client) == before


def test_the_magic_429_carries_retry_after_exactly_like_the_header_fault(docs_partner):
    magic = docs_partner.post("/create-allocate-points", allocation(mobile="9999900429"))
    header = docs_partner.post("/create-allocate-points", allocation(), headers={"X-Sandbox-Fault": "status=429; retry-after=5"})
    assert (magic.status_code, magic.headers.get("retry-after"), magic.json()) == (429, "5", failure_b("Too Many Requests"))
    assert (header.status_code, header.headers.get("retry-after"), header.json()) == (429, "5", failure_b("Too Many Requests"))


@pytest.mark.parametrize(("fault", "status", "message"), [
    ("status=503; delay=300ms", 503, "Service Unavailable"),
    ("business=KycPending; delay=300ms", 200, "KYC is pending for the card holder"),
])
def test_a_magic_value_waits_its_delay_first(http, docs_partner, fault, status, message):
    magic_values = f'magicValues:\n  - {{field: mobile, value: "9876500300", fault: "{fault}", description: late}}\n'
    loaded = http.post("/__sandbox/fixtures", content=magic_values, headers={"Content-Type": "application/yaml"})
    assert loaded.status_code == 200, loaded.text
    try:
        started = time.monotonic()
        response = docs_partner.post("/create-allocate-points", allocation(mobile="9876500300"))
        took = time.monotonic() - started
        assert (response.status_code, response.json()) == (status, failure_b(message))
        assert took >= 0.3
    finally:
        assert http.delete("/__sandbox/fixtures").status_code == 200


# --- scenarios ------------------------------------------------------------------------------------
def test_scenarios_are_listed(http):
    listed = http.get("/__sandbox/scenarios").json()
    names = [s["name"] for s in listed["scenarios"]]
    assert {"first-two-allocations-503", "allocation-response-lost", "token-expires", "flaky-network", "rate-limit",
            "every-third-call-fails"} <= set(names)
    assert all("problem" not in s for s in listed["scenarios"])
    assert listed["active"] is None


def test_a_scenario_loaded_through_the_api_scripts_a_retry(http, docs_partner):
    loaded = http.post("/__sandbox/scenarios/first-two-allocations-503")
    assert loaded.status_code == 200
    assert loaded.json()["rules"] == [{"id": "F1", "fault": "status=503; retry-after=1", "name": "two 503s, then success",
                                       "method": "POST", "endpoint": "create-allocate-points", "first": 2, "calls": 0, "fired": 0}]
    body = allocation(uniqueReferenceNumber="RETRY-1", loadAmount=75)
    assert [docs_partner.post("/create-allocate-points", body).status_code for _ in range(3)] == [503, 503, 200]
    assert docs_partner.account()["availableBalance"] == START_BALANCE - 75
    assert http.get("/__sandbox/faults").json()["scenario"] == "first-two-allocations-503"


def test_an_unknown_scenario_is_a_404_naming_the_known_ones(http):
    response = http.post("/__sandbox/scenarios/no-such-thing")
    assert response.status_code == 404
    assert response.json()["response_message"].startswith("No fault scenario named no-such-thing (known: allocation-response-lost, ")


def test_a_scenario_armed_at_start_fires_the_same_faults_in_the_same_order_after_each_reset(tmp_path):
    path = tmp_path / "coin-flips.yaml"
    path.write_text(
        "rules:\n"
        "  - {path: /api/v0/*, fault: status=503, probability: 0.3}\n"
        "  - {path: /api/v0/*, fault: reset, probability: 0.2}\n"
        "  - {path: /api/v0/*, fault: status=500, probability: 0.2}\n"
    )
    with ServerThread(Settings(seed=5, scenario=str(path))) as running, \
            httpx.Client(base_url=running.url, timeout=10) as client:

        def run() -> list[str]:
            client.post("/__sandbox/reset")
            partner = Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
            outcomes = []
            for _ in range(30):
                try:
                    outcomes.append(str(partner.post("/cardAccount/get", ACCOUNT_BODY).status_code))
                except httpx.TransportError:
                    outcomes.append("cut")
            return outcomes

        first, second = run(), run()
        assert first == second
        assert {"200", "503", "500", "cut"} == set(first)
        assert client.get("/__sandbox/faults").json()["scenario"] == "coin-flips"


def test_a_scenario_file_given_by_path_at_start(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("description: mine\nrules:\n  - {endpoint: card-account-get, fault: status=502, nth: 2}\n")
    with ServerThread(Settings(scenario=str(path))) as running, httpx.Client(base_url=running.url, timeout=10) as client:
        partner = Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
        assert [partner.post("/cardAccount/get", ACCOUNT_BODY).status_code for _ in range(3)] == [200, 502, 200]


@pytest.mark.parametrize(("text", "problem"), [
    ("rules: []", "rules must have at least 1 items"),
    ("rules:\n  - {fault: status=503, nth: 0}", "rules[0]: nth must be at least 1"),
    ("rules:\n  - {fault: 'explode'}", "rules[0]: rules[0].fault: unknown fault 'explode'"),
    ("rules: [", "not valid YAML"),
])
def test_a_bad_scenario_file_stops_startup_naming_the_rule(tmp_path, text, problem):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(FixtureError) as failure:
        create_app(Settings(scenario=str(path)))
    assert problem in str(failure.value)


# --- the reach into the transport, under both of uvicorn's HTTP protocols ----------------------------
@pytest.fixture(params=["h11", "httptools"])
def protocol_server(request: pytest.FixtureRequest) -> Iterator[int]:
    app = create_app(Settings(seed=1))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, http=request.param, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(timeout=10)


def raw(port: int, header: str) -> bytes | str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Sandbox-Fault: {header}\r\n\r\n".encode())
        return read_all(sock)


def test_reset_empty_and_garbage_reach_the_socket(protocol_server):
    assert raw(protocol_server, "reset") == "reset"
    assert raw(protocol_server, "empty") == b""
    garbage = raw(protocol_server, "garbage; bytes=10")
    assert isinstance(garbage, bytes) and len(garbage) == 10
    answered = raw(protocol_server, "status=502")
    assert isinstance(answered, bytes) and answered.startswith(b"HTTP/1.1 502 ")
