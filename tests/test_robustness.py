"""Robustness under load and abuse, over real HTTP: exact ledgers under concurrency, idempotency
under a burst of the same reference, and a catalogue of bad input each answered with the
documented envelope, changing nothing and leaving the server healthy."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
from conftest import DOCS_ACCOUNT, DOCS_COMPANY, PARTNER_PATH, Partner, new_user

from sandbox.contract.schemas import Schemas

ALLOCATE = PARTNER_PATH + "/create-allocate-points"
INSUFFICIENT = "Insufficient balance in card account"
COIN_COMPANY, COIN_USER, COIN_EVENT = "CEK0TCW2W8", "EK6CYE6K", "REFERRAL_EVENT"  # fixtures: 10 coins an event


def _top_up(card: str, direction: str, amount: Decimal, reference: str) -> dict[str, Any]:
    return {
        "companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "enkashCardId": card, "transactionCode": "ALLOCATION",
        "transactionType": direction, "type": "ALLOCATE_POINT" if direction == "CR" else "UNALLOCATE_POINT",
        "loadAmount": amount, "uniqueReferenceNumber": reference,
    }


async def _burst(url: str, requests: list[tuple[str, str, dict[str, str], Any]], clients: int) -> list[httpx.Response]:
    """Send every request with `clients` concurrent connections; answers in request order."""
    answers: list[httpx.Response | None] = [None] * len(requests)
    queue = list(enumerate(requests))

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            while queue:
                index, (method, path, headers, body) = queue.pop()
                answers[index] = await http.request(method, path, headers=headers, content=_encode(body))

    await asyncio.gather(*(client() for _ in range(clients)))
    return [a for a in answers if a is not None]


def _encode(body: Any) -> bytes:
    from sandbox.contract import jsonio

    return b"" if body is None else jsonio.dumps(body)


def _balances(partner: Partner, cards: list[str]) -> tuple[Decimal, dict[str, Decimal]]:
    account = Decimal(str(partner.account()["availableBalance"]))
    return account, {card: Decimal(str(partner.card(card)["otbBalance"])) for card in cards}


@pytest.mark.slow
def test_concurrent_credits_and_debits_keep_every_balance_exact(server, docs_partner):
    cards = []
    for n in range(6):
        created = docs_partner.allocate(**new_user(email=f"load{n}@example.com", mobile=f"900000010{n}",
                                                   loadAmount=20, uniqueReferenceNumber=f"LOAD-NEW-{n}"))
        cards.append(created.json()["payload"]["enKashCardId"])
    account_before, cards_before = _balances(docs_partner, cards)

    rng = random.Random(8)
    headers = {**docs_partner.headers, "Content-Type": "application/json"}
    plan = []
    for _ in range(10_000):
        direction = "CR" if rng.random() < 0.5 else "DR"
        amount = Decimal(rng.randint(1, 160)) / 4  # quarters: never a magic amount (fixtures magicValues)
        plan.append((rng.choice(cards), direction, amount))
    requests = [("POST", ALLOCATE, headers, _top_up(card, d, a, f"LOAD-{n}")) for n, (card, d, a) in enumerate(plan)]
    answers = asyncio.run(_burst(server.url, requests, clients=32))

    moved = {card: Decimal(0) for card in cards}
    refused = 0
    for (card, direction, amount), answer in zip(plan, answers):
        body = answer.json()
        if answer.status_code == 200 and body.get("code") == 0:
            moved[card] += amount if direction == "CR" else -amount
        else:
            assert (answer.status_code, direction, body["response_message"]) == (200, "DR", INSUFFICIENT), body
            refused += 1
    assert len(answers) == 10_000 and 0 < refused < 5_000

    account_after, cards_after = _balances(docs_partner, cards)
    for card in cards:
        assert cards_after[card] == cards_before[card] + moved[card] >= 0
    assert account_after == account_before - sum(moved.values())
    assert account_after + sum(cards_after.values()) == account_before + sum(cards_before.values())


def test_a_hundred_concurrent_requests_with_one_reference_credit_once(server, docs_partner):
    card = "EKCDM5AVZY"
    before = Decimal(str(docs_partner.card(card)["otbBalance"]))
    headers = {**docs_partner.headers, "Content-Type": "application/json"}
    request = ("POST", ALLOCATE, headers, _top_up(card, "CR", Decimal("12.50"), "SAME-REF-1"))
    answers = asyncio.run(_burst(server.url, [request] * 100, clients=100))

    assert [a.status_code for a in answers] == [200] * 100
    assert {a.json()["payload"]["enkashCardTxnId"] for a in answers} != {None}
    assert len({a.json()["payload"]["enkashCardTxnId"] for a in answers}) == 1
    assert Decimal(str(docs_partner.card(card)["otbBalance"])) == before + Decimal("12.50")


def test_a_hundred_concurrent_coin_allocations_with_one_request_id_credit_once(server, docs_partner):
    headers = {"Authorization": f"Bearer {docs_partner.token}", "Content-Type": "application/json"}

    def balance() -> int:
        answer = docs_partner.http.get("/api/v0/coins/balance", params={"userId": COIN_USER}, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()["payload"]  # type: ignore[no-any-return]

    before = balance()
    body = {"companyId": COIN_COMPANY, "event": COIN_EVENT, "requestId": "SAME-COIN-REQ", "userId": COIN_USER}
    answers = asyncio.run(_burst(server.url, [("POST", "/api/v0/enkash-coins/allocate-coin", headers, body)] * 100, 100))

    assert {(a.status_code, a.json()["response_code"]) for a in answers} == {(200, 0)}
    assert balance() == before + 10


# --- bad input catalogue -----------------------------------------------------------------------
GOOD = '"companyId":"CEK1PU9AOO","enkashCardId":"EKCDM5AVZY","transactionCode":"ALLOCATION","transactionType":"CR","type":"ALLOCATE_POINT"'


def _with_amount(text: str) -> bytes:
    return ("{" + GOOD + ',"uniqueReferenceNumber":"BAD-1","loadAmount":' + text + "}").encode()


JSON = {"Content-Type": "application/json"}
CATALOGUE: list[tuple[str, bytes, dict[str, str], int, str]] = [
    ("body over the call limit", b'{"companyId":"' + b"x" * 2**20 + b'"}', JSON, 413,
     "Request body is larger than 1048576 bytes"),
    ("deeply nested JSON", b"[" * 32_000 + b"]" * 32_000, JSON, 400, "Malformed JSON request body: JSON is nested deeper than 64 levels"),
    ("nested JSON where a string belongs", ("{" + GOOD.replace('"CEK1PU9AOO"', "[" * 60 + "]" * 60) + ',"loadAmount":1,"uniqueReferenceNumber":"B"}').encode(),
     JSON, 422, "companyId must be a string"),
    ("invalid UTF-8", b'{"companyId":"\xff\xfe"}', JSON, 400, "Malformed JSON request body: body is not valid UTF-8 (byte 14)"),
    ("lone surrogate escape", b'{"companyId":"\\ud800"}', JSON, 400,
     "Malformed JSON request body: a string holds an unpaired UTF-16 surrogate escape"),
    ("NaN", _with_amount("NaN"), JSON, 400, "Malformed JSON request body: NaN is not a number JSON allows"),
    ("Infinity", _with_amount("Infinity"), JSON, 400, "Malformed JSON request body: Infinity is not a number JSON allows"),
    ("-Infinity", _with_amount("-Infinity"), JSON, 400, "Malformed JSON request body: -Infinity is not a number JSON allows"),
    ("huge exponent", _with_amount("1e999999999"), JSON, 422, "loadAmount must be at most 10000000"),
    ("huge integer", _with_amount("9" * 5000), JSON, 400, ""),
    ("negative amount", _with_amount("-5"), JSON, 422, "loadAmount must be greater than 0"),
    ("zero amount", _with_amount("0"), JSON, 422, "loadAmount must be greater than 0"),
    ("too many decimal places", _with_amount("1.005"), JSON, 422, "loadAmount must have at most 2 decimal places"),
    ("amount as a string", _with_amount('"10"'), JSON, 422, "loadAmount must be a number"),
    ("string near the call limit", ("{" + GOOD + ',"loadAmount":1,"uniqueReferenceNumber":"' + "R" * 65_000 + '"}').encode(), JSON, 422,
     "uniqueReferenceNumber must be at most 64 characters"),
    ("duplicate keys", _with_amount('1,"loadAmount":1000'), JSON, 400, "Malformed JSON request body: duplicate key 'loadAmount'"),
    ("text/plain", _with_amount("1"), {"Content-Type": "text/plain"}, 415, "Content-Type must be application/json"),
    ("no content type", _with_amount("1"), {}, 415, "Content-Type must be application/json"),
    ("form body", b"companyId=CEK1PU9AOO&loadAmount=1", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
     "Content-Type must be application/json"),
    ("empty body", b"", JSON, 400, "Malformed JSON request body: body is empty"),
    ("a JSON array", b"[]", JSON, 422, "body must be a JSON object"),
    ("truncated JSON", _with_amount("1")[:-5], JSON, 400, ""),
]


def _state(partner: Partner) -> tuple[Any, ...]:
    health = partner.http.get("/__sandbox/health")
    assert health.status_code == 200
    card = partner.card("EKCDM5AVZY")
    return health.json()["state"], partner.account()["availableBalance"], card["otbBalance"]


@pytest.mark.parametrize("name,body,headers,status,message", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_bad_input_gets_the_documented_envelope_and_changes_nothing(docs_partner, name, body, headers, status, message):
    before = _state(docs_partner)
    answer = docs_partner.http.post(ALLOCATE, content=body, headers={**docs_partner.headers, **headers})

    assert answer.status_code == status, answer.text[:300]
    envelope = answer.json()
    assert set(envelope) == {"response_code", "response_message", "payload"}
    assert envelope["response_code"] == 1 and envelope["payload"] == envelope["response_message"]
    if message:
        assert envelope["response_message"] == message
    else:
        assert envelope["response_message"].startswith("Malformed JSON request body: ")
    assert len(answer.content) < 2000  # never echoes a long value back
    assert _state(docs_partner) == before


@pytest.mark.parametrize("name,body", [(c[0], c[1]) for c in CATALOGUE if c[2] == JSON and c[3] != 413])
def test_the_fast_validator_never_accepts_what_the_reference_refuses(name, body):
    from sandbox.contract import jsonio
    from sandbox.domain.errors import SandboxError

    try:
        doc = jsonio.loads(body)
    except SandboxError:
        return  # refused before validation
    schemas = Schemas()
    reference = schemas.validator("create-allocate-points.request").is_valid(doc)
    assert schemas.is_valid("create-allocate-points.request", doc) == reference


def test_slow_clients_holding_connections_do_not_starve_others(server, docs_partner):
    host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1])
    slow = []
    try:
        for n in range(50):
            sock = socket.create_connection((host, port), timeout=5)
            if n % 2:  # headers that never end
                sock.sendall(b"POST " + ALLOCATE.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
            else:  # a body that stops short of its Content-Length
                sock.sendall(b"POST " + ALLOCATE.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"comp")
            slow.append(sock)
        time.sleep(0.2)
        begin = time.perf_counter()
        assert docs_partner.http.get("/__sandbox/health").status_code == 200
        answer = docs_partner.allocate(enkashCardId="EKCDM5AVZY", loadAmount=1, uniqueReferenceNumber="AFTER-SLOW")
        assert answer.status_code == 200 and answer.json()["code"] == 0
        assert time.perf_counter() - begin < 2
    finally:
        for sock in slow:
            sock.close()
    time.sleep(0.1)
    assert docs_partner.http.get("/__sandbox/health").status_code == 200


@pytest.mark.parametrize("value", [
    {"a": Decimal("1E+2"), "b": [1, 2, (3, 4)], "c": "é\u2028\"\\", "d": None, "e": True, 1: 2},
    {"big": 10**30, "negative": -(2**70), "max": 2**63 - 1, "min": -(2**63)},
    {"zero": Decimal("-0.00"), "tiny": Decimal("1E-30"), "money": Decimal("92415.44")},
    ["plain", {"nested": {"deeper": [Decimal("0.01")]}}],
    {"big": 10**30, "scaled": Decimal("11.0")},  # simplejson's path (beyond 64 bits) writes EnKash's form too
])
def test_fast_json_writes_exactly_what_simplejson_writes(value):
    """Both writers agree; Decimals in EnKash's form (jsonio.number_text: 1E+2 -> 100, -0.00 -> 0)."""
    import simplejson

    from sandbox.contract import jsonio

    def canonical(item):
        if isinstance(item, Decimal):
            return simplejson.RawJSON(jsonio.number_text(item))
        if isinstance(item, dict):
            return {k: canonical(v) for k, v in item.items()}
        return [canonical(v) for v in item] if isinstance(item, (list, tuple)) else item

    reference = simplejson.dumps(canonical(value), use_decimal=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert jsonio.dumps(value) == reference


def test_a_decimal_nan_still_cannot_be_written():
    from sandbox.contract import jsonio

    with pytest.raises(ValueError):
        jsonio.dumps({"amount": Decimal("NaN")})


_KEYS = ["a", "b", "loadAmount", "k:1", "x\\\":", "{", "é", "\\u0061", "\\ud800"]
_VALUES = ["1", "-0", "0", "100", "1.0", "1e2", "1E+2", "-2.50", "18446744073709551615", "18446744073709551616",
           "-9223372036854775809", "12345678901234567890123", "true", "false", "null", '"x"', '":"', '"a\\"b"',
           '"\\u003a"', '"{"', '"["', '"\\ud83d\\ude00"', '"\\udc00"', '"\\u0000"', "NaN", "[]", "{}", '{"a":1}',
           '"\x01"', '"\xc3\xa9"', "01", "1.", "+1", '"E"', '"0.5"']


@pytest.mark.parametrize("seed", range(40))
def test_the_flat_object_fast_path_reads_every_body_as_the_exact_decoder_does(seed):
    """jsonio.loads takes orjson for a flat object; exact_loads decides everything else. Same
    document (same types: Decimal never float) or the same refusal, for bodies made to trip it:
    repeated keys, floats, integers beyond 64 bits, escapes, colons and braces in strings, spaces
    before colons, nested values, invalid UTF-8, trailing bytes."""
    from sandbox.contract import jsonio
    from sandbox.domain.errors import SandboxError

    def outcome(read, raw):
        try:
            value = read(raw)
        except SandboxError as refused:
            return "refused", refused.message
        return "read", value, repr(value)  # repr: 1 and Decimal("1") are equal, not the same

    rng = random.Random(seed)
    for _ in range(250):
        pairs = []
        for _ in range(rng.randint(0, 5)):
            space = rng.choice(["", "", "", " ", "\t", "\n"])
            pairs.append(f'"{rng.choice(_KEYS)}"{space}:{rng.choice(["", " "])}{rng.choice(_VALUES)}')
        text = "{" + rng.choice([",", ", "]).join(pairs) + "}" + rng.choice(["", "", " \r\n", "x", "}"])
        raw = text.encode("utf-8", "surrogatepass")
        if rng.random() < 0.05:
            raw = raw[:-1] + b"\xff" + raw[-1:]
        assert outcome(jsonio.loads, raw) == outcome(jsonio.exact_loads, raw), raw
