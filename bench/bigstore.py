"""A sandbox whose store already holds N card transactions, for the `transaction/all` bench.

Why in-process: a million postings over HTTP would take minutes and measure the bulk path, not
the lookup. So this launcher builds the normal app (create_app), fills its store through the
same domain function the endpoint calls (rewards.allocate_points: every rule, index and posting
as in production), then serves it with the normal uvicorn config. The request path is the
sandbox's own; only the state it starts from is prepared. `--transactions 0` gives the same
process shape with an empty store, the reference the big store is compared with.
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

import uvicorn

from sandbox.web.app import create_app
from sandbox.domain import rewards
from sandbox.domain.rewards import Allocation
from sandbox.tools.server import tune_gc, uvicorn_config
from sandbox.settings import Settings

from .partner import ACCOUNT, CARD, COMPANY, PARTNER

CARD_HISTORY = 20  # top-ups of the measured card, the same in every store


def _allocation(reference: str, card: str | None, n: int) -> Allocation:
    contact = {} if card else {"email": f"big{n}@example.com", "mobile": f"6{n:09d}", "title": "Mr",
                               "first_name": "Big", "gender": "M"}
    return Allocation(COMPANY, ACCOUNT, card, "CR", "ALLOCATE_POINT", Decimal(1), reference,
                      f"{n:024x}", **contact)  # type: ignore[arg-type]


def populate(settings: Settings, transactions: int, cards: int) -> object:
    """The app, with `transactions` postings spread over `cards` other cards of the same account."""
    app = create_app(settings)
    store = app.sandbox.store
    rewards.load_account(store, store.accounts[ACCOUNT], Decimal(10**12))
    for n in range(CARD_HISTORY):
        rewards.allocate_points(store, PARTNER, _allocation(f"MINE-{n}", CARD, n))
    issued: list[str] = []
    for n in range(max(0, transactions - CARD_HISTORY - 1)):
        card = issued[n % cards] if len(issued) == cards else None
        result = rewards.allocate_points(store, PARTNER, _allocation(f"BIG-{n}", card, n))
        if card is None:
            issued.append(result.card.card_id)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--cards", type=int, default=1000)
    args = parser.parse_args()
    settings = Settings.from_env(port=args.port, log_level="warning")
    begin = time.perf_counter()
    app = populate(settings, args.transactions, args.cards)
    print(f"populated {args.transactions} transactions in {time.perf_counter() - begin:.1f}s", flush=True)
    tune_gc()  # as the sandbox server does
    uvicorn.Server(uvicorn_config(settings, app)).run()


if __name__ == "__main__":
    main()
