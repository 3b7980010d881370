"""The sandbox's own API under /__sandbox/: health, reset, clock, moves a partner cannot make
through EnKash's API (funding an account, a card holder's redemption), fixtures loaded at run
time, the whole state as a document, and the request journal (README.md, "Running it for a team")."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sandbox.documents import fixtures, snapshot
from sandbox.state.clock import OutOfRange, in_range, parse_iso
from sandbox.settings import RANGE_TEXT
from sandbox.domain import cards, errors, rewards
from sandbox.web.adapter import Call
from sandbox.contract.envelope import Reply
from sandbox.state.ids import IdFactory
from sandbox.state.reaper import REAPER
from sandbox.web.journal import Filter
from sandbox.state.store import Store
from sandbox.web.endpoints.fields import amount


def health(call: Call) -> Reply:
    return Reply({"status": "ok", "seed": call.state.seed, "state": call.store.summary()})


def reset(call: Call) -> Reply:
    seed = call.query.get("seed")
    if seed is not None and not re.fullmatch(r"-?[0-9]{1,18}", seed):
        raise errors.InvalidField(field="seed", problem="must be an integer")
    call.state.reset(int(seed) if seed is not None else None)
    return Reply({"status": "reset", "seed": call.state.seed, "state": call.store.summary()})


def clock_get(call: Call) -> Reply:
    return Reply(call.store.clock.describe())


_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: Any) -> timedelta:
    """`30d`, `1d12h`, `90s`, or a number of seconds."""
    if isinstance(text, (int, Decimal)) and not isinstance(text, bool):
        try:
            return timedelta(seconds=float(text))
        except OverflowError:
            raise errors.InvalidField(field="advance", problem="is too large") from None
    match = _DURATION.match(str(text)) if text else None
    if not match or not any(match.groups()):
        raise errors.InvalidField(field="advance", problem="must be seconds or a duration like 30d, 12h, 1d12h30m")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    try:
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise errors.InvalidField(field="advance", problem="is too large") from None


def clock_set(call: Call) -> Reply:
    body: dict[str, Any] = call.body
    clock = call.store.clock
    target, delta = None, timedelta(0)
    if body.get("now") is not None:
        try:
            target = parse_iso(str(body["now"]))
        except OutOfRange as exc:
            raise errors.InvalidField(field="now", problem=str(exc)) from None
        except ValueError:
            raise errors.InvalidField(field="now", problem="is not an ISO-8601 date-time") from None
    if body.get("advance") is not None:
        delta = parse_duration(body["advance"])
        if delta < timedelta(0):
            raise errors.InvalidField(field="advance", problem="must not be negative")
    try:  # check before changing anything: a rejected request changes no state
        in_range((target or clock.now()) + delta)
    except (OverflowError, OutOfRange):
        raise errors.InvalidField(field="advance" if delta else "now", problem=f"would move the clock out of range: {RANGE_TEXT}") from None
    if body.get("frozen") is True:  # first, so a frozen clock reads exactly the time set next
        clock.freeze()
    if target is not None:
        clock.set(target)
    if delta:
        clock.advance(delta)
    if body.get("frozen") is False:
        clock.run()
    return Reply(clock.describe())


def account_load(call: Call) -> Reply:
    account = call.store.accounts.get(call.params["cardAccountId"])
    if account is None:
        raise errors.CardAccountNotFound(company_id="", card_account_id=call.params["cardAccountId"])
    posting = rewards.load_account(call.store, account, amount(call.body["amount"]))
    return Reply({"cardAccountId": account.card_account_id, "availableBalance": call.store.balance(account.card_account_id), "transactionId": posting.id})


def card_redeem(call: Call) -> Reply:
    card = call.store.cards.get(call.params["enKashCardId"])
    if card is None:
        raise errors.CardNotFound(card_id=call.params["enKashCardId"])
    posting = cards.redeem(call.store, card, amount(call.body["amount"]))
    return Reply({"enKashCardId": card.card_id, "otbBalance": call.store.balance(card.card_id), "transactionId": posting.id})


_UPLOADED = "fixtures upload #"  # the source name of documents loaded at run time
MAX_UPLOADS = 100  # documents loaded at run time, at most (README "Limits")


def fixtures_load(call: Call) -> Reply:
    """Add fixture records to the live state and to the loaded fixtures (so reset keeps them).

    All or nothing: the records go into a copy of the store, and a rebuild from the fixtures
    plus the new document is tried too; the live state changes only when both succeed.
    """
    state = call.state
    try:
        text = bytes(call.body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.FixturesUnreadable(reason=f"not UTF-8 (byte {exc.start})") from None
    if len(state.fixture_docs) > MAX_UPLOADS:
        raise errors.LimitReached(what="fixture documents loaded at run time (DELETE /__sandbox/fixtures drops them)", limit=MAX_UPLOADS)
    source = f"{_UPLOADED}{len(state.fixture_docs)}"
    try:
        doc = fixtures.parse(text, source, call.settings.max_depth)
        if not doc:
            raise errors.FixturesUnreadable(reason="the body holds no fixtures")
        live = copy.deepcopy(state.store, memo={id(state.store.clock): state.store.clock})
        fixtures.populate(live, doc, source)
        rebuilt = Store(state.clock, IdFactory(state.seed))
        for earlier, earlier_source in [*state.fixture_docs, (doc, source)]:
            fixtures.populate(rebuilt, earlier, earlier_source)
        magic_index = state.faults.magic_table(state.magic_entries([(doc, source)]))
    except fixtures.FixtureError as exc:
        if exc.problem.startswith("not valid YAML/JSON"):
            raise errors.FixturesUnreadable(reason=exc.problem.removeprefix("not valid YAML/JSON: ")) from None
        raise errors.FixturesRejected(where=exc.where or "the document", problem=exc.problem) from None
    before = state.store.summary()
    state.fixture_docs.append((doc, source))
    state.store = live
    state.faults.magic_index = magic_index
    after = live.summary()
    added = {name: after[name] - before.get(name, 0) for name in after}
    return Reply({"status": "loaded", "added": added, "state": after, "fixtureDocuments": len(state.fixture_docs)})


def fixtures_forget(call: Call) -> Reply:
    """Drop every document loaded at run time and reset to the fixtures the sandbox started with."""
    state = call.state
    kept = [(doc, source) for doc, source in state.fixture_docs if not source.startswith(_UPLOADED)]
    dropped = len(state.fixture_docs) - len(kept)
    state.fixture_docs[:] = kept
    state.faults.magic_index = state.faults.magic_table(state.magic_entries())
    state.reset()
    return Reply({"status": "reset", "dropped": dropped, "seed": state.seed, "state": state.store.summary()})


def state_get(call: Call) -> Reply:
    return Reply(snapshot.dump(call.store, call.state.seed))


def state_put(call: Call) -> Reply:
    """Replace the whole state by a document from GET /__sandbox/state; all or nothing."""
    state = call.state
    try:
        store, seed = snapshot.restore(call.body, state.clock)
    except snapshot.SnapshotError as exc:
        raise errors.StateRejected(where=exc.where, problem=exc.problem) from None
    old, state.store, state.seed = state.store, store, seed
    REAPER.discard(old)
    return Reply({"status": "restored", "seed": seed, "state": store.summary()})


def _journal_filter(call: Call) -> Filter:
    query = call.query
    return Filter(query.get("path"), query.get("status"), query.get("reference"), query.get("partner"), query.get("method"))


def journal_list(call: Call) -> Reply:
    """Recorded requests, newest first (query: path, status, reference, partner, method, limit)."""
    journal = call.state.journal
    limit = call.query.get("limit")
    found = journal.select(_journal_filter(call), int(limit) if limit else None)
    return Reply({
        "requests": [entry.describe() for entry in found],
        "count": len(found),
        "recorded": len(journal),
        "capacity": journal.capacity,
    })


def journal_count(call: Call) -> Reply:
    return Reply({"count": call.state.journal.count(_journal_filter(call))})


def journal_clear(call: Call) -> Reply:
    return Reply({"cleared": call.state.journal.clear()})
