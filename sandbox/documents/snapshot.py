"""The whole state as one JSON-able document, and back: GET/PUT /__sandbox/state, --state-file.

Generic over the Store: every attribute of the Store and of its Ledger is written, indexes
included, so a table or index another module adds is covered without registering it, and a
restore is exact by construction (no re-indexing that could drift from the live code).
Values JSON cannot carry keep their type with a one-key tag ({"$decimal": "1.50"}, ...);
records (the dataclasses and NamedTuples of sandbox modules) are written as {"$record": "module:Class", "fields": {...}}.
A value of any other type fails the dump loudly, naming where it sits.
"""

from __future__ import annotations

import importlib
import json
import os
import random
from dataclasses import fields, is_dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sandbox.state.clock import Clock
from sandbox.state.ids import IdFactory
from sandbox.state.ledger import Ledger
from sandbox.state.store import Store

FORMAT = "enkash-sandbox-state"
VERSION = 1
_OWN_PACKAGE = __name__.split(".")[0] + "."
_STORE_SPECIAL = ("clock", "ids", "ledger")


class SnapshotError(Exception):
    """A document that cannot become a Store; `where` says which part."""

    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}")


# --- dump ------------------------------------------------------------------------------------
def dump(store: Store, seed: int) -> dict[str, Any]:
    """The document for `store`: clock, id stream, every Store attribute and the ledger."""
    clock = store.clock
    return {
        "format": FORMAT,
        "version": VERSION,
        "seed": seed,
        "clock": {"now": clock.now().isoformat(), "frozen": clock.frozen},
        "ids": encode(store.ids.state(), "ids"),
        "store": {name: encode(value, f"store.{name}") for name, value in _attributes(store, _STORE_SPECIAL)},
        "ledger": {name: encode(value, f"ledger.{name}") for name, value in _attributes(store.ledger, ())},
    }


def _attributes(obj: object, skip: tuple[str, ...]) -> list[tuple[str, Any]]:
    return [(name, value) for name, value in vars(obj).items() if name not in skip]


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
    if _is_record(type(value)):
        cls = type(value)
        return {
            "$record": f"{cls.__module__}:{cls.__qualname__}",
            "fields": {name: encode(getattr(value, name), f"{where}.{name}") for name in _field_names(cls)},
        }
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, (set, frozenset)):
        items = sorted(value, key=repr)
        return {"$set" if isinstance(value, set) else "$frozenset": [encode(v, where) for v in items]}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v, f"{where}.{k}") for k, v in value.items()}
        return {"$map": [[encode(k, where), encode(v, f"{where}[{k!r}]")] for k, v in value.items()]}
    if isinstance(value, random.Random):
        return {"$random": encode(value.getstate(), where)}
    raise TypeError(f"snapshot cannot write {where}: a {type(value).__name__} (teach sandbox/documents/snapshot.py its type)")


