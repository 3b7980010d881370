"""Users and their reward cards: creation, the card's public face (masked number, token), and
what spending from a card does (one posting to the redeemed account, counted on the card account).
Shared by the products (rewards, redemption) so that neither imports the other."""

from __future__ import annotations

import functools
from datetime import datetime
from decimal import Decimal

from sandbox.domain import errors
from sandbox.state.ledger import Posting, canonical
from sandbox.state.store import POINT, REDEEMED, Card, CardAccount, Store, User

REDEEM, REFUND = "REDEEM", "REFUND"  # posting kinds of a card holder's spend and of its reversal


def masked_number(mobile: str) -> str:
    """Reward cards show 12 X's and the last four digits, which match the holder's mobile
    in the one documented example (docs/enkash-api.md#values, inference from one data point)."""
    return "XXXX XXXX XXXX " + (mobile[-4:] if len(mobile) >= 4 else mobile.rjust(4, "0"))


def issue(store: Store, user: User, card_account_id: str, card_id: str | None = None, token: str | None = None) -> Card:
    card = Card(
        card_id or store.new_id("card"),
        user.user_id,
        card_account_id,
        token or store.new_id("card_token"),
        masked_number(user.mobile),
    )
    store.add_card(card)
    return card


def create_user(store: Store, company_id: str, email: str, mobile: str, title: str, first_name: str, gender: str) -> User:
    user = User(store.new_id("user"), company_id, email, mobile, title, first_name, gender)
    store.add_user(user)
    return user


class Enrolment:
    """create_user then issue, for many new holders of one account (a bulk upload's): the id
    draws looked up once; ids drawn in the same order (user, card, token)."""

    __slots__ = ("store", "company_id", "card_account_id", "user_id", "card_id", "token")

    def __init__(self, store: Store, company_id: str, card_account_id: str) -> None:
        self.store, self.company_id, self.card_account_id = store, company_id, card_account_id
        self.user_id, self.card_id, self.token = store.id_drawer("user"), store.id_drawer("card"), store.id_drawer("card_token")

    def __call__(self, email: str, mobile: str, title: str, first_name: str, gender: str) -> tuple[User, Card]:
        user = User(self.user_id(), self.company_id, email, mobile, title, first_name, gender)
        card = Card(self.card_id(), user.user_id, self.card_account_id, self.token(), masked_number(mobile))
        self.store.add_user(user)
        self.store.add_card(card)
        return user, card


# --- balances and the monthly counters ---------------------------------------------------------
def check_funds(store: Store, account: str, amount: Decimal) -> None:
    if store.balance(account) < amount:
        raise errors.InsufficientBalance()


def month_key(moment: datetime) -> str:
    """"YYYY-MM" of the sandbox clock (UTC), the key of the monthly counters."""
    return _month_key(moment.year, moment.month)


@functools.lru_cache(maxsize=64)
def _month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def month_counters(account: CardAccount, key: str) -> list[Decimal]:
    """[allocated, redeemed] of the account in the month `key`."""
    return account.monthly.setdefault(key, [Decimal(0), Decimal(0)])


# --- spending from a card -----------------------------------------------------------------------
def redeem(
    store: Store, card: Card, amount: Decimal, scope: str = "", reference: str = "", fingerprint: str = "",
    memo: str = "sandbox redemption",
) -> Posting:
    """What a card holder's purchase in EnKash's reward store does to the card: one posting from
    the card to the redeemed account, counted in the account's redemption counters. Checked first,
    so a refusal changes nothing."""
    if card.status != "ACTIVE":
        raise errors.CardInactive()
    check_funds(store, card.card_id, amount)
    now = store.now()
    posting = store.ledger.post(
        store.new_id("card_txn"), REDEEM, POINT, now, [(card.card_id, -amount), (REDEEMED, amount)],
        scope=scope, reference=reference, fingerprint=fingerprint, memo=memo,
    )
    _count(store, card, amount, now)
    return posting


def refund(store: Store, card: Card, spent: Posting, scope: str = "", memo: str = "") -> Posting:
    """The reverse of a redemption that was not delivered: the points go back to the card (a second
    posting, the first stays) and the redemption counters of the spend's month lose it again."""
    amount = -spent.entry_for(card.card_id).amount
    posting = store.ledger.post(
        store.new_id("card_txn"), REFUND, POINT, store.now(), [(REDEEMED, -amount), (card.card_id, amount)],
        scope=scope, reference=spent.reference, memo=memo,
    )
    _count(store, card, -amount, spent.at)
    return posting


def _count(store: Store, card: Card, amount: Decimal, moment: datetime) -> None:
    account = store.accounts[card.card_account_id]
    account.total_redemption = canonical(account.total_redemption + amount)
    month = month_counters(account, month_key(moment))
    month[1] = canonical(month[1] + amount)
