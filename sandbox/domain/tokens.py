"""Client credentials, access tokens and lockout (EnKash's token API, https://docs.enkash.com/api-9796904).

A token call checks the Basic client, then the user's password; consecutive failures lock the
user. A still-valid token is handed out again, and a refresh token buys a new access token, as
Spring Security OAuth's token services do. A login bound to a card holder (fixtures' `ekUserId`)
gives that user's token (RED-1, User Authentication); on the marketplace an SSO token is its card
holder's token too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from datetime import datetime, timedelta

from sandbox.state.store import AccessToken, Store
from sandbox.domain import errors

if TYPE_CHECKING:
    from sandbox.settings import Settings


class TokenPolicy(NamedTuple):
    ttl_seconds: int = 86399
    reuse: bool = True
    lockout_attempts: int = 3
    lockout_seconds: int = 0
    lock_on_last: bool = False  # True: the failure that locks answers "locked"; Spring: the next attempt does
    refresh_grant: bool = True
    refresh_ttl_seconds: int = 2592000

    @classmethod
    def of(cls, settings: "Settings") -> "TokenPolicy":
        return cls(
            settings.token_ttl, settings.token_reuse, settings.lockout_attempts, settings.lockout_seconds,
            settings.lockout_answer == "last", settings.refresh_grant, settings.refresh_token_ttl,
        )


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
    if form["grant_type"] == "refresh_token" and policy.refresh_grant:
        return _refresh(store, policy, client.client_id, form)
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
                # Spring publishes the failure, a listener locks the user, and the *next* attempt's
                # pre-authentication check answers LockedException; the locking one says Bad credentials
                login.locked_at = now
                if policy.lock_on_last:
                    raise errors.UserLocked()
        raise errors.InvalidGrant()
    login.failures = 0

    existing = store.token_of_login(client.client_id, login.username)
    if existing is not None and policy.reuse and existing.expires_at > now:
        return existing, _remaining(existing, now)
    return _new_token(store, policy, client.client_id, login.username, client.partner_id, now, login.user_id, login.card_id), policy.ttl_seconds


def _new_token(
    store: Store, policy: TokenPolicy, client_id: str, username: str, partner_id: str, now: datetime,
    user_id: str = "", card_id: str = "",
) -> AccessToken:
    existing = store.token_of_login(client_id, username)
    if existing is not None:
        store.forget_token(existing.value)
    token = AccessToken(
        store.new_id("access_token"),
        store.new_id("access_token"),
        client_id,
        username,
        partner_id,
        now,
        now + timedelta(seconds=policy.ttl_seconds),
        user_id,
        card_id,
    )
    store.add_token(token)
    return token


def _refresh(store: Store, policy: TokenPolicy, client_id: str, form: dict[str, str]) -> tuple[AccessToken, int]:
    """grant_type=refresh_token (Spring's DefaultTokenServices): a new access token and a new
    refresh token; the old pair stops working. A refresh token lives refresh_ttl_seconds from issue."""
    value = form["refresh_token"]
    if form.get("clientId") not in (None, client_id):
        raise errors.InvalidClient("clientId does not match the client credentials")
    old = next((t for t in store.tokens.values() if t.refresh_token == value), None)
    if old is None or old.client_id != client_id:
        raise errors.InvalidRefreshToken(value=value)
    now = store.now()
    if old.issued_at + timedelta(seconds=policy.refresh_ttl_seconds) <= now:
        store.forget_token(old.value)
        raise errors.RefreshTokenExpired(value=value)
    return _new_token(store, policy, client_id, old.username, old.partner_id, now, old.user_id, old.card_id), policy.ttl_seconds


def expire(store: Store, value: str) -> None:
    """The bearer token `value` expires now (a fault standing for a real expiry): the next call
    with it gets the 401, and a token or refresh call mints a new one, as after a real expiry."""
    token = store.tokens.get(value)
    if token is not None and token.expires_at > store.now():
        token.expires_at = store.now()


def _remaining(token: AccessToken, now) -> int:  # type: ignore[no-untyped-def]
    return max(0, int((token.expires_at - now).total_seconds()))


def authenticate(store: Store, value: str, holder_ok: bool = False, sso_ttl: int | None = None) -> AccessToken:
    """The token behind a bearer value, or the documented 401. A card holder's token is refused
    (403) unless `holder_ok`; with `sso_ttl` an SSO token is accepted as its holder's token for
    that many seconds after it was issued (the marketplace routes)."""
    token = store.tokens.get(value)
    if token is None and sso_ttl is not None:
        token = _sso_token(store, value, sso_ttl)
    if token is None:
        raise errors.InvalidToken()
    if store.clock.passed(token.expires_at):
        raise errors.TokenExpired()
    if token.user_id and not holder_ok:
        raise errors.HolderTokenRefused()
    return token


def _sso_token(store: Store, value: str, ttl: int) -> AccessToken | None:
    grant = store.sso_grants.get(value)
    account = store.accounts.get(grant.card_account_id) if grant is not None else None
    if grant is None or account is None:
        return None
    partner_id = store.companies[account.company_id].partner_id
    expires = grant.issued_at + timedelta(seconds=ttl)
    return AccessToken(value, "", "", "", partner_id, grant.issued_at, expires, grant.user_id, grant.card_id)
