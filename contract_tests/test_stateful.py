"""The state machine (contract_tests/stateful.py): the target agrees with a model of the run's own
moves after every step. It shrinks a failing run only on a sandbox the suite started itself, and
then within the budget's time; elsewhere the first failing run is the report."""

from __future__ import annotations

from .api import Target
from .profiles import shrinking_within
from .session import Session
from .stateful import run_machine


def test_target_agrees_with_the_model_of_the_run(target: Target, contract_session: Session) -> None:
    with shrinking_within(contract_session.budget.shrink_seconds):
        run_machine(contract_session, shrink=target.owned)
