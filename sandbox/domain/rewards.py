"""Reward and incentive allocation: points move between a company's card account and its cards.

Every rule is checked before anything is written, so a rejected call changes nothing; the one
write is a single ledger posting. A `uniqueReferenceNumber` is bound to the partner's first
request with it: the same request again replays the first result (or, with the policy's
`replay` off, is refused like any repeat), a different one is refused.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Generator, Iterable, NamedTuple

from sandbox.state.ledger import Posting, canonical
from sandbox.state.store import POINT, WORLD, Card, CardAccount, SsoGrant, Store, User
from sandbox.domain import cards, errors
from sandbox.domain.cards import check_funds as _check_funds, month_counters as _month, month_key

if TYPE_CHECKING:
    from sandbox.settings import Settings

CREDIT, DEBIT = "CR", "DR"
ALLOCATE, UNALLOCATE = "ALLOCATE_POINT", "UNALLOCATE_POINT"
_TYPE_FOR = {CREDIT: ALLOCATE, DEBIT: UNALLOCATE}
# a new user needs what api-9796905 marks required; a top-up or debit only a card (doc-1039425)
NEW_USER_FIELDS = ("companyId", "email", "mobile", "title", "firstName", "gender", "uniqueReferenceNumber")
SUCCESS, REVERSAL = "SUCCESS", "REVERSAL"


class RewardPolicy(NamedTuple):
    """The settings that choose between readings of the docs (docs/fidelity.md)."""

    replay: bool = True  # a repeated reference with the same body replays; False: refused (code 1)
    skip_existing: bool = True  # bulk isPointsAllocation=false: an existing holder is a success row, no points
    foreign_account_422: bool = True  # bulk on another partner's account: the documented 422, else the 404
    plan_master_bins: tuple[str, ...] = ("200401",)  # BINs mapped on the plan master (bulk's 422)

    @classmethod
    def of(cls, settings: "Settings") -> "RewardPolicy":
        return cls(
            replay=settings.duplicate_reference == "replay",
            skip_existing=settings.bulk_existing_holders == "skip",
            foreign_account_422=settings.bulk_foreign_account == "422",
            plan_master_bins=tuple(b.strip() for b in settings.plan_master_bins.split(",") if b.strip()),
        )


DEFAULT_POLICY = RewardPolicy()


class Allocation(NamedTuple):
    company_id: str | None  # a top-up or debit by card id may leave it out (doc-1039425)
    card_account_id: str | None
    card_id: str | None
    transaction_type: str
    type: str
    amount: Decimal
    reference: str  # "" when none was sent (allowed on a top-up or debit)
    fingerprint: str
    email: str | None = None
    mobile: str | None = None
    title: str | None = None
    first_name: str | None = None
    gender: str | None = None


class Allocated(NamedTuple):
    card: Card
    user: User
    posting: Posting | None  # None only for a bulk row that credited nothing

    @property
    def card_balance(self) -> Decimal:
        if self.posting is None:
            return Decimal(0)
        return self.posting.balance_after(self.card.card_id)

    @property
    def account_balance(self) -> Decimal:
        if self.posting is None:
            return Decimal(0)
        return self.posting.balance_after(self.card.card_account_id)


# --- lookups shared by every endpoint --------------------------------------------------------
def account_of(store: Store, partner_id: str, company_id: str | None, card_account_id: str) -> CardAccount:
    """The partner's account; without a company id (a top-up, doc-1039425) the account's own."""
    found = store.accounts.get(card_account_id)
    company = company_id if company_id is not None else (found.company_id if found else "")
    account = store.account_of_partner(partner_id, company, card_account_id)
    if account is None and company_id is None:
        raise errors.CardAccountNotFound(f"Card account not found for cardAccountId: {card_account_id}")
    if account is None:
        raise errors.CardAccountNotFound(company_id=company_id, card_account_id=card_account_id)
    return account


def card_of(store: Store, partner_id: str, company_id: str | None, card_id: str, card_account_id: str | None = None) -> Card:
    return card_and_account(store, partner_id, company_id, card_id, card_account_id)[0]


def card_and_account(
    store: Store, partner_id: str, company_id: str | None, card_id: str, card_account_id: str | None = None,
) -> tuple[Card, CardAccount]:
    """card_of() and the card's account, each looked up once (a top-up needs both)."""
    card = store.cards.get(card_id)
    if card is None or (card_account_id and card.card_account_id != card_account_id):
        raise errors.CardNotFound(card_id=card_id)
    company = company_id if company_id is not None else store.accounts[card.card_account_id].company_id
    account = store.account_of_partner(partner_id, company, card.card_account_id)
    if account is None:
        raise errors.CardNotFound(card_id=card_id)
    return card, account


