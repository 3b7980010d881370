"""`python -m bench.inspector`: how long the inspector's heaviest pages take to render, on an
account with 10,000 cards and a full journal of 1,000 requests (the target: under 100 ms each).

The store is filled through the domain's own allocate_points (as bench.bigstore does), the journal
through real HTTP requests; then each page is rendered in-process (the view alone, what the server
spends) and fetched over loopback HTTP (what a browser waits for), best and median of ROUNDS.

The machine's speed drifts (and is shared), so the run also times a reference in the same process
right before the pages: the admin API's JSON journal of the same 1,000 entries
(`GET /__sandbox/journal?limit=1000`, what a partner reads without the inspector); each page's
best render is also printed as a ratio to that reference's best.
"""

from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal
import httpx

from sandbox.domain import rewards
from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread
from sandbox.web.adapter import Call
from sandbox.web.journal import Filter

from .bigstore import _allocation
from .partner import ACCOUNT, BASIC, CARD, LOGIN, PARTNER, PATH

ROUNDS = 15


def fill(server: ServerThread, cards: int, requests: int) -> list[str]:
    """`cards` new cards on the docs account (one allocation each), then `requests` top-ups of them
    over HTTP, which fill the journal."""
    store = server.state.store
    rewards.load_account(store, store.accounts[ACCOUNT], Decimal(10**9))
    issued = [rewards.allocate_points(store, PARTNER, _allocation(f"INS-{n}", None, n)).card.card_id for n in range(cards)]
    with httpx.Client(base_url=server.url, timeout=60) as http:
        token = http.post("/oauth/token", auth=BASIC, data=LOGIN).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "partnerId": PARTNER}
        for n in range(requests):
            body = {"companyId": "CEK1PU9AOO", "cardAccountId": ACCOUNT, "enKashCardId": issued[n % len(issued)],
                    "transactionCode": "ALLOCATION", "transactionType": "CR", "type": "ALLOCATE_POINT",
                    "loadAmount": 1, "uniqueReferenceNumber": f"J-{n}"}
            http.post(f"{PATH}/create-allocate-points", json=body, headers=headers).raise_for_status()
    return issued


def render_ms(server: ServerThread, operation: str, params: dict[str, str], query: dict[str, str]) -> list[float]:
    state = server.state
    route = next(r for r in state.router.routes if r.operation == operation)
    times = []
    for _ in range(ROUNDS):
        begin = time.perf_counter()
        reply = route.endpoint(Call(state, route, None, dict(query), dict(params), {}))
        times.append((time.perf_counter() - begin) * 1000)
        assert reply.status == 200, (operation, reply.status)
    return times


def fetch_ms(http: httpx.Client, url: str, query: dict[str, str]) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(ROUNDS):
        begin = time.perf_counter()
        answer = http.get(url, params=query)
        times.append((time.perf_counter() - begin) * 1000)
        answer.raise_for_status()
        size = len(answer.content)
    return times, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=1_000)
    args = parser.parse_args(argv)
    settings = Settings(seed=7, log_level="warning", journal_size=args.requests)
    with ServerThread(settings) as server:
        begin = time.perf_counter()
        issued = fill(server, args.cards, args.requests)
        print(f"stage: {len(server.state.store.cards_of_account(ACCOUNT))} cards on {ACCOUNT}, "
              f"{len(server.state.store.ledger.postings)} postings, {len(server.state.journal)} journaled requests "
              f"({time.perf_counter() - begin:.1f} s, untimed)")
        seq = str(server.state.journal.select(Filter(), 1)[0].seq)
        cases: list[tuple[str, str, dict[str, str], dict[str, str], str]] = [
            ("overview", "sandbox-ui", {}, {}, ""),
            (f"account, {args.cards} cards, page 1", "sandbox-ui-account", {"cardAccountId": ACCOUNT}, {}, f"/accounts/{ACCOUNT}"),
            ("account, last page", "sandbox-ui-account", {"cardAccountId": ACCOUNT}, {"page": "999999"}, f"/accounts/{ACCOUNT}"),
            ("account, search all cards", "sandbox-ui-account", {"cardAccountId": ACCOUNT}, {"q": "big9999"}, f"/accounts/{ACCOUNT}"),
            ("card with its requests", "sandbox-ui-card", {"enKashCardId": issued[0]}, {}, f"/cards/{issued[0]}"),
            ("docs card", "sandbox-ui-card", {"enKashCardId": CARD}, {}, f"/cards/{CARD}"),
            (f"journal, all {args.requests}", "sandbox-ui-journal", {}, {"limit": str(args.requests)}, "/journal"),
            ("journal, by reference", "sandbox-ui-journal", {}, {"reference": "J-500"}, "/journal"),
            ("one journal entry", "sandbox-ui-entry", {"seq": seq}, {}, f"/journal/{seq}"),
        ]
        reference = render_ms(server, "sandbox-journal", {}, {"limit": str(args.requests)})
        print(f"reference: the JSON journal of the same {args.requests} entries, best {min(reference):.1f} ms, "
              f"median {statistics.median(reference):.1f} ms (same process, just before)")
        print(f"{'page':34} {'render best':>12} {'median':>8} {'vs ref':>7} {'HTTP best':>10} {'median':>8} {'bytes':>9}")
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for name, operation, params, query, path in cases:
                rendered = render_ms(server, operation, params, query)
                fetched, size = fetch_ms(http, "/__sandbox/ui" + path, query)
                print(f"{name:34} {min(rendered):10.1f}ms {statistics.median(rendered):6.1f}ms {min(rendered) / min(reference):6.2f}x "
                      f"{min(fetched):8.1f}ms {statistics.median(fetched):6.1f}ms {size:9d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
