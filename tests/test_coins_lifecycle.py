"""Coins over time, over real HTTP: expiry across clock advances (FIFO lots), promotions inside
and outside their window, simulated spends, the sandbox's coin settings, and fixtures' coins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterator

import httpx
import pytest
from conftest import DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER
from test_coins import COIN_COMPANY, COIN_USER, START, Coins, SandboxCoins, docs, failure, frozen  # noqa: F401

from sandbox.documents import fixtures
from sandbox.state.clock import Clock, iso, parse_iso
from sandbox.state.ids import IdFactory
from sandbox.settings import Settings
from sandbox.state.store import COIN, Store
from sandbox.tools.testing import ServerThread


def at(days: int = 0, hours: int = 0) -> str:
    """START plus a duration, as the sandbox prints times."""
    return iso(parse_iso(START) + timedelta(days=days, hours=hours))


def lots(view: dict[str, Any]) -> list[tuple[int, int, int, str, str | None]]:
    return [(lot["earned"], lot["remaining"], lot["expired"], lot["status"], lot["expires"]) for lot in view["lots"]]


def history(view: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    return [(row["type"], row["coins"], row["balance"], row["at"]) for row in view["history"]]


def conserved(store: Store) -> None:
    assert store.ledger.total(COIN) == 0
    assert store.ledger.replayed_balances() == {a: store.ledger.balance(a) for a in store.ledger.accounts()}


# --- expiry --------------------------------------------------------------------------------------
def test_coins_expire_first_in_first_out_as_the_clock_advances(docs: Coins, frozen: SandboxCoins, server: ServerThread) -> None:
    assert frozen.settings(coinValidityDays=30).status_code == 200
    docs.allocated(request_id="R1")  # 10 coins at START, expire at START+30d
    frozen.advance("10d", docs)
    docs.allocated(request_id="R2")  # 10 coins at START+10d, expire at START+40d
    frozen.advance("19d23h59m59s", docs)
    assert docs.balance() == 20  # one second before the first lot's expiry
    frozen.advance("1s", docs)
    assert docs.balance() == 10  # the first lot expired exactly at START+30d
    view = frozen.view()
    assert lots(view) == [(10, 0, 10, "EXPIRED", at(30)), (10, 10, 0, "ACTIVE", at(40))]
    assert history(view) == [("EARN", 10, 10, START), ("EARN", 10, 20, at(10)), ("EXPIRE", -10, 10, at(30))]
    assert view["history"][2]["lotId"] == view["lots"][0]["lotId"]

    frozen.advance("30d", docs)  # far past both expiries: each lot expires once, dated at its own expiry
    assert docs.balance() == 0
    assert history(frozen.view())[-2:] == [("EXPIRE", -10, 10, at(30)), ("EXPIRE", -10, 0, at(40))]
    conserved(server.state.store)


def test_without_a_validity_coins_never_expire(docs: Coins, frozen: SandboxCoins) -> None:
    docs.allocated()
    frozen.advance("3650d", docs)
    assert docs.balance() == 10
    assert lots(frozen.view()) == [(10, 10, 0, "ACTIVE", None)]


def test_a_new_validity_applies_to_coins_earned_from_then_on(docs: Coins, frozen: SandboxCoins) -> None:
    docs.allocated(request_id="R1")  # no validity: never expires
    frozen.settings(coinValidityDays=5)
    docs.allocated(request_id="R2")
    frozen.settings(coinValidityDays=None)
    frozen.advance("6d", docs)
    assert docs.balance() == 10
    assert lots(frozen.view()) == [(10, 10, 0, "ACTIVE", None), (10, 0, 10, "EXPIRED", at(5))]


# --- spend ---------------------------------------------------------------------------------------
def test_spend_uses_the_soonest_expiring_coins_first(docs: Coins, frozen: SandboxCoins, server: ServerThread) -> None:
    frozen.settings(coinValidityDays=30, coinToCurrencyRatio=0.25)
    docs.allocated(request_id="R1")
    frozen.advance("10d", docs)
    docs.allocated(request_id="R2")
    spent = frozen.spend(15, memo="order 42")
    assert spent.status_code == 200
    body = spent.json()
    assert body == {"userId": COIN_USER, "spent": 15, "value": 3.75, "balance": 5, "transactionId": body["transactionId"]}
    assert docs.balance() == 5
    frozen.advance("20d", docs)  # the first lot's expiry: it was spent, nothing expires
    assert docs.balance() == 5
    frozen.advance("10d", docs)  # the second lot's expiry: its 5 remaining coins expire
    assert docs.balance() == 0
    view = frozen.view()
    assert lots(view) == [(10, 0, 0, "SPENT", at(30)), (10, 0, 5, "EXPIRED", at(40))]
    assert history(view) == [
        ("EARN", 10, 10, START), ("EARN", 10, 20, at(10)), ("SPEND", -15, 5, at(10)), ("EXPIRE", -5, 0, at(40)),
    ]
    assert view["history"][2]["memo"] == "order 42"
    conserved(server.state.store)


def test_a_spend_beyond_the_balance_changes_nothing(docs: Coins, frozen: SandboxCoins, server: ServerThread) -> None:
    frozen.settings(coinValidityDays=1)
    docs.allocated()
    too_much = frozen.spend(11)
    assert (too_much.status_code, too_much.json()) == (422, failure("Insufficient coins: userId EKQZVMQK has 10, the spend needs 11"))
    frozen.advance("1d", docs)
    expired = frozen.spend(1)  # the coins expired on the clock: none are left to spend
    assert expired.json() == failure("Insufficient coins: userId EKQZVMQK has 0, the spend needs 1")
    assert server.state.store.ledger.count("coin:EKQZVMQK") == 1  # not even the due expiry was written
    assert [row["type"] for row in frozen.view()["history"]] == ["EARN", "EXPIRE"]


@pytest.mark.parametrize(("body", "status", "message"), [
    ({}, 400, "coins is required"),
    ({"coins": 0}, 422, "coins must be at least 1"),
    ({"coins": 2.5}, 422, "coins must be an integer"),
])
def test_spend_shape_errors(frozen: SandboxCoins, body: dict[str, Any], status: int, message: str) -> None:
    response = frozen.http.post(f"/__sandbox/coins/{COIN_USER}/spend", json=body)
    assert (response.status_code, response.json()) == (status, failure(message))


def test_unknown_users_in_the_sandbox_coin_api(frozen: SandboxCoins) -> None:
    for response in (frozen.http.get("/__sandbox/coins/EKNOPE00"), frozen.spend(1, user="EKNOPE00")):
        assert (response.status_code, response.json()) == (404, failure("User not found for userId: EKNOPE00"))


def test_the_sandbox_view_of_a_user_without_coins(frozen: SandboxCoins) -> None:
    assert frozen.view("EK6CYE6K") == {
        "userId": "EK6CYE6K", "companyId": COIN_COMPANY, "balance": 0, "value": 0, "coinToCurrencyRatio": 1,
        "lots": [], "history": [],
    }


# --- promotions ----------------------------------------------------------------------------------
def test_promotions_multiply_inside_their_window_only(docs: Coins, frozen: SandboxCoins) -> None:
    promotion = {"event": "REFERRAL_EVENT", "multiplier": 2, "starts": at(1), "ends": at(2)}
    assert frozen.settings(promotions=[promotion]).status_code == 200
    docs.allocated(request_id="BEFORE")
    frozen.advance("1d", docs)  # exactly at starts: inside
    docs.allocated(request_id="AT-START")
    docs.allocated(event="INVOICE_PAYMENT", request_id="OTHER-EVENT")  # another event is not promoted
    frozen.advance("23h", docs)
    docs.allocated(request_id="INSIDE")
    frozen.advance("1h", docs)  # exactly at ends: outside
    docs.allocated(request_id="AT-END")
    assert docs.balance() == 10 + 20 + 10 + 20 + 10
    assert [(lot["requestId"], lot["multiplier"], lot["earned"]) for lot in frozen.view()["lots"]] == [
        ("BEFORE", 1, 10), ("AT-START", 2, 20), ("OTHER-EVENT", 1, 10), ("INSIDE", 2, 20), ("AT-END", 1, 10),
    ]


def test_promoted_coins_round_down_and_overlapping_promotions_do_not_compound(docs: Coins, frozen: SandboxCoins) -> None:
    frozen.settings(promotions=[
        {"event": "INVOICE_PAYMENT", "multiplier": 1.55, "starts": at(0), "ends": at(1)},
        {"event": "REFERRAL_EVENT", "multiplier": 2, "starts": at(0), "ends": at(1)},
        {"event": "REFERRAL_EVENT", "multiplier": 3, "starts": at(0), "ends": at(1)},
    ])
    docs.allocated(event="INVOICE_PAYMENT", request_id="R1")  # 10 x 1.55 = 15.5 -> 15
    assert docs.balance() == 15
    docs.allocated(event="REFERRAL_EVENT", request_id="R2")  # the largest running multiplier: 3
    assert docs.balance() == 45


# --- coin settings (the sandbox's own) ---------------------------------------------------------------
def test_company_coin_settings_read_and_change(frozen: SandboxCoins) -> None:
    default = frozen.http.get(f"/__sandbox/companies/{COIN_COMPANY}/coins")
    assert default.json() == {"companyId": COIN_COMPANY, "coinToCurrencyRatio": 1, "coinValidityDays": None, "promotions": []}
    changed = frozen.settings(coinToCurrencyRatio=0.5, promotions=[
        {"event": "REFERRAL_EVENT", "multiplier": 2, "starts": "2025-03-01T00:00:00Z", "ends": "2025-03-08T00:00:00Z"},
    ])
    assert changed.json() == {"companyId": COIN_COMPANY, "coinToCurrencyRatio": 0.5, "coinValidityDays": None, "promotions": [
        {"event": "REFERRAL_EVENT", "multiplier": 2, "starts": "2025-03-01T00:00:00.000Z", "ends": "2025-03-08T00:00:00.000Z"},
    ]}
    assert frozen.settings(coinValidityDays=7).json()["coinToCurrencyRatio"] == 0.5  # only the fields given change


@pytest.mark.parametrize(("changes", "status", "message"), [
    ({"coinValidityDays": 0}, 422, "coinValidityDays must be at least 1"),
    ({"coinToCurrencyRatio": 0}, 422, "coinToCurrencyRatio must be greater than 0"),
    ({"promotions": [{"event": "REFERRAL_EVENT", "multiplier": 2, "starts": "soon", "ends": "2025-03-08T00:00:00Z"}]},
     422, "promotions.starts is not an ISO-8601 date-time"),
    ({"promotions": [{"event": "REFERRAL_EVENT", "multiplier": 2, "starts": "2025-03-08T00:00:00Z", "ends": "2025-03-01T00:00:00Z"}]},
     422, "promotions for REFERRAL_EVENT: ends must be after starts"),
    ({"promotions": [{"event": "REFERRAL_EVENT", "multiplier": 2, "starts": "2025-03-01T00:00:00Z"}]}, 400, "promotions[0].ends is required"),
])
def test_company_coin_settings_errors_change_nothing(frozen: SandboxCoins, changes: dict[str, Any], status: int, message: str) -> None:
    response = frozen.settings(**changes)
    assert (response.status_code, response.json()) == (status, failure(message))
    assert frozen.http.get(f"/__sandbox/companies/{COIN_COMPANY}/coins").json()["promotions"] == []


def test_company_coin_settings_of_an_unknown_company(frozen: SandboxCoins) -> None:
    response = frozen.settings(company="CEKNOPE000", coinValidityDays=3)
    assert (response.status_code, response.json()) == (404, failure("Company not found for companyId: CEKNOPE000"))


# --- fixtures' coins section -------------------------------------------------------------------
FIXTURE = {
    "partners": [{
        "partnerId": DOCS_PARTNER,
        "clients": [{"clientId": "CEK1GZBO6A", "clientSecret": "64b0ff0332f058b56402b63a9baa60214f2d61d3",
                     "logins": [{"username": "9167019711", "password": "Test@1234567"}]}],
        "companies": [{
            "companyId": "CEKFIXCOIN",
            "coins": {
                "coinToCurrencyRatio": 0.1,
                "coinValidityDays": 7,
                "events": [{"event": "MEAL_CARD_PAYMENT", "amount": 6}, {"coinConfigId": "WCC000001", "event": "REFERRAL_EVENT", "amount": 4}],
                "promotions": [{"event": "MEAL_CARD_PAYMENT", "multiplier": 2, "starts": "2025-03-01T00:00:00Z", "ends": "2025-03-02T00:00:00Z"}],
            },
            "users": [{"userId": "EKFIX001", "coins": 50}, {"userId": "EKFIX002"}],
            "accounts": [{"cardAccountId": "CAFIX01", "availableBalance": 100, "primaryCard": None,
                          "cards": [{"userId": "EKFIX003", "mobile": "9000000099", "coins": 30}]}],
        }],
    }],
}


@pytest.fixture(scope="module")
def fixture_server() -> Iterator[ServerThread]:
    settings = Settings(validate_responses=True, seed=3, clock_start=START, clock_frozen=True)
    with ServerThread(settings, FIXTURE) as running:
        yield running


def test_fixtures_seed_configs_settings_and_opening_balances(fixture_server: ServerThread) -> None:
    with httpx.Client(base_url=fixture_server.url) as http:
        http.post("/__sandbox/reset")
        coins = Coins(http, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
        assert coins.get("WCC000001").json()["payload"] == {
            "coinConfigId": "WCC000001", "configuration": "DEFAULT", "event": "REFERRAL_EVENT", "amount": 4,
        }
        assert (coins.balance("EKFIX001"), coins.balance("EKFIX002"), coins.balance("EKFIX003")) == (50, 0, 30)
        coins.allocated(user="EKFIX002", company="CEKFIXCOIN", event="MEAL_CARD_PAYMENT", request_id="M1")  # promoted: 12
        view = http.get("/__sandbox/coins/EKFIX002").json()
        assert (view["balance"], view["value"]) == (12, 1.2)
        assert lots(http.get("/__sandbox/coins/EKFIX001").json()) == [(50, 50, 0, "ACTIVE", at(7))]
        assert history(http.get("/__sandbox/coins/EKFIX003").json()) == [("OPENING", 30, 30, START)]
        http.post("/__sandbox/clock", json={"advance": "7d"})
        coins.login()
        assert (coins.balance("EKFIX001"), coins.balance("EKFIX003")) == (0, 0)


def test_a_second_config_id_for_a_fixture_event_is_generated_in_the_wcc_format(fixture_server: ServerThread) -> None:
    config = fixture_server.state.store.coin_config_for("CEKFIXCOIN", "MEAL_CARD_PAYMENT")
    assert config is not None and config.coin_config_id.startswith("WCC") and len(config.coin_config_id) == 9


def _populate(company_coins: dict[str, Any], users: list[dict[str, Any]] | None = None) -> Store:
    doc = {"partners": [{"partnerId": "CRMTEST001", "companies": [{"companyId": "CEKTEST001", "coins": company_coins, "users": users or []}]}]}
    fixtures.check_shape(doc, "t.yaml")
    store = Store(Clock(parse_iso(START), frozen=True), IdFactory(1))
    fixtures.populate(store, doc, "t.yaml")
    return store


@pytest.mark.parametrize(("company_coins", "problem"), [
    ({"events": [{"event": "E1", "amount": 1}, {"event": "E1", "amount": 2}]}, "event E1 is configured twice in companyId CEKTEST001"),
    ({"events": [{"coinConfigId": "WCC11111", "event": "E1", "amount": 1}, {"coinConfigId": "WCC11111", "event": "E2", "amount": 1}]},
     "coinConfigId WCC11111 is defined twice"),
    ({"promotions": [{"event": "E1", "multiplier": 2, "starts": "2025-03-02T00:00:00Z", "ends": "2025-03-01T00:00:00Z"}]},
     "ends must be after starts"),
    ({"promotions": [{"event": "E1", "multiplier": 2, "starts": "later", "ends": "2025-03-01T00:00:00Z"}]},
     "starts and ends must be ISO-8601 date-times"),
    ({"ratio": 2}, "Additional properties are not allowed ('ratio' was unexpected)"),
    ({"events": [{"coinConfigId": "CFG1", "event": "E1", "amount": 1}]}, "'CFG1' does not match '^WCC[0-9]{5,6}$'"),
    ({"events": [{"event": "E1", "amount": 0}]}, "0 is less than the minimum of 1"),
])
def test_bad_fixture_coins_name_the_entry(company_coins: dict[str, Any], problem: str) -> None:
    with pytest.raises(fixtures.FixtureError) as caught:
        _populate(company_coins)
    assert caught.value.problem == problem
    assert caught.value.where.startswith("partners[0].companies[0].coins")


def test_a_fixture_user_opening_balance_is_one_lot_in_the_ledger() -> None:
    store = _populate({"coinValidityDays": 3}, [{"userId": "EKTEST01", "coins": 8}])
    assert store.balance("coin:EKTEST01") == 8
    [lot] = store.coin_lots["EKTEST01"]
    assert (lot.amount, lot.remaining, lot.expires_at) == (8, 8, parse_iso(at(3)))
    conserved(store)
