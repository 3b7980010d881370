"""The one state object: records in typed tables, their indexes, the ledger, clock and ids.

Tables are dicts of slotted dataclasses keyed by their EnKash id; indexes are derived from the
tables and kept current by the `add_*` methods. A snapshot (sandbox/documents/snapshot.py) writes the
indexes too, so a restore needs no re-indexing.
Lookups that take a partner id enforce isolation: another partner's records do not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Iterator

from sandbox.state.clock import Clock
from sandbox.state.ids import FORMATS, IdFactory
from sandbox.state.ledger import ZERO, Ledger

POINT = "POINT"
COIN = "COIN"
WORLD = "world"  # where seeded and loaded funds come from
REDEEMED = "redeemed"  # where points go when a card holder redeems them
COINS_ISSUED = "coins:issued"  # where allocated and seeded coins come from
COINS_EXPIRED = "coins:expired"  # where expired coins go
COINS_SPENT = "coins:spent"  # where coins go when a user spends them


def coin_account(user_id: str) -> str:
    """The ledger account holding a user's coins (unit COIN)."""
    return "coin:" + user_id


@dataclass(slots=True)
class Partner:
    partner_id: str
    name: str
    encryption: str | None = None  # None: the global setting applies
    sso_name: str = ""  # the {partner} part of the SSO redirect URL, e.g. "hrms"


@dataclass(slots=True)
class OAuthClient:
    client_id: str
    client_secret: str
    partner_id: str


@dataclass(slots=True)
class Login:
    client_id: str
    username: str
    password: str
    failures: int = 0
    locked_at: datetime | None = None
    user_id: str = ""  # a card holder's login (redemption, RED-1): its tokens act as this user
    card_id: str = ""  # the card that user's orders pay from ("": the user's first active card)


@dataclass(slots=True)
class Promotion:
    event: str
    multiplier: Decimal
    starts: datetime
    ends: datetime


@dataclass(slots=True)
class Company:
    company_id: str
    partner_id: str
    name: str
    coin_to_currency_ratio: Decimal = Decimal(1)
    coin_validity_days: int | None = None
    promotions: list[Promotion] = field(default_factory=list)


@dataclass(slots=True)
class PrimaryCard:
    card_id: str
    user_id: str
    token: str
    masked_number: str
    expiry_month: str = ""
    kyc_status: str = "VERIFIED"


@dataclass(slots=True)
class CardAccount:
    card_account_id: str
    company_id: str
    account_type: str = "EMPLOYEE_REWARDS"
    credit_limit: Decimal = ZERO
    dynamic_limit: Decimal = ZERO
    used_credit_limit: Decimal = ZERO
    primary_card: PrimaryCard | None = None
    total_allocation: Decimal = ZERO
    total_redemption: Decimal = ZERO
    # "YYYY-MM" -> [allocated, redeemed] in that month of the sandbox clock
    monthly: dict[str, list[Decimal]] = field(default_factory=dict)


@dataclass(slots=True)
class User:
    user_id: str
    company_id: str
    email: str = ""
    mobile: str = ""
    title: str = ""
    first_name: str = ""
    gender: str = ""


@dataclass(slots=True)
class Card:
    card_id: str
    user_id: str
    card_account_id: str
    token: str
    masked_number: str
    status: str = "ACTIVE"
    expiry_month: str = ""
    expiry_year: str = ""


@dataclass(slots=True)
class SsoGrant:
    token: str
    card_id: str
    landing: str  # employee_rewards, or reward_account for an account's primary (admin) card
    issued_at: datetime
    card_account_id: str = ""
    user_id: str = ""  # the card's holder: an SSO token is that user's token on the marketplace


@dataclass(slots=True)
class CoinConfig:
    """A company's coin event configuration (docs/enkash-api.md#pts-1 to #pts-3): coins per occurrence."""

    coin_config_id: str
    company_id: str
    configuration: str
    event: str
    amount: int


@dataclass(slots=True)
class CoinLot:
    """Coins earned together: they expire together, and spends use the oldest first."""

    lot_id: str  # the id of the posting that credited them
    user_id: str
    earned_at: datetime
    expires_at: datetime | None
    amount: Decimal
    remaining: Decimal
    expired: Decimal = Decimal(0)
    event: str = ""
    request_id: str = ""
    multiplier: Decimal = Decimal(1)


