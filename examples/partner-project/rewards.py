"""A partner's own code under test: gives a card holder a bonus and retries once on a 5xx."""

from __future__ import annotations

from decimal import Decimal

import httpx

PARTNER_PATH = "/api/v0/partner/enKashCard"


def give_bonus(http: httpx.Client, token: str, partner_id: str, card_id: str, points: Decimal, reference: str) -> dict:
    """Top up a card; the same reference on the retry makes the retry safe (no double credit)."""
    body = {
        "companyId": "CEK1PU9AOO", "cardAccountId": "CAQL8YCV3", "enkashCardId": card_id,
        "transactionCode": "ALLOCATION", "transactionType": "CR", "type": "ALLOCATE_POINT",
        "loadAmount": float(points), "uniqueReferenceNumber": reference,
    }
    headers = {"Authorization": f"Bearer {token}", "partnerId": partner_id}
    for _attempt in range(2):
        response = http.post(PARTNER_PATH + "/create-allocate-points", json=body, headers=headers)
        if response.status_code < 500:
            break
    response.raise_for_status()
    return response.json()
