"""The journal's byte budget counts request headers only when it is near, or when someone reads:
readers see the same entries as if every entry had been counted whole when it came."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from sandbox.web.journal import Entry, Filter, Journal


def entry(seq: int, head: int, body: int) -> Entry:
    made = Entry(seq, b"req-%06d" % seq, "POST", "/x", b"", [(b"x-pad", b"h" * head)], (datetime.now(timezone.utc), None), 0.0, 0.0)
    made.request_body = b"b" * body
    return made


def newest_that_fit(sent: list[Entry], size: int, max_bytes: int) -> list[int]:
    """What counting each entry whole on arrival keeps: the newest run within both bounds (at least one)."""
    kept, held = [], 0
    for one in reversed(sent[-size:]):
        held += one.kept_bytes() + one.head_bytes()
        if held > max_bytes and kept:
            break
        kept.append(one.seq)
    return kept


def test_headers_count_in_the_budget():
    journal = Journal(size=10, body_limit=1 << 20, max_bytes=6000)
    sent = [entry(n, head=2000, body=10) for n in range(1, 8)]  # 2,527 bytes each, 2,005 of them headers
    for one in sent:
        journal.record(one)
    assert [e.seq for e in journal.select(Filter())] == newest_that_fit(sent, 10, 6000) == [7, 6]
    assert len(journal) == 2 and journal.count(Filter()) == 2 and journal.get(5) is None


def test_any_mix_of_records_and_reads_keeps_what_eager_counting_keeps():
    chance = random.Random(17)
    for size, max_bytes in ((5, 1 << 62), (50, 40_000), (50, 200_000), (3, 700)):
        journal, sent = Journal(size, 1 << 20, max_bytes), []
        for n in range(1, 400):
            one = entry(n, head=chance.choice((10, 300, 20_000)), body=chance.choice((0, 100, 30_000)))
            journal.record(one)
            sent.append(one)
            if chance.random() < 0.1:
                assert [e.seq for e in journal.select(Filter())] == newest_that_fit(sent, size, max_bytes)
        assert [e.seq for e in journal.select(Filter())] == newest_that_fit(sent, size, max_bytes)
        assert journal.clear() == len(newest_that_fit(sent, size, max_bytes)) and len(journal) == 0


def test_between_reads_the_entries_held_stay_within_the_budget_when_no_head_passes_the_allowance():
    """The server refuses a head over max_header_bytes (431), the journal's head allowance: so what
    it holds, headers counted or not yet, never passes max_bytes (but for a single entry)."""
    chance = random.Random(23)
    for allowance, max_bytes in ((2_000, 30_000), (16 * 1024, 200_000), (100_000, 150_000)):
        journal = Journal(500, 1 << 20, max_bytes, head_allowance=allowance)
        for n in range(1, 600):
            journal.record(entry(n, head=chance.randrange(allowance - 6), body=chance.choice((0, 100, 5_000, 40_000))))
            held = list(journal._entries)  # not a read: a read would count every head first
            assert len(held) == 1 or sum(e.kept_bytes() + e.head_bytes() for e in held) <= max_bytes


def test_a_journal_of_no_entries_keeps_none_and_one_of_one_entry_keeps_the_newest():
    chance = random.Random(29)
    empty, single, sent = Journal(0, 1 << 20, 5_000), Journal(1, 1 << 20, 5_000), []
    for n in range(1, 200):
        one = entry(n, head=chance.choice((10, 3_000, 20_000)), body=chance.choice((0, 100, 9_000)))
        empty.record(one)
        single.record(one)
        sent.append(one)
        assert len(empty) == 0 and empty.capacity == 0
        if chance.random() < 0.3:
            assert [e.seq for e in single.select(Filter())] == newest_that_fit(sent, 1, 5_000) == [n]
    assert single.clear() == 1 and len(single) == 0
