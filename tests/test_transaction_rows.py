"""transaction/all's rows: the bytes kept per posting are the row documents' bytes, whatever
changed after the posting (status, holder's name); a long history is paged at its place."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from conftest import DOCS_ACCOUNT, DOCS_COMPANY, new_user

from sandbox.contract import envelope, jsonio
from sandbox.domain import rewards, statements
from sandbox.domain.statements import TransactionQuery
from sandbox.settings import Settings
from sandbox.state.ledger import Ledger
from sandbox.web.app import create_app
from sandbox.web.endpoints.rewards import TransactionRows, transaction_row

TXN_ACCOUNT, TXN_CARD, TXN_USER = "CATXN0001", "EKCTXN0001", "EKTXN001"  # fixtures: CREATED, FAILED, REVERSED credits
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def reference(store, rows):
    """What the page would print as plain row documents, read from the store as it is now."""
    company = store.companies[DOCS_COMPANY].name
    return jsonio.dumps([transaction_row(t, store.users[t.card.user_id].first_name, company, DOCS_COMPANY,
                                         store.txn_status.get(t.posting.id, "SUCCESS")) for t in rows])


def test_kept_rows_print_as_the_row_documents_and_follow_status_and_holder():
    store = create_app(Settings(seed=7)).sandbox.store
    query = TransactionQuery(DOCS_COMPANY, TXN_ACCOUNT)
    total, rows = statements.transactions(store, "CRMXWB3ZM", query, 0, 100)
    statuses = {store.txn_status.get(t.posting.id, "SUCCESS") for t in rows}
    assert total == len(rows) == 5 and statuses == {"SUCCESS", "CREATED", "FAILED", "REVERSED"}
    cache = TransactionRows()
    first = cache.page(store, DOCS_COMPANY, rows)
    assert first.text == reference(store, rows)
    assert [r["cardHolderName"] for r in jsonio.loads(first.text) if r["enkashCardId"] == TXN_CARD][0] == "Priya"
    store.users[TXN_USER].first_name = "Priya N"  # both can change after the posting: never kept
    created = next(t.posting.id for t in rows if store.txn_status.get(t.posting.id) == "CREATED")
    store.txn_status[created] = "FAILED"
    again = cache.page(store, DOCS_COMPANY, rows)
    assert again.text != first.text and again.text == reference(store, rows)
    assert {r["cardHolderName"] for r in jsonio.loads(again.text) if r["enkashCardId"] == TXN_CARD} == {"Priya N"}
    assert TransactionRows(size=2).page(store, DOCS_COMPANY, rows).text == again.text  # full: dropped, same bytes
    assert cache.page(store, DOCS_COMPANY, []).text == b"[]"


def test_a_status_is_put_in_at_its_field_whatever_a_name_holds():
    store = create_app(Settings(seed=7)).sandbox.store
    store.users[TXN_USER].first_name = 'x,"status":"SUCCESS","y'  # escaped in the row: not the field
    for card_id in (None, TXN_CARD):  # several cards' rows, then one card's page
        total, rows = statements.transactions(store, "CRMXWB3ZM", TransactionQuery(DOCS_COMPANY, TXN_ACCOUNT, card_id=card_id), 0, 100)
        assert TransactionRows().page(store, DOCS_COMPANY, rows).text == reference(store, list(rows))


def test_a_card_page_is_kept_whole_and_follows_status_holder_and_new_postings():
    store = create_app(Settings(seed=7)).sandbox.store
    query = TransactionQuery(DOCS_COMPANY, TXN_ACCOUNT, card_id=TXN_CARD)
    cache = TransactionRows()

    def read(offset=0, limit=100):
        total, page = statements.transactions(store, "CRMXWB3ZM", query, offset, limit)
        assert isinstance(page, statements.HistoryPage)
        text = cache.page(store, DOCS_COMPANY, page).text
        assert text == reference(store, list(page))
        return total, page, text

    total, page, first = read()
    assert total == len(page) == 5 and read()[2] is first  # read again: the kept bytes themselves
    for offset, limit in ((1, 2), (4, 100), (5, 100), (9, 1)):
        assert read(offset, limit)[2] == reference(store, list(page)[offset: offset + limit])
    ids = [t.posting.id for t in page]
    created = next(i for i in ids if store.txn_status.get(i) == "CREATED")
    plain = next(i for i in ids if i not in store.txn_status)
    store.txn_status[created] = "FAILED"  # a status changed, one given, one taken back: never kept
    assert read()[2] != first
    store.txn_status[plain] = "CREATED"
    assert b'"CREATED"' in read()[2]
    del store.txn_status[plain]
    store.users[TXN_USER].first_name = "Priya N"
    assert b'"Priya N"' in read()[2]
    rewards.fixture_transaction(store, "CRMXWB3ZM", store.cards[TXN_CARD], "CR", Decimal(5), "SUCCESS")
    total, page, text = read()  # a new posting: the first page is other places of the history
    assert total == 6 and jsonio.loads(text)[1:] == jsonio.loads(first.replace(b'"Priya"', b'"Priya N"').replace(b'"CREATED"', b'"FAILED"'))
    small = TransactionRows(page_bytes=3 * len(text))  # a page weighs its rows, its payload and its answer
    small.page(store, DOCS_COMPANY, read(0, 3)[1])
    assert small.page(store, DOCS_COMPANY, page).text == text  # bounded: the older page made room
    assert [key[1:3] for key in small._kept.of(store).pages] == [(0, 6)]


def test_a_long_history_is_paged_at_its_place(docs_partner):
    card = docs_partner.allocate(**new_user(loadAmount=1, uniqueReferenceNumber="LONG-0")).json()["payload"]["enKashCardId"]
    for n in range(1, 250):
        assert docs_partner.allocate(enkashCardId=card, loadAmount=1, uniqueReferenceNumber=f"LONG-{n}").json()["code"] == 0
    query = {"companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "enKashCardId": card}
    whole = docs_partner.post("/transaction/all", query, params={"limit": 1000}).json()["payload"]
    assert whole["recordsCount"] == 250
    assert [r["pgReferenceNumber"] for r in whole["data"]] == [f"LONG-{n}" for n in range(249, -1, -1)]
    assert [r["balance"] for r in whole["data"][:3]] == [250, 249, 248]
    for offset, limit in ((0, 100), (100, 100), (200, 100), (249, 5), (250, 5), (7, 1)):
        page = docs_partner.post("/transaction/all", query, params={"offset": offset, "limit": limit}).json()["payload"]
        assert page["recordsCount"] == 250
        assert page["data"] == whole["data"][offset: offset + limit]
    credits = docs_partner.post("/transaction/all", {**query, "cardTransactionType": "CR"}, params={"offset": 240}).json()["payload"]
    assert credits["recordsCount"] == 250 and credits["data"] == whole["data"][240:]


def test_histories_merge_newest_first_with_a_shared_posting_once_per_account():
    book = Ledger()
    for account in ("world", "a", "b"):
        book.open(account, "POINT", floored=False)
    moves = [[("world", Decimal(-1)), ("a", Decimal(1))], [("world", Decimal(-1)), ("b", Decimal(1))],
             [("a", Decimal(-1)), ("b", Decimal(1))], [("world", Decimal(-1)), ("a", Decimal(1))]]
    for n, legs in enumerate(moves):
        book.post(f"p{n}", "X", "POINT", NOW, legs)
    merged = [(i, p.id) for i, p in book.newest_first(["b", "a"])]
    assert merged == [(1, "p3"), (0, "p2"), (1, "p2"), (0, "p1"), (1, "p0")]
    assert [(i, p.id) for i, p in book.newest_first(["b", "a"], 2)] == merged[2:]
    assert [p.id for _, p in book.newest_first(["a"], 1)] == ["p2", "p0"]
    assert list(book.newest_first(["a"], 5)) == [] and list(book.newest_first(["nobody"])) == []


def test_a_kept_page_is_answered_with_the_same_bytes_the_documents_print():
    store = create_app(Settings(seed=7)).sandbox.store
    query = TransactionQuery(DOCS_COMPANY, TXN_ACCOUNT, card_id=TXN_CARD)
    cache = TransactionRows()
    total, page = statements.transactions(store, "CRMXWB3ZM", query, 0, 100)
    payload = cache.payload(store, DOCS_COMPANY, total, page)
    rows = jsonio.loads(reference(store, list(page)))
    assert jsonio.loads(payload.text) == {"recordsCount": 5, "data": rows} and len(rows) == 5
    for variant in ("A", "B"):
        answer = envelope.success(variant, payload)
        assert answer.text == jsonio.dumps(envelope.success(variant, {"recordsCount": 5, "data": rows}))
        assert envelope.response(envelope.Reply(answer))[1] is answer.text  # as it is, no copy
    total, page = statements.transactions(store, "CRMXWB3ZM", query, 0, 100)
    again = cache.payload(store, DOCS_COMPANY, total, page)
    assert again is payload and envelope.success("A", again) is envelope.success("A", payload)  # read again: kept
    assert cache.payload(store, DOCS_COMPANY, 9, page).text.startswith(b'{"recordsCount":9,')  # another count, another payload
    several = statements.transactions(store, "CRMXWB3ZM", TransactionQuery(DOCS_COMPANY, TXN_ACCOUNT), 0, 100)
    assert jsonio.plain(cache.payload(store, DOCS_COMPANY, *several)) == {"recordsCount": 5, "data": jsonio.loads(reference(store, several[1]))}
