"""Fixture files (YAML or JSON) -> a populated Store.

A file is checked against schemas/fixtures.schema.json first, then for clashing ids, so a bad
file stops startup with its name, the entry's path and the problem.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from sandbox.contract import schemas
from sandbox.state.clock import parse_iso
from sandbox.domain import cards, coins, rewards
from sandbox.domain.errors import SandboxError
from sandbox.state.ledger import LedgerError
from sandbox.state.store import POINT, WORLD, CardAccount, CoinConfig, Company, Login, OAuthClient, Partner, PrimaryCard, Promotion, Store, User

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


def parse(text: str, source: str) -> dict[str, Any]:
    try:
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # JSON is YAML too; libyaml is 5x faster
    except yaml.YAMLError as exc:
        raise FixtureError(source, "", f"not valid YAML/JSON: {exc}") from None
    doc = {} if doc is None else doc
    check_shape(doc, source)
    return doc


def check_shape(doc: Any, source: str) -> None:
    error = schemas.best_match(_SCHEMA_PATH, doc)
    if error is not None:
        raise FixtureError(source, schemas.field_path(error.absolute_path), error.message)


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


def _add_client(store: Store, partner_id: str, doc: dict[str, Any], source: str, where: str) -> None:
    client_id = doc["clientId"]
    if client_id in store.clients:
        raise FixtureError(source, where, f"clientId {client_id} is defined twice")
    store.add_client(OAuthClient(client_id, doc["clientSecret"], partner_id))
    for login in doc.get("logins", []):
        store.add_login(Login(client_id, login["username"], login["password"]))


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
