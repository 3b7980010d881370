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


def test_postings_read_back_as_posted_after_they_are_filed_in_the_columns():
    """post() holds the newest postings as posted and files older ones in the columns in bulk
    (docs/performance.md, fourth pass): across several batches, with every kind of value a column
    cannot hold as such mixed in, each posting reads back identical, indexes and balances too."""
    from datetime import timedelta

    from sandbox.state import ledger as module

    book = ledger()
    book.open("big", "POINT", floored=False)
    india = timezone(timedelta(hours=5, minutes=30))
    posted = []
    for n in range(3 * module._BATCH + 77):
        at, fingerprint, memo, moves = NOW + timedelta(microseconds=n), f"{n:024x}", "", [("world", Decimal(-2)), ("acct", Decimal(2))]
        if n % 97 == 1:
            fingerprint = ["ABCDEF0123456789ABCDEF01", "0" * 24, "short", "", "0123456789abcdef0123456 "][n % 5]
        if n % 89 == 2:
            at = datetime(2026, 11, 1, 1, 30, n % 60, fold=1, tzinfo=india) if n % 2 else at.astimezone(india)
        if n % 83 == 3:
            memo = f"memo {n}"
        if n % 79 == 4:
            moves = [("world", Decimal("-0.25")), ("card", Decimal("0.25"))]  # a balance with a fraction
        if n % 73 == 5:
            moves = [("world", Decimal(-3)), ("acct", Decimal(1)), ("card", Decimal(2))]
        if n % 71 == 6:
            moves = [("world", Decimal(2**64)), ("big", Decimal(-(2**64)))]  # beyond 64 bits
        if n == 1000:
            moves = [("big", Decimal(-(2**63)) - book.balance("big")), ("world", Decimal(2**63) + book.balance("big"))]  # big: -2**63
        posted.append(book.post(f"p{n}", "X", "POINT", at, moves, scope=f"S{n % 3}", reference=f"R{n}", fingerprint=fingerprint, memo=memo))
    assert len(book._ids) >= 2 * module._BATCH and book._tail  # filed and held both
    assert any(p.lines[2] == -(2**63) and p.lines[2].__class__ is int for p in posted)  # the column's own mark, as a balance
    book._views.clear()
    assert list(book.postings) == posted and [repr(p) for p in book.postings] == [repr(p) for p in posted]
    assert book.postings[-1] == posted[-1] and book.postings[5:9] == posted[5:9] and len(book.postings) == len(posted)
    assert [book.by_id(p.id) for p in posted] == posted == [book.by_reference(p.scope, p.reference) for p in posted]
    assert list(book.history("card", newest_first=False)) == [p for p in posted if any(a == "card" for a in p.lines[0::3])]
    assert book.replayed_balances() == {a: book.balance(a) for a in book.accounts()}
    assert [repr(p) for p in book.postings] == [repr(p) for p in posted] and not book._tail  # all filed now


def test_fingerprints_of_other_lengths_are_not_filed_as_if_they_were_24_digits_each():
    book = ledger()
    fingerprints = ["0" * 23, "1" * 25, "ab" * 12, "AB" * 12]
    for n, fingerprint in enumerate(fingerprints):
        book.post(f"p{n}", "X", "POINT", NOW, [("world", Decimal(-1)), ("acct", Decimal(1))], fingerprint=fingerprint)
    book._pack(len(book._tail))
    book._views.clear()
    assert [p.fingerprint for p in book.postings] == fingerprints and not book._tail


def test_an_all_zero_fingerprint_and_a_balance_of_minus_2_63_in_an_otherwise_plain_batch():
    """The two values the columns' bulk path must mark as odd itself (their packed form is the
    column's mark for "" and for odd)."""
    book = ledger()
    posted = [book.post("p0", "X", "POINT", NOW, [("world", Decimal(-1)), ("acct", Decimal(1))], fingerprint="1" * 24)]
    book._pack(len(book._tail))
    posted.append(book.post("p1", "X", "POINT", NOW, [("world", Decimal(-1)), ("acct", Decimal(1))], fingerprint="0" * 24))
    posted.append(book.post("p2", "X", "POINT", NOW, [("world", Decimal(-(2**63)) - book.balance("world")), ("card", Decimal(2**63) + book.balance("world"))]))
    book._pack(len(book._tail))
    book._views.clear()
    assert [repr(p) for p in book.postings] == [repr(p) for p in posted] and posted[2].lines[2] == -(2**63)


