"""Append-only, zero-sum ledger: balances are derived from postings, never set.

Every posting's entries sum to zero per unit, so the sum of all balances of a unit is always
zero (system accounts like `world` carry the other side). Floored accounts never go negative.
Per-account and per-reference indexes keep lookups independent of the ledger's size.

Memory (issue 17: at most 400 bytes a posting in a store of 1,000,000): postings are not held as
objects. The ledger keeps columns (ids, references and memos as the strings they are; times as
microseconds, fingerprints as their 12 bytes, balances as 64-bit ints in arrays; kind, unit,
scope and time zone, and the accounts and amounts of a posting, as shared tuples) and builds a
Posting when one is read. What does not fit a column (a fingerprint that is not 24 hex digits, a
balance with a fraction or beyond 64 bits, a time with fold=1) is kept as it is, by position, in a
small dict.
"""

from __future__ import annotations

import heapq
import struct
from collections import defaultdict
from array import array
from datetime import datetime
from functools import partial
from operator import attrgetter, is_not, itemgetter, rshift
from itertools import accumulate, chain, compress, count, islice, repeat
from decimal import Decimal
from typing import Any, Iterable, Iterator, NamedTuple, Sequence

ZERO = Decimal(0)


def canonical(value: Decimal) -> Decimal:
    """The amount as EnKash prints it (898138, 92415.44): no trailing zeros, no exponent, no -0;
    11.0 -> 11, 1E+2 -> 100. Exact: digits are moved, never rounded by a context."""
    text = str(value)  # C; as_tuple() builds a named tuple in Python: this runs several times a request
    # _canonical_and_text's look at the text, made here too: a call less, several times a top-up
    if "E" not in text and (text[-1] != "0" or "." not in text) and text != "-0":
        return value  # already canonical (nearly every amount), or not finite
    return _rebuilt(value)


def _canonical_and_text(value: Decimal) -> tuple[Decimal, str]:
    """canonical(value) and its text: Ledger.post compares two amounts' texts to know they balance."""
    text = str(value)
    if "E" not in text and (text[-1] != "0" or "." not in text) and text != "-0":
        return value, text  # already canonical, or not finite
    value = _rebuilt(value)
    return value, str(value)


