"""Redemption, EnKash's voucher marketplace (docs/enkash-api.md RED-1..RED-9): the catalog, carts and
orders of card holders, paid from their reward cards on the one ledger.

Who acts: a card holder's token (a user login, or an SSO token) is that user; a partner's token
acts for one of its users, named by `ekUserId`, and reads all of its users' carts and orders.
Anything outside that is as if it did not exist (404).

An order is checked completely (product, denomination, quantity, card, balance, reference) before
anything is drawn or written; its payment is then one posting from the card to the redeemed
account (domain/cards.py), and a failed order's refund is a second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping, NamedTuple

from sandbox.domain import cards, errors
from sandbox.state.store import AccessToken, Card, Cart, CartItem, Order, Product, ProductConfig, Store, User, Voucher

SUCCESS, PENDING, FAILED, REFUNDED = "SUCCESS", "PENDING", "FAILED", "REFUNDED"
CENT = Decimal("0.01")


class Holder(NamedTuple):
    """Who is calling: a partner, and the card holder when the token is one's."""

    partner_id: str
    user_id: str = ""  # "": the partner's own token
    card_id: str = ""  # the card the token was bound to (SSO card, the login's card)


def holder_of(token: AccessToken) -> Holder:
    return Holder(token.partner_id, token.user_id, token.card_id)


def acting_user(store: Store, holder: Holder, ek_user_id: str | None) -> User:
    """The user a write acts for: the holder's own, or the one a partner's token names."""
    if holder.user_id:
        if ek_user_id and ek_user_id != holder.user_id:
            raise errors.UserNotFound(user_id=ek_user_id)
        wanted = holder.user_id
    elif not ek_user_id:
        raise errors.HolderRequired()
    else:
        wanted = ek_user_id
    user = store.users.get(wanted)
    if user is None or store.companies[user.company_id].partner_id != holder.partner_id:
        raise errors.UserNotFound(user_id=wanted)
    return user


def _sees(store: Store, holder: Holder, user_id: str) -> bool:
    if holder.user_id:
        return user_id == holder.user_id
    user = store.users.get(user_id)
    return user is not None and store.companies[user.company_id].partner_id == holder.partner_id


# --- catalog ---------------------------------------------------------------------------------
def product_of(store: Store, product_catalog_id: str) -> Product:
    product = store.products.get(product_catalog_id)
    if product is None:
        raise errors.ProductNotFound(product_catalog_id=product_catalog_id)
    return product


def _orderable(product: Product) -> None:
    if not (product.enabled and product.active):
        raise errors.ProductUnavailable(product_catalog_id=product.product_catalog_id)


def config_of(product: Product, product_config_id: str) -> ProductConfig:
    for config in product.configs:
        if config.product_config_id == product_config_id:
            return config
    raise errors.ProductConfigNotFound(product_config_id=product_config_id, product_catalog_id=product.product_catalog_id)


def search_catalog(store: Store, text: str = "", categories: Iterable[str] = (), aggregator: str = "") -> list[Product]:
    """Products whose brand holds `text` (any case), in one of `categories`, by rank then id."""
    wanted = {c.lower() for c in categories}
    needle = text.lower()
    found = [
        p for p in store.products.values()
        if needle in p.brand.lower() and (not wanted or p.category.lower() in wanted)
        and (not aggregator or p.aggregator == aggregator)
    ]
    return sorted(found, key=lambda p: (p.rank, p.product_catalog_id))


def unit_price(product: Product, denomination: Decimal) -> tuple[ProductConfig, Decimal]:
    """The config a denomination buys and its price: the config whose mrp it is; else a config
    with customAmountEnabled whose mrp is at least the denomination, at that config's rate."""
    for config in product.configs:
        if config.mrp == denomination:
            return config, config.sell_rate
    for config in product.configs:
        if config.custom_amount_enabled and 0 < denomination <= config.mrp:
            return config, (denomination * config.sell_rate / config.mrp).quantize(CENT, ROUND_HALF_UP)
    raise errors.DenominationNotOffered(denomination=denomination, product_catalog_id=product.product_catalog_id)


