"""The credential headers as EnKash's services read them: HTTP Basic on the token call, a bearer
token on the others. The adapter authenticates with these, the fault layer matches rules on them."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Iterator, Mapping

from sandbox.domain import errors


class Headers(Mapping[str, str]):
    """A request's headers by name, as dict(request.headers) gives them (the first value of a
    repeated name wins), decoded only when read: a top-up reads three of the seven a client
    sends, and decoding them all was 5 % of its cost. Names are the server's lowercase bytes."""

    __slots__ = ("_raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = dict(reversed(raw))

    def get(self, name: str, default: Any = None) -> Any:
        return self.value(name.encode("latin-1"), default)

    def value(self, name: bytes, default: Any = None) -> Any:
        """get() by the name as the server's bytes, a constant of the caller's: the adapter's
        reads on every request, without encoding the name and hashing the new bytes each time."""
        value = self._raw.get(name)
        return default if value is None else value.decode("latin-1")

    def __getitem__(self, name: str) -> str:
        value = self._raw.get(name.encode("latin-1"))
        if value is None:
            raise KeyError(name)
        return value.decode("latin-1")

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.encode("latin-1") in self._raw

    def __iter__(self) -> Iterator[str]:
        return (name.decode("latin-1") for name in self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def bearer_value(header: str, missing: type[errors.SandboxError] = errors.Unauthorized) -> str:
    """`Bearer <token>`; the bulk page's sample sends the bare token, so that is accepted too."""
    if header.startswith("Bearer "):  # the usual form: what parse_bearer makes of it
        token = header[7:].strip()
        if token:
            return token
    return parse_bearer(header, missing)


def parse_bearer(header: str, missing: type[errors.SandboxError] = errors.Unauthorized) -> str:
    """bearer_value() of any header: the scheme in any case, surrounding space, a bare token."""
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
