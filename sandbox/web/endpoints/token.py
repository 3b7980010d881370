"""POST /oauth/token and sso-token (https://docs.enkash.com/api-9796904, https://docs.enkash.com/api-9796903)."""

from __future__ import annotations

from typing import Any

from sandbox.contract import envelope
from sandbox.domain import rewards, tokens
from sandbox.web.adapter import Call
from sandbox.contract.envelope import Reply
from sandbox.web.endpoints.fields import first


def oauth_token(call: Call) -> Reply:
    assert call.basic is not None
    token, expires_in = tokens.issue_token(call.store, call.state.token_policy, *call.basic, form=call.body)
    return Reply(
        {
            "access_token": token.value,
            "token_type": "bearer",
            "refresh_token": token.refresh_token,
            "expires_in": expires_in,
            "scope": "read write trust",
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def sso_token(call: Call) -> Reply:
    body: dict[str, Any] = call.body
    card_id = first(body, "enkashCardId", "enKashCardId")
    grant = rewards.sso_grant(call.store, call.partner_id, body["companyId"], body["cardAccountId"], card_id,
                              lifetime=call.state.token_policy.ttl_seconds)  # what the marketplace accepts it for
    partner = call.store.partners[call.partner_id]
    url = f"{call.settings.sso_base_url}/sso/{grant.token}/{grant.landing}/{partner.sso_name}"
    return Reply(envelope.success("B", grant.token), headers={"X-Sandbox-Sso-Redirect-Url": url})
