"""A faithful LeadSquared simulator: the demo, the tests and new users run against it.

It imports nothing of the importer but `importer.constants`, so it behaves
like the documented service and not like our client's idea of it.
"""

from .app import create_app
from .config import SandboxConfig
from .server import RunningSandbox, run_forever, serve_in_thread
from .simulator import Sandbox

__all__ = [
    "RunningSandbox",
    "Sandbox",
    "SandboxConfig",
    "create_app",
    "run_forever",
    "serve_in_thread",
]
