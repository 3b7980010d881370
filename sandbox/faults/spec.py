"""A fault: its kind and parameters, parsed from the one small grammar that the `X-Sandbox-Fault`
header, rules, scenarios and magic values all use (README.md, "Fault injection"):

    <kind>[=<value>][; <param>=<value>]...      e.g.  status=503; retry-after=2   latency=100ms..400ms
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sandbox.domain import errors

DESCRIPTION = "sandbox.fault"  # scope key: what the journal records for a request a fault touched
PENDING = "sandbox.fault.pending"  # scope key: a fault that acts on the app's own response
OUTCOME = "sandbox.fault.outcome"  # scope key: a fault the endpoint itself carries out (order=, on create-order)
DIRECT = "sandbox.fault.direct"  # scope key: nothing armed, the app got the server's send; it carries out PENDING itself
ANSWERS = ("status", "business", "token")  # kinds that stand for an error answer
STATUSES = (400, 401, 403, 404, 422, 429, 500, 502, 503, 504)
MAX_HOLD_SECONDS = 300.0  # timeout and latency are bounded so a forgotten rule cannot hang a client forever
# every whole-number parameter, bounded (bytes and chunk: at most 1 MiB; README "Limits")
WHOLE_NUMBERS = {"bytes": 1024 * 1024, "chunk": 1024 * 1024, "burst": 1_000_000, "retry-after": 86_400,
                 "seconds": 366 * 86_400}
RATE_BOUNDS = (Decimal("0.001"), Decimal(1_000_000))  # ratelimit= requests per second
MAX_SIGMA = Decimal(10)  # latency=lognormal; sigma=: e**(10 sigma) is still a float
# kinds answered before the app runs (no trace in state) and kinds that act on the app's own response
BEFORE = ("status", "business", "token", "timeout", "reset", "empty", "garbage", "ratelimit")
AFTER = ("latency", "slow", "malformed", "truncated", "lost")
# kinds the endpoint carries out: a redemption order's outcome (create-order; other calls ignore it)
INSIDE = ("order",)
ORDER_OUTCOMES = ("pending", "failed")
KINDS = BEFORE + AFTER + INSIDE
# the parameters each kind accepts, besides its own `=value`
PARAMS: dict[str, tuple[str, ...]] = {
    "status": ("message", "retry-after"),
    "business": ("message",),
    "token": (),
    "timeout": (),
    "reset": (),
    "empty": (),
    "garbage": ("bytes",),
    "ratelimit": ("burst",),
    "latency": ("median", "sigma"),
    "slow": ("chunk", "every"),
    "malformed": (),
    "truncated": (),
    "lost": (),
    "order": ("seconds",),
}
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s)?\s*$")


@dataclass(frozen=True)
class Fault:
    kind: str
    value: str = ""
    params: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait first, on any kind (`delay=` parameter)

    @property
    def acts_before(self) -> bool:
        return self.kind in BEFORE

    @property
    def acts_inside(self) -> bool:
        return self.kind in INSIDE

    def text(self) -> str:
        """The canonical spelling, as the grammar reads it back."""
        head = f"{self.kind}={self.value}" if self.value else self.kind
        extra = [f"{k}={v}" for k, v in self.params.items()]
        if self.delay:
            extra.append(f"delay={_ms(self.delay)}")
        return "; ".join([head, *extra])

    def seconds(self, name: str, default: float) -> float:
        return duration(self.params[name], name) if name in self.params else default

    def number(self, name: str, default: int) -> int:
        return int(self.params.get(name, default))


def parse(text: str, where: str = "X-Sandbox-Fault") -> Fault:
    """Read one fault; a problem raises FaultSpecInvalid naming `where` and the part at fault."""
    parts = [p.strip() for p in str(text).split(";") if p.strip()]
    if not parts:
        raise errors.FaultSpecInvalid(where=where, problem="is empty; name a fault, e.g. status=503")
    kind, _, value = (s.strip() for s in parts[0].partition("="))
    kind = kind.lower()
    if kind not in KINDS:
        raise errors.FaultSpecInvalid(where=where, problem=f"unknown fault {kind!r}; one of {', '.join(KINDS)}")
    params: dict[str, str] = {}
    delay = 0.0
    for part in parts[1:]:
        name, sep, arg = (s.strip() for s in part.partition("="))
        name = name.lower()
        if not sep or not arg:
            raise errors.FaultSpecInvalid(where=where, problem=f"parameter {part!r} needs a value (name=value)")
        if name == "delay":
            try:
                delay = duration(arg, "delay")
            except ValueError as problem:  # "status=503; delay=soon" was a 500
                raise errors.FaultSpecInvalid(where=where, problem=str(problem)) from None
        elif name in PARAMS[kind]:
            params[name] = arg
        else:
            allowed = ", ".join((*PARAMS[kind], "delay"))
            raise errors.FaultSpecInvalid(where=where, problem=f"{kind} takes no parameter {name!r} (it takes: {allowed})")
    fault = Fault(kind, value, params, delay)
    _check(fault, where)
    return fault


def business(name: str, message: str | None, where: str) -> Fault:
    """The business fault of that name (a magic value's `error:`), checked as business= is."""
    fault = Fault("business", name, {"message": message} if message else {})
    _check(fault, where)
    return fault


def _check(fault: Fault, where: str) -> None:
    """Every value is checked when the fault is armed, never when it fires."""
    try:
        _CHECKS[fault.kind](fault)
        if "every" in fault.params:
            duration(fault.params["every"], "every")
        if "median" in fault.params and duration(fault.params["median"], "median") <= 0:
            raise ValueError("median must be longer than 0ms")
        for name, most in WHOLE_NUMBERS.items():
            text = fault.params.get(name)
            if text is not None and not (text.isdigit() and len(text) < 10 and 1 <= int(text) <= most):
                raise ValueError(f"{name} must be a whole number from 1 to {most}")
        if "sigma" in fault.params and _positive(fault.params["sigma"], "sigma") > MAX_SIGMA:
            raise ValueError(f"sigma must be at most {MAX_SIGMA}")
    except ValueError as problem:
        raise errors.FaultSpecInvalid(where=where, problem=f"{fault.kind}: {problem}") from None


def _status(fault: Fault) -> None:
    if not fault.value.isdigit() or int(fault.value) not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(map(str, STATUSES))}")


