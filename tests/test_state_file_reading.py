"""A state file as write_file writes it is read by orjson (docs/performance.md); any other file
by the careful reader, with the same document or the same refusal as before."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.contract import jsonio
from sandbox.documents import snapshot
from sandbox.settings import Settings
from sandbox.web.app import create_app


@pytest.mark.parametrize("raw", [
    b'{"a":1,"b":[true,false,null],"c":{"$decimal":"1.50"},"d":"x:1.5,[2e3"}',
    b'{"a":1.5}', b'{"a":1.0}', b'{"a":2E3}', b'{"a":1,"a":2}', b'{"a": 1}', b'{"a":"\\u00e9"}', b'{"a":"\\ud800"}',
    b"[" * 64 + b"]" * 64, b"[" * 65 + b"]" * 65, b'{"a":"[[["}', b'["]","["]', b'{"a":["x[","]"]}',
    b'[' * 63 + b'"]","["' + b']' * 63, b'[' * 64 + b'"[]"' + b']' * 64, b'{"a":[1,2.5]}', b'{"a":[2.5]}', b'{"a":"1,2.5"}', b'{"a":NaN}', b"", b'{"a":99999999999999999999999}',
    b'{"a":[1,-2.5]}', b'{"a":[-1e5]}', b'{"a":-0.5}', b'{"a":[7,2E-3]}', b'{"a":"x","b":[3,4e2]}', b'{"a":[-10,20],"b":-3}',
])
def test_the_fast_reader_gives_what_the_careful_one_gives(tmp_path: Path, raw: bytes):
    path = tmp_path / "state.json"
    path.write_bytes(raw)
    try:
        careful = jsonio.loads(raw)
    except Exception as exc:  # noqa: BLE001 - the same refusal is expected
        with pytest.raises(snapshot.SnapshotError) as refused:
            snapshot.read_file(path)
        assert refused.value.problem.endswith(f"({exc.details.get('reason')})")
        return
    read = snapshot.read_file(path)
    assert read == careful and repr(read) == repr(careful)


def test_a_written_state_reads_back_and_a_balance_keeps_its_form(tmp_path: Path):
    app = create_app(Settings())
    doc = snapshot.dump(app.sandbox.store, app.sandbox.seed)
    path = tmp_path / "state.json"
    snapshot.write_file(path, doc)
    assert snapshot._as_written(path.read_bytes()) == jsonio.loads(path.read_bytes())
    lines = next(p for p in doc["ledger"]["postings"] if len(p["fields"]["lines"]["$tuple"]) == 6)["fields"]["lines"]["$tuple"]
    store, _ = snapshot.restore(snapshot.read_file(path), app.sandbox.clock)
    again = snapshot.dump(store, app.sandbox.seed)
    assert {k: v for k, v in again.items() if k != "clock"} == {k: v for k, v in doc.items() if k != "clock"}
    # a whole balance written with a point stays as written (held as its Decimal, not an int)
    assert snapshot._held_as_written(Decimal("100.0")) == Decimal("100.0") and str(snapshot._held_as_written(Decimal("100.0"))) == "100.0"
    assert type(snapshot._held_as_written(Decimal("-7"))) is int and str(snapshot._held_as_written(Decimal("-0"))) == "-0"
    assert lines


def _variants(good: dict) -> list:
    import copy

    def changed(edit):
        doc = copy.deepcopy(good)
        edit(doc)
        return doc
    lines = lambda d: d["fields"]["lines"]["$tuple"]  # noqa: E731
    return [
        good,
        changed(lambda d: lines(d).__setitem__(1, {"$decimal": "x1"})),
        changed(lambda d: lines(d).__setitem__(1, {"$decimal": "NaN"})),
        changed(lambda d: lines(d).__setitem__(1, {"$decimal": 5})),
        changed(lambda d: lines(d).__setitem__(2, {"$datetime": "2026-01-01T00:00:00+00:00"})),
        changed(lambda d: lines(d).__setitem__(0, 7)),
        changed(lambda d: d["fields"].__setitem__("at", {"$datetime": "1066-10-14T00:00:00+00:00"})),
        changed(lambda d: d["fields"].__setitem__("at", {"$datetime": "yesterday"})),
        changed(lambda d: d["fields"].__setitem__("at", "2026-01-01")),
        changed(lambda d: d["fields"].__setitem__("lines", {"$tuple": "abc"})),
        changed(lambda d: d["fields"].pop("memo")),
        changed(lambda d: d.__setitem__("$record", "os:system")),
    ]


def test_postings_are_decoded_as_the_generic_walk_decodes_them():
    app = create_app(Settings())
    good = snapshot.dump(app.sandbox.store, app.sandbox.seed)["ledger"]["postings"][0]
    for variant in _variants(good):
        outcomes = []
        for read in (snapshot.decode, snapshot._postings):
            try:
                outcomes.append(("value", read([good, variant], "ledger.postings")))
            except snapshot.SnapshotError as exc:
                outcomes.append(("refused", str(exc)))
        assert outcomes[0] == outcomes[1] and repr(outcomes[0]) == repr(outcomes[1])


def test_the_postings_are_written_as_the_generic_walk_writes_them():
    """dump writes the ledger's postings without encode's generic walk (docs/performance.md): the
    same document for postings of every form the store holds, and encode's for anything else."""
    app = create_app(Settings())
    store = app.sandbox.store
    postings = list(store.ledger.postings)
    assert postings and any(len(p.lines) == 6 for p in postings)
    whole = next(p for p in postings if type(p.lines[2]) is int)  # a whole balance held as an int
    fraction = whole._replace(lines=(*whole.lines[:2], Decimal("12.50"), *whole.lines[3:]))
    postings += [fraction, whole._replace(memo="ünïcode <memo>", reference="R-1")]
    assert snapshot._encoded_postings(postings) == snapshot.encode(postings, "ledger.postings")
    odd = [*postings, whole._replace(memo=None)]  # a value no posting holds today: the generic walk, same words
    assert snapshot._encoded_postings(odd) == snapshot.encode(odd, "ledger.postings")
    assert snapshot._encoded_postings(odd)[-1]["fields"]["memo"] is None