@dataclass(slots=True)
class AccessToken:
    value: str
    refresh_token: str
    client_id: str
    username: str
    partner_id: str
    issued_at: datetime
    expires_at: datetime
    user_id: str = ""  # set for a card holder's token (a user login, or an SSO token on the marketplace)
    card_id: str = ""


# --- redemption (marketplace, docs/enkash-api.md RED-2..RED-8) --------------------------------------
@dataclass(slots=True)
class ProductConfig:
    """One denomination of a product (RED-5's configResponses[])."""

    product_config_id: str
    mrp: Decimal
    sell_rate: Decimal
    enkash_discount: Decimal
    max_quantity: int
    custom_amount_enabled: bool = False


@dataclass(slots=True)
class Product:
    """A catalog entry (a brand's vouchers). `fulfilment` and `pending_seconds` are the sandbox's own:
    how its orders complete (SUCCESS at once, PENDING until the sandbox clock passes pending_seconds,
    or FAILED at once with a refund)."""

    product_catalog_id: str
    brand: str
    configs: list[ProductConfig]
    aggregator: str = "REWARD_STORE"
    category: str = ""
    description: str = ""
    images: dict[str, str] = field(default_factory=dict)
    enkash_images: dict[str, str] = field(default_factory=dict)
    enabled: bool = True
    active: bool = True
    rank: int = 0
    terms_and_condition: str = ""
    how_to_redeem: str = ""
    expiry_period: int = 365
    discount: Decimal = ZERO
    fulfilment: str = "SUCCESS"
    pending_seconds: int = 0


@dataclass(slots=True)
class CartItem:
    quantity: int
    description: str = ""


@dataclass(slots=True)
class Cart:
    """A user's cart for one product; prices are read from the catalog, never stored."""

    cart_id: int
    user_id: str
    product_catalog_id: str
    items: dict[str, CartItem] = field(default_factory=dict)  # productConfigId -> item


@dataclass(slots=True)
class Voucher:
    code: str
    pin: str
    expires_at: datetime


@dataclass(slots=True)
class Order:
    order_id: str
    reference: str  # the partner's orderReferenceId, the card debit's pgReferenceNumber
    partner_id: str
    user_id: str
    card_id: str
    product_catalog_id: str
    product_config_id: str
    denomination: Decimal
    sell_rate: Decimal
    enkash_discount: Decimal
    quantity: int
    amount: Decimal
    created_at: datetime
    fingerprint: str
    posting_id: str
    vouchers: list[Voucher]
    status: str = "SUCCESS"  # SUCCESS | PENDING | FAILED
    payment_status: str = "SUCCESS"  # SUCCESS | REFUNDED
    due_at: datetime | None = None  # a PENDING order turns SUCCESS when the sandbox clock passes it
    completed_at: datetime | None = None
    refund_posting_id: str = ""


