"""The inspector (/__sandbox/ui) over real HTTP: every page shows what the API just did, actions go
through the admin API's own operations, every client value is escaped, the admin token guards it
as a cookie, and looking at it costs the sandbox nothing (not journaled, nothing loaded at start).
The same pages in a real browser: tests/test_inspector_browser.py."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from typing import Any, Iterator

import httpx
import pytest
from conftest import DOCS_ACCOUNT, DOCS_COMPANY, DOCS_PARTNER, Partner, new_user
from test_coins import COIN_COMPANY, COIN_USER, START, Coins, SandboxCoins, docs, frozen  # noqa: F401

from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread
from sandbox.web.routes import ROUTES

UI = "/__sandbox/ui"
DOCS_CARD = "EKCDM5AVZY"  # Asha's card, 500 points in the fixtures
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def page(http: httpx.Client, path: str, **params: Any) -> str:
    response = http.get(UI + path, params=params)
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    return response.text


def post(http: httpx.Client, path: str, **fields: str) -> httpx.Response:
    return http.post(UI + path, data={"next": UI, **fields})  # a browser always sends the form


def flash(http: httpx.Client, response: httpx.Response) -> str:
    """The one-line result an action leaves for the page it goes back to."""
    assert response.status_code == 303, response.text
    followed = http.get(response.headers["location"])
    found = re.search(r'<p class="flash (ok|error)" role="status">(.*?)</p>', followed.text)
    assert found, followed.text[:2000]
    return f"{found.group(1)}: {html.unescape(found.group(2))}"


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def raw_row(page_html: str, needle: str) -> str:
    """The HTML of the table row that holds `needle`."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page_html, re.S):
        if needle in row:
            return row
    raise AssertionError(f"no row holds {needle!r}")


def row_with(page_html: str, needle: str) -> str:
    """The text of the table row that holds `needle`."""
    return text_of(raw_row(page_html, needle))


# --- what each page shows ---------------------------------------------------------------------------------
def test_overview_lists_partners_companies_accounts_with_balances_and_counters(http):
    body = page(http, "")
    assert "Docs Demo Partner" in body and DOCS_PARTNER in body
    assert row_with(body, f'/accounts/{DOCS_ACCOUNT}"') == f"{DOCS_ACCOUNT} EMPLOYEE_REWARDS 1000000 2 0 0 2004 01XX XXXX XX42 VERIFIED"
    summary = http.get("/__sandbox/health").json()["state"]
    assert f"<b>{summary['cards']}</b> cards" in body and f"<b>{summary['postings']}</b> postings" in body


def test_a_card_shows_each_posting_with_its_reference_balance_and_the_request_that_made_it(http, docs_partner):
    """"Why is this card's balance 40 and not 50?" answered on one screen."""
    made = docs_partner.allocate(**new_user(loadAmount=50, uniqueReferenceNumber="REF-UI-50"))
    card = made.json()["payload"]["enKashCardId"]
    debit = docs_partner.allocate(enKashCardId=card, transactionType="DR", type="UNALLOCATE_POINT", loadAmount=10,
                                  uniqueReferenceNumber="REF-UI-10")
    assert debit.json()["code"] == 0
    seqs = [e["seq"] for e in http.get("/__sandbox/journal", params={"path": "*/create-allocate-points"}).json()["requests"]]
    body = page(http, f"/cards/{card}")
    assert '<dd class="big">40</dd>' in body
    debit_row = row_with(body, "REF-UI-10")
    assert re.fullmatch(rf"\S+Z ECT\w{{10}} UNALLOCATE_POINT REF-UI-10 -10 40 {DOCS_ACCOUNT} #{seqs[0]} POST 200", debit_row), debit_row
    assert row_with(body, "REF-UI-50").endswith(f"ALLOCATE_POINT REF-UI-50 +50 50 {DOCS_ACCOUNT} #{seqs[1]} POST 200")
    assert '<svg viewBox="0 0 760 200"' in body and "Balance over time: 2 postings" in body
    assert "Ms Nisha" in body and "new.person@example.com" in body


