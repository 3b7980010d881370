"""Run the app under uvicorn, announce the base URL and demo credentials once it listens."""

from __future__ import annotations

import asyncio
from typing import Callable

import uvicorn

from .app import SandboxApp, create_app
from .settings import Settings


def demo_credentials(app: SandboxApp) -> list[str]:
    store = app.sandbox.store
    lines = []
    for (client_id, username), login in store.logins.items():
        client = store.clients[client_id]
        lines.append(
            f"  partnerId {client.partner_id}  clientId {client_id}  clientSecret {client.client_secret}"
            f"  username {username}  password {login.password}"
        )
    return lines


def uvicorn_config(settings: Settings, app: object) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        lifespan="off",
        server_header=False,
    )


async def run(settings: Settings, announce: Callable[[str], None] = print) -> None:
    app = create_app(settings)
    server = uvicorn.Server(uvicorn_config(settings, app))
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.005)
    if server.started:
        port = server.servers[0].sockets[0].getsockname()[1]
        host = settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"
        announce(f"enkash-sandbox listening on http://{host}:{port}  (health: /__sandbox/health)")
        announce("demo credentials:")
        for line in demo_credentials(app):
            announce(line)
    await task