def _within_max(config: ProductConfig, quantity: int) -> None:
    if quantity > config.max_quantity:
        raise errors.QuantityAboveMax(quantity=quantity, max_quantity=config.max_quantity, product_config_id=config.product_config_id)


# --- carts -----------------------------------------------------------------------------------
class PricedItem(NamedTuple):
    config: ProductConfig
    quantity: int
    total: Decimal  # sellRate x quantity
    savings: Decimal  # (mrp - sellRate) x quantity


class PricedCart(NamedTuple):
    cart: Cart
    product: Product
    items: list[PricedItem]
    total_quantity: int
    total_amount: Decimal
    total_savings: Decimal


def priced(store: Store, cart: Cart) -> PricedCart:
    """The cart at the catalog's current prices; the totals are the sums of the items (RED-4)."""
    product = store.products[cart.product_catalog_id]
    items = []
    for config_id, item in cart.items.items():
        config = config_of(product, config_id)
        items.append(PricedItem(config, item.quantity, config.sell_rate * item.quantity, (config.mrp - config.sell_rate) * item.quantity))
    return PricedCart(
        cart, product, items, sum(i.quantity for i in items),
        sum((i.total for i in items), Decimal(0)), sum((i.savings for i in items), Decimal(0)),
    )


def visible_carts(store: Store, holder: Holder, ek_user_id: str | None = None) -> list[Cart]:
    """The holder's carts; for a partner, its users' (or the one user's it names, who must be one
    of them, as for a write), by cart id."""
    if ek_user_id:
        acting_user(store, holder, ek_user_id)
    user_id = holder.user_id or ek_user_id
    if user_id:
        found = store.carts_of_user(user_id) if _sees(store, holder, user_id) else []
    else:
        found = [c for c in store.carts.values() if _sees(store, holder, c.user_id)]
    return sorted(found, key=lambda c: c.cart_id)


ItemChanges = Mapping[str, tuple[int, str | None]]  # productConfigId -> (quantity, description)


def add_to_cart(store: Store, holder: Holder, ek_user_id: str | None, product_catalog_id: str, items: ItemChanges) -> Cart:
    """RED-3: the quantities are added to the user's cart for this product (one cart a product)."""
    user = acting_user(store, holder, ek_user_id)
    product = product_of(store, product_catalog_id)
    _orderable(product)
    cart = store.cart_for(user.user_id, product_catalog_id)
    held = cart.items if cart is not None else {}
    for config_id, (quantity, _) in items.items():
        before = held[config_id].quantity if config_id in held else 0
        _within_max(config_of(product, config_id), before + quantity)
    if cart is None:
        cart = Cart(store.next_cart_id, user.user_id, product_catalog_id)
        store.add_cart(cart)
    for config_id, (quantity, description) in items.items():
        item = cart.items.setdefault(config_id, CartItem(0))
        item.quantity += quantity
        if description is not None:
            item.description = description
    return cart


def update_cart(store: Store, holder: Holder, cart_id: int, items: ItemChanges) -> Cart:
    """RED-4: each given item's quantity is set (0 removes it); a cart left empty is deleted and
    answered empty."""
    cart = store.carts.get(cart_id)
    if cart is None or not _sees(store, holder, cart.user_id):
        raise errors.CartNotFound(cart_id=cart_id)
    product = product_of(store, cart.product_catalog_id)
    for config_id, (quantity, _) in items.items():
        _within_max(config_of(product, config_id), quantity)
        if quantity > (cart.items[config_id].quantity if config_id in cart.items else 0):
            _orderable(product)
    for config_id, (quantity, description) in items.items():
        if quantity == 0:
            cart.items.pop(config_id, None)
            continue
        item = cart.items.setdefault(config_id, CartItem(0))
        item.quantity = quantity
        if description is not None:
            item.description = description
    if not cart.items:
        store.remove_cart(cart)
    return cart


