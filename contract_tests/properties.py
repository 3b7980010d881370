"""The documented partner contracts as checks through EnKash's API alone: each check makes its own
cards with this run's identifiers, asks the target, and compares the target with itself before
and after. None needs /__sandbox/; none assumes what the target held before the run.

A check is a function of a Session; `CHECKS` lists them in the order they run (the cheapest and
most basic first). The same functions run under pytest (test_contracts.py), under the partner
runner and under the mutation test."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from .api import ALLOCATE, ORDER, PARTNER, Exchange, Offer, Partner, sum_balances
from .contract import INSUFFICIENT, ContractViolation, catalogue, require
from .session import Session

D = Decimal


class NotApplicable(Exception):
    """The target does not serve what this check needs (said why); a skip, never a pass."""


@dataclass(frozen=True)
class Check:
    name: str
    contracts: tuple[str, ...]
    run: Callable[[Session], None]


CHECKS: list[Check] = []


def check(name: str, *contracts: str) -> Callable[[Callable[[Session], None]], Callable[[Session], None]]:
    def register(function: Callable[[Session], None]) -> Callable[[Session], None]:
        CHECKS.append(Check(name, contracts, function))
        return function
    return register


# --- helpers ---------------------------------------------------------------------------------------
def new_card(session: Session, amount: str = "10") -> tuple[str, str, Exchange]:
    """A fresh card of this run holding `amount`: (enKashCardId, userId, the answer)."""
    exchange, _ = session.partner.new_holder(D(amount))
    require(exchange.ok, "balances", f"a credit of {amount} to a new holder was refused", exchange)
    return exchange.payload["enKashCardId"], exchange.payload["userId"], exchange


def account_numbers(partner: Partner) -> tuple[Decimal, dict[str, Any], Exchange]:
    payload, exchange = partner.account()
    return D(str(payload["availableBalance"])), payload, exchange


def unchanged(session: Session, card: str, before: tuple[Decimal, Decimal], contract: str, what: str, *shown: Exchange) -> None:
    """The card's otbBalance and the account's availableBalance are what they were."""
    balance, card_read = session.partner.balance_of(card)
    available, _, account_read = account_numbers(session.partner)
    require((balance, available) == before, contract,
            f"{what}; card {card} otbBalance {before[0]} -> {balance}, availableBalance {before[1]} -> {available}",
            *shown, card_read, account_read)


def snapshot(session: Session, card: str) -> tuple[Decimal, Decimal]:
    return session.partner.balance_of(card)[0], account_numbers(session.partner)[0]


def refused_business(exchange: Exchange, message: str | None, what: str) -> None:
    """A business refusal's form: HTTP 200, code 1, the message (if one is documented)."""
    code, text = exchange.outcome
    require(exchange.status == 200 and code == 1, "business-failures",
            f"{what} was refused with HTTP {exchange.status} code {code!r}, not HTTP 200 code 1", exchange)
    require(bool(text) and (message is None or text == message), "business-failures",
            f"{what} was refused with message {text!r}" + (f", not {message!r}" if message else ""), exchange)


# --- every answer ------------------------------------------------------------------------------------
@check("reference echo", "reference-echo")
def reference_echo(session: Session) -> None:
    partner = session.partner
    card, _, first = new_card(session, "5")  # allocate() itself checks the echo of every success
    top_up, body = partner.move(card, D("1.5"), credit=True, aliases=True)
    require(top_up.ok, "balances", "a top-up of 1.5 was refused", top_up)
    references = {first.payload["pgReferenceNumber"], body["uniqueReferenceNum"]}
    rows, _, listing = partner.transactions(enKashCardId=card)
    seen = {row.get("pgReferenceNumber") for row in rows}
    require(references <= seen, "reference-echo",
            f"transaction/all of card {card} shows pgReferenceNumber {sorted(map(str, seen))}, not the references sent {sorted(references)}",
            listing)


