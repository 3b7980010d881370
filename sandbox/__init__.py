"""enkash-sandbox: a stateful, fault-injecting emulator of EnKash's Rewards & Incentives APIs."""

from typing import TYPE_CHECKING, Any

from .app import create_app
from .settings import Settings

if TYPE_CHECKING:
    from .client import SandboxClient

__version__ = "0.1.0"
__all__ = ["SandboxClient", "Settings", "__version__", "create_app"]


def __getattr__(name: str) -> Any:
    # the client pulls in httpx: imported on first use, so serving starts without it
    if name == "SandboxClient":
        from .client import SandboxClient

        return SandboxClient
    raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
