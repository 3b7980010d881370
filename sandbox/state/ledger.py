"""Append-only, zero-sum ledger: balances are derived from postings, never set.

Every posting's entries sum to zero per unit, so the sum of all balances of a unit is always
zero (system accounts like `world` carry the other side). Floored accounts never go negative.
Per-account and per-reference indexes keep lookups independent of the ledger's size.
"""

from __future__ import annotations

import heapq
from datetime import datetime
from itertools import islice
from decimal import Decimal
from typing import Iterable, Iterator, NamedTuple

ZERO = Decimal(0)


def canonical(value: Decimal) -> Decimal:
    """The amount as EnKash prints it (898138, 92415.44): no trailing zeros, no exponent, no -0;
    11.0 -> 11, 1E+2 -> 100. Exact: digits are moved, never rounded by a context."""
    text = str(value)  # C; as_tuple() builds a named tuple in Python: this runs several times a request
    if "E" not in text and (text[-1] != "0" or "." not in text) and text != "-0":
        return value  # already canonical (nearly every amount), or not finite
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
        lines = self.lines
        for i in range(0, len(lines), 3):
            if lines[i] == account:
                return Entry(lines[i], lines[i + 1], _decimal(lines[i + 2]))  # type: ignore[arg-type]
        raise KeyError(account)

    def decimal_lines(self) -> tuple[str | Decimal, ...]:
        """`lines` with every balance_after a Decimal (what a state document writes)."""
        lines = list(self.lines)
        lines[2::3] = [_decimal(b) for b in lines[2::3]]  # type: ignore[arg-type]
        return tuple(lines)


def _newest(positions: list[int], n: int) -> Iterator[tuple[int, int]]:
    """One account's history for heapq.merge: (-position, its index), newest first."""
    return ((-p, n) for p in reversed(positions))


class Ledger:
    def __init__(self) -> None:
        self.postings: list[Posting] = []
        self._balances: dict[str, Decimal] = {}
        self._units: dict[str, str] = {}
        self._floored: set[str] = set()
        self._by_account: dict[str, list[int]] = {}
        self._by_reference: dict[str, dict[str, int]] = {}  # scope -> reference -> position
        self._by_id: dict[str, int] = {}
        # one Decimal object per distinct amount text (partners repeat amounts): ~200 bytes less
        # per posting; keyed by the text, so 1 and 1.00 stay distinct
        self._amounts: dict[str, Decimal] = {}

    def open(self, account: str, unit: str, floored: bool = True) -> None:
        if account in self._units:
            raise LedgerError(f"account {account} is already open")
        self._units[account] = unit
        self._balances[account] = ZERO
        self._by_account[account] = []
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
        moves = list(moves)
        total = ZERO
        lines: list[str | Decimal] = []
        afters: list[Decimal] = []
        for account, amount in moves:
            if self._units.get(account) != unit:
                raise LedgerError(f"account {account} is not an open {unit} account")
            amount = canonical(amount)
            after = canonical(self._balances[account] + amount)
            if after < ZERO and account in self._floored:
                raise LedgerError(f"account {account} would go below zero")
            total += amount
            lines += (account, self._shared(amount), held(after))
            afters.append(after)
        if total != ZERO:
            raise LedgerError(f"posting {posting_id} does not balance: {total}")
        if reference and reference in self._by_reference.get(scope, ()):
            raise LedgerError(f"reference {reference} already posted in {scope}")
        posting = Posting(posting_id, kind, unit, at, tuple(lines), scope, reference, fingerprint, memo)
        self._append(posting, afters)
        return posting

    def _shared(self, amount: Decimal) -> Decimal:
        key = str(amount)
        found = self._amounts.get(key)
        if found is None:
            found = amount
            if len(self._amounts) < 10_000:
                self._amounts[key] = amount
        return found

    def _append(self, posting: Posting, afters: list[Decimal]) -> None:
        """Index `posting`; `afters`: its balances as the Decimals the caller computed or read (the
        lines may hold them as ints), so no Decimal is made again."""
        position = len(self.postings)
        self.postings.append(posting)
        self._by_id[posting.id] = position
        for account, after in zip(posting.lines[0::3], afters):
            self._balances[account] = after  # type: ignore[index]
            self._by_account[account].append(position)  # type: ignore[index]
        if posting.reference:
            self._by_reference.setdefault(posting.scope, {})[posting.reference] = position

    def by_reference(self, scope: str, reference: str) -> Posting | None:
        position = self._by_reference.get(scope, {}).get(reference)
        return None if position is None else self.postings[position]

    def by_id(self, posting_id: str) -> Posting | None:
        position = self._by_id.get(posting_id)
        return None if position is None else self.postings[position]

    def position(self, posting_id: str) -> int:
        """Order of posting: later postings have higher positions."""
        return self._by_id[posting_id]

    def history(self, account: str, newest_first: bool = True) -> Iterator[Posting]:
        positions = self._by_account.get(account, [])
        ordered = reversed(positions) if newest_first else iter(positions)
        return (self.postings[p] for p in ordered)

    def newest_first(self, accounts: list[str], skip: int = 0) -> Iterator[tuple[int, Posting]]:
        """(index in `accounts`, posting) over these accounts' histories merged, newest first (a
        posting of two of them once for each, in the order given), after the first `skip`: one
        account's is read at its place, several are merged lazily, so a page costs its own rows."""
        if len(accounts) == 1:
            positions = self._by_account.get(accounts[0], [])
            postings = self.postings
            return ((0, postings[positions[i]]) for i in range(len(positions) - 1 - skip, -1, -1))
        streams = [_newest(self._by_account.get(account, []), n) for n, account in enumerate(accounts)]
        return islice(((n, self.postings[-negative]) for negative, n in heapq.merge(*streams)), skip, None)

    def postings_of(self, account: str, indices: Iterable[int]) -> list[Posting]:
        """The account's postings at these places in its own history (0: its first): a page, or
        a chart's samples, without walking the rest of a long history."""
        positions = self._by_account.get(account, [])
        return [self.postings[positions[i]] for i in indices]

    def count(self, account: str) -> int:
        return len(self._by_account.get(account, ()))

    def accounts(self) -> dict[str, str]:
        return dict(self._units)

    def total(self, unit: str) -> Decimal:
        return sum((b for a, b in self._balances.items() if self._units[a] == unit), ZERO)

    def replayed_balances(self) -> dict[str, Decimal]:
        """Balances recomputed from the entries alone; equal to the cache when all is well."""
        balances = {account: ZERO for account in self._units}
        for posting in self.postings:
            lines = posting.lines
            for i in range(0, len(lines), 3):
                balances[lines[i]] += lines[i + 1]  # type: ignore[index,operator]
        return balances
