"""GET /__sandbox/openapi.json and /__sandbox/docs: the contract, as data and as a page.

The page is one self-contained file in sandbox/web/static/ that renders the document in the
browser; it loads nothing from the network but the document itself, so it works offline.
"""

from __future__ import annotations

from importlib import resources

from sandbox.contract import openapi
from sandbox.web.adapter import Call
from sandbox.contract.envelope import Reply


def openapi_json(call: Call) -> Reply:
    return Reply(openapi.build(call.state.router.routes, call.settings, call.state.schemas))


def docs_page(call: Call) -> Reply:
    page = resources.files("sandbox.web").joinpath("static/docs.html").read_text(encoding="utf-8")
    return Reply(page, media_type="text/html; charset=utf-8")
