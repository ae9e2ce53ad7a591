"""A run's journal seen from outside the run: where it is, how far it got, who holds it.

The page asks these about its imports (a restarted server lists them with their counts;
a file already being imported is refused); `run_import` names its journal the same way.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from importer.core.config import Settings
from importer.core.outcomes import RowStatus
from importer.io.journal import Journal, journal_path
from importer.io.ledger import account_of_settings
from importer.io.locks import FileLock


def journal_for(
    settings: Settings, state_dir: Path, input_path: Path, input_sha256: str, mapping_sha256: str
) -> Path:
    """The journal a run of this input and mapping into this account keeps (and resumes)."""
    account = account_of_settings(settings)
    return journal_path(state_dir, input_path, input_sha256, mapping_sha256, account)


def journal_progress(journal: Path, invalid: int) -> tuple[int, dict[str, int] | None]:
    """(rows done, rows per status) as the run's journal has them; (0, None) without one."""
    if not journal.is_file():
        return 0, None
    counts: Counter[str] = Counter({str(RowStatus.INVALID): invalid})
    done = 0
    with Journal(journal) as book:
        for row in book.rows():
            if row.outcome is not None:
                done += 1
                counts[str(row.outcome.status)] += 1
            elif row.request_id or row.maybe_sent:
                counts[str(RowStatus.PENDING)] += 1
    return done, {str(s): counts.get(str(s), 0) for s in RowStatus}


def held_elsewhere(journal: Path) -> bool:
    """True when another process is running this file right now (it holds the run lock)."""
    if not journal.parent.is_dir():
        return False
    lock = FileLock(journal.with_suffix(".lock"))
    if not lock.try_acquire():
        return True
    lock.release()
    return False
