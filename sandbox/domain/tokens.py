"""Client credentials, access tokens and lockout (REFERENCE.md §3).

A token call checks the Basic client, then the user's password; consecutive failures lock the
user. A still-valid token is handed out again, as Spring Security OAuth's token services do.
"""

from __future__ import annotations

from typing import NamedTuple

from datetime import timedelta

from sandbox.state.store import AccessToken, Store
from sandbox.domain import errors


class TokenPolicy(NamedTuple):
    ttl_seconds: int = 86399
    reuse: bool = True
    lockout_attempts: int = 3
    lockout_seconds: int = 0


def issue_token(
    store: Store,
    policy: TokenPolicy,
    basic_client_id: str,
    basic_secret: str,
    form: dict[str, str],
) -> tuple[AccessToken, int]:
    """Returns the token and its remaining lifetime in whole seconds."""
    client = store.clients.get(basic_client_id)
    if client is None or client.client_secret != basic_secret:
        raise errors.InvalidClient()
    if form["grant_type"] != "password":
        raise errors.UnsupportedGrant(grant=form["grant_type"])
    if form["clientId"] != basic_client_id:
        raise errors.InvalidClient("clientId does not match the client credentials")

    now = store.now()
    login = store.logins.get((client.client_id, form["username"]))
    if login is not None and login.locked_at is not None:
        expired = policy.lockout_seconds and now >= login.locked_at + timedelta(seconds=policy.lockout_seconds)
        if not expired:
            raise errors.UserLocked()
        login.locked_at, login.failures = None, 0
    if login is None or login.password != form["password"]:
        if login is not None:
            login.failures += 1
            if login.failures >= policy.lockout_attempts:
                login.locked_at = now
                raise errors.UserLocked()
        raise errors.InvalidGrant()
    login.failures = 0

    existing = store.token_of_login(client.client_id, login.username)
    if existing is not None and policy.reuse and existing.expires_at > now:
        return existing, _remaining(existing, now)
    if existing is not None:
        store.forget_token(existing.value)
    token = AccessToken(
        store.new_id("access_token"),
        store.new_id("access_token"),
        client.client_id,
        login.username,
        client.partner_id,
        now,
        now + timedelta(seconds=policy.ttl_seconds),
    )
    store.add_token(token)
    return token, policy.ttl_seconds


def _remaining(token: AccessToken, now) -> int:  # type: ignore[no-untyped-def]
    return max(0, int((token.expires_at - now).total_seconds()))


def authenticate(store: Store, value: str) -> AccessToken:
    """The token behind a bearer value, or the documented 401."""
    token = store.tokens.get(value)
    if token is None:
        raise errors.InvalidToken()
    if token.expires_at <= store.now():
        raise errors.TokenExpired()
    return token
