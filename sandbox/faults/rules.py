"""A rule: which requests it matches (method, endpoint, path, partner, company, JSON body fields)
and when it fires among them (probability, nth, first N, every Nth, at most K times, time window).

Counting is per rule over the requests it matches, so "the first two allocations" means exactly
that whatever else is called in between. Random draws come from the engine's own stream and are
made only for a request every other condition let through, so a replay draws the same numbers.
"""

from __future__ import annotations

import fnmatch
import operator
import random
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, NamedTuple

from sandbox.state.clock import OutOfRange, iso, parse_iso
from sandbox.domain import errors
from sandbox.faults import spec


class Incoming(NamedTuple):
    """What a rule can see of a request before it reaches the app."""

    method: str
    path: str
    endpoint: str  # the route's operation id, "" for an unknown path
    partner_id: str | None
    company_id: str | None
    body: Any  # the parsed JSON body, or None when it was not read or is not JSON
    proven_partner: str | None = None  # the partner its credentials prove (a valid token or Basic secret)


# what a rule may name besides `body`: its key, the request's value for it, and how the two compare
_MATCHES: tuple[tuple[str, Callable[[Incoming], str | None], Callable[[Any, str], bool]], ...] = (
    ("method", operator.attrgetter("method"), lambda want, got: want.upper() == got),
    ("endpoint", operator.attrgetter("endpoint"), operator.eq),
    ("path", operator.attrgetter("path"), lambda want, got: fnmatch.fnmatchcase(got, want)),
    ("partnerId", operator.attrgetter("partner_id"), operator.eq),
    ("companyId", operator.attrgetter("company_id"), operator.eq),
)


@dataclass
class Rule:
    id: str
    fault: spec.Fault
    doc: dict[str, Any]  # as armed (validated by sandbox-faults-create.request.json)
    calls: int = 0
    fired: int = 0
    window: tuple[datetime | None, datetime | None] = field(default=(None, None))

    @classmethod
    def build(cls, rule_id: str, doc: dict[str, Any], where: str = "fault") -> "Rule":
        fault = spec.parse(doc["fault"], where)
        return cls(rule_id, fault, doc, window=(_moment(doc, "from", where), _moment(doc, "until", where)))

    @property
    def needs_body(self) -> bool:
        return "body" in self.doc or "companyId" in self.doc

    def matches(self, request: Incoming) -> bool:
        doc = self.doc
        for key, read, test in _MATCHES:
            if key in doc:
                got = read(request)
                if got is None or not test(doc[key], got):
                    return False
        return "body" not in doc or _body_matches(doc["body"], request.body)

    def fires(self, now: datetime, rng: random.Random) -> bool:
        """Decide for the call just counted in `calls`; the probability draw comes last."""
        doc, n = self.doc, self.calls
        start, end = self.window
        if "nth" in doc and n != doc["nth"]:
            return False
        if "first" in doc and n > doc["first"]:
            return False
        if "every" in doc and n % doc["every"]:
            return False
        if "times" in doc and self.fired >= doc["times"]:
            return False
        if (start is not None and now < start) or (end is not None and now >= end):
            return False
        return "probability" not in doc or rng.random() < float(doc["probability"])

    def describe(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.doc.items() if k != "fault"}
        for key, moment in zip(("from", "until"), self.window):
            if moment is not None:
                shown[key] = iso(moment)
        return {"id": self.id, "fault": self.fault.text(), **shown, "calls": self.calls, "fired": self.fired}


def _moment(doc: dict[str, Any], key: str, where: str) -> datetime | None:
    if not doc.get(key):
        return None
    try:
        return parse_iso(str(doc[key]))
    except OutOfRange as exc:
        raise errors.InvalidField(field=key, problem=str(exc)) from None
    except ValueError:
        raise errors.FaultSpecInvalid(where=f"{where} {key}", problem="is not an ISO-8601 date-time") from None


def _body_matches(wanted: dict[str, Any], body: Any) -> bool:
    """Every named top-level field is present and equal (numbers compare by value: 13 == 13.0)."""
    if not isinstance(body, dict):
        return False
    return all(name in body and same_value(value, body[name]) for name, value in wanted.items())


def same_value(want: Any, got: Any) -> bool:
    """Equal as JSON values, numbers by value (13 == 13.0), and a number in YAML equals its digits in a string."""
    if isinstance(got, bool) or isinstance(want, bool):
        return bool(want == got)
    numbers = (int, float, Decimal)
    if isinstance(want, numbers) and isinstance(got, numbers):
        return Decimal(str(want)) == Decimal(str(got))
    if isinstance(got, str) and isinstance(want, (str, *numbers)):
        return str(want) == got
    return bool(want == got)
