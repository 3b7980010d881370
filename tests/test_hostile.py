"""Hostile input, tried as an attacker would, over real HTTP against a real server process (the
limits are the server's own: tools/http11.py): every limit of README "Limits" answered in the
documented envelope, every refusal changing nothing, the process alive and healthy after it.
One test per class of issue #14; the long generated run is tests/test_hostile_long.py."""

from __future__ import annotations

import json
import socket
import sys
import time
from decimal import Decimal
from typing import Any, Iterator

import httpx
import pytest
from conftest import (
    DOCS_ACCOUNT, DOCS_BASIC, DOCS_COMPANY, DOCS_LOGIN, DOCS_PARTNER, OTHER_ACCOUNT, OTHER_BASIC, OTHER_COMPANY,
    OTHER_LOGIN, OTHER_PARTNER, PARTNER_PATH, Partner, new_user,
)
from hostile import Answer, envelope_b, exchange, request, rss_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_process import SandboxProcess, run_to_exit

from sandbox.contract import schemas
from sandbox.domain import errors
from sandbox.settings import RANGE_TEXT, Settings
from sandbox.tools import http11
from sandbox.tools.http11 import EVICT_AFTER_SECONDS, LINGER_MAX, LINGER_SECONDS
from sandbox.tools.testing import ServerThread
from sandbox.web import adapter
from sandbox.web.adapter import OFF_LOOP_BYTES

ALLOCATE = PARTNER_PATH + "/create-allocate-points"
JSON = {"Content-Type": "application/json"}
# short timeouts so the tests that wait for them are quick, and calls as large as uploads (8 MiB)
# so the large-body tests reach the parser; everything else as shipped
LIMITS = ("--seed", "7", "--header-timeout", "1", "--body-timeout", "1", "--idle-timeout", "1",
          "--max-call-bytes", str(8 * 2**20), "--clock-start", "2025-06-01T09:00:00Z", "--clock-frozen", "true")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess(*LIMITS) as running:
        yield running


@pytest.fixture()
def hostile(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=30) as client:
        assert client.post("/__sandbox/reset", params={"seed": 7}).status_code == 200
        assert client.delete("/__sandbox/faults").status_code == 200
        assert client.delete("/__sandbox/journal").status_code == 200
        yield client
    # alive after every attack, asked on a new connection: the client's pooled one may be closing
    # just then under the server's idle timeout (1 s here), and a request sent into that close is reset
    assert httpx.get(sandbox.url + "/__sandbox/health", timeout=30).status_code == 200


@pytest.fixture()
def port(sandbox: SandboxProcess) -> int:
    return int(sandbox.url.rsplit(":", 1)[1])


@pytest.fixture()
def partner(hostile: httpx.Client) -> Partner:
    return Partner(hostile, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)


def counts(http: httpx.Client) -> dict[str, int]:
    return http.get("/__sandbox/health").json()["state"]  # type: ignore[no-any-return]


def state(http: httpx.Client) -> bytes:
    return http.get("/__sandbox/state").content


def allocation(**fields: Any) -> dict[str, Any]:
    return {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "transactionCode": "ALLOCATION",
            "transactionType": "CR", "type": "ALLOCATE_POINT", **new_user(**fields)}


def assert_envelope(answer: Answer | httpx.Response, status: int, message: str) -> None:
    status_code = answer.status if isinstance(answer, Answer) else answer.status_code
    assert (status_code, answer.json()) == (status, envelope_b(message)), answer.content if isinstance(answer, httpx.Response) else answer.body


# --- 1. limits: headers, nesting, YAML ----------------------------------------------------------
def test_headers_over_16_kib_are_431_whether_they_end_or_not(hostile, port):
    message = "Request headers are larger than 16384 bytes"
    whole = request("GET", "/__sandbox/health", {"X-Big": "a" * 17_000})
    assert_envelope(exchange(port, whole), 431, message)
    endless = b"GET /__sandbox/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000  # 1 MB and no end
    assert_envelope(exchange(port, endless), 431, message)
    long_url = request("GET", "/__sandbox/health?" + "q" * 17_000)
    assert_envelope(exchange(port, long_url), 431, message)
    assert exchange(port, request("GET", "/__sandbox/health", {"X-Big": "a" * 15_000})).status == 200


def test_json_nested_deeper_than_64_levels_is_400(hostile, partner):
    deep = ('{"a":' + "[" * 65 + "]" * 65 + "}").encode()
    assert_envelope(hostile.post(ALLOCATE, content=deep, headers={**partner.headers, **JSON}), 400,
                    "Malformed JSON request body: JSON is nested deeper than 64 levels")
    within = json.dumps(allocation()).replace(f'"{DOCS_COMPANY}"', "[" * 63 + "]" * 63, 1).encode()  # 64 levels in all
    assert_envelope(hostile.post(ALLOCATE, content=within, headers={**partner.headers, **JSON}), 422, "companyId must be a string")


@pytest.mark.parametrize("text, message", [
    ("[" * 50_000, "Fixtures are not valid YAML or JSON: nested deeper than 64 levels"),  # segfaulted libyaml's composer
    ("partners: " + "[" * 20_000 + "]" * 20_000, "Fixtures are not valid YAML or JSON: nested deeper than 64 levels"),
    ('a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
     'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n',
     "Fixtures are not valid YAML or JSON: aliases (*a) are not accepted: write the value out"),
    ("partners: " + "9" * 5000, "Fixtures are not valid YAML or JSON: Exceeds the limit (4300 digits) for integer string "
     "conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase the limit"),
    ("when: 2001-02-30", "Fixtures are not valid YAML or JSON: day is out of range for month"),
])
def test_fixtures_that_would_crash_or_block_the_parser_are_400_at_once(hostile, text, message):
    before = state(hostile)
    answer = hostile.post("/__sandbox/fixtures", content=text.encode(), headers={"Content-Type": "application/yaml"})
    assert_envelope(answer, 400, message)
    assert answer.elapsed.total_seconds() < 2
    assert state(hostile) == before


def test_fixture_numbers_that_are_no_numbers_are_refused(hostile):
    doc = "partners:\n  - partnerId: NANP1\n    companies:\n      - companyId: NANC1\n        accounts:\n" \
          "          - {cardAccountId: NANA1, availableBalance: .nan}\n"
    assert_envelope(hostile.post("/__sandbox/fixtures", content=doc.encode()), 422,
                    "Fixtures rejected at partners[0].companies[0].accounts[0].availableBalance: nan is not a finite number")
    days = doc.replace("availableBalance: .nan", "availableBalance: 1").replace("companyId: NANC1", "companyId: NANC1\n        coins: {coinValidityDays: 1000000000000}")
    answer = hostile.post("/__sandbox/fixtures", content=days.encode())
    assert answer.status_code == 422 and "coinValidityDays: 1000000000000 is greater than the maximum of 36500" in answer.text


