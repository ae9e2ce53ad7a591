"""lsq-import: bulk import of spreadsheets into LeadSquared opportunities."""

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
from .outcomes import RowOutcome, RowStatus

__all__ = [
    "ApiError",
    "AuthError",
    "ImporterError",
    "MappingError",
    "RateLimited",
    "RowOutcome",
    "RowRejected",
    "RowStatus",
    "TransientError",
    "UserError",
]
