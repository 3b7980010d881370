"""Magic values, like test card numbers: a documented input (a `loadAmount`, a `mobile`) that
always brings the same outcome. The table is data (`magicValues:` in the fixtures); the check runs
in the HTTP adapter after auth and validation, so a magic value in a bad request is still refused
for what is wrong with it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, MutableMapping, NamedTuple, TYPE_CHECKING

from sandbox.domain import errors
from sandbox.documents.fixtures import FixtureError
from sandbox.faults import spec
from sandbox.faults.rules import same_value

if TYPE_CHECKING:
    from sandbox.faults.engine import FaultEngine


class MagicValue(NamedTuple):
    field: str
    value: Any
    operations: tuple[str, ...]  # empty: every operation with a JSON body
    error: str | None  # the failure an `error:` entry names (the journal says error=<name>)
    fault: spec.Fault  # an `error:` entry is the business fault of that name

    def applies(self, operation: str, body: Any) -> bool:
        if self.operations and operation not in self.operations:
            return False
        return isinstance(body, dict) and self.field in body and same_value(self.value, body[self.field])

    @property
    def outcome(self) -> str:
        """What the journal says this value brought."""
        return f"error={self.error}" if self.error else self.fault.text()


def table(entries: Iterable[dict[str, Any]], source: str) -> list[MagicValue]:
    """Entries as the fixtures schema shaped them; a name the sandbox does not know is refused."""
    out = []
    for n, entry in enumerate(entries):
        where = f"magicValues[{n}]"
        error = entry.get("error")
        if (error is None) == (entry.get("fault") is None):
            raise FixtureError(source, where, "give exactly one of error (a failure's name) or fault (a fault spec)")
        try:
            fault = spec.business(error, entry.get("message"), "error") if error is not None else spec.parse(entry["fault"], where)
        except errors.SandboxError as failure:
            raise FixtureError(source, where, failure.message) from None
        out.append(MagicValue(entry["field"], entry["value"], tuple(entry.get("operations", ())), error, fault))
    return out


class MagicIndex:
    """The table keyed by field and value, so a request costs one lookup per magic field instead of
    a comparison per entry. Keys follow `same_value`: a number matches by value (13.13 == 13.130)
    and also as its digits in a string; booleans never equal numbers."""

    def __init__(self, values: Iterable[MagicValue]) -> None:
        self._by_field: dict[str, dict[Any, list[MagicValue]]] = {}
        for value in values:
            keys = self._by_field.setdefault(value.field, {})
            for key in _keys(value.value):
                keys.setdefault(key, []).append(value)

    def find(self, operation: str, body: Any) -> MagicValue | None:
        if not isinstance(body, dict):
            return None
        for field, keys in self._by_field.items():
            if field in body:
                got = body[field]
                for value in keys.get(got if got.__class__ in _ITSELF else _key(got), ()):
                    if value.applies(operation, body):
                        return value
        return None


_ITSELF = frozenset((str, int, Decimal))  # exact types _key() gives back as they are (a bool is not one)


def _key(got: Any) -> Any:
    """A request value as an index key: Decimal and int hash by value, so 13.13 finds 13.130."""
    if isinstance(got, bool):
        return ("bool", got)
    if isinstance(got, float):
        return Decimal(str(got))
    return got if isinstance(got, (str, int, Decimal)) else ("other", repr(got))


def _keys(want: Any) -> list[Any]:
    if isinstance(want, bool):
        return [("bool", want)]
    if isinstance(want, (int, float, Decimal)):
        return [_key(want), str(want)]
    return [_key(want)]


def check(engine: "FaultEngine", operation: str, body: Any, scope: MutableMapping[str, Any]) -> None:
    """The hook adapter.py calls after auth and validation, before the endpoint. The fault (an `error:`
    entry's is a business fault) is left in the scope for the middleware (effects.act: its delay,
    then its effect on the app's answer); an answer (status, business, token) is raised here, so the
    adapter answers it in the documented envelope with the error's own headers, and one that must
    not let the request commit stops it."""
    found = engine.magic(operation, body, scope["method"], scope["path"])
    if found is None:
        return
    fault, description = found
    scope[spec.DESCRIPTION] = description
    if fault.acts_inside:  # the endpoint carries it out (an order's outcome)
        scope[spec.OUTCOME] = fault
        return
    scope[spec.PENDING] = fault
    if fault.kind in spec.ANSWERS:
        raise spec.failure_for(fault)
    if fault.acts_before:
        raise errors.FaultStopped()
