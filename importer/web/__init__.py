"""The page for ops (`lsq-import serve`): the whole import in a browser, from a file on the
desk to the results workbook. Starlette, Jinja2 templates, and a little hand-written
JavaScript served by the app itself: no CDN, no build step, no network fonts.
"""

from importer.core.errors import PortBusy
from importer.web.app import create_app
from importer.web.config import WebConfig, hosts_for, is_loopback
from importer.web.server import RunningPage, serve_forever, serve_in_thread

__all__ = [
    "PortBusy",
    "RunningPage",
    "WebConfig",
    "create_app",
    "hosts_for",
    "is_loopback",
    "serve_forever",
    "serve_in_thread",
]
