"""Point Management endpoints (docs/enkash-api.md#coins, PTS-1..PTS-5) and the sandbox's own coin API."""

from __future__ import annotations

from typing import Any

from sandbox.state.clock import iso
from sandbox.domain import coins, errors
from sandbox.domain.coins import CoinAllocation, CoinSettings, ConfigChanges
from sandbox.web.adapter import Call
from sandbox.contract.envelope import Reply
from sandbox.state.ledger import Posting
from sandbox.state.store import CoinConfig, Company, CoinLot, Promotion, coin_account
from sandbox.web.endpoints.fields import amount, fingerprint, moment

ALLOCATED = "Successfully allocated enkash Coins"  # PTS-4's documented payload, verbatim
ALLOCATION_FIELDS = ("companyId", "event", "requestId", "userId")


# --- EnKash's API -----------------------------------------------------------------------------
def create_coins_config(call: Call) -> dict[str, Any]:
    body = call.body
    config = coins.create_config(
        call.store, call.partner_id, body["companyId"], body["configuration"], body["event"], int(body["amount"]),
    )
    return config_payload(config)


def coins_config_get(call: Call) -> dict[str, Any]:
    return config_payload(coins.config_of(call.store, call.partner_id, call.params["coinConfigId"]))


def coins_config_update(call: Call) -> dict[str, Any]:
    body = call.body
    changes = ConfigChanges(
        amount=None if body.get("amount") is None else int(body["amount"]),
        configuration=body.get("configuration"),
        company_id=body.get("companyId"),
        event=body.get("event"),
    )
    return config_payload(coins.update_config(call.store, call.partner_id, call.params["coinConfigId"], changes))


def config_payload(config: CoinConfig) -> dict[str, Any]:
    """PTS-3's documented payload; companyId is not echoed there, so it is not here either."""
    return {
        "coinConfigId": config.coin_config_id,
        "configuration": config.configuration,
        "event": config.event,
        "amount": config.amount,
    }


def allocate_coin(call: Call) -> str:
    body = call.body
    request = CoinAllocation(
        company_id=body["companyId"],
        event=body["event"],
        request_id=body["requestId"],
        user_id=body["userId"],
        fingerprint=fingerprint({name: body[name] for name in ALLOCATION_FIELDS}),
        replay=call.settings.duplicate_reference == "replay",
    )
    coins.allocate_coins(call.store, call.partner_id, request)
    return ALLOCATED


def coins_balance(call: Call) -> int:
    return coins.balance(call.store, call.partner_id, call.query["userId"])


# --- the sandbox's own API ---------------------------------------------------------------------
def sandbox_coins_get(call: Call) -> Reply:
    user = coins.any_user(call.store, call.params["userId"])
    found = coins.statement(call.store, user)
    ratio = found.company.coin_to_currency_ratio
    account = coin_account(user.user_id)
    return Reply({
        "userId": user.user_id,
        "companyId": user.company_id,
        "balance": found.balance,
        "value": found.balance * ratio,
        "coinToCurrencyRatio": ratio,
        "lots": [_lot(lot) for lot in found.lots],
        "history": [_history_row(posting, account) for posting in found.history],
    })


def _lot(lot: CoinLot) -> dict[str, Any]:
    status = "ACTIVE" if lot.remaining else ("EXPIRED" if lot.expired else "SPENT")
    return {
        "lotId": lot.lot_id,
        "event": lot.event or None,
        "requestId": lot.request_id or None,
        "multiplier": lot.multiplier,
        "earned": int(lot.amount),
        "remaining": int(lot.remaining),
        "expired": int(lot.expired),
        "earnedAt": iso(lot.earned_at),
        "expires": None if lot.expires_at is None else iso(lot.expires_at),
        "status": status,
    }


_HISTORY_TYPES = {coins.ALLOCATE: "EARN", coins.OPENING: "OPENING", coins.EXPIRE: "EXPIRE", coins.SPEND: "SPEND"}


def _history_row(posting: Posting, account: str) -> dict[str, Any]:
    entry = posting.entry_for(account)
    row: dict[str, Any] = {
        "transactionId": posting.id,
        "type": _HISTORY_TYPES.get(posting.kind, posting.kind),
        "coins": int(entry.amount),
        "balance": int(entry.balance_after),
        "at": iso(posting.at),
    }
    if posting.kind == coins.ALLOCATE:
        row.update(event=posting.memo, requestId=posting.reference)
    elif posting.kind == coins.EXPIRE:
        row.update(lotId=posting.memo)
    elif posting.kind == coins.SPEND and posting.memo:
        row.update(memo=posting.memo)
    return row


def sandbox_coins_spend(call: Call) -> Reply:
    store = call.store
    user = coins.any_user(store, call.params["userId"])
    spent = int(call.body["coins"])
    posting = coins.spend(store, user, spent, call.body.get("memo") or "")
    ratio = store.companies[user.company_id].coin_to_currency_ratio
    return Reply({
        "userId": user.user_id,
        "spent": spent,
        "value": spent * ratio,
        "balance": int(store.balance(coin_account(user.user_id))),
        "transactionId": posting.id,
    })


def _company(call: Call) -> Company:
    company = call.store.companies.get(call.params["companyId"])
    if company is None:
        raise errors.CompanyNotFound(company_id=call.params["companyId"])
    return company


def sandbox_coins_settings_get(call: Call) -> Reply:
    return Reply(settings_body(_company(call)))


def sandbox_coins_settings_set(call: Call) -> Reply:
    body = call.body
    company = _company(call)
    promotions = None if body.get("promotions") is None else [_promotion(p) for p in body["promotions"]]
    changes = CoinSettings(
        coin_to_currency_ratio=None if body.get("coinToCurrencyRatio") is None else amount(body["coinToCurrencyRatio"]),
        coin_validity_days=body.get("coinValidityDays"),
        clear_validity="coinValidityDays" in body and body["coinValidityDays"] is None,
        promotions=promotions,
    )
    return Reply(settings_body(coins.update_settings(company, changes)))


def _promotion(doc: dict[str, Any]) -> Promotion:
    starts = moment(doc["starts"], "promotions.starts")
    ends = moment(doc["ends"], "promotions.ends")
    return Promotion(doc["event"], amount(doc["multiplier"]), starts, ends)


def settings_body(company: Company) -> dict[str, Any]:
    return {
        "companyId": company.company_id,
        "coinToCurrencyRatio": company.coin_to_currency_ratio,
        "coinValidityDays": company.coin_validity_days,
        "promotions": [
            {"event": p.event, "multiplier": p.multiplier, "starts": iso(p.starts), "ends": iso(p.ends)}
            for p in company.promotions
        ],
    }