@check("id formats", "id-formats")
def id_formats(session: Session) -> None:
    """The answers' schemas already hold the patterns (Api.check); this asks for each kind of id once."""
    import re

    card, user, answer = new_card(session, "3")
    row, search = session.partner.card(card)
    rows, _, listing = session.partner.transactions(enKashCardId=card)
    patterns = {"enKashCardId": r"EKC[A-Z0-9]{7}", "userId": r"EK[A-Z0-9]{6}", "enkashCardTxnId": r"ECT[A-Z0-9]{10}",
                "token": r"[0-9a-f]{20}", "maskedNumber": r"XXXX XXXX XXXX [0-9]{4}"}
    for name, pattern in patterns.items():
        value = str(answer.payload.get(name))
        require(re.fullmatch(pattern, value) is not None, "id-formats", f"{name} {value!r} is not {pattern}", answer)
    for got in [row.get("enKashCardId"), *(r.get("enKashCardTransactionId") for r in rows)]:
        require(re.fullmatch(r"(EKC[A-Z0-9]{7}|ECT[A-Z0-9]{10})", str(got)) is not None, "id-formats",
                f"{got!r} is not an EnKash card or transaction id", search, listing)


@check("missing field", "missing-field")
def missing_field(session: Session) -> None:
    partner = session.partner
    card, _, _ = new_card(session, "4")
    before = snapshot(session, card)
    body = {**partner.scope, "transactionCode": "ALLOCATION", "enKashCardId": card, "transactionType": "CR",
            "type": "ALLOCATE_POINT", "loadAmount": partner.magic.amount(D("1")), "uniqueReferenceNumber": partner.ids.reference("M")}
    # a top-up with a card id needs only these (doc-1039425; companyId and transactionCode may be left out)
    for name in ("transactionType", "type", "loadAmount"):
        exchange = partner.post(ALLOCATE, {k: v for k, v in body.items() if k != name}, check=False)
        require(exchange.status == 400 and exchange.outcome[0] == 1, "missing-field",
                f"create-allocate-points without {name} was answered HTTP {exchange.status} code {exchange.outcome[0]!r}", exchange)
        partner.api.check(exchange)
    exchange = partner.post("cardAccount/get", {"companyId": partner.target.company_id}, check=False)
    require(exchange.status == 400 and exchange.outcome[0] == 1, "missing-field",
            f"cardAccount/get without cardAccountId was answered HTTP {exchange.status} code {exchange.outcome[0]!r}", exchange)
    unchanged(session, card, before, "missing-field", "after requests without a mandatory field")


@check("invalid requests", "invalid-request")
def invalid_request(session: Session) -> None:
    partner = session.partner
    card, _, _ = new_card(session, "4")
    before = snapshot(session, card)
    body = {**partner.scope, "transactionCode": "ALLOCATION", "enKashCardId": card, "transactionType": "CR",
            "type": "ALLOCATE_POINT", "loadAmount": partner.magic.amount(D("1")), "uniqueReferenceNumber": partner.ids.reference("V")}
    broken: list[tuple[str, dict[str, Any]]] = [
        ("loadAmount as text", {"body": dict(body, loadAmount="ten")}),
        ("an undocumented transactionType", {"body": dict(body, transactionType="XX")}),
        ("a negative loadAmount", {"body": dict(body, loadAmount=D("-5"))}),
        ("a list instead of an object", {"body": [body]}),
        ("a body that is not JSON", {"raw": b'{"companyId": ', "headers": {"Content-Type": "application/json"}}),
        ("a text/plain body", {"raw": b"companyId=X", "headers": {"Content-Type": "text/plain"}}),
    ]
    for what, request in broken:
        exchange = partner.api.call("POST", ALLOCATE, check=False, **request)
        require(exchange.status in (400, 415, 422) and exchange.outcome[0] == 1, "invalid-request",
                f"create-allocate-points with {what} was answered HTTP {exchange.status} code {exchange.outcome[0]!r}", exchange)
        partner.api.check(exchange)
    unchanged(session, card, before, "invalid-request", "after requests that break the schema")


