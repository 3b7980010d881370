"""Reward and incentive allocation endpoints (EnKash https://docs.enkash.com/api-9796905 and its siblings): fields in, payload out."""

from __future__ import annotations

import weakref
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.contract import envelope, jsonio
from sandbox.contract.envelope import Reply
from sandbox.state.clock import iso
from sandbox.domain import errors, rewards, statements
from sandbox.domain.rewards import Allocated, Allocation, BulkOutcome, BulkRow, RewardPolicy
from sandbox.domain.statements import TransactionQuery
from sandbox.web.adapter import Call
from sandbox.state.store import Card, Store
from sandbox.web.endpoints.fields import amount, fingerprint, first, moment, optional_amount, paging

if TYPE_CHECKING:
    from sandbox.settings import Settings

BULK_ROW = "bulk-create-allocate-points.row"
BULK_ECHO = ("title", "name", "email", "mobile", "loadAmount", "remarks", "uniqueReferenceNumber")
SPRING_TRUE = ("true", "on", "yes", "1")  # Spring's StringToBooleanConverter, any case (the schema's pattern)


def policy(settings: "Settings") -> RewardPolicy:
    """The settings' policy, made once per Settings object. Kept by identity: an lru_cache hashed
    all of the frozen Settings' fields on every allocation (about 2 % of a top-up)."""
    found = _POLICIES.get(id(settings))
    if found is not None and found[0] is settings:
        return found[1]
    made = RewardPolicy(
        replay=settings.duplicate_reference == "replay",
        skip_existing=settings.bulk_existing_holders == "skip",
        foreign_account_422=settings.bulk_foreign_account == "422",
        plan_master_bins=tuple(b.strip() for b in settings.plan_master_bins.split(",") if b.strip()),
    )
    if len(_POLICIES) >= 8:
        _POLICIES.clear()
    _POLICIES[id(settings)] = (settings, made)  # the settings are held, so their id is not reused
    return made


_POLICIES: dict[int, tuple["Settings", RewardPolicy]] = {}


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
    return allocation_payload(rewards.allocate_points(call.store, call.partner_id, request, policy(call.settings)))


def allocation_payload(result: Allocated) -> dict[str, Any]:
    card, user, posting = result.card, result.user, result.posting
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
        "otbBalance": result.card_balance,
    }


def bulk_create_allocate_points(call: Call) -> dict[str, Any]:
    query = call.query
    company_id, card_account_id = query.get("companyId") or "", query["cardAccountId"]
    target = {"companyId": company_id, "cardAccountId": card_account_id}
    rows = [_bulk_row(call, index, row, target) for index, row in enumerate(call.body)]
    outcomes = rewards.bulk_allocate(
        call.store, call.partner_id, company_id, card_account_id,
        query["isPointsAllocation"].lower() in SPRING_TRUE, rows, call.settings.bulk_max_rows, policy(call.settings),
    )
    successes = [_bulk_success(call.store, o, target) for o in outcomes if o.reason is None]
    failures = [_bulk_failure(o, target) for o in outcomes if o.reason is not None]
    return {
        "successBulkEnKashCardCreateDTOs": successes,
        "failedBulkEnKashCardCreateDTOs": failures,
        "successCount": len(successes),
        "failedCount": len(failures),
        "totalCount": len(outcomes),
    }


def _bulk_row(call: Call, index: int, row: dict[str, Any], target: dict[str, str]) -> BulkRow:
    problem = call.state.schemas.problem(BULK_ROW, row)
    load = amount(row["loadAmount"]) if problem is None else Decimal(0)
    reference = row.get("uniqueReferenceNumber") or ""
    return BulkRow(index, row, problem, load, reference, fingerprint(row, target) if reference else "")


def _bulk_echo(row: BulkRow, target: dict[str, str]) -> dict[str, Any]:
    echo = {name: row.fields[name] for name in BULK_ECHO if name in row.fields}
    return {**echo, **target}


def _bulk_success(store: Store, outcome: BulkOutcome, target: dict[str, str]) -> dict[str, Any]:
    allocated = outcome.allocated
    assert allocated is not None
    card = allocated.card
    posting = allocated.posting
    return {
        **_bulk_echo(outcome.row, target),
        "enKashCardId": card.card_id,
        "userId": card.user_id,
        "enkashCardTxnId": posting.id if posting else None,
        "otbBalance": allocated.card_balance if posting else store.balance(card.card_id),
        "availableBalance": allocated.account_balance if posting else store.balance(card.card_account_id),
    }


def _bulk_failure(outcome: BulkOutcome, target: dict[str, str]) -> dict[str, Any]:
    return {**_bulk_echo(outcome.row, target), "failureReason": outcome.reason}


def card_account_get(call: Call) -> dict[str, Any]:
    body = call.body
    view = statements.account_details(call.store, call.partner_id, body["companyId"], body["cardAccountId"])
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
    return {"recordsCount": total, "data": _ROWS.page(store, query.company_id, page)}


class TransactionRows:
    """transaction/all's rows as JSON. A posting never changes, so the bytes of its row are made
    once per card side and kept; only what can change after it was posted is filled in on each
    request: the holder's name and the company's (and id) once per card, the transaction's status
    per row. The page goes out as one raw JSON array (jsonio.Raw), byte for byte what the row
    dicts of transaction_row() would print. Bounded: at most `size` rows a store, all dropped
    when full, so memory follows the rows read, not every posting."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._stores: weakref.WeakKeyDictionary[Store, dict[tuple[str, str], tuple[bytes, bytes, bytes]]] = weakref.WeakKeyDictionary()

    def page(self, store: Store, company_id: str, page: list[statements.CardTransaction]) -> jsonio.Raw:
        kept = self._stores.get(store)
        if kept is None:
            kept = self._stores[store] = {}
        company = b',"companyName":' + jsonio.dumps(store.companies[company_id].name) + b',"companyId":' + jsonio.dumps(company_id) + b","
        statuses = store.txn_status
        holders: dict[str, bytes] = {}
        out: list[bytes] = []
        for txn in page:
            posting, card = txn
            key = (posting.id, card.card_id)
            parts = kept.get(key)
            if parts is None:
                if len(kept) >= self.size:
                    kept.clear()
                parts = kept[key] = _row_parts(txn)
            holder = holders.get(card.card_id)
            if holder is None:
                holder = holders[card.card_id] = jsonio.dumps(store.users[card.user_id].first_name) + company
            status = statuses.get(posting.id)
            out += parts[0], holder, parts[1], _SUCCESS if status is None else jsonio.dumps(status), parts[2], b","
        if out:
            out[-1] = b"]"
            return jsonio.Raw(b"[" + b"".join(out))
        return jsonio.Raw(b"[]")


_ROWS = TransactionRows()
_SUCCESS = b'"' + rewards.SUCCESS.encode() + b'"'


def _row_parts(txn: statements.CardTransaction) -> tuple[bytes, bytes, bytes]:
    """A row's fixed bytes around what can change: up to the holder's name, from cardAccountId to
    the status, and after the status."""
    row = transaction_row(txn, "", "", "", "")
    keys = list(row)
    held, status = keys.index("cardHolderName"), keys.index("status")
    before = jsonio.dumps(dict(zip(keys[:held], row.values())))[:-1] + b',"cardHolderName":'
    middle = jsonio.dumps({k: row[k] for k in keys[held + 3: status]})[1:-1] + b',"status":'
    after = b"," + jsonio.dumps({k: row[k] for k in keys[status + 1:]})[1:]
    return before, middle, after


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