# --- single allocation ----------------------------------------------------------------------
def allocate_points(store: Store, partner_id: str, request: Allocation, policy: RewardPolicy = DEFAULT_POLICY) -> Allocated:
    company_id, card_account_id, card_id = request.company_id, request.card_account_id, request.card_id
    direction, kind, amount, reference = request.transaction_type, request.type, request.amount, request.reference
    fingerprint, email, mobile = request.fingerprint, request.email, request.mobile
    if kind != _TYPE_FOR[direction]:
        raise errors.TypeMismatch(transaction_type=direction, type=kind)
    if reference:
        replay = _replay(store, partner_id, reference, fingerprint, policy.replay)
        if replay is not None:
            return replay

    card: Card | None
    if card_id:
        card, account = card_and_account(store, partner_id, company_id, card_id, card_account_id)
        user = store.users[card.user_id]
        if email or mobile:
            _check_contact(user, card_id, email, mobile)
    else:
        account = account_of(store, partner_id, company_id, card_account_id or "")
        card = _card_by_contact(store, account, email, mobile)
        if card is None and direction == DEBIT:  # the schema made it name a mobile or e-mail
            raise errors.CardHolderNotFound(card_account_id=account.card_account_id)
        if card is not None:
            user = store.users[card.user_id]

    if card is None:
        _require_new_user_fields(request)
        _check_funds(store, account.card_account_id, amount)
        user = cards.create_user(
            store, account.company_id, email or "", mobile or "",
            request.title or "", request.first_name or "", request.gender or "",
        )
        card = cards.issue(store, user, account.card_account_id)
    elif card.status != "ACTIVE":
        raise errors.CardInactive()
    return Allocated(card, user, _move(store, partner_id, account, card, direction, amount, reference, fingerprint))


def _replay(store: Store, partner_id: str, reference: str, fingerprint: str, replay: bool = True) -> Allocated | None:
    posting = store.ledger.by_reference(partner_id, reference) if reference else None
    if posting is None:
        return None
    if not replay:
        raise errors.ReferenceReused(reference=reference)
    if posting.fingerprint != fingerprint:
        raise errors.DuplicateReference(reference=reference)
    card = next(store.cards[e.account] for e in posting.entries if e.account in store.cards)
    return Allocated(card, store.users[card.user_id], posting)


def _check_contact(user: User, card_id: str, email: str | None, mobile: str | None) -> None:
    if mobile and user.mobile and mobile != user.mobile:
        raise errors.ContactMismatch(field="mobile", card_id=card_id)
    if email and user.email and email.lower() != user.email.lower():
        raise errors.ContactMismatch(field="email", card_id=card_id)


def _card_by_contact(store: Store, account: CardAccount, email: str | None, mobile: str | None) -> Card | None:
    by_mobile, by_email = store.card_by_contact(account.card_account_id, mobile, email)
    if by_mobile and by_email and by_mobile != by_email:
        raise errors.ContactConflict()
    found = by_mobile or by_email
    if found is None:
        return None
    card = store.cards[found]
    _check_contact(store.users[card.user_id], card.card_id, email, mobile)
    return card


def _require_new_user_fields(request: Allocation) -> None:
    values = {
        "companyId": request.company_id, "email": request.email, "mobile": request.mobile, "title": request.title,
        "firstName": request.first_name, "gender": request.gender, "uniqueReferenceNumber": request.reference,
    }
    for name in NEW_USER_FIELDS:
        if not values[name]:
            raise errors.MissingField(field=name if name != "uniqueReferenceNumber" else "uniqueReferenceNumber or uniqueReferenceNum")


def _move(
    store: Store, partner_id: str, account: CardAccount, card: Card, direction: str,
    amount: Decimal, reference: str, fingerprint: str, count: bool = True, now: datetime | None = None,
) -> Posting:
    """`now`: the time to post at (a bulk slice's one reading), else the clock's."""
    source, target = (account.card_account_id, card.card_id) if direction == CREDIT else (card.card_id, account.card_account_id)
    _check_funds(store, source, amount)
    if now is None:
        now = store.now()
    posting = store.ledger.post(
        store.new_id("card_txn"), _TYPE_FOR[direction], POINT, now,
        [(source, -amount), (target, amount)], scope=partner_id, reference=reference, fingerprint=fingerprint,
    )
    if direction == CREDIT and count:  # a FAILED credit never happened for the counters
        account.total_allocation = canonical(account.total_allocation + amount)
        _count(account, now, 0, amount)
    return posting