@check("unknown ids", "unknown-ids")
def unknown_ids(session: Session) -> None:
    partner = session.partner
    digest = hashlib.sha256(session.ids.run_id.encode()).hexdigest().upper()
    ghost = "EKC" + "".join(c for c in digest if c.isalpha())[:2] + digest[:5]
    cases = [
        ("search", dict(partner.scope, enKashCardId=ghost), f"search for card {ghost}"),
        ("cardAccount/get", {"companyId": partner.target.company_id, "cardAccountId": "CA" + digest[:7]}, "cardAccount/get of an unknown account"),
    ]
    for path, body, what in cases:
        exchange = partner.post(path, body, check=False)
        require(exchange.status == 404 and exchange.outcome[0] == 1, "unknown-ids",
                f"{what} was answered HTTP {exchange.status} code {exchange.outcome[0]!r}", exchange)
        partner.api.check(exchange)


# --- money -------------------------------------------------------------------------------------------
@check("business failures", "business-failures")
def business_failures(session: Session) -> None:
    partner = session.partner
    card, _, _ = new_card(session, "2")
    debit, _ = partner.move(card, D("2.01"), credit=False)
    if debit.refused:
        refused_business(debit, INSUFFICIENT, "a debit beyond the card's otbBalance")
    available, _, _ = account_numbers(partner)
    if available + D("0.01") <= D("10000000"):
        credit, _ = partner.move(card, available + D("0.01"), credit=True)
        if credit.refused:
            refused_business(credit, INSUFFICIENT, "a credit beyond the account's availableBalance")
        else:
            partner.move(card, available + D("0.01"), credit=False)  # give it back; no-overdraft-credit says why it is wrong
    top_up, body = partner.move(card, D("1"), credit=True)
    require(top_up.ok, "balances", "a top-up of 1 was refused", top_up)
    reused = partner.allocate(dict(body, loadAmount=partner.magic.amount(D("1.5"))))
    if reused.refused:
        refused_business(reused, None, "a uniqueReferenceNumber reused for another amount")


@check("no credit beyond the account", "no-overdraft-credit")
def no_overdraft_credit(session: Session) -> None:
    partner = session.partner
    card, _, _ = new_card(session, "1")
    before = snapshot(session, card)
    beyond = before[1] + D("0.01")
    if beyond > D("10000000"):
        raise NotApplicable(f"the account holds {before[1]}: a credit beyond it exceeds the documented largest loadAmount")
    credit, _ = partner.move(card, beyond, credit=True)
    if credit.ok:
        partner.move(card, beyond, credit=False)
    require(credit.refused, "no-overdraft-credit", f"a credit of {beyond} with availableBalance {before[1]} succeeded", credit)
    unchanged(session, card, before, "no-overdraft-credit", "after a refused credit beyond the account", credit)


@check("no debit beyond the card", "no-overdraft-debit")
def no_overdraft_debit(session: Session) -> None:
    partner = session.partner
    card, _, _ = new_card(session, "3")
    before = snapshot(session, card)
    debit, _ = partner.move(card, before[0] + D("0.01"), credit=False)
    require(debit.refused, "no-overdraft-debit", f"a debit of {before[0] + D('0.01')} from a card holding {before[0]} succeeded", debit)
    unchanged(session, card, before, "no-overdraft-debit", "after a refused debit beyond the card", debit)


@check("conservation", "conservation")
def conservation(session: Session) -> None:
    partner = session.partner

    def total() -> tuple[Decimal, list[Exchange]]:
        available, payload, account_read = account_numbers(partner)
        cards, reads = partner.cards()
        return available + sum_balances(cards) + D(str(payload.get("totalRedemptionPoint", 0))), [account_read, *reads]

    before, _ = total()
    card, _, created = new_card(session, "7")
    top_up, _ = partner.move(card, D("2.5"), credit=True)
    debit, _ = partner.move(card, D("4"), credit=False)
    after, reads = total()
    require(after == before, "conservation",
            f"availableBalance + cards + totalRedemptionPoint was {before} before a new card of 7, a top-up of 2.5 and a debit of 4, "
            f"and {after} after", created, top_up, debit, *reads[:1])


