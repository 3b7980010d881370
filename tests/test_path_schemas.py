"""The fast validator's copy of a schema (integers_first: a multipleOf that divides 1 asked only of
non-integers) answers as the document itself does, on many values, and is the same document
otherwise."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import jsonschema_rs
import pytest

from sandbox.contract.schemas import Schemas, integers_first

NUMBERS: list[Any] = [
    0, 1, -1, 7, 100, 10**7, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30, -(2**70),
    0.01, 0.07, 0.1 + 0.2, 1.0, -3.0, 1.5, 0.005, 1e300, 2.0**70, 1e-9, math.inf, -math.inf, math.nan,
    Decimal("1.00"), Decimal("1E+2"), Decimal("0.010"), Decimal("0.001"), Decimal("-0"), Decimal("1E-30"),
    Decimal("92415.44"), Decimal("92415.445"), Decimal("12.3400"), Decimal("NaN"), Decimal("Infinity"),
    True, False, None, "1", "", [1], {"a": 1},
]
MULTIPLES: list[Any] = [Decimal("0.01"), 0.01, Decimal("0.0001"), 1, Decimal("0.5"), 0.25, Decimal("0.1"), 3, Decimal("0.3")]


def answer(validator: Any, instance: Any) -> Any:
    try:
        return validator.is_valid(instance)
    except Exception as failure:  # noqa: BLE001 - Schemas.is_valid takes a failure as "not valid"
        return type(failure)


@pytest.mark.parametrize("multiple", MULTIPLES, ids=str)
def test_a_multiple_asked_after_integer_answers_as_itself(multiple: Any) -> None:
    for schema in ({"multipleOf": multiple}, {"type": "number", "maximum": 10**7, "multipleOf": multiple},
                   {"anyOf": [{"type": "string"}], "allOf": [{"minimum": 0}], "multipleOf": multiple},
                   {"not": {"multipleOf": multiple}}):
        plain = jsonschema_rs.Draft7Validator(schema, validate_formats=False)
        fast = jsonschema_rs.Draft7Validator(integers_first(schema), validate_formats=False)
        for value in NUMBERS:
            for instance in (value, {"loadAmount": value}, [value]):
                assert answer(fast, instance) == answer(plain, instance), (schema, instance)


def undone(schema: Any) -> Any:
    """integers_first's change taken back: its allOf entry folded into multipleOf again."""
    if isinstance(schema, list):
        return [undone(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    made = {key: undone(value) for key, value in schema.items()}
    added = [entry for entry in made.get("allOf", ()) if isinstance(entry, dict) and list(entry) == ["anyOf"]
             and entry["anyOf"][:1] == [{"type": "integer"}] and len(entry["anyOf"]) == 2]
    for entry in added:
        made["allOf"].remove(entry)
        made["multipleOf"] = entry["anyOf"][1]["multipleOf"]
    if added and not made["allOf"]:  # the document had no allOf of its own
        del made["allOf"]
    return made


def test_every_document_is_itself_but_its_multiples() -> None:
    schemas = Schemas()
    changed = 0
    for name, document in schemas.documents.items():
        made = integers_first(document)
        changed += made != document
        assert undone(made) == document, name
    assert changed >= 4  # the amounts in cents (and the coins' 0.0001)


def test_data_is_left_as_it_is() -> None:
    schema = {"enum": [{"multipleOf": 0.01}], "const": {"multipleOf": 0.01}, "default": {"multipleOf": 0.01},
              "properties": {"multipleOf": {"type": "string"}, "n": {"multipleOf": True}}}
    assert integers_first(schema) == schema


def test_a_top_up_body_is_checked_alike() -> None:
    schemas = Schemas()
    body = {"companyId": "CEK1", "enkashCardId": "EKC1", "transactionType": "CR", "type": "ALLOCATE_POINT", "uniqueReferenceNumber": "R"}
    document = schemas.get("create-allocate-points.request")
    plain = jsonschema_rs.Draft7Validator(document, validate_formats=False)
    for value in NUMBERS:
        assert schemas.is_valid("create-allocate-points.request", body | {"loadAmount": value}) == (
            answer(plain, body | {"loadAmount": value}) is True), value
