"""A ledger account's balance over time as SVG geometry, computed on the server (no script).

A history of any length is drawn from at most SAMPLES of its postings, picked evenly through the
account's own index, so a card with a million postings costs what one with a few hundred does.
The line is a step: a balance holds until the next posting changes it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sandbox.state.ledger import Ledger
from sandbox.web.inspector.pages import number

SAMPLES = 400
WIDTH, HEIGHT = 760, 200
LEFT, RIGHT, TOP, BOTTOM = 84, 12, 12, 28
DOTS_UP_TO = 60  # below this many postings each one gets a marker with its balance as a tooltip


class Label(NamedTuple):
    x: float
    y: float
    text: str
    anchor: str = "end"


class Dot(NamedTuple):
    x: float
    y: float
    title: str


class Chart(NamedTuple):
    width: int
    height: int
    line: str  # the SVG path of the step line
    area: str  # the same line closed down to zero, for the fill
    zero: float | None  # y of the zero line, when zero is on the chart
    labels: list[Label]
    dots: list[Dot]
    drawn: int  # postings drawn
    total: int  # postings in the account's history
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def sample_indices(total: int, samples: int = SAMPLES) -> list[int]:
    if total <= samples:
        return list(range(total))
    return sorted({round(i * (total - 1) / (samples - 1)) for i in range(samples)})


def balance_chart(ledger: Ledger, account: str, now: datetime) -> Chart | None:
    total = ledger.count(account)
    if not total:
        return None
    postings = ledger.postings_of(account, sample_indices(total))
    points = [(p.at, p.entry_for(account).balance_after) for p in postings]
    if now > points[-1][0]:
        points.append((now, ledger.balance(account)))
    return _draw(points, len(postings), total)


def _draw(points: list[tuple[datetime, Decimal]], drawn: int, total: int) -> Chart:
    start, end = points[0][0], max(moment for moment, _ in points)
    span = max((end - start).total_seconds(), 1.0)
    values = [value for _, value in points]
    least, most = low, high = min(values), max(values)
    pad = (high - low) / 10 if high != low else max(abs(high) / 10, Decimal(1))
    low, high = (low - pad if low - pad >= 0 or low < 0 else Decimal(0)), high + pad  # no negative axis for balances that never were
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y_of(value: Decimal) -> float:
        return round(TOP + plot_h * float((high - value) / (high - low)), 1)

    xs: list[float] = []
    for moment, _ in points:  # a clock set back draws at the last x, never to the left
        x = round(LEFT + plot_w * (moment - start).total_seconds() / span, 1)
        xs.append(max(x, xs[-1]) if xs else x)
    line = f"M{xs[0]},{y_of(values[0])}" + "".join(f"H{x}V{y_of(v)}" for x, v in zip(xs[1:], values[1:]))
    zero = y_of(Decimal(0)) if low <= 0 <= high else None
    area = f"{line}V{TOP + plot_h}H{xs[0]}Z"
    shown = [most, least] if most != least else [most]  # the real extremes, exactly as EnKash prints them
    labels = [Label(LEFT - 6, y_of(v) + 4, number(v)) for v in shown]
    labels += [Label(LEFT, HEIGHT - 8, _moment(start), "start"), Label(WIDTH - RIGHT, HEIGHT - 8, _moment(end), "end")]
    dots = []
    if total <= DOTS_UP_TO:
        dots = [Dot(x, y_of(v), f"{number(v)} at {_moment(m)}") for x, (m, v) in zip(xs[:drawn], points[:drawn])]
    return Chart(WIDTH, HEIGHT, line, area, zero, labels, dots, drawn, total)


def _moment(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
