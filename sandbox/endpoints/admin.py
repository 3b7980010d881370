"""The sandbox's own API under /__sandbox/: health, reset, clock, and moves a partner cannot
make through EnKash's API (funding an account, a card holder's redemption)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ..clock import parse_iso
from ..domain import errors, rewards
from ..http import Call, Reply
from .fields import amount


def health(call: Call) -> Reply:
    return Reply({"status": "ok", "seed": call.state.seed, "state": call.store.summary()})


def reset(call: Call) -> Reply:
    seed = call.query.get("seed")
    if seed is not None and not re.fullmatch(r"-?[0-9]{1,18}", seed):
        raise errors.InvalidField(field="seed", problem="must be an integer")
    call.state.reset(int(seed) if seed is not None else None)
    return Reply({"status": "reset", "seed": call.state.seed, "state": call.store.summary()})


def clock_get(call: Call) -> Reply:
    return Reply(call.store.clock.describe())


_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: Any) -> timedelta:
    """`30d`, `1d12h`, `90s`, or a number of seconds."""
    if isinstance(text, (int, Decimal)) and not isinstance(text, bool):
        return timedelta(seconds=float(text))
    match = _DURATION.match(str(text)) if text else None
    if not match or not any(match.groups()):
        raise errors.InvalidField(field="advance", problem="must be seconds or a duration like 30d, 12h, 1d12h30m")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def clock_set(call: Call) -> Reply:
    body: dict[str, Any] = call.body
    clock = call.store.clock
    if body.get("now") is not None:
        try:
            clock.set(parse_iso(str(body["now"])))
        except ValueError:
            raise errors.InvalidField(field="now", problem="is not an ISO-8601 date-time") from None
    if body.get("advance") is not None:
        delta = parse_duration(body["advance"])
        if delta < timedelta(0):
            raise errors.InvalidField(field="advance", problem="must not be negative")
        clock.advance(delta)
    if body.get("frozen") is True:
        clock.freeze()
    elif body.get("frozen") is False:
        clock.run()
    return Reply(clock.describe())


def account_load(call: Call) -> Reply:
    account = call.store.accounts.get(call.params["cardAccountId"])
    if account is None:
        raise errors.CardAccountNotFound(company_id="", card_account_id=call.params["cardAccountId"])
    posting = rewards.load_account(call.store, account, amount(call.body["amount"]))
    return Reply({"cardAccountId": account.card_account_id, "availableBalance": call.store.balance(account.card_account_id), "transactionId": posting.id})


def card_redeem(call: Call) -> Reply:
    card = call.store.cards.get(call.params["enKashCardId"])
    if card is None:
        raise errors.CardNotFound(card_id=call.params["enKashCardId"])
    posting = rewards.redeem(call.store, card, amount(call.body["amount"]))
    return Reply({"enKashCardId": card.card_id, "otbBalance": call.store.balance(card.card_id), "transactionId": posting.id})
