"""Reading request fields the same way everywhere: aliases the docs use, amounts, fingerprints."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any, Mapping

from sandbox.contract import jsonio
from sandbox.state.clock import OutOfRange, parse_iso
from sandbox.state.ledger import canonical
from sandbox.domain import errors

# both spellings (api-9796905 prints uniqueReferenceNum, doc-1039496 uniqueReferenceNumber) appear in the docs; the first is the canonical one.
ALIASES = {"uniqueReferenceNum": "uniqueReferenceNumber", "enKashCardId": "enkashCardId"}
_ALIASED = frozenset(ALIASES)


def first(body: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = body.get(name)
        if value is not None:
            return value
    return None


def amount(value: Any) -> Decimal:
    """A JSON number as an exact Decimal in EnKash's form, whatever its scale (11.0, 1E+1 -> 11),
    so the domain, the ledger and every dump see one spelling of an amount. An int's Decimal is
    canonical already (exponent 0, no sign on zero): made in one C call (a top-up's usual amount)."""
    if value.__class__ is int:
        return Decimal(value)
    return canonical(value if isinstance(value, Decimal) else Decimal(value))


def optional_amount(value: Any) -> Decimal | None:
    return None if value is None else amount(value)


def fingerprint(*parts: Mapping[str, Any]) -> str:
    """Identity of a request for idempotency: alias-folded, key-order-free, 1 == 1.0."""
    if len(parts) == 1:
        return _one_fingerprint(parts[0])
    return _folded_fingerprint(parts)


def _one_fingerprint(part: Mapping[str, Any]) -> str:
    """fingerprint(part) of one part (a top-up's body) with no name an alias: the part copied in C
    where _folded_fingerprint builds a new dict key by key."""
    if part.__class__ is not dict or not _ALIASED.isdisjoint(part):
        return _folded_fingerprint((part,))
    return _digest(_numbers_as_text(part.copy()))


def _folded_fingerprint(parts: tuple[Mapping[str, Any], ...]) -> str:
    alias = ALIASES.get
    return _digest(_numbers_as_text({alias(key, key): value for part in parts for key, value in part.items()}))


def _numbers_as_text(canonical: dict[str, Any]) -> dict[str, Any]:
    """The dict with its numbers made text in place (one loop: a scan of the values' types by C
    calls cost more), so 11, 11.0 and 11.00 fingerprint alike."""
    for key, value in canonical.items():
        kind = value.__class__  # not bool, whose class is its own
        if kind is int or kind is Decimal:
            canonical[key] = _number_text(value)  # an existing key: the dict keeps its size
    return canonical


def plain_fingerprint(part: dict[str, Any], number: str, extra: Mapping[str, str]) -> str:
    """fingerprint(part, extra) of a part whose values are strings but `number`'s, a number, and
    no name an alias (what a schema proved of a bulk row), and an `extra` of strings: the part
    copied in C and one value made text, where fingerprint() looks at every value (a third of the cost)."""
    canonical = part.copy()
    canonical[number] = _number_text(part[number])
    canonical.update(extra)
    return _digest(canonical)


def _digest(canonical: dict[str, Any]) -> str:
    return hashlib.blake2b(jsonio.dumps_sorted(canonical), digest_size=12).hexdigest()


def _number_text(value: int | Decimal) -> str:
    """A number as a fingerprint holds it: 11, 11.0 and 11.00 are one amount."""
    return _int_text(value) if value.__class__ is int else str(value.normalize())  # type: ignore[union-attr]


def _int_text(value: int) -> str:
    """str(Decimal(value).normalize()) (the context's rounding included), kept for the few
    amounts partners repeat."""
    text = _INT_TEXTS.get(value)
    if text is None:
        text = str(Decimal(value).normalize())
        if len(_INT_TEXTS) < 4096:
            _INT_TEXTS[value] = text
    return text


_INT_TEXTS: dict[int, str] = {}


def paging(query: Mapping[str, str], default_limit: int = 100) -> tuple[int, int]:
    """offset and limit; the query schema holds their ranges (limit 1-1000), so the document says what is taken."""
    return int(query.get("offset", 0)), int(query.get("limit", default_limit))


def moment(value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return parse_iso(value)
    except OutOfRange as exc:
        raise errors.InvalidField(field=name, problem=str(exc)) from None
    except ValueError:
        raise errors.InvalidField(field=name, problem="is not an ISO-8601 date-time") from None
