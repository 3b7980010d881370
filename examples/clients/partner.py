"""One partner journey against the sandbox from python-requests or httpx, each with its default
settings: the token, a credit to a new holder, its retry, the card's balance, a reused reference
and a request missing a field. Prints one JSON line per call: {"step", "status", "body"}.

    python partner.py requests [BASE_URL] [LABEL] [MOBILE]
    python partner.py httpx    [BASE_URL] [LABEL] [MOBILE]
"""

from __future__ import annotations

import json
import sys

CLIENT_ID, CLIENT_SECRET = "CEK1GZBO6A", "64b0ff0332f058b56402b63a9baa60214f2d61d3"
LOGIN = {"username": "9167019711", "password": "Test@1234567", "grant_type": "password", "clientId": CLIENT_ID}
PARTNER_ID, COMPANY, ACCOUNT = "CRMXWB3ZM", "CEK1PU9AOO", "CAQL8YCV3"


def main(client_name: str, base: str, label: str, mobile: str) -> None:
    if client_name == "requests":
        import requests

        session = requests.Session()
    else:
        import httpx

        session = httpx.Client()  # type: ignore[assignment]

    def show(step: str, response) -> dict:  # type: ignore[no-untyped-def]
        body = response.json()
        print(json.dumps({"step": step, "status": response.status_code, "body": body}), flush=True)
        return body  # type: ignore[no-any-return]

    token = show("token", session.post(f"{base}/oauth/token", auth=(CLIENT_ID, CLIENT_SECRET), data=LOGIN))
    headers = {"partnerId": PARTNER_ID, "Authorization": f"Bearer {token['access_token']}"}
    api = f"{base}/api/v0/partner/enKashCard"
    credit = {
        "companyId": COMPANY, "cardAccountId": ACCOUNT, "transactionCode": "ALLOCATION", "transactionType": "CR",
        "type": "ALLOCATE_POINT", "email": f"{label}@clients.example.com", "mobile": mobile, "title": "Ms",
        "firstName": "Partner", "gender": "F", "loadAmount": 12.5, "uniqueReferenceNumber": f"CLIENTS-{label}-1",
    }
    card = show("credit", session.post(f"{api}/create-allocate-points", json=credit, headers=headers))["payload"]
    show("retry", session.post(f"{api}/create-allocate-points", json=credit, headers=headers))
    lookup = {"companyId": COMPANY, "cardAccountId": ACCOUNT, "enKashCardId": card["enKashCardId"]}
    show("balance", session.post(f"{api}/search", json=lookup, headers=headers))
    show("duplicate", session.post(f"{api}/create-allocate-points", json={**credit, "loadAmount": 5}, headers=headers))
    missing = {key: value for key, value in credit.items() if key != "transactionType"}
    show("missing", session.post(f"{api}/create-allocate-points", json=missing, headers=headers))


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("requests", "httpx"):
        sys.exit(__doc__)
    mobile = {"requests": "9400000000", "httpx": "9400000001"}[sys.argv[1]]
    given, defaults = sys.argv[2:5], ["http://127.0.0.1:8080", sys.argv[1], mobile]
    main(sys.argv[1], *(given + defaults[len(given):]))