@functools.cache
def business_failures() -> dict[str, type[errors.SandboxError]]:
    """The failures business= may name: HTTP 200 with code 1, built from a message alone."""
    return {
        name: kind for name, kind in vars(errors).items()
        if isinstance(kind, type) and issubclass(kind, errors.SandboxError) and kind.status == 200 and kind.code == 1
        and kind.__init__ is errors.SandboxError.__init__
    }


def _business(fault: Fault) -> None:
    if not fault.value:
        return
    kind = business_failures().get(fault.value)
    if kind is None:
        known = ", ".join(sorted(business_failures()))
        raise ValueError(f"no business failure named {fault.value!r} (one of {known})")
    if "{" in kind.message and "message" not in fault.params:
        raise ValueError(f"{fault.value} needs message= (its text has details)")


def _token(fault: Fault) -> None:
    if fault.value not in ("expired", "invalid"):
        raise ValueError("token must be expired or invalid")


def _timeout(fault: Fault) -> None:
    duration(fault.value or "", "timeout")


def _ratelimit(fault: Fault) -> None:
    low, high = RATE_BOUNDS
    if not low <= _positive(fault.value, "ratelimit (requests per second)") <= high:
        raise ValueError(f"ratelimit must be from {low} to {high} requests per second")


def _latency(fault: Fault) -> None:
    if fault.value == "lognormal":
        if "median" not in fault.params:
            raise ValueError("lognormal needs median=<duration>")
        return
    low, sep, high = fault.value.partition("..")
    if sep and duration(low, "latency") > duration(high, "latency"):
        raise ValueError("a latency range must go from low to high")
    duration(low, "latency")


def _order(fault: Fault) -> None:
    if fault.value not in ORDER_OUTCOMES:
        raise ValueError(f"order must be {' or '.join(ORDER_OUTCOMES)}")
    if "seconds" in fault.params and fault.value != "pending":
        raise ValueError("seconds= is for order=pending (fulfilled that many seconds later on the sandbox clock)")


def _nothing(fault: Fault) -> None:
    if fault.value:
        raise ValueError("takes no value")


_CHECKS = {
    "status": _status, "business": _business, "token": _token, "timeout": _timeout, "ratelimit": _ratelimit,
    "latency": _latency, "reset": _nothing, "empty": _nothing, "garbage": _nothing, "slow": _nothing,
    "malformed": _nothing, "truncated": _nothing, "lost": _nothing, "order": _order,
}


def duration(text: str, name: str) -> float:
    """`250ms`, `1.5s`, or a bare number of milliseconds; at most MAX_HOLD_SECONDS."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{name} must be a duration like 200ms or 1.5s")
    seconds = float(match.group(1)) / (1 if match.group(2) == "s" else 1000)
    if seconds > MAX_HOLD_SECONDS:
        raise ValueError(f"{name} must be at most {MAX_HOLD_SECONDS:g}s")
    return seconds


def _positive(text: str, name: str) -> Decimal:
    try:
        number = Decimal(text) if len(text) <= 40 else Decimal("NaN")
    except InvalidOperation:
        raise ValueError(f"{name} must be a number") from None
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{name} must be greater than 0")
    return number


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:g}ms"


def describe(fault: Fault, source: str) -> str:
    """What the journal records for a request this fault touched."""
    return f"{fault.text()} ({source})"


def failure_for(fault: Fault) -> errors.SandboxError:
    """The error an answering fault stands for; a 429 or 503 carries its Retry-After header."""
    message = fault.params.get("message")
    if fault.kind == "status":
        status = int(fault.value)
        headers = {"Retry-After": fault.params.get("retry-after", "1")} if status in (429, 503) else None
        return errors.InjectedError(status, message, headers)
    if fault.kind == "business":
        if fault.value:
            kind = business_failures()[fault.value]
            return kind(message) if message else kind()
        return errors.InjectedBusinessFailure(reason=message) if message else errors.InsufficientBalance()
    assert fault.kind == "token"
    return errors.TokenExpired() if fault.value == "expired" else errors.InvalidToken()
