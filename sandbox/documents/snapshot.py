"""The whole state as one JSON-able document, and back: GET/PUT /__sandbox/state, --state-file.

A document holds the Store's tables (TABLES, one line per table), the ledger's postings and
balances, the id stream, seed and clock. Indexes are not written: a restore files every record
through the Store's own add_* methods, which build them as they do at run time, so a document
cannot carry an index that disagrees with its records.

Nothing is trusted. A document is checked in full before anything changes, and refused whole
with the first problem: its shape against contract/schemas/state.schema.json (every record type),
record types from the fixed allow-list below (a name is never imported), every reference between
records resolved, every date inside the sandbox's years, and the ledger replayed: each posting
balances, each balance_after follows, no floored account goes below zero, and the balances given
are the postings' sums.

Values JSON cannot carry keep their type with a one-key tag ({"$decimal": "1.50"}, ...); records
are written as {"$record": "module:Class", "fields": {...}}.
"""

from __future__ import annotations

import contextlib
import gc
from itertools import accumulate, chain, compress, islice, repeat
import os
import re
from dataclasses import fields
from operator import add, attrgetter
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

import orjson

from sandbox.contract import jsonio, schemas
from sandbox.domain import errors
from sandbox.settings import EARLIEST, LATEST
from sandbox.state.clock import Clock, OutOfRange, in_range
from sandbox.state.ids import IdFactory
from sandbox.state.ledger import ZERO, Ledger, Posting
from sandbox.state.store import (
    AccessToken, Card, CardAccount, Cart, CartItem, CoinConfig, CoinLot, Company, Login, OAuthClient, Order, Partner,
    PrimaryCard, Product, ProductConfig, Promotion, SsoGrant, Store, User, Voucher, coin_account,
)

FORMAT = "enkash-sandbox-state"
VERSION = 2  # 1 wrote the indexes too
COLUMNS_VERSION = 3  # the ledger's postings as columns (the state file: read in bulk); 2 is read as before
SCHEMA = schemas.SCHEMA_DIR / "state.schema.json"
_STORE_SPECIAL = ("clock", "ids", "ledger", "txn_status")  # txn_status: ledger.statuses


class Table(NamedTuple):
    """A Store table in a document: its record type, the Store method that files a record (and
    keeps its indexes; None: set by key), the field(s) its key is, and the tables its fields name
    (a field whose default is "" may be "": it names nothing)."""

    record: type
    add: str | None
    key: str | tuple[str, ...]
    refs: dict[str, str] = {}
    grouped: bool = False  # key -> a list of records (coin lots by user)


# The allow-list, in the order a restore files them (a table after those it refers to): one line each.
TABLES: dict[str, Table] = {
    "partners": Table(Partner, "add_partner", "partner_id"),
    "clients": Table(OAuthClient, "add_client", "client_id", {"partner_id": "partners"}),
    "companies": Table(Company, "add_company", "company_id", {"partner_id": "partners"}),
    "accounts": Table(CardAccount, "add_account", "card_account_id", {"company_id": "companies"}),
    "users": Table(User, "add_user", "user_id", {"company_id": "companies"}),
    "cards": Table(Card, "add_card", "card_id", {"user_id": "users", "card_account_id": "accounts"}),
    "logins": Table(Login, "add_login", ("client_id", "username"), {"client_id": "clients", "user_id": "users", "card_id": "cards"}),
    "tokens": Table(AccessToken, "add_token", "value", {"client_id": "clients", "partner_id": "partners", "user_id": "users", "card_id": "cards"}),
    "sso_grants": Table(SsoGrant, None, "token", {"card_account_id": "accounts", "user_id": "users"}),
    "coin_configs": Table(CoinConfig, "add_coin_config", "coin_config_id", {"company_id": "companies"}),
    "coin_lots": Table(CoinLot, "add_coin_lot", "user_id", {"user_id": "users"}, grouped=True),
    "products": Table(Product, "add_product", "product_catalog_id"),
    "carts": Table(Cart, "add_cart", "cart_id", {"user_id": "users", "product_catalog_id": "products"}),
    "orders": Table(Order, "add_order", "order_id", {"partner_id": "partners", "user_id": "users", "card_id": "cards",
                                                     "product_catalog_id": "products"}),
}
VALUES = (Promotion, PrimaryCard, ProductConfig, CartItem, Voucher, Posting)  # records held inside records, and the ledger's
COUNTERS = ("next_cart_id",)  # Store numbers a document carries: at least what its records need
# Store attributes built from the others (the add_* methods' indexes, the id draws bound to the
# tables and id stream): never written, never read from a document
DERIVED = ("coin_next_expiry", "_coin_config_by_event", "_cards_by_account", "_card_by_contact", "_users_by_company", "_token_by_login",
           "_cart_by_product", "_carts_by_user", "_orders_by_user", "_orders_by_partner", "_order_by_reference",
           "_draws")
# the ledger's postings are written from its columns (Ledger.postings); everything else is rebuilt
_LEDGER_WRITTEN = ("_ids", "_refs", "_memos", "_meta", "_metas", "_meta_codes", "_at", "_odd_at", "_fps", "_odd_fps", "_templates",
                   "_template_of", "_first", "_afters", "_odd_afters", "_tail")
_LEDGER_DERIVED = ("_balances", "_units", "_floored", "_by_account", "_by_reference", "_by_id", "_amounts", "_views", "_tail_keys")


def _tag(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


RECORDS: dict[str, type] = {_tag(cls): cls for cls in (*(t.record for t in TABLES.values()), *VALUES)}


class SnapshotError(Exception):
    """A document that cannot become a Store; `where` says which part."""

    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}")


