"""Run the app under uvicorn, announce the base URL and demo credentials once it listens."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import stat
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

import uvicorn

from sandbox.contract import schemas
from sandbox.tools import http11
from sandbox.web import logs
from sandbox.documents import snapshot
from sandbox.web.app import AppState, SandboxApp, create_app
from sandbox.settings import Settings


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


def uvicorn_config(settings: Settings, app: SandboxApp) -> uvicorn.Config:
    """httptools (about a third faster than h11 here) through the sandbox's own protocol: its limits,
    timeouts and envelopes, and h2c upgrades served as HTTP/1.1 (sandbox/tools/http11.py)."""
    return uvicorn.Config(
        app.asgi,  # type: ignore[arg-type]
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        lifespan="off",
        server_header=False,
        proxy_headers=False,  # a sandbox is reached directly; X-Forwarded-* would only cost time
        http=http11.protocol_class(settings, app),
        ws="none",  # nothing here speaks WebSocket: an Upgrade is answered as plain HTTP/1.1
        timeout_keep_alive=settings.idle_timeout,
    )


def tune_gc() -> None:
    """A server's garbage-collector settings: what exists at start (fixtures, a restored or
    prepared store) moves to the permanent generation, so full collections never rescan it, and
    the young generation is collected every 50,000 allocations instead of 700. Each request
    allocates hundreds of short-lived objects, so the default collects several times a request.
    Measured: about 10 % more top-ups per second (bench, 3 runs each way). No collection before
    the freeze: it cost 14 ms of start-up to free the few cycles imports leave behind."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


GIL_SWITCH_SECONDS = 0.0005


def share_the_interpreter() -> None:
    """The thread that parses a large body beside the loop hands the interpreter back every
    0.5 ms instead of 5 ms: each socket read of the loop waits for it, and a flood of 8 MiB
    uploads made ~1,000 such waits, so health waited up to 158-206 ms; with 0.5 ms, 73-105 ms
    (bench.hostile, alternating pairs under load 5). With one thread running, it costs nothing."""
    sys.setswitchinterval(GIL_SWITCH_SECONDS)


def serve_blocking(settings: Settings, announce: Callable[[str], None] = print) -> None:
    """`run` on uvloop when it is installed (a dependency but on Windows), as `uvicorn.run`
    would choose: asyncio.run() would pin the slower stdlib loop under uvicorn."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(run(settings, announce))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop  # type: ignore[no-any-return]


class StartupError(Exception):
    """A start that cannot go on: one line for the user, about one setting (cli names the flag
    or variable it came from)."""

    def __init__(self, setting: str, message: str) -> None:
        self.setting, self.message = setting, message
        super().__init__(message)


def listen(settings: Settings) -> socket.socket:
    """The listening socket, bound before anything else is built, so a port in use is one clear
    line instead of uvicorn's log and exit 3. Binds the first address the host resolves to."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise StartupError("host", f"cannot listen on {settings.host}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise StartupError("port", f"cannot listen on {settings.host}:{settings.port}: {exc.strerror.lower()}") from None
    return sock


def state_file_problem(path: Path) -> str | None:
    """Why the state could not be saved to `path` at shutdown, found at start: the file is written
    beside and renamed over, so its folder must exist and take a new file."""
    try:
        return _state_file_problem(path)
    except OSError as exc:  # a folder on the way that this user cannot enter (/root/state.json as nobody)
        return f"cannot reach {path} ({exc.strerror.lower()}): every folder on its path must be open to uid {os.getuid()}"


def _state_file_problem(path: Path) -> str | None:
    if path.is_dir():
        return f"{path} is a directory; give a file in it, such as {path / 'state.json'}"
    folder = path.parent
    if not folder.exists():
        return f"the folder {folder} does not exist (create it, or mount a volume there)"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.check-"):
            pass
    except OSError as exc:
        return (f"cannot write in {folder} ({exc.strerror.lower()}): the state is saved there at shutdown, "
                f"so the folder must be writable by uid {os.getuid()}")
    if path.exists() and not os.access(path, os.R_OK):
        return f"cannot read {path}"
    if path.exists() and _sticky_blocks_replacing(path):
        return (f"cannot replace {path}: {folder} is a shared folder (sticky bit) and the file belongs to uid "
                f"{path.stat().st_uid}, so the state could not be saved at shutdown")
    return None


