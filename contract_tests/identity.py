"""One run's identity: a run id made of the time and randomness (printed, settable with
CONTRACT_RUN_ID / --contract-run-id), from which every identifier the suite sends is derived:
references, mobiles, e-mails, names, coin requestIds and events, order references. Two runs never
send the same identifier to a target, so the suite can run against the same target any number of
times without a reset; mobiles are also checked against the holders the target already has (read
once per run) and against the magic values.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import secrets
import time
from typing import Iterable

from .magic import MagicTable

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9]{4,24}$")
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32: no I, L, O, U


def new_run_id(now: float | None = None) -> str:
    """`CT` + seconds since 2024 in base 32 (7 characters) + 4 random characters, e.g. CT1B2C3D4QX7A."""
    seconds = int((time.time() if now is None else now) - 1_704_067_200)
    stamp = ""
    for _ in range(7):
        seconds, digit = divmod(seconds, 32)
        stamp = _ALPHABET[digit] + stamp
    return "CT" + stamp + "".join(secrets.choice(_ALPHABET) for _ in range(4))


def run_id_from_env() -> str:
    given = os.environ.get("CONTRACT_RUN_ID", "")
    return check_run_id(given) if given else new_run_id()


def check_run_id(run_id: str) -> str:
    if not RUN_ID_PATTERN.match(run_id):
        raise ValueError(f"run id {run_id!r}: 4 to 24 letters and digits")
    return run_id


class RunIds:
    """The identifiers of one run; `n` counts across the whole run, whatever test asks."""

    def __init__(self, run_id: str, magic: MagicTable | None = None) -> None:
        self.run_id = check_run_id(run_id)
        self.magic = magic or MagicTable()
        self.counter = itertools.count(1)
        self.taken_mobiles: set[str] = set()
        digest = int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:8], "big")
        self._mobile_base = digest % 10**9
        self._mobiles = itertools.count(0)

    def take(self, mobiles: Iterable[str]) -> None:
        """Mobiles the target's account already has: never generated."""
        self.taken_mobiles.update(m for m in mobiles if m)

    def next(self) -> int:
        return next(self.counter)

    def reference(self, kind: str = "R") -> str:
        return f"{self.run_id}-{kind}{self.next()}"

    def request_id(self) -> str:
        return self.reference("Q")

    def order_reference(self) -> str:
        return self.reference("O")

    def event(self) -> str:
        return f"{self.run_id}_EV{self.next()}"

    def mobile(self) -> str:
        """10 digits starting with 6, walking from a point fixed by the run id; never taken, never magic."""
        while True:
            mobile = f"6{(self._mobile_base + next(self._mobiles)) % 10**9:09d}"
            if mobile not in self.taken_mobiles and not self.magic.is_magic("mobile", mobile):
                self.taken_mobiles.add(mobile)
                return mobile

    def holder(self) -> dict[str, str]:
        """The contact of a new card holder: mobile, e-mail and a first name no one else has."""
        n = self.next()
        return {"mobile": self.mobile(), "email": f"{self.run_id.lower()}.{n}@example.com",
                "firstName": f"Ct{self.run_id}n{n}"}
