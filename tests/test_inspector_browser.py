"""The inspector in a real browser: Debian's headless Chromium (/usr/bin/chromium, installed by
scripts/ci-system-deps.sh) driven by Playwright (never `playwright install`). It loads every view,
finds an allocation made through the API a moment before, advances the clock and sees coins
expire, arms a scenario and sees its fault arrive in the live journal, signs in with the admin
token, and runs no script a client sent, all with no console error.

Screenshots are artifacts: they go to $INSPECTOR_ARTIFACTS when it is set (CI sets it and uploads
the directory), else to pytest's tmp dir; with INSPECTOR_SCREENSHOTS=1 also to docs/screenshots/ (the
README's pictures come from this test: `INSPECTOR_SCREENSHOTS=1 bash scripts/test.sh tests/test_inspector_browser.py`).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from conftest import DOCS_ACCOUNT, DOCS_BASIC, DOCS_COMPANY, DOCS_LOGIN, Partner, new_user

from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent
UI = "/__sandbox/ui"
START = "2026-03-02T09:00:00Z"
COIN_COMPANY, COIN_USER = "CEK0TCW2W8", "EKQZVMQK"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extras: pip install -e '.[test]'")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip(f"no {CHROMIUM}: scripts/ci-system-deps.sh installs Debian's chromium when it runs as root")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ServerThread]:
    settings = Settings(seed=7, validate_responses=True, clock_start=START, clock_frozen=True)
    with ServerThread(settings) as running:
        yield running


@pytest.fixture()
def http(sandbox: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=30) as client:
        assert client.post("/__sandbox/reset").status_code == 200
        client.delete("/__sandbox/faults")
        client.delete("/__sandbox/journal")
        yield client


class Watched:
    """A browser page whose console errors, uncaught exceptions and dialogs are kept."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.page = browser.new_page(viewport={"width": 1280, "height": 860})
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        return self.page

    def shot(self, name: str, directory: Path, full_page: bool = False) -> Path:
        path = directory / name
        self.page.screenshot(path=str(path), full_page=full_page)
        if os.environ.get("INSPECTOR_SCREENSHOTS"):
            (ROOT / "docs" / "screenshots").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, ROOT / "docs" / "screenshots" / name)
        return path


@pytest.fixture()
def tab(browser: Any, sandbox: ServerThread) -> Iterator[Watched]:
    watched = Watched(browser, sandbox.url)
    yield watched
    watched.page.close()
    assert watched.problems == []