# --- version 3: the state file's postings as columns (docs/performance.md, issue 17) -----------
def _odd_store():  # type: ignore[no-untyped-def]
    """The default state plus postings whose values a column cannot hold as such (kept as odd)."""
    from datetime import datetime, timedelta, timezone

    app = create_app(Settings())
    store = app.sandbox.store
    ledger, card = store.ledger, next(iter(store.cards))
    at = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    for n, (amount, fingerprint) in enumerate([(Decimal("0.25"), "ABCDEF0123456789ABCDEF01"), (Decimal(3), "0" * 24),
                                               (Decimal(1), "short"), (Decimal("2.50"), "")]):
        ledger.post(f"ODD{n}", "X", "POINT", at, [("world", -amount), (card, amount)], scope="S", reference=f"R{n}", fingerprint=fingerprint)
    ledger.post("ODD9", "X", "POINT", at, [("world", Decimal(-2)), (card, Decimal(1)), ("redeemed", Decimal(1))], memo="three lines")
    store.clock.set(store.clock.now())
    store.clock.frozen = True  # every dump below reads the same time
    return app


def test_a_state_file_with_columns_restores_the_same_state():
    """dump(columns=True) writes version 3; restoring it gives what restoring version 2 gives, to
    the last Decimal and time zone, fractions, odd fingerprints and three-line postings included."""
    _restores_alike(_odd_store())


def test_a_state_file_with_columns_keeps_balances_its_column_cannot_hold():
    """Balances beyond 64 bits and the column's own mark (-2**63) beside fractions: the bulk
    build of the balance column (Ledger._fill) keeps each as the records' restore does."""
    app = _odd_store()
    store = app.sandbox.store
    ledger, card, at = store.ledger, next(iter(store.cards)), store.ledger.postings[-1].at
    world = ledger.balance("world")
    ledger.post("BIG1", "X", "POINT", at, [("world", -(Decimal(2**63) + world)), (card, Decimal(2**63) + world)])  # world: -2**63
    ledger.post("BIG2", "X", "POINT", at, [("world", Decimal(-(2**64))), (card, Decimal(2**64))])  # both beyond 64 bits
    assert ledger.balance("world") == -(2**63) - 2**64
    _restores_alike(app)


