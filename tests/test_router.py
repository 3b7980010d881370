"""The route index (pure, no HTTP): what the dispatcher and the fault layer both ask."""

from __future__ import annotations

import pytest

from sandbox.web.router import Router
from sandbox.web.routes import COINS, PARTNER, ROUTES


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(ROUTES)


def test_a_fixed_path_finds_its_route(router: Router) -> None:
    found = router.find("POST", f"{PARTNER}/create-allocate-points")
    assert found.route is not None and found.route.operation == "create-allocate-points"
    assert found.params == {}


def test_a_path_parameter_is_captured(router: Router) -> None:
    found = router.find("PATCH", f"{COINS}/WCC123456")
    assert found.route is not None and found.route.operation == "coins-config-update"
    assert found.params == {"coinConfigId": "WCC123456"}


def test_a_fixed_path_without_the_method_falls_to_a_parameter_route_that_has_it(router: Router) -> None:
    # Spring maps GET /enkash-coins/allocate-coin to GET /enkash-coins/{coinConfigId}, as Starlette did
    found = router.find("GET", f"{COINS}/allocate-coin")
    assert found.route is not None and found.route.operation == "coins-config-get"
    assert found.params == {"coinConfigId": "allocate-coin"}


def test_a_method_the_path_lacks_lists_the_methods_it_allows(router: Router) -> None:
    found = router.find("DELETE", f"{COINS}/allocate-coin")
    assert found.route is None and found.allowed == ("POST",)
    found = router.find("POST", f"{COINS}/WCC123456")
    assert found.route is None and found.allowed == ("GET", "PATCH")


def test_an_unknown_path_has_no_route_and_no_methods(router: Router) -> None:
    found = router.find("GET", "/api/v0/nothing-here")
    assert found.route is None and found.allowed == ()


def test_every_route_of_the_table_is_found_by_its_own_method_and_path(router: Router) -> None:
    for route in ROUTES:
        path = route.path.replace("{", "").replace("}", "")  # a parameter's own name stands in for a value
        assert router.find(route.method, path).route is route, route.path
