"""Every piece of the sandbox package the contract suite uses, imported in one place: the suite
reads the sandbox's schemas, route table and OpenAPI builder to know the contract, and uses its
client and in-process server only to reach a target. Nothing else in contract_tests imports
`sandbox` (so a package move touches this file alone)."""

from __future__ import annotations

from sandbox.contract import jsonio, openapi
from sandbox.contract.schemas import Schemas
from sandbox.documents.fixtures import read as read_fixtures
from sandbox.settings import Settings
from sandbox.tools.client import SandboxClient
from sandbox.tools.testing import ServerThread
from sandbox.web.router import Router
from sandbox.web.routes import ROUTES, Route

__all__ = ["ROUTES", "Route", "Router", "SandboxClient", "Schemas", "ServerThread", "Settings", "jsonio", "openapi",
           "read_fixtures"]