def test_an_account_shows_its_ledger_chart_and_searchable_paged_cards(http, docs_partner):
    for n in range(60):
        response = docs_partner.allocate(**new_user(email=f"bulk{n}@example.com", mobile=f"90000{n:05d}", firstName=f"Person{n}",
                                                    loadAmount=1, uniqueReferenceNumber=f"REF-PAGE-{n}"))
        assert response.json()["code"] == 0, response.text
    body = page(http, f"/accounts/{DOCS_ACCOUNT}")
    assert '<dd class="big">999940</dd>' in body and "62 <span" in body  # 2 fixture cards + 60
    assert "1–50 of 62" in body and body.count('href="/__sandbox/ui/cards/') >= 50
    second = page(http, f"/accounts/{DOCS_ACCOUNT}", page=2)
    assert "51–62 of 62" in second and "Person59" in second and "Person0<" not in second
    found = page(http, f"/accounts/{DOCS_ACCOUNT}", q="person42")
    assert found.count("Person4") == 1 and "bulk42@example.com" in found
    assert "No card matches." in page(http, f"/accounts/{DOCS_ACCOUNT}", q="nobody-at-all")
    newest = row_with(body, "REF-PAGE-59")
    assert " -1 999940 " in f" {newest} "
    assert "Balance over time: 61 postings" in body  # the seed and the 60 allocations


def test_a_company_and_a_user_show_coins_lots_and_promotions_and_expiry_shows_without_writing(
        http, docs: Coins, frozen: SandboxCoins, server: ServerThread):  # noqa: F811
    assert frozen.settings(coinValidityDays=30, promotions=[
        {"event": "REFERRAL_EVENT", "multiplier": 2, "starts": START, "ends": "2025-03-10T00:00:00Z"}]).status_code == 200
    docs.allocated(request_id="COIN-UI-1")  # 10 x 2 coins, expire at START + 30 d
    company = page(http, f"/companies/{COIN_COMPANY}")
    assert row_with(company, "REFERRAL_EVENT") == "WCC12345 REFERRAL_EVENT DEFAULT 10"
    assert row_with(company, "×2") == "REFERRAL_EVENT ×2 2025-03-01T10:00:00.000Z 2025-03-10T00:00:00.000Z running"
    assert row_with(company, f'/users/{COIN_USER}"').endswith(" 20 1")
    user = page(http, f"/users/{COIN_USER}")
    assert row_with(user, "COIN-UI-1").endswith("2 20 20 0 2025-03-01T10:00:00.000Z 2025-03-31T10:00:00.000Z ACTIVE")
    assert '<dd class="big">20</dd>' in user

    frozen.advance("30d")
    postings = len(server.state.store.ledger.postings)
    expired = page(http, f"/users/{COIN_USER}")
    assert row_with(expired, "COIN-UI-1").endswith("20 0 20 2025-03-01T10:00:00.000Z 2025-03-31T10:00:00.000Z EXPIRED posted at the next read")
    assert '<dd class="big">0</dd>' in expired
    assert len(server.state.store.ledger.postings) == postings  # the page only read
    docs.login()
    assert docs.balance() == 0  # what the API says, once it has posted the expiry
    assert row_with(page(http, f"/users/{COIN_USER}"), "COIN-UI-1").endswith(" EXPIRED")


