"""Setting the stage through the sandbox's own HTTP API (untimed): a token, funds, a fixed set
of cards. Uses the default fixtures' docs partner (fixtures/default.yaml)."""

from __future__ import annotations

from typing import Any

import httpx

PARTNER = "CRMXWB3ZM"
COMPANY = "CEK1PU9AOO"
ACCOUNT = "CAQL8YCV3"
CARD = "EKCDM5AVZY"  # a fixture card: its history is the same in every store
BASIC = ("CEK1GZBO6A", "64b0ff0332f058b56402b63a9baa60214f2d61d3")
LOGIN = {"username": "9167019711", "password": "Test@1234567", "grant_type": "password", "clientId": "CEK1GZBO6A"}
COIN_COMPANY, COIN_USER, COIN_EVENT = "CEK0TCW2W8", "EKQZVMQK", "REFERRAL_EVENT"
PATH = "/api/v0/partner/enKashCard"


class Partner:
    def __init__(self, port: int) -> None:
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
        self.token = ""
        self.holders = 0  # card holders created so far: each gets a mobile of its own, rounds share a sandbox
        self.login()

    def login(self) -> None:
        """A token for the docs partner (again after a reset, which forgets tokens)."""
        answer = self.http.post("/oauth/token", auth=BASIC, data=LOGIN)
        answer.raise_for_status()
        self.token = answer.json()["access_token"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "partnerId": PARTNER, "Content-Type": "application/json"}

    def post(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        answer = self.http.post(path, json=body, headers=self.headers, **kwargs)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:500]}")
        return answer

    def fund(self, amount: int = 10**9) -> None:
        self.post(f"/__sandbox/accounts/{ACCOUNT}/load", {"amount": amount})

    def new_cards(self, count: int, tag: str) -> list[str]:
        cards = []
        for n in range(count):
            body = top_up_body("", f"{tag}-new-{n}") | {
                "cardAccountId": ACCOUNT, "email": f"bench{n}.{tag.lower()}@example.com",
                "mobile": f"7{self.holders:09d}", "title": "Mr", "firstName": "Bench", "gender": "M",
            }
            self.holders += 1
            body.pop("enkashCardId")
            cards.append(self.post(PATH + "/create-allocate-points", body).json()["payload"]["enKashCardId"])
        return cards

    def reset(self) -> None:
        self.http.post("/__sandbox/reset").raise_for_status()

    def summary(self) -> dict[str, int]:
        return self.http.get("/__sandbox/health").json()["state"]  # type: ignore[no-any-return]

    def close(self) -> None:
        self.http.close()


def top_up_body(card: str, reference: str) -> dict[str, Any]:
    return {
        "companyId": COMPANY, "enkashCardId": card, "transactionCode": "ALLOCATION",
        "transactionType": "CR", "type": "ALLOCATE_POINT", "loadAmount": 1, "uniqueReferenceNumber": reference,
    }


def bulk_rows(count: int, tag: str) -> list[dict[str, Any]]:
    return [
        {"title": "Ms", "name": "Bulk", "email": f"b{n}.{tag.lower()}@example.com", "mobile": f"8{n:09d}",
         "loadAmount": 1, "uniqueReferenceNumber": f"{tag}-bulk-{n}"}
        for n in range(count)
    ]