# --- orders ----------------------------------------------------------------------------------
class OrderRequest(NamedTuple):
    ek_user_id: str | None  # the sandbox's own field, for a partner's token
    denomination: Decimal
    reference: str
    product_catalog_id: str
    quantity: int
    fingerprint: str  # of the request and its user, so another user's same body is another request
    outcome: tuple[str, int] | None = None  # (PENDING or FAILED, pending seconds) chosen by a fault; else the product's


def create_order(store: Store, holder: Holder, request: OrderRequest) -> Order:
    """RED-6. The same orderReferenceId again replays the first order; with another body (or
    another user) it is refused, exactly like a reused uniqueReferenceNumber."""
    user = acting_user(store, holder, request.ek_user_id)
    earlier = store.order_by_reference(holder.partner_id, request.reference)
    if earlier is not None:
        if earlier.fingerprint != request.fingerprint:
            raise errors.DuplicateOrderReference(reference=request.reference)
        return settle(store, earlier)
    if store.ledger.by_reference(holder.partner_id, request.reference) is not None:
        raise errors.DuplicateOrderReference(reference=request.reference)  # an allocation's reference
    product = product_of(store, request.product_catalog_id)
    _orderable(product)
    config, price = unit_price(product, request.denomination)
    _within_max(config, request.quantity)
    card = paying_card(store, holder, user)
    amount = price * request.quantity
    if card.status != "ACTIVE":
        raise errors.CardInactive()
    cards.check_funds(store, card.card_id, amount)

    now = store.now()
    order_id = store.new_id("order")
    expires = now + timedelta(days=product.expiry_period)
    vouchers = [Voucher(store.new_id("voucher_code"), store.new_id("voucher_pin"), expires) for _ in range(request.quantity)]
    posting = cards.redeem(
        store, card, amount, scope=holder.partner_id, reference=request.reference, fingerprint=request.fingerprint, memo=order_id,
    )
    order = Order(
        order_id, request.reference, holder.partner_id, user.user_id, card.card_id, product.product_catalog_id,
        config.product_config_id, request.denomination, price, config.enkash_discount, request.quantity, amount,
        now, request.fingerprint, posting.id, vouchers,
    )
    fulfilment, pending_seconds = request.outcome or (product.fulfilment, product.pending_seconds)
    if fulfilment == PENDING:
        order.status = PENDING
        order.due_at = now + timedelta(seconds=pending_seconds) if pending_seconds else None
    elif fulfilment == FAILED:
        _fail(store, order)
    else:
        order.completed_at = now
    store.add_order(order)
    return order


def paying_card(store: Store, holder: Holder, user: User) -> Card:
    """The card the token is bound to when it is the user's reward card; else the user's first
    active reward card (or first card, which then refuses as inactive)."""
    bound = store.cards.get(holder.card_id) if holder.card_id else None
    if bound is not None and bound.user_id == user.user_id:
        return bound
    own = [
        card for account in store.accounts.values() if account.company_id == user.company_id
        for card in store.iter_cards(account.card_account_id) if card.user_id == user.user_id
    ]
    if not own:
        raise errors.NoRewardCard(user_id=user.user_id)
    return next((card for card in own if card.status == "ACTIVE"), own[0])


def is_due(order: Order, now: datetime) -> bool:
    """A pending order whose time has come on the sandbox clock (it is fulfilled when next read)."""
    return order.status == PENDING and order.due_at is not None and now >= order.due_at


def settle(store: Store, order: Order) -> Order:
    """A pending order whose time has come on the sandbox clock is fulfilled (read lazily, dated
    at its due time; it stays fulfilled if the clock is set back)."""
    if is_due(order, store.now()):
        order.status, order.completed_at = SUCCESS, order.due_at
    return order


