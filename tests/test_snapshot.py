"""The whole state as a document over real HTTP: dump, restore, dump is identical; every kind of
record survives and keeps behaving (tokens, lockouts, SSO grants, coins, ledger, id stream);
a bad document changes nothing; --state-file restores at start and saves on a clean shutdown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import (
    DOCS_ACCOUNT, DOCS_BASIC, DOCS_COMPANY, DOCS_LOGIN, DOCS_PARTNER, OTHER_BASIC, OTHER_LOGIN, Partner, new_user,
)
from sandbox_process import SandboxProcess, run_to_exit

from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread

FROZEN_AT = "2025-06-01T09:30:00.250Z"
COINS = "/api/v0/enkash-coins"


def busy_state(http: httpx.Client) -> Partner:
    """A state with one of everything: cards, postings, tokens, a locked login, an SSO grant, coins."""
    assert http.post("/__sandbox/clock", json={"now": FROZEN_AT, "frozen": True}).status_code == 200
    partner = Partner(http, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
    created = partner.allocate(**new_user(uniqueReferenceNumber="SNAP-1")).json()["payload"]
    assert http.post(f"/__sandbox/accounts/{DOCS_ACCOUNT}/load", json={"amount": 12.5}).status_code == 200
    assert http.post(f"/__sandbox/cards/{created['enKashCardId']}/redeem", json={"amount": 3}).status_code == 200
    sso = partner.post("/sso-token", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "enKashCardId": "EKCDM5AVZY"})
    assert sso.status_code == 200, sso.text
    coins = http.post(f"{COINS}/allocate-coin", headers={"Authorization": f"Bearer {partner.token}"},
                      json={"companyId": "CEK0TCW2W8", "event": "REFERRAL_EVENT", "requestId": "SNAP-COIN", "userId": "EKQZVMQK"})
    assert coins.status_code == 200, coins.text
    for _ in range(3):  # lock the other partner's login
        http.post("/oauth/token", headers={"Authorization": OTHER_BASIC}, data={**OTHER_LOGIN, "password": "wrong"})
    return partner


def dump(http: httpx.Client) -> dict[str, Any]:
    response = http.get("/__sandbox/state")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def put(http: httpx.Client, doc: Any) -> httpx.Response:
    return http.put("/__sandbox/state", content=json.dumps(doc), headers={"Content-Type": "application/json"})


def test_dump_restore_dump_is_identical(http):
    busy_state(http)
    before = http.get("/__sandbox/state").content
    assert http.post("/__sandbox/reset").status_code == 200
    assert http.get("/__sandbox/state").content != before
    restored = http.put("/__sandbox/state", content=before, headers={"Content-Type": "application/json"})
    assert restored.status_code == 200, restored.text
    assert restored.json()["status"] == "restored" and restored.json()["seed"] == 7
    assert http.get("/__sandbox/state").content == before


def test_the_document_holds_every_table(http):
    busy_state(http)
    doc = dump(http)
    assert (doc["format"], doc["version"], doc["seed"]) == ("enkash-sandbox-state", 2, 7)
    assert doc["clock"] == {"now": "2025-06-01T09:30:00.250000+00:00", "frozen": True}
    store = doc["store"]
    for table in ("partners", "clients", "logins", "companies", "accounts", "users", "cards", "tokens", "sso_grants"):
        assert table in store, table
    assert len(store["sso_grants"]) == 1
    assert len(store["tokens"]) == 1
    locked = [pair[1]["fields"] for pair in store["logins"]["$map"] if pair[1]["fields"]["locked_at"] is not None]
    assert [(login["username"], login["failures"]) for login in locked] == [(OTHER_LOGIN["username"], 3)]
    kinds = [posting["fields"]["kind"] for posting in doc["ledger"]["postings"]]
    assert kinds.count("SEED") == 10 and len(kinds) > 10


def test_restored_state_keeps_behaving(http):
    partner = busy_state(http)
    doc = dump(http)
    next_card = partner.allocate(**new_user(uniqueReferenceNumber="SNAP-2", mobile="9000000002", email="two@example.com"))
    http.post("/__sandbox/reset")
    assert put(http, doc).status_code == 200

    # the token issued before the dump still authenticates, and the account shows the loaded funds
    assert partner.account()["availableBalance"] == 1000000 - 100 + 12.5
    # the replay of SNAP-1 is recognised (the reference index came back)
    replay = partner.allocate(**new_user(uniqueReferenceNumber="SNAP-1"))
    assert replay.json()["code"] == 0 and replay.json()["payload"]["pgReferenceNumber"] == "SNAP-1"
    assert len(dump(http)["ledger"]["postings"]) == len(doc["ledger"]["postings"])
    # the id stream continues where it was: the same request makes the same card
    again = partner.allocate(**new_user(uniqueReferenceNumber="SNAP-2", mobile="9000000002", email="two@example.com"))
    assert again.json()["payload"]["enKashCardId"] == next_card.json()["payload"]["enKashCardId"]
    # the lockout came back too
    locked = http.post("/oauth/token", headers={"Authorization": OTHER_BASIC}, data=OTHER_LOGIN)
    assert locked.status_code in (400, 401, 423) and "lock" in locked.text.lower()
    # coins
    balance = http.get("/api/v0/coins/balance", params={"userId": "EKQZVMQK"}, headers={"Authorization": f"Bearer {partner.token}"})
    assert balance.json()["payload"] == 10


def test_a_document_moves_between_sandboxes(http):
    busy_state(http)
    doc = http.get("/__sandbox/state").content
    with ServerThread(Settings(seed=99)) as other, httpx.Client(base_url=other.url) as client:
        assert client.put("/__sandbox/state", content=doc, headers={"Content-Type": "application/json"}).json()["seed"] == 7
        assert client.get("/__sandbox/state").content == doc


@pytest.mark.parametrize("change, status, message", [
    (lambda d: d.update(format="nope"), 422, "format 'enkash-sandbox-state' was expected"),
    (lambda d: d.pop("ledger"), 400, "ledger is required"),
    (lambda d: d.update(version=99), 422, "State document rejected at version: unsupported version 99"),
    (lambda d: d["store"].pop("cards"), 422, "State document rejected at store: \"cards\" is a required property"),
    (lambda d: d["store"].update(extra={}), 422, "State document rejected at store: Additional properties are not allowed ('extra' was unexpected)"),
    (lambda d: d["store"].update(cards=[]), 422, 'State document rejected at store.cards: [] is not of type "object"'),
    (lambda d: d["ledger"]["postings"][0].update({"$record": "os:system"}), 422, 'ledger.postings[0].$record: "sandbox.state.ledger:Posting" was expected'),
    (lambda d: d["ledger"]["postings"][0].update({"$record": "sandbox.state.ledger:Nothing"}), 422, 'ledger.postings[0].$record: "sandbox.state.ledger:Posting" was expected'),
    (lambda d: d["ledger"]["postings"][0]["fields"].pop("kind"), 422, 'ledger.postings[0].fields: "kind" is a required property'),
    (lambda d: d["clock"].update(now="yesterday"), 422, 'State document rejected at clock.now: "yesterday" does not match'),
    (lambda d: d.update(ids={"$tuple": [1, 2]}), 422, "State document rejected at ids.$tuple: [1,2] has less than 3 items"),
    (lambda d: d["ledger"]["balances"].update(world={"$decimal": "lots"}), 422, 'State document rejected at ledger.balances.world.$decimal: "lots" does not match'),
])
def test_a_bad_document_is_rejected_and_changes_nothing(http, change, status, message):
    busy_state(http)
    before = http.get("/__sandbox/state").content
    doc = json.loads(before)
    change(doc)
    response = put(http, doc)
    assert response.status_code == status, response.text
    assert message in response.json()["response_message"]
    assert http.get("/__sandbox/state").content == before


def test_a_bad_document_leaves_the_clock_and_store_as_they_were(http):
    busy_state(http)
    before = http.get("/__sandbox/state").content
    doc = json.loads(before)
    doc["clock"]["now"] = "2030-01-01T00:00:00+00:00"
    doc["store"]["cards"] = []
    assert put(http, doc).status_code == 422
    assert http.get("/__sandbox/state").content == before


def test_state_that_is_not_json_is_400(http):
    response = http.put("/__sandbox/state", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


# --- --state-file -----------------------------------------------------------------------------
def test_state_file_is_saved_on_clean_shutdown_and_restored_at_start(tmp_path: Path):
    path = tmp_path / "state.json"
    flags = ("--state-file", str(path), "--clock-start", FROZEN_AT, "--clock-frozen", "true")
    with SandboxProcess(*flags) as first, httpx.Client(base_url=first.url) as client:
        partner = Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
        card = partner.allocate(**new_user(loadAmount=42)).json()["payload"]["enKashCardId"]
        code, lines = first.stop()
    assert code in (0, -15) and f"state saved to {path}" in lines
    saved = json.loads(path.read_text())
    assert saved["format"] == "enkash-sandbox-state" and saved["version"] == 3 and "columns" in saved["ledger"]  # postings as columns

    with SandboxProcess(*flags) as second, httpx.Client(base_url=second.url) as client:
        assert f"state restored from {path}" in second.startup
        restored = client.get("/__sandbox/state").json()  # version 2, postings as records: the same state
        assert {k: v for k, v in restored.items() if k not in ("version", "ledger")} == {k: v for k, v in saved.items() if k not in ("version", "ledger")}
        assert [p["fields"]["id"] for p in restored["ledger"]["postings"]] == saved["ledger"]["columns"]["id"]
        assert (restored["ledger"]["balances"], restored["ledger"]["statuses"]) == (saved["ledger"]["balances"], saved["ledger"]["statuses"])
        assert client.put("/__sandbox/state", json=saved).status_code < 300  # a state file is a document PUT takes too
        assert client.get("/__sandbox/state").json() == restored
        partner = Partner(client, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)
        assert partner.card(card)["otbBalance"] == 42
        second.stop()


def test_a_broken_state_file_stops_the_start_with_its_reason(tmp_path: Path):
    path = tmp_path / "state.json"
    path.write_text('{"format": "something else"}')
    result = run_to_exit("--state-file", str(path))
    assert result.returncode == 2
    assert "bad state file format: not a sandbox state document" in result.stdout + result.stderr