@check("balances", "balances")
def balances(session: Session) -> None:
    partner = session.partner
    card, _, created = new_card(session, "6")
    require(D(str(created.payload["otbBalance"])) == D("6"), "balances",
            f"a new card credited 6 answered otbBalance {created.payload['otbBalance']}", created)
    expected = D("6")
    for amount, credit in ((D("3.25"), True), (D("1.75"), False), (D("0.5"), True)):
        before = snapshot(session, card)
        require(before[0] == expected, "balances", f"search shows otbBalance {before[0]} for card {card}, expected {expected}")
        move, _ = partner.move(card, amount, credit=credit)
        require(move.ok, "balances", f"a {'credit' if credit else 'debit'} of {amount} was refused", move)
        expected += amount if credit else -amount
        answered = D(str(move.payload["otbBalance"]))
        require(answered == expected, "balances",
                f"after a {'credit' if credit else 'debit'} of {amount} to a card holding {before[0]} the answer says otbBalance {answered}", move)
        balance, search = partner.balance_of(card)
        available, _, account_read = account_numbers(partner)
        require(balance == expected, "balances", f"search shows otbBalance {balance}, the answer said {answered}", move, search)
        want = before[1] - amount if credit else before[1] + amount
        require(available == want, "balances",
                f"availableBalance went {before[1]} -> {available} for a {'credit' if credit else 'debit'} of {amount} (expected {want})",
                move, account_read)


@check("bulk upload", "balances")
def bulk_upload(session: Session) -> None:
    partner = session.partner
    available, _, _ = account_numbers(partner)
    rows = []
    for amount in (D("2"), D("3.5")):
        holder = session.ids.holder()
        rows.append({"title": "Mr", "name": holder["firstName"], "email": holder["email"], "mobile": holder["mobile"],
                     "loadAmount": partner.magic.amount(amount), "uniqueReferenceNumber": session.ids.reference("B")})
    answer = partner.post("bulk-create-allocate-points-json", rows, params=dict(partner.scope, isPointsAllocation="true"))
    made = answer.payload.get("successBulkEnKashCardCreateDTOs", []) if answer.ok else []
    require(answer.ok and len(made) == 2, "balances", f"a bulk upload of two new holders credited {len(made)} of them", answer)
    for row, sent in zip(made, rows):
        balance, search = partner.balance_of(row["enKashCardId"])
        require(balance == sent["loadAmount"], "balances", f"a bulk row of {sent['loadAmount']} left its card holding {balance}", answer, search)
    after, _, read = account_numbers(partner)
    require(after == available - D("5.5"), "balances", f"a bulk upload of 2 + 3.5 moved availableBalance {available} -> {after}", answer, read)


# --- idempotency -------------------------------------------------------------------------------------
@check("replayed reference", "idempotent-reference")
def idempotent_reference(session: Session) -> None:
    partner = session.partner
    card, _, _ = new_card(session, "5")
    first, body = partner.move(card, D("2"), credit=True)
    require(first.ok, "balances", "a top-up of 2 was refused", first)
    before = snapshot(session, card)
    again = partner.allocate(body)
    require(again.ok, "idempotent-reference", "the same request with the same uniqueReferenceNumber was refused", first, again)
    require(again.payload["enkashCardTxnId"] == first.payload["enkashCardTxnId"], "idempotent-reference",
            f"the replay answered enkashCardTxnId {again.payload['enkashCardTxnId']}, the first {first.payload['enkashCardTxnId']}", first, again)
    unchanged(session, card, before, "idempotent-reference", "after the same request again", again)