def test_refused_bodies_at_the_limit_are_freed_at_once(hostile, partner, sandbox):
    """A body the schema refuses through anyOf made jsonschema errors that hold it (and its repr)
    in a reference cycle, freed only when the server's rare cyclic collection ran: +16 MB per
    8 MiB body, 3.3 GB after 200 (bench/hostile.py). Now each refusal frees its memory at once."""
    body = b'{"companyId": "' + b"a" * (8 * 2**20 - 100) + b'"}'  # within --max-body-bytes (8 MiB)
    refused = {"response_code": 1, "response_message": "transactionType is required", "payload": "transactionType is required"}
    first = hostile.post(ALLOCATE, content=body, headers={**partner.headers, **JSON})
    assert (first.status_code, first.json()) == (400, refused)  # a first refusal: the reference validator is loaded (preloaded by a server)
    start = rss_bytes(sandbox.process.pid)
    for _ in range(20):
        answer = hostile.post(ALLOCATE, content=body, headers={**partner.headers, **JSON})
        assert (answer.status_code, answer.json()) == (400, refused)
    grown = rss_bytes(sandbox.process.pid) - start
    assert grown < 64 * 2**20, f"RSS grew by {grown / 2**20:.0f} MB over 20 refused 8 MiB bodies"


def test_a_large_body_is_parsed_beside_the_loop_with_the_same_answers(hostile, partner):
    """A JSON body of OFF_LOOP_BYTES or more is parsed on a worker thread (the loop serves others
    meanwhile): the same document, the same refusals, in the same order (credentials first)."""
    pad = b" " * OFF_LOOP_BYTES  # whitespace: the same document, large
    good = json.dumps(allocation(loadAmount=5)).encode() + pad
    answer = hostile.post(ALLOCATE, content=good, headers={**partner.headers, **JSON})
    assert (answer.status_code, answer.json()["code"], answer.json()["payload"]["otbBalance"]) == (200, 0, 5)
    bad = b'{"companyId": 1,' + pad
    assert_envelope(hostile.post(ALLOCATE, content=bad, headers={**partner.headers, **JSON}), 400,
                    f"Malformed JSON request body: Expecting property name enclosed in double quotes at line 1 column {len(bad) + 1}")
    assert_envelope(hostile.post(ALLOCATE, content=bad, headers=JSON), 401, "Full authentication is required to access this resource")
    assert_envelope(hostile.post(ALLOCATE, content=bad, headers=partner.headers), 415, "Content-Type must be application/json")
    deep = b"[" * 65 + b"]" * 65 + pad
    assert_envelope(hostile.post(ALLOCATE, content=deep, headers={**partner.headers, **JSON}), 400,
                    "Malformed JSON request body: JSON is nested deeper than 64 levels")


