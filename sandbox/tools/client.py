"""SandboxClient: a small httpx client for tests that drive a sandbox (or EnKash's UAT).

It gets a token, calls the partner APIs with the right headers, and drives the sandbox's own
API (reset, clock, faults, funding). It keeps a log of every request as a curl command line, so a
failing test can print the exact sequence that reproduces it.
"""

from __future__ import annotations

import base64
import shlex
from decimal import Decimal
from typing import Any, Mapping

import httpx

from sandbox.contract import jsonio

PARTNER_PATH = "/api/v0/partner/enKashCard"


class SandboxClient:
    def __init__(self, base_url: str, *, admin_token: str = "", timeout: float = 30.0,
                 http: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.admin_token = admin_token
        self.http = http or httpx.Client(base_url=self.base_url, timeout=timeout)
        self.access_token = ""
        self.partner_id = ""
        self.log: list[str] = []

    # --- plumbing --------------------------------------------------------------------------
    def request(self, method: str, path: str, *, json_body: Any = None, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, data: Mapping[str, str] | None = None) -> httpx.Response:
        """Any request; logged as a curl line. Decimal amounts are sent as exact JSON numbers."""
        sent = dict(headers or {})
        content: bytes | None = None
        if json_body is not None:
            content = jsonio.dumps(json_body)  # Decimal-exact, the encoder the sandbox answers with
            sent.setdefault("Content-Type", "application/json")
        response = self.http.request(method, path, content=content, params=params, headers=sent, data=data)
        self.log.append(_curl(response.request, response.status_code))
        return response

    def replay_script(self, last: int | None = None) -> str:
        """The logged requests (or the last few) as a bash script that replays them in order."""
        lines = self.log if last is None else self.log[-last:]
        return "\n".join(["#!/usr/bin/env bash", "# each line: the request, then '# -> <status>'", *lines])

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "SandboxClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- EnKash's APIs ---------------------------------------------------------------------
    def login(self, client_id: str, client_secret: str, username: str, password: str, partner_id: str = "") -> str:
        """POST /oauth/token (password grant); later calls send the token and partnerId."""
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        form = {"username": username, "password": password, "grant_type": "password", "clientId": client_id}
        response = self.request("POST", "/oauth/token", data=form, headers={"Authorization": "Basic " + basic})
        if response.status_code != 200:
            raise AssertionError(f"token call failed: {response.status_code} {response.text}")
        self.access_token = response.json()["access_token"]
        self.partner_id = partner_id
        return self.access_token

    def api_headers(self) -> dict[str, str]:
        headers = {"Authorization": "Bearer " + self.access_token} if self.access_token else {}
        if self.partner_id:
            headers["partnerId"] = self.partner_id
        return headers

    def post(self, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """POST to an API path; a path without a leading slash is under /api/v0/partner/enKashCard/."""
        return self.request("POST", _api_path(path), json_body=body, params=params, headers=self.api_headers())

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        return self.request("GET", _api_path(path), params=params, headers=self.api_headers())

    # --- the sandbox's own API (/__sandbox/) -------------------------------------------------
    def admin(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """Call /__sandbox/<path>; raises on anything but 2xx, returns the JSON answer."""
        headers = {"Authorization": "Bearer " + self.admin_token} if self.admin_token else {}
        response = self.request(method, "/__sandbox/" + path.lstrip("/"), json_body=body, params=params, headers=headers)
        if not 200 <= response.status_code < 300:
            raise AssertionError(f"{method} /__sandbox/{path}: {response.status_code} {response.text}")
        return response.json()

    def is_sandbox(self) -> bool:
        """True when the base URL is an enkash-sandbox (its health check answers), not EnKash itself."""
        try:
            response = self.http.get("/__sandbox/health")
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and response.headers.get("content-type", "").startswith("application/json") \
            and response.json().get("status") == "ok"

    def reset(self, seed: int | None = None) -> dict[str, Any]:
        """Back to the loaded fixtures (and, with a seed, reseed ids and random choices)."""
        self.access_token = ""
        return self.admin("POST", "reset", params=None if seed is None else {"seed": seed})  # type: ignore[no-any-return]

    def advance_clock(self, duration: str | int) -> dict[str, Any]:
        """Move the sandbox clock forward: "30d", "1d12h", or seconds."""
        return self.admin("POST", "clock", {"advance": duration})  # type: ignore[no-any-return]

    def set_clock(self, now: str | None = None, frozen: bool | None = None) -> dict[str, Any]:
        body = {k: v for k, v in (("now", now), ("frozen", frozen)) if v is not None}
        return self.admin("POST", "clock", body)  # type: ignore[no-any-return]

    def clock(self) -> dict[str, Any]:
        return self.admin("GET", "clock")  # type: ignore[no-any-return]

    def arm_fault(self, rule: Mapping[str, Any] | str, **match: Any) -> dict[str, Any]:
        """Arm a fault rule: `arm_fault("status=503", endpoint="create-allocate-points", times=1)`."""
        body = {"fault": rule, **match} if isinstance(rule, str) else dict(rule, **match)
        return self.admin("POST", "faults", body)  # type: ignore[no-any-return]

    def clear_faults(self) -> Any:
        return self.admin("DELETE", "faults")

    def load_account(self, card_account_id: str, amount: Decimal | int | str) -> dict[str, Any]:
        """Fund a card account (what a partner does by bank transfer at EnKash)."""
        return self.admin("POST", f"accounts/{card_account_id}/load", {"amount": Decimal(str(amount))})  # type: ignore[no-any-return]

    def redeem(self, card_id: str, amount: Decimal | int | str) -> Any:
        """A card holder spends points in the reward store."""
        return self.admin("POST", f"cards/{card_id}/redeem", {"amount": Decimal(str(amount))})


def _api_path(path: str) -> str:
    return path if path.startswith("/") else f"{PARTNER_PATH}/{path}"


def _curl(request: httpx.Request, status: int) -> str:
    parts = ["curl", "-sS", "-X", request.method]
    for name, value in request.headers.items():
        if name.lower() in ("host", "content-length", "accept-encoding", "connection", "user-agent", "accept"):
            continue
        parts += ["-H", f"{name}: {value}"]
    body = request.content
    if body:
        parts += ["--data-binary", body.decode("utf-8", "replace")]
    parts.append(str(request.url))
    return " ".join(shlex.quote(p) for p in parts) + f"  # -> {status}"


__all__ = ["PARTNER_PATH", "SandboxClient"]
