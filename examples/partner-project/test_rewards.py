"""How a partner tests its integration against the sandbox with the enkash-sandbox pytest plugin."""

from decimal import Decimal

from rewards import give_bonus

DOCS_CLIENT = ("CEK1GZBO6A", "64b0ff0332f058b56402b63a9baa60214f2d61d3", "9167019711", "Test@1234567", "CRMXWB3ZM")
ASHA = "EKCDM5AVZY"  # a card in the default fixtures, with 500 points


def test_bonus_reaches_the_card(enkash_client):
    token = enkash_client.login(*DOCS_CLIENT)
    answer = give_bonus(enkash_client.http, token, "CRMXWB3ZM", ASHA, Decimal("25.50"), "BONUS-1")
    assert answer["code"] == 0
    assert answer["payload"]["otbBalance"] == 525.5


def test_retry_after_a_503_credits_once(enkash_client):
    token = enkash_client.login(*DOCS_CLIENT)
    enkash_client.arm_fault("status=503", endpoint="create-allocate-points", times=1)
    answer = give_bonus(enkash_client.http, token, "CRMXWB3ZM", ASHA, Decimal("10"), "BONUS-2")
    assert answer["payload"]["otbBalance"] == 510  # the first try failed, the retry credited once


def test_each_test_starts_from_the_fixtures(enkash_client):
    token = enkash_client.login(*DOCS_CLIENT)
    answer = give_bonus(enkash_client.http, token, "CRMXWB3ZM", ASHA, Decimal("1"), "BONUS-1")
    assert answer["payload"]["otbBalance"] == 501  # BONUS-1 of the first test is forgotten


def test_tokens_expire_on_the_sandbox_clock(enkash_client):
    token = enkash_client.login(*DOCS_CLIENT)
    enkash_client.advance_clock("2d")
    expired = enkash_client.http.post(
        "/api/v0/partner/enKashCard/cardAccount/get",
        json={"companyId": "CEK1PU9AOO", "cardAccountId": "CAQL8YCV3"},
        headers={"Authorization": f"Bearer {token}", "partnerId": "CRMXWB3ZM"},
    )
    assert expired.status_code == 401
