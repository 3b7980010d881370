"""A top-up's payload prints the card's balance as the posting holds it (an int when whole):
the reply's bytes are those of the Decimal balance, whatever its size or fraction."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from sandbox.contract import envelope, jsonio
from sandbox.domain.rewards import Allocated
from sandbox.state.ledger import Ledger
from sandbox.state.store import Card, User
from sandbox.web.endpoints.rewards import allocation_payload

CARD = Card("EKC1234567", "EK123456", "CA1234567", "0123456789abcdef0123", "XXXX XXXX XXXX 0001")
USER = User("EK123456", "CEK1234567", "a.b@example.com", "9000000001", "Ms", "Åsa \u2028 \"q\" \\ \x1f", "F")
AT = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("load", ["1", "0.5", "25.25", "9223372036854775807", "9223372036854775808", "18446744073709551616", "1" + "0" * 40])
def test_the_payload_prints_the_decimal_balance_byte_for_byte(load: str) -> None:
    ledger = Ledger()
    for account in ("world", CARD.card_account_id, CARD.card_id):
        ledger.open(account, "POINT", floored=account != "world")
    amount = Decimal(load)
    ledger.post("ECT0", "LOAD", "POINT", AT, [("world", -amount), (CARD.card_account_id, amount)])
    posting = ledger.post("ECT1", "ALLOCATE_POINT", "POINT", AT, [(CARD.card_account_id, -amount), (CARD.card_id, amount)],
                          scope="CRM1", reference="R-1", fingerprint="ab" * 12)
    result = Allocated(CARD, USER, posting)
    payload = allocation_payload(result)
    assert payload["otbBalance"] == result.card_balance
    as_decimal = payload | {"otbBalance": result.card_balance}
    for variant in ("A", "B"):
        assert jsonio.dumps(envelope.success(variant, payload)) == jsonio.dumps(envelope.success(variant, as_decimal))