def _fail(store: Store, order: Order) -> None:
    spent = store.ledger.by_id(order.posting_id)
    assert spent is not None
    refund = cards.refund(store, store.cards[order.card_id], spent, scope=order.partner_id + "/refund", memo=order.order_id)
    order.status, order.payment_status = FAILED, REFUNDED
    order.completed_at, order.due_at, order.refund_posting_id = refund.at, None, refund.id


def complete(store: Store, order_id: str, status: str) -> Order:
    """The sandbox's own control: a pending order is fulfilled (SUCCESS) or fails (FAILED, refund) now."""
    order = store.orders.get(order_id)
    if order is None:
        raise errors.OrderNotFound(order_id=order_id)
    settle(store, order)
    if order.status != PENDING:
        raise errors.OrderNotPending(order_id=order_id, order_status=order.status)
    if status == FAILED:
        _fail(store, order)
    else:
        order.status, order.completed_at, order.due_at = SUCCESS, store.now(), None
    return order


def find_order(store: Store, holder: Holder, key: str) -> Order:
    """RED-8: by the partner's orderReferenceId, else by EnKash's orderId; only the holder's own."""
    order = store.order_by_reference(holder.partner_id, key) or store.orders.get(key)
    if order is None or order.partner_id != holder.partner_id or (holder.user_id and order.user_id != holder.user_id):
        raise errors.OrderNotFound(order_id=key)
    return settle(store, order)


class OrderQuery(NamedTuple):
    """RED-7's filters that the sandbox can read (every one optional)."""

    ek_user_id: str | None = None
    company_id: str | None = None
    email: str | None = None
    aggregator: str | None = None
    aggregator_order_id: str | None = None
    aggregator_product_id: str | None = None
    brands: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    amount_from: Decimal | None = None
    amount_to: Decimal | None = None
    enkash_discount_from: Decimal | None = None
    enkash_discount_to: Decimal | None = None
    aggregator_discount_from: Decimal | None = None
    aggregator_discount_to: Decimal | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    newest_first: bool = True


def search_orders(store: Store, holder: Holder, query: OrderQuery, offset: int, limit: int) -> tuple[int, list[Order]]:
    """The holder's orders (a partner's: its users') matching every filter given; by createdOn. A
    named ekUserId must be one the holder may act for, as for a write."""
    if query.ek_user_id:
        acting_user(store, holder, query.ek_user_id)
    user_id = holder.user_id or query.ek_user_id
    if user_id:
        wanted = query.ek_user_id or user_id
        candidates = store.orders_of_user(user_id) if wanted == user_id else []
        candidates = [o for o in candidates if o.partner_id == holder.partner_id]
    else:
        candidates = store.orders_of_partner(holder.partner_id)
    matches = [settle(store, o) for o in candidates if _matches(store, query, o)]
    if query.newest_first:
        matches.reverse()  # the indexes keep creation order
    return len(matches), matches[offset: offset + limit]


def _matches(store: Store, query: OrderQuery, order: Order) -> bool:
    product, user = store.products[order.product_catalog_id], store.users[order.user_id]
    checks = (
        (query.company_id, lambda v: user.company_id == v),
        (query.email, lambda v: user.email.lower() == v.lower()),
        (query.aggregator, lambda v: product.aggregator == v),
        (query.aggregator_order_id, lambda v: order.order_id == v),
        (query.aggregator_product_id, lambda v: order.product_config_id == v),
        (query.brands or None, lambda v: product.brand in v),
        (query.categories or None, lambda v: product.category in v),
        (query.amount_from, lambda v: order.amount >= v),
        (query.amount_to, lambda v: order.amount <= v),
        (query.enkash_discount_from, lambda v: order.enkash_discount >= v),
        (query.enkash_discount_to, lambda v: order.enkash_discount <= v),
        (query.aggregator_discount_from, lambda v: product.discount >= v),
        (query.aggregator_discount_to, lambda v: product.discount <= v),
        (query.created_from, lambda v: order.created_at >= v),
        (query.created_to, lambda v: order.created_at <= v),
    )
    return all(want is None or test(want) for want, test in checks)