@check("reused reference", "reference-reuse-refused")
def reference_reuse(session: Session) -> None:
    partner = session.partner
    card, _, _ = new_card(session, "5")
    first, body = partner.move(card, D("2"), credit=True)
    require(first.ok, "balances", "a top-up of 2 was refused", first)
    before = snapshot(session, card)
    other = partner.allocate(dict(body, loadAmount=partner.magic.amount(D("3"))))
    require(other.refused, "reference-reuse-refused", "a top-up of 3 with the reference of a top-up of 2 succeeded", first, other)
    unchanged(session, card, before, "reference-reuse-refused", "after a refused reuse of a reference", other)


def coin_user(session: Session) -> tuple[str, str, int]:
    """(userId, event, coins per event): a holder of this run and an event of this run."""
    if "coins" not in session.cache:
        partner = session.partner
        _, user, _ = new_card(session, "1")
        coins = 7
        made, event = partner.coin_event(coins)
        if not made.ok:
            raise NotApplicable(f"the target refused to create a coin event: {made.outcome[1]}")
        session.cache["coins"] = (user, event, coins)
    return session.cache["coins"]  # type: ignore[no-any-return]


@check("coins credited", "coins-credited")
def coins_credited(session: Session) -> None:
    user, event, coins = coin_user(session)
    partner = session.partner
    before, _ = partner.coin_balance(user)
    allocated = partner.allocate_coin(user, event, session.ids.request_id())
    require(allocated.ok, "coins-credited", f"allocate-coin for event {event} was refused", allocated)
    after, read = partner.coin_balance(user)
    require(after - before == coins, "coins-credited", f"an allocation for an event of {coins} coins moved the balance {before} -> {after}",
            allocated, read)


@check("replayed requestId", "idempotent-request-id")
def idempotent_request_id(session: Session) -> None:
    user, event, coins = coin_user(session)
    partner = session.partner
    request_id = session.ids.request_id()
    first = partner.allocate_coin(user, event, request_id)
    require(first.ok, "coins-credited", f"allocate-coin for event {event} was refused", first)
    before, _ = partner.coin_balance(user)
    again = partner.allocate_coin(user, event, request_id)
    require(again.ok, "idempotent-request-id", "the same coin allocation with the same requestId was refused", again)
    after, read = partner.coin_balance(user)
    require(after == before, "idempotent-request-id", f"the same requestId again moved the coin balance {before} -> {after}", again, read)
    _, other_event = partner.coin_event(coins + 1)
    other = partner.allocate_coin(user, other_event, request_id)
    if other.refused:
        refused_business(other, None, "a requestId reused for another event")
    final, read = partner.coin_balance(user)
    require(final == after, "idempotent-request-id", f"a requestId reused for another event moved the balance {after} -> {final}", other, read)


# --- redemption --------------------------------------------------------------------------------------
PENDING_PRODUCT = "PC900000000PENDG"  # the sandbox's own test voucher whose orders stay PENDING (fixtures/default.yaml)


def order_offers(session: Session) -> tuple[dict[str, Offer], str]:
    """({"order": the target's voucher, "pending": the sandbox's pending test voucher (admin API only)},
    why there are none). None when create-order is not served (404/405 to a request without its
    fields, which changes nothing) or Get Product Configs does not offer the voucher."""
    if "offers" not in session.cache:
        partner, target = session.partner, session.target
        offers: dict[str, Offer] = {}
        probe = partner.api.call("POST", ORDER, body={}, check=False)
        reason = f"the target does not serve POST {ORDER} (HTTP {probe.status} {probe.text[:200]})"
        if probe.status not in (404, 405):
            offer, read = partner.offer(target.product_catalog_id, target.denomination)
            reason = f"the target does not offer {target.product_catalog_id} at {target.denomination} (HTTP {read.status} {read.text[:200]})"
            if offer is not None:
                offers["order"] = offer
                pending, _ = partner.offer(PENDING_PRODUCT, 100) if target.is_sandbox else (None, read)
                if pending is not None:
                    offers["pending"] = pending
        session.cache["offers"] = (offers, reason)
    return session.cache["offers"]  # type: ignore[no-any-return]


