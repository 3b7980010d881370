"""The ledger's invariants, tested directly (no HTTP: it is pure domain code)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from sandbox.state.ledger import Ledger, LedgerError

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def ledger() -> Ledger:
    book = Ledger()
    book.open("world", "POINT", floored=False)
    book.open("acct", "POINT")
    book.open("card", "POINT")
    book.open("coins", "COIN")
    return book


def test_postings_must_balance_and_respect_floors_and_units():
    book = ledger()
    with pytest.raises(LedgerError, match="does not balance"):
        book.post("p1", "X", "POINT", NOW, [("world", Decimal(-5)), ("acct", Decimal(4))])
    with pytest.raises(LedgerError, match="below zero"):
        book.post("p1", "X", "POINT", NOW, [("acct", Decimal(-1)), ("card", Decimal(1))])
    with pytest.raises(LedgerError, match="not an open POINT account"):
        book.post("p1", "X", "POINT", NOW, [("world", Decimal(-1)), ("coins", Decimal(1))])
    assert book.postings == [] and book.balance("acct") == 0


def test_balances_are_derived_and_totals_stay_zero():
    book = ledger()
    book.post("p1", "SEED", "POINT", NOW, [("world", Decimal("-100.10")), ("acct", Decimal("100.10"))])
    book.post("p2", "ALLOCATE_POINT", "POINT", NOW, [("acct", Decimal("-40.05")), ("card", Decimal("40.05"))],
              scope="P", reference="R1", fingerprint="f")
    assert book.balance("acct") == Decimal("60.05") and book.balance("card") == Decimal("40.05")
    assert book.total("POINT") == 0
    assert book.replayed_balances() == {"world": Decimal("-100.10"), "acct": Decimal("60.05"), "card": Decimal("40.05"), "coins": 0}
    assert book.by_reference("P", "R1").id == "p2" and book.by_reference("Q", "R1") is None
    assert [p.id for p in book.history("acct")] == ["p2", "p1"]
    assert book.by_id("p1").entry_for("acct").balance_after == Decimal("100.10")
    assert book.position("p2") > book.position("p1")


def test_a_reference_posts_once_per_scope():
    book = ledger()
    book.post("p1", "SEED", "POINT", NOW, [("world", Decimal(-1)), ("acct", Decimal(1))], scope="P", reference="R")
    with pytest.raises(LedgerError, match="already posted"):
        book.post("p2", "SEED", "POINT", NOW, [("world", Decimal(-1)), ("acct", Decimal(1))], scope="P", reference="R")
    book.post("p3", "SEED", "POINT", NOW, [("world", Decimal(-1)), ("acct", Decimal(1))], scope="Q", reference="R")
    assert book.balance("acct") == 2
