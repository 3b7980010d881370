"""A RuleBasedStateMachine drives token calls, new users, top-ups, debits, bulk uploads, retries
with repeated references, funding and redemptions, coin events and coin allocations; after every
step the server must agree with a small reference model: balances conserved between the account
and its cards, no double credit, counters true, coin balances exact.

On failure hypothesis prints the steps, and the report carries the seed and every request of the
failing run as curl lines (conftest.py)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, precondition, rule


from .conftest import CLIENTS, Target
from .contract import assert_documented
from .profiles import contract_settings

AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)
COINS_COMPANY, COIN_USERS = "CEK0TCW2W8", ("EKQZVMQK", "EK6CYE6K")  # the default fixtures' coin samples
ALLOCATE = "/api/v0/partner/enKashCard/create-allocate-points"
_RUN = itertools.count(1)


def outcome(body: dict[str, Any]) -> tuple[int, str]:
    """(code, message) from either envelope: business failures come in variant B by default."""
    if "code" in body:
        return body["code"], body["message"]
    return body["response_code"], body["response_message"]


class Ledger(RuleBasedStateMachine):
    """One run = one fresh sandbox (or, on a foreign URL, whatever state the account is in)."""

    target: Target
    node: Any = None
    cards = Bundle("cards")
    references = Bundle("references")

    def __init__(self) -> None:
        super().__init__()
        target = self.target
        self.run = next(_RUN)
        self.api = target.client()
        if target.is_sandbox:
            self.api.reset()
        self.api.log.clear()
        if self.node is not None:
            self.node.stash[CLIENTS] = [self.api]
        self.login()
        details = self.account()
        self.account_balance: Decimal = Decimal(str(details["availableBalance"]))
        self.total_allocation: Decimal = Decimal(str(details["totalAllocationPoint"]))
        self.card_balances: dict[str, Decimal] = {c["enKashCardId"]: Decimal(str(c.get("otbBalance", 0))) for c in self.listed()}
        self.initial_total = self.account_balance + sum(self.card_balances.values())
        self.outside = Decimal(0)  # loaded in (+) and redeemed out (-) through the sandbox's own API
        self.replies: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # reference -> (body, first payload)
        self.sequence = itertools.count(1)
        self.coins: dict[str, int] = {}
        self.coin_events: dict[str, int] = {}
        self.coin_requests: dict[str, str] = {}  # requestId -> "userId|event"
        self.coin_base = {user: self.coin_balance(user) for user in COIN_USERS} if target.is_sandbox else {}

    # --- helpers -------------------------------------------------------------------------------
    def login(self) -> None:
        t = self.target
        self.api.login(t.client_id, t.client_secret, t.username, t.password, t.partner_id)

    def post(self, path: str, body: Any, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.api.post(path, body, params=params)
        full = path if path.startswith("/") else "/api/v0/partner/enKashCard/" + path
        assert response.status_code < 500, response.text
        return assert_documented(response, "POST", full)  # type: ignore[no-any-return]

    def account(self) -> dict[str, Any]:
        body = self.post("cardAccount/get", {"companyId": self.target.company_id, "cardAccountId": self.target.account_id})
        assert outcome(body)[0] == 0, body
        return body["payload"]  # type: ignore[no-any-return]

    def listed(self) -> list[dict[str, Any]]:
        body = self.post("search", {"companyId": self.target.company_id, "cardAccountId": self.target.account_id},
                         params={"limit": 1000})
        assert outcome(body)[0] == 0, body
        return body["payload"]["data"]  # type: ignore[no-any-return]

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{self.target.partner_id}-{self.run}-{next(self.sequence)}"

    def allocate(self, body: dict[str, Any]) -> dict[str, Any]:
        full = {"companyId": self.target.company_id, "cardAccountId": self.target.account_id,
                "transactionCode": "ALLOCATION", **body}
        answer = self.post(ALLOCATE, full)
        return answer

    # --- rules ---------------------------------------------------------------------------------
    @rule()
    def token_again(self) -> None:
        self.login()

    @rule(target=cards, amount=AMOUNTS)
    def new_user(self, amount: Decimal) -> Any:
        n = next(self.sequence)
        reference = self.unique("NEW")
        mobile = f"7{self.run % 1000:03d}{n:06d}"
        body = {"transactionType": "CR", "type": "ALLOCATE_POINT", "email": f"u{self.run}.{n}@example.com",
                "mobile": mobile, "title": "Ms", "firstName": "Model", "gender": "F", "loadAmount": amount,
                "uniqueReferenceNumber": reference}
        answer = self.allocate(body)
        if amount > self.account_balance:
            assert outcome(answer)[0] == 1, answer
            return multiple()
        assert outcome(answer)[0] == 0, answer
        card = answer["payload"]["enKashCardId"]
        assert card not in self.card_balances
        assert Decimal(str(answer["payload"]["otbBalance"])) == amount
        self.account_balance -= amount
        self.total_allocation += amount
        self.card_balances[card] = amount
        self.replies[reference] = (body, answer["payload"])
        return card

    @rule(target=references, card=cards, amount=AMOUNTS, credit=st.booleans(), alias=st.booleans())
    def move(self, card: str, amount: Decimal, credit: bool, alias: bool) -> Any:
        reference = self.unique("TOP" if credit else "DEB")
        body = {"enkashCardId" if alias else "enKashCardId": card, "loadAmount": amount,
                "transactionType": "CR" if credit else "DR", "type": "ALLOCATE_POINT" if credit else "UNALLOCATE_POINT",
                "uniqueReferenceNum" if alias else "uniqueReferenceNumber": reference}
        answer = self.allocate(body)
        source = self.account_balance if credit else self.card_balances[card]
        if amount > source:
            assert outcome(answer)[0] == 1 and "Insufficient" in outcome(answer)[1], answer
            return multiple()
        assert outcome(answer)[0] == 0, answer
        delta = amount if credit else -amount
        self.card_balances[card] += delta
        self.account_balance -= delta
        if credit:
            self.total_allocation += amount
        assert Decimal(str(answer["payload"]["otbBalance"])) == self.card_balances[card]
        self.replies[reference] = (body, answer["payload"])
        return reference

    @rule(reference=references)
    def retry_same_request(self, reference: str) -> None:
        body, first = self.replies[reference]
        answer = self.allocate(body)
        assert outcome(answer)[0] == 0, answer
        assert answer["payload"]["enkashCardTxnId"] == first["enkashCardTxnId"]  # replayed, not credited again

    @rule(reference=references, extra=AMOUNTS)
    def reuse_reference_for_another_request(self, reference: str, extra: Decimal) -> None:
        body, _ = self.replies[reference]
        answer = self.allocate(dict(body, loadAmount=body["loadAmount"] + extra))
        assert outcome(answer)[0] == 1 and "Duplicate" in outcome(answer)[1], answer

    @rule(amounts=st.lists(AMOUNTS, min_size=1, max_size=3))
    def bulk_upload(self, amounts: list[Decimal]) -> None:
        rows = []
        for amount in amounts:
            n = next(self.sequence)
            rows.append({"title": "Mr", "name": "Bulk Model", "email": f"b{self.run}.{n}@example.com",
                         "mobile": f"8{self.run % 1000:03d}{n:06d}", "loadAmount": amount,
                         "uniqueReferenceNumber": self.unique("BULK")})
        params = {"companyId": self.target.company_id, "cardAccountId": self.target.account_id, "isPointsAllocation": "true"}
        answer = self.post("bulk-create-allocate-points-json", rows, params=params)
        assert outcome(answer)[0] == 0, answer
        payload = answer["payload"]
        assert payload["totalCount"] == len(rows) == payload["successCount"] + payload["failedCount"]
        for row in payload["successBulkEnKashCardCreateDTOs"]:
            amount = Decimal(str(row["loadAmount"]))
            self.card_balances[row["enKashCardId"]] = amount
            self.account_balance -= amount
            self.total_allocation += amount
        assert payload["failedCount"] == 0 or sum(amounts) > self.account_balance, payload

    @precondition(lambda self: self.target.is_sandbox)
    @rule(amount=AMOUNTS)
    def fund_account(self, amount: Decimal) -> None:
        self.api.load_account(self.target.account_id, amount)
        self.account_balance += amount
        self.outside += amount

    @precondition(lambda self: self.target.is_sandbox)
    @rule(card=cards, amount=AMOUNTS)
    def holder_redeems(self, card: str, amount: Decimal) -> None:
        response = self.api.request("POST", f"/__sandbox/cards/{card}/redeem", json_body={"amount": amount})
        body = assert_documented(response, "POST", "/__sandbox/cards/{enKashCardId}/redeem")
        if amount > self.card_balances[card]:
            assert body["response_code"] == 1, body
            return
        assert response.status_code == 200 and Decimal(str(body["otbBalance"])) == self.card_balances[card] - amount
        self.card_balances[card] -= amount
        self.outside -= amount

    @precondition(lambda self: self.target.is_sandbox)
    @rule(coins=st.integers(min_value=1, max_value=50))
    def coin_event(self, coins: int) -> None:
        event = f"MODEL_EVENT_{self.run}_{next(self.sequence)}"
        body = {"companyId": COINS_COMPANY, "configuration": "CUSTOM", "event": event, "amount": coins}
        response = self.api.request("POST", "/api/v0/enkash-coins/create-coins-config", json_body=body,
                                    headers={"Authorization": "Bearer " + self.api.access_token})
        answer = assert_documented(response, "POST", "/api/v0/enkash-coins/create-coins-config")
        assert outcome(answer)[0] == 0, answer
        self.coin_events[event] = coins

    @precondition(lambda self: self.target.is_sandbox and bool(self.coin_events))
    @rule(data=st.data(), user=st.sampled_from(COIN_USERS), retry=st.booleans())
    def coin_allocation(self, data: st.DataObject, user: str, retry: bool) -> None:
        event = data.draw(st.sampled_from(sorted(self.coin_events)))
        if retry and self.coin_requests:
            request_id = data.draw(st.sampled_from(sorted(self.coin_requests)))
            user, event = self.coin_requests[request_id].split("|")
        else:
            request_id = self.unique("COIN")
        body = {"companyId": COINS_COMPANY, "event": event, "requestId": request_id, "userId": user}
        response = self.api.request("POST", "/api/v0/enkash-coins/allocate-coin", json_body=body,
                                    headers={"Authorization": "Bearer " + self.api.access_token})
        answer = assert_documented(response, "POST", "/api/v0/enkash-coins/allocate-coin")
        assert outcome(answer)[0] == 0, answer
        if request_id not in self.coin_requests:
            self.coin_requests[request_id] = f"{user}|{event}"
            self.coins[user] = self.coins.get(user, 0) + self.coin_events[event]

    # --- invariants: the server agrees with the model after every step -------------------------
    @invariant()
    def balances_agree_and_are_conserved(self) -> None:
        details = self.account()
        listed = {c["enKashCardId"]: Decimal(str(c["otbBalance"])) for c in self.listed()}
        assert Decimal(str(details["availableBalance"])) == self.account_balance
        assert listed == self.card_balances, "card balances differ from the model (double credit?)"
        assert Decimal(str(details["availableBalance"])) + sum(listed.values()) == self.initial_total + self.outside
        assert details["totalCards"] >= len(listed) - 1  # the primary card may or may not be listed
        assert Decimal(str(details["totalAllocationPoint"])) == self.total_allocation

    @invariant()
    def coin_balances_are_exact(self) -> None:
        for user, base in self.coin_base.items():
            assert self.coin_balance(user) == base + self.coins.get(user, 0), f"coins of {user}"

    def coin_balance(self, user: str) -> int:
        response = self.api.request("GET", "/api/v0/coins/balance", params={"userId": user},
                                    headers={"Authorization": "Bearer " + self.api.access_token})
        answer = assert_documented(response, "GET", "/api/v0/coins/balance")
        assert outcome(answer)[0] == 0, answer
        return answer["payload"]  # type: ignore[no-any-return]

    def teardown(self) -> None:
        self.api.close()


def test_server_agrees_with_the_reference_model(target: Target, request: pytest.FixtureRequest) -> None:
    machine = type("LedgerAgainstTarget", (Ledger,), {"target": target, "node": request.node})
    machine.TestCase.settings = contract_settings()
    machine.TestCase().runTest()
