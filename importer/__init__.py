"""lsq-import: bulk import of spreadsheets into LeadSquared opportunities.

The public surface is `__all__`. The heavy entry points (pandas, pandera) load on
first use, so `importer.constants` stays cheap for the sandbox.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from importer.core.config import Rate, Settings, settings_from_env
from importer.core.errors import (
    ApiError,
    AuthError,
    ImporterError,
    MappingError,
    RateLimited,
    RowRejected,
    TransientError,
    UserError,
)
from importer.core.outcomes import RowError, RowOutcome, RowStatus

_LAZY = {
    "validate_file": "importer.commands.validate",
    "ValidationReport": "importer.commands.validate",
    "run_import": "importer.commands.run",
    "ImportReport": "importer.commands.run",
    "rebuild_results": "importer.commands.rebuild",
    "retry_results": "importer.commands.retry",
    "refresh_status": "importer.commands.status",
    "FollowupReport": "importer.commands.followup",
    "watch_inbox": "importer.commands.watch",
    "verify_results": "importer.commands.verify",
    "suggest_mapping": "importer.commands.suggest",
    "Suggestion": "importer.commands.suggest",
    "estimate_import": "importer.core.estimate",
    "ImportEstimate": "importer.core.estimate",
}

__all__ = [
    "ApiError",
    "AuthError",
    "FollowupReport",
    "ImportEstimate",
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
    "Suggestion",
    "TransientError",
    "UserError",
    "ValidationReport",
    "estimate_import",
    "rebuild_results",
    "refresh_status",
    "retry_results",
    "run_import",
    "settings_from_env",
    "suggest_mapping",
    "validate_file",
    "verify_results",
    "watch_inbox",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'importer' has no attribute {name!r}")