def test_a_call_of_a_third_of_a_million_values_is_refused_as_before(hostile, partner):
    """A 1 MiB call of 349,000 values is parsed beside the loop (OFF_LOOP_BYTES is 16 KiB) and
    refused naming the same first problem as before: the list's maxItems is found in its first
    SHOWN_ITEMS + 1 items, and an object's missing field among its first problems."""
    assert OFF_LOOP_BYTES == 1 << 14
    ids = b'{"companyId": "%s", "cardAccountId": "%s", "enKashTransactionIds": [' % (DOCS_COMPANY.encode(), DOCS_ACCOUNT.encode())
    ids += b'"",' * ((2**20 - len(ids)) // 3 - 2) + b'""]}'
    answer = hostile.post(PARTNER_PATH + "/transaction/all", content=ids, headers={**partner.headers, **JSON})
    assert_envelope(answer, 422, "enKashTransactionIds must have at most 1000 items")
    objects = b'{"x": [' + b"{}," * ((2**20 - 10) // 3) + b"{}]}"
    assert_envelope(hostile.post(ALLOCATE, content=objects, headers={**partner.headers, **JSON}), 400, "transactionType is required")


def test_a_long_list_is_searched_whole_when_its_first_items_hold_no_problem(tmp_path):
    """The reference validator looks at a list's first SHOWN_ITEMS + 1 items; a list no maxItems
    bounds, whose problem lies further, is then searched whole: never valid by the cut."""
    (tmp_path / "names.request.json").write_text('{"type": "array", "items": {"type": "string"}}')
    checked = schemas.Schemas(tmp_path)
    late = ["a"] * (schemas.SHOWN_ITEMS + 500) + [7]
    with pytest.raises(errors.InvalidField) as refused:
        checked.check("names.request", late)
    assert refused.value.message == f"body[{schemas.SHOWN_ITEMS + 500}] must be a string"
    many = [7] * (schemas.FIRST_ERRORS * 3)
    with pytest.raises(errors.InvalidField) as refused:
        checked.check("names.request", many)
    assert refused.value.message == "body[0] must be a string"


def test_a_call_has_a_small_body_limit_of_its_own_and_an_upload_the_large_one(http, other_partner):
    """Shipped limits: a call carries one record, so 1 MiB bounds it and a flood of bodies at the
    limit costs no parse worth the name (an 8 MiB parse held the loop 30 ms); the bulk upload
    takes 8 MiB. Refused at the limit + 1, whole, before any credential or parse."""
    call, one = ALLOCATE, json.dumps(allocation(loadAmount=5, companyId=OTHER_COMPANY,
                                                                               cardAccountId=OTHER_ACCOUNT)).encode()
    before = {k: v for k, v in http.get("/__sandbox/state").json().items() if k != "clock"}
    over = one + b" " * (2**20 + 1 - len(one))
    assert_envelope(http.post(call, content=over, headers={**other_partner.headers, **JSON}), 413,
                    "Request body is larger than 1048576 bytes")
    assert {k: v for k, v in http.get("/__sandbox/state").json().items() if k != "clock"} == before
    at = over[:-1]
    answer = http.post(call, content=at, headers={**other_partner.headers, **JSON})
    assert (answer.status_code, answer.json()["code"], answer.json()["payload"]["otbBalance"]) == (200, 0, 5)
    rows = [{"title": "Mr", "name": f"N{i}", "email": f"up{i}@example.com", "mobile": f"71{i:08d}", "loadAmount": 1,
             "remarks": "r" * 200, "uniqueReferenceNumber": f"UP-{i}"} for i in range(4000)]
    assert len(json.dumps(rows)) > 2**20
    path = f"/bulk-create-allocate-points-json?companyId={OTHER_COMPANY}&cardAccountId={OTHER_ACCOUNT}&isPointsAllocation=true"
    assert other_partner.post(path, rows).json()["payload"]["successCount"] == 4000


def test_the_parser_thread_rests_as_long_as_its_last_parse_took():
    """A flood of large uploads kept the parser thread busy without a pause, each of its C calls
    holding the loop (health p99 171 ms, bench/hostile.py); resting as long as the parse before
    took, it holds the GIL half the time at most (p99 51 ms). A lone parse never waits."""
    now, slept = [100.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    def parse(seconds: float) -> float:
        now[0] += seconds
        return seconds

    pace = adapter.Pace(clock=lambda: now[0], sleep=sleep)
    assert (pace.run(parse, 0.030), slept) == (0.030, [])
    assert (pace.run(parse, 0.010), slept) == (0.010, [pytest.approx(0.030)])  # at once after it: rests 30 ms
    now[0] += 0.004  # 4 ms after that 10 ms parse: 6 ms of its rest left
    assert (pace.run(parse, 0.020), slept) == (0.020, [pytest.approx(0.030), pytest.approx(0.006)])
    now[0] += 1.0  # long after: no rest
    assert (pace.run(parse, 0.005), len(slept)) == (0.005, 2)
    with pytest.raises(ZeroDivisionError):
        pace.run(lambda: 1 / 0)  # a refused body counts too
    assert pace.free_at == pytest.approx(now[0])


def test_a_strangers_large_body_is_refused_before_any_parse(monkeypatch):
    """Credentials are checked before a large body is parsed: a client without a token costs the
    server the read of its body, never the parse (the parse of 8 MiB holds the GIL in C for tens of ms)."""
    parsed: list[int] = []
    parse = adapter.parsed_beside_the_loop

    async def counted(raw: bytes, max_depth: int) -> adapter.Parsed:
        parsed.append(len(raw))
        return await parse(raw, max_depth)

    monkeypatch.setattr(adapter, "parsed_beside_the_loop", counted)
    body = json.dumps(allocation(loadAmount=5)).encode() + b" " * OFF_LOOP_BYTES
    with ServerThread(Settings(seed=7, max_call_bytes=8 * 2**20)) as running, httpx.Client(base_url=running.url, timeout=30) as client:
        assert_envelope(client.post(ALLOCATE, content=body, headers=JSON), 401, "Full authentication is required to access this resource")
        assert_envelope(client.post(ALLOCATE, content=body, headers={**JSON, "Authorization": "Bearer nope", "partnerId": DOCS_PARTNER}),
                        401, "Invalid access token")
        assert parsed == []
        partner = Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
        answer = client.post(ALLOCATE, content=body, headers={**partner.headers, **JSON})
        assert (answer.status_code, answer.json()["code"]) == (200, 0)
        assert parsed == [len(body)]


# --- 2. fault values: refused with a 400 naming them, or they fire ------------------------------------
BUSINESS = ("(one of CardInactive, DuplicateOrderReference, DuplicateReference, DuplicateRequestId, InjectedBusinessFailure, "
            "InsufficientBalance, KycPending, ReferenceReused, RequestIdReused)")


@pytest.mark.parametrize("spec, problem", [
    ("garbage; bytes=100000000", "garbage: bytes must be a whole number from 1 to 1048576"),
    ("slow; chunk=0", "slow: chunk must be a whole number from 1 to 1048576"),
    ("ratelimit=1e400", "ratelimit: ratelimit must be from 0.001 to 1000000 requests per second"),
    ("ratelimit=5; burst=99999999999999", "ratelimit: burst must be a whole number from 1 to 1000000"),
    ("status=429; retry-after=100000", "status: retry-after must be a whole number from 1 to 86400"),
    ("latency=lognormal; median=0", "latency: median must be longer than 0ms"),
    ("latency=lognormal; median=10ms; sigma=1000", "latency: sigma must be at most 10"),
    ("latency=lognormal; median=10ms; sigma=nan", "latency: sigma must be greater than 0"),
    ("latency=2s..1s", "latency: a latency range must go from low to high"),
    ("latency=" + "9" * 400, "latency: latency must be at most 300s"),
    ("business=InjectedError", f"business: no business failure named 'InjectedError' {BUSINESS}"),
    ("business=InvalidClient", f"business: no business failure named 'InvalidClient' {BUSINESS}"),
    ("business=DuplicateReference", "business: DuplicateReference needs message= (its text has details)"),
])
def test_a_fault_value_that_cannot_fire_is_a_400_naming_it(hostile, partner, spec, problem):
    before = counts(hostile)
    answer = partner.post("/create-allocate-points", allocation(), headers={"X-Sandbox-Fault": spec})
    assert_envelope(answer, 400, f"X-Sandbox-Fault: {problem}")
    rule = hostile.post("/__sandbox/faults", json={"fault": spec})
    assert_envelope(rule, 400, f"fault: {problem}")
    assert counts(hostile) == before and hostile.get("/__sandbox/faults").json()["rules"] == []


def test_the_bounds_themselves_fire(hostile, partner, port):
    sent = request("POST", ALLOCATE, {**partner.headers, **JSON, "X-Sandbox-Fault": "garbage; bytes=1048576"},
                   json.dumps(allocation()).encode())
    assert len(exchange(port, sent).body) == 1_048_576  # exactly 1 MiB of random bytes, then close
    answer = partner.post("/create-allocate-points", allocation(uniqueReferenceNumber="SIGMA-1"),
                          headers={"X-Sandbox-Fault": "latency=lognormal; median=1ms; sigma=10"})
    assert answer.status_code == 200 and answer.json()["code"] == 0  # e**(10 sigma) is capped, never an overflow
    business = partner.post("/create-allocate-points", allocation(), headers={"X-Sandbox-Fault": "business=KycPending"})
    assert (business.status_code, business.json()["response_message"]) == (200, "KYC is pending for the card holder")


GRAMMAR = st.builds(
    lambda kind, value, params: "; ".join([f"{kind}={value}" if value else kind, *(f"{k}={v}" for k, v in params)]),
    st.sampled_from(["status", "business", "token", "timeout", "reset", "empty", "garbage", "ratelimit", "latency", "slow",
                     "malformed", "truncated", "lost"]),
    st.one_of(st.just(""), st.sampled_from(["503", "429", "expired", "lognormal", "1..2", "0", "1e400", "-1", "nan",
                                            "InsufficientBalance", "InjectedError", "300s", "301s"]),
              st.from_regex(r"[0-9]{1,12}(\.[0-9]{1,3})?(ms|s)?", fullmatch=True)),
    st.lists(st.tuples(st.sampled_from(["bytes", "chunk", "burst", "retry-after", "median", "sigma", "every", "delay", "message"]),
                       st.one_of(st.from_regex(r"-?[0-9]{1,25}(\.[0-9]{1,3})?(e[0-9]{1,4})?(ms|s)?", fullmatch=True),
                                 st.sampled_from(["0", "nan", "inf", "1048577", "x"]))), max_size=3),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(GRAMMAR)
def test_nothing_that_passes_the_parser_can_raise_when_it_fires(text):
    """Every computation a fault makes when it fires, for every fault the parser lets through."""
    from sandbox.domain import errors
    from sandbox.faults import spec
    from sandbox.faults.engine import FaultEngine
    from sandbox.faults.rules import Incoming
    from sandbox.state.clock import Clock

    try:
        fault = spec.parse(text)
    except errors.FaultSpecInvalid:
        return
    engine = FaultEngine(Clock(), None, 1)  # type: ignore[arg-type]
    fault.text()
    if fault.kind in spec.ANSWERS:
        assert isinstance(spec.failure_for(fault), errors.SandboxError)
    if fault.kind == "latency":
        assert 0 <= engine.latency(fault) <= spec.MAX_HOLD_SECONDS
    if fault.kind == "timeout":
        assert 0 <= spec.duration(fault.value, "timeout") <= spec.MAX_HOLD_SECONDS
    if fault.kind == "garbage":
        assert len(engine.garbage(fault.number("bytes", 64))) <= 1024 * 1024
    if fault.kind == "slow":
        assert 1 <= fault.number("chunk", 16) and 0 <= fault.seconds("every", 0.1) <= spec.MAX_HOLD_SECONDS
    if fault.kind == "ratelimit":
        for _ in range(3):
            fired = engine._fire(fault, "header", Incoming("POST", "/x", "", None, None, None, "P1"))
            assert fired is None or spec.failure_for(fired.fault).status == 429


# --- 3. dates inside 1970..8999 -------------------------------------------------------------------
@pytest.mark.parametrize("start", ["99999-01-01", "1900-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_a_clock_start_out_of_range_stops_the_start(start):
    result = run_to_exit("--clock-start", start)
    assert result.returncode == 2
    problem = "expected an ISO-8601 time such as 2025-03-01T10:00:00Z" if start.startswith("99999") else RANGE_TEXT
    assert result.stderr == f"enkash-sandbox: --clock-start: {problem}, got {start!r}\n"


def test_the_clock_and_every_date_stay_in_range(hostile, partner):
    before = hostile.get("/__sandbox/clock").json()
    range_text = "must be between 1970-01-01T00:00:00Z and 8999-12-31T23:59:59Z"
    assert_envelope(hostile.post("/__sandbox/clock", json={"now": "1969-12-31T23:59:59Z"}), 422, f"now {range_text}")
    assert_envelope(hostile.post("/__sandbox/clock", json={"now": "9999-12-31T00:00:00+05:30"}), 422, f"now {range_text}")
    assert hostile.get("/__sandbox/clock").json() == before
    assert hostile.post("/__sandbox/clock", json={"now": "2199-12-31T00:00:00Z", "frozen": True}).status_code == 200
    for _ in range(70):  # 68 x 100 years from 2199 reach 8999
        answer = hostile.post("/__sandbox/clock", json={"advance": 3153600000})
        if answer.status_code != 200:
            break
    assert_envelope(answer, 422, f"advance would move the clock out of range: {range_text}")
    assert hostile.get("/__sandbox/clock").json()["now"] < "9000"
    assert hostile.post("/__sandbox/reset").status_code == 200
    assert hostile.get("/__sandbox/clock").json()["frozen"] == before["frozen"]

    # a promotion or a fault window at year 0 (in UTC) is refused before anything is stored
    year_zero = "0001-01-01T00:00:00+00:01"
    settings_before = hostile.get("/__sandbox/companies/CEK0TCW2W8/coins").json()
    promotion = {"promotions": [{"event": "REFERRAL_EVENT", "multiplier": 2, "starts": year_zero, "ends": "2030-01-01T00:00:00Z"}]}
    assert_envelope(hostile.post("/__sandbox/companies/CEK0TCW2W8/coins", json=promotion), 422, f"promotions.starts {range_text}")
    assert hostile.get("/__sandbox/companies/CEK0TCW2W8/coins").json() == settings_before
    assert_envelope(hostile.post("/__sandbox/faults", json={"fault": "status=503", "from": year_zero}), 422, f"from {range_text}")
    assert hostile.get("/__sandbox/faults").status_code == 200
    query = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "txnDateFrom": year_zero}
    partner = Partner(hostile, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)  # the reset above revoked its token
    assert_envelope(partner.post("/transaction/all", query), 422, f"txnDateFrom {range_text}")


# --- 4. state documents checked whole -------------------------------------------------------------
def _card(doc: dict[str, Any], card_id: str = "EKCDM5AVZY") -> dict[str, Any]:
    return doc["store"]["cards"][card_id]["fields"]  # type: ignore[no-any-return]


def _raise_balance(doc: dict[str, Any]) -> None:
    doc["ledger"]["balances"]["EKCDM5AVZY"] = {"$decimal": "1000500"}


def _unbalanced(doc: dict[str, Any]) -> None:
    lines = doc["ledger"]["postings"][0]["fields"]["lines"]["$tuple"]
    lines[4] = {"$decimal": str(Decimal(lines[4]["$decimal"]) + 1)}  # the second line's amount, balance_after left
    lines[5] = {"$decimal": str(Decimal(lines[5]["$decimal"]) + 1)}


def _import_by_name(doc: dict[str, Any]) -> None:
    doc["store"]["sso_grants"]["X"] = {"$record": "sandbox.__main__:main", "fields": {}}


STATE_ATTACKS = [
    ("a User filed as a card", lambda d: d["store"]["cards"].update(EKCDM5AVZY=d["store"]["users"]["EKQ3M7DA"]),
     'store.cards.EKCDM5AVZY.$record: "sandbox.state.store:Card" was expected'),
    ("a card of a missing user", lambda d: _card(d).update(user_id="EKNOBODY"),
     "store.cards['EKCDM5AVZY'].user_id: names 'EKNOBODY', which is not in store.users"),
    ("a naive datetime", lambda d: d["store"]["partners"].update() or d["store"]["logins"]["$map"][0][1]["fields"].update(
        locked_at={"$datetime": "2025-01-01T00:00:00"}),
     'store.logins.$map[0][1].fields.locked_at: {"$datetime":"2025-01-01T00:00:00"} is not valid under any of the schemas listed in the \'anyOf\' keyword'),
    ("a NaN balance", lambda d: d["ledger"]["balances"].update(world={"$decimal": "NaN"}),
     'ledger.balances.world.$decimal: "NaN" does not match'),
    ("a balance raised with no posting", _raise_balance, "ledger.balances.EKCDM5AVZY: says 1000500 but the postings make 500"),
    ("a posting that does not balance", _unbalanced, "ledger.postings[0]: does not balance: its amounts sum to 1"),
    ('"ids": {}', lambda d: d.update(ids={}), 'ids: "$tuple" is a required property'),
    ("a record type named to be imported", _import_by_name, "store.sso_grants.X.$record: \"sandbox.state.store:SsoGrant\" was expected"),
    ("a year-9999 clock", lambda d: d["clock"].update(now="9999-12-31T23:59:59+00:00"),
     "clock.now: must be between 1970-01-01T00:00:00Z and 8999-12-31T23:59:59Z"),
    ("a card filed under another id", lambda d: d["store"]["cards"].update(EKCOTHER01=d["store"]["cards"].pop("EKCDM5AVZY")),
     "store.cards['EKCOTHER01']: is filed under 'EKCOTHER01' but its card_id is 'EKCDM5AVZY'"),
    ("a second card with a holder's mobile", lambda d: d["store"]["users"]["EKPDC37K"]["fields"].update(mobile="9876500001"),
     "store.cards['EKC9MKS5RM']: another card in its account has the same mobile or email"),
    ("coins in lots the ledger never gave", lambda d: d["store"]["coin_lots"]["EKQZVMQK"][0]["fields"].update(remaining={"$decimal": "99"}),
     "store.coin_lots['EKQZVMQK']: the lots hold 99 coins, the ledger 10"),
]


@pytest.mark.parametrize("name, change, problem", STATE_ATTACKS, ids=[a[0] for a in STATE_ATTACKS])
def test_a_state_document_is_refused_whole_naming_the_first_problem(hostile, partner, name, change, problem):
    coins = hostile.post("/api/v0/enkash-coins/allocate-coin", headers={"Authorization": f"Bearer {partner.token}"},
                         json={"companyId": "CEK0TCW2W8", "event": "REFERRAL_EVENT", "requestId": "H-COIN", "userId": "EKQZVMQK"})
    assert coins.status_code == 200
    before = state(hostile)
    doc = json.loads(before)
    change(doc)
    answer = hostile.put("/__sandbox/state", content=json.dumps(doc), headers=JSON)
    assert answer.status_code == 422, answer.text
    assert answer.json()["response_message"].startswith(f"State document rejected at {problem}"), answer.text
    assert state(hostile) == before


VIKRAM, VIKRAM_CARD, MYNTRA, MYNTRA_500 = "EK8IHN4B", "EKC8IHN4B7", "PC235129857G58ZX", "PCN233451126S5CZC"


def _order(doc: dict[str, Any]) -> dict[str, Any]:
    return next(iter(doc["store"]["orders"].values()))["fields"]  # type: ignore[no-any-return]


def _copy_order(doc: dict[str, Any]) -> None:
    copy = json.loads(json.dumps(next(iter(doc["store"]["orders"].values()))))
    copy["fields"]["order_id"] = "EKORDCOPY"
    doc["store"]["orders"]["EKORDCOPY"] = copy


def _second_cart(doc: dict[str, Any]) -> None:
    copy = json.loads(json.dumps(doc["store"]["carts"]["$map"][0]))
    copy[0] = copy[1]["fields"]["cart_id"] = 5000
    doc["store"]["carts"]["$map"].append(copy)


def _vikram_login(doc: dict[str, Any]) -> dict[str, Any]:
    return next(e[1]["fields"] for e in doc["store"]["logins"]["$map"] if e[1]["fields"]["user_id"] == VIKRAM)  # type: ignore[no-any-return]


REDEMPTION_ATTACKS = [
    ("an order whose payment is no posting", lambda d: _order(d).update(posting_id="EKTXNOPE"),
     "store.orders['{order}'].posting_id: names 'EKTXNOPE', which is not this order's payment"),
    ("an order paid from another user's card", lambda d: _order(d).update(card_id="EKCDM5AVZY"),
     "store.orders['{order}'].card_id: EKCDM5AVZY is not a card of user EK8IHN4B"),
    ("an order of a product not in the catalog", lambda d: _order(d).update(product_catalog_id="PCNOPE"),
     "store.orders['{order}'].product_catalog_id: names 'PCNOPE', which is not in store.products"),
    ("a FAILED order never refunded", lambda d: _order(d).update(status="FAILED"),
     "store.orders['{order}'].status: a FAILED order, and only one, is REFUNDED by a refund posting"),
    ("a second order under the same reference", _copy_order,
     "store.orders['EKORDCOPY'].reference: H-ORD-1 is the reference of another order of CRMXWB3ZM"),
    ("an order with one voucher too few", lambda d: _order(d).update(vouchers=[]),
     "store.orders['{order}'].vouchers: must be 1 Voucher records, one a unit"),
    ("a second cart for one product", _second_cart, f"store.carts[5000]: user {VIKRAM} has a second cart for {MYNTRA}"),
    ("a cart item above its max_quantity",
     lambda d: d["store"]["carts"]["$map"][0][1]["fields"]["items"][MYNTRA_500]["fields"].update(quantity=11),
     f"store.carts[2191].items['{MYNTRA_500}']: must be a CartItem of a config of {MYNTRA}"),
    ("next_cart_id below the carts", lambda d: d["store"].update(next_cart_id=5),
     "store.next_cart_id: is 5, below 2192 that the records need"),
    ("a holder's login bound to a missing user", lambda d: _vikram_login(d).update(user_id="EKNOBODY"),
     "store.logins[{login}].user_id: names 'EKNOBODY', which is not in store.users"),
]


@pytest.mark.parametrize("name, change, problem", REDEMPTION_ATTACKS, ids=[a[0] for a in REDEMPTION_ATTACKS])
def test_a_state_with_carts_and_orders_is_checked_whole(hostile, partner, name, change, problem):
    funded = partner.allocate(companyId="CEK7T1WMC6", cardAccountId="CA8IHN4BR", enkashCardId=VIKRAM_CARD, loadAmount=1000,
                              uniqueReferenceNumber="H-FUND")
    assert funded.json()["code"] == 0, funded.text
    body = {"denomination": 500, "orderReferenceId": "H-ORD-1", "productCatalogId": MYNTRA, "quantity": 1, "ekUserId": VIKRAM}
    ordered = hostile.post("/api/v0/partner/create-order", json=body, headers={"Authorization": f"Bearer {partner.token}"})
    assert ordered.status_code == 200 and ordered.json()["response_code"] == 0, ordered.text
    before = state(hostile)
    doc = json.loads(before)
    login = next(tuple(e[0]["$tuple"]) for e in doc["store"]["logins"]["$map"] if e[1]["fields"]["user_id"] == VIKRAM)
    assert hostile.put("/__sandbox/state", content=before, headers=JSON).status_code == 200  # as dumped, it goes back
    assert state(hostile) == before
    change(doc)
    answer = hostile.put("/__sandbox/state", content=json.dumps(doc), headers=JSON)
    assert answer.status_code == 422, answer.text
    expected = problem.format(order=next(iter(doc["store"]["orders"])), login=login)
    assert answer.json()["response_message"].startswith(f"State document rejected at {expected}"), answer.text
    assert state(hostile) == before


def test_a_record_type_is_looked_up_never_imported():
    from sandbox.documents import snapshot
    from sandbox.state.clock import Clock

    assert "sandbox.__main__" not in sys.modules
    with pytest.raises(snapshot.SnapshotError, match="record type 'sandbox.__main__:main' is not one of the sandbox's"):
        snapshot.decode({"$record": "sandbox.__main__:main", "fields": {}}, "x")
    assert "sandbox.__main__" not in sys.modules
    assert snapshot.restore.__module__ == "sandbox.documents.snapshot" and Clock


def test_every_record_type_has_its_schema_and_every_store_attribute_is_known():
    from dataclasses import fields

    from sandbox.contract.schemas import SCHEMA_DIR
    from sandbox.documents import snapshot
    from sandbox.state.clock import Clock
    from sandbox.state.ids import IdFactory
    from sandbox.state.store import Store

    definitions = json.loads((SCHEMA_DIR / "state.schema.json").read_text())["definitions"]
    for tag, cls in snapshot.RECORDS.items():
        names = list(cls._fields) if issubclass(cls, tuple) else [f.name for f in fields(cls)]
        record = definitions[cls.__name__]
        assert record["properties"]["$record"]["const"] == tag
        assert record["properties"]["fields"]["required"] == names, cls.__name__
    store = Store(Clock(), IdFactory(1))
    assert set(vars(store)) == {*snapshot.TABLES, *snapshot.COUNTERS, *snapshot.DERIVED, *snapshot._STORE_SPECIAL}
    assert snapshot._STORE_SPECIAL == ("clock", "ids", "ledger", "txn_status")
    assert set(json.loads((SCHEMA_DIR / "state.schema.json").read_text())["properties"]["store"]["required"]) == {*snapshot.TABLES, *snapshot.COUNTERS}


def test_a_dump_larger_than_the_body_limit_can_be_put_back():
    frozen = ("--clock-start", "2025-06-01T00:00:00Z", "--clock-frozen", "true")
    with SandboxProcess("--seed", "3", "--max-body-bytes", "65536", *frozen) as small, httpx.Client(base_url=small.url, timeout=60) as http:
        partner = Partner(http, OTHER_BASIC, OTHER_LOGIN, OTHER_PARTNER)
        rows = [{"title": "Mr", "name": f"N{i}", "email": f"big{i}@example.com", "mobile": f"70{i:08d}", "loadAmount": 1,
                 "remarks": "r", "uniqueReferenceNumber": f"BIG-{i}"} for i in range(150)]
        path = f"/bulk-create-allocate-points-json?companyId={OTHER_COMPANY}&cardAccountId={OTHER_ACCOUNT}&isPointsAllocation=true"
        assert partner.post(path, rows).json()["payload"]["successCount"] == 150
        dump = http.get("/__sandbox/state").content
        assert len(dump) > 65536
        assert http.post("/__sandbox/reset").status_code == 200
        assert http.put("/__sandbox/state", content=dump, headers=JSON).status_code == 200
        assert http.get("/__sandbox/state").content == dump
        small.stop()


# --- 5. patterns mean the whole string --------------------------------------------------------------
def test_no_field_takes_a_trailing_newline(hostile, partner):
    assert_envelope(partner.allocate(**new_user(email="asha.rao@example.com\n", uniqueReferenceNumber="NL-1")), 422,
                    "email has an invalid format")
    coins = hostile.post("/api/v0/enkash-coins/create-coins-config", headers={"Authorization": f"Bearer {partner.token}"},
                         json={"companyId": "CEK0TCW2W8", "configuration": "DEFAULT", "event": "REFERRAL_EVENT\n", "amount": 5})
    assert_envelope(coins, 422, "event has an invalid format")
    sso = "partners:\n  - {partnerId: NLP1, ssoName: \"hr\\n\"}\n"
    answer = hostile.post("/__sandbox/fixtures", content=sso.encode())
    assert answer.status_code == 422 and answer.json()["response_message"].startswith(
        "Fixtures rejected at partners[0].ssoName: 'hr\\n' does not match")


def _patterns() -> list[str]:
    from sandbox.contract.schemas import SCHEMA_DIR

    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in SCHEMA_DIR.glob("*.json"):
        walk(json.loads(path.read_text()))
    return sorted(found)


EDGES = ["\n", "\r\n", "\r", "\x00", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", " ", "\ufeff"]


@pytest.mark.parametrize("pattern", _patterns())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_both_validators_agree_on_every_pattern(pattern, data):
    """jsonschema (the reference) and jsonschema_rs (the fast path) on the same edge cases."""
    import jsonschema_rs

    from sandbox.contract.schemas import _reference

    schema = {"type": "string", "pattern": pattern}
    reference, fast = _reference()(schema), jsonschema_rs.Draft7Validator(schema, validate_formats=False)
    sample = data.draw(st.from_regex(pattern.replace("$", r"\Z") if "\\$" not in pattern else pattern, fullmatch=False))
    edge = data.draw(st.sampled_from(EDGES))
    for value in (sample, sample + edge, edge + sample, sample[:1] + edge + sample[1:], sample + edge + "x"):
        assert reference.is_valid(value) == fast.is_valid(value), (pattern, value)


# --- 6. nothing grows from unauthenticated input ------------------------------------------------------
def test_a_spoofed_partner_header_drains_no_bucket_and_grows_no_table(server, http, docs_partner):
    limit = {"X-Sandbox-Fault": "ratelimit=0.001; burst=1"}
    for n in range(200):  # a spoofer: a new partnerId on every call, no token
        http.post(ALLOCATE, json={}, headers={**limit, "partnerId": f"SPOOF{n}"})
    http.post(ALLOCATE, json={}, headers={**limit, "partnerId": DOCS_PARTNER})  # and the real partner's id
    assert set(server.state.faults.buckets) == {""}  # one shared bucket for every unauthenticated call
    answer = docs_partner.post("/create-allocate-points", allocation(uniqueReferenceNumber="RL-REAL"), headers=limit)
    assert answer.status_code == 200 and answer.json()["code"] == 0  # the real partner's own bucket is full
    again = docs_partner.post("/create-allocate-points", allocation(uniqueReferenceNumber="RL-REAL-2"), headers=limit)
    assert again.status_code == 429 and again.json()["response_message"].endswith(f"for partnerId {DOCS_PARTNER}")
    assert set(server.state.faults.buckets) == {"", DOCS_PARTNER}


def test_sso_grants_expire_and_are_freed(server, http, docs_partner):
    body = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "enKashCardId": "EKCDM5AVZY"}
    assert http.post("/__sandbox/clock", json={"frozen": True}).status_code == 200
    for _ in range(5):
        assert docs_partner.post("/sso-token", body).status_code == 200
    assert len(server.state.store.sso_grants) == 5
    lifetime = server.state.token_policy.ttl_seconds  # the marketplace accepts an SSO token this long
    assert http.post("/__sandbox/clock", json={"advance": lifetime - 1}).status_code == 200
    assert docs_partner.post("/sso-token", body).status_code == 200
    assert len(server.state.store.sso_grants) == 6  # none has expired yet
    assert http.post("/__sandbox/clock", json={"advance": 2}).status_code == 200
    renewed = Partner(http, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)  # the partner's own token has expired too
    assert renewed.post("/sso-token", body).status_code == 200
    assert len(server.state.store.sso_grants) == 2  # the first five are freed, the sixth and this one kept


def test_armed_rules_and_uploaded_fixtures_are_capped(server, http):
    for n in range(1000):
        server.state.faults.add({"fault": "status=503", "path": f"/nowhere/{n}"})
    assert_envelope(http.post("/__sandbox/faults", json={"fault": "status=503"}), 422, "At most 1000 fault rules armed")
    assert http.delete("/__sandbox/faults").json() == {"cleared": 1000}


# --- 7. the journal keeps no secret in clear, and every request whole ----------------------------------
def test_the_journal_masks_passwords_secrets_and_tokens(hostile, partner):
    sso = partner.post("/sso-token", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "enKashCardId": "EKCDM5AVZY"})
    grant = sso.json()["payload"]
    fixtures = "partners:\n  - partnerId: JP1\n    clients:\n      - clientId: JC1\n        clientSecret: s3cr3t-value\n" \
               "        logins: [{username: u1, password: pa55word}]\n"
    assert hostile.post("/__sandbox/fixtures", content=fixtures.encode()).status_code == 200
    assert hostile.get("/__sandbox/state").status_code == 200
    text = json.dumps(hostile.get("/__sandbox/journal").json())
    for secret in (DOCS_LOGIN["password"].replace("@", "%40"), DOCS_LOGIN["password"], partner.token, grant, "s3cr3t-value",
                   "pa55word", "64b0ff0332f058b56402b63a9baa60214f2d61d3"):
        assert secret not in text, secret
    token_entry = hostile.get("/__sandbox/journal", params={"path": "/oauth/token"}).json()["requests"][0]
    assert "password=***" in token_entry["request"]["body"]
    assert json.loads(token_entry["response"]["body"])["access_token"] == "***"
    state_entry = hostile.get("/__sandbox/journal", params={"path": "/__sandbox/state"}).json()["requests"][0]
    assert state_entry["response"]["body"] == "(not shown: a state document holds every credential)"
    assert state_entry["response"]["bodySize"] > 10_000 and state_entry["response"]["bodyTruncated"] is True


def test_the_journal_records_every_request_whole_whoever_answered(hostile, partner, port):
    body = json.dumps(allocation(uniqueReferenceNumber="WHOLE-1")).encode()
    headers = {**partner.headers, **JSON}
    assert hostile.post(PARTNER_PATH + "/nowhere", content=body, headers=headers).status_code == 404
    assert hostile.put(ALLOCATE, content=body, headers=headers).status_code == 405
    assert hostile.post(ALLOCATE, content=body, headers={**headers, "X-Sandbox-Fault": "status=503"}).status_code == 503
    assert exchange(port, request("POST", ALLOCATE, {**headers, "X-Sandbox-Fault": "reset"}, body)).status == 0
    big = request("POST", ALLOCATE, {**headers, "Content-Length": "9000000"})[:-2] + b"\r\n" + body
    assert exchange(port, big).status == 413
    limited = {**headers, "X-Sandbox-Fault": "ratelimit=0.001; burst=1"}
    assert hostile.post(ALLOCATE, content=body, headers=limited).status_code == 200
    assert hostile.post(ALLOCATE, content=body, headers=limited).status_code == 429
    found = hostile.get("/__sandbox/journal", params={"reference": "WHOLE-1"}).json()["requests"]
    assert sorted(e["status"] for e in found) == [0, 200, 404, 405, 413, 429, 503]
    assert {e["request"]["bodySize"] for e in found if e["status"] != 413} == {len(body)}
    assert [e["request"]["bodySize"] for e in found if e["status"] == 413] == [9_000_000]
    assert hostile.get("/__sandbox/journal/count", params={"reference": "WHOLE-1"}).json() == {"count": 7}


# --- 8. malformed HTTP gets the envelope; timeouts; connections -----------------------------------------
@pytest.mark.parametrize("data, status, message", [
    (b"FOO /api/v0/partner/enKashCard/search HTTP/1.1\r\nHost: x\r\n\r\n", 405,
     "Method FOO is not allowed on /api/v0/partner/enKashCard/search"),
    (b"FOO /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404, "No API at /nowhere"),
    (b"GET /__sandbox/health HTTP/1.1\r\nHost: a\x01b\r\n\r\n", 400, "Malformed HTTP request: Invalid header value char"),
    (b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400,
     "Malformed HTTP request: Duplicate Content-Length"),
    (b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400,
     "Malformed HTTP request: Content-Length can't be present with Transfer-Encoding"),
    (b"GET /x HTTP/9.9\r\n\r\n", 400, "Malformed HTTP request: Invalid HTTP version"),
    (b"GET /\x7f HTTP/1.1\r\n\r\n", 400, "Malformed HTTP request: Invalid char in url path"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "Malformed HTTP request: Invalid method encountered"),  # TLS hello
])
def test_malformed_http_gets_the_envelope(hostile, port, data, status, message):
    answer = exchange(port, data)
    assert_envelope(answer, status, message)
    assert answer.headers["connection"] == "close"
    if status == 405:
        assert answer.headers["allow"] == "POST"


def test_an_h2c_upgrade_is_served_as_http11_with_its_body(hostile, partner, port):
    body = json.dumps({"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}).encode()
    jdk = {**partner.headers, "Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c",
           "HTTP2-Settings": "AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA", "Content-Type": "application/json", "User-Agent": "Java-http-client/17"}
    answer = exchange(port, request("POST", PARTNER_PATH + "/cardAccount/get", jdk, body).replace(b"Connection: close\r\n", b"", 1))
    assert answer.status == 200 and answer.json()["payload"]["availableBalance"] == 1000000


def test_header_body_and_idle_timeouts(hostile, port):
    slow_head = exchange(port, b"GET /__sandbox/health HTTP/1.1\r\nHost: x\r\n")
    assert_envelope(slow_head, 408, "The request's line and headers did not arrive within 1 s")
    assert 0.9 < slow_head.seconds < 2.5
    slow_body = exchange(port, b"PUT /__sandbox/state HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
    assert_envelope(slow_body, 408, "The request's body did not arrive within 1 s")
    print(slow_body, hostile.get("/__sandbox/journal").json()["requests"])
    entry = hostile.get("/__sandbox/journal", params={"path": "/__sandbox/state"}).json()["requests"][0]
    assert (entry["status"], entry["request"]["bodySize"]) == (408, 100)  # bodySize: the declared length
    with socket.create_connection(("127.0.0.1", port), timeout=5) as idle:
        started = time.perf_counter()
        assert idle.recv(10) == b""  # closed by the server, nothing sent
        assert time.perf_counter() - started < 2.5


def _healthy_and_stopped(capped: SandboxProcess, port: int) -> None:
    time.sleep(0.3)  # the held sockets' refusals and closes are through
    assert exchange(port, request("GET", "/__sandbox/health")).status == 200
    capped.stop()


def test_a_connection_cap_leaves_room_for_health_and_admin_calls():
    """Slowloris heads hold every place for EnKash's paths: a partner's call past the cap is a
    503, health takes the reserve, and once the reserve is taken too an admin call takes the
    place of the oldest head at once (a 408 to that head), however young it is; the place is
    free again when that call has ended."""
    with SandboxProcess("--max-connections", "8", "--admin-connections", "2", "--header-timeout", "30") as capped:
        port = int(capped.url.rsplit(":", 1)[1])
        held = []
        try:
            for _ in range(8):  # slowloris: heads that never end hold every API connection
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(b"GET /api/v0/coins/balance HTTP/1.1\r\nHost: x\r\n")
                held.append(sock)
                time.sleep(0.02)  # so the first is the oldest
            time.sleep(0.2)
            assert_envelope(exchange(port, request("POST", ALLOCATE)), 503, "Too many open connections (at most 8): try again shortly")
            health = exchange(port, request("GET", "/__sandbox/health"))
            assert health.status == 200 and health.seconds < 0.5
            reserve = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
            held += reserve
            for sock in reserve:
                sock.sendall(b"GET /__sandbox/health HTTP/1.1\r\nHost: x\r\n")
            time.sleep(0.2)
            assert [exchange(port, request("GET", "/__sandbox/health")).status for _ in range(3)] == [200] * 3
            first = held[0].recv(65536)  # the oldest head, well under EVICT_AFTER_SECONDS old, gave its place up
            assert first.startswith(b"HTTP/1.1 408 ") and first.endswith(
                b'"payload":"The request\'s line and headers were still arriving when every connection place was taken: '
                b'its place went to a newer connection"}')
            for sock in held[1:]:  # the place it gave is free again for the next two calls
                sock.setblocking(False)
                with pytest.raises(BlockingIOError):
                    sock.recv(65536)  # still open, nothing answered
        finally:
            for sock in held:
                sock.close()
        _healthy_and_stopped(capped, port)


def test_only_requests_in_progress_everywhere_refuse_an_admin_call():
    """Every place, the reserve included, holds a request whose body is arriving (no head to
    evict): then, and only then, an admin call is refused, with the 503 envelope and Retry-After."""
    with SandboxProcess("--max-connections", "4", "--admin-connections", "2", "--body-timeout", "30") as capped:
        port = int(capped.url.rsplit(":", 1)[1])
        held = []
        try:
            for path in [ALLOCATE] * 4 + ["/__sandbox/faults"] * 2:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{".encode())
                held.append(sock)
                time.sleep(0.05)
            time.sleep(0.2)
            health = exchange(port, request("GET", "/__sandbox/health"))
            assert (health.status, health.headers["retry-after"]) == (503, "1")
            assert_envelope(health, 503, "Too many open connections (at most 6): try again shortly")
            assert_envelope(exchange(port, request("POST", ALLOCATE)), 503, "Too many open connections (at most 4): try again shortly")
        finally:
            for sock in held:
                sock.close()
        _healthy_and_stopped(capped, port)


def test_when_every_place_is_taken_the_slowest_head_gives_its_place_up():
    """Slowloris heads hold every API connection; once the oldest has dribbled for over
    EVICT_AFTER_SECONDS, a new connection takes its place (the head gets a 408) and is served in
    full, and the lingering refusals hold no place: health never sees a 503."""
    with SandboxProcess("--seed", "7", "--max-connections", "8", "--admin-connections", "2", "--header-timeout", "30") as capped:
        port = int(capped.url.rsplit(":", 1)[1])
        held = []
        try:
            for _ in range(8):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(b"GET /api/v0/coins/balance HTTP/1.1\r\nHost: x\r\n")
                held.append(sock)
                time.sleep(0.05)
            time.sleep(EVICT_AFTER_SECONDS + 0.2)
            answer = exchange(port, request("POST", "/oauth/token", {"Authorization": DOCS_BASIC,
                                            "Content-Type": "application/x-www-form-urlencoded"},
                                            "&".join(f"{k}={v}" for k, v in DOCS_LOGIN.items()).replace("@", "%40").encode()))
            assert answer.status == 200 and b'"access_token"' in answer.body
            first = held[0].recv(65536)  # the oldest head was the one refused
            assert first.startswith(b"HTTP/1.1 408 ") and first.endswith(
                b'"payload":"The request\'s line and headers were still arriving when every connection place was taken: '
                b'its place went to a newer connection"}')
            for _ in range(7):  # each new connection takes the next oldest head's place
                assert exchange(port, request("GET", "/__sandbox/health")).status == 200
            assert exchange(port, request("GET", "/__sandbox/health")).status == 200  # the reserve: no head left to evict
        finally:
            for sock in held:
                sock.close()
        capped.stop()


def test_a_flood_of_empty_sockets_never_refuses_health(monkeypatch):
    """Sockets opened and never written to take every place and LINGER_MAX more wait for a
    request line; each newer one refuses the oldest waiting (503, closed), so the flood holds a
    bounded number of descriptors. Health and admin calls are placed by their request line at
    once (the reserve), never refused; a partner's call past the cap is a 503 until the empty
    sockets are EVICT_AFTER_SECONDS old (here held at 30 s, so the counts are exact)."""
    monkeypatch.setattr(http11, "EVICT_AFTER_SECONDS", 30.0)
    flood = 4 + LINGER_MAX + 6
    settings = Settings(seed=7, max_connections=4, admin_connections=2, idle_timeout=30, header_timeout=30)
    with ServerThread(settings) as running:
        port = running.port
        held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(flood)]
        try:
            time.sleep(0.3)
            for _ in range(3):
                assert exchange(port, request("GET", "/__sandbox/health")).status == 200
            assert exchange(port, request("POST", "/__sandbox/faults", {"Content-Type": "application/json"},
                                          b'{"fault": "status=500", "path": "/nowhere"}')).status == 201
            assert_envelope(exchange(port, request("POST", ALLOCATE)), 503, "Too many open connections (at most 4): try again shortly")
            time.sleep(0.2)
            answers = []
            for sock in held:
                sock.setblocking(False)
                try:
                    answers.append(sock.recv(65536))
                except BlockingIOError:
                    answers.append(b"")
            refused = [answer for answer in answers if answer]
            assert len(refused) == 6 + 1  # the flood's own 6, then the first call's (placed, the others left room)
            assert all(answer.startswith(b"HTTP/1.1 503 ") and answer.endswith(
                b'"payload":"Too many open connections (at most 4): try again shortly"}') for answer in refused)
            assert answers[4:4 + len(refused)] == refused  # the oldest waiting ones; the 4 in places kept theirs
        finally:
            for sock in held:
                sock.close()


def test_slowloris_heads_for_other_paths_cannot_hold_the_reserve():
    """A reserve connection whose request line names an EnKash path is refused as soon as that
    line is in, not when its head ends (the header timeout, 30 s here): the reserve is back for
    health once the refused connections have lingered."""
    with SandboxProcess("--max-connections", "8", "--admin-connections", "2", "--header-timeout", "30") as capped:
        port = int(capped.url.rsplit(":", 1)[1])
        held = []
        try:
            for path in [b"/api/v0/coins/balance"] * 8 + [b"/api/v0/coins/balance", b"/"]:  # the cap, then two in the reserve
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n")
                held.append(sock)
            for sock in held[8:]:
                answer = sock.recv(65536)  # at once (the socket's timeout is 5 s, the head's 30 s)
                assert answer.startswith(b"HTTP/1.1 503 ") and answer.endswith(
                    b'{"response_code":1,"response_message":"Too many open connections (at most 8): try again shortly",'
                    b'"payload":"Too many open connections (at most 8): try again shortly"}')
            time.sleep(LINGER_SECONDS + 0.3)  # a refused connection lingers (takes what its client sends) that long, then closes
            for _ in range(3):  # the slowloris sockets still open on their side; health has its reserve back
                health = exchange(port, request("GET", "/__sandbox/health"))
                assert health.status == 200
        finally:
            for sock in held:
                sock.close()
        capped.stop()


def test_a_client_that_takes_no_response_is_cut_off(hostile, port):
    """A stalled reader holds its response buffer only for the body timeout."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with sock:
        for _ in range(40):  # pipelined: ~40 copies of a large journal answer, never read
            sock.sendall(b"GET /__sandbox/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(3.5)
        sock.settimeout(5)
        received = b""
        try:
            while chunk := sock.recv(1 << 20):
                received += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    assert received.count(b"HTTP/1.1 200 OK") < 40  # cut off, not served whole
