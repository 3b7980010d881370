"""enkash-sandbox: a stateful, fault-injecting emulator of EnKash's Rewards & Incentives APIs."""

from .app import create_app
from .client import SandboxClient
from .settings import Settings

__version__ = "0.1.0"
__all__ = ["SandboxClient", "Settings", "__version__", "create_app"]
