"""A big old store is taken apart off the request path (sandbox/state/reaper.py): reset returns at
once, the new store is whole, and a store somebody still holds is never touched."""

from __future__ import annotations

import gc
from array import array
from dataclasses import replace
from decimal import Decimal
from types import ModuleType

from sandbox.settings import Settings
from sandbox.state import reaper
from sandbox.state.reaper import REAPER
from sandbox.state.store import WORLD, CoinLot
from sandbox.web.app import create_app


def _grow(store, n: int, scope: str = "p", prefix: str = "T") -> None:
    account = next(iter(store.accounts))
    for i in range(n):
        store.ledger.post(f"{prefix}{i}", "X", "POINT", store.now(), [(WORLD, Decimal(-1)), (account, Decimal(1))],
                          scope=scope, reference=f"R{i}")


def test_reset_hands_a_big_store_to_the_reaper(monkeypatch):
    monkeypatch.setattr(reaper, "SMALL", 10)
    monkeypatch.setattr(reaper, "BATCH", 7)
    drained: list[int] = []
    drain = reaper._drain
    monkeypatch.setattr(reaper, "_drain", lambda container, done=0: (drained.append(len(container)), drain(container, done))[1])
    app = create_app(Settings())
    state = app.sandbox
    fresh = state.store.summary()
    _grow(state.store, 50)
    held = state.store.summary()["postings"]
    state.reset()
    assert REAPER.wait(5)
    assert held in drained  # the postings, a batch at a time (and the ledger's indexes)
    assert state.store.summary() == fresh and state.store.ledger.replayed_balances() == {
        a: state.store.balance(a) for a in state.store.ledger.accounts()}


def test_a_store_still_held_is_left_whole(monkeypatch):
    monkeypatch.setattr(reaper, "SMALL", 10)
    app = create_app(Settings())
    state = app.sandbox
    _grow(state.store, 50)
    kept = state.store
    state.reset()
    assert REAPER.wait(5)
    assert len(kept.ledger.postings) == kept.summary()["postings"] and kept.ledger.by_reference("p", "R49") is not None


def _largest_left(record, depth: int = 0, seen: set[int] | None = None) -> int:
    """The most items any list, dict or set reachable from `record` still holds."""
    seen = set() if seen is None else seen
    largest = 0
    for ref in gc.get_referents(record):
        if id(ref) in seen or isinstance(ref, (type, ModuleType, str, bytes, bytearray, array)):
            continue
        seen.add(id(ref))
        if isinstance(ref, (list, dict, set)):
            largest = max(largest, len(ref))
        if depth < 6:
            largest = max(largest, _largest_left(ref, depth + 1, seen))
    return largest


def test_what_is_left_of_a_store_is_small(monkeypatch):
    """What the reaper leaves is freed whole by one call that keeps the event loop waiting, so
    nothing left may hold more than a batch: not a scope's references (a dict of a few scopes),
    nor one user's coin lots (a dict of one user), nor a table the store's id draws look into."""
    monkeypatch.setattr(reaper, "BATCH", 7)
    store = create_app(Settings()).sandbox.store
    _grow(store, 50)
    _grow(store, 50, scope="q", prefix="U")
    for i in range(50):
        store.add_coin_lot(CoinLot(f"L{i}", "one-user", store.now(), None, Decimal(1), Decimal(1)))
        store.add_user(replace(next(iter(store.users.values())), user_id=f"user-{i}"))
    assert _largest_left(store) >= 100  # postings: the walk sees what a store holds
    reaper._take_apart(store)
    assert _largest_left(store) <= 7