SHOTS = ("inspector-account.png", "inspector-journal.png")  # the README's two pictures


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("INSPECTOR_ARTIFACTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        return Path(wanted)
    return tmp_path_factory.mktemp("inspector-screenshots")


def test_the_readme_shows_the_two_screenshots_this_test_makes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.findall(r"!\[[^\]]*\]\((docs/screenshots/[^)]+)\)", readme) == [f"docs/screenshots/{name}" for name in SHOTS]
    assert all((ROOT / "docs" / "screenshots" / name).is_file() for name in SHOTS)


def test_every_view_loads_in_the_browser(http, tab: Watched, docs_partner: Partner):
    card = docs_partner.allocate(**new_user(uniqueReferenceNumber="REF-B-1")).json()["payload"]["enKashCardId"]
    seq = http.get("/__sandbox/journal").json()["requests"][0]["seq"]
    for path, heading in (("", "Overview"), (f"/accounts/{DOCS_ACCOUNT}", "Card account"), (f"/cards/{card}", "Card"),
                          (f"/companies/{COIN_COMPANY}", "Coins Demo Company"), (f"/users/{COIN_USER}", "Kiran"),
                          ("/journal", "Journal"), (f"/journal/{seq}", "POST"), ("/faults", "Faults"),
                          ("/control", "Clock and state"), ("/orders", "Redemption orders")):
        assert heading in tab.open(UI + path).inner_text("h1"), path


def test_an_allocation_made_a_moment_before_is_on_the_account_and_its_card(http, tab: Watched, docs_partner: Partner, shots):
    partner = docs_partner
    made = partner.allocate(**new_user(loadAmount=50, uniqueReferenceNumber="REF-B-50")).json()["payload"]
    card = made["enKashCardId"]
    for advance, fields in (("3h", {"loadAmount": 25, "uniqueReferenceNumber": "REF-B-25"}),
                            ("5h", {"loadAmount": 35, "transactionType": "DR", "type": "UNALLOCATE_POINT", "uniqueReferenceNumber": "REF-B-35"}),
                            ("9h", {"loadAmount": 120, "uniqueReferenceNumber": "REF-B-120"})):
        assert http.post("/__sandbox/clock", json={"advance": advance}).status_code == 200
        assert partner.allocate(enKashCardId=card, **fields).json()["code"] == 0
    http.post("/__sandbox/clock", json={"advance": "2h"})
    http.post(f"/__sandbox/accounts/{DOCS_ACCOUNT}/load", json={"amount": 400})

    page = tab.open(UI)
    page.click(f"a[href='{UI}/accounts/{DOCS_ACCOUNT}']")
    assert page.inner_text("dl.facts dd.big") == "1000240"  # 1000000 - 50 - 25 + 35 - 120 + 400
    row = page.locator("table.ledger tr", has_text="REF-B-120")
    assert row.locator("td.n").all_inner_texts() == ["-120", "999840"]
    assert page.locator("figure.chart svg path.line").count() == 1
    tab.shot(SHOTS[0], shots)
    row.locator(f"a[href='{UI}/cards/{card}']").click()
    assert page.inner_text("dl.facts dd.big") == "160"
    assert page.locator("table.ledger tbody tr").count() == 4
    made_by = page.locator("table.ledger tr", has_text="REF-B-35").locator("a.req")
    assert made_by.inner_text().endswith("POST 200")
    made_by.click()
    assert "create-allocate-points" in page.inner_text("h1")
    assert page.locator("table.ledger", has_text="REF-B-35").count() == 1


def test_advancing_the_clock_expires_coins(http, tab: Watched):
    assert http.post(f"/__sandbox/companies/{COIN_COMPANY}/coins", json={"coinValidityDays": 30}).status_code == 200
    token = http.post("/oauth/token", headers={"Authorization": DOCS_BASIC}, data=DOCS_LOGIN).json()["access_token"]
    allocated = http.post("/api/v0/enkash-coins/allocate-coin", headers={"Authorization": f"Bearer {token}"},
                          json={"companyId": COIN_COMPANY, "event": "REFERRAL_EVENT", "requestId": "COIN-B-1", "userId": COIN_USER})
    assert allocated.json()["response_code"] == 0, allocated.text
    page = tab.open(f"{UI}/users/{COIN_USER}")
    lot = page.locator("#lots tr", has_text="COIN-B-1")
    assert lot.locator(".badge").inner_text() == "ACTIVE" and page.inner_text("dd.big") == "10"

    page.click("header a.clock")
    page.fill("#advance input[name=advance]", "31d")
    page.click("#advance button")
    assert page.inner_text("p.flash.ok").startswith("Clock: 2026-04-02T09:00:00.000Z")
    page.goto(tab.base + f"{UI}/users/{COIN_USER}")
    assert lot.locator(".badge").inner_text() == "EXPIRED" and page.inner_text("dd.big") == "0"


def test_an_armed_scenario_fault_arrives_in_the_live_journal(http, tab: Watched, docs_partner: Partner, shots):
    page = tab.open(UI + "/faults")
    page.locator("#scenarios tr", has_text="first-two-allocations-503").locator("button").click()
    assert page.inner_text("p.flash.ok") == "Scenario first-two-allocations-503 armed: 1 rule(s)."
    assert page.locator("#rules tr", has_text="status=503; retry-after=1").count() == 1

    first = docs_partner.allocate(**new_user(uniqueReferenceNumber="REF-B-0")).json()["payload"]  # the first call after arming
    assert first == "Service Unavailable"
    docs_partner.post("/cardAccount/get", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT})
    docs_partner.post("/search", {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "enKashCardId": "EKCDM5AVZY"})
    page.goto(tab.base + UI + "/journal?path=/api/*")
    page.check("#live")
    assert page.locator("tr.faulted").count() == 1
    second = docs_partner.allocate(**new_user(uniqueReferenceNumber="REF-B-OK"))  # the second: 503 too
    assert second.status_code == 503
    page.locator("tr.faulted").nth(1).wait_for(timeout=10_000)  # the poll brought it in, no reload
    assert "live=1" in page.url
    assert page.locator("tr.faulted .badge.fault").first.inner_text() == "status=503; retry-after=1 (rule F1)"
    assert docs_partner.allocate(**new_user(uniqueReferenceNumber="REF-B-OK")).json()["code"] == 0  # the third goes through
    page.locator("#journal-rows tr", has_text="REF-B-OK").nth(1).wait_for(timeout=10_000)  # the 503 (second call) and the 200
    page.set_viewport_size({"width": 1280, "height": 540})
    tab.shot(SHOTS[1], shots, full_page=True)
    page.locator("tr.faulted a").first.click()
    assert page.inner_text("#fault") == "Fault: status=503; retry-after=1 (rule F1)"
    page.goto(tab.base + UI + "/faults")
    page.click("text=Disarm all")
    assert http.get("/__sandbox/faults").json()["rules"] == []


