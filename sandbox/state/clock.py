"""Sandbox time: one clock, frozen or running, that tests can set and advance.

Token expiry, coin expiry and month counters all read this clock, never the system time.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sandbox.settings import EARLIEST, LATEST, RANGE_TEXT

_monotonic = time.monotonic


class Clock:
    def __init__(self, start: datetime | None = None, frozen: bool = False) -> None:
        self._base = start or datetime.now(timezone.utc).replace(microsecond=0)
        self._mono = time.monotonic()
        self.frozen = frozen

    def now(self) -> datetime:
        if self.frozen:
            return self._base
        # timedelta(0, s) is timedelta(seconds=s) without the keyword parsing: a top-up reads the
        # clock three times, and the keyword form was about half of each reading's cost
        return self._base + timedelta(0, _monotonic() - self._mono)

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

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)

    def freeze(self) -> None:
        self._base, self.frozen = self.now(), True

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