def test_a_fingerprint_that_is_not_a_string_reads_back_as_it_was_after_filing():
    book = ledger()
    for n, fingerprint in enumerate([None, "", 0, "ab" * 12]):
        book.post(f"p{n}", "X", "POINT", NOW, [("world", Decimal(-1)), ("acct", Decimal(1))], fingerprint=fingerprint)  # type: ignore[arg-type]
    book._pack(len(book._tail))
    book._views.clear()
    assert [repr(p.fingerprint) for p in book.postings] == ["None", "''", "0", repr("ab" * 12)]


@pytest.mark.parametrize("room", [20_000, 3])
def test_a_filed_posting_takes_the_template_its_texts_name(monkeypatch: pytest.MonkeyPatch, room: int):
    """_pack finds a posting's template by the amounts' texts post() made (None for the general
    path's postings): the template the general lookup by the lines' own texts gives, the same
    object for the same texts while there is room, and every posting reads back as posted."""
    from sandbox.state import ledger as module

    monkeypatch.setattr(module, "_TEMPLATES", room)
    book = ledger()
    amounts = [Decimal("2.50"), Decimal("1E+2"), Decimal(7), Decimal("0.10"), Decimal(7), Decimal("-0"), Decimal("7.000")]
    posted = []
    for n in range(60):
        amount = amounts[n % len(amounts)]
        if n % 5 == 4:  # three lines: the general path
            moves = [("world", -2 * amount), ("acct", amount), ("card", amount)]
        else:
            moves = [("world", -amount), ("acct" if n % 2 else "card", amount)]
        posted.append(book.post(f"p{n}", "X", "POINT", NOW, moves))
    keys = list(book._tail_keys)
    assert keys.count(None) == 12 and keys[0] == ("world", "-2.5", "card", "2.5")
    book._pack(len(book._tail))
    assert not book._tail and not book._tail_keys
    for position, posting in enumerate(posted):
        template = book._templates[position]
        assert template == book._template_for(posting.lines, None) == tuple(x for i, x in enumerate(posting.lines) if i % 3 != 2)
        assert list(map(str, template[1::2])) == list(map(str, posting.lines[1::3]))
    if room > len(posted):  # room for all: one template object for the same texts
        shared: dict[tuple[str, ...], set[int]] = {}
        for template in book._templates:
            shared.setdefault(tuple(map(str, template)), set()).add(id(template))
        assert all(len(ids) == 1 for ids in shared.values())
    book._views.clear()
    assert [repr(p) for p in book.postings] == [repr(p) for p in posted]


def test_canonical_and_its_text_agree_on_many_amounts():
    """canonical() looks at the text itself (a call less than asking _canonical_and_text): the
    same value, exponent and text on every kind of amount."""
    import random

    from sandbox.state.ledger import _canonical_and_text

    chance = random.Random(7)
    amounts = [Decimal(x) for x in ("0", "-0", "0.00", "-0.0", "1E+2", "-1E+2", "1.10", "100", "NaN", "Infinity", "-Infinity", "1E-7", "5.000E+3")]
    for _ in range(3000):
        digits = str(chance.randrange(10 ** chance.randrange(1, 12)))
        amounts.append(Decimal(f"{chance.choice('-+')}{digits}E{chance.randrange(-8, 8)}"))
        amounts.append(Decimal(f"{chance.choice(['-', ''])}{digits}.{'0' * chance.randrange(4)}"))
    for amount in amounts:
        value, text = _canonical_and_text(amount)
        found = canonical(amount)
        assert str(found) == text and found.as_tuple() == value.as_tuple(), amount
