"""enkash-sandbox: a stateful, fault-injecting emulator of EnKash's Rewards & Incentives APIs."""

from typing import TYPE_CHECKING, Any

from sandbox.settings import Settings

if TYPE_CHECKING:
    from sandbox.web.app import create_app
    from sandbox.tools.client import SandboxClient

__version__ = "0.1.0"
__all__ = ["SandboxClient", "Settings", "__version__", "create_app"]


def __getattr__(name: str) -> Any:
    # imported on first use: the client pulls in httpx (serving needs none of it), and the app
    # the whole server (`from sandbox.contract.crypto import encrypt_json` needs none of that)
    if name == "SandboxClient":
        from sandbox.tools.client import SandboxClient

        return SandboxClient
    if name == "create_app":
        from sandbox.web.app import create_app

        return create_app
    raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
