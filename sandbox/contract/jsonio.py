"""JSON at the wire: numbers become Decimal (never float), and anything JSON allows but a
careful server refuses (NaN, duplicate keys, invalid UTF-8, absurd nesting) is a MalformedBody."""

from __future__ import annotations

import codecs
import functools
import json
import re
from decimal import Decimal
from typing import Any

import orjson

from sandbox.domain.errors import MalformedBody
from sandbox.state.ledger import canonical


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return result


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)
# orjson writes what simplejson writes, ~7x faster; datetimes and dataclasses go to _fragment
# (and on to simplejson) so a value that never belonged in a body still fails as it always did
_ORJSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_ORJSON_SORTED = _ORJSON | orjson.OPT_SORT_KEYS
_LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


MAX_DEPTH = 64  # default nesting limit of a body (Settings.max_depth); Jackson's own default is 1000
# a large body is scanned in slices this long: each C call holds the GIL, and a body parsed on a
# worker thread (web/adapter.py) would otherwise hold the event loop for a whole 8 MiB scan
SLICE = 1 << 18


def loads(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """The document, or MalformedBody; arrays and objects nested deeper than `max_depth` are refused."""
    if raw.__class__ is bytes and max_depth > 0 and len(raw) <= SLICE:
        flat = _flat_object(raw)  # type: ignore[arg-type]
        if flat is not None:
            return flat
    return exact_loads(raw, max_depth)


def exact_loads(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """loads() by the exact decoder alone: what every body but a small flat object takes, and
    what decides how a body is refused."""
    text = _decoded(raw) if isinstance(raw, bytes) else raw
    if not text.strip():
        raise MalformedBody(reason="body is empty")
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise MalformedBody(reason=f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:  # our hooks, and integers too long to convert
        raise MalformedBody(reason=str(exc)) from None
    except RecursionError:
        raise MalformedBody(reason=f"JSON is nested deeper than {max_depth} levels") from None
    slices = range(0, len(text), SLICE)
    if sum(text.count("[", i, i + SLICE) + text.count("{", i, i + SLICE) for i in slices) > max_depth and (
            too_deep(value, max_depth)):  # cheap test first
        raise MalformedBody(reason=f"JSON is nested deeper than {max_depth} levels")
    if any(_LONE_SURROGATE.search(text, i, i + SLICE + 3) for i in slices):  # + 3: a match across a slice's end
        _refuse_lone_surrogates(value)
    return value


def _decoded(raw: bytes) -> str:
    """UTF-8 text, in slices for a large body; MalformedBody names the first byte that is not UTF-8."""
    try:
        if len(raw) <= SLICE:
            return raw.decode("utf-8")
        decoder, view = codecs.getincrementaldecoder("utf-8")(), memoryview(raw)
        return "".join([*(decoder.decode(view[i:i + SLICE]) for i in range(0, len(raw), SLICE)), decoder.decode(b"", True)])
    except UnicodeDecodeError:
        start = _first_bad_byte(raw)
        raise MalformedBody(reason=f"body is not valid UTF-8 (byte {start})") from None


def _first_bad_byte(raw: bytes) -> int:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return len(raw)  # pragma: no cover - called only after a decode failed


_SCALARS = frozenset((str, int, bool, type(None)))  # what orjson gives for a flat object's values but floats


def _flat_object(raw: bytes) -> dict[str, Any] | None:
    """A body that is one flat object of strings, integers, booleans and nulls (a top-up, a coin
    allocation), parsed by orjson: ~1 us against ~6 us for the exact decoder and its hooks; None
    for anything else, which takes exact_loads. Taken only when both give the same document:
    - no float, object or array among the values, by their types: orjson makes a float of any
      number with a fraction or an exponent, and of an integer beyond 64 bits;
    - no key twice (orjson keeps the last silently): every key written is followed by one colon
      and a colon elsewhere can only sit inside a string, so as many colons as the object's keys
      means none was written twice (a body with a colon inside a string takes exact_loads).
    orjson refuses whatever exact_loads refuses (invalid UTF-8, lone surrogates, NaN, control
    characters, trailing data); exact_loads then says why. The checks are C calls on orjson's
    document and one count: a byte scan for each was twice the parse."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if value.__class__ is not dict or len(value) != raw.count(b":") or not _SCALARS.issuperset(map(type, value.values())):
        return None
    return value  # type: ignore[no-any-return]


def too_deep(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels ([] is one level), without recursion."""
    pending = [(value, 1)] if isinstance(value, (dict, list)) else []
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, (dict, list)):
                pending.append((child, depth + 1))
    return False


def _refuse_lone_surrogates(value: Any) -> None:
    """An escaped lone surrogate (\\ud800) is valid JSON but no character: no UTF-8 answer could carry it."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise MalformedBody(reason="a string holds an unpaired UTF-16 surrogate escape") from None


def number_text(value: Decimal) -> str:
    """A Decimal as EnKash prints numbers (898138, 92415.44, 11): exact digits, no exponent, no
    trailing zeros, no point in an integer, whatever scale the value arrived with (11.0, 1E+1)."""
    text = str(value)
    if "E" in text or text[-1] == "0" and "." in text or text == "-0":
        text = format(canonical(value), "f")
    return text


class Raw:
    """JSON text already written (a page of kept rows): dumps() puts it in as it is. A reader
    in-process that needs the document (response validation) takes plain() of the body."""

    __slots__ = ("text", "_within")

    def __init__(self, text: bytes) -> None:
        self.text = text
        self._within: tuple[bytes, bytes, Raw] | None = None

    def within(self, before: bytes, after: bytes) -> "Raw":
        """This text between two others, made once and kept with it (the last pair asked for): a
        kept page read again goes out as the very same bytes, nothing new written into memory
        (a fresh 63 KB answer a request cost more in cache misses and page faults than in copying)."""
        kept = self._within
        if kept is not None and kept[0] == before and kept[1] == after:
            return kept[2]
        made = Raw(before + self.text + after)
        self._within = (before, after, made)
        return made


def _fragment(value: Any) -> Any:
    if isinstance(value, Decimal) and value.is_finite():
        return orjson.Fragment(number_text(value))
    if isinstance(value, Raw):
        return orjson.Fragment(value.text)
    raise TypeError


def plain(value: Any) -> Any:
    """The document a body stands for, Raw parts read back: what a client parses from the wire."""
    return loads(dumps(value), max_depth=1 << 30)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON with Decimals as exact numbers in EnKash's form (number_text). orjson
    first; simplejson (the reference) for what orjson refuses, such as integers beyond 64 bits."""
    try:
        return orjson.dumps(value, default=_fragment, option=_ORJSON)
    except TypeError:
        return _any_keys(value, _ORJSON, sort_keys=False)


def dumps_sorted(value: Any) -> bytes:
    """dumps() with every object's keys sorted: a canonical form to hash."""
    try:
        return orjson.dumps(value, default=_fragment, option=_ORJSON_SORTED)
    except TypeError:
        return _any_keys(value, _ORJSON_SORTED, sort_keys=True)


def _any_keys(value: Any, option: int, sort_keys: bool) -> bytes:
    """What dumps() and dumps_sorted() write of a value orjson refused with string keys only: with
    keys that are not strings (an int as "1", as simplejson writes it), else by the reference.
    orjson's option for such keys takes every object down a slower path (2,600 instructions of
    a top-up's reply of 15 fields), so it is asked for only when a key needs it; for string keys
    it writes the very same bytes."""
    try:
        return orjson.dumps(value, default=_fragment, option=option | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return _reference_encoder(sort_keys=sort_keys).encode(_canonical_tree(value)).encode("utf-8")


def _canonical_tree(value: Any) -> Any:
    """The value with every finite Decimal as simplejson RawJSON in number_text's form."""
    import simplejson

    if isinstance(value, Decimal) and value.is_finite():
        return simplejson.RawJSON(number_text(value))
    if isinstance(value, Raw):
        return simplejson.RawJSON(value.text.decode("utf-8"))
    if isinstance(value, dict):
        return {k: _canonical_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical_tree(v) for v in value]
    return value


@functools.cache
def _reference_encoder(sort_keys: bool) -> Any:
    """simplejson, built once (its dumps() builds an encoder per call) and imported on first need."""
    import simplejson

    return simplejson.JSONEncoder(use_decimal=True, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
