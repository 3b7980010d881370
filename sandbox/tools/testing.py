"""A real sandbox server in a background thread on a free port: for our tests, the pytest
plugin and partners' own suites. Requests go over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import uvicorn

from sandbox.web.app import AppState, create_app
from sandbox.tools.server import uvicorn_config
from sandbox.settings import Settings


class ServerThread:
    def __init__(self, settings: Settings | None = None, fixture_doc: dict[str, Any] | None = None) -> None:
        self.settings = (settings or Settings()).replace(port=0, host="127.0.0.1")
        self.app = create_app(self.settings, fixture_doc)
        self._server = uvicorn.Server(uvicorn_config(self.settings.replace(log_level="warning"), self.app))
        self._thread = threading.Thread(target=self._run, name="enkash-sandbox", daemon=True)
        self.port = 0

    @property
    def state(self) -> AppState:
        return self.app.sandbox

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.run(self._server.serve())

    def start(self, timeout: float = 10.0) -> "ServerThread":
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive() or waited > timeout:
                raise RuntimeError("enkash-sandbox did not start")
            threading.Event().wait(0.01)
            waited += 0.01
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
