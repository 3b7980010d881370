"""jsonio.dumps and dumps_sorted ask orjson for keys that are not strings only when a key needs
it: on many documents they write what the one call with that option (and the reference after it)
wrote, byte for byte, and fail where it failed."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

import orjson
import pytest

from sandbox.contract import jsonio

ANY_KEYS = jsonio._ORJSON | orjson.OPT_NON_STR_KEYS


def general(value: Any, sort_keys: bool) -> Any:
    """The former dumps/dumps_sorted: orjson with OPT_NON_STR_KEYS always, then the reference."""
    option = ANY_KEYS | orjson.OPT_SORT_KEYS if sort_keys else ANY_KEYS
    try:
        return orjson.dumps(value, default=jsonio._fragment, option=option)
    except TypeError:
        pass
    try:
        return jsonio._reference_encoder(sort_keys=sort_keys).encode(jsonio._canonical_tree(value)).encode("utf-8")
    except Exception as failure:  # noqa: BLE001 - the failure's type is what is compared
        return type(failure)


def written(value: Any, sort_keys: bool) -> Any:
    try:
        return jsonio.dumps_sorted(value) if sort_keys else jsonio.dumps(value)
    except Exception as failure:  # noqa: BLE001
        return type(failure)


class Name(str):
    pass


SCALARS: list[Any] = [
    0, 1, -7, 2**63 - 1, 2**64, -(2**70), True, False, None, "", "x", "é\u2028\"\\", Name("sub"),
    Decimal("1E+2"), Decimal("-0.00"), Decimal("92415.44"), Decimal("NaN"), 1.5,
    datetime.date(2026, 1, 2), jsonio.Raw(b'{"kept":1}'),
]
KEYS: list[Any] = ["a", "b", "loadAmount", "", "é", Name("b"), Name("z"), 1, 2, -3, True, None, 1.5]


def document(pick: random.Random, depth: int = 0) -> Any:
    roll = pick.random()
    if depth < 3 and roll < 0.3:
        return {pick.choice(KEYS): document(pick, depth + 1) for _ in range(pick.randint(0, 5))}
    if depth < 3 and roll < 0.4:
        return [document(pick, depth + 1) for _ in range(pick.randint(0, 4))]
    return pick.choice(SCALARS)


@pytest.mark.parametrize("sort_keys", [False, True])
def test_dumps_writes_what_the_option_for_any_keys_wrote(sort_keys: bool) -> None:
    pick = random.Random(29)
    for _ in range(4_000):
        value = {pick.choice(KEYS): document(pick) for _ in range(pick.randint(0, 6))}
        assert written(value, sort_keys) == general(value, sort_keys), value


def test_a_top_up_reply_and_an_int_key_are_written_as_before() -> None:
    reply = {"code": 0, "message": "Success", "payload": {"enKashCardId": "EKC1", "otbBalance": Decimal("10.50"), "pgReferenceNumber": None}}
    for sort_keys in (False, True):
        assert written(reply, sort_keys) == general(reply, sort_keys)
        assert written({1: "a", "b": 2}, sort_keys) == general({1: "a", "b": 2}, sort_keys)
    assert jsonio.dumps({1: "a"}) == b'{"1":"a"}'