def the_offer(session: Session) -> Offer:
    offers, reason = order_offers(session)
    if "order" not in offers:
        raise NotApplicable(reason)
    return offers["order"]


def redeemed_total(partner: Partner) -> tuple[Decimal, Exchange]:
    _, payload, exchange = account_numbers(partner)
    return D(str(payload.get("totalRedemptionPoint", 0))), exchange


@check("order paid from the card", "order-payment")
def order_payment(session: Session) -> None:
    """One voucher from a card funded for two and a bit: the card pays exactly its sellRate (once),
    the account's availableBalance does not move, totalRedemptionPoint grows by the price."""
    partner, offer = session.partner, the_offer(session)
    card, user, _ = new_card(session, str(offer.price * 2 + 5))
    before = snapshot(session, card)
    redeemed, _ = redeemed_total(partner)
    placed, body = partner.order(user, offer, 1)
    require(placed.ok, "order-payment", f"an order of one {offer.denomination} voucher ({offer.price}) from a card holding {before[0]} was refused",
            placed)
    require(D(str(placed.payload.get("totalAmount"))) == offer.price and placed.payload.get("orderReferenceId") == body["orderReferenceId"],
            "order-payment", f"an order of one voucher at {offer.price} answered totalAmount {placed.payload.get('totalAmount')}, "
            f"orderReferenceId {placed.payload.get('orderReferenceId')!r}", placed)
    after = snapshot(session, card)
    later, read = redeemed_total(partner)
    require(after == (before[0] - offer.price, before[1]) and later == redeemed + offer.price, "order-payment",
            f"an order of {offer.price} moved card {card} otbBalance {before[0]} -> {after[0]}, availableBalance {before[1]} -> {after[1]}, "
            f"totalRedemptionPoint {redeemed} -> {later}", placed, read)


@check("no order beyond the card", "no-overdraft-order")
def no_overdraft_order(session: Session) -> None:
    partner, offer = session.partner, the_offer(session)
    card, user, _ = new_card(session, str(offer.price - D("0.01")))
    before = snapshot(session, card)
    redeemed, _ = redeemed_total(partner)
    placed, _ = partner.order(user, offer, 1, check=False)
    require(placed.refused, "no-overdraft-order", f"an order of {offer.price} from a card holding {before[0]} succeeded", placed)
    partner.api.check(placed)
    refused_business(placed, INSUFFICIENT, "an order beyond the card's otbBalance")
    unchanged(session, card, before, "no-overdraft-order", "after a refused order beyond the card", placed)
    later, read = redeemed_total(partner)
    require(later == redeemed, "no-overdraft-order", f"a refused order moved totalRedemptionPoint {redeemed} -> {later}", placed, read)


@check("replayed order", "idempotent-order")
def idempotent_order(session: Session) -> None:
    """A partner orders for a user it names (ekUserId): a new holder of this run, funded for two
    vouchers, so the order draws on nothing the target held before and a second charge would show."""
    partner, offer = session.partner, the_offer(session)
    card, user, _ = new_card(session, str(offer.price * 2 + 3))
    first, body = partner.order(user, offer, 1)
    require(first.ok, "order-payment", f"an order of one voucher ({offer.price}) from a card funded for two was refused", first)
    before = snapshot(session, card)
    redeemed, _ = redeemed_total(partner)
    again = partner.place(body)
    require(again.ok, "idempotent-order", "the same order with the same orderReferenceId was refused", first, again)
    require(again.payload == first.payload, "idempotent-order", "the replayed order answered another order", first, again)
    unchanged(session, card, before, "idempotent-order", "the replayed order moved money", first, again)
    later, read = redeemed_total(partner)
    require(later == redeemed, "idempotent-order", f"totalRedemptionPoint went {redeemed} -> {later} on the replay", again, read)


