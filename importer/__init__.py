"""lsq-import: bulk import of spreadsheets into LeadSquared opportunities.

The public surface is `__all__`. The heavy entry points (pandas, pandera) load on
first use, so `importer.constants` stays cheap for the sandbox.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .config import Rate, Settings, settings_from_env
from .errors import (
    ApiError,
    AuthError,
    ImporterError,
    MappingError,
    RateLimited,
    RowRejected,
    TransientError,
    UserError,
)
from .outcomes import RowError, RowOutcome, RowStatus

_LAZY = {
    "validate_file": "validation",
    "ValidationReport": "validation",
    "run_import": "runner",
    "ImportReport": "runner",
    "rebuild_results": "runner",
    "retry_results": "followup",
    "refresh_status": "followup",
    "FollowupReport": "followup",
    "watch_inbox": "watch",
    "verify_results": "verify",
}

__all__ = [
    "ApiError",
    "AuthError",
    "FollowupReport",
    "ImportReport",
    "ImporterError",
    "MappingError",
    "Rate",
    "RateLimited",
    "RowError",
    "RowOutcome",
    "RowRejected",
    "RowStatus",
    "Settings",
    "TransientError",
    "UserError",
    "ValidationReport",
    "rebuild_results",
    "refresh_status",
    "retry_results",
    "run_import",
    "settings_from_env",
    "validate_file",
    "verify_results",
    "watch_inbox",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'importer' has no attribute {name!r}")
