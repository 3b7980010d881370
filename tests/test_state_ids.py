"""Store.new_id through the draws bound once: the ids IdFactory.new gives with the records' tables
(the general call it replaces), and a copy of the store (a fixtures upload's) drawing from its own
stream and tables."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

from sandbox.state.clock import Clock
from sandbox.state.ids import FORMATS, IdFactory
from sandbox.state.store import _RECORDS_OF, Company, Store


def store(seed: int = 3) -> Store:
    return Store(Clock(datetime(2026, 1, 1, tzinfo=timezone.utc), frozen=True), IdFactory(seed))


def upcoming(of: Store, kind: str) -> str:
    """The id the store's stream gives next for `kind`, not counting its records."""
    peek = IdFactory(0)
    peek.restore(of.ids.state())
    return peek.new(kind)


def general_new_id(of: Store, kind: str) -> str:
    table = _RECORDS_OF.get(kind)
    return of.ids.new(kind, None if table is None else getattr(of, table).__contains__)


def test_new_id_is_the_factorys_id_with_the_records_table_every_kind() -> None:
    bound, general = store(), store()
    for n in range(300):
        kind = list(FORMATS)[n % len(FORMATS)]
        if n % 7 == 0:  # a company holding the next company id: both draw again past it
            taken = upcoming(bound, "company")
            for each in (bound, general):
                each.add_company(Company(taken, "CRM1", "taken"))
            kind = "company"
        assert bound.new_id(kind) == general_new_id(general, kind)
    assert bound.id_drawer("card")() == general_new_id(general, "card")
    assert bound.ids.state() == general.ids.state()


def test_a_copy_draws_from_its_own_stream_and_tables() -> None:
    original, untouched = store(), store()
    copied = copy.deepcopy(original, memo={id(original.clock): original.clock})
    taken = upcoming(copied, "company")
    copied.add_company(Company(taken, "CRM1", "only in the copy"))
    skipped = copied.new_id("company")
    assert skipped != taken  # the copy's own table
    assert original.ids.state() == untouched.ids.state()  # the original's stream did not move
    assert original.new_id("company") == taken  # nor does its table hold the copy's record
    untouched.add_company(Company(taken, "CRM1", "taken"))
    assert general_new_id(untouched, "company") == skipped
    assert copied.ids.state() == untouched.ids.state()
