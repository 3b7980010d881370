"""A big old store is taken apart off the request path (sandbox/state/reaper.py): reset returns at
once, the new store is whole, and a store somebody still holds is never touched."""

from __future__ import annotations

from decimal import Decimal

from sandbox.settings import Settings
from sandbox.state import reaper
from sandbox.state.reaper import REAPER
from sandbox.state.store import WORLD
from sandbox.web.app import create_app


def _grow(store, n: int) -> None:
    account = next(iter(store.accounts))
    for i in range(n):
        store.ledger.post(f"T{i}", "X", "POINT", store.now(), [(WORLD, Decimal(-1)), (account, Decimal(1))],
                          scope="p", reference=f"R{i}")


def test_reset_hands_a_big_store_to_the_reaper(monkeypatch):
    monkeypatch.setattr(reaper, "SMALL", 10)
    monkeypatch.setattr(reaper, "BATCH", 7)
    drained: list[int] = []
    drain = reaper._drain
    monkeypatch.setattr(reaper, "_drain", lambda container: (drained.append(len(container)), drain(container)))
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
