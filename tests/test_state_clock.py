"""Clock.passed(moment) against the general `moment <= clock.now()`, on a monotonic clock the test
drives: the same answer at every mark, whatever passed() kept from the calls before."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from sandbox.state import clock as clock_module
from sandbox.state.clock import Clock

ZONES = (timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)))


@pytest.fixture
def mark(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The monotonic time the clock reads: set mark[0]."""
    now = [123_456.789]
    monkeypatch.setattr(clock_module, "_monotonic", lambda: now[0])
    monkeypatch.setattr(clock_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    return now


def same(clock: Clock, moment: datetime) -> bool:
    general = moment <= clock.now()
    assert clock.passed(moment) == general, (moment, clock.now())
    return general


def test_passed_is_the_general_comparison_as_a_moment_comes_and_goes(mark: list[float]) -> None:
    chance = random.Random(20)
    for _ in range(300):
        start = datetime(2026, 1, 1, tzinfo=chance.choice(ZONES)) + timedelta(seconds=chance.randrange(10**8), microseconds=chance.randrange(10**6))
        clock = Clock(start)
        ahead = timedelta(seconds=chance.choice((0, 1, 59, 86399)), microseconds=chance.randrange(10**6))
        moment = (start + ahead).astimezone(chance.choice(ZONES))
        mark[0] += chance.random() * 1000
        begun = mark[0]
        distance = ahead.total_seconds()
        # marks far before, near and exactly at the moment (within a few microseconds, on ties), then after
        steps = sorted({begun + distance * chance.random() for _ in range(5)}
                       | {begun + distance + chance.choice((-1, 1)) * chance.random() * 2e-3 for _ in range(10)}
                       | {begun + distance + k * 5e-7 for k in range(-4, 5)}
                       | {begun + distance + 10})
        answers = []
        for step in steps:
            mark[0] = step
            answers.append(same(clock, moment))
            answers.append(same(clock, moment))  # again at the same mark: as kept
        assert answers[-1] and answers == sorted(answers)  # never passed again once passed


def test_passed_follows_the_clock_set_advanced_frozen_and_run(mark: list[float]) -> None:
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    expiry = clock.now() + timedelta(seconds=100)
    assert not same(clock, expiry)  # kept as ahead
    clock.advance(timedelta(seconds=100))
    assert same(clock, expiry)
    clock.set(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    assert not same(clock, expiry)
    mark[0] += 99.9
    assert not same(clock, expiry)
    clock.freeze()
    mark[0] += 1000
    assert not same(clock, expiry)
    clock.advance(timedelta(seconds=0.1))
    assert same(clock, expiry)
    clock.set(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    clock.run()
    assert not same(clock, expiry)
    mark[0] += 100
    assert same(clock, expiry)
    clock.frozen = True  # as a restore sets it, after set(): the clock reads its base again
    assert not same(clock, expiry)


def test_passed_refuses_a_naive_moment_as_the_comparison_does(mark: list[float]) -> None:
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    with pytest.raises(TypeError):
        clock.passed(datetime(2026, 3, 1, 13))
