"""The ledger's invariants, tested directly (no HTTP: it is pure domain code)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from sandbox.state.ledger import Ledger, LedgerError, canonical

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


@pytest.mark.parametrize(("given", "printed"), [
    ("1", "1"), ("0", "0"), ("-0", "0"), ("11.0", "11"), ("1E+2", "100"), ("92415.44", "92415.44"),
    ("-0.50", "-0.5"), ("0.000", "0"), ("-0.0", "0"), ("1.10", "1.1"), ("5E+0", "5"), ("1.000E+3", "1000"),
    ("0E-8", "0"), ("100", "100"), ("-5", "-5"), ("0.001", "0.001"), ("NaN", "NaN"),
])
def test_canonical_prints_amounts_as_enkash_does(given, printed):
    value = canonical(Decimal(given))
    assert str(value) == printed and (value == Decimal(given) or value != value)


def test_a_whole_balance_is_held_as_an_int_and_read_back_as_its_decimal():
    """Memory (docs/performance.md): a whole balance_after is an int in `lines` (32 bytes, or a
    shared small int, against 104 for a Decimal); entries, entry_for and a state document see
    the same Decimal as before, digits and all."""
    from sandbox.documents import snapshot

    book = ledger()
    book.post("p1", "X", "POINT", NOW, [("world", Decimal(-1000)), ("acct", Decimal("1000.00"))])
    posting = book.post("p2", "X", "POINT", NOW, [("acct", Decimal("-0.25")), ("card", Decimal("0.25"))])
    assert book.by_id("p1").lines[2::3] == (-1000, 1000) and all(type(b) is int for b in book.by_id("p1").lines[2::3])
    assert posting.lines[2::3] == (Decimal("999.75"), Decimal("0.25"))
    for entry in (*book.by_id("p1").entries, *posting.entries):
        assert type(entry.balance_after) is Decimal
    assert str(book.by_id("p1").entry_for("acct").balance_after) == "1000"
    written = snapshot.encode(book.by_id("p1"), "p")["fields"]["lines"]["$tuple"]
    assert written == ["world", {"$decimal": "-1000"}, {"$decimal": "-1000"}, "acct", {"$decimal": "1000"}, {"$decimal": "1000"}]
    assert book.replayed_balances() == {a: book.balance(a) for a in book.accounts()}
