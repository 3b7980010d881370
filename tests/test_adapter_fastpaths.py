"""The adapter's fast paths give what the general code gives: a bearer header in its usual form,
the headers read by bytes name, a magic value keyed by its exact type, a schema check with its
validator compiled."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.contract.credentials import Headers, bearer_value, parse_bearer
from sandbox.contract.schemas import Schemas
from sandbox.domain import errors
from sandbox.faults import magic
from sandbox.faults.spec import business


@pytest.mark.parametrize("header", [
    "Bearer abc", "Bearer  abc ", "Bearer abc def", "Bearer ", "Bearer \t", "Bearer\tabc", " Bearer abc", "bearer abc",
    "BEARER abc", "Bearer \u00a0abc\u2003", "Bearerabc", "abc", "", "  ", "Basic abc", "Bearer \u2028", "Bearer x y ",
])
def test_bearer_value_is_the_general_parse(header: str) -> None:
    try:
        expected: object = parse_bearer(header)
    except errors.SandboxError as failure:
        expected = type(failure)
    try:
        got: object = bearer_value(header)
    except errors.SandboxError as failure:
        got = type(failure)
    assert got == expected


def test_headers_value_is_get_by_name() -> None:
    raw = [(b"content-type", b"application/json"), (b"partnerid", b"P\xe91"), (b"partnerid", b"second"), (b"x", b"")]
    headers = Headers(raw)
    for name in ("content-type", "partnerid", "x", "missing"):
        assert headers.value(name.encode()) == headers.get(name)
        assert headers.value(name.encode(), "") == headers.get(name, "")


def test_magic_keys_by_exact_type_as_the_general_key() -> None:
    fault = business("CardInactive", None, "error")
    entries = [magic.MagicValue(field, value, (), "CardInactive", fault)
               for field, value in (("loadAmount", Decimal("13.13")), ("mobile", "9999900001"), ("n", 7), ("flag", True))]
    index = magic.MagicIndex(entries)

    class Text(str):
        pass

    bodies = [{"loadAmount": Decimal("13.130")}, {"loadAmount": "13.13"}, {"loadAmount": 13.13}, {"mobile": "9999900001"},
              {"mobile": Text("9999900001")}, {"n": 7}, {"n": True}, {"n": 7.0}, {"flag": True}, {"flag": 1}, {"mobile": None}]
    for body in bodies:
        assert index.find("op", body) == general_find(index, "op", body), body
    for got in ("", "9999900001", 0, 7, -3, 2**70, Decimal("13.130"), Decimal("NaN")):
        assert magic._key(got) is got


def general_find(index: magic.MagicIndex, operation: str, body: dict[str, object]) -> magic.MagicValue | None:
    """MagicIndex.find() as it was before its fast path: every value through _key()."""
    for field, keys in index._by_field.items():
        if field in body:
            for value in keys.get(magic._key(body[field]), ()):
                if value.applies(operation, body):
                    return value
    return None


def test_check_with_a_compiled_validator_raises_as_the_first_check() -> None:
    schemas = Schemas()
    name = "create-allocate-points.request"
    bad = {"companyId": 1}
    with pytest.raises(errors.SandboxError) as first:
        schemas.check(name, bad)  # compiles the validator
    with pytest.raises(errors.SandboxError) as again:
        schemas.check(name, bad)
    assert (type(again.value), again.value.message) == (type(first.value), first.value.message)
    assert schemas.problem(name, bad) == first.value.message