def test_the_journal_filters_and_an_entry_shows_its_exchange_masked_with_its_fault_and_postings(http, docs_partner):
    made = docs_partner.allocate(**new_user(uniqueReferenceNumber="REF-UI-J"))
    card = made.json()["payload"]["enKashCardId"]
    body = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "transactionCode": "ALLOCATION", "transactionType": "CR",
            "type": "ALLOCATE_POINT", **new_user(email="f@example.com", mobile="9000000002", uniqueReferenceNumber="REF-UI-F")}
    failed = docs_partner.post("/create-allocate-points", body, headers={"X-Sandbox-Fault": "status=503"})
    assert failed.status_code == 503
    listed = page(http, "/journal")
    assert re.fullmatch(rf"\d+ \S+Z POST /api/v0/partner/enKashCard/create-allocate-points 503 [0-9.]+ {DOCS_PARTNER} status=503 \(header\) REF-UI-F",
                        row_with(listed, "status=503 (header)"))
    only = page(http, "/journal", reference="REF-UI-J")
    assert "1 shown" in only and "REF-UI-J" in only and "REF-UI-F" not in only, re.findall(r"journal-count\">[^<]*", only)
    assert "status=503" in page(http, "/journal", status="5xx") and "REF-UI-J" not in page(http, "/journal", status="5xx")
    assert "/oauth/token" not in page(http, "/journal", partner=DOCS_PARTNER)

    seq = http.get("/__sandbox/journal", params={"reference": "REF-UI-J"}).json()["requests"][0]["seq"]
    entry = page(http, f"/journal/{seq}")
    assert "Bearer ***" in entry and docs_partner.token not in entry
    assert "&#34;uniqueReferenceNumber&#34;: &#34;REF-UI-J&#34;" in entry  # the body, indented, escaped
    assert row_with(entry, "REF-UI-J").startswith("ECT")
    assert f"{DOCS_ACCOUNT} -100 → 999900 {card} +100 → 100" in row_with(entry, "REF-UI-J")
    faulted = http.get("/__sandbox/journal", params={"status": "503"}).json()["requests"][0]["seq"]
    assert '<p class="flash fault" id="fault">Fault: status=503 (header)</p>' in page(http, f"/journal/{faulted}")


def test_the_journal_keeps_no_trace_of_the_inspector_itself(http):
    http.delete("/__sandbox/journal")  # it outlives resets: other tests' calls are in it
    for path in ("", "/journal", f"/accounts/{DOCS_ACCOUNT}", "/faults", "/control"):
        page(http, path)
    assert flash(http, post(http, "/clock", op="freeze")).startswith("ok")
    assert http.get("/__sandbox/journal/count", params={"path": UI + "*"}).json() == {"count": 0}
    assert http.get("/__sandbox/journal/count", params={"path": "/__sandbox/clock"}).json() == {"count": 0}


# --- actions: the admin API's own operations ------------------------------------------------------------
def test_arming_a_scenario_and_disarming_go_through_the_fault_api(http, server: ServerThread):
    assert flash(http, post(http, "/scenarios/first-two-allocations-503", next=UI + "/faults")) == \
        "ok: Scenario first-two-allocations-503 armed: 1 rule(s)."
    armed = http.get("/__sandbox/faults").json()
    assert [r["fault"] for r in armed["rules"]] == ["status=503; retry-after=1"] and armed["scenario"] == "first-two-allocations-503"
    faults = page(http, "/faults")
    assert row_with(faults, "status=503; retry-after=1").startswith("F1 two 503s, then success")
    assert flash(http, post(http, "/faults/F1/disarm", next=UI + "/faults")) == "ok: Rule F1 disarmed."
    assert http.get("/__sandbox/faults").json()["rules"] == []
    assert flash(http, post(http, "/faults/F9/disarm", next=UI + "/faults")) == "error: No fault rule with id F9"
    assert flash(http, post(http, "/faults", fault="status=429", endpoint="create-allocate-points", first="2")) == \
        "ok: Rule F2 armed: status=429."
    assert http.get("/__sandbox/faults").json()["rules"][0] | {"calls": 0} == {
        "id": "F2", "fault": "status=429", "endpoint": "create-allocate-points", "first": 2, "calls": 0, "fired": 0}
    assert flash(http, post(http, "/faults", fault="status=abc")).startswith("error: ")
    assert flash(http, post(http, "/faults/clear")) == "ok: Every rule disarmed (1)."
    assert flash(http, post(http, "/scenarios/no-such-thing")).startswith("error: No fault scenario named no-such-thing (known: ")


