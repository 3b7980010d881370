"""A bulk upload applied a slice at a time: one clock reading a slice, ids drawn in the order a
row at a time draws them, fingerprints the same however a body spells its fields."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from conftest import DOCS_ACCOUNT, DOCS_COMPANY, DOCS_PARTNER

from sandbox.domain import rewards
from sandbox.domain.rewards import BulkRow
from sandbox.settings import Settings
from sandbox.state.ids import FORMATS, IdFactory
from sandbox.web.app import AppState
from sandbox.web.endpoints.fields import fingerprint, plain_fingerprint


def rows(count: int) -> list[BulkRow]:
    return [
        BulkRow(n, {"name": "Slice", "email": f"s{n}@example.com", "mobile": f"9{n:09d}", "loadAmount": 1}, None, Decimal(1), "", "")
        for n in range(count)
    ]


def test_rows_of_a_slice_carry_its_time_and_the_next_slice_reads_the_clock_again():
    state = AppState(Settings())
    store = state.store
    upload = rewards.bulk_allocate(store, DOCS_PARTNER, DOCS_COMPANY, DOCS_ACCOUNT, True, rows(rewards.BULK_SLICE + 2), 10_000)
    next(upload)  # the first slice applied; the pause
    store.clock.advance(timedelta(hours=1))  # another call moves the clock during the pause
    try:
        next(upload)
    except StopIteration as done:
        outcomes = done.value
    times = [outcome.allocated.posting.at for outcome in outcomes]
    assert len(set(times[:rewards.BULK_SLICE])) == 1 and len(set(times[rewards.BULK_SLICE:])) == 1
    assert times[-1] - times[0] >= timedelta(hours=1)


def test_ids_of_an_upload_are_those_a_row_at_a_time_would_draw():
    kinds = ["user", "card", "card_token", "card_txn"] * 3
    one_by_one, drawn = IdFactory(5), IdFactory(5)
    drawers = {kind: drawn.drawer(kind) for kind in FORMATS}
    assert [drawers[kind]() for kind in kinds] == [one_by_one.new(kind) for kind in kinds]


def test_a_taken_id_is_drawn_again_by_a_drawer_too():
    first = IdFactory(5).new("user")
    assert IdFactory(5).drawer("user", {first}.__contains__)() == IdFactory(5).new("user", {first}.__contains__) != first


def test_fingerprint_is_the_same_for_either_spelling_of_a_reference_and_an_amount():
    target = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}
    plain = fingerprint({"uniqueReferenceNumber": "R1", "loadAmount": 11, "name": "A"}, target)
    assert fingerprint({"name": "A", "loadAmount": Decimal("11.00"), "uniqueReferenceNum": "R1"}, target) == plain
    assert fingerprint({"uniqueReferenceNumber": "R1", "loadAmount": True, "name": "A"}, target) != plain  # a bool is no amount


def test_a_plain_row_has_the_fingerprint_of_any_row():
    target = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT}
    for load in (1, 10, Decimal("10.50"), Decimal("1E+1")):
        row = {"name": "A", "email": "a@example.com", "companyId": "mine", "loadAmount": load, "uniqueReferenceNumber": "R"}
        assert plain_fingerprint(row, "loadAmount", target) == fingerprint(row, target)
