"""Issue 17's seventh pass at the restore: the columns' patterns checked in C and the rest of the
document by the schema, the round trip written without the long lists, the metas coded in one
pass. Each must accept and refuse exactly what the whole schema and the whole round trip did."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from sandbox.contract import jsonio, schemas
from sandbox.documents import snapshot
from sandbox.settings import Settings
from sandbox.state.clock import Clock
from sandbox.state.ledger import Ledger
from sandbox.web.app import create_app

_TIME = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{6})?[+-][0-9]{2}:[0-9]{2}$"
_NUMBER = "^-?[0-9]{1,40}(\\.[0-9]{1,40})?(E[+-]?[0-9]{1,4})?$"
GOOD_TIME, SHORT_TIME = "2026-03-01T12:00:00.123456+05:30", "2026-03-01T12:00:00-01:00"


def _matches(pattern: str, text: object) -> bool:
    return isinstance(text, str) and schemas.whole_string(pattern).search(text) is not None


@pytest.mark.parametrize("text", [
    GOOD_TIME, SHORT_TIME, "2026-03-01 12:00:00.123456+05:30", "2026-03-01T12:00:00,123456+05:30", "2026-03-01T12:00:00.123456*05:30",
    "2026-03-01T12:00:00.12345a+05:30", "2026-03-01T12:00:0٣.123456+05:30", "2026-03-01T12:00:00.123456+05:30\n", "2026-03-01T12:00:00.123+05:30",
    "2026-03-01T12:00:00.123456Z", "2026-03-01T12:00:00.123456+0530", "", 7, None, ["x"], "２026-03-01T12:00:00+01:00",
])
def test_a_time_passes_the_columns_check_only_when_the_schema_pattern_takes_it(text):
    assert snapshot._times_hold([GOOD_TIME, text, SHORT_TIME]) == _matches(_TIME, text)


@pytest.mark.parametrize("text", [
    "0", "-0", "007", "-1000000", "9" * 40, "9" * 41, "-" + "9" * 40, "1.5", "1E+2", "", "-", "--1", "1-", "1-2", "+1", " 1", "1 ",
    "1_000", "1\n2", "1\n", "٣", "１", 7, None, True, ["1"],
])
def test_a_number_passes_the_whole_check_only_when_the_schema_pattern_takes_it(text):
    whole = snapshot._whole(["12", text, "-3"])
    assert whole == _matches("^-?[0-9]{1,40}$", text)
    assert not whole or _matches(_NUMBER, text)  # a fraction, an exponent, a 41st digit: left to the schema


def _doc() -> dict:  # type: ignore[type-arg]
    app = create_app(Settings())
    store, ledger = app.sandbox.store, app.sandbox.store.ledger
    card, at = next(iter(store.cards)), datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone(timedelta(hours=1)))
    for n in range(300):  # columns longer than a chunk of numbers and than _LISTED
        amount = Decimal("2.50") if n == 150 else Decimal(n + 1)
        ledger.post(f"P{n}", "X", "POINT", at.replace(microsecond=n * 7 % 1000), [("world", -amount), (card, amount)], reference=f"R{n}")
    store.clock.set(store.clock.now())
    store.clock.frozen = True
    return jsonio.loads(jsonio.dumps(snapshot.dump(store, app.sandbox.seed, columns=True)))  # type: ignore[no-any-return]


def _whole_schema_problem(doc: dict) -> str | None:  # type: ignore[type-arg]
    for error in schemas.file_errors(snapshot.SCHEMA, doc):
        return f"{schemas.field_path(error.instance_path) or 'document'}: {error.message[:300]}"
    return None


@pytest.mark.parametrize(("column", "place", "value"), [
    ("at", 5, "2026-03-01 12:00:00+01:00"), ("at", -1, 12), ("amount", 3, "1 "), ("amount", 150, "2.5.0"), ("balance_after", 299, "+1"),
    ("balance_after", 0, "1" * 41), ("amount", 7, None), ("lines", 0, 0), ("id", 2, 5),
])
def test_a_bad_column_item_is_refused_with_the_words_of_the_whole_schema(column, place, value):
    doc = _doc()
    doc["ledger"]["columns"][column][place] = value
    expected = _whole_schema_problem(doc)
    assert expected is not None
    with pytest.raises(snapshot.SnapshotError) as refused:
        snapshot.restore(doc, Clock())
    assert str(refused.value) == expected


def test_a_problem_outside_the_columns_is_named_by_the_whole_schema_first():
    doc = _doc()
    doc["ledger"]["columns"]["at"][0] = "not a time"
    doc["clock"]["frozen"] = "yes"
    expected = _whole_schema_problem(doc)
    with pytest.raises(snapshot.SnapshotError) as refused:
        snapshot.restore(doc, Clock())
    assert str(refused.value) == expected


def test_a_good_document_restores_as_its_records_do():
    doc = _doc()
    assert _whole_schema_problem(doc) is None
    store, _ = snapshot.restore(doc, Clock())
    assert [p.lines[1] for p in store.ledger.postings][-150] == Decimal("-2.50")


def test_the_round_trip_with_long_lists_written_back_by_joins():
    raw = jsonio.dumps(_doc())
    assert snapshot._as_written(raw) == jsonio.loads(raw)
    assert snapshot._as_written(raw.replace(b'"ledger":{', b'"ledger":{"balances":{},', 1)) is None  # a key named twice
    spaced = raw.replace(b'","', b'", "', 1)  # the same document, written otherwise: the careful reader
    assert snapshot._as_written(spaced) is None and jsonio.loads(spaced) == jsonio.loads(raw)
    long = [f"s{n}" for n in range(600)]
    for value in ({"a": long, "b": [long, {"c": long}], "d": long[:3]}, [long, long], long):
        raw = jsonio.dumps(value)
        assert snapshot._as_written(raw) == value
        assert snapshot._as_written(raw.replace(b'","s5"', b'", "s5"', 1)) is None  # a space inside a long list


def test_new_metas_are_coded_in_order_after_the_known_ones():
    ledger = Ledger()
    utc = timezone.utc
    assert ledger._codes([("A", "P", "", utc), ("B", "P", "", utc), ("A", "P", "", utc)]) == [0, 1, 0]
    assert ledger._codes(iter([("B", "P", "", utc), ("C", "P", "", None), ("C", "P", "", None)])) == [1, 2, 2]
    assert ledger._metas == [("A", "P", "", utc), ("B", "P", "", utc), ("C", "P", "", None)]
    assert ledger._meta_codes == {meta: n for n, meta in enumerate(ledger._metas)}


def test_the_checks_in_c_use_the_schema_patterns():
    columns = schemas._file_document(snapshot.SCHEMA)["properties"]["ledger"]["properties"]["columns"]["properties"]
    assert columns["amount"]["items"]["pattern"] == columns["balance_after"]["items"]["pattern"] == _NUMBER
    assert columns["amount"]["items"]["maxLength"] == 64 and columns["at"]["items"]["pattern"] == _TIME
    assert snapshot._NUMBER.pattern == schemas.whole_string(_NUMBER).pattern
