"""Fixture files (YAML or JSON) -> a populated Store.

A file is checked against schemas/fixtures.schema.json first, then for clashing ids, so a bad
file stops startup with its name, the entry's path and the problem.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from sandbox.contract import schemas
from sandbox.state.clock import OutOfRange, parse_iso
from sandbox.domain import cards, coins, rewards
from sandbox.domain.errors import SandboxError
from sandbox.state.ledger import LedgerError
from sandbox.state.store import (
    POINT, WORLD, Cart, CardAccount, CartItem, CoinConfig, Company, Login, OAuthClient, Partner, PrimaryCard, Product,
    ProductConfig, Promotion, Store, User,
)

_SCHEMA_PATH = schemas.SCHEMA_DIR / "fixtures.schema.json"


class FixtureError(Exception):
    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source, self.where, self.problem = source, where, problem
        super().__init__(f"{source}: {where or '<top>'}: {problem}")


def read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FixtureError(str(path), "", f"cannot read file ({exc.strerror})") from None
    return parse(text, str(path))


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # JSON is YAML too; libyaml is 5x faster
MAX_DEPTH = 64  # default nesting limit (Settings.max_depth), as for JSON bodies


def parse(text: str, source: str, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Safe-loaded (plain data only), after a pass over the events: no alias may repeat a node (a
    430-byte "billion laughs" expands to gigabytes) and nothing nests deeper than `max_depth`
    (libyaml's composer recurses in C: 50,000 levels overflow its stack)."""
    try:
        _check_events(text, max_depth)
        doc = yaml.load(text, Loader=_LOADER)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:  # ValueError: a 5,000-digit integer, 2001-02-30
        raise FixtureError(source, "", f"not valid YAML/JSON: {exc}") from None
    doc = {} if doc is None else doc
    check_shape(doc, source)
    return doc


