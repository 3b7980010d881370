"""The measured cases. Each returns `Row`s; a case whose route the sandbox lacks says "n/a"."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .load import Load, Result, drive
from .partner import (
    ACCOUNT,
    CARD,
    COIN_COMPANY,
    COIN_EVENT,
    COIN_USER,
    COMPANY,
    PATH,
    Partner,
    bulk_rows,
    top_up_body,
)
from .procs import Server


COIN_ALLOCATE, COIN_BALANCE = "/api/v0/enkash-coins/allocate-coin", "/api/v0/coins/balance"


@dataclass
class Plan:
    seconds: float
    connections: int
    cards: int
    big_store: int
    bulk_repeats: int
    server_core: int | None
    load_core: int | None
    run_id: str
    tool: str
    pairs: int = 1  # rounds of (baseline, case) for cases (1) and (2)
    starts: int = 1  # fresh starts of each server, taken in turn


@dataclass
class Row:
    name: str
    result: Result | None
    target: str = ""
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)  # paired rows: median per-round ratios (rounds.combine)


def routes() -> set[str]:
    from sandbox.web.routes import ROUTES

    return {r.path for r in ROUTES}


def absent(name: str, path: str) -> Row | None:
    """The "n/a" row of a case whose route this build of the sandbox lacks, else None."""
    return None if path in routes() else Row(name, None, note="n/a: route not in this build")


def _drive(server: Server, plan: Plan, load: Load, connections: int | None = None) -> Result:
    load.run_id = plan.run_id
    before = server.cpu()
    result = drive(server.port, load, connections or plan.connections, plan.seconds, plan.load_core, plan.tool)
    if result.requests:
        result.cpu_us = (server.cpu() - before) * 1e6 / result.requests
    return result


def baseline(server: Server, plan: Plan) -> Result:
    """One run of the bare Starlette constant JSON: the ceiling every ratio is taken against."""
    return _drive(server, plan, Load("GET", "/"))


def top_ups(server: Server, plan: Plan, partner: Partner) -> Row:
    """(1) create-allocate-points: 1-point top-ups, unique reference each, over a fixed set of cards."""
    partner.fund()
    cards = partner.new_cards(plan.cards, plan.run_id)
    before = partner.summary()["postings"]
    body = json.dumps(top_up_body("{card}", "{ref}"))
    result = _drive(server, plan, Load("POST", PATH + "/create-allocate-points", partner.headers, body, cards))
    made = partner.summary()["postings"] - before
    # wrk stops counting at the deadline while the last requests still commit: at least, not equal
    note = "" if made >= result.requests - result.errors else f"only {made} postings for {result.requests} answers"
    return Row(f"(1) create-allocate-points top-up, {plan.cards} cards", result, ">= 0.5x rps, p99 < 10 ms", note)


CREATE_ORDER = "/api/v0/partner/create-order"


def orders(server: Server, plan: Plan, partner: Partner) -> Row:
    """(1b) create-order: one Amazon Test 100 voucher (97 points) a request, unique orderReferenceId
    each, paid from one funded card (the partner acts for its holder EKQ3M7DA): one posting each."""
    partner.fund()
    funded = partner.post(PATH + "/create-allocate-points", {**top_up_body(CARD, f"{plan.run_id}-orders"), "loadAmount": 10**7})  # the most one top-up may load: 103,092 orders a round
    assert funded.json()["code"] == 0, funded.text
    before = partner.summary()["postings"]
    body = json.dumps({"denomination": 100, "orderReferenceId": "{ref}", "productCatalogId": "PC7324536190LULHL",
                       "quantity": 1, "ekUserId": "EKQ3M7DA"})
    headers = {"Authorization": f"Bearer {partner.token}", "Content-Type": "application/json"}
    result = _drive(server, plan, Load("POST", CREATE_ORDER, headers, body))
    made = partner.summary()["postings"] - before
    note = "" if made >= result.requests - result.errors else f"only {made} postings for {result.requests} answers"
    return Row("(1b) create-order, one voucher from one card", result, "", note)


def coin_loads(partner: Partner) -> list[tuple[str, str, Load]]:
    """(2) allocate-coin with a unique requestId each, and coins/balance: (row name, route, load),
    two cases so that each is paired with a baseline run of its own."""
    headers = {"Authorization": f"Bearer {partner.token}", "Content-Type": "application/json"}
    body = json.dumps({"companyId": COIN_COMPANY, "event": COIN_EVENT, "requestId": "{ref}", "userId": COIN_USER})
    return [("(2) allocate-coin", COIN_ALLOCATE, Load("POST", COIN_ALLOCATE, headers, body)),
            ("(2) coins/balance", COIN_BALANCE, Load("GET", f"{COIN_BALANCE}?userId={COIN_USER}", headers))]


def fixed(server: Server, plan: Plan, name: str, load: Load) -> Row:
    """A case of one fixed request shape (coins, reads)."""
    return Row(name, _drive(server, plan, load))


def transactions(big: Server, plan: Plan, label: str) -> Row:
    """(3) transaction/all for one card (20 postings of its own) in a store of `label` postings."""
    partner = Partner(big.port)
    body = json.dumps({"companyId": COMPANY, "cardAccountId": ACCOUNT, "enKashCardId": CARD})
    result = _drive(big, plan, Load("POST", PATH + "/transaction/all", partner.headers, body))
    partner.close()
    return Row(f"(3) transaction/all, one card, store of {label}", result)


def bulk(server: Server, plan: Plan, partner: Partner, rows: int = 10_000) -> Row:
    """(4) one bulk request of `rows` new card holders, 1 point each, from the default state."""
    times = []
    for repeat in range(plan.bulk_repeats):
        partner.reset()
        partner.login()
        body = bulk_rows(rows, f"{plan.run_id}{repeat}")
        begin = time.perf_counter()
        answer = partner.post(PATH + "/bulk-create-allocate-points-json", body,
                              params={"companyId": COMPANY, "cardAccountId": ACCOUNT, "isPointsAllocation": "true"})
        times.append(time.perf_counter() - begin)
        if answer.json()["payload"]["successCount"] != rows:
            raise RuntimeError(f"bulk: {answer.text[:300]}")
    ms = sorted(t * 1000 for t in times)
    result = Result(len(times), sum(times), 0, statistics.median(ms), ms[-1], ms[-1], ms[-1], "httpx")
    return Row(f"(4) bulk allocation, {rows} rows in one request", result, "< 1 s", "latency = whole request")


def reset(server: Server, plan: Plan, partner: Partner) -> Row:
    """(5) POST /__sandbox/reset back to the default fixtures, one connection, back to back. The
    first reset, which drops everything the earlier cases made, is timed apart: freeing a large
    state is paid once, by that reset, and is not what a reset of the default state costs."""
    begin = time.perf_counter()
    partner.reset()
    first_ms = (time.perf_counter() - begin) * 1000
    result = _drive(server, plan, Load("POST", "/__sandbox/reset"), 1)
    return Row("(5) reset to default state", result, "< 50 ms", f"the first reset, after the cases above: {first_ms:,.0f} ms")


READ_HISTORIES = (20, 1000)  # postings of each read card: transaction/all pages at 100, so 20 rows, then a full page


def read_cards(partner: Partner, tag: str) -> dict[int, str]:
    """(6)'s cards, made once through the API (untimed): one per history length, each with that
    many postings of its own (its first top-up opens it)."""
    partner.fund()
    made = {}
    for length, card in zip(READ_HISTORIES, partner.new_cards(len(READ_HISTORIES), f"{tag}-reads")):
        for n in range(1, length):
            partner.post(PATH + "/create-allocate-points", top_up_body(card, f"{tag}-read-{card}-{n}"))
        made[length] = card
    return made


def read_loads(partner: Partner, cards: dict[int, str]) -> list[tuple[str, Load]]:
    """(6) the reads of one card, as (row name, load): transaction/all for each history length
    (the default page of 100), then search and cardAccount/get on the longest."""
    account = {"companyId": COMPANY, "cardAccountId": ACCOUNT}
    longest = cards[max(cards)]
    out = [(f"(6) transaction/all, one card of {length:,} postings ({min(length, 100)} rows)",
            Load("POST", PATH + "/transaction/all", partner.headers, json.dumps({**account, "enKashCardId": card})))
           for length, card in sorted(cards.items())]
    out.append((f"(6) search, one card of {max(cards):,} postings",
                Load("POST", PATH + "/search", partner.headers, json.dumps({**account, "enKashCardId": longest}))))
    out.append(("(6) cardAccount/get (the account of cases 1 and 6)",
                Load("POST", PATH + "/cardAccount/get", partner.headers, json.dumps(account))))
    return out


def page_sized(base: Server, plan: Plan, size: int) -> Row:
    """(6b) the baseline answering a constant JSON body of `size` bytes, the size of (6)'s 100-row
    page: what this stack itself spends sending such an answer, the floor of that read."""
    return Row(f"(6b) baseline: a constant answer of {size:,} bytes (the 100-row page's size)",
               _drive(base, plan, Load("POST", f"/large?bytes={size}", {"Content-Type": "application/json"}, "{}")))


Case = Callable[[Plan], Row]  # a case run in paired rounds: given each round's plan (its own run id)