def test_the_clock_freezes_advances_and_sets_and_a_bad_duration_changes_nothing(http):
    assert flash(http, post(http, "/clock", op="set", now="2025-06-01T08:00")) == "ok: Clock: 2025-06-01T08:00:00.000Z (running)."
    assert flash(http, post(http, "/clock", op="freeze")).endswith("(frozen).")
    frozen_at = http.get("/__sandbox/clock").json()["now"]
    assert flash(http, post(http, "/clock", op="advance", advance="30d")) == \
        f"ok: Clock: {frozen_at[:5]}07-01{frozen_at[10:]} (frozen)."
    assert flash(http, post(http, "/clock", op="advance", advance="3600")).startswith("ok: Clock: 2025-07-01T09:")
    before = http.get("/__sandbox/clock").json()
    assert flash(http, post(http, "/clock", op="advance", advance="soon")).startswith("error: ")
    assert http.get("/__sandbox/clock").json() == before
    assert flash(http, post(http, "/clock", op="run")).endswith("(running).")


def test_reset_and_the_state_document_round_trip(http, docs_partner):
    assert flash(http, post(http, "/clock", op="freeze")).startswith("ok")
    download = http.get(UI + "/state")
    assert download.status_code == 200 and download.headers["content-disposition"].startswith('attachment; filename="enkash-sandbox-state-')
    assert download.json() == http.get("/__sandbox/state").json()
    docs_partner.allocate(**new_user(uniqueReferenceNumber="REF-UI-S"))
    assert http.get("/__sandbox/state").json() != download.json()
    upload = http.post(UI + "/state", files={"state": ("state.json", download.content, "application/json")}, data={"next": UI})
    assert flash(http, upload).startswith("ok: State restored (seed 7): ")
    assert http.get("/__sandbox/state").json() == download.json()
    bad = http.post(UI + "/state", files={"state": ("state.json", b'{"format": "nope"}', "application/json")})
    assert flash(http, bad) == "error: version is required"  # the message PUT /__sandbox/state gives
    assert http.get("/__sandbox/state").json() == download.json()  # all or nothing
    docs_partner.allocate(**new_user(uniqueReferenceNumber="REF-UI-R"))
    assert flash(http, post(http, "/reset", seed="7")) == "ok: Reset to the fixtures, seed 7."
    assert "REF-UI-R" not in http.get("/__sandbox/state").text


def test_find_opens_the_page_of_any_id(http):
    for wanted, where in ((DOCS_CARD, f"/cards/{DOCS_CARD}"), (DOCS_ACCOUNT, f"/accounts/{DOCS_ACCOUNT}"),
                          (COIN_USER, f"/users/{COIN_USER}"), (DOCS_COMPANY, f"/companies/{DOCS_COMPANY}"),
                          ("REF-SOMETHING", "/journal?reference=REF-SOMETHING")):
        response = http.get(UI + "/find", params={"q": wanted})
        assert (response.status_code, response.headers["location"]) == (303, UI + where)


def test_unknown_records_are_404_pages(http):
    for path in ("/accounts/CANOPE", "/cards/EKCNOPE", "/users/EKNOPE", "/companies/CEKNOPE", "/journal/999999", "/journal/x"):
        response = http.get(UI + path)
        assert response.status_code == 404 and "The sandbox has no " in response.text, path


