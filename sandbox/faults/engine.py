"""The fault engine's state, kept on AppState: armed rules with their counters, the fault random
stream, the per-partner rate limiter, the magic-value table and the record of fired faults.

It decides which fault (if any) a request gets; sandbox/faults/effects.py carries it out.
Reset reseeds the stream and re-arms the start scenario, so a seeded run replays exactly.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from typing import Any, Iterable, NamedTuple, TYPE_CHECKING

from sandbox.state.clock import iso
from sandbox.domain import errors
from sandbox.faults import magic, scenarios, spec
from sandbox.faults.rules import Incoming, Rule

if TYPE_CHECKING:
    from sandbox.state.clock import Clock
    from sandbox.contract.schemas import Schemas

RECENT = 200  # fired faults kept for GET /__sandbox/faults
MAX_RULES = 1000  # armed at once (README "Limits")


class Chosen(NamedTuple):
    fault: spec.Fault
    source: str  # "header", "rule F3", "magic mobile=..."

    @property
    def description(self) -> str:
        return spec.describe(self.fault, self.source)


class FaultEngine:
    def __init__(
        self, clock: "Clock", schemas: "Schemas", seed: int, scenario: str = "",
        magic_entries: Iterable[tuple[list[dict[str, Any]], str]] = (),
    ) -> None:
        self.magic_index = self.magic_table(magic_entries)
        self.start_scenario = scenarios.load(scenario, schemas) if scenario else None
        self.reset(seed, clock)

    @staticmethod
    def magic_table(magic_entries: Iterable[tuple[list[dict[str, Any]], str]]) -> magic.MagicIndex:
        """The magic values of every fixture document, in order; a bad entry is a FixtureError."""
        values: list[magic.MagicValue] = []
        for entries, source in magic_entries:
            values += magic.table(entries, source)
        return magic.MagicIndex(values)

    def reset(self, seed: int, clock: "Clock") -> None:
        """Back to the start: the start scenario's rules, zero counts, the stream reseeded."""
        self.clock = clock
        self.rng = random.Random(f"faults:{seed}")
        self.rules: list[Rule] = []
        self.next_id = 1
        self.fired = 0
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.buckets: dict[str, tuple[float, float]] = {}  # who -> (tokens, at monotonic time)
        self.scenario: scenarios.Scenario | None = None
        if self.start_scenario is not None:
            self.arm(self.start_scenario)

    # --- arming ---------------------------------------------------------------------------
    def add(self, doc: dict[str, Any], where: str = "fault") -> Rule:
        """A rule already checked against sandbox-faults-create.request (by the adapter for
        POST /__sandbox/faults, by scenarios.load for a scenario's rules)."""
        if len(self.rules) >= MAX_RULES:
            raise errors.LimitReached(what="fault rules armed", limit=MAX_RULES)
        rule = Rule.build(f"F{self.next_id}", doc, where)
        self.next_id += 1
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                self.rules.remove(rule)
                return rule
        raise errors.FaultRuleNotFound(rule_id=rule_id)

    def clear(self) -> int:
        count, self.rules, self.scenario = len(self.rules), [], None
        return count

    def arm(self, scenario: scenarios.Scenario) -> list[Rule]:
        """A scenario replaces whatever was armed: it is a whole script."""
        self.clear()
        rules = [self.add(doc) for doc in scenario.rules]
        self.scenario = scenario
        return rules

    @property
    def needs_body(self) -> bool:
        return any(rule.needs_body for rule in self.rules)

    # --- choosing ---------------------------------------------------------------------------
    def choose(self, request: Incoming, header: str | None) -> Chosen | None:
        """The header wins; otherwise rules are tried in the order they were armed and the first that
        fires wins. Every matching rule counts the call, so `first: 2` means the first two matching calls."""
        if header is not None:
            return self._fire(spec.parse(header), "header", request)
        now = self.clock.now()
        chosen = None
        for rule in self.rules:
            if not rule.matches(request):
                continue
            rule.calls += 1
            if chosen is not None or not rule.fires(now, self.rng):
                continue
            chosen = self._fire(rule.fault, f"rule {rule.id}", request)
            if chosen is not None:
                rule.fired += 1
        return chosen

    def _fire(self, fault: spec.Fault, source: str, request: Incoming) -> Chosen | None:
        """The fault as it fires, recorded; a ratelimit fires only over its rate (None: admitted)."""
        fired = self._limit(fault, request) if fault.kind == "ratelimit" else fault
        if fired is None:
            return None
        self._record(request.method, request.path, fired.text(), source)
        return Chosen(fired, source)

    def _limit(self, fault: spec.Fault, request: Incoming) -> spec.Fault | None:
        """A token bucket per partner in wall-clock time: None admits the call, else a 429."""
        rps = float(fault.value)
        burst = float(fault.number("burst", max(1, math.ceil(rps))))
        who = request.proven_partner or ""  # one bucket per authenticated partner; all the others share one
        now = time.monotonic()
        tokens, then = self.buckets.get(who, (burst, now))
        tokens = min(burst, tokens + (now - then) * rps)
        if tokens >= 1:
            self.buckets[who] = (tokens - 1, now)
            return None
        self.buckets[who] = (tokens, now)
        wait = max(1, math.ceil((1 - tokens) / rps))
        message = errors.RateLimited(rps=fault.value, who=f"partnerId {who}" if who else "unauthenticated clients").message
        return spec.Fault("status", "429", {"message": message, "retry-after": str(wait)}, fault.delay)

    def magic(self, operation: str, body: Any, method: str, path: str) -> tuple[spec.Fault, str] | None:
        """The fault of the magic value in this body, if any, and the journal's description of it."""
        found = self.magic_index.find(operation, body)
        if found is None:
            return None
        source = f"magic {found.field}={found.value}"
        self._record(method, path, found.outcome, source)
        return found.fault, f"{found.outcome} ({source})"

    def _record(self, method: str, path: str, fault: str, source: str) -> None:
        self.fired += 1
        self.recent.append({"n": self.fired, "at": iso(self.clock.now()), "method": method, "path": path,
                            "fault": fault, "source": source})

    # --- effects that need a random number ------------------------------------------------------
    def latency(self, fault: spec.Fault) -> float:
        """Seconds to wait for a latency fault: fixed, uniform range, or log-normal; capped."""
        if fault.value == "lognormal":  # e**normal, as lognormvariate draws it, capped before exp can overflow
            median = fault.seconds("median", 0.1)
            sigma = float(fault.params.get("sigma", "0.5"))
            return math.exp(min(math.log(spec.MAX_HOLD_SECONDS), self.rng.normalvariate(math.log(median), sigma)))
        low, sep, high = fault.value.partition("..")
        if sep:
            return self.rng.uniform(spec.duration(low, "latency"), spec.duration(high, "latency"))
        return spec.duration(low, "latency")

    def garbage(self, size: int) -> bytes:
        return self.rng.randbytes(size)  # 1 MiB in about a millisecond, from the seeded stream

    def describe(self) -> dict[str, Any]:
        return {
            "rules": [rule.describe() for rule in self.rules],
            "fired": self.fired,
            "scenario": self.scenario.name if self.scenario else None,
            "recent": list(self.recent),
        }
