"""The inspector's pages (GET): each reads the state when it is opened, changes nothing, and
links to the next (partner -> company -> account -> card -> its postings -> the requests that
made them). Reads the JSON API also serves come from the same admin functions."""

from __future__ import annotations

import functools
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sandbox.contract.envelope import Reply
from sandbox.domain import redemption
from sandbox.state.ledger import Posting
from sandbox.state.store import COIN, Card, CoinLot, Order, Store, User, coin_account
from sandbox.web.adapter import Call
from sandbox.web.endpoints import admin, faults
from sandbox.web.inspector import chart, links
from sandbox.web.inspector.pages import (
    BASE, HERE, SECURITY_HEADERS, Page, integer, lookup, not_found, page, paged, redirect, render,
    safe_next, signed_in, text, url, when,
)
from sandbox.web.journal import Entry, Filter

CARDS_PER_PAGE = 50
POSTINGS_PER_PAGE = 50
USERS_PER_PAGE = 50
ACCOUNTS_PER_COMPANY = 100  # on the overview; the rest are a search away
JOURNAL_DEFAULT = 100


# --- where a ledger account's page is -------------------------------------------------------------
class Target(NamedTuple):
    label: str
    href: str | None


def target(store: Store, account: str) -> Target:
    """A ledger account as a link: a card, a card account, a user's coins, or a system account."""
    if account in store.cards:
        return Target(account, url("/cards", account))
    if account in store.accounts:
        return Target(account, url("/accounts", account))
    if account.startswith("coin:") and account[5:] in store.users:
        return Target(account, url("/users", account[5:]))
    return Target(account, None)


# --- a ledger account's postings and chart --------------------------------------------------------
class Row(NamedTuple):
    posting: Posting
    amount: Decimal
    balance: Decimal
    others: list[tuple[Target, Decimal]]
    requests: list[Entry]