def test_an_order_shows_on_the_orders_page_and_on_its_card(http, docs_partner):
    assert "No orders yet." in page(http, "/orders")
    made = docs_partner.allocate(**new_user(loadAmount=300, uniqueReferenceNumber="REF-UI-ORDER"))
    card, user = made.json()["payload"]["enKashCardId"], made.json()["payload"]["userId"]
    assert "No orders for this card." in page(http, f"/cards/{card}")
    body = {"denomination": 100, "ekUserId": user, "orderReferenceId": "ORD-UI-1", "productCatalogId": "PC235129857G58ZX", "quantity": 2}
    placed = http.post("/api/v0/partner/create-order", json=body, headers={"Authorization": f"Bearer {docs_partner.token}"})
    assert placed.status_code == 200 and placed.json()["response_code"] == 0, placed.text
    order = placed.json()["payload"]
    order_id = order["orderId"]
    want = f"{order_id} ORD-UI-1 {user} {card} PC235129857G58ZX 100 2 {order['totalAmount']} SUCCESS SUCCESS {order['createdOn']}"
    assert row_with(page(http, "/orders"), order_id) == want
    assert row_with(page(http, f"/cards/{card}").split("<h2>Redemption orders</h2>")[1], order_id) == want
    assert "No orders for this card." in page(http, f"/cards/{DOCS_CARD}")
    links = re.findall(r'href="([^"]*)"', raw_row(page(http, "/orders"), order_id))
    assert links == [f"{UI}/journal?reference=ORD-UI-1", f"{UI}/users/{user}", f"{UI}/cards/{card}"]


def test_a_pending_order_shows_as_the_api_will_answer_it_once_its_time_has_come(http, docs_partner):
    http.post("/__sandbox/clock", json={"now": "2026-03-02T09:00:00Z", "frozen": True})
    made = docs_partner.allocate(**new_user(loadAmount=300, uniqueReferenceNumber="REF-UI-PEND")).json()["payload"]
    body = {"denomination": 100, "ekUserId": made["userId"], "orderReferenceId": "ORD-UI-P", "productCatalogId": "PC900000000PENDG",
            "quantity": 1}
    placed = http.post("/api/v0/partner/create-order", json=body, headers={"Authorization": f"Bearer {docs_partner.token}"})
    order_id = placed.json()["payload"]["orderId"]
    assert row_with(page(http, "/orders"), order_id).split()[-3:-1] == ["PENDING", "SUCCESS"]
    http.post("/__sandbox/clock", json={"advance": "5m"})  # pendingSeconds 300: due now
    before = http.get("/__sandbox/state").json()
    assert row_with(page(http, "/orders"), order_id).split()[-3:-1] == ["SUCCESS", "SUCCESS"]
    assert row_with(page(http, f"/cards/{made['enKashCardId']}").split("<h2>Redemption orders</h2>")[1], order_id).split()[-3:-1] == [
        "SUCCESS", "SUCCESS"]
    assert http.get("/__sandbox/state").json() == before  # shown, not written: the API's next read settles it


# --- safety: escaping -------------------------------------------------------------------------------------
EVIL = '<script>alert(1)</script><img src=x onerror=alert(2)>"\''


def evil_fixtures() -> dict[str, Any]:
    return {"partners": [{"partnerId": "CRMEVIL01", "name": "Evil " + EVIL, "companies": [{
        "companyId": "CEKEVIL01", "companyName": "Co " + EVIL,
        "coins": {"events": [{"coinConfigId": "WCC66666", "configuration": "DEFAULT", "event": "EVIL_EVENT", "amount": 1}]},
        "users": [{"userId": "EKEVIL01", "email": "evil@example.com", "mobile": "9555500001", "title": "Mr", "firstName": EVIL}],
        "accounts": [{"cardAccountId": "CAEVIL01", "availableBalance": 100, "cards": [{
            "enKashCardId": "EKCEVIL01", "userId": "EKEVIL02", "email": "evil2@example.com", "mobile": "9555500002",
            "title": "Ms", "firstName": EVIL, "otbBalance": 5}]}]}]}]}