# --- dump ------------------------------------------------------------------------------------
def dump(store: Store, seed: int, columns: bool = False) -> dict[str, Any]:
    """The document for `store`: clock, id stream, every table, the postings and balances. With
    `columns` (the state file) the postings are written as columns (version 3: about a third of
    the bytes, and read in bulk), unless one holds a value only records carry."""
    _known(vars(store), (*TABLES, *COUNTERS, *DERIVED, *_STORE_SPECIAL), "store")
    _known(vars(store.ledger), (*_LEDGER_WRITTEN, *_LEDGER_DERIVED), "ledger")
    clock = store.clock
    written = store.ledger._columns() if columns else None
    return {
        "format": FORMAT,
        "version": VERSION if written is None else COLUMNS_VERSION,
        "seed": seed,
        "clock": {"now": clock.now().isoformat(), "frozen": clock.frozen},
        "ids": encode(store.ids.state(), "ids"),
        "store": {name: encode(getattr(store, name), f"store.{name}") for name in (*TABLES, *COUNTERS)},
        "ledger": {
            **({"postings": _encoded_postings(store.ledger.postings)} if written is None else {"columns": written}),
            "balances": {account: encode(store.balance(account), "ledger.balances") for account in sorted(store.ledger.accounts())},
            "statuses": dict(sorted(store.txn_status.items())),
        },
    }


def _known(attributes: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(attributes) - set(known))
    if unknown:  # a new table must be taught: written (TABLES) or rebuilt (DERIVED)
        raise TypeError(f"snapshot does not know {where}.{unknown[0]}: add it to TABLES or DERIVED in sandbox/documents/snapshot.py")