# --- the state file (--state-file): read at start, written on clean shutdown -------------------
def read_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SnapshotError(str(path), f"cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise SnapshotError(str(path), f"not JSON ({exc})") from None


def write_file(path: Path, doc: dict[str, Any]) -> None:
    """Written beside and renamed over, so a crash mid-write never leaves half a state."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    os.replace(partial, path)


# --- restore ---------------------------------------------------------------------------------
def restore(doc: Any, clock: Clock) -> tuple[Store, int]:
    """A new Store (on `clock`, which is set from the document) and the seed; the caller swaps it in.

    Nothing is changed unless the whole document decodes: the clock is set last.
    """
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SnapshotError("format", f"not a sandbox state document (expected format {FORMAT!r})")
    if doc.get("version") != VERSION:
        raise SnapshotError("version", f"unsupported version {doc.get('version')!r} (this sandbox reads {VERSION})")
    for part, kind in (("seed", int), ("clock", dict), ("store", dict), ("ledger", dict)):
        if not isinstance(doc.get(part), kind) or isinstance(doc.get(part), bool):
            raise SnapshotError(part, f"missing or not a {'number' if kind is int else 'object'}")
    when, frozen = _clock_of(doc["clock"])
    ids = IdFactory(doc["seed"])
    try:
        ids.restore(decode(doc.get("ids"), "ids"))
    except (TypeError, ValueError) as exc:
        raise SnapshotError("ids", f"not a random generator state ({exc})") from None
    store = Store(clock, ids)
    _fill(store, doc["store"], "store", _STORE_SPECIAL)
    ledger = Ledger()
    _fill(ledger, doc["ledger"], "ledger", ())
    store.ledger = ledger
    clock.set(when)
    clock.frozen = frozen  # set() then the flag: a frozen clock reads back exactly `when`
    return store, doc["seed"]


def _clock_of(doc: dict[str, Any]) -> tuple[datetime, bool]:
    try:
        when = datetime.fromisoformat(str(doc.get("now")))
    except ValueError:
        raise SnapshotError("clock.now", "is not an ISO-8601 date-time") from None
    if not isinstance(doc.get("frozen"), bool):
        raise SnapshotError("clock.frozen", "must be true or false")
    return when, doc["frozen"]


def _fill(target: object, doc: dict[str, Any], where: str, skip: tuple[str, ...]) -> None:
    """Replace each attribute of a freshly built `target` by the document's; the sets must match."""
    expected = {name for name, _ in _attributes(target, skip)}
    missing, unknown = expected - set(doc), set(doc) - expected
    if missing or unknown:
        problem = "; ".join(
            text for text in (
                f"missing {', '.join(sorted(missing))}" if missing else "",
                f"unknown {', '.join(sorted(unknown))}" if unknown else "",
            ) if text
        )
        raise SnapshotError(where, f"does not match this sandbox's state layout ({problem})")
    for name in expected:
        value = decode(doc[name], f"{where}.{name}")
        if type(value) is not type(getattr(target, name)):
            raise SnapshotError(f"{where}.{name}", f"must be a {type(getattr(target, name)).__name__}")
        setattr(target, name, value)


_TAGS = {
    "$float": lambda v, w: float(v),
    "$decimal": lambda v, w: _decimal(v, w),
    "$datetime": lambda v, w: datetime.fromisoformat(v),
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
    if "$random" in value:
        generator = random.Random()
        try:
            generator.setstate(decode(value["$random"], where))
        except (TypeError, ValueError) as exc:
            raise SnapshotError(where, f"not a random generator state ({exc})") from None
        return generator
    if len(value) == 1:
        tag, inner = next(iter(value.items()))
        if tag in _TAGS:
            try:
                return _TAGS[tag](inner, where)
            except SnapshotError:
                raise
            except (TypeError, ValueError, IndexError, KeyError) as exc:
                raise SnapshotError(where, f"bad {tag} value ({exc})") from None
    return {k: decode(v, f"{where}.{k}") for k, v in value.items()}


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise SnapshotError(where, "must be a list")
    return value


def _decimal(text: Any, where: str) -> Decimal:
    try:
        return Decimal(str(text))
    except InvalidOperation:
        raise SnapshotError(where, f"{text!r} is not a decimal number") from None


def _record(value: dict[str, Any], where: str) -> Any:
    name = value["$record"]
    module_name, _, class_name = str(name).partition(":")
    if not module_name.startswith(_OWN_PACKAGE) or not class_name:
        raise SnapshotError(where, f"record type {name!r} is not one of the sandbox's")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise SnapshotError(where, f"unknown record type {name!r}") from None
    if not _is_record(cls) or not isinstance(value.get("fields"), dict):
        raise SnapshotError(where, f"{name!r} is not a record type, or fields are missing")
    given = value["fields"]
    names = _field_names(cls)
    if set(given) != set(names):
        raise SnapshotError(where, f"{class_name} needs exactly the fields {', '.join(names)}")
    if issubclass(cls, tuple):  # a NamedTuple value object
        return cls(**{field_name: decode(given[field_name], f"{where}.{field_name}") for field_name in names})
    record = object.__new__(cls)
    for field_name in names:  # frozen and slotted records alike
        object.__setattr__(record, field_name, decode(given[field_name], f"{where}.{field_name}"))
    return record


def _is_record(cls: Any) -> bool:
    """The sandbox's own records: dataclasses (mutable records) and NamedTuples (value objects)."""
    if not (isinstance(cls, type) and cls.__module__.startswith(_OWN_PACKAGE)):
        return False
    return is_dataclass(cls) or (issubclass(cls, tuple) and hasattr(cls, "_fields"))


def _field_names(cls: Any) -> list[str]:
    return list(cls._fields) if issubclass(cls, tuple) else [f.name for f in fields(cls)]
