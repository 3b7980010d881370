"""What an account and its cards hold and have done: account details (counters, balances),
card search and the card-transaction history. Reads only: nothing here writes to the store.

Transaction queries are narrowed through the ledger's indexes (by reference, by posting id, by
card) before any filter runs, so their cost follows the cards asked about, not the ledger's size.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from operator import attrgetter
from itertools import islice
from typing import Iterable, Iterator, NamedTuple, cast

from sandbox.state.ledger import Entry, Ledger, Posting, canonical
from sandbox.state.per_store import PerStore
from sandbox.state.store import Card, CardAccount, Store
from sandbox.domain.cards import month_key
from sandbox.domain.rewards import CREDIT, DEBIT, account_of, card_of, transaction_status


def search_cards(store: Store, partner_id: str, company_id: str, card_account_id: str, card_id: str | None) -> list[Card]:
    account = account_of(store, partner_id, company_id, card_account_id)
    if card_id:
        return [card_of(store, partner_id, company_id, card_id, account.card_account_id)]
    return list(store.iter_cards(account.card_account_id))


class AccountView(NamedTuple):
    account: CardAccount
    company_name: str
    available_balance: Decimal
    card_balance: Decimal
    total_cards: int
    active_cards: int
    month_allocation: Decimal
    month_redemption: Decimal

    @property
    def used_credit_limit(self) -> Decimal:
        """-(availableBalance + availableCardBalance): the docs' one example (api-9796909) holds it
        to the paisa (-990553.44 = -(898138 + 92415.44)), so it is derived, never stored."""
        return canonical(-(self.available_balance + self.card_balance))


def account_details(store: Store, partner_id: str, company_id: str, card_account_id: str) -> AccountView:
    account = account_of(store, partner_id, company_id, card_account_id)
    cards = _ACCOUNT_CARDS.of(store, account.card_account_id)
    month = account.monthly.get(month_key(store.now()), [Decimal(0), Decimal(0)])
    return AccountView(
        account, store.companies[company_id].name, store.balance(account.card_account_id),
        cards.balance, cards.count, cards.active, month[0], month[1],
    )


class _Cards:
    """What an account's cards hold together, as of the ledger's length `postings` and the
    account's `count` cards: their balances' sum and how many are ACTIVE."""

    __slots__ = ("postings", "count", "members", "balance", "active")

    def __init__(self, postings: int, count: int, members: frozenset[str], balance: Decimal, active: int) -> None:
        self.postings, self.count, self.members, self.balance, self.active = postings, count, members, balance, active


class AccountCards:
    """cardAccount/get's sums over an account's cards, without a step per card on each request.
    A balance moves only by a posting, and postings never change: the sum is kept per account
    with the ledger's length when it was made, and brought up to date by the postings made since
    (their lines on the account's cards), or made again when those are more than the cards. A
    new card (the account's count of cards) makes it again; so does a new store (reset, restore).
    A card's status is set when it is issued (fixtures) and no call of the API changes it, so the
    count of ACTIVE cards is kept with the rest."""

    def __init__(self) -> None:
        self._accounts: PerStore[dict[str, _Cards]] = PerStore(dict)

    def of(self, store: Store, card_account_id: str) -> _Cards:
        accounts = self._accounts.of(store)
        ids, now = store.cards_of_account(card_account_id), len(store.ledger.postings)
        kept = accounts.get(card_account_id)
        if kept is not None and kept.count == len(ids) and now - kept.postings <= len(ids):
            if kept.postings != now:
                kept.balance = _moved(store.ledger, kept.members, kept.postings, now, kept.balance)
                kept.postings = now
            return kept
        cards = list(map(store.cards.__getitem__, ids))
        kept = accounts[card_account_id] = _Cards(
            now, len(ids), frozenset(ids), sum(map(store.balance, ids), Decimal(0)), list(map(_STATUS, cards)).count("ACTIVE"))
        return kept


def _moved(ledger: Ledger, members: frozenset[str], start: int, stop: int, balance: Decimal) -> Decimal:
    """`balance` plus what the postings at [start, stop) moved on the accounts `members`."""
    for posting in ledger.postings[start:stop]:
        lines = posting.lines
        for i in range(0, len(lines), 3):
            if lines[i] in members:
                balance += lines[i + 1]  # type: ignore[operator]
    return balance


_ACCOUNT_CARDS = AccountCards()
_STATUS = attrgetter("status")


class TransactionQuery(NamedTuple):
    company_id: str
    card_account_id: str  # required by the request schema (transaction-all.request.json)
    card_id: str | None = None
    user_id: str | None = None
    references: tuple[str, ...] = ()
    transaction_ids: tuple[str, ...] = ()
    direction: str | None = None
    amount_from: Decimal | None = None
    amount_to: Decimal | None = None
    date_from: object | None = None
    date_to: object | None = None
    status: str | None = None
    holder_name: str | None = None
    company_name: str | None = None


class CardTransaction(NamedTuple):
    """One row of a card's history: the posting as `card` saw it. Its side (amount, direction,
    balance after) is worked out when asked for, so a page costs what its rows cost to read."""

    posting: Posting
    card: Card

    @property
    def entry(self) -> Entry:
        return self.posting.entry_for(self.card.card_id)

    @property
    def amount(self) -> Decimal:
        return abs(self.entry.amount)

    @property
    def direction(self) -> str:
        return CREDIT if self.entry.amount > 0 else DEBIT

    @property
    def balance_after(self) -> Decimal:
        return self.entry.balance_after


_row = partial(tuple.__new__, CardTransaction)  # CardTransaction(posting, card) without NamedTuple's __new__: a page makes hundreds


class HistoryPage:
    """A page that is one run of one card's own history, newest first: the postings at places
    [start, stop) of it (0: the card's first posting). A history only grows at its end, so the same
    card and places always hold the same postings: a reader may keep what it made of them under
    that name. Its rows are read from the ledger only when iterated."""

    __slots__ = ("ledger", "card", "start", "stop")

    def __init__(self, ledger: Ledger, card: Card, start: int, stop: int) -> None:
        self.ledger, self.card, self.start, self.stop = ledger, card, start, stop

    def postings(self) -> list[Posting]:
        return self.ledger.postings_of(self.card.card_id, range(self.stop - 1, self.start - 1, -1))

    def __len__(self) -> int:
        return self.stop - self.start

    def __iter__(self) -> Iterator[CardTransaction]:
        card = self.card
        return (_row((posting, card)) for posting in self.postings())


def transactions(store: Store, partner_id: str, query: TransactionQuery, offset: int, limit: int) -> tuple[int, list[CardTransaction] | HistoryPage]:
    """Card transactions matching every given filter, newest first, and how many match in all.

    Narrowed through an index: by reference or posting id, else by card. Which cards take part is
    decided once per card (account, card, user, holder's name); only the filters of a row
    (direction, amount, dates, status) are tested per row, and without them the count is the
    histories' lengths and the page is read at its place: the cost follows the page, not the
    history; one card's page is a HistoryPage, read when iterated. The request schema requires
    cardAccountId, so every query names an account of the company."""
    account_of(store, partner_id, query.company_id, query.card_account_id)
    if query.company_name and query.company_name.lower() not in store.companies[query.company_id].name.lower():
        return 0, []  # every row is the company's: its name decides for all of them
    if query.references or query.transaction_ids:
        matches = [t for t in _by_ids(store, partner_id, query) if _card_matches(store, query, t.card) and _row_matches(store, query, t)]
        return len(matches), matches[offset: offset + limit]
    cards = _cards(store, query)
    ledger = store.ledger
    if not _row_filtered(query):
        if len(cards) == 1:
            total = ledger.count(cards[0].card_id)
            return total, HistoryPage(ledger, cards[0], max(total - offset - limit, 0), max(total - offset, 0))
        total = sum(ledger.count(card.card_id) for card in cards)
        rows = ledger.newest_first([card.card_id for card in cards], offset)
        return total, [_row((posting, cards[i])) for i, posting in islice(rows, limit)]
    total, page, end = 0, [], offset + limit
    for i, posting in ledger.newest_first([card.card_id for card in cards]):
        txn = CardTransaction(posting, cards[i])
        if _row_matches(store, query, txn):
            if offset <= total < end:
                page.append(txn)
            total += 1
    return total, page


def _by_ids(store: Store, partner_id: str, query: TransactionQuery) -> Iterable[CardTransaction]:
    found = [store.ledger.by_reference(partner_id, r) for r in query.references]
    found += [store.ledger.by_id(i) for i in query.transaction_ids]
    postings = sorted({p.id: p for p in found if p is not None}.values(), key=lambda p: store.ledger.position(p.id), reverse=True)
    return (t for p in postings for t in _card_sides(store, p))


def _cards(store: Store, query: TransactionQuery) -> list[Card]:
    """The cards whose histories answer the query: in the account, and the card, user and holder asked for."""
    if query.card_id:
        card = store.cards.get(query.card_id)  # a card id the store does not know has no rows
        found = [] if card is None else [card]
    else:
        found = [store.cards[c] for c in store.cards_of_account(query.card_account_id)]
    return [card for card in found if _card_matches(store, query, card)]


def _card_sides(store: Store, posting: Posting) -> list[CardTransaction]:
    """One row per card the posting moves."""
    cards = store.cards
    accounts = cast("tuple[str, ...]", posting.lines[::3])  # lines: account, amount, balance_after, ...
    return [CardTransaction(posting, cards[a]) for a in accounts if a in cards]


def _row_filtered(query: TransactionQuery) -> bool:
    return bool(query.direction or query.amount_from is not None or query.amount_to is not None
                or query.date_from is not None or query.date_to is not None or query.status)


def _card_matches(store: Store, query: TransactionQuery, card: Card) -> bool:
    """The filters that hold for a card's every row or none of them."""
    if card.card_account_id != query.card_account_id:  # the account is the company's (account_of): no company test
        return False
    if query.card_id and card.card_id != query.card_id:
        return False
    if query.user_id and card.user_id != query.user_id:
        return False
    return not query.holder_name or query.holder_name.lower() in store.users[card.user_id].first_name.lower()


def _row_matches(store: Store, query: TransactionQuery, txn: CardTransaction) -> bool:
    """Every filter of a row holds (plain tests: this runs once per candidate row)."""
    at = txn.posting.at
    if query.direction and txn.direction != query.direction:
        return False
    if query.amount_from is not None and txn.amount < query.amount_from:
        return False
    if query.amount_to is not None and txn.amount > query.amount_to:
        return False
    if query.date_from is not None and at < query.date_from:  # type: ignore[operator]
        return False
    if query.date_to is not None and at > query.date_to:  # type: ignore[operator]
        return False
    return not query.status or query.status.upper() == transaction_status(store, txn.posting.id)