@pytest.fixture()
def evil(http: httpx.Client, docs_partner: Partner) -> Iterator[list[str]]:
    http.delete("/__sandbox/journal")
    loaded = http.post("/__sandbox/fixtures", json=evil_fixtures())
    assert loaded.status_code == 200, loaded.text
    made = docs_partner.allocate(**new_user(firstName=EVIL, uniqueReferenceNumber="R" + EVIL[:60]))
    assert made.json()["code"] == 0, made.text
    order = {"denomination": 100, "ekUserId": made.json()["payload"]["userId"], "orderReferenceId": "O" + EVIL[:60],
             "productCatalogId": "PC235129857G58ZX", "quantity": 1}
    placed = http.post("/api/v0/partner/create-order", json=order, headers={"Authorization": f"Bearer {docs_partner.token}"})
    assert placed.json()["response_code"] == 0, placed.text
    http.post("/api/v0/" + EVIL, content=EVIL, headers={"X-Evil": EVIL, "partnerId": EVIL[:25]})
    http.post("/__sandbox/faults", json={"name": EVIL, "fault": "status=500", "path": "/nowhere/" + EVIL})
    card = made.json()["payload"]["enKashCardId"]
    seqs = [str(e["seq"]) for e in http.get("/__sandbox/journal").json()["requests"]]
    yield ["", "/accounts/CAEVIL01", "/cards/EKCEVIL01", f"/cards/{card}", f"/accounts/{DOCS_ACCOUNT}", "/companies/CEKEVIL01",
           "/users/EKEVIL01", "/users/EKEVIL02", "/journal", *[f"/journal/{seq}" for seq in seqs],
           "/journal?reference=" + EVIL, "/faults", "/control", "/orders", "/accounts/CAEVIL01?q=" + EVIL]
    http.delete("/__sandbox/faults")
    http.delete("/__sandbox/fixtures")


def test_every_value_a_client_sent_is_escaped_in_every_view(http, evil):
    shown = []
    for path in evil:
        response = http.get(UI + path)
        assert response.status_code == 200, path
        assert "<script>alert" not in response.text and "<img src=x" not in response.text, path
        assert "onerror=alert(2)>" not in response.text.replace("onerror=alert(2)&gt;", ""), path
        if "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text:
            shown.append(path)
    assert set(evil) - set(shown) == {"/control"}  # the one page that shows no client value
    card = http.get(UI + "/cards/EKCEVIL01").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&#34;&#39;" in card


# --- safety: the admin token, the cookie, the same-origin rule ------------------------------------------------
GUARDED_TOKEN = "ui-s3cret/+="


@pytest.fixture(scope="module")
def guarded() -> Iterator[ServerThread]:
    with ServerThread(Settings(admin_token=GUARDED_TOKEN, seed=7, clock_frozen=True)) as running:  # frozen: states compare
        yield running


def _filled(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: {"cardAccountId": DOCS_ACCOUNT, "enKashCardId": DOCS_CARD, "userId": COIN_USER,
                                          "companyId": DOCS_COMPANY, "seq": "1", "ruleId": "F1", "name": "rate-limit"}.get(m.group(1), "x"), path)


INSPECTOR = [r for r in ROUTES if r.envelope == "html"]


@pytest.mark.parametrize("route", [r for r in INSPECTOR if r.auth == "ui"], ids=lambda r: f"{r.method} {r.path}")
def test_every_inspector_page_and_action_needs_the_admin_token(guarded, route):
    with httpx.Client(base_url=guarded.url) as client:
        before = client.get("/__sandbox/state", headers={"Authorization": f"Bearer {GUARDED_TOKEN}"}).text
        for credentials in ({}, {"Authorization": "Bearer wrong"}, {"Cookie": "sandbox_admin=wrong"}):
            response = client.request(route.method, _filled(route.path), headers={**credentials, **(FORM if route.body == "form" else {})},
                                      content=b"next=%2F__sandbox%2Fui&op=freeze&seed=3")
            assert response.status_code == 401, (credentials, response.text[:300])
            assert 'name="token"' in response.text and "Docs Demo" not in response.text
        after = client.get("/__sandbox/state", headers={"Authorization": f"Bearer {GUARDED_TOKEN}"}).text
        assert after == before


