"""`rebuild`: a run's results workbook written again from its journal alone.

For a workbook lost or left stale by a crash: no input file, no network. Rows the
crash caught mid-flight show as Pending (accepted) or Failure ("not sent"), and the
same `run` command then resumes them.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from importer.commands.assemble import errors_by_row, final_outcome, status_counts
from importer.core.conventions import RESULTS_SUFFIX, SHARE_COLUMNS
from importer.core.errors import InputFileError, UserError
from importer.io.journal import Journal
from importer.io.workbooks.results import write_results
from importer.io.workbooks.summary import Summary
from importer.rules.mapping.messages import outcome_in_user_words

STOPPED = "the run stopped; run the same command again"


def rebuild_results(journal_file: str | Path, out: str | Path | None = None) -> Path:
    """Write the results workbook of the run this journal belongs to; returns its path."""
    path = Path(journal_file)
    if not path.is_file():
        raise UserError(f"Journal {path} does not exist")
    if path.suffix.lower() in (".xlsx", ".xls", ".csv", ".ods"):
        raise InputFileError(
            f"{path.name} is not a journal: rebuild needs the run's journal (the "
            "*.journal.sqlite file named on the Summary sheet of the results, under Journal)"
        )
    try:
        with Journal(path) as journal:
            meta = journal.meta()
            if not journal.has_inputs():
                raise UserError(f"{path} holds no input rows (it was made by an older lsq-import)")
            rows = journal.snapshot()
            errors = journal.problems()
            problems = errors_by_row(errors)
            names = json.loads(meta.get("field_headers", "{}"))  # recorded by the run
            cells = [
                (cells, outcome_in_user_words(final_outcome(n, {}, rows, problems, STOPPED), names))
                for n, cells in journal.inputs()
            ]
    except sqlite3.DatabaseError:
        raise InputFileError(f"{path.name} is not a journal written by lsq-import") from None
    now = datetime.now()
    summary = Summary(
        counts=status_counts(o for _, o in cells),
        input_name=Path(meta.get("input", "")).name,
        input_sha256=meta.get("input_sha256", ""),
        mapping=meta.get("mapping", ""),
        mode=meta.get("mode", ""),
        started=now,
        finished=now,
        extra={
            "Operation": meta.get("operation", ""),
            "Journal": str(path.resolve()),
            "Rebuilt": f"{now:%Y-%m-%d %H:%M:%S} from the journal",
        },
    )
    target = Path(out or meta.get("results") or path.with_suffix(RESULTS_SUFFIX))
    headers = json.loads(meta.get("headers", "[]"))
    extra = list(SHARE_COLUMNS) if any(o.extra for _, o in cells) else []
    write_results(
        target,
        input_headers=headers,
        rows=cells,
        errors=errors,
        summary=summary,
        extra_columns=extra,
    )
    return target