class Store:
    def __init__(self, clock: Clock, ids: IdFactory) -> None:
        self.clock = clock
        self.ids = ids
        self.ledger = Ledger()
        self.partners: dict[str, Partner] = {}
        self.clients: dict[str, OAuthClient] = {}
        self.logins: dict[tuple[str, str], Login] = {}
        self.companies: dict[str, Company] = {}
        self.accounts: dict[str, CardAccount] = {}
        self.users: dict[str, User] = {}
        self.cards: dict[str, Card] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.sso_grants: dict[str, SsoGrant] = {}
        self.txn_status: dict[str, str] = {}  # card transaction id -> its status, when not SUCCESS
        self.coin_configs: dict[str, CoinConfig] = {}
        self.coin_lots: dict[str, list[CoinLot]] = {}  # userId -> lots, oldest first
        # userId -> no later than the earliest expiry among lots with coins left (absent: none
        # expire), so a balance call checks expiry in O(1) instead of walking every lot
        self.coin_next_expiry: dict[str, datetime] = {}
        self._coin_config_by_event: dict[tuple[str, str], str] = {}
        self._cards_by_account: dict[str, list[str]] = {}
        self._card_by_contact: dict[tuple[str, str], str] = {}
        self._users_by_company: dict[str, list[str]] = {}
        self._token_by_login: dict[tuple[str, str], str] = {}
        self.products: dict[str, Product] = {}
        self.carts: dict[int, Cart] = {}
        self.orders: dict[str, Order] = {}
        self.next_cart_id = 1001  # cart ids are integers (2191 in the docs); fixtures' carts move it past theirs
        self._cart_by_product: dict[tuple[str, str], int] = {}  # (userId, productCatalogId) -> cartId
        self._carts_by_user: dict[str, list[int]] = {}
        self._orders_by_user: dict[str, list[str]] = {}
        self._orders_by_partner: dict[str, list[str]] = {}
        self._order_by_reference: dict[tuple[str, str], str] = {}  # (partnerId, orderReferenceId) -> orderId
        self.ledger.open(WORLD, POINT, floored=False)
        self.ledger.open(REDEEMED, POINT, floored=False)
        for system in (COINS_ISSUED, COINS_EXPIRED, COINS_SPENT):
            self.ledger.open(system, COIN, floored=False)
        self._draws = self._bound_draws()

    def _bound_draws(self) -> dict[str, Callable[[], str]]:
        """Each kind's id draw (IdFactory.drawer) with its records' table bound: new_id is a lookup
        and a call, where it looked up the table, the factory and the kind's form every id (~3,000
        instructions a top-up). They hold this store's tables and id stream, so a copy binds its own."""
        return {kind: self.ids.drawer(kind, None if table is None else getattr(self, table).__contains__)
                for kind, table in ((kind, _RECORDS_OF.get(kind)) for kind in FORMATS)}

    def __getstate__(self) -> dict[str, Any]:
        state = vars(self).copy()
        del state["_draws"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)
        self._draws = self._bound_draws()

    # --- adding records (fixtures and domain rules both come through here) ---------------------
    def add_partner(self, partner: Partner) -> None:
        self.partners[partner.partner_id] = partner

    def add_client(self, client: OAuthClient) -> None:
        self.clients[client.client_id] = client

    def add_login(self, login: Login) -> None:
        self.logins[(login.client_id, login.username)] = login

    def add_company(self, company: Company) -> None:
        self.companies[company.company_id] = company
        self._users_by_company.setdefault(company.company_id, [])

    def add_account(self, account: CardAccount) -> None:
        self.accounts[account.card_account_id] = account
        self._cards_by_account.setdefault(account.card_account_id, [])
        if not self.ledger.is_open(account.card_account_id):
            self.ledger.open(account.card_account_id, POINT)

    def add_user(self, user: User) -> None:
        self.users[user.user_id] = user
        self._users_by_company.setdefault(user.company_id, []).append(user.user_id)
        if not self.ledger.is_open(coin_account(user.user_id)):
            self.ledger.open(coin_account(user.user_id), COIN)

    def add_card(self, card: Card) -> None:
        self.cards[card.card_id] = card
        self._cards_by_account[card.card_account_id].append(card.card_id)
        user = self.users[card.user_id]
        if user.mobile:
            self._card_by_contact[(card.card_account_id, "m:" + user.mobile)] = card.card_id
        if user.email:
            self._card_by_contact[(card.card_account_id, "e:" + user.email.lower())] = card.card_id
        if not self.ledger.is_open(card.card_id):
            self.ledger.open(card.card_id, POINT)

    def add_coin_config(self, config: CoinConfig) -> None:
        self.coin_configs[config.coin_config_id] = config
        self._coin_config_by_event[(config.company_id, config.event)] = config.coin_config_id

    def move_coin_config(self, config: CoinConfig, company_id: str, event: str) -> None:
        """Re-key a configuration whose company or event changed (PATCH)."""
        del self._coin_config_by_event[(config.company_id, config.event)]
        config.company_id, config.event = company_id, event
        self._coin_config_by_event[(company_id, event)] = config.coin_config_id

    def add_coin_lot(self, lot: CoinLot) -> None:
        self.coin_lots.setdefault(lot.user_id, []).append(lot)
        if lot.expires_at is not None and lot.remaining:
            earliest = self.coin_next_expiry.get(lot.user_id)
            if earliest is None or lot.expires_at < earliest:
                self.coin_next_expiry[lot.user_id] = lot.expires_at

    def add_token(self, token: AccessToken) -> None:
        self.tokens[token.value] = token
        self._token_by_login[(token.client_id, token.username)] = token.value

    def add_product(self, product: Product) -> None:
        self.products[product.product_catalog_id] = product

    def add_cart(self, cart: Cart) -> None:
        self.carts[cart.cart_id] = cart
        self._cart_by_product[(cart.user_id, cart.product_catalog_id)] = cart.cart_id
        self._carts_by_user.setdefault(cart.user_id, []).append(cart.cart_id)
        self.next_cart_id = max(self.next_cart_id, cart.cart_id + 1)

    def remove_cart(self, cart: Cart) -> None:
        del self.carts[cart.cart_id]
        del self._cart_by_product[(cart.user_id, cart.product_catalog_id)]
        self._carts_by_user[cart.user_id].remove(cart.cart_id)

    def add_order(self, order: Order) -> None:
        self.orders[order.order_id] = order
        self._orders_by_user.setdefault(order.user_id, []).append(order.order_id)
        self._orders_by_partner.setdefault(order.partner_id, []).append(order.order_id)
        self._order_by_reference[(order.partner_id, order.reference)] = order.order_id

    # --- lookups -------------------------------------------------------------------------
    def new_id(self, kind: str) -> str:
        """A new id of `kind`, drawn again while one of its records has it."""
        return self._draws[kind]()

    def id_drawer(self, kind: str) -> Callable[[], str]:
        """new_id(kind) as a call of no arguments, for many ids in a row (IdFactory.drawer)."""
        return self._draws[kind]

    def now(self) -> datetime:
        return self.clock.now()

    def company_of_partner(self, partner_id: str, company_id: str) -> Company | None:
        company = self.companies.get(company_id)
        return company if company is not None and company.partner_id == partner_id else None

    def account_of_partner(self, partner_id: str, company_id: str, card_account_id: str) -> CardAccount | None:
        account = self.accounts.get(card_account_id)
        if account is None or account.company_id != company_id:
            return None
        return account if self.company_of_partner(partner_id, company_id) else None

    def cards_of_account(self, card_account_id: str) -> list[str]:
        return self._cards_by_account.get(card_account_id, [])

    def users_of_company(self, company_id: str) -> list[str]:
        return self._users_by_company.get(company_id, [])

    def card_by_contact(self, card_account_id: str, mobile: str | None, email: str | None) -> tuple[str | None, str | None]:
        """The card found by mobile and the one found by e-mail, in this account."""
        by_mobile = self._card_by_contact.get((card_account_id, "m:" + mobile)) if mobile else None
        by_email = self._card_by_contact.get((card_account_id, "e:" + email.lower())) if email else None
        return by_mobile, by_email

    def coin_config_for(self, company_id: str, event: str) -> CoinConfig | None:
        found = self._coin_config_by_event.get((company_id, event))
        return self.coin_configs[found] if found else None

    def token_of_login(self, client_id: str, username: str) -> AccessToken | None:
        value = self._token_by_login.get((client_id, username))
        return self.tokens.get(value) if value else None

    def cart_for(self, user_id: str, product_catalog_id: str) -> Cart | None:
        found = self._cart_by_product.get((user_id, product_catalog_id))
        return None if found is None else self.carts[found]

    def carts_of_user(self, user_id: str) -> list[Cart]:
        return [self.carts[c] for c in self._carts_by_user.get(user_id, ())]

    def order_by_reference(self, partner_id: str, reference: str) -> Order | None:
        found = self._order_by_reference.get((partner_id, reference))
        return None if found is None else self.orders[found]

    def orders_of_user(self, user_id: str) -> list[Order]:
        return [self.orders[o] for o in self._orders_by_user.get(user_id, ())]

    def orders_of_partner(self, partner_id: str) -> list[Order]:
        return [self.orders[o] for o in self._orders_by_partner.get(partner_id, ())]

    def balance(self, account: str) -> Decimal:
        return self.ledger.balance(account)

    def iter_cards(self, card_account_id: str) -> Iterator[Card]:
        return (self.cards[c] for c in self._cards_by_account.get(card_account_id, []))

    def forget_token(self, value: str) -> None:
        token = self.tokens.pop(value, None)
        if token is not None and self._token_by_login.get((token.client_id, token.username)) == value:
            del self._token_by_login[(token.client_id, token.username)]

    def summary(self) -> dict[str, Any]:
        return {
            "partners": len(self.partners),
            "companies": len(self.companies),
            "accounts": len(self.accounts),
            "users": len(self.users),
            "cards": len(self.cards),
            "postings": len(self.ledger.postings),
            "products": len(self.products),
            "carts": len(self.carts),
            "orders": len(self.orders),
        }


# the kinds of id whose records an id must not collide with (the others are too long to collide)
_RECORDS_OF = {
    "company": "companies", "card_account": "accounts", "card": "cards", "user": "users",
    "access_token": "tokens", "coin_config": "coin_configs", "order": "orders",
}
