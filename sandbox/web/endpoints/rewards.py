"""Reward and incentive allocation endpoints (EnKash https://docs.enkash.com/api-9796905 and its siblings): fields in, payload out."""

from __future__ import annotations

from operator import attrgetter
from decimal import Decimal
from typing import Any, Generator, Sequence

from sandbox.contract import envelope, jsonio
from sandbox.contract.envelope import Reply
from sandbox.state.clock import iso
from sandbox.domain import errors, rewards, statements
from sandbox.domain.rewards import Allocated, Allocation, BulkOutcome, BulkRow
from sandbox.domain.statements import TransactionQuery
from sandbox.web.adapter import Call
from sandbox.state.per_store import PerStore
from sandbox.state.store import Card, Store
from sandbox.web.endpoints.fields import amount, fingerprint, first, moment, optional_amount, paging, plain_fingerprint

BULK_ROW = "bulk-create-allocate-points.row"
BULK_ROWS = "bulk-create-allocate-points.rows"  # a slice of rows against BULK_ROW at once (no such file: the fast validator's key)
BULK_ECHO = ("title", "name", "email", "mobile", "loadAmount", "remarks", "uniqueReferenceNumber")
SPRING_TRUE = ("true", "on", "yes", "1")  # Spring's StringToBooleanConverter, any case (the schema's pattern)


def create_allocate_points(call: Call) -> dict[str, Any]:
    body: dict[str, Any] = call.body
    get = body.get
    card_id = get("enkashCardId")
    reference = get("uniqueReferenceNumber")
    request = Allocation(  # by position, in the fields' order: keywords cost a lookup each, every top-up
        get("companyId"),  # company_id
        get("cardAccountId"),  # card_account_id
        card_id if card_id is not None else get("enKashCardId"),  # card_id
        body["transactionType"],  # transaction_type
        body["type"],  # type
        amount(body["loadAmount"]),  # amount
        (reference if reference is not None else get("uniqueReferenceNum")) or "",  # reference
        fingerprint(body),  # fingerprint
        get("email"), get("mobile"), get("title"), get("firstName"), get("gender"),
    )
    return allocation_payload(rewards.allocate_points(call.store, call.partner_id, request, call.state.reward_policy))


def allocation_payload(result: Allocated) -> dict[str, Any]:
    """The reply's payload; otbBalance is the card's balance as the posting holds it (an int when
    whole: printed alike, without a Decimal made for it)."""
    card, user, posting = result
    assert posting is not None
    return {
        "enKashCardId": card.card_id,
        "userId": user.user_id,
        "cardAccountId": card.card_account_id,
        "token": card.token,
        "maskedNumber": card.masked_number,
        "email": user.email,
        "mobile": user.mobile,
        "title": user.title,
        "firstName": user.first_name,
        "gender": user.gender,
        "enkashCardTxnId": posting.id,
        "pgReferenceNumber": posting.reference or None,
        "otbBalance": posting.held_after(card.card_id),
    }


def bulk_create_allocate_points(call: Call) -> Generator[None, None, dict[str, Any]]:
    """In turns (the adapter serves other requests at each `yield`): the rows are checked, then
    applied, a slice at a time."""
    query = call.query
    company_id, card_account_id = query.get("companyId") or "", query["cardAccountId"]
    target = {"companyId": company_id, "cardAccountId": card_account_id}
    body: list[dict[str, Any]] = call.body
    schemas = call.state.schemas
    every_row = {"type": "array", "items": schemas.get(BULK_ROW)}
    rows: list[BulkRow] = []
    for start in range(0, len(body), rewards.BULK_SLICE):
        if start:
            yield
        piece = body[start:start + rewards.BULK_SLICE]
        sound = schemas.is_valid(BULK_ROWS, piece, every_row)  # one call a slice: a row's problem is looked for only if one has one
        rows += _bulk_rows(call, start, piece, target, sound)
    outcomes = yield from rewards.bulk_allocate(
        call.store, call.partner_id, company_id, card_account_id,
        query["isPointsAllocation"].lower() in SPRING_TRUE, rows, call.settings.bulk_max_rows, call.state.reward_policy,
    )
    successes, failures = _bulk_replies(call.store, outcomes, target)
    return {
        "successBulkEnKashCardCreateDTOs": successes,
        "failedBulkEnKashCardCreateDTOs": failures,
        "successCount": len(successes),
        "failedCount": len(failures),
        "totalCount": len(outcomes),
    }


