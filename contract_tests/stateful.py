"""A RuleBasedStateMachine drives token calls, new holders, top-ups, debits, overdrafts, bulk
uploads, retries with a used reference, a reference reused for another request, coin events and
coin allocations (with retried requestIds), voucher orders for the run's card holders (funded or
beyond the card) and their replays, and, when the target has the sandbox's admin API, funding,
redemptions and pending orders failed with a refund. After every step the target must agree with
a small model built from what the run itself did: the account's balance and counters moved by
exactly the run's own moves, the run's cards hold what the model says, totalRedemptionPoint grew
by the run's orders, account + cards + redeemed is conserved, coin balances are exact.

Each run starts from whatever the target holds (read, never assumed) and sends identifiers of
this run only, so runs never collide, on a sandbox or on a target that cannot be reset. The
model's numbers are deltas from the state read at the start of each run."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import seed
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, precondition, rule, run_state_machine_as_test

from .api import ALLOCATE, Partner, sum_balances
from .contract import INSUFFICIENT, require
from .magic import MagicTable
from .profiles import contract_settings
from .properties import order_offers, refused_business
from .session import Session

AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50"), places=2)
COUNTERS = ("totalAllocationPoint", "totalCards", "activeCards")


class Ledger(RuleBasedStateMachine):
    """One run: a logged-in partner, the account as it was at the start, and the run's own cards."""

    session: Session
    cards = Bundle("cards")
    references = Bundle("references")
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.api = self.session.fresh_api()
        self.partner = Partner(self.api, self.session.ids, self.session.magic)
        details, _ = self.partner.account()
        self.available = Decimal(str(details["availableBalance"]))
        self.base = {name: Decimal(str(details.get(name, 0))) for name in COUNTERS}
        self.moved = {name: Decimal(0) for name in COUNTERS}
        cards, _ = self.partner.cards()
        self.redeemed_base = Decimal(str(details.get("totalRedemptionPoint", 0)))
        self.redeemed = Decimal(0)  # what the run's own orders and redemptions added to totalRedemptionPoint
        self.initial_total = self.available + sum_balances(cards) + self.redeemed_base
        self.outside = Decimal(0)  # loaded in (+) through the sandbox's admin API, when it is there
        self.mine: dict[str, Decimal] = {}  # the run's own cards -> otbBalance
        self.users: dict[str, str] = {}  # card -> userId
        self.replies: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # reference -> (body, first payload)
        self.coin_events: dict[str, int] = {}
        self.coins: dict[str, int] = {}  # userId -> coins the run credited
        self.coin_base: dict[str, int] = {}
        self.coin_requests: dict[str, tuple[str, str]] = {}  # requestId -> (userId, event)
        self.offers = order_offers(self.session)[0]  # {} when the target takes no orders: the order rules do not run
        self.placed: dict[str, Placed] = {}  # orderReferenceId -> the run's order

    def amount(self, drawn: Decimal) -> Decimal:
        return self.session.magic.amount(drawn)

    def credited(self, card: str, amount: Decimal, new: bool) -> None:
        self.mine[card] = self.mine.get(card, Decimal(0)) + amount
        self.available -= amount
        self.moved["totalAllocationPoint"] += amount
        if new:
            self.moved["totalCards"] += 1
            self.moved["activeCards"] += 1

    # --- rules -------------------------------------------------------------------------------------
    @rule()
    def token_again(self) -> None:
        self.api.login()

    @rule(target=cards, drawn=AMOUNTS)
    def new_holder(self, drawn: Decimal) -> Any:
        amount = self.amount(drawn)
        answer, _ = self.partner.new_holder(amount)
        if amount > self.available:
            require(answer.refused, "no-overdraft-credit", f"a new holder's credit of {amount} beyond availableBalance {self.available} succeeded", answer)
            refused_business(answer, INSUFFICIENT, "a new holder's credit beyond the account")
            return multiple()
        require(answer.ok, "balances", f"a new holder's credit of {amount} (availableBalance {self.available}) was refused", answer)
        card = answer.payload["enKashCardId"]
        require(card not in self.mine, "balances", f"a new holder got the run's existing card {card}", answer)
        require(Decimal(str(answer.payload["otbBalance"])) == amount, "balances",
                f"a new card credited {amount} answered otbBalance {answer.payload['otbBalance']}", answer)
        self.credited(card, amount, new=True)
        self.users[card] = answer.payload["userId"]
        return card

    @rule(target=references, card=cards, drawn=AMOUNTS, credit=st.booleans(), aliases=st.booleans())
    def move(self, card: str, drawn: Decimal, credit: bool, aliases: bool) -> Any:
        amount = self.amount(drawn)
        answer, body = self.partner.move(card, amount, credit, aliases=aliases)
        source = self.available if credit else self.mine[card]
        if amount > source:
            contract = "no-overdraft-credit" if credit else "no-overdraft-debit"
            require(answer.refused, contract, f"a {'credit' if credit else 'debit'} of {amount} beyond {source} succeeded", answer)
            refused_business(answer, INSUFFICIENT, f"a {'credit' if credit else 'debit'} beyond the balance")
            return multiple()
        require(answer.ok, "balances", f"a {'credit' if credit else 'debit'} of {amount} (balance {source}) was refused", answer)
        if credit:
            self.credited(card, amount, new=False)
        else:
            self.mine[card] -= amount
            self.available += amount
        require(Decimal(str(answer.payload["otbBalance"])) == self.mine[card], "balances",
                f"the answer says otbBalance {answer.payload['otbBalance']}, the card should hold {self.mine[card]}", answer)
        reference = body.get("uniqueReferenceNumber") or body["uniqueReferenceNum"]
        self.replies[reference] = (body, answer.payload)
        return reference

    @rule(card=cards, credit=st.booleans(), extra=AMOUNTS)
    def overdraw(self, card: str, credit: bool, extra: Decimal) -> None:
        source = self.available if credit else self.mine[card]
        amount = self.amount(source + extra)
        if amount > Decimal("10000000"):
            return
        answer, _ = self.partner.move(card, amount, credit)
        contract = "no-overdraft-credit" if credit else "no-overdraft-debit"
        require(answer.refused, contract, f"a {'credit' if credit else 'debit'} of {amount} beyond {source} succeeded", answer)
        refused_business(answer, INSUFFICIENT, f"a {'credit' if credit else 'debit'} beyond the balance")

    @rule(reference=references)
    def retry_same_request(self, reference: str) -> None:
        body, first = self.replies[reference]
        answer = self.partner.allocate(body)
        require(answer.ok, "idempotent-reference", f"the same request with reference {reference} again was refused", answer)
        require(answer.payload["enkashCardTxnId"] == first["enkashCardTxnId"], "idempotent-reference",
                f"the replay of {reference} answered enkashCardTxnId {answer.payload['enkashCardTxnId']}, first {first['enkashCardTxnId']}",
                answer)

    @rule(reference=references, extra=AMOUNTS)
    def reuse_reference_for_another_request(self, reference: str, extra: Decimal) -> None:
        body, _ = self.replies[reference]
        answer = self.partner.allocate(dict(body, loadAmount=self.amount(Decimal(str(body["loadAmount"])) + extra)))
        require(answer.refused, "reference-reuse-refused", f"reference {reference} reused for another amount succeeded", answer)
        refused_business(answer, None, "a reference reused for another amount")

    @rule(drawn=st.lists(AMOUNTS, min_size=1, max_size=3))
    def bulk_upload(self, drawn: list[Decimal]) -> None:
        rows = []
        for amount in drawn:
            holder = self.session.ids.holder()
            rows.append({"title": "Mr", "name": holder["firstName"], "email": holder["email"], "mobile": holder["mobile"],
                         "loadAmount": self.amount(amount), "uniqueReferenceNumber": self.session.ids.reference("B")})
        params = dict(self.partner.scope, isPointsAllocation="true")
        answer = self.partner.post("bulk-create-allocate-points-json", rows, params=params)
        require(answer.ok, "balances", "a bulk upload of new holders was refused", answer)
        payload = answer.payload
        require(payload.get("totalCount") == len(rows) == payload.get("successCount", 0) + payload.get("failedCount", 0),
                "documented-shapes", f"a bulk upload of {len(rows)} rows counted {payload.get('totalCount')}", answer)
        for row in payload["successBulkEnKashCardCreateDTOs"]:
            self.credited(row["enKashCardId"], Decimal(str(row["loadAmount"])), new=True)
            self.users[row["enKashCardId"]] = row["userId"]
        wanted = sum(Decimal(str(r["loadAmount"])) for r in rows)
        require(payload.get("failedCount", 0) == 0 or wanted > self.available + sum(Decimal(str(r["loadAmount"]))
                for r in payload["successBulkEnKashCardCreateDTOs"]), "no-overdraft-credit",
                "bulk rows failed although the account could pay for them", answer)

    @rule(coins=st.integers(min_value=1, max_value=50))
    def coin_event(self, coins: int) -> None:
        answer, event = self.partner.coin_event(coins)
        if answer.ok:
            self.coin_events[event] = coins

    @precondition(lambda self: bool(self.coin_events) and bool(self.users))
    @rule(data=st.data(), retry=st.booleans())
    def coin_allocation(self, data: st.DataObject, retry: bool) -> None:
        if retry and self.coin_requests:
            request_id = data.draw(st.sampled_from(sorted(self.coin_requests)))
            user, event = self.coin_requests[request_id]
        else:
            user = data.draw(st.sampled_from(sorted(self.users.values())[:3]))
            event = data.draw(st.sampled_from(sorted(self.coin_events)))
            request_id = self.session.ids.request_id()
        if user not in self.coin_base:
            self.coin_base[user], _ = self.partner.coin_balance(user)
        answer = self.partner.allocate_coin(user, event, request_id)
        require(answer.ok, "coins-credited", f"allocate-coin of event {event} to the run's user {user} was refused", answer)
        if request_id not in self.coin_requests:
            self.coin_requests[request_id] = (user, event)
            self.coins[user] = self.coins.get(user, 0) + self.coin_events[event]

    @precondition(lambda self: bool(self.offers))
    @rule(target=orders, card=cards, quantity=st.integers(min_value=1, max_value=3), top_up=st.booleans(), extra=AMOUNTS,
          data=st.data())
    def place_order(self, card: str, quantity: int, top_up: bool, extra: Decimal, data: st.DataObject) -> Any:
        """An order for the card's holder (ekUserId); with `top_up` the card is first credited what it lacks (and
        `extra`, or nothing), else the order is most likely beyond it and must be refused, moving nothing."""
        kind = data.draw(st.sampled_from(sorted(self.offers)))
        offer = self.offers[kind]
        cost = offer.price * quantity
        if top_up and cost > self.mine[card]:
            need = self.amount(cost - self.mine[card] + (extra if data.draw(st.booleans()) else 0))
            if need <= self.available:
                answer, _ = self.partner.move(card, need, credit=True)
                require(answer.ok, "balances", f"a credit of {need} (availableBalance {self.available}) was refused", answer)
                self.credited(card, need, new=False)
        balance = self.mine[card]
        answer, body = self.partner.order(self.users[card], offer, quantity, check=False)
        if cost > balance:
            require(answer.refused, "no-overdraft-order", f"an order of {quantity} x {offer.price} = {cost} from a card holding {balance} succeeded",
                    answer)
            self.partner.api.check(answer)
            refused_business(answer, INSUFFICIENT, "an order beyond the card's otbBalance")
            return multiple()
        self.partner.api.check(answer)
        require(answer.ok, "order-payment", f"an order of {quantity} x {offer.price} = {cost} from a card holding {balance} was refused", answer)
        payload = answer.payload
        status = "PENDING" if kind == "pending" else "SUCCESS"
        require(Decimal(str(payload.get("totalAmount"))) == cost and payload.get("ekUserId") == self.users[card]
                and payload.get("orderReferenceId") == body["orderReferenceId"] and payload.get("orderStatus") == status, "order-payment",
                f"an order of {quantity} x {offer.price} for {self.users[card]} answered totalAmount {payload.get('totalAmount')}, ekUserId "
                f"{payload.get('ekUserId')}, orderReferenceId {payload.get('orderReferenceId')}, orderStatus {payload.get('orderStatus')} "
                f"(expected {cost}, {self.users[card]}, {body['orderReferenceId']}, {status})", answer)
        self.mine[card] -= cost
        self.redeemed += cost
        self.placed[body["orderReferenceId"]] = Placed(body, payload, card, cost)
        return body["orderReferenceId"]

    @rule(reference=orders)
    def replay_order(self, reference: str) -> None:
        """The same order again: the order as it stands (no second one, no second debit; the invariants check the money)."""
        order = self.placed[reference]
        answer = self.partner.place(order.body)
        require(answer.ok, "idempotent-order", f"the same order with orderReferenceId {reference} again was refused", answer)
        if order.payload is None or settled_by_clock(order.payload, answer.payload):  # a pending order the target's clock fulfilled
            require(answer.payload.get("orderId") == order.first["orderId"] and answer.payload.get("orderStatus") in ("SUCCESS", "FAILED"),
                    "idempotent-order", f"the replay of {reference} answered order {answer.payload.get('orderId')} "
                    f"{answer.payload.get('orderStatus')}, first {order.first['orderId']}", answer)
            order.payload = answer.payload
        require(answer.payload == order.payload, "idempotent-order", f"the replay of {reference} answered another order", answer)

    @precondition(lambda self: self.session.target.is_sandbox and any(o.payload and o.payload["orderStatus"] == "PENDING"
                                                                       for o in self.placed.values()))
    @rule(data=st.data())
    def fail_pending_order(self, data: st.DataObject) -> None:
        """The sandbox's own control (admin API only): a PENDING order fails now and its price goes back to the card."""
        reference = data.draw(st.sampled_from(sorted(r for r, o in self.placed.items() if o.payload and o.payload["orderStatus"] == "PENDING")))
        order = self.placed[reference]
        response = self.admin_post(f"/__sandbox/orders/{order.first['orderId']}/complete", {"orderStatus": "FAILED"})
        if response.status_code == 422 and "is SUCCESS, not PENDING" in response.text:  # the sandbox clock fulfilled it first: it stays paid
            order.payload = None
            return
        assert response.status_code == 200, response.text
        answer = response.json()
        require(answer.get("orderStatus") == "FAILED" and answer.get("paymentStatus") == "REFUNDED", "order-payment",
                f"order {order.first['orderId']} completed as FAILED answered {answer.get('orderStatus')} / {answer.get('paymentStatus')}")
        self.mine[order.card] += order.cost
        self.redeemed -= order.cost
        order.payload = answer

    def admin_post(self, path: str, body: dict[str, Any]) -> Any:
        admin = self.session.admin()
        assert admin is not None
        with admin:
            return admin.request("POST", path, json_body=body,
                                 headers={"Authorization": "Bearer " + admin.admin_token} if admin.admin_token else None)

    @precondition(lambda self: self.session.target.is_sandbox)
    @rule(drawn=AMOUNTS)
    def fund_account(self, drawn: Decimal) -> None:
        admin = self.session.admin()
        assert admin is not None
        with admin:
            admin.load_account(self.session.target.account_id, drawn)
        self.available += drawn
        self.outside += drawn

    @precondition(lambda self: self.session.target.is_sandbox)
    @rule(card=cards, drawn=AMOUNTS)
    def holder_redeems(self, card: str, drawn: Decimal) -> None:
        response = self.admin_post(f"/__sandbox/cards/{card}/redeem", {"amount": drawn})
        if drawn <= self.mine[card]:
            assert response.status_code == 200, response.text
            self.mine[card] -= drawn
            self.redeemed += drawn

    # --- the target agrees with the model after every step -----------------------------------------------
    @invariant()
    def balances_and_counters(self) -> None:
        details, account_read = self.partner.account()
        cards, reads = self.partner.cards()
        listed = {c["enKashCardId"]: Decimal(str(c["otbBalance"])) for c in cards}
        available = Decimal(str(details["availableBalance"]))
        redeemed = Decimal(str(details.get("totalRedemptionPoint", 0)))
        require(available + sum(listed.values()) + redeemed == self.initial_total + self.outside, "conservation",
                f"availableBalance {available} + cards {sum(listed.values())} + totalRedemptionPoint {redeemed} is "
                f"{available + sum(listed.values()) + redeemed}, was {self.initial_total} (+{self.outside} funded)",
                account_read, *reads[:1])
        require(available == self.available, "balances",
                f"availableBalance is {available}; the run's own moves leave {self.available}", account_read)
        mine = {card: listed.get(card) for card in self.mine}
        require(mine == self.mine, "balances", f"the run's cards hold {mine}, the model {self.mine}", *reads[:1])
        require(redeemed - self.redeemed_base == self.redeemed, "order-payment",
                f"totalRedemptionPoint moved by {redeemed - self.redeemed_base}; the run's own orders (and refunds) make {self.redeemed}",
                account_read)
        for name in COUNTERS:
            delta = Decimal(str(details.get(name, 0))) - self.base[name]
            require(delta == self.moved[name], f"counter-{name}", f"{name} moved by {delta}; the run's own moves make {self.moved[name]}",
                    account_read)

    @invariant()
    def coin_balances_are_exact(self) -> None:
        for user, base in self.coin_base.items():
            balance, read = self.partner.coin_balance(user)
            require(balance == base + self.coins.get(user, 0), "coins-credited",
                    f"user {user} holds {balance} coins; {base} before the run and {self.coins.get(user, 0)} credited by it", read)

    def teardown(self) -> None:
        """Points back to the account (best effort), so a long-lived target's account does not drain."""
        for card, balance in self.mine.items():
            for part in clear_of_magic(self.session.magic, balance):
                self.partner.post(ALLOCATE, {**self.partner.scope, "transactionCode": "ALLOCATION", "enKashCardId": card,
                                             "transactionType": "DR", "type": "UNALLOCATE_POINT", "loadAmount": part,
                                             "uniqueReferenceNumber": self.session.ids.reference("C")}, check=False)
        self.api.close()


