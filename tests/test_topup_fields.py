"""The top-up's request fields: the one-part fingerprint and an int's amount, each against the
general form they stand in for (the field-by-field loop, canonical() of the Decimal)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from sandbox.state.ledger import canonical
from sandbox.web.endpoints import fields

VALUES: list[Any] = [
    0, 1, -3, 11, 2**70, True, False, None, "x", "", "11", [1, 2.5], {"a": 1},
    Decimal("11.0"), Decimal("1.10"), Decimal("1E+1"), Decimal("-0"), Decimal("0.00"),
]
NAMES = ["companyId", "enkashCardId", "enKashCardId", "uniqueReferenceNumber", "uniqueReferenceNum", "loadAmount", "email"]


def test_one_part_fingerprint_is_the_field_by_field_one() -> None:
    pick = random.Random(17)
    for _ in range(5_000):
        part = {name: pick.choice(VALUES) for name in pick.sample(NAMES, pick.randint(0, len(NAMES)))}
        assert fields.fingerprint(part) == fields._folded_fingerprint((part,)), part


def test_a_top_up_body_has_one_fingerprint_whatever_the_amount_s_spelling() -> None:
    body = {"companyId": "CEK1", "enkashCardId": "EKC1", "transactionType": "CR", "type": "ALLOCATE_POINT",
            "loadAmount": 11, "uniqueReferenceNumber": "R-1"}
    made = fields.fingerprint(body)
    for spelling in (Decimal("11"), Decimal("11.0"), Decimal("1.1E+1")):
        assert fields.fingerprint(body | {"loadAmount": spelling}) == made
    aliased = {("enKashCardId" if name == "enkashCardId" else name): value for name, value in body.items()}
    assert fields.fingerprint(aliased) == made  # the alias folds
    assert fields.fingerprint(body | {"loadAmount": 12}) != made


def test_an_int_amount_is_its_canonical_decimal() -> None:
    for value in (0, 1, 10, 100, 1230, -5, 10**30):
        made = fields.amount(value)
        assert made.__class__ is Decimal and str(made) == str(canonical(Decimal(value)))
    assert str(fields.amount(True)) == "1"  # a bool goes the general way, as before
