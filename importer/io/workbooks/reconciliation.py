"""`verify`'s workbook: one Reconciliation line per finding, then a Summary."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from xlsxwriter.workbook import Workbook

from importer.core.outcomes import RowStatus
from importer.io.workbooks.sheets import (
    EXCEL_MAX_ROWS,
    Cell,
    Styles,
    write_table,
    write_workbook,
)
from importer.io.workbooks.summary import SUMMARY_COLUMNS, SUMMARY_SHEET

RECONCILIATION_SHEET = "Reconciliation"
RECONCILIATION_COLUMNS: tuple[str, ...] = (
    "RowNumber",
    "OpportunityId",
    "LeadId",
    "Result",
    "Field",
    "Sent",
    "Stored",
    "Message",
)
# Result words of the Reconciliation sheet, with the status whose colour each is shown in.
RECONCILIATION_COLOURS: dict[str, RowStatus] = {
    "Present": RowStatus.SUCCESS,
    "Differs": RowStatus.PENDING,
    "Not checked": RowStatus.INVALID,
    "Missing": RowStatus.FAILURE,
}


def write_reconciliation(
    path: Path,
    *,
    lines: Iterable[Sequence[Cell]],
    summary: Sequence[tuple[str, str | int]],
) -> Path:
    """Write `verify`'s workbook atomically: a `Reconciliation` line per finding, a `Summary`.

    `lines` hold the values of RECONCILIATION_COLUMNS in order; texts stay texts (no formulas).
    """
    coloured = (RECONCILIATION_COLUMNS.index("Result"), RECONCILIATION_COLOURS)

    def fill(workbook: Workbook, styles: Styles) -> None:
        columns = list(RECONCILIATION_COLUMNS)
        last = EXCEL_MAX_ROWS - 1
        write_table(workbook, styles, RECONCILIATION_SHEET, columns, lines, last, coloured)
        write_table(workbook, styles, SUMMARY_SHEET, list(SUMMARY_COLUMNS), list(summary), last)

    return write_workbook(Path(path), fill)