def _count(account: CardAccount, now: datetime, which: int, amount: Decimal) -> None:
    """Add to this month's allocated (0) or redeemed (1) points."""
    key = month_key(now)
    month = account.monthly.get(key) or _month(account, key)  # the month is there but on the 1st
    month[which] = canonical(month[which] + amount)


# --- bulk -----------------------------------------------------------------------------------
class BulkRow(NamedTuple):
    position: int  # where the row sits in the request body
    fields: dict[str, object]
    problem: str | None  # a shape problem found by the row schema
    amount: Decimal
    reference: str
    fingerprint: str


class BulkOutcome(NamedTuple):
    row: BulkRow
    allocated: Allocated | None = None
    reason: str | None = None


BULK_SLICE = 250  # bulk rows applied between two pauses (a 10,000-row upload held every other client ~1 s)


def bulk_allocate(
    store: Store, partner_id: str, company_id: str | None, card_account_id: str,
    is_points_allocation: bool, rows: Iterable[BulkRow], max_rows: int, policy: RewardPolicy = DEFAULT_POLICY,
) -> Generator[None, None, list[BulkOutcome]]:
    """The page's documented refusals (api-9796906), account first, then its primary card; then
    the rows, each whole, pausing (a bare `yield`) after every BULK_SLICE of them so the caller
    can serve other requests in between: rows are independent, so a pause never splits one."""
    if not company_id:
        raise errors.CompanyIdRequired()
    account = _bulk_account(store, partner_id, company_id, card_account_id, policy)
    rows = list(rows)
    if len(rows) > max_rows:
        raise errors.TooManyRows(limit=max_rows)
    primary = account.primary_card
    if primary is None:
        raise errors.PrimaryCardMissing()
    if primary.kyc_status != "VERIFIED":
        raise errors.PrimaryCardKycPending()
    if bin_of(primary.masked_number) not in policy.plan_master_bins:
        raise errors.BinTypeNotMapped()
    enrol = cards.Enrolment(store, account.company_id, account.card_account_id)
    outcomes: list[BulkOutcome] = []
    for start in range(0, len(rows), BULK_SLICE):
        if start:
            yield
        outcomes += _bulk_slice(store, partner_id, account, is_points_allocation, rows[start:start + BULK_SLICE], policy, enrol)
    return outcomes


def _bulk_account(store: Store, partner_id: str, company_id: str, card_account_id: str, policy: RewardPolicy) -> CardAccount:
    """404 when no such account is in that company; the documented 422 when it is another partner's."""
    account = store.accounts.get(card_account_id)
    if account is not None and account.company_id == company_id and policy.foreign_account_422:
        if store.company_of_partner(partner_id, company_id) is None:
            raise errors.ForeignCardAccount()
    return account_of(store, partner_id, company_id, card_account_id)


def bin_of(masked_number: str) -> str:
    """The first six digits of a card number as the account's primary card shows it ("2004 01XX ...")."""
    return masked_number.replace(" ", "")[:6]


def _bulk_slice(
    store: Store, partner_id: str, account: CardAccount, credit_existing: bool, rows: list[BulkRow], policy: RewardPolicy,
    enrol: cards.Enrolment,
) -> list[BulkOutcome]:
    """The rows of one slice, each whole, the clock read once (every row of a slice carries the
    slice's time, docs/fidelity.md). A row the schema refused fails with its problem; a reference
    seen before replays (or is refused); a holder found by mobile or e-mail is credited, or
    skipped when isPointsAllocation is false; otherwise a new holder and card, checked for funds
    first, so a refused row creates nothing. Every row schema-checked, so its e-mail, mobile and
    name are strings."""
    now = store.now()
    outcomes: list[BulkOutcome] = []
    for row in rows:
        fields, amount, reference = row.fields, row.amount, row.reference
        if row.problem:
            outcomes.append(BulkOutcome(row, reason=row.problem))
            continue
        try:
            replay = _replay(store, partner_id, reference, row.fingerprint, policy.replay) if reference else None
            if replay is not None:
                outcomes.append(BulkOutcome(row, replay))
                continue
            email, mobile = fields["email"], fields["mobile"]
            card = _card_by_contact(store, account, email, mobile)
            if card is not None:
                if not credit_existing:
                    if policy.skip_existing:  # created nothing, allocated nothing: a success row without a transaction
                        outcomes.append(BulkOutcome(row, Allocated(card, store.users[card.user_id], None)))
                    else:
                        outcomes.append(BulkOutcome(row, reason=EXISTING_NOT_CREDITED))
                    continue
                if card.status != "ACTIVE":
                    raise errors.CardInactive()
            if amount:
                _check_funds(store, account.card_account_id, amount)
            if card is None:
                user, card = enrol(email, mobile, fields.get("title") or "", fields["name"], "")
            else:
                user = store.users[card.user_id]
            posting = _move(store, partner_id, account, card, CREDIT, amount, reference, row.fingerprint, now=now) if amount else None
            outcomes.append(BulkOutcome(row, Allocated(card, user, posting)))
        except errors.SandboxError as failure:
            outcomes.append(BulkOutcome(row, reason=failure.message))
    return outcomes


