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