def test_the_token_signs_in_as_a_strict_http_only_cookie_for_the_inspector_only(guarded):
    with httpx.Client(base_url=guarded.url) as client:
        wrong = client.post(UI + "/login", data={"token": "nope", "next": UI + "/journal"})
        assert wrong.status_code == 401 and "That is not this sandbox&#39;s admin token." in wrong.text
        signed = client.post(UI + "/login", data={"token": GUARDED_TOKEN, "next": UI + "/journal?status=2xx"})
        assert (signed.status_code, signed.headers["location"]) == (303, UI + "/journal?status=2xx")
        assert signed.headers["set-cookie"] == "sandbox_admin=ui-s3cret%2F%2B%3D; Path=/__sandbox/ui; HttpOnly; SameSite=Strict"
        cookie = {"Cookie": "sandbox_admin=ui-s3cret%2F%2B%3D"}
        assert client.get(UI + "/journal", headers=cookie).status_code == 200
        assert client.get(UI, headers={"Authorization": f"Bearer {GUARDED_TOKEN}"}).status_code == 200
        assert client.get("/__sandbox/state", headers=cookie).status_code == 401  # the JSON API takes no cookie
        away = client.post(UI + "/login", data={"token": GUARDED_TOKEN, "next": "https://elsewhere.example/"})
        assert away.headers["location"] == UI
        for sneaky in ("//elsewhere.example/x", "/__sandbox/ui\\@elsewhere", "/api/v0/x"):
            assert client.post(UI + "/login", data={"token": GUARDED_TOKEN, "next": sneaky}).headers["location"] == UI


def test_a_token_in_the_address_sets_the_cookie_and_leaves_the_address(guarded):
    with httpx.Client(base_url=guarded.url) as client:
        response = client.get(UI + f"/accounts/{DOCS_ACCOUNT}", params={"token": GUARDED_TOKEN, "page": "2"})
        assert (response.status_code, response.headers["location"]) == (303, f"{UI}/accounts/{DOCS_ACCOUNT}?page=2")
        assert response.headers["set-cookie"].startswith("sandbox_admin=ui-s3cret%2F%2B%3D; Path=/__sandbox/ui; HttpOnly; SameSite=Strict")
        assert response.headers["referrer-policy"] == "same-origin"
        assert client.get(UI, params={"token": "wrong"}).status_code == 401


def test_a_form_posted_from_another_site_is_refused_and_changes_nothing(http):
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
        response = http.post(UI + "/clock", data={"op": "freeze"}, headers=headers)
        assert response.status_code == 403 and "posted from another site" in response.text
    assert http.get("/__sandbox/clock").json()["frozen"] is False
    host = http.base_url.netloc.decode()
    same = http.post(UI + "/clock", data={"op": "freeze"}, headers={"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 303 and http.get("/__sandbox/clock").json()["frozen"] is True


def test_pages_carry_the_security_headers_and_load_nothing_from_elsewhere(http):
    response = http.get(UI)
    assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'; style-src 'self'")
    for page_html in (response.text, page(http, "/journal"), page(http, f"/accounts/{DOCS_ACCOUNT}")):
        assert not re.search(r'(?:src|href)="(?:https?:)?//', page_html)
        assert "<style" not in page_html and not re.search(r"<script(?! src=\"/__sandbox/ui/static/)", page_html)
        assert not re.search(r"<[^>]*\s(?:style|on\w+)=", page_html)  # no inline style or handler (the CSP would block it)
    for name, media in (("inspector.css", "text/css"), ("inspector.js", "text/javascript"), ("favicon.svg", "image/svg+xml")):
        asset = http.get(f"{UI}/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(media)
    assert http.get(f"{UI}/static/..%2Fviews.py").status_code == 404
    assert http.get(f"{UI}/static/views.py").status_code == 404


# --- cheap, and apart from the API -----------------------------------------------------------------------------
def test_nothing_of_the_inspector_loads_until_a_page_is_opened():
    code = "import sys, sandbox.web.app; sandbox.web.app.create_app(); print('jinja2' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_inspector_is_in_the_docs_page_but_not_in_the_api_document(http):
    assert not [path for path in http.get("/__sandbox/openapi.json").json()["paths"] if path.startswith(UI)]
    assert '<a href="ui">/__sandbox/ui</a>' in http.get("/__sandbox/docs").text
    assert {r.path.split("/")[2] for r in INSPECTOR} == {"ui"}  # nothing under EnKash's paths