EXISTING_NOT_CREDITED = "User already exists; isPointsAllocation is false, so no points were allocated"


# --- card transaction statuses (transaction/all's `status`) ------------------------------------
# Every posting is SUCCESS unless store.txn_status says otherwise. CREATED: moved, not final yet.
# FAILED and REVERSED: moved, then given back by one REVERSAL posting, so balances stay derived.
TXN_STATUSES = (SUCCESS, "CREATED", "FAILED", "REVERSED")


def transaction_status(store: Store, posting_id: str) -> str:
    return store.txn_status.get(posting_id, SUCCESS)


def set_status(store: Store, posting: Posting, status: str) -> Posting | None:
    """Give a card transaction its status; FAILED/REVERSED post the REVERSAL (returned)."""
    if transaction_status(store, posting.id) in ("FAILED", "REVERSED"):
        raise errors.SandboxRequestInvalid(reason=f"transaction {posting.id} is already {transaction_status(store, posting.id)}")
    reversal = None
    if status in ("FAILED", "REVERSED"):
        moves = [(entry.account, -entry.amount) for entry in posting.entries]
        for account, amount in moves:
            if amount < 0 and (account in store.cards or account in store.accounts):
                _check_funds(store, account, -amount)
        reversal = store.ledger.post(
            store.new_id("card_txn"), REVERSAL, posting.unit, store.now(), moves, memo=f"Reversal of {posting.id}",
        )
    if status == SUCCESS:
        store.txn_status.pop(posting.id, None)
    else:
        store.txn_status[posting.id] = status
    return reversal


def fixture_transaction(
    store: Store, partner_id: str, card: Card, direction: str, amount: Decimal, status: str, reference: str = "",
) -> Posting:
    """A card transaction a fixture file describes: an allocation (CR) or a debit (DR), then its status."""
    account = store.accounts[card.card_account_id]
    posting = _move(store, partner_id, account, card, direction, canonical(amount), reference, "", count=status != "FAILED")
    set_status(store, posting, status)
    return posting


def sso_grant(
    store: Store, partner_id: str, company_id: str, card_account_id: str, card_id: str, lifetime: int = 300,
) -> SsoGrant:
    """A one-click login token for a card holder, or for the account's admin via its primary card;
    kept `lifetime` seconds (as long as the marketplace accepts it as its holder's token)."""
    account = account_of(store, partner_id, company_id, card_account_id)
    if account.primary_card is not None and account.primary_card.card_id == card_id:
        landing, holder = "reward_account", account.primary_card.user_id
    else:
        landing, holder = "employee_rewards", card_of(store, partner_id, company_id, card_id, card_account_id).user_id
    now = store.now()
    _forget_stale_grants(store.sso_grants, now, lifetime)
    grant = SsoGrant(store.new_id("sso_token"), card_id, landing, now, account.card_account_id, holder)
    store.sso_grants[grant.token] = grant
    return grant


SSO_GRANTS_KEPT = 10_000  # at most this many at once, the oldest freed first (README "Limits")


def _forget_stale_grants(grants: dict[str, SsoGrant], now: datetime, lifetime: int) -> None:
    """Free grants in the order they were issued while the oldest has expired or the table is full."""
    while grants:
        oldest = next(iter(grants.values()))
        if len(grants) < SSO_GRANTS_KEPT and (now - oldest.issued_at).total_seconds() < lifetime:
            return
        del grants[oldest.token]


# --- sandbox-only move (admin API): fund an account -------------------------------------------
def load_account(store: Store, account: CardAccount, amount: Decimal) -> Posting:
    return store.ledger.post(
        store.new_id("card_txn"), "LOAD", POINT, store.now(),
        [(WORLD, -amount), (account.card_account_id, amount)], memo="sandbox account load",
    )