def _restores_alike(app) -> None:  # type: ignore[no-untyped-def]
    from sandbox.state.clock import Clock

    store, seed = app.sandbox.store, app.sandbox.seed
    columns, records = snapshot.dump(store, seed, columns=True), snapshot.dump(store, seed)
    assert columns["version"] == 3 and "postings" not in columns["ledger"] and records["version"] == 2
    from_columns, _ = snapshot.restore(jsonio.loads(jsonio.dumps(columns)), Clock())
    from_records, _ = snapshot.restore(jsonio.loads(jsonio.dumps(records)), Clock())
    assert snapshot.dump(from_columns, seed) == snapshot.dump(from_records, seed) == records
    assert list(from_columns.ledger.postings) == list(from_records.ledger.postings) == list(store.ledger.postings)
    assert [repr(p) for p in from_columns.ledger.postings] == [repr(p) for p in store.ledger.postings]
    assert {a: str(from_columns.balance(a)) for a in store.ledger.accounts()} == {a: str(store.balance(a)) for a in store.ledger.accounts()}
    assert from_columns.ledger.replayed_balances() == {a: from_columns.balance(a) for a in store.ledger.accounts()}
    again = snapshot.dump(from_columns, seed, columns=True)
    assert again == columns and snapshot.dump(from_columns, seed) == records


def _refused(change) -> str:  # type: ignore[no-untyped-def]
    from sandbox.state.clock import Clock

    app = _odd_store()
    doc = jsonio.loads(jsonio.dumps(snapshot.dump(app.sandbox.store, app.sandbox.seed, columns=True)))
    change(doc["ledger"]["columns"])
    with pytest.raises(snapshot.SnapshotError) as refused:
        snapshot.restore(doc, Clock())
    return str(refused.value)


@pytest.mark.parametrize(("change", "words"), [
    (lambda c: c["amount"].__setitem__(0, "-999"), "balance_after of world is"),
    (lambda c: c["balance_after"].__setitem__(1, "1"), "balance_after of"),
    (lambda c: (c["amount"].__setitem__(1, str(int(c["amount"][1]) + 5)), c["balance_after"].__setitem__(1, str(int(c["balance_after"][1]) + 5))),
     "does not balance: its amounts sum to 5"),
    (lambda c: c["id"].__setitem__(1, c["id"][0]), "is posted twice"),
    (lambda c: c["reference"].__setitem__(-2, c["reference"][-3]) if c["scope"][-2] == c["scope"][-3] else None, "posted twice in"),
    (lambda c: c["kind"].pop(), "has"),
    (lambda c: c["account"].__setitem__(0, "nobody"), "is no open POINT account"),
    (lambda c: c["unit"].__setitem__(0, "COIN"), "is no open COIN account"),
    (lambda c: c["at"].__setitem__(0, "1000-01-01T00:00:00+00:00"), "at[0]"),
    (lambda c: c["amount"].__setitem__(0, "1_000"), "amount"),
])
def test_a_state_file_with_columns_is_checked_as_a_document_of_records_is(change, words):
    assert words in _refused(change)


def test_a_floored_account_may_not_go_below_zero_in_columns():
    def overdraw(c):  # type: ignore[no-untyped-def]
        n = c["account"].index(next(a for a in c["account"] if a.startswith("EKC")))  # a card's first line
        delta = int(c["balance_after"][n]) + 1
        c["amount"][n] = str(int(c["amount"][n]) - delta)
        c["balance_after"][n] = str(int(c["balance_after"][n]) - delta)
        partner = n + 1 if n % 2 == 0 else n - 1
        c["amount"][partner] = str(int(c["amount"][partner]) + delta)
        c["balance_after"][partner] = str(int(c["balance_after"][partner]) + delta)
    words = _refused(overdraw)
    assert "below zero" in words or "balance_after" in words