def ledger_section(call: Call, account: str, page_key: str = "lp") -> dict[str, Any]:
    """The newest postings of `account` (one page) with the requests that made them, and its chart."""
    store = call.store
    ledger = store.ledger
    total = ledger.count(account)
    pages = max(1, -(-total // POSTINGS_PER_PAGE))
    number_ = integer(call.query.get(page_key), 1, 1, pages)
    newest = total - 1 - (number_ - 1) * POSTINGS_PER_PAGE
    oldest = max(0, newest - POSTINGS_PER_PAGE + 1)
    postings = ledger.postings_of(account, range(newest, oldest - 1, -1)) if total else []
    made_by = links.requests_for(call.state.journal, postings, call.state.store_since)
    rows = []
    for posting in postings:
        own = posting.entry_for(account)
        others = [(target(store, e.account), e.amount) for e in posting.entries if e.account != account]
        rows.append(Row(posting, own.amount, own.balance_after, others, made_by.get(posting.id, [])))
    return {
        "chart": chart.balance_chart(ledger, account, store.now()),
        "postings": Page(rows, number_, pages, total, POSTINGS_PER_PAGE),
        "page_key": page_key,
        "balance": ledger.balance(account) if ledger.is_open(account) else None,
    }


# --- overview -------------------------------------------------------------------------------------
@page
def overview(call: Call) -> Reply:
    store = call.store
    companies: dict[str, list[Any]] = {}
    for company in store.companies.values():
        companies.setdefault(company.partner_id, []).append(company)
    accounts: dict[str, list[Any]] = {}
    for account in store.accounts.values():
        accounts.setdefault(account.company_id, []).append(account)
    partners = [
        {"partner": partner, "companies": [
            {"company": company, "accounts": accounts.get(company.company_id, [])[:ACCOUNTS_PER_COMPANY],
             "more": max(0, len(accounts.get(company.company_id, [])) - ACCOUNTS_PER_COMPANY),
             "users": len(store.users_of_company(company.company_id))}
            for company in companies.get(partner.partner_id, [])
        ]}
        for partner in store.partners.values()
    ]
    engine = call.state.faults
    return render(
        call, "overview.html", title="Overview", partners=partners, summary=store.summary(), store=store,
        journal=call.state.journal, armed=len(engine.rules), fired=engine.fired,
        scenario=engine.scenario.name if engine.scenario else None, seed=call.state.seed,
    )


@page
def find(call: Call) -> Reply:
    """Any id pasted into the search box: the page that shows it."""
    store, wanted = call.store, text(call, "q")
    if wanted in store.cards:
        return redirect(url("/cards", wanted))
    if wanted in store.accounts:
        return redirect(url("/accounts", wanted))
    if wanted in store.users:
        return redirect(url("/users", wanted))
    if wanted in store.companies:
        return redirect(url("/companies", wanted))
    posting = store.ledger.by_id(wanted)
    if posting is not None:
        shown = next((t.href for t in (target(store, e.account) for e in posting.entries) if t.href), None)
        if shown:
            return redirect(shown)
    return redirect(url("/journal", reference=wanted))


# --- accounts and cards -----------------------------------------------------------------------------
class CardRow(NamedTuple):
    card: Card
    user: User
    balance: Decimal


def _matches(card: Card, user: User, wanted: str) -> bool:
    haystack = f"{card.card_id} {card.user_id} {card.masked_number} {user.email} {user.mobile} {user.first_name}"
    return wanted in haystack.lower()


@page
def account(call: Call) -> Reply:
    store = call.store
    found = lookup(call, store.accounts, "cardAccountId", "card account")
    company = store.companies[found.company_id]
    wanted, status = text(call, "q").lower(), text(call, "status").upper()
    # 10,000 cards stay fast: the totals are one pass of sums, and rows are made for the page shown only
    every = list(store.iter_cards(found.card_account_id))
    balance, users = store.ledger.balance, store.users
    total_points = sum([balance(card.card_id) for card in every], Decimal(0))
    active = sum(card.status == "ACTIVE" for card in every)
    matching = every if not wanted and not status else [
        card for card in every
        if (not wanted or _matches(card, users[card.user_id], wanted)) and (not status or card.status == status)
    ]
    shown = paged(matching, call.query.get("page"), CARDS_PER_PAGE)
    shown = shown._replace(rows=[CardRow(card, users[card.user_id], balance(card.card_id)) for card in shown.rows])
    return render(
        call, "account.html", title=f"Account {found.card_account_id}", account=found, company=company,
        partner=store.partners.get(company.partner_id), cards=shown,
        card_count=len(store.cards_of_account(found.card_account_id)), card_points=total_points, active=active,
        q=text(call, "q"), card_status=status, book=ledger_section(call, found.card_account_id),
        months=sorted(found.monthly.items(), reverse=True)[:12],
    )


@page
def card(call: Call) -> Reply:
    store = call.store
    found = lookup(call, store.cards, "enKashCardId", "card")
    account_ = store.accounts[found.card_account_id]
    company = store.companies[account_.company_id]
    return render(
        call, "card.html", title=f"Card {found.card_id}", card=found, user=store.users[found.user_id],
        account=account_, company=company, book=ledger_section(call, found.card_id),
        orders=_orders(store, found.card_id),
    )


# --- coins ---------------------------------------------------------------------------------------------
class Lot(NamedTuple):
    """A lot as the user's next balance call will see it: the inspector only reads, so a lot whose
    expiry has passed but is not yet posted shows as expired (`pending`)."""

    lot: CoinLot
    status: str
    remaining: Decimal
    expired: Decimal
    pending: bool


def coin_lots(store: Store, user_id: str, now: datetime) -> tuple[int, list[Lot]]:
    held, lots = store.balance(coin_account(user_id)), []
    for lot in store.coin_lots.get(user_id, []):
        due = bool(lot.remaining) and lot.expires_at is not None and lot.expires_at <= now
        remaining, expired = (Decimal(0), lot.expired + lot.remaining) if due else (lot.remaining, lot.expired)
        if due:
            held -= lot.remaining
        status = "ACTIVE" if remaining else ("EXPIRED" if expired else "SPENT")
        lots.append(Lot(lot, status, remaining, expired, due))
    return int(held), lots


@page
def company(call: Call) -> Reply:
    store = call.store
    found = lookup(call, store.companies, "companyId", "company")
    now = store.now()
    users = paged(store.users_of_company(found.company_id), call.query.get("page"), USERS_PER_PAGE)
    user_rows = [(store.users[u], *coin_lots(store, u, now)) for u in users.rows]
    return render(
        call, "company.html", title=f"Company {found.company_id}", company=found, now=now,
        partner=store.partners.get(found.partner_id),
        accounts=[a for a in store.accounts.values() if a.company_id == found.company_id],
        configs=[c for c in store.coin_configs.values() if c.company_id == found.company_id],
        users=users._replace(rows=user_rows),
    )


@page
def user(call: Call) -> Reply:
    store = call.store
    found = lookup(call, store.users, "userId", "user")
    company_ = store.companies[found.company_id]
    balance, lots = coin_lots(store, found.user_id, store.now())
    cards = [c for a in store.accounts.values() if a.company_id == found.company_id
             for c in store.iter_cards(a.card_account_id) if c.user_id == found.user_id]
    return render(
        call, "user.html", title=f"User {found.user_id}", user=found, company=company_, cards=cards, balance=balance,
        value=balance * company_.coin_to_currency_ratio, lots=lots, book=ledger_section(call, coin_account(found.user_id)),
        unit=COIN,
    )


# --- redemption orders -------------------------------------------------------------------------------------
ORDER_COLUMNS = ("Order", "Reference", "User", "Card", "Product", "Denomination", "Quantity", "Amount", "Status", "Payment", "Placed")


def order_row(order: Order, now: datetime) -> dict[str, Any]:
    """An order as one table row: what a partner asks about it, not its bookkeeping (fingerprint,
    posting ids). A pending order whose time has come shows as the API's next read will answer it
    (SUCCESS), without writing; its reference, holder and card link to their pages."""
    status = redemption.SUCCESS if redemption.is_due(order, now) else order.status
    values = (order.order_id, Target(order.reference, url("/journal", reference=order.reference)),
              Target(order.user_id, url("/users", order.user_id)), Target(order.card_id, url("/cards", order.card_id)),
              order.product_catalog_id, order.denomination, order.quantity, order.amount, status, order.payment_status,
              when(order.created_at))
    return dict(zip(ORDER_COLUMNS, values))


def _orders(store: Store, card_id: str | None = None) -> list[dict[str, Any]]:
    now = store.now()
    return [order_row(order, now) for order in store.orders.values() if card_id is None or order.card_id == card_id]


@page
def orders(call: Call) -> Reply:
    shown = paged(list(reversed(_orders(call.store))), call.query.get("page"), POSTINGS_PER_PAGE)
    return render(call, "orders.html", title="Redemption orders", orders=shown)


# --- the journal --------------------------------------------------------------------------------------------
JOURNAL_FILTERS = ("path", "status", "partner", "reference", "method")


class JournalRow(NamedTuple):
    """One journal line, its links and texts made here: the page may list the whole journal (1,000
    entries), and a template's per-cell work (a macro call, a url() per link) is what costs there."""

    entry: Entry
    href: str
    sandbox_time: str
    status_class: str
    latency: str
    references: list[tuple[str, str]]


def journal_row(entry: Entry) -> JournalRow:
    href = f"{BASE}/journal/{entry.seq}"
    return JournalRow(
        entry, href, when(entry.sandbox_time), "s" + str(entry.status)[:1], f"{entry.latency_ms:.1f}",
        [(r, url("/journal", reference=r)) for r in sorted(entry.references())],
    )


@page
def journal(call: Call) -> Reply:
    journal_ = call.state.journal
    wanted = {name: text(call, name) for name in JOURNAL_FILTERS}
    limit = integer(call.query.get("limit"), JOURNAL_DEFAULT, 1, max(1, journal_.capacity))
    entries = journal_.select(Filter(**{name: value or None for name, value in wanted.items()}), limit)
    return render(
        call, "journal.html", title="Journal", entries=[journal_row(e) for e in entries], filters=wanted, limit=limit,
        recorded=len(journal_), capacity=journal_.capacity, live=call.query.get("live") == "1",
    )


def _pretty(body: str) -> str:
    """A JSON body indented (numbers kept exactly); anything else as it came. simplejson is
    imported on the first journal page, not at every start."""
    import simplejson

    try:
        return str(simplejson.dumps(simplejson.loads(body, use_decimal=True), indent=2, ensure_ascii=False, use_decimal=True))
    except (ValueError, TypeError, RecursionError):
        return body


@page
def entry(call: Call) -> Reply:
    seq = str(call.params["seq"])
    found = call.state.journal.get(int(seq)) if seq.isdigit() and len(seq) < 19 else None
    if found is None:
        return not_found(call, f"journal entry {seq} (it keeps the last {call.state.journal.capacity} requests)")
    shown = found.describe()
    for side in ("request", "response"):
        shown[side]["pretty"] = _pretty(shown[side]["body"])
        if "decryptedBody" in shown[side]:
            shown[side]["decryptedPretty"] = _pretty(shown[side]["decryptedBody"])
    store = call.store
    made = [(p, [(target(store, e.account), e.amount, e.balance_after) for e in p.entries])
            for p in (links.postings_made(store, found) if found.seq > call.state.store_since else [])]
    return render(call, "entry.html", title=f"Request {found.request_id}", entry=shown, raw=found, made=made,
                  references=sorted(found.references()))


# --- faults, clock and state ----------------------------------------------------------------------------------
@page
def faults_page(call: Call) -> Reply:
    armed = faults.faults_list(call).body
    known = faults.scenarios_list(call).body
    endpoints = sorted({r.operation for r in call.state.router.routes if r.source != "sandbox"})
    return render(call, "faults.html", title="Faults", armed=armed, scenarios=known, endpoints=endpoints,
                  recent=list(reversed(armed["recent"])))


@page
def control(call: Call) -> Reply:
    state = call.state
    return render(call, "control.html", title="Clock and state", clock_doc=admin.clock_get(call).body, seed=state.seed,
                  summary=state.store.summary(), fixture_docs=len(state.fixture_docs))


@page
def state_download(call: Call) -> Reply:
    reply = admin.state_get(call)
    name = f"enkash-sandbox-state-{call.store.now().strftime('%Y%m%dT%H%M%S')}.json"
    return Reply(reply.body, 200, {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


# --- the page's own files (no state in them: no token needed, so the sign-in page is styled too) -------------
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


@functools.cache
def _static(name: str) -> str | None:
    path = HERE / "static" / name
    if "/" in name or path.suffix not in STATIC_TYPES or not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


def static(call: Call) -> Reply:
    name = str(call.params["name"])
    body = _static(name)
    if body is None:
        return Reply("not found", 404, {"X-Content-Type-Options": "nosniff"}, "text/plain; charset=utf-8")
    return Reply(body, 200, {"Cache-Control": "max-age=600", "X-Content-Type-Options": "nosniff"},
                 STATIC_TYPES[name[name.rindex("."):]])


def login_form(call: Call) -> Reply:
    next_page = safe_next(call.query.get("next"))
    if call.settings.admin_token and signed_in(call):
        return redirect(next_page)
    return render(call, "login.html", title="Sign in", next_page=next_page, problem="", chrome=False)