# --- counters ----------------------------------------------------------------------------------------
def counter_scene(session: Session) -> dict[str, Any]:
    """A new card credited 3, a top-up of 4 and a debit of 1 between two account reads, bracketed by
    postings whose dates prove both reads fell in one month (else the month counter is not checked)."""
    if "counters" in session.cache:
        return session.cache["counters"]  # type: ignore[no-any-return]
    partner = session.partner
    card, _, opening = new_card(session, "2")
    _, before, _ = account_numbers(partner)
    second, _, made = new_card(session, "3")
    top_up, _ = partner.move(card, D("4"), credit=True)
    debit, _ = partner.move(card, D("1"), credit=False)
    _, after, read = account_numbers(partner)
    closing, _ = partner.move(card, D("0.5"), credit=True)
    rows, _, _ = partner.transactions(pgReferenceNumbers=[opening.payload["pgReferenceNumber"], closing.payload["pgReferenceNumber"]])
    months = {str(row.get("txnDate", ""))[:7] for row in rows}
    scene = {"before": before, "after": after, "credited": D("3") + D("4"), "cards": 1, "one_month": len(months) == 1 and len(rows) == 2,
             "shown": [made, debit, read]}
    session.cache["counters"] = scene
    return scene


def _counter(name: str, grows: str) -> Callable[[Session], None]:
    def run(session: Session) -> None:
        scene = counter_scene(session)
        if name == "currentMonthAllocationPoint" and not scene["one_month"]:
            raise NotApplicable("the account reads straddled a month's end")
        delta = D(str(scene["after"][name])) - D(str(scene["before"][name]))
        want = scene[grows]
        require(delta == want, f"counter-{name}",
                f"{name} went {scene['before'][name]} -> {scene['after'][name]} over a new card credited 3, a top-up of 4 and a debit of 1"
                f" (expected +{want})", *scene["shown"])
    return run


for _name, _grows in (("totalAllocationPoint", "credited"), ("currentMonthAllocationPoint", "credited"),
                      ("totalCards", "cards"), ("activeCards", "cards")):
    check(f"counter {_name}", f"counter-{_name}")(_counter(_name, _grows))


# --- filters -----------------------------------------------------------------------------------------
def ledger_scene(session: Session) -> dict[str, Any]:
    """Card A with four transactions of distinct amounts and times (credits and debits), card B with
    one; the rows of A as transaction/all lists them, checked against what was sent."""
    if "ledger" in session.cache:
        return session.cache["ledger"]  # type: ignore[no-any-return]
    partner = session.partner
    card_a, user_a, opening = new_card(session, "6")
    sent = [(opening.payload["pgReferenceNumber"], D("6"), "CR")]
    for amount, credit in ((D("4"), True), (D("2.5"), False), (D("1.25"), True)):
        time.sleep(0.003)  # distinct transaction times, so a date between two of them exists
        move, body = partner.move(card_a, amount, credit=credit)
        require(move.ok, "balances", f"a {'credit' if credit else 'debit'} of {amount} was refused", move)
        sent.append((body["uniqueReferenceNumber"], partner.magic.amount(amount), "CR" if credit else "DR"))
    card_b, _, _ = new_card(session, "3")
    rows, count, listing = partner.transactions(enKashCardId=card_a)
    got = sorted((str(r.get("pgReferenceNumber")), D(str(r.get("principalAmount"))), str(r.get("cardTransactionType"))) for r in rows)
    require(got == sorted(sent) and count == len(sent), "txn-filter-enKashCardId",
            f"transaction/all of card {card_a} listed {count} rows {got}, the suite made {sorted(sent)}", listing)
    scene = {"a": card_a, "user": user_a, "b": card_b, "rows": rows, "name": rows[0].get("cardHolderName") if rows else None}
    session.cache["ledger"] = scene
    return scene


