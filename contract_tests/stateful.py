"""A RuleBasedStateMachine drives token calls, new holders, top-ups, debits, overdrafts, bulk
uploads, retries with a used reference, a reference reused for another request, coin events and
coin allocations (with retried requestIds), and, when the target has the sandbox's admin API,
funding and redemptions. After every step the target must agree with a small model built from
what the run itself did: the account's balance and counters moved by exactly the run's own
moves, the run's cards hold what the model says, account + cards + redeemed is conserved, coin
balances are exact.

Each run starts from whatever the target holds (read, never assumed) and sends identifiers of
this run only, so runs never collide, on a sandbox or on a target that cannot be reset. The
model's numbers are deltas from the state read at the start of each run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import seed
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, precondition, rule, run_state_machine_as_test

from .api import ALLOCATE, Partner, sum_balances
from .contract import INSUFFICIENT, require
from .magic import MagicTable
from .profiles import contract_settings
from .properties import refused_business
from .session import Session

AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50"), places=2)
COUNTERS = ("totalAllocationPoint", "totalCards", "activeCards")


class Ledger(RuleBasedStateMachine):
    """One run: a logged-in partner, the account as it was at the start, and the run's own cards."""

    session: Session
    cards = Bundle("cards")
    references = Bundle("references")

    def __init__(self) -> None:
        super().__init__()
        self.api = self.session.fresh_api()
        self.partner = Partner(self.api, self.session.ids, self.session.magic)
        details, _ = self.partner.account()
        self.available = Decimal(str(details["availableBalance"]))
        self.base = {name: Decimal(str(details.get(name, 0))) for name in COUNTERS}
        self.moved = {name: Decimal(0) for name in COUNTERS}
        cards, _ = self.partner.cards()
        self.initial_total = self.available + sum_balances(cards) + Decimal(str(details.get("totalRedemptionPoint", 0)))
        self.outside = Decimal(0)  # loaded in (+) through the sandbox's admin API, when it is there
        self.mine: dict[str, Decimal] = {}  # the run's own cards -> otbBalance
        self.users: dict[str, str] = {}  # card -> userId
        self.replies: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # reference -> (body, first payload)
        self.coin_events: dict[str, int] = {}
        self.coins: dict[str, int] = {}  # userId -> coins the run credited
        self.coin_base: dict[str, int] = {}
        self.coin_requests: dict[str, tuple[str, str]] = {}  # requestId -> (userId, event)

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
        admin = self.session.admin()
        assert admin is not None
        with admin:
            response = admin.request("POST", f"/__sandbox/cards/{card}/redeem", json_body={"amount": drawn},
                                     headers={"Authorization": "Bearer " + admin.admin_token} if admin.admin_token else None)
        if drawn <= self.mine[card]:
            assert response.status_code == 200, response.text
            self.mine[card] -= drawn

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
