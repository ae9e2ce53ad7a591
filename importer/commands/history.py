"""What `watch` did with each file, kept with the account's state for the page to list.

Written after each file is filed away; a state store that cannot take it is logged and
never stops the watch. With `LSQ_STATE_URL` the page on another machine sees it.
"""

from __future__ import annotations

import logging
from typing import Any

from importer.core.config import Settings
from importer.core.errors import StateStoreError
from importer.io.ledger import account_of_settings
from importer.io.state import open_state
from importer.io.state.history import HistoryLine, open_history

__all__ = ["HistoryLine", "recent_files", "remember_file"]
log = logging.getLogger("importer.history")


def remember_file(settings: Settings, record: dict[str, Any]) -> None:
    """Add one file's line (as watch's log has it) to the account's history."""
    try:  # the history closes the store it is given
        with open_history(
            settings.state_home, open_state(settings), account_of_settings(settings)
        ) as history:
            history.add("watch", record)
    except StateStoreError as error:
        log.warning("the file's line could not be added to the shared history: %s", error)


def recent_files(settings: Settings, limit: int = 30) -> list[HistoryLine]:
    """The newest files `watch` imported into this account, from any machine."""
    try:  # the history closes the store it is given
        with open_history(
            settings.state_home, open_state(settings), account_of_settings(settings)
        ) as history:
            return history.recent(limit)
    except StateStoreError as error:
        log.warning("the shared history cannot be read: %s", error)
        return []
