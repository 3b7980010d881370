"""One run of the suite against one target: the run id, the magic values to stay clear of, the
budget, the seed, and a logged-in partner. It reads what the target already holds (the account,
its holders' mobiles) and never assumes it: every check compares the target with itself before and
after the suite's own requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .api import Api, Partner, Target
from .contract import Context
from .identity import RunIds
from .links import SandboxClient
from .magic import MagicTable
from .profiles import Budget


@dataclass
class Session:
    target: Target
    ids: RunIds
    magic: MagicTable
    budget: Budget
    seed: int
    api: Api = field(init=False)
    partner: Partner = field(init=False)
    cache: dict[str, Any] = field(default_factory=dict)  # scenes shared by the checks of one run

    def __post_init__(self) -> None:
        Context.seed, Context.run_id, Context.target = self.seed, self.ids.run_id, self.target.url
        self.api = Api(self.target)
        self.partner = Partner(self.api, self.ids, self.magic)
        self.api.login()
        self.partner.account()
        cards, _ = self.partner.cards()
        self.ids.take(str(card.get("mobile") or "") for card in cards)

    def fresh_api(self) -> Api:
        """Another logged-in client on the same target (a state machine run has its own log)."""
        api = Api(self.target)
        api.login()
        return api

    def admin(self) -> SandboxClient | None:
        """The sandbox's own API, when the target has it: extra checks only, never a verdict's need."""
        return SandboxClient(self.target.url, admin_token=self.target.admin_token) if self.target.is_sandbox else None

    def close(self) -> None:
        self.api.close()


def probe_is_sandbox(url: str, admin_token: str = "") -> bool:
    with SandboxClient(url, admin_token=admin_token) as probe:
        return probe.is_sandbox()