def test_values_a_client_sent_never_run(http, tab: Watched, docs_partner: Partner):
    evil = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
    doc = {"partners": [{"partnerId": "CRMEVIL02", "name": evil, "companies": [{"companyId": "CEKEVIL02", "companyName": evil,
           "accounts": [{"cardAccountId": "CAEVIL02", "cards": [{"enKashCardId": "EKCEVIL02", "userId": "EKEVIL03",
           "email": "x@example.com", "mobile": "9555500003", "title": "Ms", "firstName": evil}]}]}]}]}
    assert http.post("/__sandbox/fixtures", json=doc).status_code == 200
    try:
        made = docs_partner.allocate(**new_user(firstName=evil, uniqueReferenceNumber="R<script>window.__xss=3</script>"))
        card = made.json()["payload"]["enKashCardId"]
        http.post("/api/v0/" + evil, content=evil)
        seqs = [e["seq"] for e in http.get("/__sandbox/journal").json()["requests"]]
        page = tab.open(UI + "/cards/EKCEVIL02")
        assert page.inner_text("dl.facts a[href='/__sandbox/ui/users/EKEVIL03']") == "Ms " + evil  # shown, as text
        for path in ("", "/accounts/CAEVIL02", "/cards/EKCEVIL02", f"/cards/{card}", f"/accounts/{DOCS_ACCOUNT}",
                     "/companies/CEKEVIL02", "/journal", *[f"/journal/{seq}" for seq in seqs]):
            page = tab.open(UI + path)
            assert page.evaluate("window.__xss") is None, path
    finally:
        http.delete("/__sandbox/fixtures")


def test_signing_in_with_the_admin_token(browser):
    with ServerThread(Settings(seed=7, admin_token="b-s3cret")) as guarded:
        tab = Watched(browser, guarded.url)
        response = tab.page.goto(guarded.url + f"{UI}/companies/{DOCS_COMPANY}")
        assert response.status == 401 and tab.page.locator("input[name=token]").count() == 1
        tab.page.fill("input[name=token]", "b-s3cret")
        tab.page.click("form.stack button")
        assert tab.page.url == guarded.url + f"{UI}/companies/{DOCS_COMPANY}"
        assert "Docs Demo Company" in tab.page.inner_text("h1")
        cookie = next(c for c in tab.page.context.cookies() if c["name"] == "sandbox_admin")
        assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", UI)
        tab.page.click("header button.link")
        assert tab.page.locator("input[name=token]").count() == 1
        tab.page.close()
        # the only message: the browser's note that the first page answered 401 (with the sign-in form)
        assert tab.problems == ["console: Failed to load resource: the server responded with a status of 401 (Unauthorized)"]