def _bulk_rows(call: Call, start: int, piece: list[dict[str, Any]], target: dict[str, str], sound: bool) -> list[BulkRow]:
    """A slice's rows as the domain takes them, in one loop: a row's problem looked for only when
    the slice has one (`sound`: none has); each amount made once per value (uploads repeat a few);
    the fingerprint of a sound row with no field beyond the schema's by plain_fingerprint, as the
    schema proved its loadAmount a number and every other field a string."""
    schemas = call.state.schemas
    problem_of = schemas.problem
    rules = schemas.get(BULK_ROW)["properties"]
    plain = frozenset(name for name, rule in rules.items() if rule.get("type") == "string" or name == "loadAmount")
    amounts: dict[Any, Decimal] = {}
    rows: list[BulkRow] = []
    for index, row in enumerate(piece, start):
        problem = None if sound else problem_of(BULK_ROW, row)
        load = _NO_LOAD
        if problem is None:  # a number, as the schema holds: hashable, and equal ones have one canonical form
            value = row["loadAmount"]
            load = amounts.get(value) or amounts.setdefault(value, amount(value))
        reference = row.get("uniqueReferenceNumber") or ""
        if not reference:
            made = ""
        elif problem is None and plain.issuperset(row):
            made = plain_fingerprint(row, "loadAmount", target)
        else:
            made = fingerprint(row, target)
        rows.append(BulkRow(index, row, problem, load, reference, made))
    return rows


_NO_LOAD = Decimal(0)  # a refused row's amount


