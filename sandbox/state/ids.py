"""Seeded generators for EnKash's id formats (docs/enkash-api.md#ids).

Ids come from their own random stream, so arming a fault never shifts the ids a run produces.
"""

from __future__ import annotations

import random
import string
from functools import partial
from typing import Callable

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_TOKEN_CHARS = string.ascii_letters + string.digits + "-_"
_SSO_CHARS = string.ascii_letters + string.digits

# kind -> (prefix, alphabet, length of the random part)
FORMATS: dict[str, tuple[str, str, int]] = {
    "company": ("CEK", _UPPER_ALNUM, 7),
    "card_account": ("CA", _UPPER_ALNUM, 7),
    "card": ("EKC", _UPPER_ALNUM, 7),
    "user": ("EK", _UPPER_ALNUM, 6),
    "partner": ("CRM", _UPPER_ALNUM, 6),
    "card_txn": ("ECT", _UPPER_ALNUM, 10),
    "card_token": ("", "0123456789abcdef", 20),
    "coin_config": ("WCC", string.digits, 6),
    "access_token": ("", _TOKEN_CHARS, 27),
    "sso_token": ("", _SSO_CHARS, 26),
    # redemption (marketplace): the order id as the docs print it (OR631764TS4UC); voucher codes
    # and PINs are the sandbox's own (their format is not captured)
    "order": ("OR", _UPPER_ALNUM, 11),
    "voucher_code": ("", _UPPER_ALNUM, 16),
    "voucher_pin": ("", string.digits, 6),
}


def _form(prefix: str, alphabet: str, length: int) -> tuple[str, int, int, bytes, bytes]:
    """How one kind's random part is drawn (_drawn's arguments): random bytes, each kept when
    below the largest multiple of the alphabet's size (so every character is equally likely) and
    mapped to a character by one `bytes.translate`. A few C calls per id, where `choices()` made
    a Python call to `random()` per character (a card transaction id: about 21,700 instructions
    against ~5,000; docs/performance.md, fifth pass)."""
    size = len(alphabet)
    kept = 256 - 256 % size  # bytes at or above this one are drawn again
    bits = 8 * (length + 4)  # a few bytes spare: nearly every id takes one draw
    table = bytes(ord(alphabet[b % size]) if b < kept else 0 for b in range(256))
    return prefix, length, bits, table, bytes(range(kept, 256))


DRAWS = {kind: _form(*form) for kind, form in FORMATS.items()}


def _drawn(
    getrandbits: Callable[[int], int], prefix: str, length: int, bits: int, table: bytes, rejected: bytes,
    taken: Callable[[str], bool] | None,
) -> str:
    """One id drawn as _form says, again while `taken` says it is."""
    while True:
        chosen = getrandbits(bits).to_bytes(bits >> 3, "little").translate(table, rejected)
        while len(chosen) < length:
            chosen += getrandbits(bits).to_bytes(bits >> 3, "little").translate(table, rejected)
        candidate = prefix + chosen[:length].decode("ascii")
        if taken is None or not taken(candidate):
            return candidate


class IdFactory:
    def __init__(self, seed: int) -> None:
        self._random = random.Random(f"ids:{seed}")

    def new(self, kind: str, taken: Callable[[str], bool] | None = None) -> str:
        """A new id of `kind`; drawn again while `taken` says it is (None: ids whose kind has no
        records to collide with, such as a posting's, which are never looked up before use)."""
        return _drawn(self._random.getrandbits, *DRAWS[kind], taken)

    def drawer(self, kind: str, taken: Callable[[str], bool] | None = None) -> Callable[[], str]:
        """new(kind, taken) as a call of no arguments, what it reads bound once: cheaper when many
        are drawn (a bulk upload's four a new holder). The one stream, so ids come in the order
        they are asked for, whichever way."""
        return partial(_drawn, self._random.getrandbits, *DRAWS[kind], taken)

    def state(self) -> object:
        return self._random.getstate()

    def restore(self, state: object) -> None:
        self._random.setstate(state)  # type: ignore[arg-type]
