"""enkash-sandbox in a throwaway container for a Python test suite (testcontainers >= 4.10).

    pip install testcontainers httpx pytest
    ENKASH_SANDBOX_IMAGE=ghcr.io/<owner>/enkash-sandbox:0.1 pytest test_with_testcontainers.py

<owner> is the GitHub account the image was published under. Needs a Docker engine.
"""

import os

import httpx
import pytest
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy

IMAGE = os.environ.get("ENKASH_SANDBOX_IMAGE", "ghcr.io/<owner>/enkash-sandbox:0.1")


@pytest.fixture(scope="session")
def enkash_base_url():
    container = (
        DockerContainer(IMAGE)
        .with_env("SANDBOX_SEED", "7")
        .with_exposed_ports(8080)
        .waiting_for(HttpWaitStrategy(8080, "/__sandbox/health").for_status_code(200).with_startup_timeout(60))
    )
    with container:
        yield f"http://{container.get_container_host_ip()}:{container.get_exposed_port(8080)}"


@pytest.fixture()
def enkash(enkash_base_url):
    """A client on a sandbox reset to its fixtures before each test."""
    with httpx.Client(base_url=enkash_base_url, timeout=10) as client:
        client.post("/__sandbox/reset").raise_for_status()
        yield client


def test_the_sandbox_answers(enkash):
    assert enkash.get("/__sandbox/health").json()["seed"] == 7


def test_a_demo_partner_gets_a_token(enkash):
    token = enkash.post(
        "/oauth/token",
        auth=("CEK1GZBO6A", "64b0ff0332f058b56402b63a9baa60214f2d61d3"),
        data={"username": "9167019711", "password": "Test@1234567", "grant_type": "password", "clientId": "CEK1GZBO6A"},
    )
    assert token.status_code == 200 and token.json()["access_token"]