def encode(value: Any, where: str) -> Any:
    """Any value the Store holds -> JSON-able, keeping its exact type."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return {"$float": repr(value)}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, list):
        return [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if type(value) in RECORDS.values():
        cls = type(value)
        if cls is Posting:  # a whole balance_after is held as an int: written as the Decimal it is
            value = value._replace(lines=value.decimal_lines())
        return {
            "$record": _tag(cls),
            "fields": {name: encode(getattr(value, name), f"{where}.{name}") for name in _field_names(cls)},
        }
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {"$tuple": [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, (set, frozenset)):
        items = sorted(value, key=repr)
        return {"$set" if isinstance(value, set) else "$frozenset": [encode(v, where) for v in items]}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v, f"{where}.{k}") for k, v in value.items()}
        return {"$map": [[encode(k, where), encode(v, f"{where}[{k!r}]")] for k, v in value.items()]}
    raise TypeError(f"snapshot cannot write {where}: a {type(value).__name__} (teach sandbox/documents/snapshot.py its type)")


def _encoded_postings(postings: list[Posting]) -> list[Any]:
    """`encode` of the ledger's postings, the bulk of a large state, without the generic walk
    (37 us a posting through it: 3.7 s of a SIGTERM's save for 100,000); the same document, and
    anything unexpected goes through `encode` whole."""
    out = []
    for posting in postings:
        lines: list[Any] = []
        for item in posting.decimal_lines():
            if item.__class__ is str:
                lines.append(item)
            elif item.__class__ is Decimal:
                lines.append({"$decimal": str(item)})
            else:
                return encode(postings, "ledger.postings")  # type: ignore[no-any-return]
        id_, kind, unit, at, _, scope, reference, fingerprint, memo = posting
        if posting.__class__ is not Posting or at.__class__ is not datetime or not all(
                text.__class__ is str for text in (id_, kind, unit, scope, reference, fingerprint, memo)):
            return encode(postings, "ledger.postings")  # type: ignore[no-any-return]
        out.append({"$record": _POSTING_TAG, "fields": {
            "id": id_, "kind": kind, "unit": unit, "at": {"$datetime": at.isoformat()}, "lines": {"$tuple": lines},
            "scope": scope, "reference": reference, "fingerprint": fingerprint, "memo": memo}})
    return out


# --- the state file (--state-file): read at start, written on clean shutdown -------------------
def read_file(path: Path) -> Any:
    with _no_collections():
        return _read_file(path)


@contextlib.contextmanager
def _no_collections() -> Iterator[None]:
    """No garbage collection while a document's million objects are made: they are all alive,
    and each collection would walk them again (a third of a large restore's time). After, they
    go to the oldest generation as they are (freeze and unfreeze move them there without a walk),
    where the young collection that enabling sets off would have walked them all once more, for
    nothing (~30 ms a large state); not when objects are frozen already (the server's own, after
    a load at start), which unfreezing would let go."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _read_file(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(str(path), f"cannot read ({exc.strerror})") from None
    written = _as_written(raw)
    if written is not None:
        return written
    try:
        return jsonio.loads(raw)
    except errors.MalformedBody as exc:
        raise SnapshotError(str(path), f"not JSON ({exc.details.get('reason')})") from None


def _as_written(raw: bytes) -> Any:
    """The document of a file as write_file writes it, read by orjson (the careful reader's hooks
    run in Python for each of a large state's million objects); None for any other file, which
    takes the careful reader (jsonio.loads) and its refusals. Taken only when both give the same
    document: no backslash (so no escape, no lone surrogate), no float in what orjson made (the
    careful reader makes a Decimal of a number with a fraction or an exponent, and orjson a float
    of an integer beyond 64 bits), nested no deeper than the careful reader allows, and writing
    the value again gives the same bytes (no key named twice: orjson keeps the last)."""
    if b"\\" in raw:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    lists = _string_lists(value, jsonio.MAX_DEPTH)
    return value if lists is not None and _writes_back(value, lists, raw) else None


_LISTED = 256  # a list of strings at least this long is written back by one join (the state's columns)
_MARKED = re.compile(rb'"\\\\([0-9]+)"')  # how jsonio.dumps writes _mark(n): a backslash only a mark has


def _mark(n: int) -> str:
    return f"\\{n}"


def _string_lists(value: Any, limit: int) -> list[tuple[Any, Any, list[str], str]] | None:
    """None when orjson's `value` holds a float or nests more than `limit` levels ([] is one);
    else each long list of strings in it (a state's columns, nearly all of it) as (its container,
    its key there, the list, its items joined by '","'). A container of strings only is passed by
    that one join in C; another by the set of its items' types."""
    lists = []
    pending: list[tuple[Any, int, Any, Any]] = [([value], 0, None, None)]  # the document, in a list that is no level
    while pending:
        item, depth, parent, key = pending.pop()
        if depth > limit:
            return None
        children = item.values() if item.__class__ is dict else item
        try:
            joined = '","'.join(children)
        except TypeError:  # not strings only
            kinds = set(map(type, children))
            if float in kinds:
                return None
            if dict in kinds or list in kinds:
                pairs = item.items() if item.__class__ is dict else enumerate(item)
                pending += [(child, depth + 1, item, name) for name, child in pairs if child.__class__ is dict or child.__class__ is list]
            continue
        if item.__class__ is list and len(item) >= _LISTED and depth > 1:  # not the document itself (held by the walk's own list)
            lists.append((parent, key, item, joined))
    return lists


def _writes_back(value: Any, lists: list[tuple[Any, Any, list[str], str]], raw: bytes) -> bool:
    """Whether jsonio.dumps(value) == raw, without writing the long lists of strings again: each
    is written as a mark, and put back as its text ('["' + its items joined by '","' + '"]', what
    dumps writes for strings a file without a backslash holds: no escape)."""
    for n, (parent, key, _, _) in enumerate(lists):
        parent[key] = _mark(n)
    try:
        pieces = _MARKED.split(jsonio.dumps(value))
    finally:
        for parent, key, items, _ in lists:
            parent[key] = items
    at = 0  # raw is compared a part at a time, in place
    for n, piece in enumerate(pieces):
        for part in (b'["', lists[int(piece)][3].encode(), b'"]') if n % 2 else (piece,):
            if not raw.startswith(part, at):
                return False
            at += len(part)
    return at == len(raw)


def write_file(path: Path, doc: dict[str, Any]) -> None:
    """Written beside and renamed over, so a crash mid-write never leaves half a state."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(jsonio.dumps(doc))  # orjson: a 100,000-posting state in ~0.1 s, not ~1 s
    os.replace(partial, path)


# --- restore ---------------------------------------------------------------------------------
def restore(doc: Any, clock: Clock) -> tuple[Store, int]:
    """A new Store (on `clock`, which is set from the document) and the seed; the caller swaps it in.

    Nothing is changed unless the whole document is sound: the clock is set last."""
    with _no_collections():
        return _restore(doc, clock)


def _restore(doc: Any, clock: Clock) -> tuple[Store, int]:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SnapshotError("format", f"not a sandbox state document (expected format {FORMAT!r})")
    if doc.get("version") not in (VERSION, COLUMNS_VERSION):
        raise SnapshotError("version", f"unsupported version {doc.get('version')!r} (this sandbox reads {VERSION} and {COLUMNS_VERSION})")
    _check_shape(doc)
    if ("columns" if doc["version"] == COLUMNS_VERSION else "postings") not in doc["ledger"] or len(doc["ledger"].keys() & {"columns", "postings"}) != 1:
        raise SnapshotError("ledger", f"version {VERSION} gives the postings as records (postings), version {COLUMNS_VERSION} as columns (columns)")
    when = _moment(doc["clock"]["now"], "clock.now")
    ids = IdFactory(doc["seed"])
    try:
        ids.restore(decode(doc["ids"], "ids"))
    except (TypeError, ValueError, OverflowError) as exc:
        raise SnapshotError("ids", f"not a random generator state ({exc})") from None
    store = Store(clock, ids)
    tables = {name: decode(doc["store"][name], f"store.{name}") for name in TABLES}
    for name, table in TABLES.items():
        _file(store, name, table, tables)
    for counter in COUNTERS:  # the add_* methods raised it past every record: a document may only raise it more
        given = doc["store"][counter]
        if given < getattr(store, counter):
            raise SnapshotError(f"store.{counter}", f"is {given}, below {getattr(store, counter)} that the records need")
        setattr(store, counter, given)
    _check_grants(store)
    if doc["version"] == COLUMNS_VERSION:
        _load_columns(store.ledger, doc["ledger"]["columns"])
    else:
        _replay(store.ledger, _postings(doc["ledger"]["postings"], "ledger.postings"))
    _check_balances(store, doc["ledger"]["balances"])
    _check_order_postings(store)
    for posting_id, status in doc["ledger"].get("statuses", {}).items():
        if store.ledger.by_id(posting_id) is None:
            raise SnapshotError(f"ledger.statuses.{posting_id}", "is not a posting")
        store.txn_status[posting_id] = status
    clock.set(when)
    clock.frozen = doc["clock"]["frozen"]  # set() then the flag: a frozen clock reads back exactly `when`
    return store, doc["seed"]


def _check_shape(doc: dict[str, Any]) -> None:
    """The document against its schema: jsonschema_rs finds the first problem (fast on a large state).
    Its patterns over a state file's columns were most of its time (times, amounts, balances: ~45
    of 57 ms at 100,000 postings), so what of them is of the usual form is checked here in C
    (`_unpatterned`) and the schema takes the rest; at any problem the schema reads the whole
    document again and names the first, as it always has."""
    rest = _unpatterned(doc)
    if rest is not None and next(schemas.file_errors(SCHEMA, rest), None) is None:
        return
    for error in schemas.file_errors(SCHEMA, doc):
        raise SnapshotError(schemas.field_path(error.instance_path) or "document", error.message[:300])


# the schema's time pattern by length, digits as 0 (_FOLD) and the sign as "+"
_TIME_SHAPES = {len(shape): shape.encode() for shape in ("0000-00-00T00:00:00.000000+00:00", "0000-00-00T00:00:00+00:00")}
_FOLD = bytes.maketrans(b"123456789", b"000000000")
_LONGEST = b"0" * 41  # the schema's number pattern: at most 40 digits before any point
_NUMBER = schemas.whole_string("^-?[0-9]{1,40}(\\.[0-9]{1,40})?(E[+-]?[0-9]{1,4})?$")  # the schema's number pattern


def _unpatterned(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The document less what of its columns' patterned items is shown here to match (the times;
    the amounts, a few distinct texts; the balances by chunks of whole numbers): the schema need
    not read those. None when it has no columns."""
    ledger = doc.get("ledger")
    columns = ledger.get("columns") if ledger.__class__ is dict else None
    if columns.__class__ is not dict:
        return None
    rest = dict(columns)
    if rest.get("at").__class__ is list and _times_hold(rest["at"]):
        rest["at"] = []
    if rest.get("amount").__class__ is list and _amounts_hold(rest["amount"]):
        rest["amount"] = []
    if rest.get("balance_after").__class__ is list:
        chunks = (rest["balance_after"][start:start + _CHUNK] for start in range(0, len(rest["balance_after"]), _CHUNK))
        rest["balance_after"] = list(chain.from_iterable(chunk for chunk in chunks if not _whole(chunk)))
    return {**doc, "ledger": {**ledger, "columns": rest}}


def _amounts_hold(texts: list[Any]) -> bool:
    """Whether every amount matches the schema's number pattern, each distinct text once (partners
    repeat amounts: a few dozen texts in 200,000 lines); False when there are many."""
    try:
        distinct = set(texts)
    except TypeError:  # an item no text is
        return False
    return len(distinct) <= _CHUNK and all(text.__class__ is str and len(text) <= 64 and _NUMBER.search(text) is not None for text in distinct)


def _times_hold(texts: list[Any]) -> bool:
    """Whether every text matches the schema's time pattern: the texts of each length joined, and
    compared at once with the pattern's shape repeated (digits folded to 0, signs set to "+")."""
    try:
        joined = "".join(texts)
    except TypeError:
        return False
    lengths = list(map(len, texts))
    sizes = set(lengths)
    if not joined.isascii() or not sizes <= _TIME_SHAPES.keys():
        return False
    for size in sizes:
        shape = _TIME_SHAPES[size]
        same = joined if len(sizes) == 1 else "".join(compress(texts, map(size.__eq__, lengths)))
        folded = bytearray(same.encode().translate(_FOLD))
        sign = shape.index(b"+")
        if folded[sign::size].translate(None, b"+-"):
            return False
        folded[sign::size] = b"+" * (len(folded) // size)
        if folded != shape * (len(folded) // size):
            return False
    return True


def _whole(texts: list[Any]) -> bool:
    """Whether every text is a whole number the schema's number pattern takes (-?[0-9]{1,40}): the
    texts joined, each between newlines, digits folded to 0, and a few counts in C."""
    try:
        joined = "\n".join(texts)
    except TypeError:
        return False
    if not joined.isascii():
        return False
    folded = (b"\n" + joined.encode() + b"\n").translate(_FOLD)
    signed = folded.count(b"\n-0")
    return (not folded.translate(None, b"0-\n")  # digits, signs and the newlines only
            and folded.count(b"\n") == len(texts) + 1  # no newline in a text
            and folded.count(b"\n0") + signed == len(texts)  # each starts with a digit, or a sign and a digit
            and folded.count(b"-") == signed  # no sign but those
            and _LONGEST not in folded)


def _file(store: Store, name: str, table: Table, tables: dict[str, Any]) -> None:
    """Put a table's records in through its add_* method, after checking keys and references."""
    found = tables[name]
    entries = found.items() if isinstance(found, dict) else ()
    add: Callable[[Any], None] | None = getattr(store, table.add) if table.add else None
    optional = {f.name for f in fields(table.record) if f.default == ""}
    for key, value in entries:
        for n, record in enumerate(value if table.grouped else [value]):
            where = f"store.{name}[{key!r}]" + (f"[{n}]" if table.grouped else "")
            if not isinstance(record, table.record):
                raise SnapshotError(where, f"must be a {table.record.__name__} record")
            expected = tuple(getattr(record, f) for f in table.key) if isinstance(table.key, tuple) else getattr(record, table.key)
            if expected != key:
                raise SnapshotError(where, f"is filed under {key!r} but its {table.key} is {expected!r}")
            for field_name, target in table.refs.items():
                if getattr(record, field_name) not in tables[target] and not (field_name in optional and getattr(record, field_name) == ""):
                    raise SnapshotError(f"{where}.{field_name}", f"names {getattr(record, field_name)!r}, which is not in store.{target}")
            _CHECKS.get(table.record, _no_check)(store, record, where)
            if add is not None:
                add(record)
            else:
                getattr(store, name)[key] = record


def _no_check(store: Store, record: Any, where: str) -> None:
    pass


def _check_card(store: Store, card: Card, where: str) -> None:
    user, account = store.users[card.user_id], store.accounts[card.card_account_id]
    if user.company_id != account.company_id:
        raise SnapshotError(where, f"its user {card.user_id} is not in the company of account {card.card_account_id}")
    if any(store.card_by_contact(card.card_account_id, user.mobile, user.email)):
        raise SnapshotError(where, "another card in its account has the same mobile or email")


def _check_token(store: Store, token: AccessToken, where: str) -> None:
    if (token.client_id, token.username) not in store.logins:
        raise SnapshotError(where, f"no login {token.username!r} for client {token.client_id}")
    if store.clients[token.client_id].partner_id != token.partner_id:
        raise SnapshotError(where, f"partner {token.partner_id} is not the partner of client {token.client_id}")
    _check_holder(store, token.partner_id, token.user_id, token.card_id, where)


def _check_company(store: Store, company: Company, where: str) -> None:
    for n, promotion in enumerate(company.promotions):
        if not isinstance(promotion, Promotion) or promotion.ends <= promotion.starts:
            raise SnapshotError(f"{where}.promotions[{n}]", "must be a Promotion that ends after it starts")


def _check_account(store: Store, account: CardAccount, where: str) -> None:
    if account.primary_card is not None and not isinstance(account.primary_card, PrimaryCard):
        raise SnapshotError(f"{where}.primary_card", "must be a PrimaryCard record or null")


def _check_config(store: Store, config: CoinConfig, where: str) -> None:
    if store.coin_config_for(config.company_id, config.event) is not None:
        raise SnapshotError(where, f"event {config.event} is configured twice in company {config.company_id}")


def _check_login(store: Store, login: Login, where: str) -> None:
    """A card holder's login names a user of its client's partner, and a card of that user's."""
    if login.card_id and not login.user_id:
        raise SnapshotError(f"{where}.card_id", "a login's card needs its user_id")
    _check_holder(store, store.clients[login.client_id].partner_id, login.user_id, login.card_id, where)


def _check_holder(store: Store, partner_id: str, user_id: str, card_id: str, where: str) -> None:
    if user_id and store.companies[store.users[user_id].company_id].partner_id != partner_id:
        raise SnapshotError(f"{where}.user_id", f"{user_id} is not a user of partner {partner_id}")
    if card_id and user_id and store.cards[card_id].user_id != user_id:
        raise SnapshotError(f"{where}.card_id", f"{card_id} is not a card of user {user_id}")


def _check_product(store: Store, product: Product, where: str) -> None:
    seen: set[str] = set()
    for n, config in enumerate(product.configs):
        if not isinstance(config, ProductConfig) or config.product_config_id in seen:
            raise SnapshotError(f"{where}.configs[{n}]", "must be a ProductConfig record with an id of its own")
        if config.sell_rate > config.mrp:
            raise SnapshotError(f"{where}.configs[{n}]", "sell_rate must not be above mrp")
        seen.add(config.product_config_id)


def _check_cart(store: Store, cart: Cart, where: str) -> None:
    if store.cart_for(cart.user_id, cart.product_catalog_id) is not None:
        raise SnapshotError(where, f"user {cart.user_id} has a second cart for {cart.product_catalog_id}")
    most = {c.product_config_id: c.max_quantity for c in store.products[cart.product_catalog_id].configs}
    for config_id, item in cart.items.items():
        if config_id not in most or not isinstance(item, CartItem) or not 1 <= item.quantity <= most[config_id]:
            raise SnapshotError(f"{where}.items[{config_id!r}]", f"must be a CartItem of a config of {cart.product_catalog_id}, "
                                                                  "its quantity from 1 to the config's max_quantity")


def _check_order(store: Store, order: Order, where: str) -> None:
    _check_holder(store, order.partner_id, order.user_id, order.card_id, where)
    if order.product_config_id not in {c.product_config_id for c in store.products[order.product_catalog_id].configs}:
        raise SnapshotError(f"{where}.product_config_id", f"{order.product_config_id} is not a config of {order.product_catalog_id}")
    if store.order_by_reference(order.partner_id, order.reference) is not None:
        raise SnapshotError(f"{where}.reference", f"{order.reference} is the reference of another order of {order.partner_id}")
    if len(order.vouchers) != order.quantity or not all(isinstance(v, Voucher) for v in order.vouchers):
        raise SnapshotError(f"{where}.vouchers", f"must be {order.quantity} Voucher records, one a unit")
    if (order.status == "FAILED") != (order.payment_status == "REFUNDED") or (order.payment_status == "REFUNDED") != bool(order.refund_posting_id):
        raise SnapshotError(f"{where}.status", "a FAILED order, and only one, is REFUNDED by a refund posting")


def _check_order_postings(store: Store) -> None:
    """Each order's payment (and refund) is a posting of the ledger, under the order's reference."""
    for order_id, order in store.orders.items():
        paid = store.ledger.by_id(order.posting_id)
        if paid is None or (paid.scope, paid.reference) != (order.partner_id, order.reference):
            raise SnapshotError(f"store.orders[{order_id!r}].posting_id", f"names {order.posting_id!r}, which is not this order's payment")
        if order.refund_posting_id and store.ledger.by_id(order.refund_posting_id) is None:
            raise SnapshotError(f"store.orders[{order_id!r}].refund_posting_id", f"names {order.refund_posting_id!r}, which is no posting")


_CHECKS: dict[type, Callable[[Store, Any, str], None]] = {
    Card: _check_card, AccessToken: _check_token, Company: _check_company, CardAccount: _check_account,
    CoinConfig: _check_config, Login: _check_login, Product: _check_product, Cart: _check_cart, Order: _check_order,
}


def _check_grants(store: Store) -> None:
    primaries = {a.primary_card.card_id for a in store.accounts.values() if a.primary_card is not None}
    for token, grant in store.sso_grants.items():
        if grant.card_id not in store.cards and grant.card_id not in primaries:
            raise SnapshotError(f"store.sso_grants[{token!r}].card_id", f"names {grant.card_id!r}, which is no card")


def _replay(ledger: Ledger, postings: Any) -> None:
    """Post every posting again, checking what Ledger.post checks and that each balance_after is
    the running balance; the accounts are the ones the tables opened. (Hot on a large restore:
    the ledger's tables are used directly, and a problem's place is named only when it is found.)"""
    units, floored, balances, by_id, by_reference = ledger._units, ledger._floored, ledger._balances, ledger._by_id, ledger._by_reference
    shared, append = ledger._shared, ledger._append
    for n, posting in enumerate(postings):
        if not isinstance(posting, Posting):
            raise SnapshotError(f"ledger.postings[{n}]", "must be a Posting record")
        lines = posting.lines
        if len(lines) % 3 or not lines:
            raise SnapshotError(f"ledger.postings[{n}].lines", "must be (account, amount, balance_after) triples")
        if posting.id in by_id:
            raise SnapshotError(f"ledger.postings[{n}].id", f"{posting.id} is posted twice")
        if posting.reference and posting.reference in by_reference.get(posting.scope, ()):
            raise SnapshotError(f"ledger.postings[{n}].reference", f"{posting.reference} is posted twice in {posting.scope!r}")
        total, kept, afters, key, unit = ZERO, [], [], [], posting.unit
        for i in range(0, len(lines), 3):
            account, amount, after = lines[i], lines[i + 1], lines[i + 2]
            if not isinstance(account, str) or units.get(account) != unit:
                raise SnapshotError(f"ledger.postings[{n}].lines[{i}]", f"{account!r} is no open {unit} account")
            if not isinstance(amount, Decimal) or not isinstance(after, Decimal):
                raise SnapshotError(f"ledger.postings[{n}].lines[{i + 1}]", "amounts and balances must be decimals")
            running = balances[account] + amount
            if after != running:
                raise SnapshotError(f"ledger.postings[{n}].lines[{i + 2}]", f"balance_after of {account} is {after}, its postings make {running}")
            if after < ZERO and account in floored:
                raise SnapshotError(f"ledger.postings[{n}].lines[{i + 2}]", f"{account} would go below zero")
            total += amount
            text = str(amount)
            kept += (account, shared(amount, text), _held_as_written(after))
            key += (account, text)
            afters.append(after)
        if total != ZERO:
            raise SnapshotError(f"ledger.postings[{n}]", f"does not balance: its amounts sum to {total}")
        append(Posting(posting.id, posting.kind, unit, posting.at, tuple(kept), posting.scope, posting.reference,
                       posting.fingerprint, posting.memo), afters, tuple(key))  # _replace is Python code: ~1 us a posting


_PER_POSTING = ("kind", "unit", "at", "scope", "reference", "fingerprint", "memo", "lines")
_PER_LINE = ("account", "amount", "balance_after")
_CHUNK = 4_096  # balances read by int() (and numbers shown whole) this many at a time: a fraction sends only its chunk one by one


def _load_columns(ledger: Ledger, columns: dict[str, list[Any]]) -> None:
    """Version 3's postings into the (empty) ledger, with every check `_replay` makes, each made on
    a whole column or a whole account's lines at once (C-level passes, so a line costs a fraction
    of a Python step): ids and references once, times in the sandbox's years, each account open in
    its postings' unit, each account's balance_after the running sum of its amounts, no floored
    account below zero, each posting summing to zero. At the first problem the line-by-line replay
    (`_first_problem`) runs and names it. The schema has held the types and the text of every
    amount, balance and time. Then the ledger's columns are built in bulk (Ledger._fill)."""
    where, ids = "ledger.columns", columns["id"]
    for name in _PER_POSTING:
        if len(columns[name]) != len(ids):
            raise SnapshotError(f"{where}.{name}", f"has {len(columns[name])} items for {len(ids)} postings")
    widths = columns["lines"]
    for name in _PER_LINE:
        if len(columns[name]) != sum(widths):
            raise SnapshotError(f"{where}.{name}", f"has {len(columns[name])} items for {sum(widths)} lines")
    positions = list(range(len(ids)))  # one int a posting, shared by every index that names it
    by_id = dict(zip(ids, positions))
    if len(by_id) != len(ids):
        seen: set[str] = set()
        for n, posting_id in enumerate(ids):
            if posting_id in seen:
                raise SnapshotError(f"{where}.id[{n}]", f"{posting_id} is posted twice")
            seen.add(posting_id)
    texts = columns["at"]
    try:
        moments = list(map(datetime.fromisoformat, texts))
        if moments and (min(moments) < EARLIEST or max(moments) >= LATEST):
            raise ValueError
    except ValueError:
        moments = [_moment(text, f"{where}.at[{n}]") for n, text in enumerate(texts)]  # names the first bad one
    units, floored = ledger._units, ledger._floored
    # whole amounts and balances are added and compared as ints (exact, and several times faster
    # than Decimals); a fraction makes the sum a Decimal, exact all the same
    running: dict[str, Decimal | int] = {a: int(b) if b == int(b) else b for a, b in ledger._balances.items()}
    accounts, amount_texts, after_texts, kinds, unit_of, scopes, refs = (
        columns[name] for name in ("account", "amount", "balance_after", "kind", "unit", "scope", "reference"))
    amount_of = {text: _number(text) for text in set(amount_texts)}  # partners repeat amounts: a few distinct texts
    amounts = list(map(amount_of.__getitem__, amount_texts))
    helds = _helds(after_texts)
    lines_of = _lines_by_account(accounts)
    if not _lines_hold(units, floored, running, columns, amounts, helds, lines_of):
        _first_problem(units, floored, running, columns, ids)  # raises, naming the first problem
    by_reference = _by_reference(positions, scopes, refs)
    if by_reference is None:  # a reference twice in a scope: name the first
        referenced: dict[str, set[str]] = {}
        for n, (scope_name, reference) in enumerate(zip(scopes, refs)):
            if reference:
                scope = referenced.setdefault(scope_name, set())
                if reference in scope:
                    raise SnapshotError(f"{where}.reference[{n}]", f"{reference} is posted twice in {scope_name!r}")
                scope.add(reference)
    decimal_of = {text: ledger._shared(Decimal(text), text) for text in amount_of}
    ledger._fill(ids, positions, by_id, zip(kinds, unit_of, scopes, map(_zone, moments)), moments, refs, by_reference or {},
                 columns["fingerprint"], columns["memo"], widths, accounts, amount_texts, decimal_of, helds, lines_of,
                 {account: Decimal(after_texts[lines[-1]]) for account, lines in lines_of.items()})  # each balance as the document writes it, as _replay keeps


_zone = attrgetter("tzinfo")


def _number(text: str) -> Decimal | int:
    """An amount's text (the schema's pattern) as added: a whole number as an int, else a Decimal."""
    return int(text) if (text[1:] if text[:1] == "-" else text).isdigit() and text.isascii() else Decimal(text)


def _helds(texts: list[str]) -> list[Decimal | int]:
    """Each balance_after as lines hold it (`_held_as_written`): whole numbers by int(), a chunk at
    a time in C (the schema has held every text to -?[0-9]+ with an optional fraction and exponent,
    where int() and Decimal agree); a chunk holding a fraction, an exponent or a zero (a "-0" stays
    the Decimal it is written as) is read one by one."""
    helds: list[Decimal | int] = []
    for start in range(0, len(texts), _CHUNK):
        chunk = texts[start:start + _CHUNK]
        try:
            whole: list[Decimal | int] | None = list(map(int, chunk))
        except ValueError:  # a fraction or an exponent
            whole = None
        if whole is None or 0 in whole:
            whole = [int(text) if text.isdigit() and text.isascii() else _held_as_written(Decimal(text)) for text in chunk]
        helds += whole
    return helds


def _lines_by_account(accounts: list[str]) -> dict[str, list[int]]:
    """Each account's lines (places in the line columns), in order: the restore's one Python step
    a line (a sort by account costs three times as much)."""
    lines_of: dict[str, list[int]] = {account: [] for account in dict.fromkeys(accounts)}
    for line, account in enumerate(accounts):
        lines_of[account].append(line)
    return lines_of


def _lines_hold(units: dict[str, str], floored: set[str], running: dict[str, Any], columns: dict[str, list[Any]],
                amounts: list[Decimal | int], helds: list[Decimal | int], lines_of: dict[str, list[int]]) -> bool:
    """Whether every line holds what the line-by-line replay checks, each check over a column or
    an account's lines at once: each account open in its postings' unit; its balances the running
    sums of its amounts from its opening balance (the same additions in the same order, exact as
    ints, as Decimals where there is a fraction); none below zero if floored; each posting summing
    to zero (its two amounts' sum; or the running sum of all amounts is 0 at each posting's end)."""
    unit_of, widths = columns["unit"], columns["lines"]
    if len(set(unit_of)) == 1:  # one unit (nearly every state): each account's own unit is it
        if any(units.get(account) != unit_of[0] for account in lines_of):
            return False
    elif list(map(units.get, columns["account"])) != list(chain.from_iterable(map(repeat, unit_of, widths))):
        return False
    amount_at, held_at = amounts.__getitem__, helds.__getitem__
    for account, lines in lines_of.items():
        afters = list(map(held_at, lines))
        if list(accumulate(map(amount_at, lines), initial=running[account]))[1:] != afters:
            return False
        if account in floored and min(afters) < 0:
            return False
    if widths.count(2) == len(widths):  # one account to another: each pair's sum, exact (as Ledger.post checks it)
        return not any(map(add, amounts[0::2], amounts[1::2]))
    sums = list(accumulate(amounts))
    return not any(map(sums.__getitem__, islice(accumulate(widths, initial=-1), 1, None)))


def _first_problem(units: dict[str, str], floored: set[str], running: dict[str, Any], columns: dict[str, list[Any]],
                   ids: list[str]) -> None:
    """The line-by-line replay of the columns: raises SnapshotError naming the first line or
    posting that breaks a rule (`_lines_hold` found one)."""
    where = "ledger.columns"
    accounts, amount_texts, after_texts, unit_of = (columns[name] for name in ("account", "amount", "balance_after", "unit"))
    running, line = dict(running), 0
    for n, width in enumerate(columns["lines"]):
        unit, total = unit_of[n], ZERO
        for i in range(line, line + width):
            account, text, after_text = accounts[i], amount_texts[i], after_texts[i]
            if units.get(account) != unit:
                raise SnapshotError(f"{where}.account[{i}]", f"{account!r} is no open {unit} account (posting {n})")
            amount = _number(text)
            balance = running[account] + amount
            held = int(after_text) if after_text.isdigit() and after_text.isascii() else _held_as_written(Decimal(after_text))
            if held != balance:
                raise SnapshotError(f"{where}.balance_after[{i}]", f"balance_after of {account} is {after_text}, its postings make {balance}")
            if balance < ZERO and account in floored:
                raise SnapshotError(f"{where}.balance_after[{i}]", f"{account} would go below zero")
            running[account] = balance
            total += amount
        if total != ZERO:
            raise SnapshotError(f"{where}.lines[{n}]", f"posting {ids[n]} does not balance: its amounts sum to {total}")
        line += width


def _by_reference(positions: list[int], scopes: list[str], refs: list[str]) -> dict[str, dict[str, int]] | None:
    """scope -> reference -> position of each posting with a reference (as Ledger keeps them), or
    None when a reference is there twice in a scope. One scope holds them all in nearly every
    state: one dict made in C."""
    referenced = list(compress(positions, refs))  # "" is no reference
    in_scopes = set(compress(scopes, refs))
    tables: dict[str, dict[str, int]] = {}
    if len(in_scopes) == 1:
        tables[in_scopes.pop()] = dict(zip(compress(refs, refs), referenced))
    else:
        for position in referenced:
            tables.setdefault(scopes[position], {})[refs[position]] = position
    return tables if sum(map(len, tables.values())) == len(referenced) else None


def _held_as_written(balance: Decimal) -> Decimal | int:
    """ledger.held for any Decimal a document gives: an int only when it reads back the same
    (a whole number written without a point or exponent, not -0); 100.0 stays a Decimal."""
    text = str(balance)
    digits = text[1:] if text[:1] == "-" else text
    return int(text) if digits.isdigit() and text != "-0" else balance


def _check_balances(store: Store, given: dict[str, Any]) -> None:
    """The balances the document gives are the postings' sums, for exactly the open accounts; each
    user's coin lots hold what the ledger says the user has."""
    accounts = store.ledger.accounts()
    for account in sorted(set(given) ^ set(accounts)):
        raise SnapshotError(f"ledger.balances.{account}", "is not an open account" if account in given else "is missing")
    for account, encoded in given.items():
        if decode(encoded, f"ledger.balances.{account}") != store.balance(account):
            raise SnapshotError(f"ledger.balances.{account}", f"says {encoded['$decimal']} but the postings make {store.balance(account)}")
    for user_id, lots in store.coin_lots.items():
        for n, lot in enumerate(lots):
            if store.ledger.by_id(lot.lot_id) is None:
                raise SnapshotError(f"store.coin_lots[{user_id!r}][{n}].lot_id", f"names {lot.lot_id!r}, which is no posting")
        held = sum((lot.remaining for lot in lots), ZERO)
        if held != store.balance(coin_account(user_id)):
            raise SnapshotError(f"store.coin_lots[{user_id!r}]", f"the lots hold {held} coins, the ledger {store.balance(coin_account(user_id))}")


def _moment(text: str, where: str) -> datetime:
    try:
        return in_range(datetime.fromisoformat(text))
    except OutOfRange as exc:
        raise SnapshotError(where, str(exc)) from None
    except ValueError:
        raise SnapshotError(where, "is not an ISO-8601 date-time") from None


_TAGS: dict[str, Callable[[Any, str], Any]] = {
    "$float": lambda v, w: float(v),
    "$decimal": lambda v, w: _decimal(v, w),
    "$datetime": lambda v, w: _moment(v, w),
    "$date": lambda v, w: date.fromisoformat(v),
    "$timedelta": lambda v, w: timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
    "$tuple": lambda v, w: tuple(decode(x, w) for x in _list(v, w)),
    "$set": lambda v, w: {decode(x, w) for x in _list(v, w)},
    "$frozenset": lambda v, w: frozenset(decode(x, w) for x in _list(v, w)),
    "$map": lambda v, w: {decode(k, w): decode(x, w) for k, x in _list(v, w)},
}


def decode(value: Any, where: str) -> Any:
    """The inverse of `encode`; a malformed part raises SnapshotError naming it."""
    if isinstance(value, list):
        return [decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if "$record" in value:
        return _record(value, where)
    if len(value) == 1:
        tag, inner = next(iter(value.items()))
        if tag in _TAGS:
            try:
                return _TAGS[tag](inner, where)
            except SnapshotError:
                raise
            except (TypeError, ValueError, IndexError, KeyError, OverflowError) as exc:
                raise SnapshotError(where, f"bad {tag} value ({exc})") from None
    return {k: decode(v, f"{where}.{k}") for k, v in value.items()}


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise SnapshotError(where, "must be a list")
    return value


def _decimal(text: Any, where: str) -> Decimal:
    try:
        number = Decimal(str(text))
    except InvalidOperation:
        raise SnapshotError(where, f"{text!r} is not a decimal number") from None
    if not number.is_finite():
        raise SnapshotError(where, f"{text!r} is not a finite number")
    return number


def _record(value: dict[str, Any], where: str) -> Any:
    """A record of an allow-listed type; its name is looked up, never imported."""
    name = value["$record"]
    cls = RECORDS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise SnapshotError(where, f"record type {name!r} is not one of the sandbox's")
    given = value.get("fields")
    names = _field_names(cls)
    if not isinstance(given, dict) or set(given) != set(names):
        raise SnapshotError(where, f"{cls.__name__} needs exactly the fields {', '.join(names)}")
    decoded = {field_name: decode(given[field_name], f"{where}.{field_name}") for field_name in names}
    if issubclass(cls, tuple):  # a NamedTuple value object
        return cls(**decoded)
    record = object.__new__(cls)
    for field_name in names:  # frozen and slotted records alike
        object.__setattr__(record, field_name, decoded[field_name])
    return record


_POSTING_TAG = _tag(Posting)
_POSTING_FIELDS = frozenset(Posting._fields)


def _postings(value: Any, where: str) -> Any:
    """`decode` of the ledger's postings, the bulk of a large state: a well-formed Posting record
    is read by `_posting` (a place named only for a problem), anything else by `decode` as before."""
    if not isinstance(value, list):
        return decode(value, where)
    out = []
    for n, item in enumerate(value):
        fields_given = item.get("fields") if item.__class__ is dict and len(item) == 2 and item.get("$record") == _POSTING_TAG else None
        if fields_given.__class__ is dict and fields_given.keys() == _POSTING_FIELDS:
            out.append(_posting(fields_given, where, n))
        else:
            out.append(decode(item, f"{where}[{n}]"))
    return out


def _posting(given: dict[str, Any], base: str, n: int) -> Posting:
    """`decode` of a Posting's fields without the generic walk: the schema has held their shape
    (strings, {"$datetime": ...}, {"$tuple": [str | {"$decimal": ...}]}); anything unexpected, and
    every problem, goes through `decode` for the same value or the same words."""
    at, lines = given["at"], given["lines"]
    moment = at.get("$datetime") if at.__class__ is dict and len(at) == 1 else None
    items = lines.get("$tuple") if lines.__class__ is dict and len(lines) == 1 else None
    try:
        if moment.__class__ is not str or items.__class__ is not list:
            raise ValueError
        when = in_range(datetime.fromisoformat(moment))
        kept = [x if x.__class__ is str else _finite(x["$decimal"]) for x in items if x.__class__ is str or len(x) == 1]
        if len(kept) != len(items):
            raise ValueError
    except (ValueError, TypeError, KeyError, AttributeError, InvalidOperation, OutOfRange):
        where = f"{base}[{n}]"
        return Posting(**{name: decode(given[name], f"{where}.{name}") for name in Posting._fields})
    return Posting(given["id"], given["kind"], given["unit"], when, tuple(kept), given["scope"], given["reference"],
                   given["fingerprint"], given["memo"])


def _finite(text: str) -> Decimal:
    number = Decimal(text)  # a str: the schema's pattern (a finite decimal); anything else raises and takes `decode`
    if text.__class__ is not str or not number.is_finite():
        raise ValueError
    return number


def _field_names(cls: Any) -> list[str]:
    return list(cls._fields) if issubclass(cls, tuple) else [f.name for f in fields(cls)]

