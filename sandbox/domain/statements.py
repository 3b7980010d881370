"""What an account and its cards hold and have done: account details (counters, balances),
card search and the card-transaction history. Reads only: nothing here writes to the store.

Transaction queries are narrowed through the ledger's indexes (by reference, by posting id, by
card) before any filter runs, so their cost follows the cards asked about, not the ledger's size.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable, NamedTuple, cast

from sandbox.state.ledger import Posting, canonical
from sandbox.state.store import Card, CardAccount, Store
from sandbox.domain.rewards import CREDIT, DEBIT, account_of, card_of, month_key, transaction_status


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
    card_balance, total, active = Decimal(0), 0, 0
    for card in store.iter_cards(account.card_account_id):
        card_balance += store.balance(card.card_id)
        total += 1
        active += card.status == "ACTIVE"
    month = account.monthly.get(month_key(store.now()), [Decimal(0), Decimal(0)])
    return AccountView(
        account, store.companies[company_id].name, store.balance(account.card_account_id),
        card_balance, total, active, month[0], month[1],
    )


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
    posting: Posting
    card: Card
    amount: Decimal
    direction: str
    balance_after: Decimal


def transactions(store: Store, partner_id: str, query: TransactionQuery, offset: int, limit: int) -> tuple[int, list[CardTransaction]]:
    """Card transactions matching every given filter, newest first; narrowed through an index.

    The request schema requires cardAccountId, so every query names an account of the company."""
    account_of(store, partner_id, query.company_id, query.card_account_id)
    if query.company_name and query.company_name.lower() not in store.companies[query.company_id].name.lower():
        return 0, []  # every row is the company's: its name decides for all of them
    candidates = _candidates(store, partner_id, query)
    matches = [t for t in candidates if _matches(store, query, t)]
    return len(matches), matches[offset: offset + limit]


def _candidates(store: Store, partner_id: str, query: TransactionQuery) -> Iterable[CardTransaction]:
    if query.references or query.transaction_ids:
        found = [store.ledger.by_reference(partner_id, r) for r in query.references]
        found += [store.ledger.by_id(i) for i in query.transaction_ids]
        postings = sorted({p.id: p for p in found if p is not None}.values(), key=lambda p: store.ledger.position(p.id), reverse=True)
        return (t for p in postings for t in _card_sides(store, p))
    if query.card_id:
        card_ids: list[str] = [query.card_id]
    elif query.user_id:
        card_ids = [c for c in store.cards_of_account(query.card_account_id) if store.cards[c].user_id == query.user_id]
    else:
        card_ids = store.cards_of_account(query.card_account_id)
    out: list[CardTransaction] = []
    for card_id in card_ids:
        card = store.cards.get(card_id)
        if card is not None:  # a card id the store does not know (or another ledger account's) has no rows
            out += [_card_side(p, card) for p in store.ledger.history(card_id)]
    if len(card_ids) > 1:
        out.sort(key=lambda t: store.ledger.position(t.posting.id), reverse=True)
    return out


def _card_sides(store: Store, posting: Posting) -> list[CardTransaction]:
    """One row per card the posting moves."""
    cards = store.cards
    accounts = cast("tuple[str, ...]", posting.lines[::3])  # lines: account, amount, balance_after, ...
    return [_card_side(posting, cards[a]) for a in accounts if a in cards]


def _card_side(posting: Posting, card: Card) -> CardTransaction:
    """The posting as `card` saw it."""
    entry = posting.entry_for(card.card_id)
    return CardTransaction(posting, card, abs(entry.amount), CREDIT if entry.amount > 0 else DEBIT, entry.balance_after)


def _matches(store: Store, query: TransactionQuery, txn: CardTransaction) -> bool:
    """Every filter the query gives holds (plain tests: this runs once per candidate row)."""
    card, at = txn.card, txn.posting.at
    if card.card_account_id != query.card_account_id:  # the account is the company's (account_of): no company test
        return False
    if query.card_id and card.card_id != query.card_id:
        return False
    if query.user_id and card.user_id != query.user_id:
        return False
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
    if query.status and query.status.upper() != transaction_status(store, txn.posting.id):
        return False
    return not query.holder_name or query.holder_name.lower() in store.users[card.user_id].first_name.lower()