def _bulk_replies(store: Store, outcomes: list[BulkOutcome], target: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The success and failure rows of the reply, in one loop: each the row's own fields it
    repeats (in BULK_ECHO's order, made in C calls; a copy of the row when those are all its
    fields, in that order), the target's, then its outcome."""
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    echoed: dict[tuple[str, ...], tuple[str, ...]] = {}  # a row's names -> those it repeats (uploads' rows share a few)
    for row, allocated, reason in outcomes:
        fields = row.fields
        names = tuple(fields)
        repeated = echoed.get(names)
        if repeated is None:
            repeated = echoed[names] = tuple(filter(fields.__contains__, BULK_ECHO))
        reply = fields.copy() if repeated == names else dict(zip(repeated, map(fields.__getitem__, repeated)))
        reply.update(target)
        if reason is not None:
            reply["failureReason"] = reason
            failures.append(reply)
            continue
        card, _, posting = allocated  # type: ignore[misc]
        reply["enKashCardId"] = card.card_id
        reply["userId"] = card.user_id
        if posting is None:
            reply["enkashCardTxnId"] = None
            reply["otbBalance"] = store.balance(card.card_id)
            reply["availableBalance"] = store.balance(card.card_account_id)
        else:  # Allocated's card_balance and account_balance, without an Entry each
            reply["enkashCardTxnId"] = posting.id
            reply["otbBalance"] = posting.balance_after(card.card_id)
            reply["availableBalance"] = posting.balance_after(card.card_account_id)
        successes.append(reply)
    return successes, failures


def card_account_get(call: Call) -> jsonio.Raw:
    """The account's payload as JSON, kept per store and account under every value it prints:
    asked again with none of them changed (no posting, card or counter since), the same bytes."""
    body = call.body
    store = call.store
    view = statements.account_details(store, call.partner_id, body["companyId"], body["cardAccountId"])
    account, primary = view.account, view.account.primary_card
    key = (_ACCOUNT_FIELDS(account), None if primary is None else _PRIMARY_FIELDS(primary), view[1:])
    accounts = _ACCOUNT_REPLIES.of(store)
    kept = accounts.get(account.card_account_id)
    if kept is None or kept[0] != key:
        kept = accounts[account.card_account_id] = (key, jsonio.Raw(jsonio.dumps(account_payload(view))))
    return kept[1]


# what cardAccount/get prints of the account and of its primary card (the key of its kept bytes)
_ACCOUNT_FIELDS = attrgetter("card_account_id", "company_id", "credit_limit", "dynamic_limit", "total_allocation", "total_redemption")
_PRIMARY_FIELDS = attrgetter("card_id", "user_id", "token", "masked_number", "expiry_month")
_ACCOUNT_REPLIES: PerStore[dict[str, tuple[Any, jsonio.Raw]]] = PerStore(dict)


def account_payload(view: statements.AccountView) -> dict[str, Any]:
    """cardAccount/get's payload as a document (the reference form of the kept bytes)."""
    account, primary = view.account, view.account.primary_card
    return {
        "cardAccountId": account.card_account_id,
        "companyId": account.company_id,
        "companyName": view.company_name,
        "creditLimit": account.credit_limit,
        "dynamicLimit": account.dynamic_limit,
        "usedCreditLimit": view.used_credit_limit,
        "availableBalance": view.available_balance,
        "availableCardBalance": view.card_balance,
        "primaryEnKashCard": None if primary is None else {
            "enKashCardId": primary.card_id,
            "userId": primary.user_id,
            "cardAccountId": account.card_account_id,
            "token": primary.token,
            "maskedNumber": primary.masked_number,
            "expiryMonth": primary.expiry_month,
        },
        "totalCards": view.total_cards,
        "activeCards": view.active_cards,
        "totalAllocationPoint": account.total_allocation,
        "totalRedemptionPoint": account.total_redemption,
        "currentMonthAllocationPoint": view.month_allocation,
        "currentMonthRedemptionPoint": view.month_redemption,
    }


def search(call: Call) -> dict[str, Any] | Reply:
    """The list form (api-24480521) for every request; with user_details=object a request without
    a card id is answered as api-24480520 prints it: envelope B, one card (the account's first)."""
    body = call.body
    offset, limit = paging(call.query)
    card_id = first(body, "enKashCardId", "enkashCardId")
    found = statements.search_cards(call.store, call.partner_id, body["companyId"], body["cardAccountId"], card_id)
    if call.settings.user_details == "object" and not card_id:
        if not found:
            raise errors.CardHolderNotFound(f"No card in cardAccountId: {body['cardAccountId']}")
        return Reply(envelope.success("B", card_view(call.store, found[0])))
    return {"recordsCount": len(found), "data": [card_view(call.store, card) for card in found[offset: offset + limit]]}


def card_view(store: Store, card: Card) -> dict[str, Any]:
    user = store.users[card.user_id]
    return {
        "enKashCardId": card.card_id,
        "userId": user.user_id,
        "cardAccountId": card.card_account_id,
        "expiryMonth": card.expiry_month,
        "expiryYear": card.expiry_year,
        "email": user.email,
        "mobile": user.mobile,
        "title": user.title,
        "firstName": user.first_name,
        "gender": user.gender,
        "token": card.token,
        "maskedNumber": card.masked_number,
        "otbBalance": store.balance(card.card_id),
        "cardStatus": card.status,
    }


def transaction_all(call: Call) -> dict[str, Any]:
    body = call.body
    offset, limit = paging(call.query)
    references = tuple(body.get("pgReferenceNumbers") or ()) + ((body["pgReferenceNumber"],) if body.get("pgReferenceNumber") else ())
    txn_ids = tuple(body.get("enKashTransactionIds") or ()) + ((body["enKashTransactionId"],) if body.get("enKashTransactionId") else ())
    query = TransactionQuery(
        company_id=body["companyId"],
        card_account_id=body["cardAccountId"],
        card_id=first(body, "enKashCardId", "enkashCardId"),
        user_id=body.get("userId"),
        references=references,
        transaction_ids=txn_ids,
        direction=body.get("cardTransactionType"),
        amount_from=optional_amount(body.get("amountFrom")),
        amount_to=optional_amount(body.get("amountTo")),
        date_from=moment(body.get("txnDateFrom"), "txnDateFrom"),
        date_to=moment(body.get("txnDateTo"), "txnDateTo"),
        status=body.get("status"),
        holder_name=body.get("cardHolderName"),
        company_name=body.get("companyName"),
    )
    store = call.store
    total, page = statements.transactions(store, call.partner_id, query, offset, limit)
    return _ROWS.payload(store, query.company_id, total, page)


class TransactionRows:
    """transaction/all's rows as JSON. A posting never changes, so the bytes of its row are made
    once and kept, for each view of its card: the holder's name and the company's name and id,
    which can change after it was posted, are part of the view's name. A row is kept as printed
    with the status SUCCESS; the few rows whose status is another (store.txn_status) have it put
    in on each request. The page goes out as one raw JSON array (jsonio.Raw), byte for byte what
    the row documents of transaction_row() print, put together by loops in C (map, join): no
    Python step per row but for a row made the first time or a status not SUCCESS.

    One card's page (statements.HistoryPage) is kept whole as well, under its view and places:
    the same places of a history are the same postings, so a page read again costs a check that
    none of its statuses changed since (C loops over its ids), and its payload and envelope are
    made around it once (Raw.within): the answer to a page read again is the same bytes object,
    not 63 KB of fresh memory written for each request. Bounded: at most `size` rows and
    `page_bytes` of pages a store (rows all dropped when full, pages oldest first), so memory
    follows what is read, not every posting."""

    def __init__(self, size: int = 100_000, page_bytes: int = 16 << 20) -> None:
        self.size = size
        self.page_bytes = page_bytes
        self._kept: PerStore[_Kept] = PerStore(_Kept)

    def payload(self, store: Store, company_id: str, total: int, page: list[statements.CardTransaction] | statements.HistoryPage) -> dict[str, Any] | jsonio.Raw:
        """transaction/all's payload. One card's kept page goes as one Raw with its count, itself
        kept with the page (Raw.within), so that a page read again is answered with the same
        bytes from payload to envelope."""
        rows = self.page(store, company_id, page)
        if isinstance(page, statements.HistoryPage) and len(page):
            return rows.within(b'{"recordsCount":%d,"data":' % total, b"}")
        return {"recordsCount": total, "data": rows}

    def page(self, store: Store, company_id: str, page: list[statements.CardTransaction] | statements.HistoryPage) -> jsonio.Raw:
        kept = self._kept.of(store)
        if isinstance(page, statements.HistoryPage):
            return self._history(kept, store, company_id, page)
        views: dict[str, tuple[_View, dict[str, bytes]]] = {}
        rows = []
        for posting, card in page:  # several cards (or a filtered page): one view per card
            found = views.get(card.card_id)
            if found is None:
                found = views[card.card_id] = self._view(kept, store, company_id, card)
            rows.append(found[1].get(posting.id) or self._made(kept, *found, statements.CardTransaction(posting, card)))
        return jsonio.Raw(_array(rows, [posting.id for posting, _ in page], store))

    def _history(self, kept: "_Kept", store: Store, company_id: str, page: statements.HistoryPage) -> jsonio.Raw:
        if not len(page):
            return jsonio.Raw(b"[]")
        card = page.card
        name, view = self._view(kept, store, company_id, card)
        key = (name, page.start, page.stop)
        statuses = store.txn_status
        found = kept.pages.get(key)
        if found is not None:
            ids, members, seen, text = found
            if (None if statuses.keys().isdisjoint(members) else tuple(map(statuses.get, ids))) == seen:
                return text
        postings = page.postings()
        ids = tuple(map(_ID, postings))
        rows = list(map(view.get, ids))
        if None in rows:
            for i, row in enumerate(rows):
                if row is None:
                    rows[i] = self._made(kept, name, view, statements.CardTransaction(postings[i], card))
        text = jsonio.Raw(_array(rows, ids, store))
        members = frozenset(ids)
        seen = None if statuses.keys().isdisjoint(members) else tuple(map(statuses.get, ids))
        pages = kept.pages
        if found is not None:
            kept.held -= _held(found[3])
        pages[key] = (ids, members, seen, text)
        kept.held += _held(text)
        while kept.held > self.page_bytes and pages:
            kept.held -= _held(pages.pop(next(iter(pages)))[3])
        return text

    def _view(self, kept: "_Kept", store: Store, company_id: str, card: Card) -> tuple[_View, dict[str, bytes]]:
        """The name of `card`'s rows as printed now (its holder's name, the company's name and id), and those kept, by posting id."""
        name = (card.card_id, store.users[card.user_id].first_name, store.companies[company_id].name, company_id)
        view = kept.views.get(name)
        if view is None:
            view = kept.views[name] = {}
        return name, view

    def _made(self, kept: "_Kept", name: _View, view: dict[str, bytes], txn: statements.CardTransaction) -> bytes:
        """A row printed for the first time in this view, and kept (every view dropped when `size` rows are held)."""
        if kept.rows >= self.size:
            kept.views.clear()  # `view` is the caller's still: this page's rows go on into it, then it is gone
            kept.rows = 0
        _, holder, company_name, company_id = name
        row = view[txn.posting.id] = jsonio.dumps(transaction_row(txn, holder, company_name, company_id, rewards.SUCCESS))
        kept.rows += 1
        return row


def _held(page: jsonio.Raw) -> int:
    """What a kept page weighs: its rows, and the payload and the answer made around them (Raw.within)."""
    return 3 * len(page.text)


def _array(rows: list[bytes], ids: Sequence[str], store: Store) -> bytes:
    """The rows (kept as SUCCESS) as one JSON array, each row's own status put in where it has another."""
    codes = list(map(store.txn_status.get, ids))
    if codes.count(None) != len(codes):
        for i, code in enumerate(codes):
            if code is not None:  # `,"status":` is found once: a quote inside a value is escaped
                rows[i] = rows[i].replace(_SUCCESS_FIELD, b',"status":' + jsonio.dumps(code), 1)
    return b"[" + b",".join(rows) + b"]"


_View = tuple[str, str, str, str]  # a card's rows as printed: card id, holder's name, company's name and id


class _Kept:
    """What TransactionRows keeps for one store: rows by view of their card, how many in all, and
    whole pages by view and places with the bytes they hold in all."""

    __slots__ = ("views", "rows", "pages", "held")

    def __init__(self) -> None:
        self.views: dict[_View, dict[str, bytes]] = {}
        self.rows = 0
        self.pages: dict[tuple[_View, int, int], tuple[tuple[str, ...], frozenset[str], tuple[str | None, ...] | None, jsonio.Raw]] = {}
        self.held = 0


_ROWS = TransactionRows()
_SUCCESS_FIELD = b',"status":' + jsonio.dumps(rewards.SUCCESS)
_ID = attrgetter("id")


def transaction_row(txn: statements.CardTransaction, holder: str, company_name: str, company_id: str, status: str) -> dict[str, Any]:
    """One row of transaction/all as a document (the reference form of TransactionRows' bytes)."""
    card, posting = txn.card, txn.posting
    when = iso(posting.at)
    return {
        "enKashCardTransactionId": posting.id,
        "maskedCard": card.masked_number,
        "enkashCardId": card.card_id,
        "userId": card.user_id,
        "cardHolderName": holder,
        "companyName": company_name,
        "companyId": company_id,
        "cardAccountId": card.card_account_id,
        "principalAmount": txn.amount,
        "balance": txn.balance_after,
        "pgReferenceNumber": posting.reference or None,
        "description": _DESCRIPTIONS.get(posting.kind, posting.memo or posting.kind),
        "currency": "INR",
        "cardTransactionType": txn.direction,
        "status": status,
        "type": _TYPES.get(posting.kind, posting.kind),
        "createdOn": when,
        "txnDate": when,
        "modifiedOn": when,
        **_NOT_IN_THE_SANDBOX,
    }


_TYPES = {"SEED": "ALLOCATE_POINT", "REDEEM": "SALE"}
# the sandbox's own texts: EnKash's transaction page was not captured (transaction-all.payload.json)
_DESCRIPTIONS = {
    "ALLOCATE_POINT": "Points allocated",
    "UNALLOCATE_POINT": "Points unallocated",
    "SEED": "Opening balance",
    "REDEEM": "Points redeemed",
    "REFUND": "Points refunded",
}
# webhook fields (the card-transaction object) no sandbox transaction has: no card kits, no
# foreign currency, no merchant; present as null so a client's mapping meets every key
_NOT_IN_THE_SANDBOX = {"cardKitNumber": None, "fcyAmount": None, "fcyCurrency": None, "txnDetails": None}
