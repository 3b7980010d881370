"""The credential headers as EnKash's services read them: HTTP Basic on the token call, a bearer
token on the others. The adapter authenticates with these, the fault layer matches rules on them."""

from __future__ import annotations

import base64
import binascii

from sandbox.domain import errors


def header_dict(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """What dict(request.headers) gives (first value of a repeated name wins), without its
    per-key scans of the header list."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(raw)}


def bearer_value(header: str, missing: type[errors.SandboxError] = errors.Unauthorized) -> str:
    """`Bearer <token>`; the bulk page's sample sends the bare token, so that is accepted too."""
    value = header.strip()
    if not value:
        raise missing()
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() == "bearer":
        return rest.strip()
    if rest:
        raise errors.InvalidToken()
    return value


def basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise errors.InvalidClient("Client authentication (HTTP Basic) is required")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise errors.InvalidClient("Malformed HTTP Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise errors.InvalidClient("Malformed HTTP Basic credentials")
    return client_id, secret
