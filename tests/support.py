"""Helpers several test modules share (fixtures live in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from importer.core.outcomes import RowError, RowOutcome
from importer.core.text import cell_text
from importer.io.workbooks.reader import ResultsReader


@dataclass
class Book:
    """A results workbook read back whole: small workbooks in tests only."""

    input_headers: list[str]
    rows: list[tuple[list[str], RowOutcome]]
    errors: list[RowError]
    summary: dict[str, str]
    extra_columns: list[str]


def read_results(path: Path) -> Book:
    with ResultsReader(path) as reader:
        layout = reader.layout
        rows = [
            (
                [
                    cell_text(row.cells[i]) if row.cells[i] is not None else ""
                    for i in layout.inputs
                ],
                row.outcome,
            )
            for row in reader.rows()
        ]
        return Book(
            input_headers=layout.input_headers,
            rows=rows,
            errors=list(reader.errors()),
            summary=reader.summary(),
            extra_columns=list(layout.share_at),
        )
