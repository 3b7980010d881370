"""Magic values in fixtures loaded at run time work at once, and go away with them."""

from __future__ import annotations

from conftest import new_user

MAGIC = """
magicValues:
  - {field: mobile, value: "9876599999", error: InsufficientBalance, description: "runtime magic"}
"""
BAD_MAGIC = """
magicValues:
  - {field: mobile, value: "9876599998", error: NoSuchFailure, description: "bad"}
"""


def test_loaded_magic_values_apply_at_once_and_are_forgotten_with_their_document(http, docs_partner):
    assert http.post("/__sandbox/fixtures", content=MAGIC, headers={"Content-Type": "application/yaml"}).status_code == 200
    refused = docs_partner.allocate(**new_user(mobile="9876599999"))
    assert refused.status_code == 200
    assert refused.json()["response_message"] == "Insufficient balance in card account"
    assert http.delete("/__sandbox/fixtures").status_code == 200
    from conftest import DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER, Partner

    partner = Partner(http, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)  # the reset dropped the token
    accepted = partner.allocate(**new_user(mobile="9876599999"))
    assert accepted.json()["code"] == 0


def test_a_bad_magic_value_rejects_the_whole_document(http, docs_partner):
    response = http.post("/__sandbox/fixtures", content=BAD_MAGIC, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 422
    assert response.json()["response_message"] == (
        "Fixtures rejected at magicValues[0]: error: business: no business failure named 'NoSuchFailure' "
        "(one of CardInactive, DuplicateOrderReference, DuplicateReference, DuplicateRequestId, InjectedBusinessFailure, InsufficientBalance, KycPending, ReferenceReused, RequestIdReused)")
    assert docs_partner.allocate(**new_user(mobile="9876599998")).json()["code"] == 0
