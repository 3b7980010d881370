"""EnKash coins (docs/enkash-api.md#coins): event configurations, allocation, FIFO lots, expiry, spend.

Coins are whole numbers held in the ledger (unit COIN): a user's account `coin:<userId>` and the
system accounts issued/expired/spent, so the COIN total is always zero. Lots record which coins
were earned when; they expire lazily, from the sandbox clock, before any read or write of the
user's coins, so an advanced clock shows expired coins at once. Every rule is checked before
anything is written, and a `requestId` is bound to the partner's first request with it.
"""

from __future__ import annotations

from typing import NamedTuple

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from sandbox.state.ledger import Posting
from sandbox.state.store import COIN, COINS_EXPIRED, COINS_ISSUED, COINS_SPENT, CoinConfig, CoinLot, Company, Promotion, Store, User, coin_account
from sandbox.domain import errors

ALLOCATE, OPENING, EXPIRE, SPEND = "COIN_ALLOCATE", "COIN_OPENING", "COIN_EXPIRE", "COIN_SPEND"
ONE = Decimal(1)


def scope(partner_id: str) -> str:
    """requestIds live in their own namespace per partner, apart from uniqueReferenceNumbers."""
    return "coins:" + partner_id


# --- event configurations (PTS-1..3) ----------------------------------------------------------
def company_of(store: Store, partner_id: str, company_id: str) -> Company:
    company = store.company_of_partner(partner_id, company_id)
    if company is None:
        raise errors.CompanyNotFound(company_id=company_id)
    return company


def create_config(store: Store, partner_id: str, company_id: str, configuration: str, event: str, amount: int) -> CoinConfig:
    company_of(store, partner_id, company_id)
    _check_free(store, company_id, event)
    config = CoinConfig(store.new_id("coin_config"), company_id, configuration, event, amount)
    store.add_coin_config(config)
    return config


def config_of(store: Store, partner_id: str, coin_config_id: str) -> CoinConfig:
    """The configuration, if it belongs to one of the partner's companies: others do not exist."""
    config = store.coin_configs.get(coin_config_id)
    if config is None or store.company_of_partner(partner_id, config.company_id) is None:
        raise errors.CoinConfigNotFound(coin_config_id=coin_config_id)
    return config


class ConfigChanges(NamedTuple):
    """A PATCH: only the fields given change."""

    amount: int | None = None
    configuration: str | None = None
    company_id: str | None = None
    event: str | None = None


def update_config(store: Store, partner_id: str, coin_config_id: str, changes: ConfigChanges) -> CoinConfig:
    config = config_of(store, partner_id, coin_config_id)
    company_id = changes.company_id or config.company_id
    event = changes.event or config.event
    if (company_id, event) != (config.company_id, config.event):
        company_of(store, partner_id, company_id)
        _check_free(store, company_id, event)
    if changes.amount is not None:
        config.amount = changes.amount
    if changes.configuration is not None:
        config.configuration = changes.configuration
    if (company_id, event) != (config.company_id, config.event):
        store.move_coin_config(config, company_id, event)
    return config


def _check_free(store: Store, company_id: str, event: str) -> None:
    existing = store.coin_config_for(company_id, event)
    if existing is not None:
        raise errors.CoinConfigExists(event=event, company_id=company_id, coin_config_id=existing.coin_config_id)


# --- users ------------------------------------------------------------------------------------
def user_of(store: Store, partner_id: str, user_id: str) -> User:
    """The user, if they belong to one of the partner's companies: others do not exist."""
    user = store.users.get(user_id)
    if user is None or store.company_of_partner(partner_id, user.company_id) is None:
        raise errors.UserNotFound(user_id=user_id)
    return user


def any_user(store: Store, user_id: str) -> User:
    """The sandbox's own API sees every partner's users."""
    user = store.users.get(user_id)
    if user is None:
        raise errors.UserNotFound(user_id=user_id)
    return user