# the checks of a version 3 file are made in bulk (a column or an account's lines at once); the
# default state is all pairs (one account to another) in one unit and one scope with references,
# the bulk paths of each check, where _odd_store takes the general ones (three lines, two scopes)
def _refused_default(change) -> str:  # type: ignore[no-untyped-def]
    from sandbox.state.clock import Clock

    app = create_app(Settings())
    doc = jsonio.loads(jsonio.dumps(snapshot.dump(app.sandbox.store, app.sandbox.seed, columns=True)))
    change(doc["ledger"]["columns"])
    with pytest.raises(snapshot.SnapshotError) as refused:
        snapshot.restore(doc, Clock())
    return str(refused.value)


def _unbalance(c, n: int, by: int) -> None:  # type: ignore[no-untyped-def]
    c["amount"][n] = str(int(c["amount"][n]) + by)
    c["balance_after"][n] = str(int(c["balance_after"][n]) + by)


@pytest.mark.parametrize(("change", "words"), [
    (lambda c: _unbalance(c, 1, 5), "ledger.columns.lines[0]: posting"),
    (lambda c: _unbalance(c, 4, -1), "does not balance: its amounts sum to -1"),
    (lambda c: c["balance_after"].__setitem__(3, str(int(c["balance_after"][3]) + 1)), "ledger.columns.balance_after[3]"),
    (lambda c: c["balance_after"].__setitem__(-1, str(int(c["balance_after"][-1]) - 1)), "balance_after of"),
    (lambda c: c["reference"].__setitem__(7, c["reference"][4]), "ledger.columns.reference[7]: TXN-PENDING-1 is posted twice"),
    (lambda c: c["unit"].__setitem__(2, "COIN"), "ledger.columns.account[4]: 'world' is no open COIN account"),
    (lambda c: c["account"].__setitem__(5, "nobody"), "ledger.columns.account[5]"),
])
def test_the_bulk_checks_refuse_what_the_line_by_line_replay_names(change, words):
    assert words in _refused_default(change)


def test_a_reference_may_be_given_again_in_another_scope():
    from sandbox.state.clock import Clock

    app = _odd_store()
    doc = jsonio.loads(jsonio.dumps(snapshot.dump(app.sandbox.store, app.sandbox.seed, columns=True)))
    c = doc["ledger"]["columns"]
    c["reference"][c["scope"].index("S")] = "TXN-PENDING-1"  # also a reference of the partner's scope
    store, _ = snapshot.restore(doc, Clock())
    assert store.ledger.by_reference("S", "TXN-PENDING-1").id == "ODD0"
    assert store.ledger.by_reference("S", "TXN-PENDING-1") != store.ledger.by_reference(c["scope"][4], "TXN-PENDING-1")


def test_balances_are_read_in_bulk_as_one_by_one():
    """_helds reads whole balances with int() a chunk at a time: the same values, of the same types
    (a "-0" stays the Decimal it is written as), as the one-by-one reading, across chunks."""
    texts = ["7"] * (snapshot._CHUNK - 3) + ["-0", "0", "-00", "007", "-7", "1.50", "1E+2", "100.0", "-0.0", "-12"] + ["5"] * snapshot._CHUNK
    one_by_one = [snapshot._held_as_written(Decimal(text)) for text in texts]
    assert repr(snapshot._helds(texts)) == repr(one_by_one)
    assert repr(snapshot._helds(texts[-snapshot._CHUNK:])) == repr(one_by_one[-snapshot._CHUNK:])


def test_a_floored_account_below_zero_is_refused_when_every_balance_follows():
    """Every sum right, every posting balanced: only the floor is broken (a card pays out one point
    more than it holds, in a last posting)."""
    def overdraw(c):  # type: ignore[no-untyped-def]
        card = next(a for a in reversed(c["account"]) if a.startswith("EKC"))
        last = {a: Decimal(b) for a, b in zip(c["account"], c["balance_after"])}
        paid = last[card] + 1
        for name, value in [("id", "OVERDRAWN"), ("kind", "X"), ("unit", "POINT"), ("at", c["at"][-1]), ("scope", ""), ("reference", ""),
                            ("fingerprint", ""), ("memo", ""), ("lines", 2)]:
            c[name].append(value)
        c["account"] += [card, "world"]
        c["amount"] += [str(-paid), str(paid)]
        c["balance_after"] += ["-1", str(last["world"] + paid)]
    assert "would go below zero" in _refused_default(overdraw)