def _rebuilt(value: Decimal) -> Decimal:
    """canonical(value) of a value whose text is not (or is not finite: as it is)."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        return value
    kept = list(digits) + [0] * max(exponent, 0)
    exponent = min(exponent, 0)
    while exponent < 0 and kept and kept[-1] == 0:
        kept.pop()
        exponent += 1
    return Decimal((sign, tuple(kept), exponent)) if any(kept) else ZERO


class LedgerError(Exception):
    """A posting that would break an invariant; domain rules check first, so this is a bug guard."""


class Entry(NamedTuple):
    account: str
    amount: Decimal
    balance_after: Decimal


def held(balance: Decimal) -> Decimal | int:
    """A balance as a posting holds it: a whole canonical amount as an int (32 bytes, none at all
    up to 256, against 104 for a Decimal), anything else as its Decimal. Exact both ways: a whole
    canonical Decimal has exponent 0, so Decimal(int) gives it back, digits and str() alike."""
    whole = int(balance)
    return whole if whole == balance else balance


def _decimal(value: Decimal | int) -> Decimal:
    return Decimal(value) if value.__class__ is int else value  # type: ignore[return-value]


class Posting(NamedTuple):
    """`lines` holds the entries flat (account, amount, balance_after, account, ...): one tuple
    instead of a tuple of Entry objects, about 80 bytes less per posting in a large store. A
    whole balance_after is held as an int (`held`); `entries` and `entry_for` give Decimals."""

    id: str
    kind: str
    unit: str
    at: datetime
    lines: tuple[str | Decimal, ...]
    scope: str = ""
    reference: str = ""
    fingerprint: str = ""
    memo: str = ""

    @property
    def entries(self) -> tuple[Entry, ...]:
        lines = self.lines
        return tuple(Entry(lines[i], lines[i + 1], _decimal(lines[i + 2])) for i in range(0, len(lines), 3))  # type: ignore[arg-type]

    def entry_for(self, account: str) -> Entry:
        lines, i = self.lines, self._place(account)
        return Entry(lines[i], lines[i + 1], _decimal(lines[i + 2]))  # type: ignore[arg-type]

    def balance_after(self, account: str) -> Decimal:
        """entry_for(account).balance_after, without making the Entry (a bulk reply's two a row)."""
        return _decimal(self.lines[self._place(account) + 2])  # type: ignore[arg-type]

    def held_after(self, account: str) -> Decimal | int:
        """balance_after(account) as the posting holds it (`held`): an int when whole, which a
        reply prints with the same digits in C, where a Decimal is made and then printed through
        a Python call (a top-up's otbBalance)."""
        return self.lines[self._place(account) + 2]  # type: ignore[return-value]

    def _place(self, account: str) -> int:
        """Where the account's line starts in `lines`: found in C among the accounts alone (an
        index over all of `lines` compared the name with each amount, and a Decimal's equality
        with a str goes through the numbers ABCs in Python)."""
        try:
            return self.lines[0::3].index(account) * 3
        except ValueError:
            raise KeyError(account) from None

    def decimal_lines(self) -> tuple[str | Decimal, ...]:
        """`lines` with every balance_after a Decimal (what a state document writes)."""
        lines = list(self.lines)
        lines[2::3] = [_decimal(b) for b in lines[2::3]]  # type: ignore[arg-type]
        return tuple(lines)


def _newest(positions: Sequence[int], n: int) -> Iterator[tuple[int, int]]:
    """One account's history for heapq.merge: (-position, its index), newest first."""
    return ((-p, n) for p in reversed(positions))


_ODD = -(2**63)  # in an int64 column: the value is in the column's dict of odd values
_TIME = 10  # bytes of a time: the wall time as a datetime pickles it (year, month, ..., microsecond)
_NO_TIME = bytes(_TIME)  # the column's bytes for a time kept as odd (month 0: no datetime's)
_state_and_zone, _state = itemgetter(1), itemgetter(0)  # of a datetime's __reduce__(): (datetime, (10 bytes, zone))


def _time_bytes(ats: Sequence[datetime]) -> bytes:
    """The time column's bytes for datetimes of fold 0: each the 10 bytes it pickles to."""
    return b"".join(map(_state, map(_state_and_zone, map(datetime.__reduce__, ats))))


def _zeroed(helds: Sequence[Any], odd: list[int]) -> array:
    """`helds` as a column of 64-bit ints with 0 at the places `odd` (which the caller marks);
    OverflowError when another is beyond 64 bits."""
    whole = list(helds)
    for index in odd:
        whole[index] = 0
    return array("q", whole)


def _machine_ints(code: str, values: Sequence[Any]) -> bytes:
    """`values` as the bytes of an array of type `code`, for frombytes: struct packs 200,000 ints in
    about half the instructions array() and extend() take (they parse each item's argument);
    struct.error for a value that is not an int of that size."""
    return struct.pack(f"{len(values)}{code}", *values)


_FP = 12  # bytes of a fingerprint as request fingerprints are made (blake2b, 24 hex digits)
_NO_FP = bytes(_FP)  # the column's bytes for "" (a real all-zero fingerprint is kept as odd)
_LOWEST, _HIGHEST = -(2**63), 2**63 - 1  # _LOWEST is _ODD
_VIEWS = 4_096  # postings read lately kept built: a page read again is not rebuilt
_BATCH = 1_024  # postings filed in the columns at once; the newest posted (1,024 to 2,047) are held as posted
_TEMPLATES = 20_000  # shared (account, amount, ...) tuples at most; later ones are held per posting
_new_posting = partial(tuple.__new__, Posting)  # a Posting from its fields without NamedTuple's __new__


def _packed(fingerprint: Any) -> bytes | None:
    """A fingerprint's 12 bytes when it is 24 lowercase hex digits (not all zero), else None."""
    if fingerprint.__class__ is not str or len(fingerprint) != 2 * _FP:
        return None
    try:
        packed = bytes.fromhex(fingerprint)  # 24 characters give 12 bytes only without whitespace
    except ValueError:
        return None
    if len(packed) != _FP or packed == _NO_FP or not (fingerprint.islower() or fingerprint.isdigit()):
        return None  # what .hex() does not write back: whitespace, upper case, all zeros
    return packed


class _Templates(dict[tuple[Any, ...], tuple[Any, ...]]):
    """(account, amount text, ...) -> its template, for Ledger._fill: a key not met yet takes the
    ledger's shared template or a new one (__missing__), so 100,000 keys are hashed once, in C,
    where a set of them and a lookup hashed them twice."""

    def __init__(self, shared: dict[tuple[Any, ...], tuple[Any, ...]], decimal_of: dict[str, Decimal]) -> None:
        super().__init__()
        self.shared, self.decimal_of = shared, decimal_of

    def __missing__(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        template = self.shared.get(key)
        if template is None:
            template = tuple(self.decimal_of[x] if i % 2 else x for i, x in enumerate(key))
            if len(self.shared) < _TEMPLATES:
                self.shared[key] = template
        self[key] = template
        return template


class _Postings(Sequence[Posting]):
    """`Ledger.postings`: the postings in order, each built from the ledger's columns when read."""

    __slots__ = ("_ledger",)

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def __len__(self) -> int:
        return len(self._ledger._ids) + len(self._ledger._tail)

    def __getitem__(self, index: Any) -> Any:
        ledger, size = self._ledger, len(self)
        if isinstance(index, slice):
            return [ledger._view(p) for p in range(*index.indices(size))]
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("posting index out of range")
        return ledger._view(index)

    def __iter__(self) -> Iterator[Posting]:
        return map(self._ledger._view, range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, _Postings)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"<{len(self)} postings>"


class Ledger:
    def __init__(self) -> None:
        self._balances: dict[str, Decimal] = {}
        self._units: dict[str, str] = {}
        self._floored: set[str] = set()
        self._by_account: dict[str, array[int]] = {}  # account -> positions of its postings
        self._by_reference: dict[str, dict[str, int]] = {}  # scope -> reference -> position
        self._by_id: dict[str, int] = {}
        # one Decimal object per distinct amount text (partners repeat amounts): ~200 bytes less
        # per posting; keyed by the text, so 1 and 1.00 stay distinct
        self._amounts: dict[str, Decimal] = {}
        # the columns, one item per posting (by position)
        self._ids: list[str] = []
        self._refs: list[str] = []
        self._memos: dict[int, Any] = {}  # by position, only a memo that is not "" (a top-up has none)
        self._meta = array("I")  # -> _metas: (kind, unit, scope, the posting's time zone)
        self._metas: list[tuple[Any, Any, Any, Any]] = []
        self._meta_codes: dict[tuple[Any, ...], int] = {}  # -> its place in _metas
        self._at = bytearray()  # _TIME bytes a posting: its wall time (in the zone of its meta)
        self._odd_at: dict[int, Any] = {}
        self._fps = bytearray()  # _FP bytes a posting
        self._odd_fps: dict[int, Any] = {}
        self._templates: list[tuple[Any, ...]] = []  # (account, amount, account, amount, ...), shared
        self._template_of: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # by (account, amount text, ...)
        self._first = array("I")  # where a posting's balances start in _afters
        self._afters = array("q")  # balance_after of every line, in order
        self._odd_afters: dict[int, Any] = {}  # by index in _afters
        self._views: dict[int, Posting] = {}  # postings built lately, by position (bounded)
        self._tail: list[Posting] = []  # the newest postings, as posted, not in the columns yet (_pack)
        # each tail posting's key in _template_of (accounts and amounts' texts), as post() had the
        # texts at hand (None: _pack makes it): no new Decimal is hashed to find a template
        self._tail_keys: list[tuple[str, ...] | None] = []

    @property
    def postings(self) -> _Postings:
        return _Postings(self)

    def open(self, account: str, unit: str, floored: bool = True) -> None:
        if account in self._units:
            raise LedgerError(f"account {account} is already open")
        self._units[account] = unit
        self._balances[account] = ZERO
        self._by_account[account] = array("i")
        if floored:
            self._floored.add(account)

    def is_open(self, account: str) -> bool:
        return account in self._units

    def balance(self, account: str) -> Decimal:
        return self._balances[account]

    def post(
        self,
        posting_id: str,
        kind: str,
        unit: str,
        at: datetime,
        moves: Iterable[tuple[str, Decimal]],
        scope: str = "",
        reference: str = "",
        fingerprint: str = "",
        memo: str = "",
    ) -> Posting:
        """The posting is held as posted (the newest 1,024 to 2,047 are) and filed in the columns
        later, a batch at a time (`_pack`): per posting, only the balances and the indexes now."""
        if moves.__class__ is not list:
            moves = list(moves)
        if len(moves) == 2:  # one account to another (nearly every posting): the general loop's steps, unrolled
            (first, amount), (second, other) = moves
            units = self._units
            if units.get(first) == unit and units.get(second) == unit:
                balances = self._balances
                # each amount's canonical text tells, as a Decimal sum would, whether the two lines balance
                amount, amount_text = _canonical_and_text(amount)
                other, other_text = _canonical_and_text(other)
                after = balances[first] + amount
                text = str(after)  # canonical(), held() and the floor in one look at the text
                if text.isdigit():  # whole, not below zero, canonical
                    held_after: Decimal | int = int(text)
                    below = False
                else:
                    after = canonical(after)
                    held_after = held(after)
                    below = after < ZERO and first in self._floored
                if not below:
                    later = balances[second] + other
                    text = str(later)
                    if text.isdigit():
                        held_later: Decimal | int = int(text)
                    else:
                        later = canonical(later)
                        held_later = held(later)
                        below = later < ZERO and second in self._floored
                    if not below:
                        if other_text == "-" + amount_text or amount_text == "-" + other_text or amount + other == ZERO:
                            by_reference = self._by_reference.get(scope)
                            if reference and by_reference is not None and reference in by_reference:
                                raise LedgerError(f"reference {reference} already posted in {scope}")
                            tail = self._tail
                            position = len(self._ids) + len(tail)
                            posting = _new_posting((posting_id, kind, unit, at, (first, amount, held_after, second, other, held_later),
                                                    scope, reference, fingerprint, memo))
                            tail.append(posting)
                            self._tail_keys.append((first, amount_text, second, other_text))
                            balances[first] = after
                            balances[second] = later
                            by_account = self._by_account
                            by_account[first].append(position)
                            by_account[second].append(position)
                            self._by_id[posting_id] = position
                            if reference:
                                if by_reference is None:
                                    by_reference = self._by_reference[scope] = {}
                                by_reference[reference] = position
                            if len(tail) >= 2 * _BATCH:
                                self._pack(_BATCH)
                            return posting
            # a problem: the general loop finds it and names it
        total = ZERO
        lines: list[Any] = []
        afters: list[Decimal] = []
        for account, amount in moves:
            if self._units.get(account) != unit:
                raise LedgerError(f"account {account} is not an open {unit} account")
            amount = canonical(amount)
            after = canonical(self._balances[account] + amount)
            if after < ZERO and account in self._floored:
                raise LedgerError(f"account {account} would go below zero")
            total += amount
            lines += (account, amount, held(after))
            afters.append(after)
        if total != ZERO:
            raise LedgerError(f"posting {posting_id} does not balance: {total}")
        if reference and reference in self._by_reference.get(scope, ()):
            raise LedgerError(f"reference {reference} already posted in {scope}")
        posting = _new_posting((posting_id, kind, unit, at, tuple(lines), scope, reference, fingerprint, memo))
        tail = self._tail
        position = len(self._ids) + len(tail)
        tail.append(posting)
        self._tail_keys.append(None)
        self._index(posting, position, afters)
        if len(tail) >= 2 * _BATCH:
            self._pack(_BATCH)
        return posting

    def _shared(self, amount: Decimal, key: str) -> Decimal:
        found = self._amounts.get(key)
        if found is None:
            found = amount
            if len(self._amounts) < 10_000:
                self._amounts[key] = amount
        return found

    def _index(self, posting: Posting, position: int, afters: list[Decimal]) -> None:
        """The balances and indexes of a posting at `position`; `afters`: its balances as Decimals."""
        balances, by_account = self._balances, self._by_account
        for account, after in zip(posting.lines[0::3], afters):
            balances[account] = after
            by_account[account].append(position)
        self._by_id[posting.id] = position
        if posting.reference:
            self._by_reference.setdefault(posting.scope, {})[posting.reference] = position

    def _pack(self, count: int) -> None:
        """File the oldest `count` postings of the tail in the columns, in bulk: a few C-level
        passes over the batch where every posting is of the usual shape, one by one otherwise."""
        tail = self._tail
        batch = tail[:count]
        if not batch:
            return
        start = len(self._ids)
        ids, kinds, units, ats, lines, scopes, refs, fingerprints, memos = zip(*batch)
        if memos.count("") != len(memos):
            self._memos.update((start + n, memo) for n, memo in enumerate(memos) if memo != "")
        codes = self._codes(list(zip(kinds, units, scopes, self._add_times(ats, start))))
        self._add_fingerprints(fingerprints, start)
        if set(map(len, lines)) == {6}:  # two lines each
            helds: list[Any] = list(chain.from_iterable(map(itemgetter(2, 5), lines)))
            self._first.extend(range(len(self._afters), len(self._afters) + len(helds), 2))
        else:
            helds = list(chain.from_iterable(line[2::3] for line in lines))
            self._first.extend(accumulate([len(line) // 3 for line in lines[:-1]], initial=len(self._afters)))
        keys = self._tail_keys[:count]
        templates = list(map(self._template_of.get, keys))
        if None in templates:
            for n, template in enumerate(templates):
                if template is None:
                    templates[n] = self._template_for(lines[n], keys[n])
        self._templates += templates
        self._add_afters(helds)
        self._meta.extend(codes)
        self._ids += ids
        self._refs += refs
        del tail[:count]
        del self._tail_keys[:count]

    def _template_for(self, lines: tuple[Any, ...], texts: tuple[Any, ...] | None) -> tuple[Any, ...]:
        """The shared template of a posting's `lines`, found by `texts` (its accounts and amounts'
        texts; None: made here), else a new one (kept while there is room)."""
        if texts is None:
            texts = tuple(chain.from_iterable(zip(lines[0::3], map(str, lines[1::3]))))
        template = self._template_of.get(texts)
        if template is None:
            made = list(chain.from_iterable(zip(lines[0::3], lines[1::3])))
            made[1::2] = map(self._shared, made[1::2], texts[1::2])
            template = tuple(made)
            if len(self._template_of) < _TEMPLATES:
                self._template_of[texts] = template
        return template

    def _codes(self, metas: Iterable[tuple[Any, Any, Any, Any]]) -> list[int]:
        """The code of each (kind, unit, scope, time zone), a new one for one not seen before: one
        pass in C (a missing meta takes the next code), where a state file's 100,000 took three."""
        meta_codes = self._meta_codes
        known = defaultdict(count(len(self._metas)).__next__, meta_codes)
        codes = list(map(known.__getitem__, metas))
        if len(known) > len(meta_codes):  # new metas follow the known ones, in the order of their codes
            self._metas += islice(known, len(meta_codes), None)
            meta_codes.update(islice(known.items(), len(meta_codes), None))
        return codes

    def _add_times(self, ats: Sequence[Any], start: int) -> list[Any]:
        """The times of the postings from `start` on, onto the column (each as the 10 bytes it
        pickles to: one C call, where microseconds since an epoch took a timedelta and a division);
        what is not a datetime, or has fold=1, is kept as odd. Gives each one's time zone."""
        if set(map(type, ats)) <= {datetime} and not any(map(attrgetter("fold"), ats)):
            self._at += _time_bytes(ats)
            return list(map(attrgetter("tzinfo"), ats))
        zones = []
        for n, at in enumerate(ats):
            if at.__class__ is datetime and not at.fold:
                self._at += at.__reduce__()[1][0]
            else:
                self._at += _NO_TIME
                self._odd_at[start + n] = at
            zones.append(at.tzinfo if at.__class__ is datetime else None)
        return zones

    def _add_afters(self, helds: list[Any]) -> None:
        """Balances as lines hold them onto the column; what it cannot hold exactly goes to the odd."""
        column = self._afters
        start = len(column)
        try:
            column.frombytes(_machine_ints("q", helds))
        except struct.error:  # a balance with a fraction (a state file's few), or beyond 64 bits
            odd = list(compress(range(len(helds)), map(is_not, map(type, helds), repeat(int))))  # the fractions, found in C
            try:
                whole = _zeroed(helds, odd)
            except OverflowError:  # beyond 64 bits too: found one by one
                odd = [i for i, held in enumerate(helds) if held.__class__ is not int or not _LOWEST < held <= _HIGHEST]
                whole = _zeroed(helds, odd)
            column.extend(whole)
            for index in odd:
                column[start + index] = _ODD
                self._odd_afters[start + index] = helds[index]
        if _ODD in helds:  # an int -2**63 itself, which the column cannot tell from odd
            self._odd_afters.update((start + n, _ODD) for n, held in enumerate(helds) if held == _ODD and held.__class__ is int)

    def _append(self, posting: Posting, afters: list[Decimal], key: tuple[str, ...]) -> None:
        """File `posting` in the columns at once and index it (a state document's replay; post()
        holds it and files it later, in bulk). `afters`: its balances as the Decimals the caller
        computed or read (the lines may hold them as ints), so no Decimal is made again; `key`:
        its accounts and amounts' texts, which pick its shared template."""
        self._pack(len(self._tail))
        posting_id, kind, unit, at, lines, scope, reference, fingerprint, memo = posting
        position = len(self._ids)
        self._meta.append(self._codes([(kind, unit, scope, *self._add_times((at,), position))])[0])
        packed = _packed(fingerprint)
        if packed is not None:
            self._fps += packed
        else:
            self._fps += _NO_FP
            if fingerprint != "" or fingerprint.__class__ is not str:
                self._odd_fps[position] = fingerprint
        template = self._template_of.get(key)
        if template is None:
            template = tuple(x for i, x in enumerate(lines) if i % 3 != 2)
            if len(self._template_of) < _TEMPLATES:
                self._template_of[key] = template
        self._templates.append(template)
        column = self._afters
        first = len(column)
        self._first.append(first)
        for balance in lines[2::3]:
            if balance.__class__ is int and _LOWEST < balance <= _HIGHEST:
                column.append(balance)
            else:
                self._odd_afters[len(column)] = balance
                column.append(_ODD)
        self._ids.append(posting_id)
        self._refs.append(reference)
        if memo != "":
            self._memos[position] = memo
        self._by_id[posting_id] = position
        balances, by_account = self._balances, self._by_account
        for account, after in zip(lines[0::3], afters):
            balances[account] = after
            by_account[account].append(position)
        if reference:
            self._by_reference.setdefault(scope, {})[reference] = position

    def _fill(self, ids: list[str], positions: list[int], by_id: dict[str, int], metas: Iterable[tuple[Any, Any, Any, Any]],
              ats: list[datetime], refs: list[str], by_reference: dict[str, dict[str, int]], fingerprints: list[str],
              memos: list[str], widths: list[int], accounts: list[str], amounts: list[str], decimal_of: dict[str, Decimal],
              helds: list[Decimal | int], lines_of: dict[str, list[int]], balances: dict[str, Decimal]) -> None:
        """The postings of a state file into an empty ledger at once, already checked by the caller
        (snapshot: each balances, each balance follows, ids and references once): the columns
        _append makes, built in bulk, a few C-level passes over each column and one step an account.
        `positions`: range(len(ids)) as a list, whose ints `by_id` (id -> position) and
        `by_reference` (scope -> reference -> position) share; `ats`: datetimes as
        datetime.fromisoformat makes them (fold 0: each fits the time column); `metas`: (kind,
        unit, scope, time zone) a posting; `amounts`: the texts (`decimal_of` gives each one's Decimal); `helds`: the
        balances as lines hold them; `lines_of`: each account's lines, in order; `balances`: each
        account's last."""
        if self._ids or self._tail:
            raise LedgerError("_fill needs an empty ledger")
        self._ids, self._refs = list(ids), list(refs)
        self._memos = dict(compress(zip(positions, memos), memos))  # only a memo that is not ""
        self._by_id = by_id
        self._meta = array("I", self._codes(metas))
        self._at += _time_bytes(ats)  # _add_times without its checks
        self._add_fingerprints(fingerprints, 0)
        for scope, table in by_reference.items():
            self._by_reference.setdefault(scope, {}).update(table)
        pairs = widths.count(2) == len(widths)  # nearly every state: one account to another
        if pairs:
            keys: Iterable[tuple[Any, ...]] = zip(accounts[0::2], amounts[0::2], accounts[1::2], amounts[1::2])
        else:
            ends = list(accumulate(widths))
            keys = [tuple(x for pair in zip(accounts[end - width:end], amounts[end - width:end]) for x in pair) for end, width in zip(ends, widths)]
        self._templates = list(map(_Templates(self._template_of, decimal_of).__getitem__, keys))
        by_account = self._by_account
        if pairs:  # the posting of line i is i // 2
            for account, lines in lines_of.items():
                by_account[account].frombytes(_machine_ints("i", list(map(rshift, lines, repeat(1)))))
            self._first = array("I", range(0, len(accounts), 2))
        else:
            owner = list(chain.from_iterable(map(repeat, positions, widths)))  # the posting of each line
            for account, lines in lines_of.items():
                by_account[account].frombytes(_machine_ints("i", list(map(owner.__getitem__, lines))))
            self._first = array("I", accumulate(widths[:-1], initial=0)) if widths else array("I")
        self._add_afters(helds)
        self._balances.update(balances)

    def _add_fingerprints(self, fingerprints: Sequence[Any], start: int) -> None:
        """Fingerprints of the postings from `start` on, onto the column: at once when every one is
        24 lower-case hex digits or "" (every one the sandbox makes), else one by one."""
        blank = "0" * (2 * _FP)
        packed = None
        if set(map(type, fingerprints)) == {str}:
            filled = [f or blank for f in fingerprints] if "" in fingerprints else fingerprints
            if set(map(len, filled)) == {2 * _FP}:
                joined = "".join(filled)
                try:
                    packed = bytes.fromhex(joined)
                except ValueError:
                    pass
                if packed is not None and packed.hex() != joined:  # whitespace, upper case: not what .hex() writes back
                    packed = None
        if packed is not None and len(packed) == _FP * len(fingerprints):
            self._fps += packed
            if blank in fingerprints:  # a real all-zero fingerprint: its bytes say "", so it is kept as odd
                self._odd_fps.update((start + n, f) for n, f in enumerate(fingerprints) if f == blank)
            return
        for n, fingerprint in enumerate(fingerprints):
            found = _packed(fingerprint)
            if found is None:
                found = _NO_FP
                if fingerprint != "" or fingerprint.__class__ is not str:
                    self._odd_fps[start + n] = fingerprint
            self._fps += found

    def _columns(self) -> dict[str, list[Any]] | None:
        """The postings as a state file's columns (snapshot.dump): text as the v2 document writes
        it; None when a value is not of the types a file's columns hold (the caller writes v2)."""
        self._pack(len(self._tail))
        if any(v.__class__ is not datetime for v in self._odd_at.values()) or any(v.__class__ is not str for v in self._odd_fps.values()):
            return None
        if any(m[0].__class__ is not str or m[1].__class__ is not str or m[2].__class__ is not str for m in self._metas):
            return None
        if any(v.__class__ is not str for v in self._refs) or any(v.__class__ is not str for v in self._memos.values()):
            return None
        metas = [self._metas[code] for code in self._meta]
        fps, odd_fps = self._fps, self._odd_fps
        ats = []
        times = self._at
        for position, meta in enumerate(metas):
            state = bytes(times[position * _TIME:(position + 1) * _TIME])
            ats.append((datetime(state, meta[3]) if state != _NO_TIME else self._odd_at[position]).isoformat())
        fingerprints = []
        for position in range(len(self._ids)):
            odd = odd_fps.get(position)
            if odd is None:
                packed = fps[position * _FP:(position + 1) * _FP]
                odd = "" if packed == _NO_FP else packed.hex()
            fingerprints.append(odd)
        accounts, amounts, widths = [], [], []
        for template in self._templates:
            widths.append(len(template) // 2)
            accounts += template[0::2]
            amounts += map(str, template[1::2])
        if any(a.__class__ is not str for a in accounts):
            return None
        odd_afters = self._odd_afters
        afters = [str(b) if b != _ODD else str(odd_afters[i]) for i, b in enumerate(self._afters)]
        return {"id": list(self._ids), "kind": [m[0] for m in metas], "unit": [m[1] for m in metas], "at": ats,
                "scope": [m[2] for m in metas], "reference": list(self._refs), "fingerprint": fingerprints, "memo": [self._memos.get(p, "") for p in range(len(self._ids))],
                "lines": widths, "account": accounts, "amount": amounts, "balance_after": afters}

    def _view(self, position: int) -> Posting:
        """The posting at `position`: as posted (the tail), kept, or built from the columns."""
        packed = len(self._ids)
        if position >= packed:
            return self._tail[position - packed]
        posting = self._views.get(position)
        if posting is None:
            posting = self._build(position)
            if len(self._views) >= _VIEWS:
                self._views.clear()
            self._views[position] = posting
        return posting

    def _build(self, position: int) -> Posting:
        kind, unit, scope, zone = self._metas[self._meta[position]]
        state = bytes(self._at[position * _TIME:(position + 1) * _TIME])
        at = datetime(state, zone) if state != _NO_TIME else self._odd_at[position]
        template, first, afters = self._templates[position], self._first[position], self._afters
        if len(template) == 4:
            before, after = afters[first], afters[first + 1]
            if before == _ODD:
                before = self._odd_afters[first]
            if after == _ODD:
                after = self._odd_afters[first + 1]
            lines = (template[0], template[1], before, template[2], template[3], after)
        else:
            items: list[Any] = []
            for i in range(0, len(template), 2):
                balance = afters[first + i // 2]
                items += (template[i], template[i + 1], balance if balance != _ODD else self._odd_afters[first + i // 2])
            lines = tuple(items)
        fingerprint = self._odd_fps.get(position, _NO_FP)  # an odd one may be None itself
        if fingerprint is _NO_FP:
            packed = self._fps[position * _FP:(position + 1) * _FP]
            fingerprint = "" if packed == _NO_FP else packed.hex()
        return _new_posting((self._ids[position], kind, unit, at, lines, scope, self._refs[position], fingerprint, self._memos.get(position, "")))

    def by_reference(self, scope: str, reference: str) -> Posting | None:
        position = self._by_reference.get(scope, {}).get(reference)
        return None if position is None else self._view(position)

    def by_id(self, posting_id: str) -> Posting | None:
        position = self._by_id.get(posting_id)
        return None if position is None else self._view(position)

    def position(self, posting_id: str) -> int:
        """Order of posting: later postings have higher positions."""
        return self._by_id[posting_id]

    def history(self, account: str, newest_first: bool = True) -> Iterator[Posting]:
        positions = self._by_account.get(account, ())
        return map(self._view, reversed(positions) if newest_first else iter(positions))

    def newest_first(self, accounts: list[str], skip: int = 0) -> Iterator[tuple[int, Posting]]:
        """(index in `accounts`, posting) over these accounts' histories merged, newest first (a
        posting of two of them once for each, in the order given), after the first `skip`: one
        account's is read at its place, several are merged lazily, so a page costs its own rows."""
        view = self._view
        if len(accounts) == 1:
            positions = self._by_account.get(accounts[0], ())
            return ((0, view(positions[i])) for i in range(len(positions) - 1 - skip, -1, -1))
        streams = [_newest(self._by_account.get(account, ()), n) for n, account in enumerate(accounts)]
        return islice(((n, view(-negative)) for negative, n in heapq.merge(*streams)), skip, None)

    def postings_of(self, account: str, indices: Iterable[int]) -> list[Posting]:
        """The account's postings at these places in its own history (0: its first): a page, or
        a chart's samples, without walking the rest of a long history."""
        positions = self._by_account.get(account, ())
        return [self._view(positions[i]) for i in indices]

    def count(self, account: str) -> int:
        return len(self._by_account.get(account, ()))

    def accounts(self) -> dict[str, str]:
        return dict(self._units)

    def total(self, unit: str) -> Decimal:
        return sum((b for a, b in self._balances.items() if self._units[a] == unit), ZERO)

    def replayed_balances(self) -> dict[str, Decimal]:
        """Balances recomputed from the entries alone; equal to the cache when all is well."""
        self._pack(len(self._tail))
        balances = {account: ZERO for account in self._units}
        for template in self._templates:
            for i in range(0, len(template), 2):
                balances[template[i]] += template[i + 1]
        return balances