# --- allocation (PTS-4) -----------------------------------------------------------------------
class CoinAllocation(NamedTuple):
    company_id: str
    event: str
    request_id: str
    user_id: str
    fingerprint: str
    replay: bool = True  # duplicate_reference=refuse: False, every repeat is refused


class CoinsAllocated(NamedTuple):
    posting: Posting
    replayed: bool = False


def allocate_coins(store: Store, partner_id: str, request: CoinAllocation) -> CoinsAllocated:
    requests = scope(partner_id)
    first = store.ledger.by_reference(requests, request.request_id)
    if first is not None:
        if not request.replay:
            raise errors.RequestIdReused(request_id=request.request_id)
        if first.fingerprint != request.fingerprint:
            raise errors.DuplicateRequestId(request_id=request.request_id)
        return CoinsAllocated(first, replayed=True)
    company = company_of(store, partner_id, request.company_id)
    user = user_of(store, partner_id, request.user_id)
    if user.company_id != company.company_id:
        raise errors.UserNotInCompany(user_id=user.user_id, company_id=company.company_id)
    config = store.coin_config_for(company.company_id, request.event)
    if config is None:
        raise errors.CoinEventNotConfigured(event=request.event, company_id=company.company_id)
    now = store.now()  # one reading for the whole allocation: expiries, promotions and the posting
    settle(store, user.user_id, now)
    multiplier = promotion_multiplier(company.promotions, request.event, now)
    coins = credited(config.amount, multiplier)
    posting = _credit(
        store, company, user.user_id, ALLOCATE, coins, request.event, request.request_id, multiplier,
        scope=requests, fingerprint=request.fingerprint, now=now,
    )
    return CoinsAllocated(posting)


def promotion_multiplier(promotions: list[Promotion], event: str, now: datetime) -> Decimal:
    """The largest multiplier of the event's promotions running now (starts <= now < ends); 1 if none.
    Overlapping promotions do not compound."""
    running = [p.multiplier for p in promotions if p.event == event and p.starts <= now < p.ends]
    return max(running, default=ONE)


def credited(amount: int, multiplier: Decimal) -> Decimal:
    """Coins are whole: a promoted amount is rounded down (a fraction of a coin is never granted).
    Without a promotion (multiplier ONE itself) a whole amount as it is: what the product would give."""
    if multiplier is ONE and amount.__class__ is int:
        return Decimal(amount)
    return (Decimal(amount) * multiplier).quantize(ONE, rounding=ROUND_DOWN)


def grant_opening(store: Store, user: User, coins: int) -> None:
    """A fixture's opening balance: one lot earned now, expiring by the company's validity."""
    if coins:
        _credit(store, store.companies[user.company_id], user.user_id, OPENING, Decimal(coins), "", "", ONE)


def _credit(
    store: Store, company: Company, user_id: str, kind: str, coins: Decimal, event: str, request_id: str,
    multiplier: Decimal, scope: str = "", fingerprint: str = "", now: datetime | None = None,
) -> Posting:
    if now is None:
        now = store.now()
    posting = store.ledger.post(
        store.new_id("card_txn"), kind, COIN, now, [(COINS_ISSUED, -coins), (coin_account(user_id), coins)],
        scope=scope, reference=request_id, fingerprint=fingerprint, memo=event,
    )
    if coins:
        days = company.coin_validity_days
        expires = now + timedelta(days) if days else None
        store.add_coin_lot(CoinLot(
            posting.id, user_id, now, expires, coins, coins, event=event, request_id=request_id, multiplier=multiplier,
        ))
    return posting


# --- balance (PTS-5), expiry and spend ----------------------------------------------------------
def balance(store: Store, partner_id: str, user_id: str) -> int:
    user = user_of(store, partner_id, user_id)
    settle(store, user.user_id)
    return int(store.balance(coin_account(user.user_id)))


