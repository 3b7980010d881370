"""Seeded generators for EnKash's id formats (docs/enkash-api.md#ids).

Ids come from their own random stream, so arming a fault never shifts the ids a run produces.
"""

from __future__ import annotations

import random
import string
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
}


class IdFactory:
    def __init__(self, seed: int) -> None:
        self._random = random.Random(f"ids:{seed}")

    def new(self, kind: str, taken: Callable[[str], bool] = lambda _: False) -> str:
        prefix, alphabet, length = FORMATS[kind]
        choices = self._random.choices
        while True:
            candidate = prefix + "".join(choices(alphabet, k=length))
            if not taken(candidate):
                return candidate

    def state(self) -> object:
        return self._random.getstate()

    def restore(self, state: object) -> None:
        self._random.setstate(state)  # type: ignore[arg-type]
