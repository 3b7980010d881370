"""One real sandbox server per test session, reset over HTTP before every test."""

from __future__ import annotations

import base64
from typing import Any, Iterator

import httpx
import pytest
import simplejson

from sandbox.settings import Settings
from sandbox.tools.testing import ServerThread

DOCS_PARTNER = "CRMXWB3ZM"
DOCS_COMPANY = "CEK1PU9AOO"
DOCS_ACCOUNT = "CAQL8YCV3"
DOCS_BASIC = "Basic Q0VLMUdaQk82QTo2NGIwZmYwMzMyZjA1OGI1NjQwMmI2M2E5YmFhNjAyMTRmMmQ2MWQz"
DOCS_LOGIN = {"username": "9167019711", "password": "Test@1234567", "grant_type": "password", "clientId": "CEK1GZBO6A"}
OTHER_PARTNER = "CRMTTTMUF"
OTHER_COMPANY = "CEKBVCGMR1"
OTHER_ACCOUNT = "CA1ZS96"
OTHER_BASIC = "Basic " + base64.b64encode(b"CEK7Q2B9XD:3f9a1c5e7b2d4f6a8c0e1b3d5f7a9c1e3b5d7f9a").decode()
OTHER_LOGIN = {"username": "9876543210", "password": "Demo@1234567", "grant_type": "password", "clientId": "CEK7Q2B9XD"}
PARTNER_PATH = "/api/v0/partner/enKashCard"


@pytest.fixture(scope="session")
def server() -> Iterator[ServerThread]:
    with ServerThread(Settings(validate_responses=True, seed=7)) as running:
        yield running


@pytest.fixture()
def http(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        reset = client.post("/__sandbox/reset", params={"seed": 7})
        assert reset.status_code == 200, reset.text
        yield client


class Partner:
    """A logged-in partner: posts JSON to partner paths with its bearer token and partnerId."""

    def __init__(self, http: httpx.Client, basic: str, login: dict[str, str], partner_id: str) -> None:
        self.http = http
        self.partner_id = partner_id
        response = http.post("/oauth/token", headers={"Authorization": basic}, data=login)
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "partnerId": self.partner_id}

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        url = path if path.startswith(("/api", "/__")) else PARTNER_PATH + path
        headers = {**self.headers, "Content-Type": "application/json", **kwargs.pop("headers", {})}
        # simplejson writes Decimal as an exact JSON number, so tests can send 1.005 precisely
        return self.http.post(url, content=simplejson.dumps(body, use_decimal=True), headers=headers, **kwargs)

    def allocate(self, **fields: Any) -> httpx.Response:
        body = {
            "companyId": DOCS_COMPANY, "cardAccountId": DOCS_ACCOUNT, "transactionCode": "ALLOCATION",
            "transactionType": "CR", "type": "ALLOCATE_POINT", **fields,
        }
        return self.post("/create-allocate-points", {k: v for k, v in body.items() if v is not None})

    def account(self, company: str = DOCS_COMPANY, account: str = DOCS_ACCOUNT) -> dict[str, Any]:
        response = self.post("/cardAccount/get", {"companyId": company, "cardAccountId": account})
        assert response.status_code == 200, response.text
        return response.json()["payload"]  # type: ignore[no-any-return]

    def card(self, card_id: str, company: str = DOCS_COMPANY, account: str = DOCS_ACCOUNT) -> dict[str, Any]:
        response = self.post("/search", {"companyId": company, "cardAccountId": account, "enKashCardId": card_id})
        assert response.status_code == 200, response.text
        return response.json()["payload"]["data"][0]  # type: ignore[no-any-return]


@pytest.fixture()
def docs_partner(http: httpx.Client) -> Partner:
    return Partner(http, DOCS_BASIC, DOCS_LOGIN, DOCS_PARTNER)


@pytest.fixture()
def other_partner(http: httpx.Client) -> Partner:
    return Partner(http, OTHER_BASIC, OTHER_LOGIN, OTHER_PARTNER)


def new_user(**overrides: Any) -> dict[str, Any]:
    fields = {
        "email": "new.person@example.com", "mobile": "9000000001", "title": "Ms", "firstName": "Nisha",
        "gender": "F", "loadAmount": 100, "uniqueReferenceNumber": "REF-NEW-1",
    }
    fields.update(overrides)
    return fields
