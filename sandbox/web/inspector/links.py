"""Which recorded requests made which postings, and back: by the partner's reference (the
uniqueReferenceNumber, coin requestId or orderReferenceId the posting was bound to, in the request body) or by the
posting's id in the response of a call that writes (enkashCardTxnId, transactionId).

Computed when a page asks, in one pass over the journal (at most its capacity, 1000 by default).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from sandbox.web.journal import Entry, Filter

if TYPE_CHECKING:
    from sandbox.state.ledger import Posting
    from sandbox.state.store import Store
    from sandbox.web.journal import Journal

_MADE_ID = re.compile(rb'"(?:enkashCardTxnId|transactionId)"\s*:\s*"([A-Za-z0-9]{1,64})"')


def _partner_of(scope: str) -> str:
    return scope.removeprefix("coins:")


def made_ids(entry: Entry) -> set[str]:
    """Posting ids in the response of a call that writes (a GET only reads, whatever it prints)."""
    if entry.method == "GET" or not 200 <= entry.status < 300:
        return set()
    bodies = (entry.response_body, entry.decrypted_response or b"")
    return {m.group(1).decode("ascii") for body in bodies for m in _MADE_ID.finditer(body)}


def requests_for(journal: "Journal", postings: Iterable["Posting"], since: int = 0) -> dict[str, list[Entry]]:
    """posting id -> the recorded requests that made it (or replayed it), newest first. Only entries
    after `since` (the seq at the last reset): seeded ids repeat after a reset, the journal stays."""
    postings = list(postings)
    by_reference: dict[str, list["Posting"]] = {}
    for posting in postings:
        if posting.reference:
            by_reference.setdefault(posting.reference, []).append(posting)
    ids = {posting.id for posting in postings}
    found: dict[str, list[Entry]] = {}
    for entry in journal.select(Filter()):
        if entry.seq <= since:
            break
        hits = made_ids(entry) & ids
        if by_reference:
            for reference in entry.references():
                hits.update(p.id for p in by_reference.get(reference, ())
                            if not entry.partner or entry.partner == _partner_of(p.scope))
        for posting_id in hits:
            found.setdefault(posting_id, []).append(entry)
    return found


def postings_made(store: "Store", entry: Entry) -> list["Posting"]:
    """The postings a recorded request made or replayed, oldest first."""
    ledger = store.ledger
    partners = [entry.partner] if entry.partner else list(store.partners)
    found: dict[str, "Posting"] = {}
    for reference in entry.references():
        for partner in partners:
            for scope in (partner, "coins:" + partner):
                posting = ledger.by_reference(scope, reference)
                if posting is not None:
                    found[posting.id] = posting
    for posting_id in made_ids(entry):
        posting = ledger.by_id(posting_id)
        if posting is not None:
            found[posting.id] = posting
    return sorted(found.values(), key=lambda p: ledger.position(p.id))
