"""Sandbox time: one clock, frozen or running, that tests can set and advance.

Token expiry, coin expiry and month counters all read this clock, never the system time.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sandbox.settings import EARLIEST, LATEST, RANGE_TEXT

_monotonic = time.monotonic
# how far short of a moment's distance passed() keeps it "surely ahead": now() rounds to the
# microsecond and the monotonic floats err by nanoseconds, so a millisecond is ample
_SURE = 0.001


class Clock:
    def __init__(self, start: datetime | None = None, frozen: bool = False) -> None:
        self._base = start or datetime.now(timezone.utc).replace(microsecond=0)
        self._mono = time.monotonic()
        self.frozen = frozen
        self._ahead: tuple[datetime, float] | None = None  # passed()'s last moment ahead, and until when it surely is

    def now(self) -> datetime:
        if self.frozen:
            return self._base
        # timedelta(0, s) is timedelta(seconds=s) without the keyword parsing: a top-up reads the
        # clock three times, and the keyword form was about half of each reading's cost
        return self._base + timedelta(0, _monotonic() - self._mono)

    def passed(self, moment: datetime) -> bool:
        """moment <= now(), without making now()'s datetime while `moment` is surely ahead: the last
        moment found ahead is kept with the monotonic mark before which it still is, so a token's
        expiry check, every request, compares two floats where now() made a timedelta and a
        datetime (~5,000 instructions). Kept only when the distance is what the comparison sees:
        the same time zone, or fixed offsets (a zone whose offset changes could differ)."""
        if self.frozen:
            return moment <= self._base
        mark = _monotonic()
        ahead = self._ahead
        if ahead is not None and ahead[0] is moment and mark < ahead[1]:
            return False
        base = self._base
        if moment <= base + timedelta(0, mark - self._mono):
            return True
        zone, own = moment.tzinfo, base.tzinfo
        if zone is own or (zone.__class__ is timezone and own.__class__ is timezone):
            self._ahead = (moment, self._mono + (moment - base).total_seconds() - _SURE)
        return False

    def reading(self) -> tuple[datetime, float | None]:
        """What now() needs, without making its datetime: a journal entry keeps this with its own
        monotonic mark, and at() makes the datetime only if someone reads the entry (a reading
        is a tuple; now() builds a timedelta and a datetime, 5,000 instructions a request)."""
        return (self._base, None) if self.frozen else (self._base, self._mono)

    @staticmethod
    def at(reading: tuple[datetime, float | None], mark: float) -> datetime:
        """What now() read at `mark` (a time.monotonic() value), given the reading() taken then."""
        base, since = reading
        return base if since is None else base + timedelta(0, mark - since)

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        self._base, self._mono = in_range(when), time.monotonic()
        self._ahead = None

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)

    def freeze(self) -> None:
        self._base, self.frozen, self._ahead = self.now(), True, None

    def run(self) -> None:
        if self.frozen:
            self.set(self._base)
            self.frozen = False

    def describe(self) -> dict[str, object]:
        return {"now": iso(self.now()), "frozen": self.frozen}


def iso(moment: datetime) -> str:
    """EnKash's timestamp form: ISO-8601 UTC with milliseconds (docs/enkash-api.md#values)."""
    m = moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
            f".{m.microsecond // 1000:03d}Z")


class OutOfRange(ValueError):
    """A date outside [EARLIEST, LATEST): its text is the problem, for the 422 that names the field."""


def in_range(moment: datetime) -> datetime:
    """The moment (aware), or OutOfRange: nothing outside the sandbox's years is ever accepted."""
    if moment.tzinfo is None or not EARLIEST <= moment < LATEST:
        raise OutOfRange(RANGE_TEXT if moment.tzinfo is not None else "must carry a time zone")
    return moment


def parse_iso(text: str) -> datetime:
    """An ISO-8601 date-time (no offset: UTC) inside the sandbox's years; ValueError if not."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return in_range(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
