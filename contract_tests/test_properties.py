"""Properties generated from the request schemas, for every EnKash operation (contract_tests/generated.py):
a schema-valid request gets a documented answer; a schema-invalid one gets the documented 4xx
failure envelope and changes nothing; no input ever yields a 5xx."""

from __future__ import annotations

import pytest

from .api import Target
from .generated import OPERATIONS, check_invalid_requests, check_valid_requests
from .links import Route
from .profiles import shrinking_within
from .session import Session


@pytest.mark.parametrize("route", OPERATIONS, ids=lambda r: r.operation)
def test_valid_requests_get_documented_answers(route: Route, target: Target, contract_session: Session) -> None:
    with shrinking_within(contract_session.budget.shrink_seconds):
        check_valid_requests(contract_session, route, shrink=target.owned)


@pytest.mark.parametrize("route", [r for r in OPERATIONS if r.body == "json"], ids=lambda r: r.operation)
def test_invalid_requests_get_the_failure_envelope_and_change_nothing(route: Route, target: Target, contract_session: Session) -> None:
    with shrinking_within(contract_session.budget.shrink_seconds):
        check_invalid_requests(contract_session, route, shrink=target.owned)