def settle(store: Store, user_id: str, now: datetime | None = None) -> list[Posting]:
    """Expire every lot whose time has come (by `now`, else the clock's), one posting per lot
    dated at its expiry."""
    postings = []
    for lot in _due(store, user_id, now):
        assert lot.expires_at is not None
        postings.append(store.ledger.post(
            store.new_id("card_txn"), EXPIRE, COIN, lot.expires_at,
            [(coin_account(user_id), -lot.remaining), (COINS_EXPIRED, lot.remaining)], memo=lot.lot_id,
        ))
        lot.expired, lot.remaining = lot.remaining, Decimal(0)
    if postings:
        pending = [lot.expires_at for lot in store.coin_lots[user_id] if lot.remaining and lot.expires_at is not None]
        if pending:
            store.coin_next_expiry[user_id] = min(pending)
        else:
            store.coin_next_expiry.pop(user_id, None)
    return postings


def _due(store: Store, user_id: str, now: datetime | None = None) -> list[CoinLot]:
    """Lots with coins left whose expiry has passed on the sandbox clock (expires_at <= now)."""
    if now is None:
        now = store.now()
    earliest = store.coin_next_expiry.get(user_id)
    if earliest is None or earliest > now:
        return []
    due = [lot for lot in store.coin_lots.get(user_id, []) if lot.remaining and lot.expires_at is not None and lot.expires_at <= now]
    return sorted(due, key=lambda lot: lot.expires_at or now)


def spend(store: Store, user: User, coins: int, memo: str = "") -> Posting:
    """What a purchase paid with coins does: the soonest-expiring lots are used first."""
    account = coin_account(user.user_id)
    held = store.balance(account) - sum((lot.remaining for lot in _due(store, user.user_id)), Decimal(0))
    if held < coins:
        raise errors.InsufficientCoins(user_id=user.user_id, balance=int(held), coins=coins)
    settle(store, user.user_id)
    posting = store.ledger.post(
        store.new_id("card_txn"), SPEND, COIN, store.now(), [(account, -Decimal(coins)), (COINS_SPENT, Decimal(coins))],
        memo=memo,
    )
    left = Decimal(coins)
    for lot in spending_order(store.coin_lots.get(user.user_id, [])):
        used = min(lot.remaining, left)
        lot.remaining -= used
        left -= used
        if not left:
            break
    return posting


def spending_order(lots: list[CoinLot]) -> list[CoinLot]:
    """Lots with coins left, soonest expiry first (never-expiring last), then oldest first."""
    usable = [lot for lot in lots if lot.remaining]
    return sorted(usable, key=lambda lot: (lot.expires_at is None, lot.expires_at or lot.earned_at, lot.earned_at))


# --- the sandbox's own view and settings ------------------------------------------------------
class CoinStatement(NamedTuple):
    user: User
    company: Company
    balance: int
    lots: list[CoinLot]
    history: list[Posting]


def statement(store: Store, user: User) -> CoinStatement:
    settle(store, user.user_id)
    account = coin_account(user.user_id)
    return CoinStatement(
        user, store.companies[user.company_id], int(store.balance(account)),
        list(store.coin_lots.get(user.user_id, [])), list(store.ledger.history(account, newest_first=False)),
    )


class CoinSettings(NamedTuple):
    """A change of a company's sandbox-only coin settings: only the fields given change."""

    coin_to_currency_ratio: Decimal | None = None
    coin_validity_days: int | None = None
    clear_validity: bool = False
    promotions: list[Promotion] | None = None


def update_settings(company: Company, changes: CoinSettings) -> Company:
    """New settings apply to coins earned from now on; existing lots keep their expiry."""
    for promotion in changes.promotions or []:
        if promotion.ends <= promotion.starts:
            raise errors.InvalidField(field="promotions", problem=f"for {promotion.event}: ends must be after starts")
    if changes.coin_to_currency_ratio is not None:
        company.coin_to_currency_ratio = changes.coin_to_currency_ratio
    if changes.clear_validity:
        company.coin_validity_days = None
    elif changes.coin_validity_days is not None:
        company.coin_validity_days = changes.coin_validity_days
    if changes.promotions is not None:
        company.promotions = list(changes.promotions)
    return company
