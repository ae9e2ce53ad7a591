"""The validation report: the dry run's Errors, Summary and Preview."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from xlsxwriter.workbook import Workbook

from importer.core.conventions import PREVIEW_ROWS
from importer.core.outcomes import RowError
from importer.io.workbooks.results import write_errors
from importer.io.workbooks.sheets import (
    EXCEL_MAX_ROWS,
    Cell,
    Styles,
    write_table,
    write_workbook,
)
from importer.io.workbooks.summary import Summary, write_summary

PREVIEW_SHEET = "Preview"
PREVIEW_COLUMNS: tuple[str, ...] = ("RowNumber", "SearchBy", "SearchValue", "Payload")


def write_validation_report(
    path: Path,
    *,
    errors: Iterable[RowError],
    summary: Summary,
    preview: Sequence[tuple[int, dict[str, Any]]],
) -> Path:
    """Write the dry-run report atomically and return its path.

    Sheets `Errors` and `Summary` as in the results workbook, and `Preview`: the
    first 50 payloads as they would be sent, one per line with the columns
    RowNumber, SearchBy (the lead attribute used to find the lead, or
    `ProspectOpportunityId` for an update), SearchValue (its value) and Payload
    (the JSON body on one line).
    """

    def fill(workbook: Workbook, styles: Styles) -> None:
        write_errors(workbook, styles, errors, EXCEL_MAX_ROWS - 1)
        write_summary(workbook, styles, summary)
        lines = (_preview_cells(row_number, body) for row_number, body in preview[:PREVIEW_ROWS])
        write_table(workbook, styles, PREVIEW_SHEET, list(PREVIEW_COLUMNS), lines, PREVIEW_ROWS)

    return write_workbook(Path(path), fill)


def _preview_cells(row_number: int, body: Any) -> list[Cell]:
    """RowNumber, SearchBy, SearchValue and the body as one line of JSON."""
    search_by, search_value = _search_key(body)
    payload = json.dumps(body, ensure_ascii=False, separators=(", ", ": "), default=str)
    return [row_number, search_by, search_value, payload]


def _search_key(body: Any) -> tuple[str, str]:
    """What finds the record: the capture's SearchBy attribute, or an update's opportunity id."""
    if not isinstance(body, dict):
        return "", ""
    if "ProspectOpportunityId" in body:
        return "ProspectOpportunityId", str(body["ProspectOpportunityId"] or "")
    details = body.get("LeadDetails")
    if not isinstance(details, list):
        return "", ""
    attributes = {
        str(item.get("Attribute")): item.get("Value") for item in details if isinstance(item, dict)
    }
    search_by = str(attributes.get("SearchBy") or "")
    return search_by, str(attributes.get(search_by) or "")