def _check_events(text: str, max_depth: int) -> None:
    loader = _LOADER(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > max_depth:
                    raise ValueError(f"nested deeper than {max_depth} levels")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                raise ValueError(f"aliases (*{event.anchor}) are not accepted: write the value out")
    finally:
        loader.dispose()


def check_shape(doc: Any, source: str) -> None:
    error = schemas.best_match(_SCHEMA_PATH, doc)
    if error is not None:
        raise FixtureError(source, schemas.field_path(error.absolute_path), error.message)
    pending: list[tuple[Any, list[Any]]] = [(doc, [])]
    while pending:  # YAML's .nan and .inf pass every minimum and maximum
        value, path = pending.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise FixtureError(source, schemas.field_path(path), f"{value} is not a finite number")
        if isinstance(value, dict):
            pending += [(v, [*path, k]) for k, v in value.items()]
        elif isinstance(value, list):
            pending += [(v, [*path, i]) for i, v in enumerate(value)]


def _amount(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def populate(store: Store, doc: dict[str, Any], source: str) -> None:
    """Add every record of `doc` to `store`; ids already present are an error naming the entry."""
    for p, partner_doc in enumerate(doc.get("partners", [])):
        where = f"partners[{p}]"
        partner_id = partner_doc["partnerId"]
        if partner_id in store.partners:
            raise FixtureError(source, where, f"partnerId {partner_id} is defined twice")
        encryption = partner_doc.get("encryption")
        store.add_partner(Partner(
            partner_id,
            partner_doc.get("name", partner_id),
            "off" if encryption is False else encryption,
            partner_doc.get("ssoName", partner_id.lower()),
        ))
        for c, client_doc in enumerate(partner_doc.get("clients", [])):
            _add_client(store, partner_id, client_doc, source, f"{where}.clients[{c}]")
        for c, company_doc in enumerate(partner_doc.get("companies", [])):
            _add_company(store, partner_id, company_doc, source, f"{where}.companies[{c}]")
        for c, client_doc in enumerate(partner_doc.get("clients", [])):
            _check_holder_logins(store, partner_id, client_doc, source, f"{where}.clients[{c}]")
    for n, product_doc in enumerate(doc.get("catalog", [])):
        _add_product(store, product_doc, source, f"catalog[{n}]")
    for n, cart_doc in enumerate(doc.get("carts", [])):
        _add_cart(store, cart_doc, source, f"carts[{n}]")


def _add_client(store: Store, partner_id: str, doc: dict[str, Any], source: str, where: str) -> None:
    client_id = doc["clientId"]
    if client_id in store.clients:
        raise FixtureError(source, where, f"clientId {client_id} is defined twice")
    store.add_client(OAuthClient(client_id, doc["clientSecret"], partner_id))
    for login in doc.get("logins", []):
        store.add_login(Login(client_id, login["username"], login["password"],
                              user_id=login.get("ekUserId", ""), card_id=login.get("enKashCardId", "")))


def _add_company(store: Store, partner_id: str, doc: dict[str, Any], source: str, where: str) -> None:
    company_id = doc["companyId"]
    if company_id in store.companies:
        raise FixtureError(source, where, f"companyId {company_id} is defined twice")
    coin_doc = doc.get("coins", {})
    company = Company(
        company_id,
        partner_id,
        doc.get("companyName", company_id),
        coin_to_currency_ratio=_amount(coin_doc.get("coinToCurrencyRatio", 1)),
        coin_validity_days=coin_doc.get("coinValidityDays"),
        promotions=[
            _promotion(p, source, f"{where}.coins.promotions[{i}]") for i, p in enumerate(coin_doc.get("promotions", []))
        ],
    )
    store.add_company(company)
    for e, event_doc in enumerate(coin_doc.get("events", [])):
        _add_coin_config(store, company_id, event_doc, source, f"{where}.coins.events[{e}]")
    for u, user_doc in enumerate(doc.get("users", [])):
        _add_user(store, company_id, user_doc, source, f"{where}.users[{u}]")
    for a, account_doc in enumerate(doc.get("accounts", [])):
        _add_account(store, company_id, account_doc, source, f"{where}.accounts[{a}]")


def _promotion(doc: dict[str, Any], source: str, where: str) -> Promotion:
    try:
        starts, ends = parse_iso(str(doc["starts"])), parse_iso(str(doc["ends"]))
    except OutOfRange as exc:
        raise FixtureError(source, where, f"starts and ends {exc}") from None
    except ValueError:
        raise FixtureError(source, where, "starts and ends must be ISO-8601 date-times") from None
    if ends <= starts:
        raise FixtureError(source, where, "ends must be after starts")
    return Promotion(doc["event"], _amount(doc["multiplier"]), starts, ends)


def _add_coin_config(store: Store, company_id: str, doc: dict[str, Any], source: str, where: str) -> None:
    config_id = doc.get("coinConfigId") or store.new_id("coin_config")
    if config_id in store.coin_configs:
        raise FixtureError(source, where, f"coinConfigId {config_id} is defined twice")
    if store.coin_config_for(company_id, doc["event"]) is not None:
        raise FixtureError(source, where, f"event {doc['event']} is configured twice in companyId {company_id}")
    store.add_coin_config(CoinConfig(config_id, company_id, doc.get("configuration", "DEFAULT"), doc["event"], doc["amount"]))


def _add_user(store: Store, company_id: str, doc: dict[str, Any], source: str, where: str) -> User:
    user_id = doc.get("userId") or store.new_id("user")
    if user_id in store.users:
        raise FixtureError(source, where, f"userId {user_id} is defined twice")
    user = User(
        user_id,
        company_id,
        email=doc.get("email", ""),
        mobile=doc.get("mobile", ""),
        title=doc.get("title", ""),
        first_name=doc.get("firstName", ""),
        gender=doc.get("gender", ""),
    )
    store.add_user(user)
    coins.grant_opening(store, user, doc.get("coins", 0))
    return user


def _add_account(store: Store, company_id: str, doc: dict[str, Any], source: str, where: str) -> None:
    account_id = doc["cardAccountId"]
    if account_id in store.accounts:
        raise FixtureError(source, where, f"cardAccountId {account_id} is defined twice")
    primary = doc.get("primaryCard")
    account = CardAccount(
        account_id,
        company_id,
        account_type=doc.get("accountType", "EMPLOYEE_REWARDS"),
        credit_limit=_amount(doc.get("creditLimit")),
        dynamic_limit=_amount(doc.get("dynamicLimit")),
        used_credit_limit=_amount(doc.get("usedCreditLimit")),
        primary_card=None
        if primary is None
        else PrimaryCard(
            primary["enKashCardId"],
            primary["userId"],
            primary.get("token") or store.new_id("card_token"),
            primary.get("maskedNumber", "2004 01XX XXXX XX00"),
            primary.get("expiryMonth", ""),
            primary.get("kycStatus", "VERIFIED"),
        ),
    )
    store.add_account(account)
    _seed(store, account_id, _amount(doc.get("availableBalance")), f"fixture {where}")
    for c, card_doc in enumerate(doc.get("cards", [])):
        card_where = f"{where}.cards[{c}]"
        card_id = card_doc.get("enKashCardId")
        if card_id and (card_id in store.cards or (primary and primary["enKashCardId"] == card_id)):
            raise FixtureError(source, card_where, f"enKashCardId {card_id} is defined twice")
        mobile, email = card_doc.get("mobile"), card_doc.get("email")
        if any(store.card_by_contact(account_id, mobile, email)):
            raise FixtureError(source, card_where, "another card in this account has the same mobile or email")
        user = _add_user(store, company_id, card_doc, source, card_where)
        card = cards.issue(store, user, account_id, card_id=card_id, token=card_doc.get("token"))
        card.status = card_doc.get("status", "ACTIVE")
        _seed(store, card.card_id, _amount(card_doc.get("otbBalance")), f"fixture {card_where}")
        for t, txn in enumerate(card_doc.get("transactions", [])):
            try:  # through the allocation rule: balances, counters and references as a request would leave them
                rewards.fixture_transaction(
                    store, store.companies[company_id].partner_id, card, txn["transactionType"], _amount(txn["amount"]),
                    txn.get("status", rewards.SUCCESS), txn.get("uniqueReferenceNumber", ""),
                )
            except (SandboxError, LedgerError) as failure:
                raise FixtureError(source, f"{card_where}.transactions[{t}]", str(failure)) from None


def _seed(store: Store, account: str, amount: Decimal, memo: str) -> None:
    if amount:
        store.ledger.post(store.new_id("card_txn"), "SEED", POINT, store.now(), [(WORLD, -amount), (account, amount)], memo=memo)


# --- redemption: card holders' logins, the catalog, carts (docs/enkash-api.md RED-1..RED-5) -----------
def _check_holder_logins(store: Store, partner_id: str, doc: dict[str, Any], source: str, where: str) -> None:
    """A card holder's login names a user of this partner's companies (and, optionally, a card of theirs)."""
    for n, login in enumerate(doc.get("logins", [])):
        user_id, card_id = login.get("ekUserId"), login.get("enKashCardId")
        user = store.users.get(user_id) if user_id else None
        if user_id and (user is None or store.companies[user.company_id].partner_id != partner_id):
            raise FixtureError(source, f"{where}.logins[{n}]", f"ekUserId {user_id} is not a user of this partner's companies")
        card = store.cards.get(card_id) if card_id else None
        if card_id and (not user_id or card is None or card.user_id != user_id):
            raise FixtureError(source, f"{where}.logins[{n}]", f"enKashCardId {card_id} is not a card of ekUserId {user_id}")


def _add_product(store: Store, doc: dict[str, Any], source: str, where: str) -> None:
    product_id = doc["productCatalogId"]
    if product_id in store.products:
        raise FixtureError(source, where, f"productCatalogId {product_id} is defined twice")
    taken = {c.product_config_id for p in store.products.values() for c in p.configs}
    configs = []
    for n, config_doc in enumerate(doc["configResponses"]):
        config_id = config_doc["productConfigId"]
        if config_id in taken:
            raise FixtureError(source, f"{where}.configResponses[{n}]", f"productConfigId {config_id} is defined twice")
        taken.add(config_id)
        mrp, sell_rate = _amount(config_doc["mrp"]), _amount(config_doc["sellRate"])
        if sell_rate > mrp:
            raise FixtureError(source, f"{where}.configResponses[{n}]", "sellRate must not be above mrp")
        configs.append(ProductConfig(
            config_id, mrp, sell_rate, _amount(config_doc.get("enkashDiscount")), config_doc.get("maxQuantity", 10),
            config_doc.get("customAmountEnabled", False),
        ))
    store.add_product(Product(
        product_id, doc["brand"], configs,
        aggregator=doc.get("aggregator", "REWARD_STORE"), category=doc.get("category", ""),
        description=doc.get("description", ""), images=dict(doc.get("images", {})),
        enkash_images=dict(doc.get("enkashImages", {})), enabled=doc.get("enabled", True), active=doc.get("active", True),
        rank=doc.get("rank", 0), terms_and_condition=doc.get("termsAndCondition", ""), how_to_redeem=doc.get("howToRedeem", ""),
        expiry_period=doc.get("expiryPeriod", 365), discount=_amount(doc.get("discount")),
        fulfilment=doc.get("fulfilment", "SUCCESS"), pending_seconds=doc.get("pendingSeconds", 0),
    ))


def _add_cart(store: Store, doc: dict[str, Any], source: str, where: str) -> None:
    cart_id, user_id, product_id = doc["id"], doc["ekUserId"], doc["productCatalogId"]
    if cart_id in store.carts:
        raise FixtureError(source, where, f"cart id {cart_id} is defined twice")
    if user_id not in store.users:
        raise FixtureError(source, where, f"ekUserId {user_id} is not a user in the fixtures")
    product = store.products.get(product_id)
    if product is None:
        raise FixtureError(source, where, f"productCatalogId {product_id} is not in the catalog")
    if store.cart_for(user_id, product_id) is not None:
        raise FixtureError(source, where, f"ekUserId {user_id} already has a cart for {product_id}")
    limits = {c.product_config_id: c.max_quantity for c in product.configs}
    items = {}
    for config_id, item in doc["items"].items():
        if config_id not in limits:
            raise FixtureError(source, f"{where}.items.{config_id}", f"not a productConfigId of {product_id}")
        if item["quantity"] > limits[config_id]:
            raise FixtureError(source, f"{where}.items.{config_id}", f"quantity is above maxQuantity {limits[config_id]}")
        items[config_id] = CartItem(item["quantity"], item.get("description", ""))
    store.add_cart(Cart(cart_id, user_id, product_id, items))