def _sticky_blocks_replacing(path: Path) -> bool:
    """In a sticky folder (/tmp) only the file's owner, the folder's owner or root may rename over it."""
    folder, uid = path.parent.stat(), os.getuid()
    return bool(folder.st_mode & stat.S_ISVTX) and uid not in (0, folder.st_uid, path.stat().st_uid)


async def run(settings: Settings, announce: Callable[[str], None] = print) -> None:
    """Serve until SIGTERM or Ctrl-C; StartupError for a start that cannot go on."""
    state_file = Path(settings.state_file) if settings.state_file else None
    if state_file is not None:
        problem = state_file_problem(state_file)
        if problem:
            raise StartupError("state_file", problem)
    sock = listen(settings)
    logs.configure(settings.log_format, settings.log_level)
    app = create_app(settings)
    if state_file is not None and state_file.exists():
        restore_state(app.sandbox, state_file, announce)
    tune_gc()
    share_the_interpreter()
    server = _Server(uvicorn_config(settings, app))
    if state_file is not None:
        server.on_shutdown = lambda: save_state(app.sandbox, state_file, announce)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.005)
    if server.started:
        port = server.servers[0].sockets[0].getsockname()[1]
        host = settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"
        announce(f"enkash-sandbox listening on http://{host}:{port}  (health: /__sandbox/health)")
        announce("demo credentials:")
        for line in demo_credentials(app):
            announce(line)
        threading.Thread(target=schemas.preload, name="sandbox-preload", daemon=True).start()
    await task
    if server.save_failed:
        raise SystemExit(1)


SHUTDOWN_GRACE = 2.0  # seconds in-flight requests get after SIGTERM before they are cut


class _Server(uvicorn.Server):
    """uvicorn's server with a bounded shutdown and a hook run once it is done. In-flight
    requests get SHUTDOWN_GRACE seconds; those still running then (a held timeout=, latency= or
    slow fault) are cut: their connections closed, their tasks cancelled. So the state is saved
    within docker stop's 10 s whatever is held. uvicorn re-raises a SIGTERM after serve() returns,
    so code after it would never run: the hook runs at the end of shutdown()."""

    on_shutdown: Callable[[], None] = staticmethod(lambda: None)
    save_failed = False

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        cut = asyncio.get_running_loop().call_later(SHUTDOWN_GRACE, self._cut_in_flight)
        try:
            await super().shutdown(sockets)
        finally:
            cut.cancel()
        try:
            self.on_shutdown()
        except OSError as exc:
            print(f"enkash-sandbox: the state was NOT saved: {exc}", file=sys.stderr, flush=True)
            self.save_failed = True
            self._captured_signals.clear()  # exit 1 from run(), not by the re-raised SIGTERM

    def _cut_in_flight(self) -> None:
        tasks = list(self.server_state.tasks)
        logging.getLogger("uvicorn.error").addFilter(_quiet_cancelled)
        logging.getLogger("uvicorn.error").warning(
            "shutting down: %d request(s) still running after %.0f s cut, their connections closed", len(tasks), SHUTDOWN_GRACE)
        for connection in list(self.server_state.connections):
            connection.transport.abort()
        for task in tasks:
            task.cancel()


def _quiet_cancelled(record: logging.LogRecord) -> bool:
    """uvicorn logs a traceback for each request task cancelled at shutdown: the cut is ours, and
    said once above."""
    return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


def save_state(state: AppState, path: Path, announce: Callable[[str], None]) -> None:
    snapshot.write_file(path, snapshot.dump(state.store, state.seed, columns=True))  # version 3: read back in bulk
    announce(f"state saved to {path}")


def restore_state(state: AppState, path: Path, announce: Callable[[str], None]) -> None:
    """--state-file at start: a file that is there but unusable stops the start."""
    try:
        state.store, state.seed = snapshot.restore(snapshot.read_file(path), state.clock)
    except snapshot.SnapshotError as exc:
        raise StartupError("state_file", f"bad state file {exc}") from None
    announce(f"state restored from {path}")