def _txn_cases(spec: dict[str, Any], scene: dict[str, Any]) -> list[tuple[Any, list[dict[str, Any]]]]:
    """(filter value, the rows of card A it must select) for one documented filter."""
    field, row_field, match = spec["field"], spec["row"], spec["match"]
    rows: list[dict[str, Any]] = scene["rows"]
    if match == "in":
        chosen = [rows[0].get(row_field), rows[2].get(row_field)]
        return [(chosen, [r for r in rows if r.get(row_field) in chosen])]
    if match == "equals":
        values = {"enKashCardId": [scene["a"]], "enkashCardId": [scene["a"]], "userId": [scene["user"]],
                  "cardHolderName": [scene["name"]], "cardTransactionType": ["DR", "CR"],
                  "status": sorted({str(r.get("status")) for r in rows} | {"CREATED"})}.get(field, [rows[1].get(row_field)])
        return [(v, [r for r in rows if r.get(row_field) == v]) for v in values]
    numeric = row_field == "principalAmount"
    keys = [D(str(r[row_field])) if numeric else _instant(str(r[row_field])) for r in rows]
    distinct = sorted(set(keys))
    if len(distinct) < 2:
        raise NotApplicable(f"the card's transactions all share one {row_field}, so no bound falls between two of them")
    bound = _midpoint(distinct[0], distinct[1], numeric)
    selected = [r for r, k in zip(rows, keys) if (k >= bound if match == "at-least" else k <= bound)]
    return [(bound if numeric else _iso(bound), selected)]


def _instant(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _midpoint(low: Any, high: Any, numeric: bool) -> Any:
    """A bound strictly between two values (so whether a bound is inclusive does not matter)."""
    if not numeric:
        return low + (high - low) / 2
    for places in (D("0.01"), D("0.001"), D("0.0001")):
        middle = ((low + high) / 2).quantize(places)
        if low < middle < high:
            return middle
    return (low + high) / 2


def _iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _txn_filter(spec: dict[str, Any]) -> Callable[[Session], None]:
    contract = f"txn-filter-{spec['field']}"

    def run(session: Session) -> None:
        scene = ledger_scene(session)
        for value, expected in _txn_cases(spec, scene):
            filters = {spec["field"]: value}
            if spec["scope"] == "card":
                filters["enKashCardId"] = scene["a"]
            got, count, listing = session.partner.transactions(**filters)
            ids = sorted(str(r.get("enKashCardTransactionId")) for r in got)
            want = sorted(str(r.get("enKashCardTransactionId")) for r in expected)
            require(ids == want and count == len(want), contract,
                    f"transaction/all with {filters} listed {count} rows {ids[:8]}; the matching rows are {want}", listing)
    return run


for _spec in catalogue()["transaction_filters"]:
    check(f"transaction/all filter {_spec['field']}", f"txn-filter-{_spec['field']}")(_txn_filter(_spec))


def _search_filter(spec: dict[str, Any]) -> Callable[[Session], None]:
    def run(session: Session) -> None:
        scene = ledger_scene(session)
        partner = session.partner
        exchange = partner.post("search", dict(partner.scope, **{spec["field"]: scene["a"]}))
        data = exchange.payload.get("data", []) if exchange.ok else []
        got = [row.get(spec["row"]) for row in data]
        require(exchange.ok and got == [scene["a"]] and exchange.payload.get("recordsCount") == 1, f"search-filter-{spec['field']}",
                f"search with {spec['field']} {scene['a']} returned {exchange.payload.get('recordsCount') if exchange.ok else 'a refusal'}"
                f" cards {got[:5]}", exchange)
    return run


for _spec in catalogue()["search_filters"]:
    check(f"search filter {_spec['field']}", f"search-filter-{_spec['field']}")(_search_filter(_spec))


def run_checks(session: Session, checks: list[Check] | None = None, stop_at_first: bool = False) -> list[tuple[Check, BaseException | None]]:
    """Each check in order: (check, None) when it held, else what it raised."""
    results: list[tuple[Check, BaseException | None]] = []
    for item in checks or CHECKS:
        try:
            item.run(session)
            results.append((item, None))
        except (ContractViolation, NotApplicable) as outcome:
            results.append((item, outcome))
            if stop_at_first and isinstance(outcome, ContractViolation):
                break
    return results


__all__ = ["CHECKS", "Check", "NotApplicable", "PARTNER", "run_checks"]
