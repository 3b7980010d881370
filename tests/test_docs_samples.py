"""EnKash's own sample requests (docs/enkash-api.md), sent byte for byte as the docs print them
against a fresh default sandbox; only the bearer token is substituted."""

from __future__ import annotations

import pytest
from conftest import DOCS_BASIC, PARTNER_PATH

SAMPLES = [
    # (path, partnerId, body as printed, envelope code key)
    ("/create-allocate-points", "CRMXWB3ZM",
     '{\n  "companyId": "CEK1PU9AOO",\n  "cardAccountId": "CAQL8YCV3",\n  "transactionCode": "ALLOCATION",\n'
     '  "transactionType": "CR",\n  "type": "ALLOCATE_POINT",\n  "email": "xyz2@gmail.com",\n  "mobile": "9600098867",\n'
     '  "title": "Mr",\n  "firstName": "hedfdfg",\n  "gender": "M",\n  "loadAmount": 11,\n  "uniqueReferenceNum": "TEST234236"\n}',
     "code"),
    ("/search", "CRMXWB3ZM", '{"cardAccountId": "CAQL8YCV3", "companyId": "CEK1PU9AOO"}', "code"),
    ("/search", "CRMXWB3ZM", '{"cardAccountId": "CAQL8YCV3", "companyId": "CEK1PU9AOO", "enKashCardId": "EKC9MKS5RM"}', "code"),
    ("/sso-token", "CRMXWB3ZM", '{"cardAccountId": "CAQL8YCV3", "companyId": "CEK1PU9AOO", "enkashCardId": "EKCDM5AVZY"}',
     "response_code"),
]


@pytest.mark.parametrize(("path", "partner", "body", "code_key"), SAMPLES)
def test_docs_sample_works_verbatim(http, path, partner, body, code_key):
    token = http.post(
        "/oauth/token",
        headers={"Authorization": DOCS_BASIC, "Content-Type": "application/x-www-form-urlencoded"},
        content="username=9167019711&password=Test@1234567&grant_type=password&clientId=CEK1GZBO6A",
    ).json()["access_token"]
    response = http.post(
        PARTNER_PATH + path, content=body,
        headers={"partnerId": partner, "Content-Type": "application/json", "authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()[code_key] == 0, response.text