@dataclass
class Placed:
    """One order of the run: the body sent, the order as the model knows it now (None: settled by the
    target's clock, read again at the next replay), its card and price."""

    body: dict[str, Any]
    first: dict[str, Any]
    card: str
    cost: Decimal
    payload: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.payload = self.first if self.payload is None else self.payload


def settled_by_clock(known: dict[str, Any], now: dict[str, Any]) -> bool:
    """A PENDING order answered as fulfilled since (pendingSeconds on the target's clock)."""
    return known.get("orderStatus") == "PENDING" and now.get("orderStatus") == "SUCCESS"


def clear_of_magic(magic: MagicTable, amount: Decimal) -> list[Decimal]:
    """`amount` as one or two non-magic amounts that add up to it (nothing for zero)."""
    if amount <= 0:
        return []
    if not magic.is_magic("loadAmount", amount):
        return [amount]
    part = Decimal("1.00")
    while part < amount and (magic.is_magic("loadAmount", part) or magic.is_magic("loadAmount", amount - part)):
        part += Decimal("1.00")
    return [part, amount - part] if part < amount else []


def run_machine(session: Session, shrink: bool = False) -> None:
    machine = seed(session.seed)(type("LedgerOfThisRun", (Ledger,), {"session": session}))
    run_state_machine_as_test(machine, settings=contract_settings(session.budget, stateful=True, shrink=shrink))
